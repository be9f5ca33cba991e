//! Reading the images people name: upright, in sRGB, refused before any pixel is decoded when they would
//! not fit, and refused when their float pixels are not finite.

use std::path::Path;

use image::DynamicImage;

use super::error::CliError;

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
/// and `bytes_per_pixel` more would not fit the limit, the memory budget, or what the process may allocate
/// (see [`nst_files::decode_within`]).
fn read_upright_srgb(path: &Path, bytes_per_pixel: u64) -> Result<(DynamicImage, Option<Vec<u8>>), CliError> {
    let fail = |reason: String| CliError::Usage(format!("image {}: {reason}", path.display()));
    let (file, _) =
        nst_files::open_regular(path, nst_files::FileKind::Image).map_err(|e| fail(format!("cannot read: {e}")))?;
    // The engine's budget, else its default share of the memory available, as the engine takes it.
    let budget_mib = match MEMORY_BUDGET_MIB.load(std::sync::atomic::Ordering::Relaxed) {
        0 => nst_files::default_budget_mib(),
        mib => Some(mib as f64),
    };
    let budget = nst_files::DecodeBudget { pixels_max: None, decoded_copies: 2, bytes_per_pixel, budget_mib };
    let decoded = nst_files::decode_within(std::io::BufReader::new(file), &budget).map_err(fail)?;
    match decoded.icc {
        Some(icc) => super::colour_profile::to_srgb_for_writing(decoded.image, &icc, path),
        None => Ok((decoded.image, None)),
    }
}
