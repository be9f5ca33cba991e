//! Per-call changes (`NstOverrides`), the callbacks and the run report.

use std::ffi::{c_char, c_void};

use super::pixels::NstImage;

/// Per-call changes to the preset. Initialise with `nst_overrides_init(&overrides, sizeof overrides)`, which
/// sets every field to "keep the preset's" and `struct_size` to the host's size: fields are only ever appended,
/// and a library reads the fields a host's struct has, defaulting the rest.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstOverrides {
    /// `sizeof(NstOverrides)` as the host knows it.
    pub struct_size: usize,
    /// Long side of the working image in pixels, `NST_SIZE_MIN..=NST_SIZE_MAX`; 0 keeps the preset's.
    pub size: u32,
    /// Optimiser iterations, `NST_ITERATIONS_MIN..=NST_ITERATIONS_MAX`; 0 keeps the preset's.
    pub iterations: u32,
    /// Seed of the noise start, 0..=`NST_SEED_MAX`; -1 keeps the preset's (other negatives are refused).
    pub seed: i64,
    /// Style weight (beta), 0..=`NST_STYLE_WEIGHT_MAX`; exactly -1 keeps the preset's (other negatives, NaN and
    /// infinities are refused).
    pub style_weight: f64,
    /// Seed of the built-in random VGG19, 0..=`NST_SEED_MAX` (selects the built-in model); -1 keeps the preset's
    /// (other negatives are refused).
    pub model_seed: i64,
    /// The model, NUL-terminated: an installed model's name (`"vgg19"`, installed by `nst model fetch` into the
    /// models folder: `NST_MODELS`, else the user's data folder), `"builtin"`, or a VGG19 file path (.onnx,
    /// .safetensors or .pth; a path needs a separator or one of those extensions). NULL keeps the preset's.
    pub model_path: *const c_char,
    /// 0 keeps the preset's, 1 max, 2 average.
    pub pooling: u32,
    /// 0 keeps the preset's, 1 content, 2 noise.
    pub init: u32,
    /// Keep the content's colours (luminance-only transfer): 1 yes, 0 no, -1 keeps the preset's.
    pub keep_colours: i32,
    /// Map the style's colour mean and covariance onto the content's: 1 yes, 0 no, -1 keeps the preset's.
    pub match_colours: i32,
    /// Coarse-to-fine scales, 1..=`NST_SCALES_MAX` (1: output size only); 0 keeps the preset's.
    pub scales: u32,
    /// Style image size relative to the output, `NST_STYLE_SCALE_MIN..=NST_STYLE_SCALE_MAX`; exactly 0 keeps the
    /// preset's (negatives, NaN and infinities are refused).
    pub style_scale: f64,
    /// Blend weights of the `styles` passed to `nst_stylize` (`style_count` positive values); NULL blends them
    /// equally. Ignored when the preset's own style images are used.
    pub style_weights: *const f32,
    /// After this iteration (counted over all scales; past the run's last one is refused) `preview` receives the
    /// current result; 0: the preset's `output.preview_at` (the last iteration if the run is shorter), else a
    /// fifth of the iterations (no preview without a `preview` callback).
    pub preview_iteration: u32,
    /// Receives the preview: RGBA8, sRGB, alpha 255, long side at most 256 pixels, the output's aspect. The image
    /// is borrowed for the call only.
    pub preview: NstPreviewCallback,
    /// Passed to `preview`.
    pub preview_user_data: *mut c_void,
    /// Spatial control: `style_mask_count` grey masks over the content (any size and format; white = that
    /// style applies), one per style image in use, in the same order; NULL uses the preset's masks when the
    /// preset's own style images are used, and none otherwise.
    pub style_masks: *const NstImage,
    /// Number of `style_masks`: must equal the number of style images in use (the host's, else the preset's),
    /// which is checked before the array is read.
    pub style_mask_count: usize,
    /// Per-pixel content weight over the content (white: the full content weight, black: none); NULL uses the
    /// preset's `losses.content_mask`, if any.
    pub content_mask: *const NstImage,
    /// Strength: multiplies the style weight in use (the preset's, or `style_weight`), as a host's slider does,
    /// `NST_STRENGTH_MIN..=NST_STRENGTH_MAX`; exactly 0 keeps 1.
    pub style_weight_scale: f64,
    /// Number of `style_weights`, which must equal `style_count` when they are given; 0 (a host built before
    /// this field) takes `style_count`.
    pub style_weight_count: usize,
    /// When the working size is smaller than `content`: 1 adds the content's fine luminance detail, which
    /// scaling down lost, back onto the scaled-up result (sharper at the content's own size); 0 or -1 (unset)
    /// scales up plainly.
    pub keep_detail: i32,
}

/// Receives an early, low-resolution result (see `NstOverrides.preview`), on the thread running the filter.
pub type NstPreviewCallback = Option<unsafe extern "C" fn(user_data: *mut c_void, preview: *const NstImage)>;

/// What a finished run did.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct NstRunReport {
    /// Iterations done.
    pub iterations: u32,
    /// Objective evaluations done.
    pub evaluations: u32,
    /// Width the optimisation worked at.
    pub working_width: u32,
    /// Height the optimisation worked at.
    pub working_height: u32,
    /// Wall time of the run in seconds.
    pub seconds: f64,
    /// Final objective.
    pub loss_total: f64,
    /// Final weighted content loss.
    pub loss_content: f64,
    /// Final weighted style loss.
    pub loss_style: f64,
    /// Final weighted total-variation loss.
    pub loss_total_variation: f64,
    /// The execution provider that ran ("cpu", "cuda", "directml"), NUL-terminated.
    pub provider: [c_char; 16],
    /// Which model ran, NUL-terminated (truncated to fit).
    pub model: [c_char; 256],
}

/// Progress callback: called after each iteration with the step (1-based), the total and the current
/// objective. Return 0 to go on, anything else to cancel (the run then returns `NST_CANCELLED` and leaves the
/// output untouched). Called on the thread that called `nst_stylize`.
pub type NstProgressCallback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, step: u32, total: u32, loss: f64) -> i32>;

impl NstOverrides {
    /// The smallest `NstOverrides` accepted: the fields up to `preview_user_data`, the first version's.
    pub const OLDEST_SIZE: usize = std::mem::offset_of!(NstOverrides, style_masks);

    /// Every field "keep the preset's", with `struct_size` set to `size`.
    pub fn unset(size: usize) -> NstOverrides {
        NstOverrides {
            struct_size: size,
            size: 0,
            iterations: 0,
            seed: -1,
            style_weight: -1.0,
            model_seed: -1,
            model_path: std::ptr::null(),
            pooling: 0,
            init: 0,
            keep_colours: -1,
            match_colours: -1,
            scales: 0,
            style_scale: 0.0,
            style_weights: std::ptr::null(),
            preview_iteration: 0,
            preview: None,
            preview_user_data: std::ptr::null_mut(),
            style_masks: std::ptr::null(),
            style_mask_count: 0,
            content_mask: std::ptr::null(),
            style_weight_scale: 0.0,
            style_weight_count: 0,
            keep_detail: -1,
        }
    }
}
