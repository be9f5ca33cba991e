"""The filter's side of the nst engine: one engine per plug-in process, configured by nst.toml beside the
plug-in, and what the dialog says about a preset (its values, the model, the time a run takes). No GIMP calls
here: pixels arrive and leave as `nst.Image`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import nst

# The C ABI's limits (plugin/include/nst.h).
SIZE_MIN = 16
SIZE_MAX = 8192
ITERATIONS_MIN = 1
ITERATIONS_MAX = 10000
STRENGTH_MIN = 0.01
STRENGTH_MAX = 100.0

PREVIEW_SIDE = 192
PREVIEW_ITERATIONS = 40

BENCHMARK_SIDE = 128

FOLDER = Path(__file__).resolve().parent
CONFIGURATION = FOLDER / "nst.toml"


class FilterError(Exception):
    """A run that cannot go ahead; the message is shown to the user as it is."""


@dataclass(frozen=True)
class Settings:
    """One run's values, as the procedure's arguments hold them."""

    preset: str = nst.DEFAULT_PRESET
    size: int = 0  # working long side: 0 the area's own size, -1 the preset's, else 16..8192
    iterations: int = 0  # 0 keeps the preset's
    strength: float = 1.0
    seed: int = -1  # -1 keeps the preset's


@dataclass(frozen=True)
class PresetInfo:
    """What a preset sets, for the dialog."""

    description: str
    size: int  # 0 when the preset keeps the content's size
    iterations: int
    style_weight: float
    model_line: str


def engine_options(configuration: Path = CONFIGURATION) -> Dict[str, Any]:
    """`nst.Engine`'s arguments from `configuration` (none when the file is absent)."""
    try:
        return nst.engine_settings(configuration)
    except nst.Error as error:
        raise FilterError(f"configuration {error.message}") from error


_engine: Optional[nst.Engine] = None


def engine() -> nst.Engine:
    """The plug-in's engine, made on first use: ONNX Runtime and the graphs load once per process."""
    global _engine
    if _engine is None:
        try:
            options = engine_options()
            _engine = nst.Engine(**options)
        except (nst.Error, TypeError, ValueError) as error:
            # The binding hands the engine nst.toml's values as text, so the file is named here.
            where = f" (configuration: {CONFIGURATION})" if CONFIGURATION.is_file() else ""
            raise FilterError(f"cannot start the engine: {_message(error)}{where}") from error
    return _engine


def _message(error: BaseException) -> str:
    return error.message if isinstance(error, nst.Error) else str(error)


def bundled_preset_names() -> List[str]:
    """The bundled presets' names, for the menu built at registration; none when the library cannot load."""
    try:
        return sorted(preset["name"] for preset in nst.presets() if "error" not in preset)
    except nst.Error:
        return []


def presets_folder() -> str:
    """Where the bundled presets are, for messages."""
    return str(Path(nst.__file__).resolve().parent / "_native" / "presets")


def model_line(summary: Optional[str]) -> str:
    """The model that will run, with the way to the pretrained one when it is the random built-in network."""
    if summary and "random-weight" in summary:
        return (
            f'Model: {summary}. For the pretrained VGG19, run `nst model fetch`, then set model = "vgg19" in '
            "nst.toml beside this plug-in (or reinstall with `nst gimp install --pretrained`)."
        )
    return f"Model: {summary or 'unknown'}"


def preset_info(preset: str) -> PresetInfo:
    """The preset's description and values; a preset that does not load raises `FilterError`."""
    try:
        described = engine().describe_preset(preset)
    except nst.Error as error:
        raise FilterError(_message(error)) from error
    return PresetInfo(
        description=described.get("description") or "",
        size=int(described.get("size") or 0),
        iterations=int(described.get("iterations") or 0),
        style_weight=float(described.get("style_weight") or 0.0),
        model_line=model_line(described.get("model_summary")),
    )


def preset_text(info: Optional[PresetInfo], error: Optional[str]) -> str:
    """The preset's description and values, or why it cannot be used."""
    if info is None:
        return f"This preset cannot be used: {error} (presets folder: {presets_folder()})"
    size = f"{info.size} px" if info.size > 0 else "the image's size"
    return (
        f"{info.description or '(no description)'}\nPreset's values: working size {size}, "
        f"{info.iterations} iterations, style weight {info.style_weight:g} (strength 1)."
    )


_measured: Dict[str, float] = {}


def seconds_per_evaluation(preset: str) -> float:
    """The engine's measured seconds per evaluation of `preset` at 128 x 128, one benchmark per preset and
    process; negative when it cannot be measured."""
    if preset not in _measured:
        try:
            report = engine().benchmark(preset, size=BENCHMARK_SIDE, evaluations=1)
            _measured[preset] = float(report.get("seconds_per_evaluation", -1))
        except (nst.Error, FilterError):
            _measured[preset] = -1.0
    return _measured[preset]


def estimate_seconds(preset: str, width: int, height: int, iterations: int) -> float:
    """Seconds a run of `iterations` at `width` x `height` is expected to take, scaled from the benchmark by
    pixel count; negative when unknown."""
    per_evaluation = seconds_per_evaluation(preset)
    if per_evaluation <= 0:
        return -1.0
    return nst.estimate_seconds(per_evaluation, BENCHMARK_SIDE, width, height, iterations)


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(1.0, seconds):.0f} s"
    whole = int(seconds)
    if seconds < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole // 60 % 60:02d} min"


def scaled_size(width: int, height: int, side: int) -> Tuple[int, int]:
    """`width` x `height` scaled to a long side of `side`, rounded."""
    long_side = max(width, height)
    return int(width * side / long_side + 0.5), int(height * side / long_side + 0.5)


def estimate_text(preset: str, width: int, height: int, side: int, iterations: int) -> str:
    """ "Works at WxH ...: about T on this machine" for a working long side `side` over `width` x `height`."""
    w, h = scaled_size(width, height, side)
    seconds = estimate_seconds(preset, w, h, iterations)
    time = "unknown (the engine could not measure this preset)" if seconds < 0 else duration(seconds)
    how = (
        " (the layer's own resolution)"
        if side >= max(width, height)
        else ", then scaled up with the layer's own detail"
    )
    return (
        f"Works at {w}x{h}{how}, {iterations} iterations: about {time} on this machine (from the engine's "
        "measured time per step)."
    )


def preview_note(width: int, height: int) -> str:
    return f"Preview: {width}x{height}, at most {PREVIEW_ITERATIONS} iterations. The result works at the size above."


def help_unavailable(why: Optional[str]) -> str:
    reason = f": {why}" if why else ""
    return (
        f'The help page could not be opened{reason}. It is help.html in the plug-in\'s folder, and the "GIMP" '
        "section of the nst README."
    )


def working_side(settings: Settings, width: int, height: int, preset_size: int) -> int:
    """The working long side a run of `settings` uses for `width` x `height`."""
    if settings.size > 0:
        return settings.size
    if settings.size == -1 and preset_size > 0:
        return preset_size
    return max(width, height, SIZE_MIN)


def check_placement(has_style: bool, has_mask: bool, has_outside: bool) -> None:
    """Refuses a style for outside the mask without a mask, or without a style layer for inside it."""
    if has_outside and not has_mask:
        raise FilterError("a style for outside the mask needs a mask")
    if has_outside and not has_style:
        raise FilterError("a style for outside the mask needs a style layer for inside it")


def check(settings: Settings, width: int, height: int) -> None:
    """Refuses values out of range and a preset that does not load, before anything changes."""
    long_side = max(width, height)
    if settings.size == 0 and long_side > SIZE_MAX:
        raise FilterError(
            f"the area is {width}x{height}: its long side is over the {SIZE_MAX}-pixel working limit, so choose "
            "a smaller working size (the result is still written at the area's size)"
        )
    if settings.size not in (0, -1) and not SIZE_MIN <= settings.size <= SIZE_MAX:
        raise FilterError(
            f"size {settings.size} is outside {SIZE_MIN}..{SIZE_MAX} (0: the area's own size, -1: the preset's)"
        )
    if not 0 <= settings.iterations <= ITERATIONS_MAX:
        raise FilterError(
            f"iterations {settings.iterations} is outside {ITERATIONS_MIN}..{ITERATIONS_MAX} (0 keeps the preset's)"
        )
    if not (math.isfinite(settings.strength) and STRENGTH_MIN <= settings.strength <= STRENGTH_MAX):
        raise FilterError(f"strength {settings.strength:g} is outside {STRENGTH_MIN:g}..{STRENGTH_MAX:g}")
    if settings.seed < -1:
        raise FilterError(f"seed {settings.seed} is neither -1 (the preset's) nor 0 or more")
    preset_info(settings.preset)


Progress = Callable[[int, int], bool]


def stylize(
    settings: Settings,
    content: nst.Image,
    styles: Sequence[nst.Image],
    masks: Sequence[nst.Image],
    progress: Optional[Progress] = None,
    *,
    size: Optional[int] = None,
    iterations: Optional[int] = None,
) -> nst.Image:
    """Runs the engine; `size` and `iterations` replace the settings' when given. A smaller working size than
    the content's gets the content's own detail back. Raises `nst.CancelledError` when `progress` says stop,
    `FilterError` on failure."""
    if size is None and settings.size != -1:
        size = working_side(settings, content.width, content.height, 0)
    if iterations is None and settings.iterations > 0:
        iterations = settings.iterations
    try:
        return engine().stylize(
            content,
            settings.preset,
            style=list(styles) or None,
            style_masks=list(masks) or None,
            size=size,
            iterations=iterations,
            strength=settings.strength,
            seed=settings.seed if settings.seed >= 0 else None,
            keep_detail=True,
            progress=(lambda step, total, _loss: progress(step, total)) if progress else None,
        )
    except nst.CancelledError:
        raise
    except (nst.Error, ValueError) as error:
        raise FilterError(_message(error)) from error


def preview_iterations(settings: Settings, info: PresetInfo) -> int:
    """The preview's iterations: the run's, at most `PREVIEW_ITERATIONS`."""
    wanted = settings.iterations if settings.iterations > 0 else info.iterations
    return min(max(min(wanted, PREVIEW_ITERATIONS), ITERATIONS_MIN), ITERATIONS_MAX)
