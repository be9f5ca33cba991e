"""Krita's pixel bytes and the engine's: channel order, depth and the selection's coverage. Plain bytes work, so
numpy is not needed (Krita's Python may lack it).

Krita's RGBA layers store 8- and 16-bit pixels as B, G, R, A and float ones (F16, F32) as R, G, B, A, in native
byte order. The engine takes RGBA8, RGBA16 and RGBA float32 (linear or sRGB-encoded), so half floats are widened
on the way in and narrowed on the way out.
"""

from __future__ import annotations

import struct
import sys
from array import array
from dataclasses import dataclass
from typing import Dict

from .nst import Image, PixelFormat

#: Krita's colour model ids, named as Krita's menus name them, for the message refusing them.
MODEL_NAMES: Dict[str, str] = {
    "RGBA": "RGB/Alpha",
    "CMYKA": "CMYK/Alpha",
    "LABA": "L*a*b*/Alpha",
    "GRAYA": "Grayscale/Alpha",
    "XYZA": "XYZ/Alpha",
    "YCbCrA": "YCbCr/Alpha",
    "A": "Alpha mask",
}


class UnsupportedLayer(ValueError):
    """A layer whose colour model or depth the engine cannot take; the message names them."""


@dataclass(frozen=True)
class Layout:
    """How one Krita colour space lays out a pixel."""

    depth: str  # Krita's depth id: U8, U16, F16 or F32
    bytes_per_channel: int
    bgr: bool  # B, G, R, A in memory (8 and 16 bit), else R, G, B, A
    linear: bool  # float pixels with a linear (gamma 1.0) profile

    @property
    def bytes_per_pixel(self) -> int:
        """Bytes per pixel: four channels."""
        return 4 * self.bytes_per_channel


_DEPTHS = {"U8": (1, True), "U16": (2, True), "F16": (2, False), "F32": (4, False)}


def layout(model: str, depth: str, profile: str) -> Layout:
    """The layout of a layer in colour model `model`, depth `depth` and ICC profile `profile`; raises
    `UnsupportedLayer` for anything but RGBA."""
    if model != "RGBA" or depth not in _DEPTHS:
        name = MODEL_NAMES.get(model, model)
        raise UnsupportedLayer(
            f"Neural Style works on RGB/Alpha layers (8 or 16 bit integer, 16 or 32 bit float); this layer is "
            f"{name} ({depth}). Convert it with Image > Convert Image Color Space, then run the filter again."
        )
    size, bgr = _DEPTHS[depth]
    # Krita's float documents default to the gamma-1.0 "g10" profiles; scRGB is linear too.
    lowered = profile.lower()
    linear = not bgr and ("g10" in lowered or "linear" in lowered or "scrgb" in lowered)
    return Layout(depth, size, bgr, linear)


def _swap_red_blue(data: bytes, typecode: str) -> bytes:
    """Four-channel pixels with channels 0 and 2 swapped, each channel of `typecode` (array's codes)."""
    channels = array(typecode, data)
    swapped = array(typecode, channels)
    swapped[0::4] = channels[2::4]
    swapped[2::4] = channels[0::4]
    return swapped.tobytes()


#: Values converted per step between half and single floats: bounds the Python objects alive at once.
_CHUNK = 1 << 18


def _halves_to_floats(data: bytes) -> bytes:
    parts = []
    for start in range(0, len(data), 2 * _CHUNK):
        piece = data[start : start + 2 * _CHUNK]
        count = len(piece) // 2
        parts.append(struct.pack(f"={count}f", *struct.unpack(f"={count}e", piece)))
    return b"".join(parts)


def _floats_to_halves(data: bytes) -> bytes:
    largest = 65504.0  # the largest finite half
    parts = []
    for start in range(0, len(data), 4 * _CHUNK):
        piece = data[start : start + 4 * _CHUNK]
        count = len(piece) // 4
        values = [min(max(v, -largest), largest) for v in struct.unpack(f"={count}f", piece)]
        parts.append(struct.pack(f"={count}e", *values))
    return b"".join(parts)


def to_engine(data: bytes, width: int, height: int, pixels: Layout) -> Image:
    """Krita pixel bytes (packed rows) as an `nst.Image` the engine takes."""
    if pixels.depth == "U8":
        return Image(width, height, PixelFormat.RGBA8, _swap_red_blue(data, "B"))
    if pixels.depth == "U16":
        return Image(width, height, PixelFormat.RGBA16, _swap_red_blue(data, "H"))
    floats = _halves_to_floats(data) if pixels.depth == "F16" else bytes(data)
    kind = PixelFormat.RGBA_F32_LINEAR if pixels.linear else PixelFormat.RGBA_F32_SRGB
    return Image(width, height, kind, floats)


def from_engine(image: Image, pixels: Layout) -> bytes:
    """An engine result (made from `to_engine` with the same layout) as Krita pixel bytes."""
    data = bytes(image.data)
    if pixels.depth == "U8":
        return _swap_red_blue(data, "B")
    if pixels.depth == "U16":
        return _swap_red_blue(data, "H")
    return _floats_to_halves(data) if pixels.depth == "F16" else data


def mask_alpha(data: bytes, pixels: Layout, coverage: bytes) -> bytes:
    """Krita pixel bytes with each pixel's alpha scaled by the selection's coverage (one byte a pixel, 255:
    fully selected), so that the result shows only where the selection is."""
    if coverage.count(255) == len(coverage):
        return data
    if pixels.depth in ("U8", "U16"):
        channels = array("B" if pixels.depth == "U8" else "H", data)
        channels[3::4] = array(channels.typecode, (a * c // 255 for a, c in zip(channels[3::4], coverage)))
        return channels.tobytes()
    code = "e" if pixels.depth == "F16" else "f"
    count = len(data) // pixels.bytes_per_channel
    values = list(struct.unpack(f"={count}{code}", data))
    values[3::4] = [a * c / 255.0 for a, c in zip(values[3::4], coverage)]
    return struct.pack(f"={count}{code}", *values)


def subsample(data: bytes, width: int, height: int, bytes_per_pixel: int, step: int) -> bytes:
    """Every `step`-th pixel of every `step`-th row: a quick small copy for the preview."""
    if step <= 1:
        return bytes(data)
    row = width * bytes_per_pixel
    kept_width = (width + step - 1) // step
    rows = []
    for y in range(0, height, step):
        line = data[y * row : (y + 1) * row]
        out = bytearray(kept_width * bytes_per_pixel)
        for offset in range(bytes_per_pixel):
            out[offset::bytes_per_pixel] = line[offset :: bytes_per_pixel * step]
        rows.append(bytes(out))
    return b"".join(rows)


def _encode_srgb(value: float) -> int:
    value = min(max(value, 0.0), 1.0)
    encoded = value * 12.92 if value <= 0.0031308 else 1.055 * value ** (1 / 2.4) - 0.055
    return int(encoded * 255 + 0.5)


def to_display(image: Image) -> bytes:
    """An engine image (packed rows) as RGBA8 bytes to show on screen, sRGB-encoded."""
    data = bytes(image.data)
    if image.format == PixelFormat.RGBA8:
        return data
    if image.format == PixelFormat.RGBA16:
        return data[1::2] if sys.byteorder == "little" else data[0::2]  # the high byte of each channel
    values = struct.unpack(f"={len(data) // 4}f", data)
    out = bytearray(len(values))
    linear = image.format == PixelFormat.RGBA_F32_LINEAR
    for index, value in enumerate(values):
        if index % 4 == 3 or not linear:
            out[index] = int(min(max(value, 0.0), 1.0) * 255 + 0.5)
        else:
            out[index] = _encode_srgb(value)
    return bytes(out)
