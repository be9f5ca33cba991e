"""Pixels between GIMP and the engine: what a run works on (the area, the mask, the styles), read from GEGL
buffers as `nst.Image` in the layer's own precision, and the result written back as one undo step."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp  # noqa: E402

import nst  # noqa: E402
from style_engine import FilterError  # noqa: E402

Rect = Tuple[int, int, int, int]  # x, y, width, height

# 255 - v for every byte: the mask's complement, where a second style goes.
_COMPLEMENT = bytes(range(255, -1, -1))


@dataclass(frozen=True)
class Layout:
    """RGBA pixels in a precision matching the layer's: 8-bit, 16-bit, or float (linear) for anything wider."""

    babl: str
    format: nst.PixelFormat


RGBA8 = Layout("R'G'B'A u8", nst.PixelFormat.RGBA8)
_U8 = {Gimp.Precision.U8_LINEAR, Gimp.Precision.U8_NON_LINEAR, Gimp.Precision.U8_PERCEPTUAL}
_U16 = {Gimp.Precision.U16_LINEAR, Gimp.Precision.U16_NON_LINEAR, Gimp.Precision.U16_PERCEPTUAL}


def layout_for(image: Gimp.Image) -> Layout:
    precision = image.get_precision()
    if precision in _U8:
        return RGBA8
    if precision in _U16:
        return Layout("R'G'B'A u16", nst.PixelFormat.RGBA16)
    return Layout("RGBA float", nst.PixelFormat.RGBA_F32_LINEAR)


@dataclass
class Target:
    """What one run works on, decided before anything changes."""

    drawable: Gimp.Drawable
    area: Rect  # in the layer's coordinates
    mask: Optional[Gimp.Drawable] = None  # grey, white where the style applies
    outside: Optional[Gimp.Drawable] = None  # a second style, where the mask is black
    whole_layer: bool = False  # the selection is the mask between two styles: the whole layer changes


def plan(
    image: Gimp.Image, drawable: Gimp.Drawable, mask: Optional[Gimp.Drawable], outside: Optional[Gimp.Drawable]
) -> Target:
    """Finds the area; raises `FilterError` when the run cannot go ahead. Changes nothing."""
    selection = image.get_selection()
    mask_is_selection = mask is not None and mask.get_id() == selection.get_id()
    if mask_is_selection and Gimp.Selection.is_empty(image):
        raise FilterError("the selection is empty, so it cannot say where the style goes")
    whole_layer = mask_is_selection and outside is not None
    if whole_layer:
        area = (0, 0, drawable.get_width(), drawable.get_height())
    else:
        touches, x, y, width, height = drawable.mask_intersect()
        if not touches:
            raise FilterError("the selection does not touch the layer")
        area = (x, y, width, height)
    return Target(drawable, area, mask, outside, whole_layer)


def _rectangle(area: Rect) -> Gegl.Rectangle:
    return Gegl.Rectangle.new(*area)


def _scaled(area: Rect, scale: float) -> Rect:
    """`area` scaled by `scale`, at least one pixel each way."""
    x, y, width, height = area
    return (
        math.floor(x * scale),
        math.floor(y * scale),
        max(1, math.floor(width * scale + 0.5)),
        max(1, math.floor(height * scale + 0.5)),
    )


def _read(buffer: Gegl.Buffer, babl: str, area: Rect, scale: float = 1.0) -> bytes:
    """`area` of `buffer` at `scale`; `area` is in the scaled coordinates."""
    return bytes(buffer.get(_rectangle(area), scale, babl, Gegl.AbyssPolicy.NONE))


def _whole(drawable: Gimp.Drawable, layout: Layout) -> nst.Image:
    buffer = drawable.get_buffer()
    extent = buffer.get_extent()
    area = (extent.x, extent.y, extent.width, extent.height)
    return nst.Image(extent.width, extent.height, layout.format, _read(buffer, layout.babl, area))


@dataclass
class Inputs:
    """Everything a run reads, taken from the buffers."""

    area: Rect  # in the content's (possibly scaled) coordinates
    content: nst.Image
    styles: List[nst.Image] = field(default_factory=list)
    masks: List[nst.Image] = field(default_factory=list)


def _mask_area(target: Target) -> Rect:
    """The part of the mask lying over the target area (mask and layer may have different offsets)."""
    _, layer_x, layer_y = target.drawable.get_offsets()
    _, mask_x, mask_y = target.mask.get_offsets()
    x, y, width, height = target.area
    return (x + layer_x - mask_x, y + layer_y - mask_y, width, height)


def read_inputs(target: Target, style: Optional[Gimp.Drawable], layout: Layout, scale: float = 1.0) -> Inputs:
    """The content (at `scale`), the style layers whole, and the grey mask over the area with its complement
    when a second style takes the rest."""
    area = target.area if scale == 1.0 else _scaled(target.area, scale)
    pixels = _read(target.drawable.get_buffer(), layout.babl, area, scale)
    inputs = Inputs(area, nst.Image(area[2], area[3], layout.format, pixels))
    inputs.styles = [_whole(layer, layout) for layer in (style, target.outside) if layer is not None]
    if target.mask is not None:
        mask_area = _mask_area(target)
        if scale != 1.0:
            mask_area = _scaled(mask_area, scale)
        mask_area = (mask_area[0], mask_area[1], area[2], area[3])
        grey = _read(target.mask.get_buffer(), "Y' u8", mask_area, scale)
        inputs.masks = [nst.Image(area[2], area[3], nst.PixelFormat.GRAY8, grey)]
        if target.outside is not None:
            inputs.masks.append(nst.Image(area[2], area[3], nst.PixelFormat.GRAY8, grey.translate(_COMPLEMENT)))
    return inputs


def commit(image: Gimp.Image, target: Target, result: nst.Image, layout: Layout) -> None:
    """One undo step: the result through the shadow buffer. A whole-layer result is merged with the selection
    stepped aside (merging follows the selection), which then comes back."""
    drawable = target.drawable
    image.undo_group_start()
    saved = None
    if target.whole_layer:
        saved = Gimp.Selection.save(image)
        Gimp.Selection.none(image)
    shadow = drawable.get_shadow_buffer()
    shadow.set(_rectangle(target.area), layout.babl, result.data)
    shadow.flush()
    drawable.merge_shadow(True)
    drawable.update(*target.area)
    if saved is not None:
        image.select_item(Gimp.ChannelOps.REPLACE, saved)
        image.remove_channel(saved)
        image.set_selected_layers([drawable])
    image.undo_group_end()
