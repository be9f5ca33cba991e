"""Errors: every status other than NST_OK raises an `Error` subclass carrying the status and the engine's
message. A status this package does not know (from a newer library) still raises, as `Error` with its number."""

from __future__ import annotations

from typing import Dict, Optional, Type


class Error(Exception):
    """A failed call. `status` is the library's status code (None for errors found by the package itself, such
    as a missing library), `message` what the engine said."""

    def __init__(self, status: Optional[int], message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message if status is None else f"{message} (status {status})")


class NullArgumentError(Error):
    """NST_NULL_ARGUMENT (1): a required pointer was NULL."""


class InvalidArgumentError(Error, ValueError):
    """NST_INVALID_ARGUMENT (2): an argument is out of range or inconsistent; the message names it."""


class UnsupportedFormatError(Error, ValueError):
    """NST_UNSUPPORTED_FORMAT (3): a pixel format the library does not know."""


class ImageTooLargeError(Error, ValueError):
    """NST_IMAGE_TOO_LARGE (4): an image larger than the library accepts."""


class BufferTooSmallError(Error):
    """NST_BUFFER_TOO_SMALL (5): a buffer was too small (the package retries with a larger one)."""


class PresetError(Error, ValueError):
    """NST_PRESET_ERROR (6): the preset is invalid; the message names the file, line and key."""


class ModelError(Error):
    """NST_MODEL_ERROR (7): the model file could not be read or is not a VGG19."""


class RuntimeMissingError(Error):
    """NST_RUNTIME_MISSING (8): ONNX Runtime's library was not found; the message says where it was looked for."""


class OnnxRuntimeError(Error):
    """NST_RUNTIME_ERROR (9): ONNX Runtime reported an error."""


class ProviderUnavailableError(Error):
    """NST_PROVIDER_UNAVAILABLE (10): the requested execution provider cannot run here."""


class CancelledError(Error):
    """NST_CANCELLED (11): the run was cancelled (by the progress callback or `Engine.cancel`)."""


class ImageError(Error):
    """NST_IMAGE_ERROR (12): an image file could not be read or written."""


class InternalError(Error):
    """NST_INTERNAL_ERROR (13): a bug in the library; it stays usable."""


class InvalidHandleError(Error):
    """NST_INVALID_HANDLE (14): the engine was closed already."""


class OverBudgetError(Error, MemoryError):
    """NST_OVER_BUDGET (15): not even one tile fits the memory budget; the message gives the largest size that
    does."""


class BusyError(Error):
    """NST_BUSY (16): the engine was called from inside one of its own callbacks."""


ERRORS: Dict[int, Type[Error]] = {
    1: NullArgumentError,
    2: InvalidArgumentError,
    3: UnsupportedFormatError,
    4: ImageTooLargeError,
    5: BufferTooSmallError,
    6: PresetError,
    7: ModelError,
    8: RuntimeMissingError,
    9: OnnxRuntimeError,
    10: ProviderUnavailableError,
    11: CancelledError,
    12: ImageError,
    13: InternalError,
    14: InvalidHandleError,
    15: OverBudgetError,
    16: BusyError,
}


def error_for(status: int, message: str) -> Error:
    """The exception for a non-OK `status`: its subclass, or `Error` itself for a status not known here."""
    return ERRORS.get(status, Error)(status, message or f"the call failed with status {status}")
