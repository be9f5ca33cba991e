//! What shapes one run, and the sizes it works at.

use super::ModelChoice;

use nst_onnx::Pooling;

use crate::colour::ColourControl;
use crate::error::{EngineError, Result};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::optim::Optimiser;
use crate::targets::{WorkingMasks, check_mask_count};
use nst_sys::limits;

/// Where the optimisation starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Init {
    /// The content image (fastest to converge; keeps the layout).
    Content,
    /// Uniform noise in [0, 1] from the run's seed (the paper's white-noise start).
    Noise,
    /// A given image, resized to the working size.
    Image(Planar),
}

/// Everything that shapes one run, resolved from a preset and its overrides.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Layers and weights of the losses.
    pub losses: LossSettings,
    /// The optimiser.
    pub optimiser: Optimiser,
    /// Optimiser iterations ([`limits::ITERATIONS`]).
    pub iterations: usize,
    /// Long side of the output in pixels ([`limits::SIZE`]); `None` keeps the content's size.
    pub size: Option<usize>,
    /// Style image size relative to the output ([`limits::STYLE_SCALE`]).
    pub style_scale: f32,
    /// Pooling between VGG blocks.
    pub pooling: Pooling,
    /// Starting image.
    pub init: Init,
    /// Seed of the noise start.
    pub seed: u64,
    /// The network's weights.
    pub model: ModelChoice,
    /// Colour control (luminance-only transfer, style colour matching).
    pub colour: ColourControl,
    /// Coarse-to-fine schedule (one scale: off).
    pub multiscale: Multiscale,
    /// Deliver a low-resolution preview of the current result after this iteration (counted over all scales).
    pub preview_iteration: Option<usize>,
    /// A ceiling on the engine's memory budget for this run, MiB (the lower of the two applies): images over it
    /// are optimised in tiles.
    pub memory_budget_mb: Option<u64>,
    /// Where each style applies and how strongly the content holds.
    pub spatial: SpatialControl,
    /// When a host's output is larger than the working size: add back the content's fine luminance detail
    /// that scaling down lost (see [`crate::detail`]) instead of a plain upscale.
    pub content_detail: bool,
}

/// Spatial control (Gatys et al. 2017): masks over the content image, read as grey (white = 1). They are
/// resized with the content, so any resolution works.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpatialControl {
    /// One mask per style image (where that style applies, by guided Gram matrices), or empty: every style
    /// everywhere, blended.
    pub style_masks: Vec<Planar>,
    /// Per-pixel content weight (white: the full content weight, black: none); `None`: uniform.
    pub content_mask: Option<Planar>,
}

impl SpatialControl {
    /// The masks at the working size, as grey planes in [0, 1].
    pub(super) fn at(&self, width: usize, height: usize) -> WorkingMasks {
        let grey = |mask: &Planar| -> Vec<f32> {
            let sized = mask.resized(width, height);
            let plane = width * height;
            (0..plane)
                .map(|i| ((sized.rgb[i] + sized.rgb[plane + i] + sized.rgb[2 * plane + i]) / 3.0).clamp(0.0, 1.0))
                .collect()
        };
        WorkingMasks {
            style: self.style_masks.iter().map(grey).collect(),
            content: self.content_mask.as_ref().map(grey),
        }
    }
}

/// Long side of previews, in pixels.
pub(crate) const PREVIEW_SIDE: usize = 256;

/// Coarse-to-fine optimisation: start small, grow by `factor` up to the output size, each scale starting from
/// the previous result upsampled. Coarse scales are cheap and shape the large structures: from a noise start it
/// reaches a given full-size loss sooner than a single scale; from the content start it does not (measured in
/// docs/performance.md).
#[derive(Debug, Clone, PartialEq)]
pub struct Multiscale {
    /// Number of scales ([`limits::SCALES`]); 1 optimises at the output size only.
    pub scales: usize,
    /// Size ratio between neighbouring scales ([`limits::SCALE_FACTOR`]; about sqrt 2 by default).
    pub factor: f32,
    /// Iterations per scale, coarse to fine; missing entries repeat the last; empty: `Settings::iterations` each.
    pub iterations: Vec<usize>,
}

impl Default for Multiscale {
    fn default() -> Self {
        Multiscale { scales: 1, factor: std::f32::consts::SQRT_2, iterations: Vec::new() }
    }
}

impl Multiscale {
    /// (working width, working height, iterations) of each scale, coarse to fine, for an output of `out_w` x
    /// `out_h` optimised with `iterations` when no per-scale list is given.
    pub fn schedule(&self, out_w: usize, out_h: usize, iterations: usize) -> Vec<(usize, usize, usize)> {
        (0..self.scales)
            .map(|k| {
                let shrink = (self.factor as f64).powi((self.scales - 1 - k) as i32);
                let long = ((out_w.max(out_h) as f64 / shrink).round() as usize).max(32);
                let (w, h) = output_size(out_w, out_h, Some(long));
                let its = if self.iterations.is_empty() {
                    iterations
                } else {
                    *self.iterations.get(k).or(self.iterations.last()).expect("not empty")
                };
                (working_side(w), working_side(h), its)
            })
            .collect()
    }
}

/// Rounds to a multiple of 16, at least 16 (the four 2x2 pools before relu5_1 need it).
pub fn working_side(side: usize) -> usize {
    (((side as f64) / 16.0).round() as usize).max(1) * 16
}

/// A style image's working size: its long side `style_scale` times the working image's, its own aspect kept.
pub(super) fn style_working_size(style: &Planar, work_w: usize, work_h: usize, style_scale: f32) -> (usize, usize) {
    let long = (work_w.max(work_h) as f32 * style_scale).round() as usize;
    let (w, h) = output_size(style.width, style.height, Some(long));
    (working_side(w), working_side(h))
}

pub use nst_sys::sizing::output_size;

/// Refuses settings and images no run can use, before any work.
pub(super) fn validate(content: &Planar, styles: &[(Planar, f32)], settings: &Settings) -> Result<()> {
    let invalid = EngineError::InvalidArgument;
    if styles.is_empty() {
        return Err(invalid("no style image given".into()));
    }
    if let Some((_, weight)) = styles.iter().find(|(_, w)| !(w.is_finite() && *w > 0.0)) {
        return Err(invalid(format!("style image weight {weight} must be positive")));
    }
    limits::ITERATIONS.check_count("iterations", settings.iterations).map_err(invalid)?;
    if let Some(size) = settings.size {
        limits::SIZE.check_count("size", size).map_err(invalid)?;
    }
    let multiscale = &settings.multiscale;
    limits::SCALES.check_count("multiscale scales", multiscale.scales).map_err(invalid)?;
    limits::SCALE_FACTOR.check("multiscale factor", multiscale.factor as f64).map_err(invalid)?;
    for &iterations in &multiscale.iterations {
        limits::ITERATIONS.check_count("multiscale iterations", iterations).map_err(invalid)?;
    }
    limits::STYLE_SCALE.check("style scale", settings.style_scale as f64).map_err(invalid)?;
    if content.width == 0 || content.height == 0 {
        return Err(invalid("the content image is empty".into()));
    }
    check_mask_count(settings.spatial.style_masks.len(), styles.len())
}
