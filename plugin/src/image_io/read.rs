//! Decoding PNG, JPEG, WebP and TIFF into [`Planar`], with limits against decompression bombs.

use std::io::Cursor;
use std::path::Path;

use image::{ImageReader, Limits};

use super::Planar;
use crate::error::{EngineError, Result};

/// Largest image accepted, in pixels (width x height).
pub const MAX_PIXELS: u64 = 100_000_000;
/// Largest side accepted, in pixels.
const MAX_SIDE: u32 = 65_535;

/// Reads an image file; 16-bit sources keep their precision, alpha is kept when present.
pub fn read_image(path: &Path) -> Result<Planar> {
    let origin = path.display().to_string();
    let bytes = std::fs::read(path)
        .map_err(|e| EngineError::Image { path: origin.clone(), reason: format!("cannot read: {e}") })?;
    decode_image(&bytes, &origin)
}

/// Decodes an encoded image (`origin` names it in errors). The header's size is checked against the limits
/// before the pixels are allocated, so a small file claiming a huge image is refused cheaply.
pub fn decode_image(bytes: &[u8], origin: &str) -> Result<Planar> {
    let fail = |reason: String| EngineError::Image { path: origin.to_string(), reason };
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // 8 bytes a pixel covers 16-bit RGBA, the widest source kept.
    limits.max_alloc = Some(MAX_PIXELS * 8);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => {
            fail(format!("too large: more than {MAX_PIXELS} pixels or {MAX_SIDE} pixels a side ({e})"))
        }
        other => fail(format!("cannot decode: {other}")),
    })?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    if width == 0 || height == 0 {
        return Err(fail("the image is empty".into()));
    }
    if (width * height) as u64 > MAX_PIXELS {
        return Err(fail(format!("too large: {width}x{height} is more than {MAX_PIXELS} pixels")));
    }
    let has_alpha = decoded.color().has_alpha();
    let rgba = decoded.into_rgba32f();
    let rgb: Vec<f32> = rgba.pixels().flat_map(|p| [p.0[0], p.0[1], p.0[2]]).collect();
    let alpha = has_alpha.then(|| rgba.pixels().map(|p| p.0[3]).collect());
    Ok(Planar::from_interleaved_rgb(width, height, &rgb, alpha))
}
