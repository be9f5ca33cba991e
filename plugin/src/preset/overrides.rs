//! Per-run changes to a preset (command-line flags, C ABI parameters).

use nst_onnx::Pooling;

use super::{InitSpec, Preset};
use crate::error::{EngineError, Result};
use crate::stylize::ModelChoice;
use nst_sys::limits;

/// Settings that replace the preset's when given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    /// Long side of the output ([`limits::SIZE`]).
    pub size: Option<usize>,
    /// Optimiser iterations ([`limits::ITERATIONS`]).
    pub iterations: Option<usize>,
    /// Seed of the noise start ([`limits::SEED`]).
    pub seed: Option<u64>,
    /// The network's weights.
    pub model: Option<ModelChoice>,
    /// Pooling.
    pub pooling: Option<Pooling>,
    /// Starting image.
    pub init: Option<InitSpec>,
    /// Style weight (beta), [`limits::STYLE_WEIGHT`].
    pub style_weight: Option<f64>,
    /// Keep the content's colours (luminance-only transfer).
    pub keep_colours: Option<bool>,
    /// Match the style's colours to the content's.
    pub match_colours: Option<bool>,
    /// Coarse-to-fine scales ([`limits::SCALES`]).
    pub scales: Option<usize>,
    /// Multiplies the style weight in use, the preset's or `style_weight` ([`limits::STRENGTH`]).
    pub strength: Option<f64>,
    /// Style image size relative to the output ([`limits::STYLE_SCALE`]).
    pub style_scale: Option<f64>,
    /// Add the content's fine detail back when the result is scaled up to the host's size.
    pub content_detail: Option<bool>,
}

impl Overrides {
    /// Applies to `preset`, checking each value against its range in [`nst_sys::limits`].
    pub fn apply(&self, preset: &mut Preset) -> Result<()> {
        let invalid = |m: String| EngineError::InvalidArgument(m);
        if let Some(size) = self.size {
            preset.settings.size = Some(limits::SIZE.check_count("size", size).map_err(invalid)?);
        }
        if let Some(iterations) = self.iterations {
            preset.settings.iterations = limits::ITERATIONS.check_count("iterations", iterations).map_err(invalid)?;
        }
        if let Some(seed) = self.seed {
            if i64::try_from(seed).is_err() {
                return Err(invalid(format!("seed {seed} is outside {}", limits::SEED)));
            }
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
            limits::STYLE_SCALE.check("style scale", scale).map_err(invalid)?;
            preset.settings.style_scale = scale as f32;
        }
        if let Some(scales) = self.scales {
            preset.settings.multiscale.scales = limits::SCALES.check_count("scales", scales).map_err(invalid)?;
        }
        if let Some(keep) = self.keep_colours {
            preset.settings.colour.keep_content_colours = keep;
        }
        if let Some(detail) = self.content_detail {
            preset.settings.content_detail = detail;
        }
        if let Some(matched) = self.match_colours {
            preset.settings.colour.match_style_colours = matched;
        }
        if let Some(weight) = self.style_weight {
            limits::STYLE_WEIGHT.check("style weight", weight).map_err(invalid)?;
            preset.settings.losses.style_weight = weight as f32;
        }
        if let Some(strength) = self.strength {
            limits::STRENGTH.check("strength", strength).map_err(invalid)?;
            let weight = preset.settings.losses.style_weight as f64 * strength;
            limits::STYLE_WEIGHT
                .check("style weight", weight)
                .map_err(|e| invalid(format!("{e} (the preset's times strength {strength})")))?;
            preset.settings.losses.style_weight = weight as f32;
        }
        Ok(())
    }
}
