//! Borrowed pixel buffers, and conversion of `image` crate images to the formats the plugin reads.

use image::DynamicImage;

use crate::HostError;
use crate::PixelFormat;
use nst_sys::abi::{NstImage, NstImageMut};

/// A borrowed, read-only image.
#[derive(Debug, Clone, Copy)]
pub struct ImageView<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Pixel layout.
    pub format: PixelFormat,
    /// At least `stride * height` bytes.
    pub pixels: &'a [u8],
}

/// A borrowed, writable image.
#[derive(Debug)]
pub struct ImageViewMut<'a> {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// Pixel layout.
    pub format: PixelFormat,
    /// At least `stride * height` bytes.
    pub pixels: &'a mut [u8],
}

fn check_span(width: u32, height: u32, stride: usize, format: PixelFormat, len: usize) -> Result<(), HostError> {
    let row = width as usize * format.bytes_per_pixel();
    let needed = stride.saturating_mul(height as usize);
    if stride < row || len < needed {
        return Err(HostError::Image {
            path: "buffer".into(),
            reason: format!("{len} bytes with stride {stride} cannot hold {width}x{height} {format:?} pixels"),
        });
    }
    Ok(())
}

impl ImageView<'_> {
    pub(crate) fn raw(&self) -> Result<NstImage, HostError> {
        check_span(self.width, self.height, self.stride, self.format, self.pixels.len())?;
        Ok(NstImage {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format: self.format as u32,
            pixels: self.pixels.as_ptr().cast(),
        })
    }
}

impl ImageViewMut<'_> {
    pub(crate) fn raw(&mut self) -> Result<NstImageMut, HostError> {
        check_span(self.width, self.height, self.stride, self.format, self.pixels.len())?;
        Ok(NstImageMut {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format: self.format as u32,
            pixels: self.pixels.as_mut_ptr().cast(),
        })
    }
}

/// Converts to a layout the plugin reads: grey, RGB and RGBA stay as they are (8 and 16 bits); grey with alpha
/// becomes RGBA; float images are treated as sRGB-encoded (as the `image` crate decodes them).
pub(crate) fn to_supported(image: &DynamicImage) -> (DynamicImage, PixelFormat) {
    match image {
        DynamicImage::ImageLuma8(_) => (image.clone(), PixelFormat::NstGray8),
        DynamicImage::ImageRgb8(_) => (image.clone(), PixelFormat::NstRgb8),
        DynamicImage::ImageRgba8(_) => (image.clone(), PixelFormat::NstRgba8),
        DynamicImage::ImageRgb16(_) => (image.clone(), PixelFormat::NstRgb16),
        DynamicImage::ImageRgba16(_) => (image.clone(), PixelFormat::NstRgba16),
        DynamicImage::ImageLumaA8(_) => (DynamicImage::ImageRgba8(image.to_rgba8()), PixelFormat::NstRgba8),
        DynamicImage::ImageLuma16(_) => (DynamicImage::ImageRgb16(image.to_rgb16()), PixelFormat::NstRgb16),
        DynamicImage::ImageLumaA16(_) => (DynamicImage::ImageRgba16(image.to_rgba16()), PixelFormat::NstRgba16),
        _ => (DynamicImage::ImageRgba32F(image.to_rgba32f()), PixelFormat::NstRgbaF32Srgb),
    }
}

/// The bytes of a supported image in native byte order.
pub(crate) fn bytes_of(image: &DynamicImage) -> &[u8] {
    image.as_bytes()
}
