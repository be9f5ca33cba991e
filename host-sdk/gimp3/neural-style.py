#!/usr/bin/env python3
"""GIMP 3 filter: Filters > Artistic > Neural Style, procedure plug-in-nst-style. Registration, arguments, the
run and its progress live here; the engine glue is style_engine, the pixels style_pixels, the dialog
style_dialog."""

from __future__ import annotations

import os
import sys

# The plug-in's own folder first: `nst` is the copy bundled beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from typing import Any, List, Optional, Tuple  # noqa: E402

import gi  # noqa: E402

gi.require_version("Gimp", "3.0")
gi.require_version("Gegl", "0.4")
from gi.repository import Gegl, Gimp, GLib, GObject  # noqa: E402

import nst  # noqa: E402
import style_engine  # noqa: E402
import style_pixels  # noqa: E402
from style_engine import FilterError, Settings  # noqa: E402

PROCEDURE = "plug-in-nst-style"
# The preset list's entry that defers to the "preset" field (a .toml path or TOML text).
FILE_CHOICE = "preset-file-or-text"
READWRITE = GObject.ParamFlags.READWRITE
# GIMP 3.0's add_choice_aux_argument keeps the choice without a reference of its own: the Python wrapper must
# outlive the procedure, or the choice is freed under it (a crash when the procedure runs).
_choices: List[Gimp.Choice] = []


def add_arguments(procedure: Gimp.Procedure) -> None:
    """The arguments of the GIMP 3 filter since its first release: scripts call it by these names."""
    procedure.add_string_argument(
        "preset",
        "Preset path or te_xt",
        "A bundled name (mosaic, waves, strokes, auvers), a .toml path, or TOML text; the list above wins unless "
        'it is left at "(a file or text)"',
        nst.DEFAULT_PRESET,
        READWRITE,
    )
    procedure.add_drawable_argument(
        "style-drawable",
        "St_yle layer",
        "A layer used as the style instead of the preset's images (none: the preset's)",
        True,
        READWRITE,
    )
    procedure.add_int_argument(
        "size",
        "_Working size",
        "Working long side in pixels (16..8192); 0: the area's own size (full resolution); -1: the preset's. A "
        "smaller size is scaled back up with the layer's own detail",
        -1,
        style_engine.SIZE_MAX,
        0,
        READWRITE,
    )
    procedure.add_int_argument(
        "iterations",
        "_Iterations",
        "Optimiser iterations; 0 keeps the preset's",
        0,
        style_engine.ITERATIONS_MAX,
        0,
        READWRITE,
    )
    procedure.add_double_argument(
        "strength",
        "S_trength",
        "Multiplies the preset's style weight: 1 (the middle) is the preset as made",
        style_engine.STRENGTH_MIN,
        style_engine.STRENGTH_MAX,
        1.0,
        READWRITE,
    )
    procedure.add_int_argument(
        "seed", "S_eed", "Seed of the noise start; -1 keeps the preset's", -1, GLib.MAXINT32, -1, READWRITE
    )
    procedure.add_drawable_argument(
        "mask-drawable",
        "Mask",
        "A channel or layer, read as grey, white where the style applies (guided Gram matrices); the image's "
        "selection uses the selection; none: everywhere",
        True,
        READWRITE,
    )
    procedure.add_drawable_argument(
        "outside-style-drawable",
        "Style o_utside the selection",
        "A layer whose style applies where the mask is black (needs a mask and a style layer); none: the content",
        True,
        READWRITE,
    )
    procedure.add_boolean_aux_argument(
        "selection-as-mask",
        "Style only i_nside the selection",
        "The style goes only where the selection is; the rest keeps the content (or takes the style outside the "
        "selection)",
        False,
        READWRITE,
    )
    add_preset_list(procedure)


def add_preset_list(procedure: Gimp.Procedure) -> None:
    """The dialog's preset list: the bundled presets by name, and an entry that defers to the file or text
    field. The default is the procedure's own default preset when it is installed."""
    names = style_engine.bundled_preset_names()
    choice = Gimp.Choice.new()
    for index, name in enumerate(names):
        choice.add(name, index, name, "")
    choice.add(FILE_CHOICE, len(names), "(a file or text)", "Use the preset file or text field below")
    default = nst.DEFAULT_PRESET if nst.DEFAULT_PRESET in names else (names[0] if names else FILE_CHOICE)
    _choices.append(choice)
    procedure.add_choice_aux_argument("preset-list", "_Preset", "A bundled preset", choice, default, READWRITE)


def settings_of(config: Gimp.ProcedureConfig, preset: str) -> Settings:
    return Settings(
        preset=preset,
        size=config.get_property("size"),
        iterations=config.get_property("iterations"),
        strength=config.get_property("strength"),
        seed=config.get_property("seed"),
    )


def failure(procedure: Gimp.Procedure, message: str) -> Gimp.ValueArray:
    return procedure.new_return_values(Gimp.PDBStatusType.EXECUTION_ERROR, GLib.Error(message))


def placement(
    image: Gimp.Image, config: Gimp.ProcedureConfig, run_mode: Gimp.RunMode
) -> Tuple[Optional[Gimp.Drawable], Optional[Gimp.Drawable]]:
    """The mask and the style outside it. Outside scripts, the dialog's switch stands for the selection as the
    mask; a remembered tick needs a selection."""
    mask = config.get_property("mask-drawable")
    outside = config.get_property("outside-style-drawable")
    if run_mode != Gimp.RunMode.NONINTERACTIVE:
        wanted = config.get_property("selection-as-mask") and not Gimp.Selection.is_empty(image)
        mask = image.get_selection() if wanted else None
        if mask is None:
            outside = None
    return mask, outside


class Progress:
    """GIMP's progress bar for one run; its Cancel stops the engine after the current iteration."""

    def __init__(self) -> None:
        Gimp.progress_init("Neural style")

    def __call__(self, step: int, total: int) -> bool:
        Gimp.progress_set_text(f"Neural style: iteration {step} of {total}")
        # A failed update means GIMP cancelled the run (GIMP also ends the plug-in then).
        return bool(Gimp.progress_update(step / total))

    def end(self) -> None:
        Gimp.progress_end()


def compute(settings: Settings, target: style_pixels.Target, style: Optional[Gimp.Drawable]) -> Optional[nst.Image]:
    """The stylized area, held in memory so that the image is touched only once the long run has ended; None
    when cancelled."""
    style_engine.check(settings, target.area[2], target.area[3])
    style_engine.check_placement(style is not None, target.mask is not None, target.outside is not None)
    layout = style_pixels.layout_for(target.drawable.get_image())
    inputs = style_pixels.read_inputs(target, style, layout)
    progress = Progress()
    try:
        return style_engine.stylize(settings, inputs.content, inputs.styles, inputs.masks, progress)
    except nst.CancelledError:
        return None
    finally:
        progress.end()


def stylize_layer(
    procedure: Gimp.Procedure,
    run_mode: Gimp.RunMode,
    image: Gimp.Image,
    drawable: Gimp.Drawable,
    config: Gimp.ProcedureConfig,
) -> Gimp.ValueArray:
    preset = config.get_property("preset") or nst.DEFAULT_PRESET
    style = config.get_property("style-drawable")
    mask, outside = placement(image, config, run_mode)
    # GIMP 3's layer chooser cannot leave the target out, so the choice is refused before anything changes.
    if run_mode == Gimp.RunMode.INTERACTIVE and style is not None and style.get_id() == drawable.get_id():
        raise FilterError(
            "the style layer is the layer being stylized: choose another layer, or none for the preset's style images"
        )
    target = style_pixels.plan(image, drawable, mask, outside)
    result = compute(settings_of(config, preset), target, style)
    if result is None:
        return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
    style_pixels.commit(image, target, result, style_pixels.layout_for(image))
    if run_mode != Gimp.RunMode.NONINTERACTIVE:
        Gimp.displays_flush()
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, None)


class NeuralStyle(Gimp.PlugIn):
    """The plug-in: one image procedure."""

    def do_query_procedures(self) -> List[str]:
        return [PROCEDURE]

    def do_set_i18n(self, _name: str) -> bool:
        return False  # no translations

    def do_create_procedure(self, name: str) -> Optional[Gimp.Procedure]:
        if name != PROCEDURE:
            return None
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, self.run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("Neural _Style...")
        procedure.add_menu_path("<Image>/Filters/Artistic")
        procedure.set_documentation(
            "Neural style transfer (Gatys et al.) with a style preset",
            "Optimises the selection so that its VGG19 features keep the content and take the style of the "
            "preset's (or a layer's) image.",
            name,
        )
        procedure.set_attribution("nst developers", "nst developers", "2026")
        add_arguments(procedure)
        return procedure

    def run(
        self,
        procedure: Gimp.Procedure,
        run_mode: Gimp.RunMode,
        image: Gimp.Image,
        drawables: List[Gimp.Drawable],
        config: Gimp.ProcedureConfig,
        _data: Any,
    ) -> Gimp.ValueArray:
        if len(drawables) != 1:
            return failure(procedure, "select exactly one layer")
        Gegl.init(None)
        try:
            if run_mode == Gimp.RunMode.INTERACTIVE:
                import style_dialog  # GTK only when there is a dialog

                if not style_dialog.run(procedure, config, image, drawables[0], FILE_CHOICE):
                    return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, None)
            return stylize_layer(procedure, run_mode, image, drawables[0], config)
        except FilterError as error:
            return failure(procedure, str(error))


if __name__ == "__main__":
    Gimp.main(NeuralStyle.__gtype__, sys.argv)
