"""Where the plugin library and ONNX Runtime are: the package's own copy, the environment, or the installed
`onnxruntime` wheel (which has held its C library in `onnxruntime/capi/` since 1.19). ONNX Runtime is always
handed to the engine by absolute path."""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path
from typing import List, Optional

#: The folder of the package's native files: the plugin library, the `nst` program and the presets.
NATIVE_DIR = Path(__file__).resolve().parent / "_native"


def plugin_file_name() -> str:
    """The plugin library's file name on this platform."""
    if sys.platform == "win32":
        return "nst.dll"
    if sys.platform == "darwin":
        return "libnst.dylib"
    return "libnst.so"


def plugin_library() -> Path:
    """The plugin library: `NST_PLUGIN` when set, else the one inside this package."""
    from ._errors import Error

    configured = os.environ.get("NST_PLUGIN")
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise Error(None, f"NST_PLUGIN is {configured}, which is not a file")
        return path.resolve()
    bundled = NATIVE_DIR / plugin_file_name()
    if bundled.is_file():
        return bundled
    raise Error(
        None,
        f"the nst plugin library was not found: looked at {bundled} (the package's own copy) and NST_PLUGIN "
        "(unset); install the nst wheel for this platform, or set NST_PLUGIN to a built "
        f"{plugin_file_name()}",
    )


def load_library(path: Path) -> ctypes.CDLL:
    """Loads a shared library by absolute path, its own folder searched for what it needs on Windows."""
    if sys.platform == "win32":
        os.add_dll_directory(str(path.parent))
    return ctypes.CDLL(str(path))


def _onnxruntime_capi() -> Optional[Path]:
    """`onnxruntime/capi/` of the installed onnxruntime wheel (onnxruntime, onnxruntime-gpu or
    onnxruntime-directml: all install the `onnxruntime` package), found without importing it."""
    try:
        spec = importlib.util.find_spec("onnxruntime")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        capi = Path(location) / "capi"
        if capi.is_dir():
            return capi
    return None


def _runtime_candidates(capi: Path) -> List[Path]:
    if sys.platform == "win32":
        return [capi / "onnxruntime.dll"]
    if sys.platform == "darwin":
        return sorted(capi.glob("libonnxruntime.*.dylib"), reverse=True) + [capi / "libonnxruntime.dylib"]
    # The versioned file is the library itself; the wheel may carry no unversioned link.
    return sorted(capi.glob("libonnxruntime.so.*"), reverse=True) + [capi / "libonnxruntime.so"]


def onnx_runtime() -> Optional[Path]:
    """ONNX Runtime's library: `ORT_DYLIB_PATH` when set, else the installed onnxruntime wheel's, else None
    (the engine then looks beside the plugin library and says where it looked)."""
    configured = os.environ.get("ORT_DYLIB_PATH")
    if configured:
        return Path(configured).resolve()
    capi = _onnxruntime_capi()
    if capi is None:
        return None
    for candidate in _runtime_candidates(capi):
        if candidate.is_file():
            return candidate.resolve()
    return None
