//! The TOML layout of a preset (version 1). Unknown keys are refused; values keep their place in the file so
//! range errors can name the line.

use serde::Deserialize;
use toml::Spanned;

/// The only schema version read.
pub const SCHEMA_VERSION: i64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresetFile {
    pub version: Spanned<i64>,
    pub description: Option<Spanned<String>>,
    pub style: StyleSection,
    #[serde(default)]
    pub losses: LossesSection,
    #[serde(default)]
    pub optimiser: OptimiserSection,
    #[serde(default)]
    pub output: OutputSection,
    #[serde(default)]
    pub network: NetworkSection,
    #[serde(default)]
    pub init: InitSection,
    #[serde(default)]
    pub colour: ColourSection,
    #[serde(default)]
    pub multiscale: MultiscaleSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MultiscaleSection {
    pub scales: Option<Spanned<i64>>,
    pub factor: Option<Spanned<f64>>,
    pub iterations: Option<Spanned<Vec<Spanned<i64>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColourSection {
    pub keep_content_colours: Option<Spanned<bool>>,
    pub match_style_colours: Option<Spanned<bool>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StyleSection {
    pub images: Spanned<Vec<Spanned<String>>>,
    pub weights: Option<Spanned<Vec<Spanned<f64>>>>,
    pub scale: Option<Spanned<f64>>,
    pub masks: Option<Spanned<Vec<Spanned<String>>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossesSection {
    pub content_layer: Option<Spanned<String>>,
    pub content_weight: Option<Spanned<f64>>,
    pub content_mask: Option<Spanned<String>>,
    pub style_layers: Option<Spanned<Vec<Spanned<String>>>>,
    pub style_layer_weights: Option<Spanned<Vec<Spanned<f64>>>>,
    pub style_weight: Option<Spanned<f64>>,
    pub tv_weight: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptimiserSection {
    pub method: Option<Spanned<String>>,
    pub iterations: Option<Spanned<i64>>,
    pub history: Option<Spanned<i64>>,
    pub line_search: Option<Spanned<bool>>,
    pub learning_rate: Option<Spanned<f64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    pub size: Option<Spanned<i64>>,
    pub preview_at: Option<Spanned<i64>>,
    pub memory_budget_mb: Option<Spanned<i64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSection {
    pub model: Option<Spanned<String>>,
    pub model_seed: Option<Spanned<i64>>,
    pub pooling: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InitSection {
    pub from: Option<Spanned<String>>,
    pub seed: Option<Spanned<i64>>,
}
