//! Calling the C ABI from Rust tests: an engine on the bundled presets, pixel buffers, a quick preset.

use std::ffi::{CString, c_void};
use std::ptr::{null, null_mut};

use nst::ffi::*;

use super::root;

pub fn last_error() -> String {
    // SAFETY: a NULL buffer of length 0 asks for the length; then a buffer of that size is filled.
    unsafe {
        let length = nst_last_error(null_mut(), 0);
        let mut buffer = vec![0u8; length + 1];
        nst_last_error(buffer.as_mut_ptr().cast(), buffer.len());
        String::from_utf8_lossy(&buffer[..length]).into_owned()
    }
}

pub fn config() -> CString {
    config_with("")
}

/// The tests' engine configuration (CPU, two threads, the repository's presets) followed by `extra` lines.
pub fn config_with(extra: &str) -> CString {
    let ort = super::ort_library().display().to_string();
    CString::new(format!(
        "provider = \"cpu\"\nthreads = 2\nort_library = '{ort}'\npresets_dir = '{}'\n{extra}",
        root().join("presets").display()
    ))
    .unwrap()
}

pub struct Engine(pub *mut NstEngine);

// SAFETY: the engine serialises runs (documented), so its handle may move between threads.
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

impl Engine {
    pub fn new() -> Engine {
        let mut engine = null_mut();
        // SAFETY: valid config string and out pointer.
        let status = unsafe { nst_engine_create(config().as_ptr(), &mut engine) };
        assert_eq!(status, NstStatus::NstOk, "{}", last_error());
        Engine(engine)
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: created by nst_engine_create, freed once.
        unsafe { nst_engine_free(self.0) };
    }
}

/// A shallow preset: quick runs that still go through every part of the ABI.
pub fn quick_preset() -> CString {
    CString::new(format!(
        "version = 1\n[style]\nimages = ['{}']\n[losses]\ncontent_layer = \"relu2_1\"\nstyle_layers = [\"relu1_1\", \"relu2_1\"]\nstyle_weight = 1e7\n[optimiser]\niterations = 4\n",
        root().join("presets/images/waves.png").display()
    ))
    .unwrap()
}

pub struct Buffer {
    pub width: u32,
    pub height: u32,
    pub stride: usize,
    pub format: NstPixelFormat,
    pub bytes: Vec<u8>,
}

pub fn bytes_per_pixel(format: NstPixelFormat) -> usize {
    match format {
        NstPixelFormat::NstGray8 => 1,
        NstPixelFormat::NstRgb8 => 3,
        NstPixelFormat::NstRgba8 => 4,
        NstPixelFormat::NstRgb16 => 6,
        NstPixelFormat::NstRgba16 => 8,
        _ => 16,
    }
}

impl Buffer {
    /// A gradient with a varying alpha, rows padded by 8 bytes.
    pub fn gradient(width: u32, height: u32, format: NstPixelFormat) -> Buffer {
        let bpp = bytes_per_pixel(format);
        let stride = width as usize * bpp + 8;
        let mut bytes = vec![0u8; stride * height as usize];
        for y in 0..height as usize {
            for x in 0..width as usize {
                let values =
                    [x as f32 / width as f32, y as f32 / height as f32, 0.5, 0.2 + 0.6 * x as f32 / width as f32];
                let at = y * stride + x * bpp;
                let channels = bpp
                    / match format {
                        NstPixelFormat::NstRgb16 | NstPixelFormat::NstRgba16 => 2,
                        NstPixelFormat::NstRgbaF32Linear | NstPixelFormat::NstRgbaF32Srgb => 4,
                        _ => 1,
                    };
                for (c, v) in values.iter().take(channels).enumerate() {
                    match format {
                        NstPixelFormat::NstRgb16 | NstPixelFormat::NstRgba16 => {
                            bytes[at + 2 * c..at + 2 * c + 2].copy_from_slice(&((v * 65535.0) as u16).to_ne_bytes())
                        }
                        NstPixelFormat::NstRgbaF32Linear | NstPixelFormat::NstRgbaF32Srgb => {
                            bytes[at + 4 * c..at + 4 * c + 4].copy_from_slice(&v.to_ne_bytes())
                        }
                        _ => bytes[at + c] = (v * 255.0) as u8,
                    }
                }
            }
        }
        Buffer { width, height, stride, format, bytes }
    }

    pub fn filled(like: &Buffer, byte: u8) -> Buffer {
        Buffer { bytes: vec![byte; like.bytes.len()], ..*like }
    }

    pub fn view(&self) -> NstImage {
        NstImage {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format: self.format as u32,
            pixels: self.bytes.as_ptr().cast(),
        }
    }

    pub fn view_mut(&mut self) -> NstImageMut {
        NstImageMut {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format: self.format as u32,
            pixels: self.bytes.as_mut_ptr().cast(),
        }
    }
}

pub fn overrides() -> NstOverrides {
    let mut o = std::mem::MaybeUninit::uninit();
    // SAFETY: nst_overrides_init fills the whole struct.
    unsafe {
        nst_overrides_init(o.as_mut_ptr(), std::mem::size_of::<NstOverrides>());
        o.assume_init()
    }
}

#[allow(clippy::too_many_arguments)]
pub fn stylize(
    engine: *mut NstEngine,
    preset: *const std::ffi::c_char,
    overrides: Option<&NstOverrides>,
    content: Option<&NstImage>,
    styles: *const NstImage,
    count: usize,
    output: Option<&NstImageMut>,
    progress: NstProgressCallback,
    user_data: *mut c_void,
) -> NstStatus {
    // SAFETY: the tests pass views of live buffers (or deliberate NULLs and bad geometry, which must be refused).
    unsafe {
        nst_stylize(
            engine,
            preset,
            overrides.map_or(null(), |o| o as *const _),
            content.map_or(null(), |c| c as *const _),
            styles,
            count,
            output.map_or(null(), |o| o as *const _),
            progress,
            user_data,
            null_mut(),
        )
    }
}
