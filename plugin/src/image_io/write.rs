//! Writing PNG, JPEG and TIFF atomically: a temporary file in the same folder, then a rename, so no partial
//! output is ever visible.

use std::io::BufWriter;
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageBuffer, ImageFormat, Rgb, Rgba};

use super::Planar;
use crate::error::{EngineError, Result};

/// Bits per channel of the written file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BitDepth {
    /// 8 bits (every format).
    #[default]
    Eight,
    /// 16 bits (PNG and TIFF).
    Sixteen,
}

fn format_of(path: &Path) -> Result<ImageFormat> {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    match extension.as_str() {
        "png" => Ok(ImageFormat::Png),
        "jpg" | "jpeg" => Ok(ImageFormat::Jpeg),
        "tif" | "tiff" => Ok(ImageFormat::Tiff),
        other => Err(EngineError::Image {
            path: path.display().to_string(),
            reason: format!("cannot write '.{other}' files: use .png, .jpg or .tiff"),
        }),
    }
}

fn temporary_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.partial", std::process::id()))
}

/// Writes `image` to `path` (format from its extension). JPEG has no alpha and no 16-bit: alpha is dropped there.
pub fn write_image(image: &Planar, path: &Path, depth: BitDepth) -> Result<()> {
    let fail = |reason: String| EngineError::Image { path: path.display().to_string(), reason };
    let format = format_of(path)?;
    if depth == BitDepth::Sixteen && format == ImageFormat::Jpeg {
        return Err(fail("JPEG has no 16-bit mode: write .png or .tiff".into()));
    }
    let (w, h) = (image.width as u32, image.height as u32);
    let rgb = image.to_interleaved_rgb();
    let keep_alpha = image.alpha.is_some() && format != ImageFormat::Jpeg;
    let dynamic = match (keep_alpha, depth) {
        (true, _) => {
            let alpha = image.alpha.as_ref().expect("checked");
            let rgba: Vec<f32> =
                rgb.chunks_exact(3).zip(alpha).flat_map(|(p, a)| [p[0], p[1], p[2], a.clamp(0.0, 1.0)]).collect();
            DynamicImage::ImageRgba32F(ImageBuffer::<Rgba<f32>, _>::from_raw(w, h, rgba).expect("sizes agree"))
        }
        (false, _) => DynamicImage::ImageRgb32F(ImageBuffer::<Rgb<f32>, _>::from_raw(w, h, rgb).expect("sizes agree")),
    };
    let converted = match (keep_alpha, depth) {
        (true, BitDepth::Eight) => DynamicImage::ImageRgba8(dynamic.to_rgba8()),
        (true, BitDepth::Sixteen) => DynamicImage::ImageRgba16(dynamic.to_rgba16()),
        (false, BitDepth::Eight) => DynamicImage::ImageRgb8(dynamic.to_rgb8()),
        (false, BitDepth::Sixteen) => DynamicImage::ImageRgb16(dynamic.to_rgb16()),
    };
    let temporary = temporary_path(path);
    let result = std::fs::File::create(&temporary)
        .map_err(|e| fail(format!("cannot create {}: {e}", temporary.display())))
        .and_then(|file| {
            let mut writer = BufWriter::new(file);
            converted.write_to(&mut writer, format).map_err(|e| fail(format!("cannot encode: {e}")))?;
            let file = writer.into_inner().map_err(|e| fail(format!("cannot write: {e}")))?;
            file.sync_all().map_err(|e| fail(format!("cannot write: {e}")))
        })
        .and_then(|_| std::fs::rename(&temporary, path).map_err(|e| fail(format!("cannot rename into place: {e}"))));
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
