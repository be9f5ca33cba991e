//! Which layers the losses read and how much each weighs: what a preset's `[losses]` table becomes.

use nst_onnx::Layer;

/// Which layers the losses read and how they are weighted.
///
/// The terms have no units (see [`crate::losses`]): the content term is divided by its target's squared norm,
/// each style layer's by its target Gram matrix's, and total variation by the pixel count. So a weight means the
/// same on any VGG19 (whatever the scale of its feature maps) and at any image size, coarse scale or tile.
#[derive(Debug, Clone, PartialEq)]
pub struct LossSettings {
    /// The content layer (the paper: relu4_2).
    pub content_layer: Layer,
    /// alpha.
    pub content_weight: f32,
    /// Style layers with their per-layer weights (the paper: relu1_1..relu5_1, equal weights).
    pub style_layers: Vec<(Layer, f32)>,
    /// beta.
    pub style_weight: f32,
    /// Total-variation weight.
    pub tv_weight: f32,
}

impl LossSettings {
    /// Every layer a loss reads.
    pub fn taps(&self) -> Vec<Layer> {
        let mut taps: Vec<Layer> = self.style_layers.iter().map(|(l, _)| *l).collect();
        taps.push(self.content_layer);
        taps.sort();
        taps.dedup();
        taps
    }
}
