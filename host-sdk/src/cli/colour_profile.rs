//! Colour profiles (ICC): an image that carries one is converted to sRGB on reading, which is what the network
//! and the engine take, and a result is written back in its content's own profile, with the profile embedded,
//! so that a ProPhoto or Display P3 photo keeps its colours. Conversions are moxcms's (the colour management
//! that `image` itself uses).

use std::path::Path;

use image::DynamicImage;
use moxcms::{ColorProfile, Layout, TransformOptions};

use super::common::CliError;

/// `image` (in the colours `icc` describes) converted to sRGB. Grey images are left as they are: the engine
/// reads them as grey either way.
pub fn to_srgb(image: DynamicImage, icc: &[u8], origin: &Path) -> Result<DynamicImage, CliError> {
    let profile = parse(icc, origin)?;
    convert(image, &profile, &ColorProfile::new_srgb(), origin)
}

/// `image` (sRGB) converted to the colours `icc` describes.
pub fn from_srgb(image: DynamicImage, icc: &[u8], origin: &Path) -> Result<DynamicImage, CliError> {
    let profile = parse(icc, origin)?;
    convert(image, &ColorProfile::new_srgb(), &profile, origin)
}

fn parse(icc: &[u8], origin: &Path) -> Result<ColorProfile, CliError> {
    ColorProfile::new_from_slice(icc).map_err(|e| {
        CliError::Usage(format!("image {}: its colour profile (ICC) cannot be read: {e}", origin.display()))
    })
}

fn convert(
    image: DynamicImage,
    from: &ColorProfile,
    to: &ColorProfile,
    origin: &Path,
) -> Result<DynamicImage, CliError> {
    let fail = |e: moxcms::CmsError| {
        CliError::Usage(format!("image {}: cannot convert its colours with its ICC profile: {e}", origin.display()))
    };
    let options = TransformOptions::default();
    let (width, height) = (image.width(), image.height());
    Ok(match image {
        DynamicImage::ImageLuma8(_)
        | DynamicImage::ImageLumaA8(_)
        | DynamicImage::ImageLuma16(_)
        | DynamicImage::ImageLumaA16(_) => image,
        DynamicImage::ImageRgb8(pixels) => {
            let transform = from.create_transform_8bit(Layout::Rgb, to, Layout::Rgb, options).map_err(fail)?;
            let mut out = vec![0u8; pixels.len()];
            transform.transform(&pixels, &mut out).map_err(fail)?;
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, out).expect("same size"))
        }
        DynamicImage::ImageRgba8(pixels) => {
            let transform = from.create_transform_8bit(Layout::Rgba, to, Layout::Rgba, options).map_err(fail)?;
            let mut out = vec![0u8; pixels.len()];
            transform.transform(&pixels, &mut out).map_err(fail)?;
            DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, out).expect("same size"))
        }
        wide if wide.color().has_alpha() => {
            let pixels = wide.to_rgba16();
            let transform = from.create_transform_16bit(Layout::Rgba, to, Layout::Rgba, options).map_err(fail)?;
            let mut out = vec![0u16; pixels.len()];
            transform.transform(&pixels, &mut out).map_err(fail)?;
            DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(width, height, out).expect("same size"))
        }
        wide => {
            let pixels = wide.to_rgb16();
            let transform = from.create_transform_16bit(Layout::Rgb, to, Layout::Rgb, options).map_err(fail)?;
            let mut out = vec![0u16; pixels.len()];
            transform.transform(&pixels, &mut out).map_err(fail)?;
            DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(width, height, out).expect("same size"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prophoto_pixels_become_their_srgb_values_and_back() {
        let icc = ColorProfile::new_pro_photo_rgb().encode().unwrap();
        let stored = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(2, 2, image::Rgb([150, 110, 90])));
        let srgb = to_srgb(stored, &icc, Path::new("test.png")).unwrap().to_rgb8();
        let converted = srgb.get_pixel(0, 0).0;
        println!("ProPhoto (150, 110, 90) is sRGB {converted:?}");
        // Read as sRGB as stored, the colour would be far off: the profile moved it.
        assert!(converted.iter().zip([150u8, 110, 90]).any(|(a, b)| a.abs_diff(b) > 10), "{converted:?}");
        let back = from_srgb(DynamicImage::ImageRgb8(srgb), &icc, Path::new("test.png")).unwrap().to_rgb8();
        let round_trip = back.get_pixel(0, 0).0;
        assert!(round_trip.iter().zip([150u8, 110, 90]).all(|(a, b)| a.abs_diff(b) <= 2), "{round_trip:?}");
        let garbage = to_srgb(DynamicImage::ImageRgb8(image::RgbImage::new(1, 1)), b"not icc", Path::new("x.png"));
        assert!(garbage.unwrap_err().to_string().contains("x.png: its colour profile (ICC) cannot be read"));
    }
}
