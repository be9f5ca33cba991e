//! Decoding an image within the limits, for both readers of images (the engine's and the command's): one
//! picture only, the header's size checked against the limits and the budget before any pixel is allocated, a
//! PNG's metadata inflated under a limit of its own, float pixels finite, and the picture upright.

use std::io::{BufRead, Seek};

use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use nst_sys::limits::NST_IMAGE_SIDE_MAX as MAX_SIDE;

use crate::kind::{DECODED_IMAGE_BYTES_MAX, IMAGE_METADATA_BYTES_MAX, human};
use crate::memory::check_decoding_fits;
use crate::{Frames, count_frames};

/// What a reader takes beside the decoded pixels, and the limits it reads within.
#[derive(Debug, Clone, Copy)]
pub struct DecodeBudget {
    /// The most pixels accepted (`None`: only the decoded-size limit).
    pub pixels_max: Option<u64>,
    /// Copies of the decoded pixels the reader holds at once (its conversions).
    pub decoded_copies: u64,
    /// Bytes a pixel costs beside them (the reader's float planes).
    pub bytes_per_pixel: u64,
    /// The memory budget, MiB (`None`: none).
    pub budget_mib: Option<f64>,
}

/// An image as decoded: upright, as viewers show it, with its ICC profile if it carries one.
pub struct Decoded {
    /// The pixels, in the depth and channels the file has.
    pub image: DynamicImage,
    /// The embedded ICC profile.
    pub icc: Option<Vec<u8>>,
}

/// Decodes the image `source` holds within `budget`. Errors are reasons, for the caller to prefix with the
/// file's name.
pub fn decode_within<R: BufRead + Seek>(mut source: R, budget: &DecodeBudget) -> Result<Decoded, String> {
    match count_frames(&mut source).map_err(|e| format!("cannot read: {e}"))? {
        Frames::One => {}
        many => return Err(format!("holds {many}: nst takes one picture; export the frame you want")),
    }
    let reader = ImageReader::new(source).with_guessed_format().map_err(|e| format!("cannot read: {e}"))?;
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => format!(
            "too large: more than {MAX_SIDE} pixels a side, {} decoded, or {} of metadata ({e})",
            human(DECODED_IMAGE_BYTES_MAX),
            human(IMAGE_METADATA_BYTES_MAX)
        ),
        other => format!("cannot decode: {other}"),
    };
    let mut decoder = decoder_within_limits(reader).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    let pixels = width as u64 * height as u64;
    if let Some(max) = budget.pixels_max.filter(|max| pixels > *max) {
        return Err(format!("too large: {width}x{height} is more than the {max} pixels accepted"));
    }
    let decoded = decoder.total_bytes();
    let needed =
        decoded.saturating_mul(budget.decoded_copies).saturating_add(pixels.saturating_mul(budget.bytes_per_pixel));
    check_decoding_fits(width, height, decoded, needed, budget.budget_mib)?;
    // Unreadable metadata is no reason to refuse the pixels: they are then taken as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let icc = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    check_finite(&image)?;
    image.apply_orientation(orientation);
    Ok(Decoded { image, icc })
}

/// A decoder with the size limits set before the header is read. A PNG's metadata (ICC profile, text) is
/// inflated while its header is read, under a limit of its own, far below the pixels'.
fn decoder_within_limits<'a, R: BufRead + Seek + 'a>(
    reader: ImageReader<R>,
) -> image::ImageResult<Box<dyn ImageDecoder + 'a>> {
    let mut pixels = Limits::default();
    pixels.max_image_width = Some(MAX_SIDE);
    pixels.max_image_height = Some(MAX_SIDE);
    pixels.max_alloc = Some(DECODED_IMAGE_BYTES_MAX);
    if reader.format() == Some(image::ImageFormat::Png) {
        let mut metadata = Limits::default();
        metadata.max_alloc = Some(IMAGE_METADATA_BYTES_MAX);
        let mut decoder = image::codecs::png::PngDecoder::with_limits(reader.into_inner(), metadata)?;
        decoder.set_limits(pixels)?;
        return Ok(Box::new(decoder));
    }
    let mut reader = reader;
    reader.limits(pixels);
    Ok(Box::new(reader.into_decoder()?))
}

/// Refuses float pixels that are NaN or infinite: they would only surface later as a loss that is not
/// finite, blaming the weights.
fn check_finite(image: &DynamicImage) -> Result<(), String> {
    let floats = match image {
        DynamicImage::ImageRgb32F(pixels) => pixels.as_raw(),
        DynamicImage::ImageRgba32F(pixels) => pixels.as_raw(),
        _ => return Ok(()),
    };
    match floats.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(at) => {
            let pixel = at / image.color().channel_count() as usize;
            let (x, y) = (pixel % image.width() as usize, pixel / image.width() as usize);
            Err(format!(
                "pixel ({x}, {y}) is {}: float images must hold finite values; fix or re-export it",
                floats[at]
            ))
        }
    }
}
