//! Colour profiles (ICC): an image that carries one is converted to sRGB on reading, which is what the network
//! and the engine take, and a result is written back in its content's own profile, with the profile embedded,
//! so that a ProPhoto or Display P3 photo keeps its colours. Conversions are moxcms's (the colour management
//! that `image` itself uses). Only an RGB profile is written back: a grey image's profile (common for scans) is
//! applied on reading and the result written in sRGB, and a CMYK image, which the decoder has turned into RGB
//! already, is taken as sRGB; a note says so.

use std::path::Path;

use image::DynamicImage;
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

use super::error::CliError;

/// `image` (in the colours `icc` describes) converted to sRGB, with the profile a result is to be written back
/// in: `icc` itself when it is an RGB profile, else `None`, with a note on standard error saying why.
pub fn to_srgb_for_writing(
    image: DynamicImage,
    icc: &[u8],
    origin: &Path,
) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    let profile = parse(icc, origin)?;
    let note = |what: &str| errln!("note: image {}: {what}; the result is written in sRGB", origin.display());
    match profile.color_space {
        DataColorSpace::Rgb => Ok((convert(image, &profile, &ColorProfile::new_srgb(), origin)?, Some(icc.to_vec()))),
        DataColorSpace::Gray => match grey_to_srgb(&image, &profile, origin)? {
            Some(srgb) => {
                note("its grey ICC profile was applied on reading");
                Ok((srgb, None))
            }
            None => {
                note("its grey ICC profile does not fit its colour pixels, which are taken as sRGB");
                Ok((image, None))
            }
        },
        other => {
            note(&format!("its {other:?} ICC profile cannot be written back, and its pixels are taken as decoded"));
            Ok((image, None))
        }
    }
}

/// A grey `image` converted through its grey `profile` to sRGB (RGB, alpha kept); `None` for a colour image.
fn grey_to_srgb(image: &DynamicImage, profile: &ColorProfile, origin: &Path) -> Result<Option<DynamicImage>, CliError> {
    let fail = |e: moxcms::CmsError| {
        CliError::Usage(format!("image {}: cannot convert its colours with its ICC profile: {e}", origin.display()))
    };
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions::default();
    let (width, height) = (image.width(), image.height());
    Ok(Some(match image {
        DynamicImage::ImageLuma8(grey) => {
            let transform = profile.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, options).map_err(fail)?;
            let mut out = vec![0u8; grey.len() * 3];
            transform.transform(grey, &mut out).map_err(fail)?;
            DynamicImage::ImageRgb8(image::RgbImage::from_raw(width, height, out).expect("same size"))
        }
        DynamicImage::ImageLumaA8(grey) => {
            let transform =
                profile.create_transform_8bit(Layout::GrayAlpha, &srgb, Layout::Rgba, options).map_err(fail)?;
            let mut out = vec![0u8; grey.len() * 2];
            transform.transform(grey, &mut out).map_err(fail)?;
            DynamicImage::ImageRgba8(image::RgbaImage::from_raw(width, height, out).expect("same size"))
        }
        DynamicImage::ImageLuma16(grey) => {
            let transform = profile.create_transform_16bit(Layout::Gray, &srgb, Layout::Rgb, options).map_err(fail)?;
            let mut out = vec![0u16; grey.len() * 3];
            transform.transform(grey, &mut out).map_err(fail)?;
            DynamicImage::ImageRgb16(image::ImageBuffer::from_raw(width, height, out).expect("same size"))
        }
        DynamicImage::ImageLumaA16(grey) => {
            let transform =
                profile.create_transform_16bit(Layout::GrayAlpha, &srgb, Layout::Rgba, options).map_err(fail)?;
            let mut out = vec![0u16; grey.len() * 2];
            transform.transform(grey, &mut out).map_err(fail)?;
            DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(width, height, out).expect("same size"))
        }
        _ => return Ok(None),
    }))
}

/// `image` (in the colours the RGB profile `icc` describes) converted to sRGB. Grey images are left as they
/// are: the engine reads them as grey either way.
#[cfg(test)]
fn to_srgb(image: DynamicImage, icc: &[u8], origin: &Path) -> Result<DynamicImage, CliError> {
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

    #[test]
    fn a_grey_profile_is_applied_on_reading_and_not_written_back() {
        // Gamma 1.0 grey: a stored 128 is linear 0.5, which sRGB encodes as about 188.
        let icc = ColorProfile::new_gray_with_gamma(1.0).encode().unwrap();
        let stored = DynamicImage::ImageLuma8(image::GrayImage::from_pixel(2, 2, image::Luma([128])));
        let (srgb, written_back) = to_srgb_for_writing(stored, &icc, Path::new("scan.png")).unwrap();
        assert!(written_back.is_none());
        let pixel = srgb.to_rgb8().get_pixel(0, 0).0;
        assert!(pixel.iter().all(|&v| v.abs_diff(188) <= 2), "{pixel:?}");
    }
}
