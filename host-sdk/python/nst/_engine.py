"""`nst.Engine`: one engine of the plugin library (ONNX Runtime sessions, cached models and style targets), and
its runs."""

from __future__ import annotations

import ctypes
import json
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

from . import _ffi, _locate
from ._errors import Error, error_for
from ._images import from_view, to_pixels

#: The preset a run uses when none is named, as in the command and the GIMP filters.
DEFAULT_PRESET = "mosaic"

PathLike = Union[str, Path]
ProgressCallback = Callable[[int, int, float], Optional[bool]]
PreviewCallback = Callable[[Any], None]

_POOLING = {"max": 1, "average": 2}
_INIT = {"content": 1, "noise": 2}


@dataclass(frozen=True)
class Report:
    """What a finished run did."""

    iterations: int
    evaluations: int
    working_size: Tuple[int, int]
    seconds: float
    loss_total: float
    loss_content: float
    loss_style: float
    loss_total_variation: float
    provider: str
    model: str


def _toml_string(value: str) -> str:
    """`value` as a TOML basic string."""
    escaped = []
    for character in value:
        if character in '"\\':
            escaped.append("\\" + character)
        elif ord(character) < 0x20 or ord(character) == 0x7F:
            escaped.append(f"\\u{ord(character):04x}")
        else:
            escaped.append(character)
    return '"' + "".join(escaped) + '"'


def _check(lib: ctypes.CDLL, status: int) -> None:
    if status != 0:
        raise error_for(status, _ffi.last_error(lib))


def _read_json(lib: ctypes.CDLL, call: Callable[[Optional[ctypes.Array], int, Any], int]) -> Any:
    """Calls a describe-style function with a buffer, and again with a larger one while it is too small. The
    text may change between calls (a benchmark's timings), so the size asked for is only a hint."""
    size = 1 << 14
    needed = ctypes.c_size_t(0)
    for _ in range(8):
        buffer = ctypes.create_string_buffer(size)
        status = call(buffer, size, ctypes.byref(needed))
        if status == 0:
            return json.loads(buffer.value.decode("utf-8"))
        if status != 5:  # anything but NST_BUFFER_TOO_SMALL
            _check(lib, status)
        size = max(needed.value, size) * 2
    raise Error(5, "the library's answer kept growing past the buffer")


def _config_toml(settings: Dict[str, Any]) -> str:
    lines = []
    for key, value in settings.items():
        if value is None:
            continue
        if isinstance(value, bool):
            lines.append(f"{key} = {'true' if value else 'false'}")
        elif isinstance(value, int):
            lines.append(f"{key} = {value}")
        else:
            lines.append(f"{key} = {_toml_string(str(value))}")
    return "\n".join(lines) + "\n"


class Engine:
    """An nst engine: ONNX Runtime with its sessions, the models and the style targets of recent runs.

    Every argument is optional:

    - `provider`: "auto" (a GPU when one can run, else the CPU), "cpu", "cuda" or "directml".
    - `device`: the GPU by index, 0..=255.
    - `threads`: CPU threads, 0..=256 (0: every core).
    - `model`: the model of every run that names none: "builtin", an installed model's name ("vgg19", from
      `nst model fetch`) or a VGG19 file (.onnx, .safetensors, .pth).
    - `model_seed`: the built-in random model's seed.
    - `memory_budget_mb`: images estimated to need more are optimised in tiles that fit (default: 80% of the
      memory available when a run starts). `low_memory`: the engine's low-memory mode.
    - `losses`: "auto", "rust" or "graph" (where the losses run).
    - `presets_dir`: the folder of named presets (default: the package's bundled presets).
    - `ort_library`: ONNX Runtime's library (default: `ORT_DYLIB_PATH`, else the installed onnxruntime wheel's).

    Use it as a context manager, or call `close()`; it is closed when collected otherwise. Runs on one engine
    take turns; use one engine per thread to run in parallel.
    """

    def __init__(
        self,
        provider: str = "auto",
        *,
        device: Optional[int] = None,
        threads: int = 0,
        model: Optional[PathLike] = None,
        model_seed: Optional[int] = None,
        memory_budget_mb: Optional[int] = None,
        low_memory: bool = False,
        losses: Optional[str] = None,
        presets_dir: Optional[PathLike] = None,
        ort_library: Optional[PathLike] = None,
    ) -> None:
        self._lib = _ffi.library()
        self._handle = ctypes.c_void_p()
        self._cancel = threading.Event()
        self._run_lock = threading.Lock()
        self.last_report: Optional[Report] = None
        runtime = ort_library if ort_library is not None else _locate.onnx_runtime()
        self._config = _config_toml(
            {
                "ort_library": Path(runtime).resolve() if runtime is not None else None,
                "provider": provider,
                "device": device,
                "threads": threads,
                "model": model,
                "model_seed": model_seed,
                "memory_budget_mb": memory_budget_mb,
                "low_memory": low_memory or None,
                "losses": losses,
                "presets_dir": Path(presets_dir).resolve() if presets_dir is not None else None,
            }
        )
        _check(self._lib, self._lib.nst_engine_create(self._config.encode("utf-8"), ctypes.byref(self._handle)))

    # --- lifetime ----------------------------------------------------------------------------------------------

    def close(self) -> None:
        """Releases the engine. A run in progress on another thread stops at its next iteration and raises
        `CancelledError`. Closing twice is harmless."""
        handle, self._handle = self._handle, ctypes.c_void_p()
        if handle:
            self._lib.nst_engine_free(handle)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: the library may be gone already
            pass

    def _live(self) -> ctypes.c_void_p:
        if not self._handle:
            raise error_for(14, "the engine is closed")
        return self._handle

    # --- runs --------------------------------------------------------------------------------------------------

    def cancel(self) -> None:
        """Cancels the run in progress, from any thread: it stops after its current iteration and raises
        `CancelledError`. Without a run in progress, nothing happens."""
        self._cancel.set()

    def stylize(
        self,
        content: Any,
        preset: str = DEFAULT_PRESET,
        *,
        style: Optional[Sequence[Any]] = None,
        style_blend: Optional[Sequence[float]] = None,
        size: Optional[int] = None,
        iterations: Optional[int] = None,
        strength: Optional[float] = None,
        style_weight: Optional[float] = None,
        seed: Optional[int] = None,
        model: Optional[PathLike] = None,
        model_seed: Optional[int] = None,
        pooling: Optional[str] = None,
        init: Optional[str] = None,
        style_masks: Optional[Sequence[Any]] = None,
        content_mask: Optional[Any] = None,
        keep_colours: Optional[bool] = None,
        match_colours: Optional[bool] = None,
        scales: Optional[int] = None,
        style_scale: Optional[float] = None,
        keep_detail: Optional[bool] = None,
        progress: Optional[ProgressCallback] = None,
        preview: Optional[PreviewCallback] = None,
        preview_at: Optional[int] = None,
    ) -> Any:
        """Stylizes `content` with `preset` and returns the result as the same kind of image (numpy array, PIL
        image or `nst.Image`), with the content's size, format and alpha. `engine.last_report` then says what
        ran.

        `preset` is a bundled preset's name, a preset file's path or preset TOML text. Every other argument
        replaces the preset's setting; None keeps it:

        - `style`: style images replacing the preset's, blended by `style_blend` (positive weights, one per
          image; default equal).
        - `size`: the working image's long side, 16..=8192 pixels (a smaller one than the content's is scaled
          up at the end; `keep_detail=True` adds back the content's fine detail). `iterations`: 1..=10000.
        - `strength`: multiplies the style weight, 0.01..=100. `style_weight`: the style weight itself.
        - `seed`, `model`, `model_seed`, `pooling` ("max" or "average"), `init` ("content" or "noise"),
          `scales` (coarse-to-fine, 1..=8), `style_scale` (the style's size relative to the output, 0.1..=4).
        - `style_masks`: one grey mask per style image (white: that style applies); `content_mask`: where the
          content counts (white: fully).
        - `keep_colours`: the content's colours stay (luminance-only transfer); `match_colours`: the style's
          palette is first mapped onto the content's.
        - `progress(step, total, loss)` is called after each iteration; returning False cancels the run.
        - `preview(image)` receives an early low-resolution result (RGBA8, long side at most 256 pixels) after
          iteration `preview_at` (default: the preset's, else a fifth of the run).

        Errors raise an `nst.Error` subclass; a cancelled run raises `nst.CancelledError`. Callbacks run on the
        thread that called `stylize`; an exception raised in one cancels the run and is raised again here.
        """
        content_pixels = to_pixels(content, "content")
        styles = [to_pixels(image, f"style image {i + 1}") for i, image in enumerate(style or [])]
        masks = [to_pixels(mask, f"style mask {i + 1}") for i, mask in enumerate(style_masks or [])]
        content_mask_pixels = to_pixels(content_mask, "content mask") if content_mask is not None else None
        output = content_pixels.blank_like()

        overrides = _ffi.NstOverrides()
        self._lib.nst_overrides_init(ctypes.byref(overrides), ctypes.sizeof(overrides))
        keep: List[Any] = []  # what the overrides point into, alive until the call returns
        if size is not None:
            overrides.size = _positive_int(size, "size")
        if iterations is not None:
            overrides.iterations = _positive_int(iterations, "iterations")
        if seed is not None:
            overrides.seed = _non_negative_int(seed, "seed")
        if style_weight is not None:
            overrides.style_weight = _finite(style_weight, "style_weight")
        if strength is not None:
            overrides.style_weight_scale = _finite(strength, "strength")
        if model_seed is not None:
            overrides.model_seed = _non_negative_int(model_seed, "model_seed")
        if model is not None:
            encoded = str(model).encode("utf-8")
            keep.append(encoded)
            overrides.model_path = encoded
        if pooling is not None:
            overrides.pooling = _choice(pooling, _POOLING, "pooling")
        if init is not None:
            overrides.init = _choice(init, _INIT, "init")
        if keep_colours is not None:
            overrides.keep_colours = int(bool(keep_colours))
        if match_colours is not None:
            overrides.match_colours = int(bool(match_colours))
        if scales is not None:
            overrides.scales = _positive_int(scales, "scales")
        if style_scale is not None:
            overrides.style_scale = _finite(style_scale, "style_scale")
        if keep_detail is not None:
            overrides.keep_detail = int(bool(keep_detail))
        if style_blend is not None:
            weights = (ctypes.c_float * len(style_blend))(*[_finite(w, "style_blend") for w in style_blend])
            keep.append(weights)
            overrides.style_weights = weights
            overrides.style_weight_count = len(style_blend)
        if masks:
            mask_array = (_ffi.NstImage * len(masks))(*[m.view for m in masks])
            keep.append(mask_array)
            overrides.style_masks = mask_array
            overrides.style_mask_count = len(masks)
        if content_mask_pixels is not None:
            overrides.content_mask = ctypes.pointer(content_mask_pixels.view)

        failure: List[BaseException] = []
        if preview is not None:

            def on_preview(_user: Any, image: Any) -> None:
                if failure:
                    return
                try:
                    preview(from_view(image.contents, content_pixels))
                except BaseException as error:  # raised again once the run returns
                    failure.append(error)

            preview_callback = _ffi.PREVIEW_CALLBACK(on_preview)
            keep.append(preview_callback)
            overrides.preview = preview_callback
            if preview_at is not None:
                overrides.preview_iteration = _positive_int(preview_at, "preview_at")

        def on_progress(_user: Any, step: int, total: int, loss: float) -> int:
            if self._cancel.is_set() or failure:
                return 1
            if progress is None:
                return 0
            try:
                go_on = progress(step, total, loss)
            except BaseException as error:
                failure.append(error)
                return 1
            return 1 if go_on is False else 0

        progress_callback = _ffi.PROGRESS_CALLBACK(on_progress)
        style_array = (_ffi.NstImage * len(styles))(*[s.view for s in styles]) if styles else None
        report = _ffi.NstRunReport()
        with self._run_lock:
            self._cancel.clear()
            status = self._lib.nst_stylize(
                self._live(),
                preset.encode("utf-8"),
                ctypes.byref(overrides),
                ctypes.byref(content_pixels.view),
                style_array,
                len(styles),
                ctypes.byref(output.view),
                progress_callback,
                None,
                ctypes.byref(report),
            )
            message = _ffi.last_error(self._lib) if status != 0 else ""
        del keep
        if failure:
            raise failure[0]
        if status != 0:
            raise error_for(status, message)
        self.last_report = Report(
            iterations=report.iterations,
            evaluations=report.evaluations,
            working_size=(report.working_width, report.working_height),
            seconds=report.seconds,
            loss_total=report.loss_total,
            loss_content=report.loss_content,
            loss_style=report.loss_style,
            loss_total_variation=report.loss_total_variation,
            provider=report.provider.decode("utf-8", "replace"),
            model=report.model.decode("utf-8", "replace"),
        )
        return output.result()

    # --- descriptions ------------------------------------------------------------------------------------------

    def describe(self) -> Dict[str, Any]:
        """The filter's description: its parameters with their defaults and ranges, the presets as this engine
        runs them, and the pixel formats."""
        handle = self._live()
        return _read_json(self._lib, lambda b, n, needed: self._lib.nst_engine_describe(handle, b, n, needed))

    def describe_preset(self, preset: str) -> Dict[str, Any]:
        """One preset (a bundled name, a file path or TOML text), resolved: its description, size, iterations,
        style weight, style images and the model its runs report. A bad preset raises `PresetError`, naming
        the file, line and key."""
        handle = self._live()
        encoded = preset.encode("utf-8")
        return _read_json(
            self._lib, lambda b, n, needed: self._lib.nst_engine_describe_preset(handle, encoded, b, n, needed)
        )

    def benchmark(self, preset: str = DEFAULT_PRESET, size: int = 128, evaluations: int = 3) -> Dict[str, Any]:
        """Measures one evaluation of `preset`'s objective at `size` x `size` (16..=4096): the median of
        `evaluations` runs after two warm-up runs, with the matrix-product peak of the device measured beside
        it. Keys: size, seconds_per_evaluation, conv_gflop, achieved_gflops, peak_gflops, ratio_to_floor,
        rust_share, peak_rss_mb."""
        handle = self._live()
        encoded = preset.encode("utf-8")
        with self._run_lock:
            return _read_json(
                self._lib,
                lambda b, n, needed: self._lib.nst_engine_benchmark(handle, encoded, size, evaluations, b, n, needed),
            )

    def trim(self) -> None:
        """Drops the models and sessions kept from recent runs, returning their memory."""
        _check(self._lib, self._lib.nst_engine_trim(self._live()))


#: Objective evaluations per iteration of L-BFGS with its line search, as measured on the bundled presets
#: (1.03-1.05).
EVALUATIONS_PER_ITERATION = 1.05


def estimate_seconds(
    seconds_per_evaluation: float, benchmark_size: int, width: int, height: int, iterations: int
) -> float:
    """What a run of `iterations` at `width` x `height` is expected to take here, scaled by pixel count from
    `Engine.benchmark`'s `seconds_per_evaluation` at `benchmark_size` x `benchmark_size`."""
    pixels = width * height / (benchmark_size * benchmark_size)
    return seconds_per_evaluation * pixels * iterations * EVALUATIONS_PER_ITERATION


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > 0xFFFFFFFF:
        raise ValueError(f"{name} must be a positive whole number, not {value!r}")
    return value


def _non_negative_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > 2**63 - 1:
        raise ValueError(f"{name} must be a whole number in 0..=2^63-1, not {value!r}")
    return value


def _finite(value: float, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, not {value!r}")
    return number


def _choice(value: str, choices: Dict[str, int], name: str) -> int:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return choices[value]


def presets(presets_dir: Optional[PathLike] = None) -> List[Dict[str, Any]]:
    """The bundled presets (or those of `presets_dir`), each with its name, description, size, iterations, style
    weight, style images and model. Needs no ONNX Runtime. A preset file that does not load is listed with
    its `error`."""
    lib = _ffi.library()
    folder = str(Path(presets_dir).resolve()).encode("utf-8") if presets_dir is not None else None
    return _read_json(lib, lambda b, n, needed: lib.nst_describe_presets(folder, b, n, needed))


def models() -> List[Dict[str, Any]]:
    """The models runs can name: the built-in random-weight VGG19 and each installed one (`nst model fetch`),
    with its name, description, file, source, SHA-256 and date. Needs no ONNX Runtime."""
    lib = _ffi.library()
    return _read_json(lib, lambda b, n, needed: lib.nst_describe_models(b, n, needed))


def describe_preset(preset: str, **engine: Any) -> Dict[str, Any]:
    """`Engine.describe_preset` on a temporary engine made with `engine`'s arguments."""
    with Engine(**engine) as temporary:
        return temporary.describe_preset(preset)


def version() -> str:
    """The plugin library's version."""
    return _ffi.library().nst_version().decode("utf-8")
