//! What the image is pulled towards: the content's features and the styles' Gram statistics at the working
//! size, with the masks that say where each applies and the constants that make each term unit-free.

mod style_grams;

pub use style_grams::StyleGrams;

use crate::error::{EngineError, Result};
use crate::fit::tiling::{Rect, crop};
use crate::image_io::Planar;
use crate::losses::LossSettings;
use crate::losses::mask::mask_pyramid;
use crate::losses::style::StyleTarget;
use crate::network::{Network, Pass};

/// Spatial control at the working size: planes of `width x height` values in [0, 1].
#[derive(Debug, Clone, Default)]
pub struct WorkingMasks {
    /// One mask per style image (where that style applies), or empty: every style everywhere, blended.
    pub style: Vec<Vec<f32>>,
    /// Per-pixel content weight; `None`: uniform.
    pub content: Option<Vec<f32>>,
}

impl WorkingMasks {
    /// The masks of the `rect` part of a `width`-pixel-wide working image.
    pub fn crop(&self, width: usize, rect: Rect) -> WorkingMasks {
        WorkingMasks {
            style: self.style.iter().map(|mask| crop(mask, 1, width, rect)).collect(),
            content: self.content.as_ref().map(|mask| crop(mask, 1, width, rect)),
        }
    }
}

/// Refuses style masks that do not pair one to one with the style images (none at all is fine).
pub fn check_mask_count(masks: usize, styles: usize) -> Result<()> {
    if masks != 0 && masks != styles {
        return Err(EngineError::InvalidArgument(format!(
            "{masks} style masks for {styles} style images: give one mask per style image"
        )));
    }
    Ok(())
}

/// One style term of one layer: a Gram target, its share of the style weight, where it applies, and the factor
/// that takes the paper's loss to a unit-free one.
pub(crate) struct StyleTerm {
    pub(crate) target: StyleTarget,
    pub(crate) share: f32,
    pub(crate) mask: Option<Vec<f32>>,
    pub(crate) normaliser: f32,
}

/// What the image is pulled towards: content features (with their per-position weight) and, per style
/// layer, one blended Gram target, or one guided target per masked style image.
pub struct Targets {
    pub(crate) content: Vec<f32>,
    pub(crate) content_mask: Option<Vec<f32>>,
    /// Takes the paper's `1/2 sum (F - P)^2` to `sum (F - P)^2 / sum P^2`.
    pub(crate) content_normaliser: f32,
    pub(crate) style: Vec<Vec<StyleTerm>>,
}

/// The smallest squared norm a target is divided by, per element: a black content or style image has all-zero
/// deep features, and its terms stay finite.
const MIN_SQUARED_NORM_PER_ELEMENT: f64 = 1e-12;

/// The factor that takes the paper's style loss `sum (G - A)^2 / (4 N^2 M^2)` of a target `A` (`N x N`, for `M`
/// positions) to `sum (G - A)^2 / sum A^2`. A guided term's target is `A` scaled by its mask's share of the
/// positions, and its loss is divided by the mask's mass instead of `M`: the factor is the same.
fn style_normaliser(target: &StyleTarget, positions: usize) -> f32 {
    let squared_norm: f64 = target.gram.iter().map(|a| (*a as f64) * (*a as f64)).sum();
    let nm = target.channels as f64 * positions as f64;
    (4.0 * nm * nm / squared_norm.max(MIN_SQUARED_NORM_PER_ELEMENT * nm * nm)) as f32
}

/// The factor that takes the paper's content loss `1/2 sum (F - P)^2` to `sum (F - P)^2 / sum P^2`.
fn content_normaliser(target: &[f32]) -> f32 {
    let squared_norm: f64 = target.iter().map(|p| (*p as f64) * (*p as f64)).sum();
    (2.0 / squared_norm.max(MIN_SQUARED_NORM_PER_ELEMENT * target.len().max(1) as f64)) as f32
}

impl Targets {
    /// Runs the content image and each style image (with blend weights) through the network. `pass` is the
    /// output-sized pass, which is reused for the content image. `masks` are at the pass's size.
    pub fn compute(
        network: &mut Network,
        pass: &mut Pass,
        settings: &LossSettings,
        content: &Planar,
        styles: &[(Planar, f32)],
        masks: &WorkingMasks,
    ) -> Result<Self> {
        let grams = styles
            .iter()
            .map(|(style, weight)| Ok((StyleGrams::whole(network, settings, style)?, *weight)))
            .collect::<Result<Vec<_>>>()?;
        Self::from_grams(network, pass, settings, content, &grams, masks)
    }

    /// Runs the content image through the network and scales each style's Gram matrices (with blend weights)
    /// to the pass's size: the style statistics are computed once and serve every tile of a large image.
    pub fn from_grams(
        network: &mut Network,
        pass: &mut Pass,
        settings: &LossSettings,
        content: &Planar,
        styles: &[(StyleGrams, f32)],
        masks: &WorkingMasks,
    ) -> Result<Self> {
        check_mask_count(masks.style.len(), styles.len())?;
        pass.load(content)?;
        network.forward(pass)?;
        let content_features = pass.feature(settings.content_layer).expect("content layer is a tap").values.to_vec();
        let (width, height) = (pass.width(), pass.height());
        // Each mask is pooled once to every level a loss layer needs.
        let levels = settings.taps().iter().map(|l| l.downsampling() + 1).max().unwrap_or(1);
        let pyramid = |mask: &Vec<f32>| mask_pyramid(mask, width, height, levels);
        let style_pyramids: Vec<Vec<Vec<f32>>> = masks.style.iter().map(pyramid).collect();
        let total_weight: f32 = styles.iter().map(|(_, w)| w).sum();
        let style: Vec<Vec<StyleTerm>> = settings
            .style_layers
            .iter()
            .enumerate()
            .map(|(i, (layer, _))| {
                let output_positions = pass.feature(*layer).expect("style layer is a tap").positions;
                let targets: Vec<(StyleTarget, f32)> =
                    styles.iter().map(|(grams, weight)| (grams.target(i, output_positions), *weight)).collect();
                if masks.style.is_empty() {
                    let target = StyleTarget::blend(&targets)
                        .ok_or_else(|| EngineError::Internal("no style image reached the targets".into()))?;
                    let normaliser = style_normaliser(&target, output_positions);
                    Ok(vec![StyleTerm { target, share: 1.0, mask: None, normaliser }])
                } else {
                    Ok(targets
                        .into_iter()
                        .zip(&style_pyramids)
                        .map(|((target, weight), pyramid)| StyleTerm {
                            normaliser: style_normaliser(&target, output_positions),
                            target,
                            share: weight / total_weight,
                            mask: Some(pyramid[layer.downsampling()].clone()),
                        })
                        .collect())
                }
            })
            .collect::<Result<_>>()?;
        let content_mask =
            masks.content.as_ref().map(|mask| pyramid(mask).swap_remove(settings.content_layer.downsampling()));
        let content_normaliser = content_normaliser(&content_features);
        Ok(Targets { content: content_features, content_mask, content_normaliser, style })
    }
}
