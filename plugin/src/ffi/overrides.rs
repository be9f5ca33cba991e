//! `NstOverrides` from the host: initialised for its size, read whatever version it has, and converted into
//! the engine's request (each field's one "unset" value, everything else range-checked by the engine).

use std::path::Path;

use nst_onnx::Pooling;

use super::boundary::{FfiError, boundary};
use super::pixels::{NstImage, check_geometry, read_view};
use super::required_str;
use crate::image_io::Planar;
use crate::preset::{InitSpec, Overrides};
use crate::request::PreviewAt;
use crate::stylize::ModelChoice;
use nst_boundary::slice_from_raw;
use nst_sys::limits;

pub use nst_sys::abi::NstOverrides;

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
pub(crate) unsafe fn read_overrides(raw: *const NstOverrides) -> Result<Option<NstOverrides>, FfiError> {
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

/// # Safety
/// `raw` must be a valid `NstOverrides` whose `model_path` is NULL or NUL-terminated.
pub(crate) unsafe fn convert_overrides(raw: &NstOverrides) -> Result<Overrides, FfiError> {
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
    overrides.content_detail = flag(raw.keep_detail, "keep_detail")?;
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

/// The blend weights of the host's `style_count` style images: `style_weights`, or 1 each.
///
/// # Safety
/// `raw.style_weights` must be NULL or point to `style_count` floats.
pub(crate) unsafe fn style_weights(raw: Option<&NstOverrides>, style_count: usize) -> Result<Vec<f32>, FfiError> {
    let weights = match raw.filter(|raw| !raw.style_weights.is_null()) {
        None => return Ok(vec![1.0; style_count]),
        Some(raw) if raw.style_weight_count != 0 && raw.style_weight_count != style_count => {
            return Err(FfiError::invalid(format!(
                "overrides.style_weight_count {} differs from style_count {style_count}",
                raw.style_weight_count
            )));
        }
        // SAFETY: per the caller's contract.
        Some(raw) => unsafe { slice_from_raw(raw.style_weights, style_count, "overrides.style_weights")? },
    };
    if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !limits::is_blend_weight(**w as f64)) {
        return Err(FfiError::invalid(format!(
            "overrides.style_weights[{i}] {w} is outside (0, {}]",
            limits::NST_STYLE_BLEND_MAX
        )));
    }
    Ok(weights.to_vec())
}

/// A host mask view as an image.
///
/// # Safety
/// `view`'s pixels must span `stride * height` bytes.
pub(crate) unsafe fn mask_image(view: &NstImage, name: &str) -> Result<Planar, FfiError> {
    let geometry = check_geometry(name, view.width, view.height, view.stride, view.format, view.pixels.is_null())?;
    // SAFETY: geometry checked; the host promises the span.
    Ok(unsafe { read_view(view.pixels, &geometry) })
}

/// The host's style masks (`None` when it passes none) and content mask.
///
/// # Safety
/// `raw.style_masks` must be NULL or point to `raw.style_mask_count` views, `raw.content_mask` NULL or to one,
/// each spanning its `stride * height` bytes.
pub(crate) unsafe fn masks(raw: Option<&NstOverrides>) -> Result<(Option<Vec<Planar>>, Option<Planar>), FfiError> {
    let Some(raw) = raw else { return Ok((None, None)) };
    let style_masks = match raw.style_masks.is_null() {
        true => None,
        false => {
            // SAFETY: per the caller's contract.
            let views = unsafe { slice_from_raw(raw.style_masks, raw.style_mask_count, "overrides.style_masks")? };
            let masks = views.iter().enumerate().map(|(i, view)| {
                // SAFETY: per the caller's contract.
                unsafe { mask_image(view, &format!("overrides.style_masks[{i}]")) }
            });
            Some(masks.collect::<Result<Vec<_>, _>>()?)
        }
    };
    // SAFETY: per the caller's contract.
    let content_mask = match unsafe { raw.content_mask.as_ref() } {
        // SAFETY: per the caller's contract.
        Some(view) => Some(unsafe { mask_image(view, "overrides.content_mask")? }),
        None => None,
    };
    Ok((style_masks, content_mask))
}

/// When the host wants its preview: never without a callback; 0 leaves it to the preset.
pub(crate) fn preview_at(raw: Option<&NstOverrides>) -> Option<PreviewAt> {
    raw.filter(|raw| raw.preview.is_some()).map(|raw| match raw.preview_iteration {
        0 => PreviewAt::PresetOrDefault,
        n => PreviewAt::Iteration(n as usize),
    })
}
