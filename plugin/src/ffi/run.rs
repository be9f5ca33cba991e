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

pub use nst_sys::abi::{NstOverrides, NstPreviewCallback, NstProgressCallback, NstRunReport};

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
            let value = NstOverrides::unset(struct_size);
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
    let oldest = NstOverrides::OLDEST_SIZE;
    if size < oldest {
        return Err(FfiError::invalid(format!(
            "overrides.struct_size {size} is smaller than any NstOverrides ({oldest} bytes): call \
             nst_overrides_init(&overrides, sizeof overrides)"
        )));
    }
    let mut full = NstOverrides::unset(size);
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
