"""The Krita plug-in's cases, run inside Krita by kritarunner (no window):

    kritarunner -s krita_cases -f main PYKRITA QUICK_PRESET OUT_JSON STYLE_IMAGE

PYKRITA is the pykrita folder the plug-in is installed in. Each case makes a document, runs the plug-in's core
(`nst_krita.job`) on it as the dialog does, and records what it measured; the Rust test asserts on OUT_JSON.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import traceback
from typing import Any, Callable, Dict, List

from krita import Krita, Selection

SIZE = (64, 48)
CHANNEL_BYTES = {"U8": 1, "U16": 2, "F16": 2, "F32": 4}


def pattern(depth: str, width: int, height: int) -> bytes:
    """A colour gradient under a two-pixel checkerboard, opaque, in Krita's layout for `depth`."""
    values: List[float] = []
    for y in range(height):
        for x in range(width):
            lift = 0.15 if (x // 2 + y // 2) % 2 == 0 else -0.15
            red, green, blue = 0.25 + 0.5 * x / width + lift, 0.25 + 0.5 * y / height + lift, 0.55 + lift
            # 8 and 16 bit: B, G, R, A; float: R, G, B, A.
            values += [blue, green, red, 1.0] if depth in ("U8", "U16") else [red, green, blue, 1.0]
    if depth == "U8":
        return bytes(round(v * 255) for v in values)
    if depth == "U16":
        return struct.pack(f"={len(values)}H", *(round(v * 65535) for v in values))
    return struct.pack(f"={len(values)}{'e' if depth == 'F16' else 'f'}", *values)


def channels(data: bytes, depth: str) -> List[float]:
    """Pixel bytes as channel values in [0, 1]."""
    count = len(data) // CHANNEL_BYTES[depth]
    if depth == "U8":
        return [v / 255 for v in data]
    if depth == "U16":
        return [v / 65535 for v in struct.unpack(f"={count}H", data)]
    return list(struct.unpack(f"={count}{'e' if depth == 'F16' else 'f'}", data))


def document(depth: str, model: str = "RGBA") -> Any:
    doc = Krita.instance().createDocument(SIZE[0], SIZE[1], f"nst-{depth}", model, depth, "", 72.0)
    background = doc.rootNode().childNodes()[0]
    if model == "RGBA":
        background.setPixelData(pattern(depth, *SIZE), 0, 0, *SIZE)
    doc.setActiveNode(background)
    doc.refreshProjection()
    return doc


def layer_names(doc: Any) -> List[str]:
    return [node.name() for node in doc.rootNode().childNodes()]


def measure(doc: Any, source: Any, before: bytes, layer: Any, depth: str) -> Dict[str, Any]:
    """What a finished run left: the layers, the new layer's extent, how much it differs from the source
    inside and outside the selection, and whether the source changed."""
    width, height = SIZE
    after = channels(bytes(layer.pixelData(0, 0, width, height)), depth)
    original = channels(before, depth)
    selection = doc.selection()
    inside = (
        (selection.x(), selection.y(), selection.width(), selection.height())
        if selection is not None
        else (0, 0, width, height)
    )
    change_inside, count_inside, alpha_outside, alpha_inside_min = 0.0, 0, 0.0, 1.0
    for y in range(height):
        for x in range(width):
            at = (y * width + x) * 4
            alpha = after[at + 3]
            covered = inside[0] <= x < inside[0] + inside[2] and inside[1] <= y < inside[1] + inside[3]
            if covered:
                change_inside += sum(abs(after[at + c] - original[at + c]) for c in range(3)) / 3
                count_inside += 1
                alpha_inside_min = min(alpha_inside_min, alpha)
            else:
                alpha_outside = max(alpha_outside, alpha)
    bounds = layer.bounds()
    nodes = doc.rootNode().childNodes()
    return {
        "layers": layer_names(doc),
        "new_layer_index": [n.uniqueId() for n in nodes].index(layer.uniqueId()),
        "source_index": [n.uniqueId() for n in nodes].index(source.uniqueId()),
        "layer_depth": layer.colorDepth(),
        "layer_bounds": [bounds.x(), bounds.y(), bounds.width(), bounds.height()],
        "document_size": [doc.width(), doc.height()],
        "selection": list(inside) if selection is not None else None,
        "mean_change_inside": change_inside / max(count_inside, 1),
        "max_alpha_outside": alpha_outside,
        "min_alpha_inside": alpha_inside_min,
        "source_untouched": bytes(source.pixelData(0, 0, width, height)) == before,
    }


def run_case(preset: str, depth: str, select: Any = None, model: str = "RGBA", **options: Any) -> Dict[str, Any]:
    from nst_krita import job

    doc = document(depth, model)
    source = doc.rootNode().childNodes()[0]
    if select is not None:
        selection = Selection()
        selection.select(*select, 255)
        doc.setSelection(selection)
    before = bytes(source.pixelData(0, 0, *SIZE))
    layers_before = layer_names(doc)
    style_layer = None
    if options.pop("style_from_layer", False):
        style_layer = doc.createNode("red style", "paintlayer")
        red = bytes([40, 30, 220, 255] * (16 * 16))  # B, G, R, A
        style_layer.setPixelData(red, 0, 0, 16, 16)
        doc.rootNode().addChildNode(style_layer, None)
    style_file = options.pop("style_file", None)
    settings = job.Settings(preset=preset, **options)
    try:
        layer = job.stylize_layer(doc, source, settings, style_layer=style_layer, style_file=style_file)
    except Exception as error:  # an expected failure: the message and what it left
        return {
            "error": f"{type(error).__name__}: {error}",
            "layers_before": layers_before,
            "layers_after": layer_names(doc),
            "source_untouched": bytes(source.pixelData(0, 0, *SIZE)) == before,
        }
    result = measure(doc, source, before, layer, depth)
    result["name"] = layer.name()
    return result


def cancelled_case(preset: str) -> Dict[str, Any]:
    """A job cancelled before it reaches the engine (as the dialog's Cancel does) writes nothing."""
    from nst_krita import job, nst, shared_engine

    doc = document("U8")
    source = doc.rootNode().childNodes()[0]
    prepared = job.prepare(doc, source, job.Settings(preset=preset))
    prepared.cancel(shared_engine.engine())
    try:
        prepared.run(shared_engine.engine())
        outcome = "ran"
    except nst.CancelledError:
        outcome = "cancelled"
    return {"outcome": outcome, "layers_after": layer_names(doc)}


def preview_case(preset: str) -> Dict[str, Any]:
    from nst_krita import job, shared_engine

    doc = document("F32")
    prepared = job.prepare(doc, doc.rootNode().childNodes()[0], job.Settings(preset=preset))
    image = prepared.preview(shared_engine.engine())
    return {"size": [image.width, image.height], "bytes": len(image.data), "layers_after": layer_names(doc)}


def engine_case(preset: str) -> Dict[str, Any]:
    from nst_krita import shared_engine

    described = shared_engine.engine().describe_preset(preset)
    per_evaluation = shared_engine.seconds_per_evaluation(preset)
    return {
        "presets": shared_engine.preset_names(),
        "model_line": shared_engine.model_line(described),
        "estimate": shared_engine.estimate_text(per_evaluation, 640, 480, 256, 100),
        "per_evaluation": per_evaluation,
    }


def config_case(preset: str, folder: str) -> Dict[str, Any]:
    """nst.toml beside the plug-in sets the engine up, as the GIMP plug-ins' does; a bad one is refused with a
    message naming it."""
    from pathlib import Path

    from nst_krita import nst, shared_engine

    good, bad = Path(folder) / "good-nst.toml", Path(folder) / "bad-nst.toml"
    good.write_text('# engine settings\nmodel = "builtin"\nmodel_seed = 5\nthreads = 1\n', encoding="utf-8")
    bad.write_text('provider = "no-such-provider"\n', encoding="utf-8")
    with nst.Engine(**shared_engine.engine_settings(good)) as configured:
        summary = configured.describe_preset(preset).get("model_summary")
    try:
        nst.Engine(**shared_engine.engine_settings(bad))
        refused = None
    except nst.Error as error:
        refused = str(error)
    absent = shared_engine.engine_settings(Path(folder) / "absent-nst.toml")
    (Path(folder) / "typo-nst.toml").write_text('modle = "vgg19"\n', encoding="utf-8")
    try:
        shared_engine.engine_settings(Path(folder) / "typo-nst.toml")
        typo = None
    except shared_engine.ConfigError as error:
        typo = str(error)
    return {
        "config_file": str(shared_engine.CONFIG_FILE),
        "configured_model": summary,
        "bad_provider": refused,
        "absent_file": absent,
        "installed_file": shared_engine.engine_settings(),
        "typo": typo,
    }


def main(args: Any) -> None:
    pykrita, quick, out = args[0], args[1], args[2]
    sys.path.insert(0, pykrita)
    bad = quick.replace("quick.toml", "bad.toml")
    style_file = args[3]
    with open(bad, "w", encoding="utf-8") as file:
        file.write("version = 1\n[optimiser]\niterations = -3\n")
    cases: Dict[str, Callable[[], Dict[str, Any]]] = {
        "u8": lambda: run_case(quick, "U8"),
        "u8_selection": lambda: run_case(quick, "U8", select=(16, 8, 24, 20)),
        "u16": lambda: run_case(quick, "U16"),
        "f16": lambda: run_case(quick, "F16"),
        "f32_selection": lambda: run_case(quick, "F32", select=(8, 16, 30, 24)),
        "u8_style_layer_keep_colours": lambda: run_case(
            quick, "U8", style_from_layer=True, keep_colours=True, strength=2.0, seed=7
        ),
        "u16_style_file": lambda: run_case(quick, "U16", style_file=style_file),
        "missing_style_file": lambda: run_case(quick, "U8", style_file=quick + ".missing.png"),
        "bad_preset": lambda: run_case(bad, "U8"),
        "cmyk": lambda: run_case(quick, "U8", model="CMYKA"),
        "cancelled": lambda: cancelled_case(quick),
        "preview": lambda: preview_case(quick),
        "engine": lambda: engine_case(quick),
        "config": lambda: config_case(quick, os.path.dirname(quick)),
    }
    results: Dict[str, Any] = {}
    for name, case in cases.items():
        try:
            results[name] = case()
        except Exception:
            results[name] = {"crashed": traceback.format_exc()}
        print(f"krita case {name}: {json.dumps(results[name])[:300]}", flush=True)
    with open(out, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=1)
