"""The C ABI of the plugin library (`nst.h`) in ctypes: the structs, the callback types and the functions'
signatures, and the loading of the library. Nothing here is public: `nst.Engine` and the module functions wrap it.

The structs mirror `plugin/include/nst.h` field by field; a test compares their sizes and offsets with what the
C compiler makes of the header.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path
from typing import Optional

from . import _locate

#: The ABI this package speaks: a library whose `nst_abi_version()` differs is refused.
ABI_VERSION = 2

c_size_t = ctypes.c_size_t
c_uint32 = ctypes.c_uint32
c_int32 = ctypes.c_int32
c_int64 = ctypes.c_int64
c_double = ctypes.c_double
c_char_p = ctypes.c_char_p
c_void_p = ctypes.c_void_p


class NstImage(ctypes.Structure):
    """`NstImage` and `NstImageMut`: the same layout, read-only or writable pixels."""

    _fields_ = [
        ("width", c_uint32),
        ("height", c_uint32),
        ("stride", c_size_t),
        ("format", c_uint32),
        ("pixels", c_void_p),
    ]


PREVIEW_CALLBACK = ctypes.CFUNCTYPE(None, c_void_p, ctypes.POINTER(NstImage))
PROGRESS_CALLBACK = ctypes.CFUNCTYPE(c_int32, c_void_p, c_uint32, c_uint32, c_double)


class NstOverrides(ctypes.Structure):
    """Per-call changes to the preset; `nst_overrides_init` sets every field to "keep the preset's"."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("size", c_uint32),
        ("iterations", c_uint32),
        ("seed", c_int64),
        ("style_weight", c_double),
        ("model_seed", c_int64),
        ("model_path", c_char_p),
        ("pooling", c_uint32),
        ("init", c_uint32),
        ("keep_colours", c_int32),
        ("match_colours", c_int32),
        ("scales", c_uint32),
        ("style_scale", c_double),
        ("style_weights", ctypes.POINTER(ctypes.c_float)),
        ("preview_iteration", c_uint32),
        ("preview", PREVIEW_CALLBACK),
        ("preview_user_data", c_void_p),
        ("style_masks", ctypes.POINTER(NstImage)),
        ("style_mask_count", c_size_t),
        ("content_mask", ctypes.POINTER(NstImage)),
        ("style_weight_scale", c_double),
        ("style_weight_count", c_size_t),
        ("keep_detail", c_int32),
    ]


class NstRunReport(ctypes.Structure):
    """What a finished run did."""

    _fields_ = [
        ("iterations", c_uint32),
        ("evaluations", c_uint32),
        ("working_width", c_uint32),
        ("working_height", c_uint32),
        ("seconds", c_double),
        ("loss_total", c_double),
        ("loss_content", c_double),
        ("loss_style", c_double),
        ("loss_total_variation", c_double),
        ("provider", ctypes.c_char * 16),
        ("model", ctypes.c_char * 256),
    ]


_ENGINE = c_void_p
_SIGNATURES = {
    "nst_abi_version": (c_uint32, []),
    "nst_version": (c_char_p, []),
    "nst_last_error": (c_size_t, [c_char_p, c_size_t]),
    "nst_engine_create": (c_uint32, [c_char_p, ctypes.POINTER(_ENGINE)]),
    "nst_engine_free": (c_uint32, [_ENGINE]),
    "nst_engine_trim": (c_uint32, [_ENGINE]),
    "nst_engine_describe": (c_uint32, [_ENGINE, c_char_p, c_size_t, ctypes.POINTER(c_size_t)]),
    "nst_engine_describe_preset": (
        c_uint32,
        [_ENGINE, c_char_p, c_char_p, c_size_t, ctypes.POINTER(c_size_t)],
    ),
    "nst_engine_benchmark": (
        c_uint32,
        [_ENGINE, c_char_p, c_uint32, c_uint32, c_char_p, c_size_t, ctypes.POINTER(c_size_t)],
    ),
    "nst_describe_presets": (c_uint32, [c_char_p, c_char_p, c_size_t, ctypes.POINTER(c_size_t)]),
    "nst_describe_models": (c_uint32, [c_char_p, c_size_t, ctypes.POINTER(c_size_t)]),
    "nst_overrides_init": (None, [ctypes.POINTER(NstOverrides), c_size_t]),
    "nst_stylize": (
        c_uint32,
        [
            _ENGINE,
            c_char_p,
            ctypes.POINTER(NstOverrides),
            ctypes.POINTER(NstImage),
            ctypes.POINTER(NstImage),
            c_size_t,
            ctypes.POINTER(NstImage),
            PROGRESS_CALLBACK,
            c_void_p,
            ctypes.POINTER(NstRunReport),
        ],
    ),
}

_loaded: Optional[ctypes.CDLL] = None
_loaded_lock = threading.Lock()


def library() -> ctypes.CDLL:
    """The plugin library, loaded once (see `nst._locate.plugin_library` for where it is looked for), with every
    function's signature declared. The library is never unloaded: its threads outlive an unload."""
    global _loaded
    with _loaded_lock:
        if _loaded is None:
            _loaded = _load(_locate.plugin_library())
        return _loaded


def _load(path: Path) -> ctypes.CDLL:
    # CDLL, not PyDLL: every call releases the GIL, so other Python threads run while the engine works.
    from ._errors import Error

    lib = _locate.load_library(path)
    for name, (restype, argtypes) in _SIGNATURES.items():
        try:
            function = getattr(lib, name)
        except AttributeError:
            raise Error(None, f"{path} has no function {name}: a library older than this nst package") from None
        function.restype = restype
        function.argtypes = argtypes
    version = lib.nst_abi_version()
    if version != ABI_VERSION:
        raise Error(
            None,
            f"{path} speaks ABI version {version}; this nst package speaks {ABI_VERSION}: "
            "install matching versions of the package and the library",
        )
    return lib


def last_error(lib: ctypes.CDLL) -> str:
    """The message of this thread's last failed call."""
    length = lib.nst_last_error(None, 0)
    buffer = ctypes.create_string_buffer(length + 1)
    lib.nst_last_error(buffer, length + 1)
    return buffer.value.decode("utf-8", "replace")
