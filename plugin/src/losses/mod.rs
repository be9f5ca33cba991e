//! The losses of Gatys et al. and their gradients with respect to the feature maps, computed in Rust.
//!
//! Content: `1/2 sum (F - P)^2` at one layer. Style: for each layer, `E = sum (G - A)^2 / (4 N^2 M^2)` with `G`
//! the Gram matrix of the `N x M` feature map and `A` the style target's; the total is weighted by per-layer
//! weights. Total variation acts on the image itself. Gradients are added into caller buffers, so one layer can
//! serve both content and style.
//!
//! These are the paper's formulas. The targets ([`crate::targets`]) hold constants that multiply each by a constant of its
//! target so that the terms have no units: content `sum (F - P)^2 / sum P^2`, each style layer
//! `sum (G - A)^2 / sum A^2`, total variation per pixel. Rescaling a network's feature maps, or the image's
//! size, then leaves every term as it was.

pub mod content;
pub mod gram;
pub mod mask;
mod settings;
pub mod style;
pub mod total_variation;

pub use settings::LossSettings;

/// The loss terms of one evaluation, each already multiplied by its weight.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LossTerms {
    /// alpha x content loss.
    pub content: f64,
    /// beta x weighted style loss.
    pub style: f64,
    /// Total-variation weight x total variation.
    pub total_variation: f64,
}

impl LossTerms {
    /// The objective the optimiser minimises.
    pub fn total(&self) -> f64 {
        self.content + self.style + self.total_variation
    }
}
