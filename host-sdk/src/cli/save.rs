//! Writing the command's images: the output's name and folder checked before any work, then the encoded
//! picture written through `nst_files`, so that no reader sees half a file and no link redirects the write.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use image::{DynamicImage, ImageFormat};

use super::error::CliError;

fn format_of(path: &Path) -> Result<ImageFormat, CliError> {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase().as_str() {
        "png" => Ok(ImageFormat::Png),
        "jpg" | "jpeg" => Ok(ImageFormat::Jpeg),
        "tif" | "tiff" => Ok(ImageFormat::Tiff),
        other => {
            Err(CliError::Usage(format!("{}: cannot write '.{other}' files: use .png, .jpg or .tiff", path.display())))
        }
    }
}

/// Encodes `image` as `format` with the ICC profile `icc` embedded.
fn write_with_profile(
    image: &DynamicImage,
    writer: &mut BufWriter<File>,
    format: ImageFormat,
    icc: &[u8],
) -> image::ImageResult<()> {
    use image::ImageEncoder;
    let unsupported = |e: image::error::UnsupportedError| image::ImageError::Unsupported(e);
    match format {
        ImageFormat::Jpeg => {
            let mut encoder = image::codecs::jpeg::JpegEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
        ImageFormat::Tiff => {
            let mut encoder = image::codecs::tiff::TiffEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
        _ => {
            let mut encoder = image::codecs::png::PngEncoder::new(writer);
            encoder.set_icc_profile(icc.to_vec()).map_err(unsupported)?;
            image.write_with_encoder(encoder)
        }
    }
}

/// Checks the output's name and format before any work.
pub fn check_output_path(path: &Path, sixteen_bit: bool) -> Result<(), CliError> {
    if path.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is a folder: name an image file in it, such as {}",
            path.display(),
            path.join("result.png").display()
        )));
    }
    if path.extension().is_none() {
        return Err(CliError::Usage(format!(
            "{} has no file extension: name the output .png, .jpg or .tiff",
            path.display()
        )));
    }
    let format = format_of(path)?;
    if sixteen_bit && format == ImageFormat::Jpeg {
        return Err(CliError::Usage(format!("{}: JPEG has no 16-bit mode: write .png or .tiff", path.display())));
    }
    Ok(())
}

/// Checks, before any work, that `path` can be written: its folder exists, an existing file there is not
/// read-only, and a temporary file of the kind the result goes through (a longer name) can be created there,
/// which it is, then removed.
pub fn check_writable(path: &Path) -> Result<(), CliError> {
    let fail = |problem: String| Err(CliError::Usage(format!("{}: {problem}", path.display())));
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return fail(format!("cannot write: the folder {} does not exist", folder.display()));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
        return fail("is read-only: make it writable, or name another output".into());
    }
    let temporary = nst_files::temporary_sibling(path);
    match nst_files::create_new_file(&temporary) {
        Ok(_) => {
            let _ = std::fs::remove_file(&temporary);
            Ok(())
        }
        Err(e) => fail(format!("cannot write in {}: {e} (trying {})", folder.display(), temporary.display())),
    }
}

/// Writes `image` to a new temporary file beside `path`, syncs it, then renames it into place: no partial file
/// is ever visible under the final name. JPEG drops alpha; 16 bits are kept for PNG and TIFF. With a `profile`
/// (ICC), the sRGB `image` is converted to its colours and the profile is embedded.
pub fn save_atomically(
    image: &DynamicImage,
    path: &Path,
    sixteen_bit: bool,
    profile: Option<&[u8]>,
) -> Result<(), CliError> {
    let format = format_of(path)?;
    let image = match (format, sixteen_bit, image.color().has_alpha()) {
        (ImageFormat::Jpeg, _, _) => DynamicImage::ImageRgb8(image.to_rgb8()),
        (_, true, true) => DynamicImage::ImageRgba16(image.to_rgba16()),
        (_, true, false) => DynamicImage::ImageRgb16(image.to_rgb16()),
        (_, false, true) => DynamicImage::ImageRgba8(image.to_rgba8()),
        (_, false, false) => DynamicImage::ImageRgb8(image.to_rgb8()),
    };
    let image = match profile {
        Some(icc) => super::colour_profile::from_srgb(image, icc, path)?,
        None => image,
    };
    // An encoder's error is told apart from the disk's, which it may wrap.
    let mut encode_error = None;
    let written = nst_files::write_atomically_with(path, |writer| {
        let encoded = match profile {
            None => image.write_to(writer, format),
            Some(icc) => write_with_profile(&image, writer, format, icc),
        };
        encoded.map_err(|e| match e {
            image::ImageError::IoError(io) => io,
            other => {
                encode_error = Some(other.to_string());
                std::io::Error::other("encoding failed")
            }
        })
    });
    written.map_err(|e| match encode_error.take() {
        Some(reason) => CliError::Usage(format!("{}: cannot encode: {reason}", path.display())),
        None => CliError::Usage(format!("{}: cannot write: {e}", path.display())),
    })
}
