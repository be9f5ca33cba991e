//! `nst_stylize`: one run on host pixels, with per-call overrides, progress and cancellation. It checks the
//! arguments, turns views into images and the overrides into a request, and leaves the rest to the engine.

use std::ffi::{c_char, c_void};

use super::boundary::{FfiError, boundary};
use super::engine::{NstEngine, engine_ref};
use super::overrides::{NstOverrides, convert_overrides, masks, preview_at, read_overrides, style_weights};
use super::pixels::{Geometry, NstImage, NstImageMut, check_geometry, read_view, rgba8_preview, write_view};
use super::required_str;
use super::status::NstStatus;
use crate::EngineError;
use crate::detail::upscale_with_content_detail;
use crate::optim::Control;
use crate::request::{EngineDefaults, Request, resolve};
use crate::stylize::Stylized;
use nst_boundary::slice_from_raw;
use nst_sys::limits::NST_STYLE_IMAGES_MAX as MAX_STYLE_IMAGES;

pub use nst_sys::abi::{NstPreviewCallback, NstProgressCallback, NstRunReport};

fn copy_c_string(text: &str, out: &mut [c_char]) {
    let bytes = text.as_bytes();
    let count = bytes.len().min(out.len() - 1);
    for (slot, byte) in out.iter_mut().zip(&bytes[..count]) {
        *slot = *byte as c_char;
    }
    out[count] = 0;
}

/// Fills the host's report from a finished run.
fn fill_report(report: &mut NstRunReport, stylized: &Stylized) {
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
        if style_count > MAX_STYLE_IMAGES {
            return Err(FfiError::invalid(format!("style_count {style_count} is more than {MAX_STYLE_IMAGES}")));
        }
        // SAFETY: per the caller's contract, `styles` has `style_count` views.
        let style_views = unsafe { slice_from_raw(styles, style_count, "styles")? };
        let style_geometries = style_views
            .iter()
            .enumerate()
            .map(|(i, s)| {
                check_geometry(&format!("styles[{i}]"), s.width, s.height, s.stride, s.format, s.pixels.is_null())
            })
            .collect::<Result<Vec<Geometry>, _>>()?;
        // SAFETY: per the caller's contract.
        let raw = unsafe { read_overrides(overrides)? };
        let raw = raw.as_ref();
        check_mask_count(raw, style_count, || {
            Ok(crate::preset::resolve_preset(preset, state.presets_dir.as_deref())?.styles.len())
        })?;
        let request_overrides = match raw {
            // SAFETY: per the caller's contract.
            Some(raw) => unsafe { convert_overrides(raw)? },
            None => Default::default(),
        };
        // SAFETY: per the caller's contract.
        let weights = unsafe { style_weights(raw, style_count)? };
        // SAFETY: per the caller's contract.
        let (style_masks, content_mask) = unsafe { masks(raw)? };

        // Views become images; the engine resolves the rest.
        let host_styles = style_views
            .iter()
            .zip(&style_geometries)
            .zip(weights)
            // SAFETY: geometry checked; the host promises the spans.
            .map(|((view, geometry), weight)| (unsafe { read_view(view.pixels, geometry) }, weight))
            .collect();
        let request = Request {
            preset,
            overrides: request_overrides,
            styles: host_styles,
            style_masks,
            content_mask,
            preview: preview_at(raw),
        };
        let engine_defaults = EngineDefaults {
            presets_dir: state.presets_dir.as_deref(),
            model: state.model.as_ref(),
            memory_budget_mb: state.memory_budget_mb,
        };
        let run = resolve(request, engine_defaults)?;
        // SAFETY: geometry checked; the host promises the span.
        let content_image = unsafe { read_view(content.pixels, &content_geometry) };
        let mut send_preview = |image: &crate::image_io::Planar| {
            let Some((callback, user_data)) = raw.and_then(|raw| raw.preview.map(|c| (c, raw.preview_user_data)))
            else {
                return;
            };
            let rgba = rgba8_preview(image);
            let view = NstImage {
                width: image.width as u32,
                height: image.height as u32,
                stride: image.width * 4,
                format: super::NstPixelFormat::NstRgba8 as u32,
                pixels: rgba.as_ptr().cast(),
            };
            // SAFETY: the host's callback with its own user data; the view lives for the call.
            unsafe { callback(user_data, &view) };
        };
        let mut engine = state.lock()?;
        if state.is_freed() {
            return Err(EngineError::Cancelled.into());
        }
        let stylized = engine.stylize_with_preview(
            &content_image,
            &run.styles,
            &run.settings,
            &mut |p| match progress {
                _ if state.is_freed() => Control::Cancel,
                Some(callback)
                    // SAFETY: the host's callback with its own user data, per the documented contract.
                    if unsafe { callback(user_data, p.iteration as u32, p.total as u32, p.terms.total()) } != 0 =>
                {
                    Control::Cancel
                }
                _ => Control::Continue,
            },
            &mut send_preview,
        )?;
        let image = match run.settings.content_detail {
            true => upscale_with_content_detail(&stylized.image, &content_image),
            false => stylized.image.resized(content_geometry.width, content_geometry.height),
        };
        // SAFETY: both geometries checked and equal in size and format; the host promises the spans.
        unsafe { write_view(&image, output.pixels, &output_geometry, content.pixels, &content_geometry) };
        // SAFETY: per the caller's contract, NULL or writable.
        if let Some(report) = unsafe { report.as_mut() } {
            fill_report(report, &stylized);
        }
        Ok(())
    })
}

/// Refuses a style mask count that differs from the number of style images in use (the host's, else the
/// preset's, counted by `preset_styles`) before the masks array is read: a wrong count would read past it.
fn check_mask_count(
    raw: Option<&NstOverrides>,
    style_count: usize,
    preset_styles: impl FnOnce() -> Result<usize, FfiError>,
) -> Result<(), FfiError> {
    let Some(raw) = raw.filter(|raw| !raw.style_masks.is_null()) else { return Ok(()) };
    let in_use = match style_count {
        0 => preset_styles()?,
        host => host,
    };
    if raw.style_mask_count != in_use {
        return Err(FfiError::invalid(format!(
            "{} style masks for the {in_use} style images in use: give one per style image (overrides.style_mask_count)",
            raw.style_mask_count
        )));
    }
    Ok(())
}
