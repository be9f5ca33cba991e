//! The filter description a host builds its UI from, and a resolved preset's summary, as JSON.

use std::ffi::c_char;

use super::boundary::{FfiError, boundary, copy_out};
use super::engine::{EngineState, NstEngine, engine_ref};
use super::json::{array, object, string};
use super::{NST_ABI_VERSION, required_str};
use crate::preset::{Preset, bundled_presets, presets_dir, resolve_preset};
use crate::stylize::ModelChoice;
use nst_sys::limits::{self, Bounds};

/// A range's ends as JSON numbers.
fn range<T: std::fmt::Debug>(bounds: Bounds<T>) -> (String, String) {
    (format!("{:?}", bounds.min), format!("{:?}", bounds.max))
}

fn parameter(name: &str, kind: &str, default: String, range: Option<(String, String)>, help: &str) -> String {
    let mut fields = vec![("name", string(name)), ("type", string(kind)), ("default", default)];
    if let Some((min, max)) = range {
        fields.push(("min", min));
        fields.push(("max", max));
    }
    fields.push(("help", string(help)));
    object(&fields)
}

/// The preset as JSON; `engine_model` is the engine's configured model, which runs instead of the preset's, and
/// `path` the bundled preset's file, when it is one.
fn preset_json(preset: &Preset, path: Option<&std::path::Path>, engine_model: Option<&ModelChoice>) -> String {
    let settings = &preset.settings;
    let styles: Vec<String> = preset
        .styles
        .iter()
        .map(|(p, w)| object(&[("path", string(&p.display().to_string())), ("weight", w.to_string())]))
        .collect();
    object(&[
        ("name", string(&preset.name)),
        ("description", string(&preset.description)),
        ("size", settings.size.map(|s| s.to_string()).unwrap_or_else(|| "null".into())),
        ("iterations", settings.iterations.to_string()),
        ("style_weight", format!("{:e}", settings.losses.style_weight)),
        ("styles", array(&styles)),
        (
            "model",
            string(&match &settings.model {
                ModelChoice::BuiltIn { seed } => format!("builtin (seed {seed})"),
                ModelChoice::File(path) => path.display().to_string(),
            }),
        ),
        ("model_summary", string(&engine_model.unwrap_or(&settings.model).summary())),
        ("path", path.map(|p| string(&p.display().to_string())).unwrap_or_else(|| "null".into())),
    ])
}

/// The bundled presets of `dir` (or the default presets folder) as JSON objects, as a run with an engine
/// configured for `engine_model` would use them. A preset that does not load is listed with its `name`, `path`
/// and the `error` that says why, rather than left out without a word.
fn presets_json(dir: Option<&std::path::Path>, engine_model: Option<&ModelChoice>) -> Result<Vec<String>, FfiError> {
    let dir = presets_dir(dir)?;
    Ok(bundled_presets(&dir)
        .iter()
        .map(|(name, path)| match crate::preset::load_preset(&path.display().to_string(), None) {
            Ok(preset) => preset_json(&preset, Some(path), engine_model),
            Err(err) => object(&[
                ("name", string(name)),
                ("path", string(&path.display().to_string())),
                ("error", string(&err.to_string())),
            ]),
        })
        .collect())
}

fn description(engine: &EngineState) -> Result<String, FfiError> {
    let presets = presets_json(engine.presets_dir.as_deref(), engine.model.as_ref())?;
    let default_preset = if presets.is_empty() { "null".to_string() } else { string("mosaic") };
    let parameters = vec![
        parameter(
            "preset",
            "string",
            default_preset,
            None,
            "Bundled preset name, preset file path, or preset TOML text",
        ),
        parameter(
            "size",
            "int",
            "0".into(),
            Some(range(limits::SIZE)),
            "Long side of the working image in pixels; 0 keeps the preset's",
        ),
        parameter(
            "iterations",
            "int",
            "0".into(),
            Some(range(limits::ITERATIONS)),
            "Optimiser iterations; 0 keeps the preset's",
        ),
        parameter(
            "seed",
            "int",
            "-1".into(),
            Some(range(limits::SEED)),
            "Seed of the noise start; -1 keeps the preset's",
        ),
        parameter(
            "style_weight",
            "float",
            "-1".into(),
            Some(range(limits::STYLE_WEIGHT)),
            "Style weight (beta); -1 keeps the preset's",
        ),
        parameter(
            "model_seed",
            "int",
            "-1".into(),
            Some(range(limits::SEED)),
            "Seed of the built-in random VGG19; -1 keeps the preset's",
        ),
        parameter(
            "model_path",
            "path",
            "null".into(),
            None,
            "Installed model name (vgg19), builtin, or a VGG19 .onnx / .safetensors file; NULL keeps the preset's",
        ),
        parameter("pooling", "enum", "0".into(), Some(("0".into(), "2".into())), "0 preset's, 1 max, 2 average"),
        parameter("init", "enum", "0".into(), Some(("0".into(), "2".into())), "0 preset's, 1 content, 2 noise"),
        parameter(
            "keep_colours",
            "flag",
            "-1".into(),
            Some(("-1".into(), "1".into())),
            "Luminance-only transfer; -1 preset's",
        ),
        parameter(
            "match_colours",
            "flag",
            "-1".into(),
            Some(("-1".into(), "1".into())),
            "Match style colours; -1 preset's",
        ),
        parameter(
            "scales",
            "int",
            "0".into(),
            Some(range(limits::SCALES)),
            "Coarse-to-fine scales; 0 keeps the preset's",
        ),
        parameter(
            "style_scale",
            "float",
            "0".into(),
            Some(range(limits::STYLE_SCALE)),
            "Style size relative to the output; 0 keeps the preset's",
        ),
        parameter(
            "style_weight_scale",
            "float",
            "0".into(),
            Some(range(limits::STRENGTH)),
            "Strength: multiplies the style weight in use; 0 keeps 1",
        ),
        parameter("style_masks", "images", "null".into(), None, "One grey mask per style image: where it applies"),
        parameter("content_mask", "image", "null".into(), None, "Grey per-pixel content weight (white: full)"),
        parameter(
            "keep_detail",
            "flag",
            "-1".into(),
            Some(("-1".into(), "1".into())),
            "Working smaller than the content: add its fine detail back onto the upscaled result; -1 or 0: plain upscale",
        ),
    ];
    Ok(object(&[
        ("abi_version", NST_ABI_VERSION.to_string()),
        ("version", string(env!("CARGO_PKG_VERSION"))),
        ("filter", string("Neural style transfer (Gatys et al.)")),
        ("parameters", array(&parameters)),
        ("presets", array(&presets)),
        (
            "pixel_formats",
            array(&["gray8", "rgb8", "rgba8", "rgb16", "rgba16", "rgba_f32_linear", "rgba_f32_srgb"].map(string)),
        ),
    ]))
}

/// Writes the filter description as JSON into `buffer`: `abi_version`, `version`, `parameters` (each with
/// `name`, `type`, `default`, `min`/`max` where ranged, `help`), `presets` (each with `name`, `description`,
/// `size`, `iterations`, `style_weight`, `styles`, `model`, `path` (its file), and `model_summary`: what runs
/// with this engine will report as their model, the engine's configured one where it has one; a preset file
/// that does not load has only `name`, `path` and `error`, the message saying why) and `pixel_formats`.
///
/// `*needed` (if `needed` is not NULL) receives the size including the NUL. When `buffer` is NULL or `length` is
/// smaller, returns `NST_BUFFER_TOO_SMALL` and writes nothing: call again with a larger buffer. The caller owns
/// the buffer.
///
/// # Safety
/// `engine` must be a live handle; `buffer` NULL or `length` writable bytes; `needed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_describe(
    engine: *const NstEngine,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> super::NstStatus {
    boundary(|| {
        let engine = engine_ref(engine)?;
        // SAFETY: the buffer rules of this export are copy_out's.
        unsafe { copy_out(&description(&engine)?, buffer, length, needed) }
    })
}

/// Writes the bundled presets as a JSON array, with the fields of the description's `presets` entries, without
/// an engine: listing presets needs no ONNX Runtime. `presets_dir` is a folder, or NULL for the default one
/// (beside the library). Buffer rules as for `nst_engine_describe`.
///
/// # Safety
/// `presets_dir` NULL or NUL-terminated; `buffer` NULL or `length` writable bytes; `needed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_describe_presets(
    presets_dir: *const c_char,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> super::NstStatus {
    boundary(|| {
        let dir = match presets_dir.is_null() {
            true => None,
            // SAFETY: per the caller's contract.
            false => Some(std::path::PathBuf::from(unsafe { required_str(presets_dir, "presets_dir")? })),
        };
        // SAFETY: the buffer rules of this export are copy_out's.
        unsafe { copy_out(&array(&presets_json(dir.as_deref(), None)?), buffer, length, needed) }
    })
}

/// Writes one resolved preset (bundled name, file path or TOML text) as JSON, with the same fields as the
/// description's `presets` entries; buffer rules as for `nst_engine_describe`. A bad preset fails with
/// `NST_PRESET_ERROR` and its message names the file, line and key.
///
/// # Safety
/// As for `nst_engine_describe`; `preset` must be NUL-terminated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_describe_preset(
    engine: *const NstEngine,
    preset: *const c_char,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> super::NstStatus {
    boundary(|| {
        let engine = engine_ref(engine)?;
        // SAFETY: per the caller's contract.
        let preset = unsafe { required_str(preset, "preset")? };
        let resolved = resolve_preset(preset, engine.presets_dir.as_deref())?;
        // SAFETY: the buffer rules of this export are copy_out's.
        unsafe { copy_out(&preset_json(&resolved, None, engine.model.as_ref()), buffer, length, needed) }
    })
}
