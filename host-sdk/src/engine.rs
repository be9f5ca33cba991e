//! A plugin engine with a safe API: runs with a progress closure and a cancel token.

use std::ffi::{CString, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use image::DynamicImage;

use crate::images::{ImageView, ImageViewMut, bytes_of, to_supported};
use crate::{HostError, Plugin};
use nst_sys::abi::{NstEngine, NstImage, NstOverrides, NstRunReport, NstStatus};

/// `NST_BUFFER_TOO_SMALL`, as the raw code the exports return.
pub(crate) const STATUS_BUFFER_TOO_SMALL: u32 = NstStatus::NstBufferTooSmall as u32;

/// Cancels a run from any thread; the run stops after its current iteration.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A fresh token.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the run to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether cancellation was asked for.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Per-run changes to the preset; `None` keeps the preset's value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Long side of the working image (16..=8192).
    pub size: Option<u32>,
    /// Iterations (1..=10000).
    pub iterations: Option<u32>,
    /// Seed of the noise start.
    pub seed: Option<u64>,
    /// Style weight (0..=1e12).
    pub style_weight: Option<f64>,
    /// Strength: multiplies the style weight in use, the preset's or `style_weight` (0.01..=100).
    pub strength: Option<f64>,
    /// Built-in model with this weight seed.
    pub model_seed: Option<u64>,
    /// The model: an installed model's name (`"vgg19"`, after `nst model fetch`), `"builtin"`, or a VGG19 file
    /// (.onnx, .safetensors or .pth; a path needs a separator or one of those extensions).
    pub model_path: Option<PathBuf>,
    /// `Some(true)` max pooling, `Some(false)` average.
    pub max_pooling: Option<bool>,
    /// `Some(true)` start from noise, `Some(false)` from the content.
    pub noise_init: Option<bool>,
    /// Keep the content's colours (luminance-only transfer).
    pub keep_colours: Option<bool>,
    /// Match the style's colours to the content's.
    pub match_colours: Option<bool>,
    /// Coarse-to-fine scales (1..=8).
    pub scales: Option<u32>,
    /// Working smaller than the content: add the content's fine detail back onto the scaled-up result.
    pub keep_detail: Option<bool>,
    /// Style image size relative to the output (0.1..=4).
    pub style_scale: Option<f64>,
    /// Blend weights of the style images passed to a run (one each); empty blends them equally.
    pub style_weights: Vec<f32>,
    /// Hand the preview closure of [`Engine::stylize_with_preview`] the current result after this iteration.
    pub preview_iteration: Option<u32>,
    /// Spatial control: one mask over the content per style image in use (white: that style applies); any
    /// size, resized with the content. Empty: the preset's masks, if any.
    pub style_masks: Vec<image::GrayImage>,
    /// Per-pixel content weight over the content (white: full, black: none); `None`: the preset's, if any.
    pub content_mask: Option<image::GrayImage>,
}

fn grey_view(mask: &image::GrayImage) -> NstImage {
    NstImage {
        width: mask.width(),
        height: mask.height(),
        stride: mask.width() as usize,
        format: crate::PixelFormat::NstGray8 as u32,
        pixels: mask.as_raw().as_ptr().cast(),
    }
}

/// Progress after an iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations done (1-based).
    pub step: u32,
    /// Iterations in the run.
    pub total: u32,
    /// Current objective.
    pub loss: f64,
}

/// What a finished run did.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Iterations done.
    pub iterations: u32,
    /// Objective evaluations.
    pub evaluations: u32,
    /// Working size (width, height).
    pub working_size: (u32, u32),
    /// Wall time in seconds.
    pub seconds: f64,
    /// Final loss terms: total, content, style, total variation.
    pub losses: [f64; 4],
    /// Execution provider that ran.
    pub provider: String,
    /// Model that ran.
    pub model: String,
}

/// An engine inside the plugin. Runs on one engine are serialised by the plugin; it can be shared across threads.
pub struct Engine {
    plugin: Plugin,
    handle: NonNull<NstEngine>,
}

// SAFETY: the plugin documents that an engine may be used from several threads (it serialises runs).
unsafe impl Send for Engine {}
// SAFETY: as above.
unsafe impl Sync for Engine {}

pub(crate) fn c_string(text: &str, what: &str) -> Result<CString, HostError> {
    CString::new(text).map_err(|_| HostError::InvalidArgument(format!("{what} contains a NUL byte")))
}

struct CallbackState<'a> {
    progress: &'a mut dyn FnMut(Progress) -> bool,
    cancel: Option<&'a CancelToken>,
}

unsafe extern "C" fn preview_trampoline(user_data: *mut c_void, image: *const NstImage) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_data` is the closure passed by `Engine::stylize_with_preview`, alive for the call; the
        // image is an RGBA8 view valid for this call.
        let (sink, image) = unsafe { (&mut *user_data.cast::<&mut dyn FnMut(&image::RgbaImage)>(), &*image) };
        let bytes = image.stride * image.height as usize;
        // SAFETY: the plugin documents `stride * height` readable bytes.
        let pixels = unsafe { std::slice::from_raw_parts(image.pixels.cast::<u8>(), bytes) };
        let rows: Vec<u8> =
            pixels.chunks(image.stride).flat_map(|row| row[..image.width as usize * 4].iter().copied()).collect();
        if let Some(rgba) = image::RgbaImage::from_raw(image.width, image.height, rows) {
            sink(&rgba);
        }
    }));
}

unsafe extern "C" fn trampoline(user_data: *mut c_void, step: u32, total: u32, loss: f64) -> i32 {
    // A panic must not unwind into the plugin: it becomes a cancellation.
    catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `user_data` is the CallbackState passed by `Engine::stylize`, alive for the call.
        let state = unsafe { &mut *user_data.cast::<CallbackState>() };
        let go_on = (state.progress)(Progress { step, total, loss });
        i32::from(!go_on || state.cancel.is_some_and(CancelToken::is_cancelled))
    }))
    .unwrap_or(1)
}

fn c_text(raw: &[std::ffi::c_char]) -> String {
    let bytes: Vec<u8> = raw.iter().take_while(|c| **c != 0).map(|c| *c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

impl Engine {
    /// Creates an engine from configuration TOML (keys: `ort_library`, `provider`, `threads`, `presets_dir`).
    pub fn new(plugin: &Plugin, config_toml: &str) -> Result<Engine, HostError> {
        let config = c_string(config_toml, "configuration")?;
        let mut handle = std::ptr::null_mut();
        // SAFETY: valid C string and out-pointer.
        plugin.check(unsafe { (plugin.functions.engine_create)(config.as_ptr(), &mut handle) })?;
        let handle = NonNull::new(handle)
            .ok_or_else(|| HostError::Internal("the engine handle is NULL after a successful create".into()))?;
        Ok(Engine { plugin: plugin.clone(), handle })
    }

    /// Calls a JSON-writing function with a buffer, once when 64 KiB suffice (a benchmark must not run twice).
    fn read_json(&self, call: impl Fn(*mut std::ffi::c_char, usize, *mut usize) -> u32) -> Result<String, HostError> {
        let mut buffer = vec![0u8; 64 * 1024];
        let mut needed = 0usize;
        let mut status = call(buffer.as_mut_ptr().cast(), buffer.len(), &mut needed);
        if status == STATUS_BUFFER_TOO_SMALL {
            buffer = vec![0u8; needed];
            status = call(buffer.as_mut_ptr().cast(), buffer.len(), &mut needed);
        }
        self.plugin.check(status)?;
        buffer.truncate(needed.saturating_sub(1));
        String::from_utf8(buffer).map_err(|_| HostError::Internal("the description is not UTF-8".into()))
    }

    /// Drops the models and graph sessions the engine keeps from its recent runs, returning their memory.
    pub fn trim(&self) -> Result<(), HostError> {
        // SAFETY: live handle.
        let status = unsafe { (self.plugin.functions.engine_trim)(self.handle.as_ptr()) };
        self.plugin.check(status)
    }

    /// The filter description (JSON): parameters with defaults, ranges and help, and the bundled presets.
    pub fn describe(&self) -> Result<String, HostError> {
        // SAFETY: live handle; buffers sized as the call asks.
        self.read_json(|buffer, length, needed| unsafe {
            (self.plugin.functions.describe)(self.handle.as_ptr(), buffer, length, needed)
        })
    }

    /// One resolved preset (name, path or TOML text) as JSON.
    pub fn describe_preset(&self, preset: &str) -> Result<String, HostError> {
        let preset = c_string(preset, "preset")?;
        // SAFETY: live handle; buffers sized as the call asks.
        self.read_json(|buffer, length, needed| unsafe {
            (self.plugin.functions.describe_preset)(self.handle.as_ptr(), preset.as_ptr(), buffer, length, needed)
        })
    }

    /// Measures an evaluation of `preset`'s objective at `size` x `size` (JSON; see `nst_engine_benchmark`).
    pub fn benchmark(&self, preset: &str, size: u32, evaluations: u32) -> Result<String, HostError> {
        let preset = c_string(preset, "preset")?;
        // SAFETY: live handle; buffers sized as the call asks.
        self.read_json(|buffer, length, needed| unsafe {
            (self.plugin.functions.benchmark)(
                self.handle.as_ptr(),
                preset.as_ptr(),
                size,
                evaluations,
                buffer,
                length,
                needed,
            )
        })
    }

    /// Stylizes `content` into `output` (same geometry) with `preset`; `styles` replace the preset's style images
    /// when not empty. `progress` is called after each iteration; returning false, or cancelling `cancel`,
    /// stops the run with [`HostError::Cancelled`] and leaves `output` untouched.
    #[allow(clippy::too_many_arguments)]
    pub fn stylize(
        &self,
        preset: &str,
        overrides: &Overrides,
        content: &ImageView,
        styles: &[ImageView],
        output: &mut ImageViewMut,
        progress: impl FnMut(Progress) -> bool,
        cancel: Option<&CancelToken>,
    ) -> Result<Report, HostError> {
        self.stylize_with_preview(preset, overrides, content, styles, output, progress, cancel, &mut |_| {})
    }

    /// [`Engine::stylize`], handing `preview` an early low-resolution result (RGBA, long side at most 256) after
    /// `overrides.preview_iteration`.
    #[allow(clippy::too_many_arguments)]
    pub fn stylize_with_preview(
        &self,
        preset: &str,
        overrides: &Overrides,
        content: &ImageView,
        styles: &[ImageView],
        output: &mut ImageViewMut,
        mut progress: impl FnMut(Progress) -> bool,
        cancel: Option<&CancelToken>,
        mut preview: &mut dyn FnMut(&image::RgbaImage),
    ) -> Result<Report, HostError> {
        let preset = c_string(preset, "preset")?;
        let model_path =
            overrides.model_path.as_ref().map(|p| c_string(&p.display().to_string(), "model path")).transpose()?;
        let mut raw = std::mem::MaybeUninit::<NstOverrides>::uninit();
        // SAFETY: nst_overrides_init fills the whole struct.
        let mut raw = unsafe {
            (self.plugin.functions.overrides_init)(raw.as_mut_ptr(), std::mem::size_of::<NstOverrides>());
            raw.assume_init()
        };
        raw.size = overrides.size.unwrap_or(0);
        raw.iterations = overrides.iterations.unwrap_or(0);
        raw.seed = overrides.seed.map(|s| s as i64).unwrap_or(-1);
        raw.style_weight = overrides.style_weight.unwrap_or(-1.0);
        raw.model_seed = overrides.model_seed.map(|s| s as i64).unwrap_or(-1);
        raw.model_path = model_path.as_ref().map(|p| p.as_ptr()).unwrap_or(std::ptr::null());
        raw.pooling = match overrides.max_pooling {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        let flag = |value: Option<bool>| value.map_or(-1, i32::from);
        raw.keep_colours = flag(overrides.keep_colours);
        raw.match_colours = flag(overrides.match_colours);
        raw.keep_detail = flag(overrides.keep_detail);
        raw.scales = overrides.scales.unwrap_or(0);
        raw.style_scale = overrides.style_scale.unwrap_or(0.0);
        raw.style_weight_scale = overrides.strength.unwrap_or(0.0);
        if let Some(iteration) = overrides.preview_iteration {
            raw.preview_iteration = iteration;
            raw.preview = Some(preview_trampoline);
            raw.preview_user_data = (&mut preview as *mut &mut dyn FnMut(&image::RgbaImage)).cast();
        }
        if !overrides.style_weights.is_empty() {
            if overrides.style_weights.len() != styles.len() {
                return Err(HostError::InvalidArgument(format!(
                    "{} style weights for {} style images",
                    overrides.style_weights.len(),
                    styles.len()
                )));
            }
            raw.style_weights = overrides.style_weights.as_ptr();
            raw.style_weight_count = overrides.style_weights.len();
        }
        let mask_raws: Vec<NstImage> = overrides.style_masks.iter().map(grey_view).collect();
        if !mask_raws.is_empty() {
            raw.style_masks = mask_raws.as_ptr();
            raw.style_mask_count = mask_raws.len();
        }
        let content_mask_raw = overrides.content_mask.as_ref().map(grey_view);
        if let Some(mask) = &content_mask_raw {
            raw.content_mask = mask;
        }
        raw.init = match overrides.noise_init {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let content_raw = content.raw()?;
        let style_raws = styles.iter().map(ImageView::raw).collect::<Result<Vec<NstImage>, _>>()?;
        let output_raw = output.raw()?;
        let mut state = CallbackState { progress: &mut progress, cancel };
        let mut report = std::mem::MaybeUninit::<NstRunReport>::zeroed();
        // SAFETY: every pointer is valid for the call: the views were span-checked above, the strings and
        // structs live on this frame, and the callback state outlives the call.
        let status = unsafe {
            (self.plugin.functions.stylize)(
                self.handle.as_ptr(),
                preset.as_ptr(),
                &raw,
                &content_raw,
                if style_raws.is_empty() { std::ptr::null() } else { style_raws.as_ptr() },
                style_raws.len(),
                &output_raw,
                Some(trampoline),
                (&mut state as *mut CallbackState).cast(),
                report.as_mut_ptr(),
            )
        };
        self.plugin.check(status)?;
        // SAFETY: filled by a successful call (and zeroed before).
        let report = unsafe { report.assume_init() };
        Ok(Report {
            iterations: report.iterations,
            evaluations: report.evaluations,
            working_size: (report.working_width, report.working_height),
            seconds: report.seconds,
            losses: [report.loss_total, report.loss_content, report.loss_style, report.loss_total_variation],
            provider: c_text(&report.provider),
            model: c_text(&report.model),
        })
    }

    /// [`Engine::stylize`] on `image` crate images: the result has the content's size and pixel type (grey with
    /// alpha comes back as RGBA; float images as RGBA float).
    pub fn stylize_image(
        &self,
        preset: &str,
        overrides: &Overrides,
        content: &DynamicImage,
        styles: &[DynamicImage],
        progress: impl FnMut(Progress) -> bool,
        cancel: Option<&CancelToken>,
    ) -> Result<(DynamicImage, Report), HostError> {
        self.stylize_image_with_preview(preset, overrides, content, styles, progress, cancel, &mut |_| {})
    }

    /// [`Engine::stylize_image`] with a preview closure (see [`Engine::stylize_with_preview`]).
    #[allow(clippy::too_many_arguments)]
    pub fn stylize_image_with_preview(
        &self,
        preset: &str,
        overrides: &Overrides,
        content: &DynamicImage,
        styles: &[DynamicImage],
        progress: impl FnMut(Progress) -> bool,
        cancel: Option<&CancelToken>,
        preview: &mut dyn FnMut(&image::RgbaImage),
    ) -> Result<(DynamicImage, Report), HostError> {
        let (content, format) = to_supported(content);
        let styles: Vec<(DynamicImage, crate::PixelFormat)> = styles.iter().map(to_supported).collect();
        fn view(image: &DynamicImage, format: crate::PixelFormat) -> ImageView<'_> {
            ImageView {
                width: image.width(),
                height: image.height(),
                stride: image.width() as usize * format.bytes_per_pixel(),
                format,
                pixels: bytes_of(image),
            }
        }
        let style_views: Vec<ImageView> = styles.iter().map(|(image, format)| view(image, *format)).collect();
        let mut output = content.clone();
        let report = {
            let content_view = view(&content, format);
            let stride = content_view.stride;
            let mut output_view = ImageViewMut {
                width: content.width(),
                height: content.height(),
                stride,
                format,
                pixels: output_bytes(&mut output),
            };
            self.stylize_with_preview(
                preset,
                overrides,
                &content_view,
                &style_views,
                &mut output_view,
                progress,
                cancel,
                preview,
            )?
        };
        Ok((output, report))
    }
}

fn output_bytes(image: &mut DynamicImage) -> &mut [u8] {
    match image {
        DynamicImage::ImageLuma8(i) => i.as_mut(),
        DynamicImage::ImageRgb8(i) => i.as_mut(),
        DynamicImage::ImageRgba8(i) => i.as_mut(),
        DynamicImage::ImageRgb16(i) => bytemuck::cast_slice_mut(i.as_mut()),
        DynamicImage::ImageRgba16(i) => bytemuck::cast_slice_mut(i.as_mut()),
        DynamicImage::ImageRgba32F(i) => bytemuck::cast_slice_mut(i.as_mut()),
        _ => unreachable!("to_supported returns only the layouts above"),
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle came from nst_engine_create and is freed once.
        unsafe { (self.plugin.functions.engine_free)(self.handle.as_ptr()) };
    }
}
