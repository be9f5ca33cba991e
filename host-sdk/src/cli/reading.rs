//! Reading the images people name: upright, in sRGB, refused before any pixel is decoded when they would
//! not fit, and refused when their float pixels are not finite.

use std::path::Path;

use image::{DynamicImage, ImageDecoder};
use nst_sys::limits;

use super::error::CliError;

/// Largest side of an input image, in pixels.
const MAX_SIDE: u32 = limits::NST_IMAGE_SIDE_MAX;
/// Largest decoded input image, in bytes (the engine's own reader takes the same).
const MAX_DECODED_BYTES: u64 = nst_files::DECODED_IMAGE_BYTES_MAX;
/// Bytes a pixel of a style image or mask costs beside its decoded pixels: the SDK's copy, then the engine's
/// float planes (RGB and alpha) and their interleaved copy while it resizes them.
const ENGINE_BYTES_PER_PIXEL: u64 = 40;
/// Bytes a pixel of a content costs beside its decoded pixels: the resizing's float rows, with a margin.
const CONTENT_BYTES_PER_PIXEL: u64 = 4;

/// The engine's memory budget in MiB (0: none set). Images are read in several places, all after the engine
/// is opened with it, so it is kept here once rather than passed down each path.
static MEMORY_BUDGET_MIB: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the budget images are read within: the engine's, as it is opened (`None`: the engine's default).
pub fn set_memory_budget(mib: Option<u64>) {
    MEMORY_BUDGET_MIB.store(mib.unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
}

/// Reads a style image or mask in sRGB (see [`read_image_with_profile`]); it goes to the engine at full size.
pub fn read_image(path: &Path) -> Result<DynamicImage, CliError> {
    read_upright_srgb(path, ENGINE_BYTES_PER_PIXEL).map(|(image, _)| image)
}

/// Reads a content upright and in sRGB, with the ICC profile a result can be written back in (its pixels
/// converted from it; `None` for sRGB, and for a profile nst cannot write back, which is then noted).
pub fn read_image_with_profile(path: &Path) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    read_upright_srgb(path, CONTENT_BYTES_PER_PIXEL)
}

/// Reads `path`, refusing before any pixel is decoded an image whose decoded pixels, their converted copy
/// and `bytes_per_pixel` more would not fit the limit, the memory budget, or what the process may allocate.
fn read_upright_srgb(path: &Path, bytes_per_pixel: u64) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    let fail = |reason: String| CliError::Usage(format!("image {}: {reason}", path.display()));
    let cannot_read = |e: std::io::Error| fail(format!("cannot read: {e}"));
    let (mut file, _) = nst_files::open_regular(path, nst_files::FileKind::Image).map_err(cannot_read)?;
    match nst_files::count_frames(&mut file).map_err(cannot_read)? {
        nst_files::Frames::One => {}
        many => return Err(fail(format!("holds {many}: nst takes one picture; export the frame you want"))),
    }
    let reader = image::ImageReader::new(std::io::BufReader::new(file))
        .with_guessed_format()
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    let decode_error = |e: image::ImageError| match e {
        image::ImageError::Limits(_) => fail(format!(
            "too large: more than {MAX_SIDE} pixels a side, {} decoded, or {} of metadata ({e})",
            nst_files::human(MAX_DECODED_BYTES),
            nst_files::human(nst_files::IMAGE_METADATA_BYTES_MAX)
        )),
        other => fail(format!("cannot decode: {other}")),
    };
    let mut decoder = decoder_within_limits(reader).map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_fits(width, height, decoder.total_bytes(), bytes_per_pixel).map_err(fail)?;
    // Upright, as viewers show it; unreadable metadata leaves the pixels as stored.
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let profile = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    check_finite(&image).map_err(fail)?;
    image.apply_orientation(orientation);
    match profile {
        Some(icc) => super::colour_profile::to_srgb_for_writing(image, &icc, path),
        None => Ok((image, None)),
    }
}

/// A decoder with the size limits set before the header is read. A PNG's metadata (ICC profile, text) is
/// inflated while its header is read, under a limit of its own, far below the pixels'.
fn decoder_within_limits<R: std::io::BufRead + std::io::Seek + 'static>(
    reader: image::ImageReader<R>,
) -> image::ImageResult<Box<dyn ImageDecoder>> {
    let mut pixels = image::Limits::default();
    pixels.max_image_width = Some(MAX_SIDE);
    pixels.max_image_height = Some(MAX_SIDE);
    pixels.max_alloc = Some(MAX_DECODED_BYTES);
    if reader.format() == Some(image::ImageFormat::Png) {
        let mut metadata = image::Limits::default();
        metadata.max_alloc = Some(nst_files::IMAGE_METADATA_BYTES_MAX);
        let mut decoder = image::codecs::png::PngDecoder::with_limits(reader.into_inner(), metadata)?;
        decoder.set_limits(pixels)?;
        return Ok(Box::new(decoder));
    }
    let mut reader = reader;
    reader.limits(pixels);
    Ok(Box::new(reader.into_decoder()?))
}

/// Refuses a `width x height` image of `decoded` bytes whose reading would not fit (see
/// [`read_upright_srgb`]), naming its size and what it would need.
fn check_fits(width: u32, height: u32, decoded: u64, bytes_per_pixel: u64) -> Result<(), String> {
    let pixels = width as u64 * height as u64;
    let needed = decoded.saturating_mul(2).saturating_add(pixels.saturating_mul(bytes_per_pixel));
    // The engine's budget, else its default share of the memory available, as the engine takes it.
    let budget = match MEMORY_BUDGET_MIB.load(std::sync::atomic::Ordering::Relaxed) {
        0 => nst_files::default_budget_mib(),
        mib => Some(mib as f64),
    };
    nst_files::check_decoding_fits(width, height, decoded, needed, budget)
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
            let channels = image.color().channel_count() as usize;
            let (x, y) = ((at / channels) as u32 % image.width(), (at / channels) as u32 / image.width());
            Err(format!(
                "pixel ({x}, {y}) is {}: float images must hold finite values; fix or re-export it",
                floats[at]
            ))
        }
    }
}
