"""The filter's dialog: GIMP's procedure dialog for the arguments, plus the preset's values, the time estimate,
the model line, a .toml file chooser, the preview and the help page. Values persist through the procedure's
config (GIMP keeps them across restarts)."""

from __future__ import annotations

import threading
from typing import Any, Optional, Tuple

import gi

gi.require_version("Gimp", "3.0")
gi.require_version("GimpUi", "3.0")
gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, Gimp, GimpUi, GLib, Gtk  # noqa: E402

import nst  # noqa: E402
import style_engine  # noqa: E402
import style_pixels  # noqa: E402
from style_engine import PREVIEW_SIDE, FilterError, PresetInfo, Settings  # noqa: E402

# The arguments the dialog shows, in order.
SHOWN = (
    "preset-list",
    "preset",
    "style-drawable",
    "size",
    "iterations",
    "strength",
    "seed",
    "selection-as-mask",
    "outside-style-drawable",
)


def wrapped_label(text: str = "") -> Gtk.Label:
    label = Gtk.Label(label=text)
    label.set_line_wrap(True)
    label.set_max_width_chars(70)
    label.set_xalign(0.0)
    return label


def area_size(drawable: Gimp.Drawable) -> Tuple[int, int]:
    """The size of the part of the layer a run works on: the selection's, else the layer's."""
    touches, _, _, width, height = drawable.mask_intersect()
    if not touches:
        return drawable.get_width(), drawable.get_height()
    return width, height


class Extras:
    """The dialog's additions and what they show."""

    def __init__(
        self, config: Gimp.ProcedureConfig, image: Gimp.Image, drawable: Gimp.Drawable, file_choice: str
    ) -> None:
        self.config, self.image, self.drawable, self.file_choice = config, image, drawable, file_choice
        self.area_width, self.area_height = area_size(drawable)
        self.info: Optional[PresetInfo] = None
        self.preset_info = wrapped_label()
        self.estimate = wrapped_label()
        self.model = wrapped_label()
        self.preview = GimpUi.PreviewArea.new()
        self.preview.set_size_request(PREVIEW_SIDE, PREVIEW_SIDE)
        self.preview_note = wrapped_label("Preview: press the button for a quick low-resolution run.")
        self.preview_button = Gtk.Button.new_with_mnemonic("Pre_view")
        self.preview_button.set_tooltip_text("A quick low-resolution run of these settings, shown here")
        self.preview_button.connect("clicked", self.on_preview)
        self.worker: Optional[threading.Thread] = None

    # --- what the dialog shows ---------------------------------------------------------------------------------

    def preset(self) -> str:
        """The preset the dialog shows: the list's choice, else the typed one."""
        chosen = self.config.get_property("preset-list")
        if chosen and chosen != self.file_choice:
            return chosen
        return self.config.get_property("preset") or nst.DEFAULT_PRESET

    def update_preset(self) -> None:
        self.info, error = None, None
        try:
            self.info = style_engine.preset_info(self.preset())
        except FilterError as failure:
            error = str(failure)
        self.preset_info.set_text(style_engine.preset_text(self.info, error))
        self.model.set_text(self.info.model_line if self.info else "")
        self.update_estimate()

    def update_estimate(self) -> None:
        settings = Settings(size=self.config.get_property("size"))
        preset_size = self.info.size if self.info else 0
        side = style_engine.working_side(settings, self.area_width, self.area_height, preset_size)
        iterations = self.config.get_property("iterations")
        if iterations <= 0:
            iterations = self.info.iterations if self.info else 100
        text = style_engine.estimate_text(self.preset(), self.area_width, self.area_height, side, iterations)
        self.estimate.set_text(text)

    def on_config_changed(self, _config: Gimp.ProcedureConfig, spec: Any) -> None:
        if spec.name in ("preset-list", "preset"):
            self.update_preset()
        elif spec.name in ("size", "iterations"):
            self.update_estimate()

    # --- the preview -------------------------------------------------------------------------------------------

    def preview_target(self) -> Tuple[style_pixels.Target, Optional[Gimp.Drawable], Settings, PresetInfo]:
        """What a run of the dialog's values would work on; raises `FilterError` when it could not run."""
        config = self.config
        style = config.get_property("style-drawable")
        wanted = config.get_property("selection-as-mask") and not Gimp.Selection.is_empty(self.image)
        mask = self.image.get_selection() if wanted else None
        outside = config.get_property("outside-style-drawable") if mask is not None else None
        target = style_pixels.plan(self.image, self.drawable, mask, outside)
        style_engine.check_placement(style is not None, mask is not None, outside is not None)
        settings = Settings(
            preset=self.preset(),
            iterations=config.get_property("iterations"),
            strength=config.get_property("strength"),
            seed=config.get_property("seed"),
        )
        return target, style, settings, style_engine.preset_info(settings.preset)

    def on_preview(self, _button: Gtk.Button) -> None:
        try:
            target, style, settings, info = self.preview_target()
        except FilterError as error:
            self.preview_note.set_text(str(error))
            return
        scale = min(1.0, PREVIEW_SIDE / max(target.area[2], target.area[3]))
        inputs = style_pixels.read_inputs(target, style, style_pixels.RGBA8, scale)
        self.preview_note.set_text("Computing the preview...")
        self.preview_button.set_sensitive(False)
        # The engine works on its own thread (the binding releases the GIL), so the dialog stays responsive.
        self.worker = threading.Thread(target=self.preview_work, args=(inputs, settings, info), daemon=True)
        self.worker.start()

    def preview_work(self, inputs: style_pixels.Inputs, settings: Settings, info: PresetInfo) -> None:
        outcome: Any
        try:
            outcome = style_engine.stylize(
                settings,
                inputs.content,
                inputs.styles,
                inputs.masks,
                size=max(style_engine.SIZE_MIN, inputs.area[2], inputs.area[3]),
                iterations=style_engine.preview_iterations(settings, info),
            )
        except Exception as error:  # whatever it is, the dialog shows it and the button comes back
            outcome = error
        GLib.idle_add(self.preview_done, outcome)

    def preview_done(self, outcome: Any) -> bool:
        self.worker = None
        self.preview_button.set_sensitive(True)
        if isinstance(outcome, nst.CancelledError):
            return False
        if isinstance(outcome, Exception):
            self.preview_note.set_text(str(outcome))
            return False
        width, height = outcome.width, outcome.height
        self.preview.fill(0, 0, PREVIEW_SIDE, PREVIEW_SIDE, 0x80, 0x80, 0x80)
        x, y = (PREVIEW_SIDE - width) // 2, (PREVIEW_SIDE - height) // 2
        self.preview.draw(x, y, width, height, Gimp.ImageType.RGBA_IMAGE, outcome.data, width * 4)
        self.preview_note.set_text(style_engine.preview_note(width, height))
        return False  # once

    def stop_preview(self) -> None:
        """A preview still running when the dialog closes is cancelled, and waited for: the run that may
        follow uses the same engine."""
        worker = self.worker
        if worker is not None:
            style_engine.engine().cancel()
            worker.join()

    # --- the other additions -----------------------------------------------------------------------------------

    def file_row(self) -> Gtk.Box:
        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=6)
        label = Gtk.Label.new_with_mnemonic("Preset .toml _file:")
        chooser = Gtk.FileChooserButton.new("Open a Preset", Gtk.FileChooserAction.OPEN)
        toml = Gtk.FileFilter()
        toml.set_name("Style presets (*.toml)")
        toml.add_pattern("*.toml")
        chooser.add_filter(toml)
        label.set_mnemonic_widget(chooser)
        chooser.connect("file-set", self.on_file_set)
        row.pack_start(label, False, False, 0)
        row.pack_start(chooser, True, True, 0)
        return row

    def on_file_set(self, chooser: Gtk.FileChooserButton) -> None:
        path = chooser.get_filename()
        if path:
            self.config.set_property("preset", path)
            self.config.set_property("preset-list", self.file_choice)

    def preview_row(self) -> Gtk.Box:
        row = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=12)
        row.pack_start(self.preview, False, False, 0)
        side = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=6)
        help_button = Gtk.Button.new_with_mnemonic("Filter help pa_ge")
        help_button.connect("clicked", on_help)
        side.pack_start(self.preview_button, False, False, 0)
        side.pack_start(self.preview_note, False, False, 0)
        side.pack_end(help_button, False, False, 0)
        row.pack_start(side, True, True, 0)
        return row


def on_help(button: Gtk.Button) -> None:
    page = style_engine.FOLDER / "help.html"
    why = None
    if page.is_file():
        try:
            Gtk.show_uri_on_window(button.get_toplevel(), page.as_uri(), Gdk.CURRENT_TIME)
            return
        except GLib.Error as error:
            why = error.message
    Gimp.message(style_engine.help_unavailable(why))


def shape_sliders(dialog: GimpUi.ProcedureDialog, long_side: int) -> None:
    """Logarithmic sliders, so that every part of a wide range can be reached; the size slider ends at the
    layer's own resolution."""
    size = dialog.get_scale_entry("size", 1.0)
    high = min(long_side, style_engine.SIZE_MAX)
    low = min(64, high)
    size.set_bounds(low, max(high, low + 1), True)
    size.set_logarithmic(True)
    iterations = dialog.get_scale_entry("iterations", 1.0)
    iterations.set_bounds(1, style_engine.ITERATIONS_MAX, True)
    iterations.set_logarithmic(True)
    dialog.get_scale_entry("strength", 1.0).set_logarithmic(True)


def prepare(config: Gimp.ProcedureConfig, image: Gimp.Image, long_side: int) -> None:
    """The values the dialog opens with: no selection switch without a selection; the size slider at the
    layer's own resolution for "the area's own size"."""
    if Gimp.Selection.is_empty(image):
        config.set_property("selection-as-mask", False)
    size = config.get_property("size")
    if size == 0 or size > long_side:
        config.set_property("size", min(long_side, style_engine.SIZE_MAX))


def store(config: Gimp.ProcedureConfig, extras: Extras, long_side: int) -> None:
    """Stores 0 ("the area's own size", "the preset's") when the size or iterations are left at those values,
    so they follow the next layer and preset; the list's preset becomes the procedure's."""
    chosen = config.get_property("preset-list")
    if chosen and chosen != extras.file_choice:
        config.set_property("preset", chosen)
    if config.get_property("size") >= long_side:
        config.set_property("size", 0)
    if extras.info is not None and config.get_property("iterations") == extras.info.iterations:
        config.set_property("iterations", 0)


def build(
    procedure: Gimp.Procedure, config: Gimp.ProcedureConfig, image: Gimp.Image, extras: Extras, long_side: int
) -> GimpUi.ProcedureDialog:
    dialog = GimpUi.ProcedureDialog.new(procedure, config, "Neural Style")
    # GIMP's own Help button looks for GIMP's manual; the filter's page has its own button.
    gimp_help = dialog.get_widget_for_response(Gtk.ResponseType.HELP)
    if gimp_help is not None:
        gimp_help.hide()
    shape_sliders(dialog, long_side)
    dialog.set_sensitive("outside-style-drawable", True, config, "selection-as-mask", False)
    dialog.set_sensitive("selection-as-mask", not Gimp.Selection.is_empty(image), None, None, False)
    dialog.fill(list(SHOWN))
    content = dialog.get_content_area()
    for widget in (extras.file_row(), extras.preset_info, extras.estimate, extras.model, extras.preview_row()):
        content.pack_start(widget, False, False, 6)
        widget.show_all()
    return dialog


def run(
    procedure: Gimp.Procedure,
    config: Gimp.ProcedureConfig,
    image: Gimp.Image,
    drawable: Gimp.Drawable,
    file_choice: str,
) -> bool:
    """Runs the dialog; False when cancelled."""
    GimpUi.init("neural-style")
    extras = Extras(config, image, drawable, file_choice)
    long_side = max(extras.area_width, extras.area_height)
    prepare(config, image, long_side)
    dialog = build(procedure, config, image, extras, long_side)
    extras.update_preset()
    if config.get_property("iterations") == 0 and extras.info is not None:
        config.set_property("iterations", extras.info.iterations)
    watch = config.connect("notify", extras.on_config_changed)
    dialog.connect("response", lambda *_: extras.stop_preview())
    accepted = dialog.run()
    extras.stop_preview()
    config.disconnect(watch)
    dialog.destroy()
    if accepted:
        store(config, extras, long_side)
    return bool(accepted)
