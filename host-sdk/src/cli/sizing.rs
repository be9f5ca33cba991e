//! The output's size, and the content resized to it.

use image::{DynamicImage, imageops::FilterType};
use nst_sys::limits;

use super::error::CliError;

/// The shortest side of an output, in pixels: VGG19's deepest style layer sees the image at 1/16 of its size.
const MIN_SIDE: u32 = 16;

/// Output size: the long side from `size` (or the preset's), aspect kept; the content's size when neither.
/// The long side is in range already (`RunArgs::check`, the preset's own checker); a short side below 16
/// pixels is refused here, before any pixel is resized, with the sizes that would do.
pub fn output_dims(content: &DynamicImage, size: Option<u32>) -> Result<(u32, u32), CliError> {
    let (w, h) = (content.width(), content.height());
    // The engine's own rule: it resizes its result to this size.
    let (out_w, out_h) = nst_sys::sizing::output_size(w as usize, h as usize, size.map(|long| long as usize));
    let dims = (out_w as u32, out_h as u32);
    if dims.0.min(dims.1) < MIN_SIDE {
        let (long, short) = (w.max(h) as u64, w.min(h).max(1) as u64);
        let needed = (MIN_SIDE as u64 * long).div_ceil(short);
        let hint = if needed <= limits::NST_SIZE_MAX as u64 {
            format!("a --size of at least {needed}")
        } else {
            format!("a content whose sides differ less (at most {}:{MIN_SIDE})", limits::NST_SIZE_MAX)
        };
        return Err(CliError::Usage(format!(
            "the output would be {}x{} pixels (content {w}x{h}): each side must be at least {MIN_SIDE} pixels; use \
             {hint}",
            dims.0, dims.1
        )));
    }
    Ok(dims)
}

/// The content at the output size, widened to 16 bits when a 16-bit output is asked for.
pub fn prepare_content(content: &DynamicImage, dims: (u32, u32), sixteen_bit: bool) -> DynamicImage {
    let sized = if (content.width(), content.height()) == dims {
        content.clone()
    } else {
        content.resize_exact(dims.0, dims.1, FilterType::CatmullRom)
    };
    match (sixteen_bit, sized.color().has_alpha()) {
        (true, true) => DynamicImage::ImageRgba16(sized.to_rgba16()),
        (true, false) => DynamicImage::ImageRgb16(sized.to_rgb16()),
        (false, _) => sized,
    }
}
