//! What each fuzz target checks, shared by the fuzz targets (`fuzz_targets/`) and the regression test that
//! replays the corpora on every test run (`tests/suite/fuzz_corpora.rs`). Each check feeds one input to the real
//! entry point and fails (panics) only where the library broke a promise: a panic or crash inside it, an
//! error without a message, or a result that contradicts its own input.
#![allow(dead_code)]

use std::ffi::{CString, c_void};
use std::path::Path;
use std::ptr::{null, null_mut};

use nst::ffi::*;

/// Preset TOML: parsed or refused with a message naming the preset.
pub fn preset(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(err) = nst::preset::parse_preset(text, "fuzz", "fuzz-input", Path::new("/nonexistent")) {
        let message = err.to_string();
        assert!(message.contains("fuzz-input"), "an error that does not name the preset: {message}");
    }
}

/// An ONNX model: a VGG19 with consistent weights, or refused with a message.
pub fn model_import(data: &[u8]) {
    match nst::nst_onnx::import::vgg19_from_bytes(data, "fuzz-input") {
        Ok(model) => {
            assert_eq!(model.convs.len(), 16);
            for conv in &model.convs {
                assert!(!conv.bias.is_empty() && conv.weight.len() % (9 * conv.bias.len()) == 0);
            }
        }
        Err(err) => assert!(!err.to_string().is_empty()),
    }
}

/// An encoded image: decoded with consistent sizes, or refused with a message naming it.
pub fn image_decode(data: &[u8]) {
    match nst::image_io::decode_image(data, "fuzz-input") {
        Ok(image) => {
            assert_eq!(image.rgb.len(), 3 * image.width * image.height);
            assert!(image.alpha.as_ref().is_none_or(|a| a.len() == image.width * image.height));
        }
        Err(err) => assert!(err.to_string().contains("fuzz-input"), "{err}"),
    }
}

/// An engine for [`abi_arguments`]: CPU, two threads, the repository's presets.
pub fn abi_engine(repo: &Path, ort_library: &Path) -> usize {
    let config = CString::new(format!(
        "provider = \"cpu\"\nthreads = 2\nort_library = '{}'\npresets_dir = '{}'\n",
        ort_library.display(),
        repo.join("presets").display()
    ))
    .expect("no NUL");
    let mut engine = null_mut();
    // SAFETY: a valid string and out pointer.
    let status = unsafe { nst_engine_create(config.as_ptr(), &mut engine) };
    assert_eq!(status, NstStatus::NstOk, "engine: {}", last_error());
    engine as usize
}

fn last_error() -> String {
    let mut buffer = vec![0u8; 4096];
    // SAFETY: a buffer of its length.
    let length = unsafe { nst_last_error(buffer.as_mut_ptr().cast(), buffer.len()) };
    String::from_utf8_lossy(&buffer[..length.min(buffer.len() - 1)]).into_owned()
}

/// Reads the fuzz input as a stream of choices (zeros once it runs out).
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let (first, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        *first
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn f64(&mut self) -> f64 {
        f64::from_le_bytes(std::array::from_fn(|_| self.byte()))
    }
}

/// A host image: a real buffer spanning `stride * height` bytes, or (for a geometry the library must refuse
/// as too large) a 16-byte buffer the library must never read.
struct HostImage {
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    pixels: Vec<u8>,
    null: bool,
}

impl HostImage {
    fn choose(c: &mut Choices) -> HostImage {
        let format = u32::from(c.byte() % 9); // 1..=7 are formats; 0 and 8 are not
        let bytes_per_pixel = [4usize, 1, 3, 4, 6, 8, 16, 16, 4][format as usize];
        let shape = c.byte();
        let (width, height) = if shape == 255 {
            (20_000 + c.u32() % 50_000, 20_000 + c.u32() % 50_000) // more than the accepted pixels
        } else {
            (u32::from(c.byte() % 72), u32::from(c.byte() % 72))
        };
        let padding = i64::from(c.byte() % 16) - 4; // may make the stride too short
        let stride = (width as i64 * bytes_per_pixel as i64 + padding).max(0) as usize;
        let huge = u64::from(width) * u64::from(height) > nst::ffi::NST_IMAGE_PIXELS_MAX
            || width.max(height) > nst::ffi::NST_IMAGE_SIDE_MAX;
        let span = if huge { 16 } else { stride * height as usize };
        let fill = c.byte();
        HostImage { width, height, stride, format, pixels: vec![fill; span.max(1)], null: c.byte() == 7 }
    }

    fn view(&self) -> NstImage {
        NstImage {
            width: self.width,
            height: self.height,
            stride: self.stride,
            format: self.format,
            pixels: if self.null { null() } else { self.pixels.as_ptr().cast() },
        }
    }
}

unsafe extern "C" fn stop_at(user_data: *mut c_void, step: u32, _total: u32, loss: f64) -> i32 {
    assert!(!loss.is_nan() || step > 0);
    i32::from(step >= user_data as usize as u32)
}

unsafe extern "C" fn look_at_preview(_user: *mut c_void, preview: *const NstImage) {
    // SAFETY: the library passes a valid view for the call.
    let preview = unsafe { &*preview };
    // SAFETY: as above: `stride * height` readable bytes.
    let bytes =
        unsafe { std::slice::from_raw_parts(preview.pixels.cast::<u8>(), preview.stride * preview.height as usize) };
    assert!(bytes.chunks(4).all(|p| p.len() < 4 || p[3] == 255));
}

/// `nst_stylize` with arguments drawn from the input: geometry, formats, strides, NULLs, overrides, style
/// lists and weights, presets (bundled, inline, garbage). Every refused call must leave the output
/// untouched and say why; every accepted one must write it. Runs are kept tiny (at most 3 iterations, 64 px).
pub fn abi_arguments(engine: usize, repo: &Path, data: &[u8]) {
    let mut c = Choices(data);
    let preset = match c.byte() % 4 {
        0 => Some("mosaic".to_string()),
        1 => Some(format!(
            "version = 1\n[style]\nimages = ['{}']\n[losses]\ncontent_layer = \"relu2_1\"\n\
             style_layers = [\"relu1_1\", \"relu2_1\"]\n[optimiser]\niterations = 2\n[output]\nsize = 32\n",
            repo.join("presets/images/waves.png").display()
        )),
        2 => Some(String::from_utf8_lossy(&data[..data.len().min(40)]).replace('\0', "")),
        _ => None,
    };
    let content = HostImage::choose(&mut c);
    let same_as_content = c.byte() % 4 != 0;
    let output_image = if same_as_content {
        HostImage {
            width: content.width,
            height: content.height,
            stride: content.stride,
            format: content.format,
            pixels: vec![0xAB; content.pixels.len()],
            null: false,
        }
    } else {
        HostImage::choose(&mut c)
    };
    let mut output_pixels = vec![0xABu8; output_image.pixels.len()];
    let style_count = usize::from(c.byte() % 4);
    let styles: Vec<HostImage> = (0..style_count).map(|_| HostImage::choose(&mut c)).collect();
    let style_views: Vec<NstImage> = styles.iter().map(HostImage::view).collect();
    let weights: Vec<f32> = (0..style_count).map(|_| f32::from(c.byte()) / 16.0 - 1.0).collect();

    let mut overrides = std::mem::MaybeUninit::uninit();
    // SAFETY: fills the whole struct.
    let mut overrides: NstOverrides = unsafe {
        nst_overrides_init(overrides.as_mut_ptr(), std::mem::size_of::<NstOverrides>());
        overrides.assume_init()
    };
    let model_path = CString::new("/nonexistent/vgg19.onnx").expect("no NUL");
    let flags = c.byte();
    if flags & 1 != 0 {
        overrides.struct_size = c.byte() as usize;
    }
    overrides.size = [16, 32, 48, 64, 9, 9000][usize::from(c.byte() % 6)];
    overrides.iterations = [1, 2, 3, 10_001][usize::from(c.byte() % 4)];
    overrides.seed = i64::from(c.byte()) - 8;
    overrides.style_weight = if flags & 2 != 0 { c.f64() } else { -1.0 };
    overrides.model_seed = i64::from(c.byte() % 3) - 1;
    overrides.model_path = if flags & 4 != 0 { model_path.as_ptr() } else { null() };
    overrides.pooling = u32::from(c.byte() % 4);
    overrides.init = u32::from(c.byte() % 4);
    overrides.keep_colours = i32::from(c.byte() % 5) - 2;
    overrides.match_colours = i32::from(c.byte() % 5) - 2;
    overrides.keep_detail = i32::from(c.byte() % 5) - 2;
    overrides.scales = u32::from(c.byte() % 10);
    overrides.style_scale = if flags & 8 != 0 { c.f64() } else { 0.0 };
    overrides.style_weights = if flags & 16 != 0 { weights.as_ptr() } else { null() };
    if flags & 32 != 0 {
        overrides.preview_iteration = u32::from(c.byte() % 4);
        overrides.preview = Some(look_at_preview);
    }
    let stop_after = usize::from(c.byte() % 4);

    let preset = preset.map(|p| CString::new(p).expect("NULs removed"));
    let content_view = content.view();
    let output_view = NstImageMut {
        width: output_image.width,
        height: output_image.height,
        stride: output_image.stride,
        format: output_image.format,
        pixels: if output_image.null { null_mut() } else { output_pixels.as_mut_ptr().cast() },
    };
    let mut report = std::mem::MaybeUninit::<NstRunReport>::zeroed();
    // SAFETY: every buffer spans what its view claims (or is refused as too large before it is read), the
    // strings are NUL-terminated and the callbacks match their types.
    let status = unsafe {
        nst_stylize(
            engine as *mut NstEngine,
            preset.as_ref().map_or(null(), |p| p.as_ptr()),
            if flags & 64 != 0 { null() } else { &overrides },
            &content_view,
            if style_count == 0 && flags & 128 == 0 { null() } else { style_views.as_ptr() },
            style_count,
            &output_view,
            Some(stop_at),
            (stop_after.max(1) * 3) as *mut c_void,
            report.as_mut_ptr(),
        )
    };
    let message = last_error();
    if status == NstStatus::NstOk {
        assert!(message.is_empty(), "success with a message: {message}");
    } else {
        assert!(!message.is_empty(), "{status:?} without a message");
        assert!(output_pixels.iter().all(|b| *b == 0xAB), "{status:?} ({message}) wrote the output");
    }
}
