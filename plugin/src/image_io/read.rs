//! Decoding PNG, JPEG, WebP and TIFF into [`Planar`], with limits against decompression bombs.

use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use super::Planar;
use crate::error::{EngineError, Result};

use nst_sys::limits::{NST_IMAGE_PIXELS_MAX as MAX_PIXELS, NST_IMAGE_SIDE_MAX as MAX_SIDE};

/// Reads an image file; 16-bit sources keep their precision, alpha is kept when present.
pub fn read_image(path: &Path) -> Result<Planar> {
    let origin = path.display().to_string();
    let bytes = nst_files::read_bounded(path, nst_files::FileKind::Image)
        .map_err(|e| EngineError::Image { path: origin.clone(), reason: format!("cannot read: {e}") })?;
    decode_image(&bytes, &origin)
}

/// Decodes an encoded image (`origin` names it in errors). The header's size is checked against the limits
/// before the pixels are allocated, so a small file claiming a huge image is refused cheaply. An EXIF
/// orientation is applied, so a photo comes out upright, as viewers show it, and an ICC profile converts the
/// colours to sRGB, which the network takes.
pub fn decode_image(bytes: &[u8], origin: &str) -> Result<Planar> {
    let fail = |reason: String| EngineError::Image { path: origin.to_string(), reason };
    match nst_files::count_frames(&mut Cursor::new(bytes)) {
        Ok(nst_files::Frames::One) | Err(_) => {}
        Ok(many) => return Err(fail(format!("holds {many}: nst takes one picture; export the frame you want"))),
    }
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| fail(format!("cannot read: {e}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    // 8 bytes a pixel covers 16-bit RGBA, the widest source kept.
    limits.max_alloc = Some(MAX_PIXELS * 8);
    let mut allowance = limits.clone();
    reader.limits(limits);
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => {
            fail(format!("too large: more than {MAX_PIXELS} pixels or {MAX_SIDE} pixels a side ({e})"))
        }
        other => fail(format!("cannot decode: {other}")),
    };
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    // The decoded size the header claims, against the allocation limit, before any pixel is allocated.
    allowance.reserve(decoder.total_bytes()).map_err(decode_error)?;
    // Unreadable metadata is no reason to refuse the pixels: they are then taken as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let profile = decoder.icc_profile().ok().flatten();
    let mut decoded = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    decoded.apply_orientation(orientation);
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    if width == 0 || height == 0 {
        return Err(fail("the image is empty".into()));
    }
    if (width * height) as u64 > MAX_PIXELS {
        return Err(fail(format!("too large: {width}x{height} is more than {MAX_PIXELS} pixels")));
    }
    let has_alpha = decoded.color().has_alpha();
    let grey = !decoded.color().has_color();
    let mut rgba = decoded.into_rgba32f();
    if let Some(icc) = profile.filter(|_| !grey) {
        to_srgb(&mut rgba, &icc).map_err(|e| fail(format!("its colour profile (ICC) cannot be applied: {e}")))?;
    }
    let rgb: Vec<f32> = rgba.pixels().flat_map(|p| [p.0[0], p.0[1], p.0[2]]).collect();
    let alpha = has_alpha.then(|| rgba.pixels().map(|p| p.0[3]).collect());
    Ok(Planar::from_interleaved_rgb(width, height, &rgb, alpha))
}

/// Converts RGBA values (0..=1) from the colours `icc` describes to sRGB, in place; alpha is kept.
fn to_srgb(rgba: &mut image::Rgba32FImage, icc: &[u8]) -> std::result::Result<(), moxcms::CmsError> {
    use moxcms::{ColorProfile, Layout, TransformOptions};
    let transform = ColorProfile::new_from_slice(icc)?.create_transform_f32(
        Layout::Rgba,
        &ColorProfile::new_srgb(),
        Layout::Rgba,
        TransformOptions::default(),
    )?;
    let source = rgba.as_raw().clone();
    transform.transform(&source, rgba.as_mut())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageEncoder;
    use image::codecs::jpeg::JpegEncoder;

    /// A little-endian TIFF header with one IFD entry: Orientation (0x0112), SHORT, 1 value: 6 (the camera was
    /// turned: rotate 90 degrees clockwise to show it).
    const EXIF_ROTATE_90: [u8; 26] =
        [b'I', b'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0];

    #[test]
    fn an_exif_orientation_is_applied() {
        // Stored 32 wide and 16 high, red on the left, blue on the right.
        let pixels: Vec<u8> =
            (0..16 * 32).flat_map(|i| if i % 32 < 16 { [220, 20, 20] } else { [20, 20, 220] }).collect();
        let mut jpeg = Vec::new();
        let mut encoder = JpegEncoder::new_with_quality(&mut jpeg, 95);
        encoder.set_exif_metadata(EXIF_ROTATE_90.to_vec()).unwrap();
        encoder.write_image(&pixels, 32, 16, image::ExtendedColorType::Rgb8).unwrap();
        let upright = decode_image(&jpeg, "turned.jpg").unwrap();
        assert_eq!((upright.width, upright.height), (16, 32));
        // Turned clockwise, the stored left (red) half is on top.
        let plane = 16 * 32;
        let red_minus_blue = |rows: std::ops::Range<usize>| {
            rows.flat_map(|y| (0..16).map(move |x| y * 16 + x))
                .map(|i| upright.rgb[i] - upright.rgb[2 * plane + i])
                .sum::<f32>()
        };
        assert!(red_minus_blue(0..16) > 0.0 && red_minus_blue(16..32) < 0.0);
    }

    #[test]
    fn an_icc_profile_is_converted_to_srgb() {
        use image::codecs::png::PngEncoder;
        let icc = moxcms::ColorProfile::new_pro_photo_rgb().encode().unwrap();
        let mut png = Vec::new();
        let mut encoder = PngEncoder::new(&mut png);
        encoder.set_icc_profile(icc).unwrap();
        encoder.write_image(&[150, 110, 90].repeat(4), 2, 2, image::ExtendedColorType::Rgb8).unwrap();
        let read = decode_image(&png, "prophoto.png").unwrap();
        let plane = 4;
        let srgb = [read.rgb[0], read.rgb[plane], read.rgb[2 * plane]].map(|v| (v * 255.0).round() as i32);
        // ProPhoto (150, 110, 90) is about sRGB (200, 118, 105).
        assert!((srgb[0] - 200).abs() <= 2 && (srgb[1] - 118).abs() <= 2 && (srgb[2] - 105).abs() <= 2, "{srgb:?}");
    }
}
