"""The plug-in's one engine (ONNX Runtime and the graphs load once per Krita session), configured by nst.toml
beside the plug-in as the GIMP plug-ins are, and what the dialog says about it: the model that will run and how
long a run takes here."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import nst

#: nst.toml beside the plug-in: the engine's settings (`model = "vgg19"` after `nst krita install --pretrained`).
CONFIG_FILE = Path(__file__).resolve().parent / "nst.toml"

#: The side of the benchmark's square image that estimates scale from.
BENCHMARK_SIDE = 128

_engine: Optional[nst.Engine] = None
_engine_lock = threading.Lock()
_timings: Dict[str, float] = {}
_timings_lock = threading.Lock()


#: nst.toml could not be read; the message names the file and the line or key.
ConfigError = nst.InvalidArgumentError


def engine_settings(path: Path = CONFIG_FILE) -> Dict[str, Any]:
    """nst.toml's settings as `nst.Engine` arguments; none when the file is absent."""
    return nst.engine_settings(path)


def engine() -> nst.Engine:
    """The shared engine, made on first use. It may take a second (ONNX Runtime loads): call it off the GUI
    thread."""
    global _engine
    with _engine_lock:
        if _engine is None:
            _engine = nst.Engine(**engine_settings())
        return _engine


def current() -> Optional[nst.Engine]:
    """The shared engine if it was made already (to cancel its run), without making it."""
    return _engine


def preset_names() -> List[str]:
    """The bundled presets' names, sorted; needs no ONNX Runtime."""
    return sorted(str(entry["name"]) for entry in nst.presets() if "error" not in entry)


def model_line(description: Dict[str, Any]) -> str:
    """Which network a preset runs, said as the GIMP dialog says it: the random-weight default comes with the
    way to the pretrained VGG19."""
    summary = str(description.get("model_summary") or "unknown")
    if "random-weight" in summary:
        return (
            f'Model: {summary}. For the pretrained VGG19, run `nst model fetch`, then set model = "vgg19" in '
            "nst.toml beside this plug-in (or reinstall with `nst krita install --pretrained`)."
        )
    return f"Model: {summary}"


def seconds_per_evaluation(preset: str) -> Optional[float]:
    """One evaluation of `preset`'s objective at 128 x 128, measured once per preset and session (seconds), or
    None when the engine cannot measure it. Slow: call it off the GUI thread."""
    with _timings_lock:  # a second dialog update waits for the measurement under way, then reuses it
        if preset not in _timings:
            try:
                measured = engine().benchmark(preset, BENCHMARK_SIDE, 1)
                _timings[preset] = float(measured.get("seconds_per_evaluation", -1))
            except (nst.Error, ValueError):
                _timings[preset] = -1.0
        value = _timings[preset]
    return value if value > 0 else None


def working_size(width: int, height: int, side: int) -> Tuple[int, int]:
    """The working image for a `width` x `height` area whose long side becomes `side` pixels."""
    long_side = max(width, height)
    return max(1, round(width * side / long_side)), max(1, round(height * side / long_side))


def duration(seconds: float) -> str:
    """`seconds` as a person reads a duration."""
    if seconds < 60:
        return f"{max(1.0, seconds):.0f} s"
    if seconds < 3600:
        return f"{int(seconds) // 60} min {int(seconds) % 60:02d} s"
    return f"{int(seconds) // 3600} h {int(seconds) // 60 % 60:02d} min"


def estimate_text(per_evaluation: Optional[float], width: int, height: int, side: int, iterations: int) -> str:
    """What a run of `iterations` at working side `side` over a `width` x `height` area costs here."""
    w, h = working_size(width, height, side)
    if per_evaluation is None:
        time = "unknown (the engine could not measure this preset)"
    else:
        time = duration(nst.estimate_seconds(per_evaluation, BENCHMARK_SIDE, w, h, iterations))
    how = " (the layer's own resolution)" if side >= max(width, height) else ", then scaled up with the layer's detail"
    return f"Works at {w}x{h}{how}, {iterations} iterations: about {time} on this machine."
