//! `nst_stylize`: one run on host pixels, with per-call overrides, progress and cancellation.

use std::ffi::{c_char, c_void};
use std::path::Path;

use nst_onnx::Pooling;

use super::boundary::{FfiError, boundary};
use super::engine::{NstEngine, engine_ref};
use super::pixels::{Geometry, NstImage, NstImageMut, check_geometry, read_view, write_view};
use super::required_str;
use super::status::NstStatus;
use crate::EngineError;
use crate::optim::Control;
use crate::preset::{InitSpec, Overrides, resolve_preset};
use crate::stylize::{Init, ModelChoice, SpatialControl};
use nst_sys::limits::{self, NST_STYLE_IMAGES_MAX as MAX_STYLE_IMAGES};

/// Per-call changes to the preset. Initialise with `nst_overrides_init(&overrides, sizeof overrides)`, which
/// sets every field to "keep the preset's" and `struct_size` to the host's size: fields are only ever appended,
/// and a library reads the fields a host's struct has, defaulting the rest.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstOverrides {
    /// `sizeof(NstOverrides)` as the host knows it.
    pub struct_size: usize,
    /// Long side of the working image in pixels, `NST_SIZE_MIN..=NST_SIZE_MAX`; 0 keeps the preset's.
    pub size: u32,
    /// Optimiser iterations, `NST_ITERATIONS_MIN..=NST_ITERATIONS_MAX`; 0 keeps the preset's.
    pub iterations: u32,
    /// Seed of the noise start, 0..=`NST_SEED_MAX`; -1 keeps the preset's (other negatives are refused).
    pub seed: i64,
    /// Style weight (beta), 0..=`NST_STYLE_WEIGHT_MAX`; exactly -1 keeps the preset's (other negatives, NaN and
    /// infinities are refused).
    pub style_weight: f64,
    /// Seed of the built-in random VGG19, 0..=`NST_SEED_MAX` (selects the built-in model); -1 keeps the preset's
    /// (other negatives are refused).
    pub model_seed: i64,
    /// The model, NUL-terminated: an installed model's name (`"vgg19"`, installed by `nst model fetch` into the
    /// models folder: `NST_MODELS`, else the user's data folder), `"builtin"`, or a VGG19 file path (.onnx,
    /// .safetensors or .pth; a path needs a separator or one of those extensions). NULL keeps the preset's.
    pub model_path: *const c_char,
    /// 0 keeps the preset's, 1 max, 2 average.
    pub pooling: u32,
    /// 0 keeps the preset's, 1 content, 2 noise.
    pub init: u32,
    /// Keep the content's colours (luminance-only transfer): 1 yes, 0 no, -1 keeps the preset's.
    pub keep_colours: i32,
    /// Map the style's colour mean and covariance onto the content's: 1 yes, 0 no, -1 keeps the preset's.
    pub match_colours: i32,
    /// Coarse-to-fine scales, 1..=`NST_SCALES_MAX` (1: output size only); 0 keeps the preset's.
    pub scales: u32,
    /// Style image size relative to the output, `NST_STYLE_SCALE_MIN..=NST_STYLE_SCALE_MAX`; exactly 0 keeps the
    /// preset's (negatives, NaN and infinities are refused).
    pub style_scale: f64,
    /// Blend weights of the `styles` passed to `nst_stylize` (`style_count` positive values); NULL blends them
    /// equally. Ignored when the preset's own style images are used.
    pub style_weights: *const f32,
    /// After this iteration (counted over all scales; past the run's last one is refused) `preview` receives the
    /// current result; 0: the preset's `output.preview_at` (the last iteration if the run is shorter), else a
    /// fifth of the iterations (no preview without a `preview` callback).
    pub preview_iteration: u32,
    /// Receives the preview: RGBA8, sRGB, alpha 255, long side at most 256 pixels, the output's aspect. The image
    /// is borrowed for the call only.
    pub preview: NstPreviewCallback,
    /// Passed to `preview`.
    pub preview_user_data: *mut c_void,
    /// Spatial control: `style_mask_count` grey masks over the content (any size and format; white = that
    /// style applies), one per style image in use, in the same order; NULL uses the preset's masks when the
    /// preset's own style images are used, and none otherwise.
    pub style_masks: *const NstImage,
    /// Number of `style_masks` (must equal the number of style images in use).
    pub style_mask_count: usize,
    /// Per-pixel content weight over the content (white: the full content weight, black: none); NULL uses the
    /// preset's `losses.content_mask`, if any.
    pub content_mask: *const NstImage,
    /// Strength: multiplies the style weight in use (the preset's, or `style_weight`), as a host's slider does,
    /// `NST_STRENGTH_MIN..=NST_STRENGTH_MAX`; exactly 0 keeps 1.
    pub style_weight_scale: f64,
    /// Number of `style_weights`, which must equal `style_count` when they are given; 0 (a host built before
    /// this field) takes `style_count`.
    pub style_weight_count: usize,
}

/// Receives an early, low-resolution result (see `NstOverrides.preview`), on the thread running the filter.
pub type NstPreviewCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, preview: *const NstImage)>;

/// What a finished run did.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstRunReport {
    /// Iterations done.
    pub iterations: u32,
    /// Objective evaluations done.
    pub evaluations: u32,
    /// Width the optimisation worked at.
    pub working_width: u32,
    /// Height the optimisation worked at.
    pub working_height: u32,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Final objective.
    pub loss_total: f64,
    /// Final weighted content loss.
    pub loss_content: f64,
    /// Final weighted style loss.
    pub loss_style: f64,
    /// Final weighted total-variation loss.
    pub loss_total_variation: f64,
    /// The execution provider that ran ("cpu", "cuda", "directml"), NUL-terminated.
    pub provider: [c_char; 16],
    /// Which model ran, NUL-terminated (truncated to fit).
    pub model: [c_char; 256],
}

/// Progress callback: called after each iteration with the step (1-based), the total and the current
/// objective. Return 0 to go on, anything else to cancel (the run then returns `NST_CANCELLED` and leaves the
/// output untouched). Called on the thread that called `nst_stylize`.
pub type NstProgressCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, step: u32, total: u32, loss: f64) -> i32>;

/// Every field "keep the preset's", with `struct_size` set to `size`.
fn default_overrides(size: usize) -> NstOverrides {
    NstOverrides {
        struct_size: size,
        size: 0,
        iterations: 0,
        seed: -1,
        style_weight: -1.0,
        model_seed: -1,
        model_path: std::ptr::null(),
        pooling: 0,
        init: 0,
        keep_colours: -1,
        match_colours: -1,
        scales: 0,
        style_scale: 0.0,
        style_weights: std::ptr::null(),
        preview_iteration: 0,
        preview: None,
        preview_user_data: std::ptr::null_mut(),
        style_masks: std::ptr::null(),
        style_mask_count: 0,
        content_mask: std::ptr::null(),
        style_weight_scale: 0.0,
        style_weight_count: 0,
    }
}

/// The smallest `NstOverrides` accepted: the fields up to `preview_user_data`.
const OLDEST_OVERRIDES_SIZE: usize = std::mem::offset_of!(NstOverrides, style_masks);

/// Sets every field of the host's `NstOverrides` to "keep the preset's" and its `struct_size` to
/// `struct_size`, writing no more than `struct_size` bytes: pass `sizeof(NstOverrides)` as the host knows it,
/// so a host built against an older header (a smaller struct) is never written past its end, and later
/// fields take their defaults.
///
/// # Safety
/// `overrides` must be NULL (ignored) or point to `struct_size` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_overrides_init(overrides: *mut NstOverrides, struct_size: usize) {
    boundary(|| {
        if !overrides.is_null() {
            let value = default_overrides(struct_size);
            let count = struct_size.min(std::mem::size_of::<NstOverrides>());
            // SAFETY: checked non-null; the caller gives `struct_size` writable bytes and `count` is no more.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    (&value as *const NstOverrides).cast::<u8>(),
                    overrides.cast::<u8>(),
                    count,
                )
            };
        }
        Ok(())
    });
}

/// The host's overrides completed with defaults for the fields its (possibly older, smaller) struct lacks.
///
/// # Safety
/// `raw` must be NULL or point to an `NstOverrides` of at least its `struct_size` bytes.
unsafe fn read_overrides(raw: *const NstOverrides) -> Result<Option<NstOverrides>, FfiError> {
    if raw.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null; `struct_size` is the first field of every version.
    let size = unsafe { raw.cast::<usize>().read_unaligned() };
    if size < OLDEST_OVERRIDES_SIZE {
        return Err(FfiError::invalid(format!(
            "overrides.struct_size {size} is smaller than any NstOverrides ({OLDEST_OVERRIDES_SIZE} bytes): call \
             nst_overrides_init(&overrides, sizeof overrides)"
        )));
    }
    let mut full = default_overrides(size);
    let count = size.min(std::mem::size_of::<NstOverrides>());
    // SAFETY: the host's struct has `size` readable bytes and `count` is no more; every field is plain data.
    unsafe { std::ptr::copy_nonoverlapping(raw.cast::<u8>(), (&mut full as *mut NstOverrides).cast::<u8>(), count) };
    Ok(Some(full))
}

fn copy_c_string(text: &str, out: &mut [c_char]) {
    let bytes = text.as_bytes();
    let count = bytes.len().min(out.len() - 1);
    for (slot, byte) in out.iter_mut().zip(&bytes[..count]) {
        *slot = *byte as c_char;
    }
    out[count] = 0;
}

/// # Safety
/// `raw` must be a valid `NstOverrides` whose `model_path` is NULL or NUL-terminated.
unsafe fn convert_overrides(raw: &NstOverrides) -> Result<Overrides, FfiError> {
    let mut overrides = Overrides {
        size: (raw.size != 0).then_some(raw.size as usize),
        iterations: (raw.iterations != 0).then_some(raw.iterations as usize),
        seed: unset_or_seed(raw.seed, "seed")?,
        style_weight: unset_or_value(raw.style_weight, -1.0, "style_weight")?,
        scales: (raw.scales != 0).then_some(raw.scales as usize),
        style_scale: unset_or_value(raw.style_scale, 0.0, "style_scale")?,
        strength: unset_or_value(raw.style_weight_scale, 0.0, "style_weight_scale")?,
        ..Overrides::default()
    };
    if let Some(seed) = unset_or_seed(raw.model_seed, "model_seed")? {
        overrides.model = Some(ModelChoice::BuiltIn { seed });
    }
    if !raw.model_path.is_null() {
        // SAFETY: per the caller's contract.
        let reference = unsafe { required_str(raw.model_path, "overrides.model_path")? };
        let seed = raw.model_seed.max(0) as u64;
        overrides.model = Some(ModelChoice::from_reference(reference, seed, Path::new(""))?);
    }
    overrides.pooling = match raw.pooling {
        0 => None,
        1 => Some(Pooling::Max),
        2 => Some(Pooling::Average),
        other => return Err(FfiError::invalid(format!("overrides.pooling {other} is not 0, 1 or 2"))),
    };
    let flag = |value: i32, name: &str| match value {
        -1 => Ok(None),
        0 => Ok(Some(false)),
        1 => Ok(Some(true)),
        other => Err(FfiError::invalid(format!("overrides.{name} {other} is not -1, 0 or 1"))),
    };
    overrides.keep_colours = flag(raw.keep_colours, "keep_colours")?;
    overrides.match_colours = flag(raw.match_colours, "match_colours")?;
    overrides.init = match raw.init {
        0 => None,
        1 => Some(InitSpec::Content),
        2 => Some(InitSpec::Noise),
        other => return Err(FfiError::invalid(format!("overrides.init {other} is not 0, 1 or 2"))),
    };
    Ok(overrides)
}

/// A seed field: -1 is unset, anything else must be a seed (0 or more).
fn unset_or_seed(value: i64, name: &str) -> Result<Option<u64>, FfiError> {
    match value {
        -1 => Ok(None),
        v if v >= 0 => Ok(Some(v as u64)),
        v => {
            Err(FfiError::invalid(format!("overrides.{name} {v} is neither -1 (the preset's) nor a seed (0 or more)")))
        }
    }
}

/// A real-valued field: exactly `unset` keeps the preset's; any other value, NaN and infinities included, is
/// passed on to be range-checked.
fn unset_or_value(value: f64, unset: f64, name: &str) -> Result<Option<f64>, FfiError> {
    if value == unset {
        return Ok(None);
    }
    if !value.is_finite() {
        return Err(FfiError::invalid(format!(
            "overrides.{name} is {value}: give a finite value, or {unset} for the preset's"
        )));
    }
    Ok(Some(value))
}

/// A host mask view as an image.
///
/// # Safety
/// `view`'s pixels must span `stride * height` bytes.
unsafe fn mask_image(view: &NstImage, name: &str) -> Result<crate::image_io::Planar, FfiError> {
    let geometry = check_geometry(name, view.width, view.height, view.stride, view.format, view.pixels.is_null())?;
    // SAFETY: geometry checked; the host promises the span.
    Ok(unsafe { read_view(view.pixels, &geometry) })
}

/// The run's masks: the host's, else the preset's (style masks only with the preset's own style images).
///
/// # Safety
/// `raw.style_masks` must point to `raw.style_mask_count` views, `raw.content_mask` to one, or be NULL.
unsafe fn spatial_control(
    raw: Option<&NstOverrides>,
    preset: &crate::preset::Preset,
    preset_styles: bool,
    style_count: usize,
) -> Result<SpatialControl, FfiError> {
    let mut spatial = SpatialControl::default();
    match raw.filter(|raw| !raw.style_masks.is_null()) {
        Some(raw) => {
            if raw.style_mask_count != style_count {
                return Err(FfiError::invalid(format!(
                    "overrides.style_mask_count {} differs from the {style_count} style images in use",
                    raw.style_mask_count
                )));
            }
            // SAFETY: per the caller's contract.
            let views = unsafe { std::slice::from_raw_parts(raw.style_masks, raw.style_mask_count) };
            for (i, view) in views.iter().enumerate() {
                // SAFETY: per the caller's contract.
                spatial.style_masks.push(unsafe { mask_image(view, &format!("overrides.style_masks[{i}]"))? });
            }
        }
        None if preset_styles => {
            for path in &preset.style_masks {
                spatial.style_masks.push(crate::image_io::read_image(path)?);
            }
        }
        None => {}
    }
    // SAFETY: per the caller's contract.
    match raw.and_then(|raw| unsafe { raw.content_mask.as_ref() }) {
        // SAFETY: per the caller's contract.
        Some(view) => spatial.content_mask = Some(unsafe { mask_image(view, "overrides.content_mask")? }),
        None => spatial.content_mask = preset.content_mask.as_deref().map(crate::image_io::read_image).transpose()?,
    }
    Ok(spatial)
}

/// Stylizes `content` into `output` with a preset.
///
/// - `preset`: a bundled preset name, a preset file path, or preset TOML text.
/// - `overrides`: NULL, or per-call changes (see `NstOverrides`).
/// - `styles`/`style_count`: style images replacing the preset's (blended equally); NULL and 0 use the
///   preset's style images.
/// - `output`: same width, height and format as `content` (its stride may differ). Colour is written; alpha is
///   copied unchanged from `content`. Written only on success.
/// - `progress`/`user_data`: optional callback (see `NstProgressCallback`).
/// - `report`: NULL, or receives what ran (provider, model, time, losses).
///
/// Every argument is checked before any work: NULL pointers, zero or huge sizes, a stride smaller than a row,
/// an output whose geometry differs from the content's, and unknown formats are refused with their own status
/// and a message naming the argument. All pointers are borrowed for the call only.
///
/// # Safety
/// Every non-NULL pointer must be valid for the access its documentation implies: image pixels must span
/// `stride * height` bytes (writable for `output`), `styles` must point to `style_count` images.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_stylize(
    engine: *mut NstEngine,
    preset: *const c_char,
    overrides: *const NstOverrides,
    content: *const NstImage,
    styles: *const NstImage,
    style_count: usize,
    output: *const NstImageMut,
    progress: NstProgressCallback,
    user_data: *mut c_void,
    report: *mut NstRunReport,
) -> NstStatus {
    boundary(|| {
        // Check every argument before any work.
        let state = engine_ref(engine)?;
        // SAFETY: per the caller's contract.
        let preset = unsafe { required_str(preset, "preset")? };
        // SAFETY: per the caller's contract.
        let content = unsafe { content.as_ref() }.ok_or_else(|| FfiError::null("content"))?;
        // SAFETY: per the caller's contract.
        let output = unsafe { output.as_ref() }.ok_or_else(|| FfiError::null("output"))?;
        let content_geometry = check_geometry(
            "content",
            content.width,
            content.height,
            content.stride,
            content.format,
            content.pixels.is_null(),
        )?;
        let output_geometry = check_geometry(
            "output",
            output.width,
            output.height,
            output.stride,
            output.format,
            output.pixels.is_null(),
        )?;
        if (output.width, output.height, output.format) != (content.width, content.height, content.format) {
            return Err(FfiError::invalid(format!(
                "output is {}x{} in format {}, content is {}x{} in format {}: they must match",
                output.width, output.height, output.format, content.width, content.height, content.format
            )));
        }
        if styles.is_null() && style_count > 0 {
            return Err(FfiError::null("styles"));
        }
        if style_count > MAX_STYLE_IMAGES {
            return Err(FfiError::invalid(format!("style_count {style_count} is more than {MAX_STYLE_IMAGES}")));
        }
        let style_views: &[NstImage] =
            // SAFETY: non-null with `style_count` elements per the caller's contract.
            if style_count == 0 { &[] } else { unsafe { std::slice::from_raw_parts(styles, style_count) } };
        let style_geometries = style_views
            .iter()
            .enumerate()
            .map(|(i, s)| {
                check_geometry(&format!("styles[{i}]"), s.width, s.height, s.stride, s.format, s.pixels.is_null())
            })
            .collect::<Result<Vec<Geometry>, _>>()?;
        // SAFETY: per the caller's contract.
        let raw_overrides = unsafe { read_overrides(overrides)? };
        let raw_overrides = raw_overrides.as_ref();
        let mut overrides = match raw_overrides {
            None => Overrides::default(),
            // SAFETY: per the caller's contract.
            Some(raw) => unsafe { convert_overrides(raw)? },
        };
        let style_weights: Vec<f32> = match raw_overrides.filter(|raw| !raw.style_weights.is_null()) {
            None => vec![1.0; style_count],
            Some(raw) if raw.style_weight_count != 0 && raw.style_weight_count != style_count => {
                return Err(FfiError::invalid(format!(
                    "overrides.style_weight_count {} differs from style_count {style_count}",
                    raw.style_weight_count
                )));
            }
            // SAFETY: per the documented contract, `style_count` floats.
            Some(raw) => unsafe { std::slice::from_raw_parts(raw.style_weights, style_count) }.to_vec(),
        };
        if let Some((i, w)) = style_weights.iter().enumerate().find(|(_, w)| !limits::is_blend_weight(**w as f64)) {
            return Err(FfiError::invalid(format!(
                "overrides.style_weights[{i}] {w} is outside (0, {}]",
                limits::NST_STYLE_BLEND_MAX
            )));
        }
        // The engine's configured model applies unless the call names one.
        if overrides.model.is_none() {
            overrides.model = state.model.clone();
        }

        // Resolve the preset and its images.
        let mut resolved = resolve_preset(preset, state.presets_dir.as_deref())?;
        overrides.apply(&mut resolved)?;
        // SAFETY: geometry checked; the host promises the spans.
        let content_image = unsafe { read_view(content.pixels, &content_geometry) };
        let style_images = if style_views.is_empty() {
            resolved
                .styles
                .iter()
                .map(|(path, w)| Ok((crate::image_io::read_image(path)?, *w)))
                .collect::<crate::Result<Vec<_>>>()?
        } else {
            // SAFETY: geometry checked; the host promises the spans.
            style_views
                .iter()
                .zip(&style_geometries)
                .zip(&style_weights)
                .map(|((v, g), w)| (unsafe { read_view(v.pixels, g) }, *w))
                .collect()
        };
        if style_images.is_empty() {
            return Err(FfiError::invalid("no style image: the preset lists none and `styles` is empty"));
        }
        let mut settings = resolved.settings.clone();
        // SAFETY: per the caller's contract, `style_masks` has `style_mask_count` views.
        settings.spatial =
            unsafe { spatial_control(raw_overrides, &resolved, style_views.is_empty(), style_images.len())? };
        settings.init = match &resolved.init {
            InitSpec::Content => Init::Content,
            InitSpec::Noise => Init::Noise,
            InitSpec::Image(path) => Init::Image(crate::image_io::read_image(path)?),
        };

        let preview_to = raw_overrides.filter(|raw| raw.preview.is_some());
        settings.preview_iteration = preview_to.map(|raw| match raw.preview_iteration {
            // The preset's `output.preview_at` may lie past a run shortened by `iterations`: the preview then
            // comes after the last iteration. An iteration the host names is taken as named, and checked.
            0 => settings.preview_iteration.unwrap_or((settings.iterations / 5).max(1)).min(settings.iterations),
            n => n as usize,
        });
        let mut send_preview = |image: &crate::image_io::Planar| {
            let Some(raw) = preview_to else { return };
            let rgba: Vec<u8> = image
                .to_interleaved_rgb()
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2]].map(|v| (v * 255.0).round() as u8).into_iter().chain([255u8]))
                .collect();
            let view = NstImage {
                width: image.width as u32,
                height: image.height as u32,
                stride: image.width * 4,
                format: super::NstPixelFormat::NstRgba8 as u32,
                pixels: rgba.as_ptr().cast(),
            };
            if let Some(callback) = raw.preview {
                // SAFETY: the host's callback with its own user data; the view lives for the call.
                unsafe { callback(raw.preview_user_data, &view) };
            }
        };
        let mut engine = state.lock()?;
        if state.is_freed() {
            return Err(EngineError::Cancelled.into());
        }
        let stylized = engine.stylize_with_preview(
            &content_image,
            &style_images,
            &settings,
            &mut |p| match progress {
                _ if state.is_freed() => Control::Cancel,
                // SAFETY: the host's callback with its own user data, per the documented contract.
                Some(callback)
                    if unsafe { callback(user_data, p.iteration as u32, p.total as u32, p.terms.total()) } != 0 =>
                {
                    Control::Cancel
                }
                _ => Control::Continue,
            },
            &mut send_preview,
        )?;
        let image = stylized.image.resized(content_geometry.width, content_geometry.height);
        // SAFETY: both geometries checked and equal in size and format; the host promises the spans.
        unsafe { write_view(&image, output.pixels, &output_geometry, content.pixels, &content_geometry) };
        // SAFETY: per the caller's contract, NULL or writable.
        if let Some(report) = unsafe { report.as_mut() } {
            let terms = stylized.terms;
            report.iterations = stylized.iterations as u32;
            report.evaluations = stylized.evaluations as u32;
            report.working_width = stylized.working_size.0 as u32;
            report.working_height = stylized.working_size.1 as u32;
            report.seconds = stylized.seconds;
            report.loss_total = terms.total();
            report.loss_content = terms.content;
            report.loss_style = terms.style;
            report.loss_total_variation = terms.total_variation;
            copy_c_string(stylized.provider.name(), &mut report.provider);
            copy_c_string(&stylized.model, &mut report.model);
        }
        Ok(())
    })
}
