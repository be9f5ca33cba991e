"""nst: neural style transfer (Gatys, Ecker & Bethge) with VGG19 on ONNX Runtime, from Python.

    import nst
    from PIL import Image

    with nst.Engine() as engine:
        result = engine.stylize(Image.open("photo.jpg"), preset="mosaic", size=512,
                                progress=lambda step, total, loss: print(f"{step}/{total}"))
    result.save("photo-mosaic.png")
    print(engine.last_report.model)

Images go in and come out as numpy arrays, PIL images or `nst.Image` (plain bytes); neither numpy nor Pillow is
required. The binding calls the plugin library's C ABI through ctypes, so one wheel serves every CPython from
3.9 on, and the Pythons that GIMP and Krita bundle. Without `nst model fetch`, runs use a built-in VGG19 with
seeded random weights, and their report says so.
"""

from ._engine import DEFAULT_PRESET, Engine, Report, describe_preset, estimate_seconds, models, presets, version
from ._errors import (
    BufferTooSmallError,
    BusyError,
    CancelledError,
    Error,
    ImageError,
    ImageTooLargeError,
    InternalError,
    InvalidArgumentError,
    InvalidHandleError,
    ModelError,
    NullArgumentError,
    OnnxRuntimeError,
    OverBudgetError,
    PresetError,
    ProviderUnavailableError,
    RuntimeMissingError,
    UnsupportedFormatError,
)
from ._images import Image, PixelFormat
from ._settings import engine_settings

__all__ = [
    "DEFAULT_PRESET",
    "BufferTooSmallError",
    "BusyError",
    "CancelledError",
    "Engine",
    "Error",
    "Image",
    "ImageError",
    "ImageTooLargeError",
    "InternalError",
    "InvalidArgumentError",
    "InvalidHandleError",
    "ModelError",
    "NullArgumentError",
    "OnnxRuntimeError",
    "OverBudgetError",
    "PixelFormat",
    "PresetError",
    "ProviderUnavailableError",
    "Report",
    "RuntimeMissingError",
    "UnsupportedFormatError",
    "describe_preset",
    "engine_settings",
    "estimate_seconds",
    "models",
    "presets",
    "version",
]
