//! Image views from the host as the engine's images: the conversions themselves are `nst_boundary`'s.

use std::ffi::c_void;

use crate::image_io::Planar;
pub(crate) use nst_boundary::{Geometry, check_geometry};
pub use nst_sys::abi::{NstImage, NstImageMut, NstPixelFormat};

/// An engine preview as the host receives it: RGBA8, sRGB, alpha 255.
pub(crate) fn rgba8_preview(image: &Planar) -> Vec<u8> {
    image
        .to_interleaved_rgb()
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2]].map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).into_iter().chain([255u8]))
        .collect()
}

/// Converts a host image to the engine's planar sRGB floats (see [`nst_boundary::read_view`]).
///
/// # Safety
/// `pixels` must span `g.stride * g.height` readable bytes.
pub(crate) unsafe fn read_view(pixels: *const c_void, g: &Geometry) -> Planar {
    // SAFETY: forwarded from the caller.
    let planes = unsafe { nst_boundary::read_view(pixels, g) };
    Planar { width: g.width, height: g.height, rgb: planes.rgb, alpha: planes.alpha }
}

/// Writes `image` (same size as the view) into a host buffer (see [`nst_boundary::write_view`]).
///
/// # Safety
/// As [`nst_boundary::write_view`].
pub(crate) unsafe fn write_view(
    image: &Planar,
    out: *mut c_void,
    g: &Geometry,
    alpha_source: *const c_void,
    source: &Geometry,
) {
    // SAFETY: forwarded from the caller.
    unsafe { nst_boundary::write_view(&image.rgb, out, g, alpha_source, source) }
}
