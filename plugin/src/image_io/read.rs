//! Decoding PNG, JPEG, WebP and TIFF into [`Planar`], with limits against decompression bombs.

use std::io::Cursor;
use std::path::Path;

use super::Planar;
use crate::error::{EngineError, Result};

use nst_sys::limits::NST_IMAGE_PIXELS_MAX as MAX_PIXELS;

/// Bytes a pixel costs beside its decoded pixels while it becomes a [`Planar`]: RGBA floats, the RGB floats
/// and the planes (RGB and alpha).
const PLANAR_BYTES_PER_PIXEL: u64 = 44;

/// Reads an image file; 16-bit sources keep their precision, alpha is kept when present.
pub fn read_image(path: &Path) -> Result<Planar> {
    read_image_within(path, None)
}

/// Reads an image file as [`read_image`] does, refusing one whose reading would need more than `budget_mib`
/// MiB (`None`: no budget), before any pixel is decoded.
pub fn read_image_within(path: &Path, budget_mib: Option<f64>) -> Result<Planar> {
    let origin = path.display().to_string();
    let bytes = nst_files::read_bounded(path, nst_files::FileKind::Image)
        .map_err(|e| EngineError::Image { path: origin.clone(), reason: format!("cannot read: {e}") })?;
    decode_image_within(&bytes, &origin, budget_mib)
}

/// Decodes an encoded image (`origin` names it in errors), with no memory budget (see
/// [`decode_image_within`]).
pub fn decode_image(bytes: &[u8], origin: &str) -> Result<Planar> {
    decode_image_within(bytes, origin, None)
}

/// Decodes an encoded image (`origin` names it in errors) within the limits and `budget_mib`, as
/// [`nst_files::decode_within`] does: a small file claiming a huge image is refused before its pixels are
/// allocated, and float pixels must be finite. The picture comes out upright, and an RGB ICC profile converts
/// its colours to sRGB, which the network takes (grey and CMYK pixels are taken as decoded).
pub fn decode_image_within(bytes: &[u8], origin: &str, budget_mib: Option<f64>) -> Result<Planar> {
    let fail = |reason: String| EngineError::Image { path: origin.to_string(), reason };
    let budget = nst_files::DecodeBudget {
        pixels_max: Some(MAX_PIXELS),
        decoded_copies: 1,
        bytes_per_pixel: PLANAR_BYTES_PER_PIXEL,
        budget_mib,
    };
    let nst_files::Decoded { image: decoded, icc: profile } =
        nst_files::decode_within(Cursor::new(bytes), &budget).map_err(fail)?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    if width == 0 || height == 0 {
        return Err(fail("the image is empty".into()));
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
    use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
    let profile = ColorProfile::new_from_slice(icc)?;
    // A CMYK image's pixels are RGB already, converted by the decoder: its profile no longer applies.
    if profile.color_space != DataColorSpace::Rgb {
        return Ok(());
    }
    let transform = profile.create_transform_f32(
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
    use image::codecs::jpeg::JpegEncoder;
    use image::{DynamicImage, ImageEncoder};

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

    #[test]
    fn an_image_whose_reading_would_not_fit_the_budget_is_refused_before_decoding() {
        use image::codecs::png::{CompressionType, FilterType, PngEncoder};
        let side = 4000;
        let mut png = Vec::new();
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::NoFilter)
            .write_image(&vec![0u8; side * side], side as u32, side as u32, image::ExtendedColorType::L8)
            .unwrap();
        let message = decode_image_within(&png, "big.png", Some(100.0)).unwrap_err().to_string();
        assert!(message.contains("image big.png: 4000x4000 pixels would need 686.6 MiB"), "{message}");
        assert!(message.contains("the memory budget is 100 MiB"), "{message}");
    }

    #[test]
    fn float_pixels_that_are_not_finite_are_refused_naming_the_pixel() {
        let mut pixels = vec![0.5f32; 8 * 8 * 3];
        pixels[(8 + 5) * 3] = f32::NAN;
        let mut tiff = Vec::new();
        DynamicImage::ImageRgb32F(image::Rgb32FImage::from_raw(8, 8, pixels).unwrap())
            .write_to(&mut Cursor::new(&mut tiff), image::ImageFormat::Tiff)
            .unwrap();
        let message = decode_image(&tiff, "nan.tiff").unwrap_err().to_string();
        assert!(message.contains("image nan.tiff: pixel (5, 1) is NaN"), "{message}");
    }
}
