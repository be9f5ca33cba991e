"""One run of the filter without any window: set up from the document (GUI thread), run by the engine (any
thread: it touches no Krita or Qt object), then applied as a new layer (GUI thread). `stylize_layer` does the
three in a row, for scripts and the tests."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, List, Optional

from . import document, nst, pixels, shared_engine

#: A preview is worked on a copy at most this many pixels on its long side, with at most these iterations.
PREVIEW_SIDE = 192
PREVIEW_ITERATIONS = 40

#: progress(step, total): called from the engine's thread after each iteration.
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Settings:
    """The dialog's choices. None keeps the preset's value."""

    preset: str = nst.DEFAULT_PRESET  # a bundled preset's name or a .toml file's path
    strength: float = 1.0  # multiplies the style weight, 0.01..=100
    size: Optional[int] = None  # the working image's long side, 16..=8192 pixels
    iterations: Optional[int] = None  # 1..=10000
    seed: Optional[int] = None
    keep_colours: Optional[bool] = None  # True: luminance-only transfer


@dataclass
class Job:
    """A run set up from the document: what it reads was copied out, so the engine never waits on Krita."""

    source: document.Source
    settings: Settings
    style: List[nst.Image] = field(default_factory=list)
    cancelled: bool = False

    def cancel(self, engine: Optional[nst.Engine]) -> None:
        """Stops the run at its next iteration (from the GUI thread). The flag covers a run that has not
        reached the engine yet, whose own cancel would be cleared when it starts."""
        self.cancelled = True
        if engine is not None:
            engine.cancel()

    def _stylize(self, engine: nst.Engine, content: nst.Image, progress: Optional[Progress], **changes: Any) -> Any:
        if self.cancelled:
            raise nst.CancelledError(11, "cancelled before the run started")

        def on_progress(step: int, total: int, _loss: float) -> bool:
            if progress is not None:
                progress(step, total)
            return not self.cancelled

        options = {
            "size": self.settings.size,
            "iterations": self.settings.iterations,
            "seed": self.settings.seed,
            "strength": self.settings.strength,
            "keep_colours": self.settings.keep_colours,
            "style": self.style or None,
        }
        options.update(changes)
        return engine.stylize(content, self.settings.preset, progress=on_progress, **options)

    def run(self, engine: nst.Engine, progress: Optional[Progress] = None) -> bytes:
        """The result as Krita pixel bytes over the source's area. Raises `nst.Error` (a `CancelledError`
        when cancelled)."""
        result = self._stylize(engine, self.source.content(), progress)
        return pixels.from_engine(result, self.source.layout)

    def preview(self, engine: nst.Engine, progress: Optional[Progress] = None) -> nst.Image:
        """A quick look: a small copy of the area, a short run, as RGBA8 for the screen."""
        area = self.source.area
        step = max(1, math.ceil(max(area.width, area.height) / PREVIEW_SIDE))
        small = pixels.subsample(self.source.data, area.width, area.height, self.source.layout.bytes_per_pixel, step)
        width, height = (area.width + step - 1) // step, (area.height + step - 1) // step
        content = pixels.to_engine(small, width, height, self.source.layout)
        described = engine.describe_preset(self.settings.preset)
        side = max(16, min(self.settings.size or int(described.get("size") or PREVIEW_SIDE), max(width, height)))
        iterations = min(self.settings.iterations or int(described.get("iterations") or 1), PREVIEW_ITERATIONS)
        result = self._stylize(engine, content, progress, size=side, iterations=iterations)
        return nst.Image(width, height, nst.PixelFormat.RGBA8, pixels.to_display(result))


def prepare(
    doc: Any,
    node: Any,
    settings: Settings,
    style_layer: Any = None,
    style_file: Optional[str] = None,
) -> Job:
    """A job on `node` of `doc` (GUI thread), the style from `style_layer` or `style_file` when given, else the
    preset's. Raises ValueError (with `pixels.UnsupportedLayer` for a colour model it cannot take)."""
    source = document.read_source(doc, node)
    style: List[nst.Image] = []
    if style_layer is not None:
        style.append(document.style_from_layer(style_layer))
    elif style_file:
        style.append(document.style_from_file(style_file))
    return Job(source, settings, style)


def apply(job: Job, result: bytes) -> Any:
    """The result as a new layer above the source (GUI thread); returns the layer."""
    return document.add_result_layer(job.source, result, document.layer_name(job.settings.preset))


def stylize_layer(
    doc: Any,
    node: Any,
    settings: Settings,
    style_layer: Any = None,
    style_file: Optional[str] = None,
    engine: Optional[nst.Engine] = None,
    progress: Optional[Progress] = None,
) -> Any:
    """Set up, run and apply in one call, on the calling thread; returns the new layer. Errors leave the
    document as it was."""
    job = prepare(doc, node, settings, style_layer, style_file)
    result = job.run(engine or shared_engine.engine(), progress)
    return apply(job, result)
