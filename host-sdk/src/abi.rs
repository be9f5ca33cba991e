//! Mirrors of the plugin's C types (plugin/include/nst.h), and the function signatures it exports.

use std::ffi::{c_char, c_void};

/// The C ABI version this SDK speaks; a plugin reporting another is refused before any other call.
pub const ABI_VERSION: u32 = 2;

/// Pixel layouts (`NstPixelFormat`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelFormat {
    /// 8-bit grey, sRGB-encoded.
    Gray8 = 1,
    /// 8-bit RGB.
    Rgb8 = 2,
    /// 8-bit RGBA.
    Rgba8 = 3,
    /// 16-bit RGB.
    Rgb16 = 4,
    /// 16-bit RGBA.
    Rgba16 = 5,
    /// float RGBA, linear light.
    RgbaF32Linear = 6,
    /// float RGBA, sRGB-encoded.
    RgbaF32Srgb = 7,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb8 => 3,
            PixelFormat::Rgba8 => 4,
            PixelFormat::Rgb16 => 6,
            PixelFormat::Rgba16 => 8,
            PixelFormat::RgbaF32Linear | PixelFormat::RgbaF32Srgb => 16,
        }
    }
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawImage {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub format: u32,
    pub pixels: *const c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawImageMut {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub format: u32,
    pub pixels: *mut c_void,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawOverrides {
    pub struct_size: usize,
    pub size: u32,
    pub iterations: u32,
    pub seed: i64,
    pub style_weight: f64,
    pub model_seed: i64,
    pub model_path: *const c_char,
    pub pooling: u32,
    pub init: u32,
    pub keep_colours: i32,
    pub match_colours: i32,
    pub scales: u32,
    pub style_scale: f64,
    pub style_weights: *const f32,
    pub preview_iteration: u32,
    pub preview: Option<PreviewFn>,
    pub preview_user_data: *mut c_void,
    pub style_masks: *const RawImage,
    pub style_mask_count: usize,
    pub content_mask: *const RawImage,
    pub style_weight_scale: f64,
    pub style_weight_count: usize,
}

#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawReport {
    pub iterations: u32,
    pub evaluations: u32,
    pub working_width: u32,
    pub working_height: u32,
    pub seconds: f64,
    pub loss_total: f64,
    pub loss_content: f64,
    pub loss_style: f64,
    pub loss_total_variation: f64,
    pub provider: [c_char; 16],
    pub model: [c_char; 256],
}

pub(crate) type ProgressFn = unsafe extern "C" fn(*mut c_void, u32, u32, f64) -> i32;
pub(crate) type PreviewFn = unsafe extern "C" fn(*mut c_void, *const RawImage);

pub(crate) type AbiVersionFn = unsafe extern "C" fn() -> u32;
pub(crate) type VersionFn = unsafe extern "C" fn() -> *const c_char;
pub(crate) type LastErrorFn = unsafe extern "C" fn(*mut c_char, usize) -> usize;
pub(crate) type EngineCreateFn = unsafe extern "C" fn(*const c_char, *mut *mut c_void) -> u32;
pub(crate) type EngineFreeFn = unsafe extern "C" fn(*mut c_void) -> u32;
pub(crate) type DescribePresetsFn = unsafe extern "C" fn(*const c_char, *mut c_char, usize, *mut usize) -> u32;
pub(crate) type DescribeFn = unsafe extern "C" fn(*const c_void, *mut c_char, usize, *mut usize) -> u32;
pub(crate) type DescribePresetFn =
    unsafe extern "C" fn(*const c_void, *const c_char, *mut c_char, usize, *mut usize) -> u32;
pub(crate) type BenchmarkFn =
    unsafe extern "C" fn(*mut c_void, *const c_char, u32, u32, *mut c_char, usize, *mut usize) -> u32;
pub(crate) type OverridesInitFn = unsafe extern "C" fn(*mut RawOverrides, usize);
pub(crate) type StylizeFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_char,
    *const RawOverrides,
    *const RawImage,
    *const RawImage,
    usize,
    *const RawImageMut,
    Option<ProgressFn>,
    *mut c_void,
    *mut RawReport,
) -> u32;

/// Status codes (`NstStatus`) by name, for messages.
pub(crate) fn status_name(status: u32) -> &'static str {
    match status {
        0 => "ok",
        1 => "null argument",
        2 => "invalid argument",
        3 => "unsupported format",
        4 => "image too large",
        5 => "buffer too small",
        6 => "preset error",
        7 => "model error",
        8 => "ONNX Runtime missing",
        9 => "ONNX Runtime error",
        10 => "provider unavailable",
        11 => "cancelled",
        12 => "image error",
        13 => "internal error",
        14 => "invalid handle",
        15 => "over memory budget",
        16 => "busy",
        _ => "unknown status",
    }
}

/// `NstCancelled`.
pub(crate) const STATUS_CANCELLED: u32 = 11;
/// `NstBufferTooSmall`.
pub(crate) const STATUS_BUFFER_TOO_SMALL: u32 = 5;
