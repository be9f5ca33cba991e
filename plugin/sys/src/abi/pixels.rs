//! Pixel views a host passes: the formats and the image structs.

use std::ffi::c_void;

/// Pixel layouts a host can pass. Channels are interleaved; 16-bit and float values are in native byte order.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NstPixelFormat {
    /// One 8-bit grey channel, sRGB-encoded.
    NstGray8 = 1,
    /// 8-bit R, G, B, sRGB-encoded.
    NstRgb8 = 2,
    /// 8-bit R, G, B, A (straight alpha), sRGB-encoded.
    NstRgba8 = 3,
    /// 16-bit R, G, B, sRGB-encoded.
    NstRgb16 = 4,
    /// 16-bit R, G, B, A, sRGB-encoded.
    NstRgba16 = 5,
    /// 32-bit float R, G, B, A in linear light (0..1).
    NstRgbaF32Linear = 6,
    /// 32-bit float R, G, B, A, sRGB-encoded (0..1).
    NstRgbaF32Srgb = 7,
}

impl NstPixelFormat {
    /// Converts a value from C, which may be anything.
    pub fn from_raw(value: u32) -> Option<Self> {
        use NstPixelFormat::*;
        [NstGray8, NstRgb8, NstRgba8, NstRgb16, NstRgba16, NstRgbaF32Linear, NstRgbaF32Srgb]
            .into_iter()
            .find(|f| *f as u32 == value)
    }

    /// Interleaved channels.
    pub fn channels(self) -> usize {
        use NstPixelFormat::*;
        match self {
            NstGray8 => 1,
            NstRgb8 | NstRgb16 => 3,
            NstRgba8 | NstRgba16 | NstRgbaF32Linear | NstRgbaF32Srgb => 4,
        }
    }

    /// Bytes per channel.
    pub fn bytes_per_channel(self) -> usize {
        use NstPixelFormat::*;
        match self {
            NstGray8 | NstRgb8 | NstRgba8 => 1,
            NstRgb16 | NstRgba16 => 2,
            NstRgbaF32Linear | NstRgbaF32Srgb => 4,
        }
    }

    /// Whether the last channel is alpha.
    pub fn has_alpha(self) -> bool {
        self.channels() == 4
    }

    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        self.channels() * self.bytes_per_channel()
    }
}

/// A read-only image from the host. The library never keeps the pointer after the call returns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstImage {
    /// Width in pixels, 1..=`NST_IMAGE_SIDE_MAX`; width x height at most `NST_IMAGE_PIXELS_MAX`.
    pub width: u32,
    /// Height in pixels, 1..=`NST_IMAGE_SIDE_MAX`.
    pub height: u32,
    /// Bytes from one row to the next (at least width x bytes per pixel).
    pub stride: usize,
    /// An `NstPixelFormat` value.
    pub format: u32,
    /// The first row's first byte.
    pub pixels: *const c_void,
}

/// A writable image from the host, same layout as `NstImage`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstImageMut {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from one row to the next.
    pub stride: usize,
    /// An `NstPixelFormat` value.
    pub format: u32,
    /// The first row's first byte.
    pub pixels: *mut c_void,
}
