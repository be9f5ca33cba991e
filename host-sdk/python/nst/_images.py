"""Images in and out: numpy arrays (H x W x C, uint8, uint16 or float32, any strides) when numpy is installed, PIL
images when Pillow is, and `nst.Image` (plain bytes with a width, height and format) always. Neither numpy nor
Pillow is required: the Pythons bundled in GIMP and Krita have neither.

Each input becomes a `Pixels`: a buffer the engine reads (or writes) in one of the library's pixel formats,
and a way to turn a result in that format back into the caller's kind of image.
"""

from __future__ import annotations

import ctypes
import enum
import sys
from dataclasses import dataclass
from typing import Any, Callable

from ._ffi import NstImage


class PixelFormat(enum.IntEnum):
    """The library's pixel formats (`NstPixelFormat`). Channels are interleaved, in native byte order."""

    GRAY8 = 1
    RGB8 = 2
    RGBA8 = 3
    RGB16 = 4
    RGBA16 = 5
    RGBA_F32_LINEAR = 6
    RGBA_F32_SRGB = 7

    @property
    def channels(self) -> int:
        """Channels per pixel."""
        return {1: 1, 2: 3, 3: 4, 4: 3, 5: 4, 6: 4, 7: 4}[self.value]

    @property
    def bytes_per_channel(self) -> int:
        """Bytes per channel: 1, 2 or 4."""
        return {1: 1, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 4}[self.value]

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes per pixel."""
        return self.channels * self.bytes_per_channel


@dataclass(frozen=True)
class Image:
    """An image as plain bytes: `height` rows of `stride` bytes (0: packed rows), each `width` pixels in
    `format`. What `Engine.stylize` returns for an `Image`, and what it takes without numpy or Pillow."""

    width: int
    height: int
    format: PixelFormat
    data: bytes
    stride: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "format", PixelFormat(self.format))
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"an image needs a positive width and height, not {self.width}x{self.height}")
        row = self.width * self.format.bytes_per_pixel
        if self.stride == 0:
            object.__setattr__(self, "stride", row)
        if self.stride < row:
            raise ValueError(f"stride {self.stride} is shorter than a row of {row} bytes")
        needed = self.stride * (self.height - 1) + row
        if len(self.data) < needed:
            raise ValueError(
                f"{len(self.data)} bytes hold no {self.width}x{self.height} {self.format.name} image: {needed} needed"
            )


class Pixels:
    """One image as the engine sees it: a buffer kept alive for the call, and its `NstImage` view."""

    def __init__(
        self,
        width: int,
        height: int,
        stride: int,
        pixel_format: PixelFormat,
        buffer: Any,
        address: int,
        back: Callable[[Pixels], Any],
    ) -> None:
        self.width, self.height, self.stride, self.format = width, height, stride, pixel_format
        self.buffer = buffer  # owns the memory `address` points into
        self.view = NstImage(width, height, stride, int(pixel_format), address)
        self._back = back

    def blank_like(self) -> Pixels:
        """A writable buffer of the same size and format, packed, for the result."""
        stride = self.width * self.format.bytes_per_pixel
        buffer = (ctypes.c_ubyte * (stride * self.height))()
        return Pixels(self.width, self.height, stride, self.format, buffer, ctypes.addressof(buffer), self._back)

    def packed_bytes(self) -> bytes:
        """The pixels as packed rows."""
        row = self.width * self.format.bytes_per_pixel
        raw = ctypes.string_at(self.view.pixels, self.stride * (self.height - 1) + row)
        if self.stride == row:
            return raw
        return b"".join(raw[y * self.stride : y * self.stride + row] for y in range(self.height))

    def result(self) -> Any:
        """This buffer as the caller's kind of image."""
        return self._back(self)


def _numpy() -> Any:
    return sys.modules.get("numpy")


def _pil_image_class() -> Any:
    module = sys.modules.get("PIL.Image")
    return getattr(module, "Image", None) if module is not None else None


def to_pixels(image: Any, what: str) -> Pixels:
    """`image` (numpy array, PIL image or `nst.Image`) as engine pixels; `what` names it in errors."""
    if isinstance(image, Image):
        return _from_image(image)
    pil_class = _pil_image_class()
    if pil_class is not None and isinstance(image, pil_class):
        return _from_pil(image, what)
    numpy = _numpy()
    if numpy is not None and isinstance(image, numpy.ndarray):
        return _from_array(numpy, image, what)
    raise TypeError(
        f"{what}: expected a numpy array (H x W x C), a PIL image or an nst.Image, not {type(image).__name__}"
    )


def from_view(view: NstImage, like: Pixels) -> Any:
    """A borrowed `NstImage` (a preview) copied out, as the kind of image `like` came from."""
    pixel_format = PixelFormat(view.format)
    row = view.width * pixel_format.bytes_per_pixel
    raw = ctypes.string_at(view.pixels, view.stride * (view.height - 1) + row)
    buffer = (ctypes.c_ubyte * len(raw)).from_buffer_copy(raw)
    copy = Pixels(view.width, view.height, view.stride, pixel_format, buffer, ctypes.addressof(buffer), like._back)
    return copy.result()


# --- nst.Image -------------------------------------------------------------------------------------------------


def _from_image(image: Image) -> Pixels:
    buffer = ctypes.create_string_buffer(bytes(image.data), len(image.data))
    return Pixels(image.width, image.height, image.stride, image.format, buffer, ctypes.addressof(buffer), _to_image)


def _to_image(pixels: Pixels) -> Image:
    return Image(pixels.width, pixels.height, pixels.format, pixels.packed_bytes())


# --- numpy -----------------------------------------------------------------------------------------------------

_ARRAY_FORMATS = {
    ("uint8", 1): PixelFormat.GRAY8,
    ("uint8", 3): PixelFormat.RGB8,
    ("uint8", 4): PixelFormat.RGBA8,
    ("uint16", 3): PixelFormat.RGB16,
    ("uint16", 4): PixelFormat.RGBA16,
    ("float32", 4): PixelFormat.RGBA_F32_SRGB,
}


# Native byte order, as the library reads and writes.
_DTYPES = {1: "=u1", 2: "=u2", 4: "=f4"}


def _from_array(numpy: Any, array: Any, what: str) -> Pixels:
    two_dimensional = array.ndim == 2
    if two_dimensional:
        array = array[:, :, None]
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise ValueError(f"{what}: expected an H x W or H x W x C array with 1 to 4 channels, not {array.shape}")
    kind = array.dtype.name
    if kind not in ("uint8", "uint16", "float32"):
        raise TypeError(f"{what}: expected uint8, uint16 or float32 pixels, not {kind}")
    channels = array.shape[2]
    height, width = array.shape[:2]
    # Channels the library has no format for are widened, then narrowed again on the way back.
    widened = array
    if channels == 2:  # grey and alpha
        widened = numpy.concatenate([array[:, :, :1]] * 3 + [array[:, :, 1:]], axis=2)
    elif channels == 1 and kind != "uint8":
        widened = numpy.concatenate([array] * 3, axis=2)
    if kind == "float32" and widened.shape[2] == 3:
        widened = numpy.concatenate([widened, numpy.ones((height, width, 1), numpy.float32)], axis=2)
    pixel_format = _ARRAY_FORMATS[(kind, widened.shape[2])]
    # The library takes any row stride, but pixels and channels packed within a row, in native byte order.
    item = widened.dtype.itemsize
    packed_rows = (
        widened.strides[2] == item
        and widened.strides[1] == item * widened.shape[2]
        and widened.strides[0] > 0
        and widened.dtype.isnative
    )
    if not packed_rows:
        widened = numpy.ascontiguousarray(widened, dtype=widened.dtype.newbyteorder("="))
    address = widened.__array_interface__["data"][0]

    def back(pixels: Pixels) -> Any:
        values = numpy.frombuffer(pixels.packed_bytes(), dtype=_DTYPES[pixels.format.bytes_per_channel])
        result = values.reshape(pixels.height, pixels.width, pixels.format.channels)
        if pixels.format != pixel_format:  # a preview: RGBA8 whatever the content was
            return result.copy()
        if channels == 2:
            result = numpy.concatenate([result[:, :, :1], result[:, :, 3:]], axis=2)
        elif channels == 1 and kind != "uint8":
            result = result[:, :, :1]
        elif kind == "float32" and channels == 3:
            result = result[:, :, :3]
        result = numpy.ascontiguousarray(result[:, :, 0] if two_dimensional else result)
        return result if result.flags.writeable else result.copy()

    return Pixels(width, height, widened.strides[0], pixel_format, widened, address, back)


# --- PIL -------------------------------------------------------------------------------------------------------

_PIL_FORMATS = {"L": PixelFormat.GRAY8, "RGB": PixelFormat.RGB8, "RGBA": PixelFormat.RGBA8}


def _from_pil(image: Any, what: str) -> Pixels:
    mode = image.mode
    if mode not in _PIL_FORMATS:
        # Palette, grey with alpha, CMYK, 16-bit and float modes become RGB or RGBA (alpha kept).
        has_alpha = "A" in mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    pixel_format = _PIL_FORMATS[image.mode]
    data = image.tobytes()
    buffer = ctypes.create_string_buffer(data, len(data))
    width, height = image.size
    pil_image = sys.modules["PIL.Image"]

    def back(pixels: Pixels) -> Any:
        mode_back = {PixelFormat.GRAY8: "L", PixelFormat.RGB8: "RGB", PixelFormat.RGBA8: "RGBA"}[pixels.format]
        return pil_image.frombytes(mode_back, (pixels.width, pixels.height), pixels.packed_bytes())

    return Pixels(
        width, height, width * pixel_format.bytes_per_pixel, pixel_format, buffer, ctypes.addressof(buffer), back
    )
