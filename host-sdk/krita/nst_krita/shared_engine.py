"""The plug-in's one engine (ONNX Runtime and the graphs load once per Krita session), configured by nst.toml
beside the plug-in as the GIMP plug-ins are, and what the dialog says about it: the model that will run and how
long a run takes here."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import nst

#: nst.toml beside the plug-in: the engine's settings (`model = "vgg19"` after `nst krita install --pretrained`).
CONFIG_FILE = Path(__file__).resolve().parent / "nst.toml"

#: The engine settings nst.toml may hold, as `nst.Engine` names them.
_ENGINE_KEYS = {
    "ort_library",
    "provider",
    "device",
    "threads",
    "model",
    "model_seed",
    "memory_budget_mb",
    "low_memory",
    "losses",
    "presets_dir",
}

#: A `model` with one of these suffixes is a file; otherwise it names an installed model ("vgg19", "builtin").
_MODEL_SUFFIXES = {".onnx", ".safetensors", ".pth"}

#: Evaluations per iteration of L-BFGS with its line search, as measured on the bundled presets (1.03-1.05).
EVALUATIONS_PER_ITERATION = 1.05

_engine: Optional[nst.Engine] = None
_engine_lock = threading.Lock()
_timings: Dict[str, float] = {}
_timings_lock = threading.Lock()


class ConfigError(ValueError):
    """nst.toml could not be read; the message names the file and the line or key."""


def _parse_toml(text: str, path: Path) -> Dict[str, Any]:
    """The top-level `key = value` lines of an engine configuration: tomllib where Python has it (3.11+), else
    the strings, numbers and booleans such a file holds."""
    try:
        import tomllib
    except ImportError:
        tomllib = None  # type: ignore[assignment]
    if tomllib is not None:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    values: Dict[str, Any] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_]+)\s*=\s*(\"[^\"]*\"|'[^']*'|true|false|-?[0-9]+)\s*(#.*)?", line)
        if not match:
            raise ConfigError(f"{path}, line {number}: expected key = string, number or boolean: {line!r}")
        key, raw = match.group(1), match.group(2)
        if raw[0] in "\"'":
            values[key] = raw[1:-1]
        elif raw in ("true", "false"):
            values[key] = raw == "true"
        else:
            values[key] = int(raw)
    return values


def engine_settings(path: Path = CONFIG_FILE) -> Dict[str, Any]:
    """nst.toml's settings as `nst.Engine` arguments; none when the file is absent."""
    if not path.is_file():
        return {}
    settings = _parse_toml(path.read_text(encoding="utf-8"), path)
    unknown = sorted(set(settings) - _ENGINE_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown setting {unknown[0]} (known: {', '.join(sorted(_ENGINE_KEYS))})")
    # File paths are relative to the file's folder, as the engine reads its own configuration files.
    for key in ("ort_library", "presets_dir", "model"):
        value = settings.get(key)
        is_file = key != "model" or (isinstance(value, str) and Path(value).suffix in _MODEL_SUFFIXES)
        if isinstance(value, str) and is_file and not Path(value).is_absolute():
            settings[key] = str(path.parent / value)
    return settings


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
                measured = engine().benchmark(preset, 128, 1)
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
        time = duration(per_evaluation * (w * h / (128.0 * 128.0)) * iterations * EVALUATIONS_PER_ITERATION)
    how = " (the layer's own resolution)" if side >= max(width, height) else ", then scaled up with the layer's detail"
    return f"Works at {w}x{h}{how}, {iterations} iterations: about {time} on this machine."
