//! Host pixel views: geometry checks, and conversion to and from planar sRGB floats, the engine's images.

use std::ffi::c_void;

use crate::FfiError;
use nst_sys::abi::{NstPixelFormat, NstStatus};
use nst_sys::limits::{NST_IMAGE_PIXELS_MAX as MAX_PIXELS, NST_IMAGE_SIDE_MAX};

/// A view read into planes: R, G and B of `width x height` floats each in [0, 1], sRGB-encoded, and alpha
/// when the format has one.
#[derive(Debug, Clone, PartialEq)]
pub struct Planes {
    /// The R plane, then G, then B.
    pub rgb: Vec<f32>,
    /// Alpha in [0, 1], if the format has it.
    pub alpha: Option<Vec<f32>>,
}

/// A checked view: the geometry is valid and `pixels` spans `stride * height` bytes (the host's promise).
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Pixels a row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// The pixel format.
    pub format: NstPixelFormat,
}

/// The geometry of the view `name` (`width x height`, `stride` bytes a row, `format` as passed; `null`: its
/// pixels pointer is NULL), checked against the ABI's limits before any pixel is read.
pub fn check_geometry(
    name: &str,
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    null: bool,
) -> Result<Geometry, FfiError> {
    if null {
        return Err(FfiError::null(&format!("{name}.pixels")));
    }
    let format = NstPixelFormat::from_raw(format).ok_or_else(|| {
        FfiError::new(
            NstStatus::NstUnsupportedFormat,
            format!("{name}.format {format} is not an NstPixelFormat (1..=7)"),
        )
    })?;
    if width == 0 || height == 0 {
        return Err(FfiError::invalid(format!("{name} is {width}x{height}: both sides must be at least 1")));
    }
    if width.max(height) > NST_IMAGE_SIDE_MAX {
        return Err(FfiError::new(
            NstStatus::NstImageTooLarge,
            format!("{name} is {width}x{height}: a side is longer than the {NST_IMAGE_SIDE_MAX} pixels accepted"),
        ));
    }
    if width as u64 * height as u64 > MAX_PIXELS {
        return Err(FfiError::new(
            NstStatus::NstImageTooLarge,
            format!("{name} is {width}x{height}: more than the {MAX_PIXELS} pixels accepted"),
        ));
    }
    let row = width as usize * format.channels() * format.bytes_per_channel();
    if stride < row {
        return Err(FfiError::invalid(format!(
            "{name}.stride {stride} is smaller than a row ({row} bytes for width {width})"
        )));
    }
    if stride.checked_mul(height as usize).is_none() {
        return Err(FfiError::new(NstStatus::NstImageTooLarge, format!("{name}: stride x height overflows")));
    }
    Ok(Geometry { width: width as usize, height: height as usize, stride, format })
}

fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 { v / 12.92 } else { ((v + 0.055) / 1.055).powf(2.4) }
}

fn linear_to_srgb(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    if v <= 0.003_130_8 { v * 12.92 } else { 1.055 * v.powf(1.0 / 2.4) - 0.055 }
}

/// Reads channel `c` of pixel `x` in row `y`, as a float in [0, 1] of the view's own encoding.
///
/// # Safety
/// `base` must span `stride * height` bytes of a view with geometry `g`.
unsafe fn read_channel(base: *const u8, g: &Geometry, x: usize, y: usize, c: usize) -> f32 {
    let bytes = g.format.bytes_per_channel();
    let offset = y * g.stride + (x * g.format.channels() + c) * bytes;
    // SAFETY: the offset is inside the view (x < width, y < height, c < channels); unaligned reads are used
    // because hosts may pass any alignment.
    unsafe {
        let at = base.add(offset);
        match bytes {
            1 => *at as f32 / 255.0,
            2 => at.cast::<u16>().read_unaligned() as f32 / 65535.0,
            _ => at.cast::<f32>().read_unaligned(),
        }
    }
}

/// # Safety
/// As [`read_channel`], writable.
unsafe fn write_channel(base: *mut u8, g: &Geometry, x: usize, y: usize, c: usize, value: f32) {
    let bytes = g.format.bytes_per_channel();
    let offset = y * g.stride + (x * g.format.channels() + c) * bytes;
    // SAFETY: as in read_channel; the host gave a writable buffer.
    unsafe {
        let at = base.add(offset);
        match bytes {
            1 => *at = (value.clamp(0.0, 1.0) * 255.0).round() as u8,
            2 => at.cast::<u16>().write_unaligned((value.clamp(0.0, 1.0) * 65535.0).round() as u16),
            _ => at.cast::<f32>().write_unaligned(value),
        }
    }
}

/// Converts a host image to planar sRGB floats (grey is spread to R, G, B).
///
/// # Safety
/// `pixels` must span `g.stride * g.height` readable bytes.
pub unsafe fn read_view(pixels: *const c_void, g: &Geometry) -> Planes {
    let base = pixels.cast::<u8>();
    let plane = g.width * g.height;
    let mut rgb = vec![0.0f32; 3 * plane];
    let mut alpha = g.format.has_alpha().then(|| vec![0.0f32; plane]);
    let linear = g.format == NstPixelFormat::NstRgbaF32Linear;
    for y in 0..g.height {
        for x in 0..g.width {
            let i = y * g.width + x;
            for c in 0..3 {
                let source = if g.format.channels() == 1 { 0 } else { c };
                // SAFETY: forwarded from the caller.
                let v = unsafe { read_channel(base, g, x, y, source) };
                rgb[c * plane + i] = if linear { linear_to_srgb(v) } else { v.clamp(0.0, 1.0) };
            }
            if let Some(alpha) = alpha.as_mut() {
                // SAFETY: forwarded from the caller.
                alpha[i] = unsafe { read_channel(base, g, x, y, 3) };
            }
        }
    }
    Planes { rgb, alpha }
}

/// Writes the planes `rgb` (three of the view's size) into a host buffer; the alpha channel is copied
/// unchanged from `alpha_source` (the content view, same geometry), so it passes through untouched.
///
/// # Safety
/// `out` must span `g.stride * g.height` writable bytes and `alpha_source` as many readable bytes of geometry
/// `source`.
pub unsafe fn write_view(rgb: &[f32], out: *mut c_void, g: &Geometry, alpha_source: *const c_void, source: &Geometry) {
    let base = out.cast::<u8>();
    let plane = g.width * g.height;
    assert_eq!(rgb.len(), 3 * plane, "three planes of the view's size");
    let linear = g.format == NstPixelFormat::NstRgbaF32Linear;
    for y in 0..g.height {
        for x in 0..g.width {
            let i = y * g.width + x;
            let [r, g_, b] = [rgb[i], rgb[plane + i], rgb[2 * plane + i]].map(|v| v.clamp(0.0, 1.0));
            // SAFETY: forwarded from the caller; x, y and c are within the geometry.
            unsafe {
                if g.format.channels() == 1 {
                    write_channel(base, g, x, y, 0, 0.2126 * r + 0.7152 * g_ + 0.0722 * b);
                    continue;
                }
                for (c, v) in [r, g_, b].into_iter().enumerate() {
                    write_channel(base, g, x, y, c, if linear { srgb_to_linear(v) } else { v });
                }
                if g.format.has_alpha() {
                    let bytes = g.format.bytes_per_channel();
                    let from = alpha_source.cast::<u8>().add(y * source.stride + (x * 4 + 3) * bytes);
                    let to = base.add(y * g.stride + (x * 4 + 3) * bytes);
                    std::ptr::copy_nonoverlapping(from, to, bytes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trips() {
        for i in 0..=100 {
            let v = i as f32 / 100.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-5);
        }
    }

    /// Host bytes of one pixel per format, with the sRGB-encoded values the engine must read from them.
    fn known_pixels() -> Vec<(NstPixelFormat, Vec<u8>, [f32; 3])> {
        let f32s = |values: [f32; 4]| values.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>();
        let u16s = |values: &[u16]| values.iter().flat_map(|v| v.to_ne_bytes()).collect::<Vec<u8>>();
        vec![
            (NstPixelFormat::NstGray8, vec![51], [0.2; 3]),
            (NstPixelFormat::NstRgb8, vec![255, 0, 51], [1.0, 0.0, 0.2]),
            (NstPixelFormat::NstRgba8, vec![0, 102, 255, 7], [0.0, 0.4, 1.0]),
            (NstPixelFormat::NstRgb16, u16s(&[65535, 0, 13107]), [1.0, 0.0, 0.2]),
            (NstPixelFormat::NstRgba16, u16s(&[0, 26214, 65535, 9]), [0.0, 0.4, 1.0]),
            // Linear 0.214041 is sRGB 0.5 (the sRGB curve); linear 1 and 0 are themselves.
            (NstPixelFormat::NstRgbaF32Linear, f32s([0.214_041_14, 1.0, 0.0, 0.25]), [0.5, 1.0, 0.0]),
            (NstPixelFormat::NstRgbaF32Srgb, f32s([0.5, 0.25, 0.75, 0.5]), [0.5, 0.25, 0.75]),
        ]
    }

    #[test]
    fn every_pixel_format_reads_the_exact_value_and_writes_it_back_byte_for_byte() {
        for (format, bytes, expected) in known_pixels() {
            let geometry = Geometry { width: 1, height: 1, stride: bytes.len(), format };
            // SAFETY: one pixel of `bytes.len()` bytes.
            let image = unsafe { read_view(bytes.as_ptr().cast(), &geometry) };
            for (c, want) in expected.iter().enumerate() {
                let got = image.rgb[c];
                assert!((got - want).abs() < 1e-6, "{format:?} channel {c}: read {got}, expected {want}");
            }
            let mut out = vec![0xEEu8; bytes.len()];
            // SAFETY: same one-pixel geometry for both views.
            unsafe { write_view(&image.rgb, out.as_mut_ptr().cast(), &geometry, bytes.as_ptr().cast(), &geometry) };
            if format == NstPixelFormat::NstRgbaF32Linear {
                // Linear -> sRGB -> linear goes through two curves: equal to float precision, not to the bit.
                let back: Vec<f32> = out.chunks(4).map(|b| f32::from_ne_bytes(b.try_into().unwrap())).collect();
                let sent: Vec<f32> = bytes.chunks(4).map(|b| f32::from_ne_bytes(b.try_into().unwrap())).collect();
                for (b, s) in back.iter().zip(&sent) {
                    assert!((b - s).abs() < 1e-6, "{format:?}: wrote {back:?}, sent {sent:?}");
                }
            } else {
                assert_eq!(out, bytes, "{format:?}: wrote back other bytes");
            }
        }
    }

    #[test]
    fn grey_output_is_the_luma_of_the_result() {
        let geometry = Geometry { width: 1, height: 1, stride: 1, format: NstPixelFormat::NstGray8 };
        let rgb = [1.0, 0.0, 0.0];
        let mut out = [0u8];
        let source = [0u8];
        // SAFETY: one-pixel views.
        unsafe { write_view(&rgb, out.as_mut_ptr().cast(), &geometry, source.as_ptr().cast(), &geometry) };
        assert_eq!(out[0], (0.2126f32 * 255.0).round() as u8);
    }

    #[test]
    fn unknown_formats_are_refused() {
        assert_eq!(NstPixelFormat::from_raw(0), None);
        assert_eq!(NstPixelFormat::from_raw(8), None);
        assert_eq!(NstPixelFormat::from_raw(3), Some(NstPixelFormat::NstRgba8));
    }
}
