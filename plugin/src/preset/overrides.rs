//! Per-run changes to a preset (command-line flags, C ABI parameters).

use nst_onnx::Pooling;

use super::{InitSpec, Preset};
use crate::error::{EngineError, Result};
use crate::stylize::ModelChoice;

/// Settings that replace the preset's when given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Long side of the output (16..=8192).
    pub size: Option<usize>,
    /// Optimiser iterations (1..=10000).
    pub iterations: Option<usize>,
    /// Seed of the noise start.
    pub seed: Option<u64>,
    /// The network's weights.
    pub model: Option<ModelChoice>,
    /// Pooling.
    pub pooling: Option<Pooling>,
    /// Starting image.
    pub init: Option<InitSpec>,
    /// Style weight (beta), 0..=1e12.
    pub style_weight: Option<f32>,
    /// Keep the content's colours (luminance-only transfer).
    pub keep_colours: Option<bool>,
    /// Match the style's colours to the content's.
    pub match_colours: Option<bool>,
    /// Coarse-to-fine scales (1..=8).
    pub scales: Option<usize>,
    /// Style image size relative to the output (0.1..=4).
    pub style_scale: Option<f32>,
}

impl Overrides {
    /// Applies to `preset`, checking each value's range.
    pub fn apply(&self, preset: &mut Preset) -> Result<()> {
        let invalid = |m: String| Err(EngineError::InvalidArgument(m));
        if let Some(size) = self.size {
            if !(16..=8192).contains(&size) {
                return invalid(format!("size {size} is outside 16..=8192"));
            }
            preset.settings.size = Some(size);
        }
        if let Some(iterations) = self.iterations {
            if !(1..=10_000).contains(&iterations) {
                return invalid(format!("iterations {iterations} is outside 1..=10000"));
            }
            preset.settings.iterations = iterations;
        }
        if let Some(seed) = self.seed {
            preset.settings.seed = seed;
        }
        if let Some(model) = &self.model {
            preset.settings.model = model.clone();
        }
        if let Some(pooling) = self.pooling {
            preset.settings.pooling = pooling;
        }
        if let Some(init) = &self.init {
            preset.init = init.clone();
        }
        if let Some(scale) = self.style_scale {
            if !(0.1..=4.0).contains(&scale) {
                return invalid(format!("style scale {scale} is outside 0.1..=4"));
            }
            preset.settings.style_scale = scale;
        }
        if let Some(scales) = self.scales {
            if !(1..=8).contains(&scales) {
                return invalid(format!("scales {scales} is outside 1..=8"));
            }
            preset.settings.multiscale.scales = scales;
        }
        if let Some(keep) = self.keep_colours {
            preset.settings.colour.keep_content_colours = keep;
        }
        if let Some(matched) = self.match_colours {
            preset.settings.colour.match_style_colours = matched;
        }
        if let Some(weight) = self.style_weight {
            if !(0.0..=1e12).contains(&weight) {
                return invalid(format!("style weight {weight} is outside 0..=1e12"));
            }
            preset.settings.losses.style_weight = weight;
        }
        Ok(())
    }
}
