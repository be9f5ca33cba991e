"""The document's side of a run, through Krita's scripting API: the source layer's pixels over the selection's
bounds, style images from a layer or a file, and the result as a new paint layer. Krita calls happen here
only, and only on the GUI thread."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional

from . import pixels
from .nst import Image, PixelFormat
from .qt import RGBA8888, QImage


@dataclass(frozen=True)
class Area:
    """A rectangle of the document, in pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass
class Source:
    """What a run reads, copied out of the document when it was set up: the layer, the area (the selection's
    bounds, else the whole document), its pixels and the selection's coverage of it (None: all of it)."""

    document: Any  # krita.Document
    node: Any  # krita.Node
    area: Area
    layout: pixels.Layout
    data: bytes
    coverage: Optional[bytes]

    def content(self) -> Image:
        """The area's pixels as the engine takes them."""
        return pixels.to_engine(self.data, self.area.width, self.area.height, self.layout)


def layout_of(node: Any) -> pixels.Layout:
    """`node`'s pixel layout; raises `pixels.UnsupportedLayer` naming a colour model the engine cannot take."""
    return pixels.layout(node.colorModel(), node.colorDepth(), node.colorProfile())


def read_source(document: Any, node: Any) -> Source:
    """The run's input from `node`: within the selection's bounds when there is a selection."""
    if node is None or node.type() != "paintlayer":
        kind = "no layer" if node is None else f"a {node.type()}"
        raise ValueError(f"Neural Style needs a paint layer as its source; the active layer is {kind}.")
    layout = layout_of(node)
    area = Area(0, 0, document.width(), document.height())
    coverage = None
    selection = document.selection()
    if selection is not None and selection.width() > 0 and selection.height() > 0:
        x0, y0 = max(selection.x(), 0), max(selection.y(), 0)
        x1 = min(selection.x() + selection.width(), document.width())
        y1 = min(selection.y() + selection.height(), document.height())
        if x1 <= x0 or y1 <= y0:
            raise ValueError("The selection lies outside the image: select part of the image, or nothing.")
        area = Area(x0, y0, x1 - x0, y1 - y0)
        coverage = bytes(selection.pixelData(area.x, area.y, area.width, area.height))
        if coverage.count(0) == len(coverage):
            raise ValueError("The selection is empty: select part of the image, or nothing.")
    data = bytes(node.pixelData(area.x, area.y, area.width, area.height))
    return Source(document, node, area, layout, data, coverage)


def paint_layers(document: Any) -> List[Any]:
    """Every paint layer of `document`, top first, groups opened: the layers a style can come from."""
    found: List[Any] = []

    def visit(parent: Any) -> None:
        for child in reversed(parent.childNodes()):
            if child.type() == "paintlayer":
                found.append(child)
            visit(child)

    visit(document.rootNode())
    return found


def style_from_layer(node: Any) -> Image:
    """A layer's pixels over its own bounds, as a style image."""
    bounds = node.bounds()
    if bounds.width() <= 0 or bounds.height() <= 0:
        raise ValueError(f"The style layer '{node.name()}' is empty.")
    layout = layout_of(node)
    data = bytes(node.pixelData(bounds.x(), bounds.y(), bounds.width(), bounds.height()))
    return pixels.to_engine(data, bounds.width(), bounds.height(), layout)


def style_from_file(path: str) -> Image:
    """An image file as a style image, read by Qt (PNG, JPEG, WebP and the other formats Qt reads)."""
    image = QImage(path)
    if image.isNull():
        raise ValueError(f"The style image {path} could not be read (not a picture Qt can open).")
    image = image.convertToFormat(RGBA8888)
    row = image.width() * 4
    stride = image.bytesPerLine()
    raw = bytes(image.constBits().asstring(stride * image.height()))
    packed = b"".join(raw[y * stride : y * stride + row] for y in range(image.height()))
    return Image(image.width(), image.height(), PixelFormat.RGBA8, packed)


def display_image(data: bytes, width: int, height: int) -> QImage:
    """RGBA8 bytes as a QImage that owns a copy of them."""
    return QImage(data, width, height, width * 4, RGBA8888).copy()


def layer_name(preset: str) -> str:
    """The result layer's name: the preset's name, or a preset file's name without .toml."""
    name = Path(preset).stem if preset.endswith(".toml") else preset
    return f"{name} (neural style)"


def is_in_document(document: Any, node: Any) -> bool:
    """Whether `node` is still in `document` (the user may delete it during a run)."""
    wanted = node.uniqueId()

    def visit(parent: Any) -> bool:
        return any(child.uniqueId() == wanted or visit(child) for child in parent.childNodes())

    return visit(document.rootNode())


def add_result_layer(source: Source, result: bytes, name: str) -> Any:
    """A new paint layer right above the source layer holding `result` (Krita pixel bytes over the source's
    area); transparent elsewhere, and where the selection does not cover. The pixels are written before the
    layer joins the document, so adding it is the one step Krita can undo."""
    document, node = source.document, source.node
    if not is_in_document(document, node):
        raise ValueError(f"The source layer '{node.name()}' was removed from the image during the run.")
    layer = document.createNode(name, "paintlayer")
    wanted = (node.colorModel(), node.colorDepth(), node.colorProfile())
    if (layer.colorModel(), layer.colorDepth(), layer.colorProfile()) != wanted:
        layer.setColorSpace(*wanted)  # a layer in another colour space than the image's
    if source.coverage is not None:
        result = pixels.mask_alpha(result, source.layout, source.coverage)
    area = source.area
    layer.setPixelData(result, area.x, area.y, area.width, area.height)
    node.parentNode().addChildNode(layer, node)
    document.setActiveNode(layer)
    document.refreshProjection()
    return layer
