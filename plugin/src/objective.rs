//! One evaluation of the style-transfer objective: image -> forward graph -> losses -> backward graph -> dL/dimage
//! (or the evaluation graph, which does all three).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use nst_onnx::Layer;

use crate::error::{EngineError, Result};
use crate::image_io::Planar;
use crate::losses::LossTerms;
use crate::losses::content::content_loss;
use crate::losses::mask::{self, mask_pyramid, masked_content_loss, masked_style_loss};
use crate::losses::style::{StyleTarget, style_loss};
use crate::losses::total_variation::total_variation;
use crate::network::{GraphLossInputs, GraphStyleInput, LossLayout, Network, Pass};
use crate::optim::Differentiable;
use crate::style_grams::StyleGrams;
use crate::tiling::{Rect, crop};

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
struct StyleTerm {
    target: StyleTarget,
    share: f32,
    mask: Option<Vec<f32>>,
    normaliser: f32,
}

/// What the image is pulled towards: content features (with their per-position weight) and, per style
/// layer, one blended Gram target, or one guided target per masked style image.
pub struct Targets {
    content: Vec<f32>,
    content_mask: Option<Vec<f32>>,
    /// Takes the paper's `1/2 sum (F - P)^2` to `sum (F - P)^2 / sum P^2`.
    content_normaliser: f32,
    style: Vec<Vec<StyleTerm>>,
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

pub(crate) fn load_image(pass: &mut Pass, image: &Planar) -> Result<()> {
    if image.width != pass.width() || image.height != pass.height() {
        return Err(EngineError::InvalidArgument(format!(
            "image is {}x{}, the pass expects {}x{}",
            image.width,
            image.height,
            pass.width(),
            pass.height()
        )));
    }
    pass.image_mut().copy_from_slice(&image.rgb);
    Ok(())
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
        load_image(pass, content)?;
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
                        .ok_or_else(|| EngineError::InvalidArgument("no style image".into()))?;
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

/// The loss graph's layout and its style terms for these targets: each term's Gram target and
/// `weight / (N M)^2`, both for the mask's mass `M = sum m^2` where a mask guides it (as the Rust losses
/// compute them), and the mask.
fn graph_style_terms<'t>(
    settings: &LossSettings,
    targets: &'t Targets,
    width: usize,
    height: usize,
) -> (LossLayout, Vec<GraphStyleInput<'t>>) {
    let mut style_terms = Vec::new();
    let mut inputs = Vec::new();
    for ((layer, layer_weight), terms) in settings.style_layers.iter().zip(&targets.style) {
        let scale = 1usize << layer.downsampling();
        let positions = (width / scale) * (height / scale);
        for term in terms {
            let weight = settings.style_weight * layer_weight * term.share * term.normaliser;
            let (gram, mass) = match &term.mask {
                None => (term.target.gram.clone(), positions as f64),
                Some(mask) => {
                    let mass = mask::mass(mask);
                    let target_scale = (mass / positions as f64) as f32;
                    (term.target.gram.iter().map(|a| a * target_scale).collect(), mass)
                }
            };
            // An empty mask contributes nothing (the Rust loss returns zero for it).
            let nm2 = (term.target.channels as f64 * mass).powi(2);
            let scale = if mass <= mask::EMPTY_MASS { 0.0 } else { (weight as f64 / nm2) as f32 };
            style_terms.push((*layer, term.mask.is_some()));
            inputs.push(GraphStyleInput { target: gram, scale, mask: term.mask.as_deref() });
        }
    }
    let layout = LossLayout {
        content_layer: settings.content_layer,
        content_masked: targets.content_mask.is_some(),
        style_terms,
    };
    (layout, inputs)
}

/// The objective the optimiser minimises, with the buffers it reuses on every evaluation.
pub struct StyleObjective<'a> {
    network: &'a mut Network,
    pass: Pass,
    settings: LossSettings,
    targets: Targets,
    gram_scratch: Vec<Vec<f32>>,
    masked_scratch: Vec<Vec<f32>>,
    latest_terms: Rc<Cell<LossTerms>>,
    phase_times: PhaseTimes,
}

/// Where evaluation time went, accumulated over evaluations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhaseTimes {
    /// Evaluations counted.
    pub evaluations: usize,
    /// Seconds in ONNX Runtime (forward and backward graphs).
    pub graphs: f64,
    /// Seconds in the Rust-side losses, gradients and copies.
    pub rust: f64,
}

impl<'a> StyleObjective<'a> {
    /// An objective over `pass`'s image size. Where the network runs its losses as a graph, its evaluation
    /// graph is attached to the pass.
    pub fn new(network: &'a mut Network, mut pass: Pass, settings: LossSettings, targets: Targets) -> Result<Self> {
        let gram_scratch =
            targets.style.iter().map(|t| vec![0.0; t[0].target.channels * t[0].target.channels]).collect();
        // Guided Grams in Rust need the masked features of their layer.
        let masked_scratch = targets
            .style
            .iter()
            .zip(&settings.style_layers)
            .map(|(terms, (layer, _))| match terms.iter().any(|t| t.mask.is_some()) && !network.graph_losses() {
                true => vec![0.0; pass.feature(*layer).map_or(0, |map| map.values.len())],
                false => Vec::new(),
            })
            .collect();
        if network.graph_losses() {
            let (layout, style) = graph_style_terms(&settings, &targets, pass.width(), pass.height());
            let inputs = GraphLossInputs {
                content_target: &targets.content,
                content_weight: settings.content_weight * targets.content_normaliser,
                content_mask: targets.content_mask.as_deref(),
                style,
            };
            network.attach_graph_losses(&mut pass, layout, &inputs)?;
        }
        Ok(StyleObjective {
            network,
            pass,
            settings,
            targets,
            gram_scratch,
            masked_scratch,
            latest_terms: Rc::default(),
            phase_times: PhaseTimes::default(),
        })
    }

    /// Gives the pass back, to be reused for the next image of the same size.
    pub fn into_pass(mut self) -> Pass {
        self.pass.detach_evaluation();
        self.pass
    }

    /// Whether the losses run as a graph where the feature maps are (rather than in Rust on the host).
    pub fn losses_in_graph(&self) -> bool {
        self.pass.has_graph_losses()
    }

    /// Where the time of the evaluations so far went.
    pub fn phase_times(&self) -> PhaseTimes {
        self.phase_times
    }

    /// A handle that always holds the terms of the latest evaluation (readable while the optimiser runs).
    pub fn latest_terms(&self) -> Rc<Cell<LossTerms>> {
        self.latest_terms.clone()
    }

    /// Evaluates and returns the separate terms, writing the gradient.
    pub fn evaluate_terms(&mut self, image: &[f32], gradient: &mut [f32]) -> Result<LossTerms> {
        let start = Instant::now();
        self.pass.image_mut().copy_from_slice(image);
        let (mut terms, graphs) = if self.pass.has_graph_losses() { self.graph_losses()? } else { self.host_losses()? };
        gradient.copy_from_slice(self.pass.image_gradient());
        let (height, width) = (self.pass.height(), self.pass.width());
        // Per pixel, so that its weight does not depend on the image's size.
        let tv_weight = self.settings.tv_weight / (height * width) as f32;
        terms.total_variation = total_variation(image, 3, height, width, tv_weight, gradient);
        self.latest_terms.set(terms);
        self.phase_times.evaluations += 1;
        self.phase_times.graphs += graphs.as_secs_f64();
        self.phase_times.rust += (start.elapsed() - graphs).as_secs_f64();
        Ok(terms)
    }

    /// The evaluation graph: returns the terms and the time in it.
    fn graph_losses(&mut self) -> Result<(LossTerms, Duration)> {
        let start = Instant::now();
        let (style, content) = self.network.evaluate(&mut self.pass)?;
        Ok((LossTerms { content, style, total_variation: 0.0 }, start.elapsed()))
    }

    /// Forward graph, Rust losses, backward graph: returns the terms and the time in the graphs.
    fn host_losses(&mut self) -> Result<(LossTerms, Duration)> {
        let forward_start = Instant::now();
        self.network.forward(&mut self.pass)?;
        let forward = forward_start.elapsed();
        let mut terms = LossTerms::default();
        {
            let (features, mut gradients) = self.pass.taps_and_gradients();
            for (map, tap_gradient) in features.iter().zip(gradients.iter_mut()) {
                // The first loss on a tap writes its gradient; later ones add (no clearing pass).
                let mut written = false;
                for (i, (layer, layer_weight)) in self.settings.style_layers.iter().enumerate() {
                    if *layer != map.layer {
                        continue;
                    }
                    for term in &self.targets.style[i] {
                        let weight = self.settings.style_weight * layer_weight * term.share * term.normaliser;
                        terms.style += match &term.mask {
                            None => style_loss(
                                map.values,
                                map.positions,
                                &term.target,
                                weight,
                                &mut self.gram_scratch[i],
                                written,
                                tap_gradient,
                            ),
                            Some(mask) => masked_style_loss(
                                map.values,
                                map.positions,
                                mask,
                                &term.target,
                                weight,
                                &mut self.masked_scratch[i],
                                &mut self.gram_scratch[i],
                                written,
                                tap_gradient,
                            ),
                        };
                        written = true;
                    }
                }
                if !written {
                    tap_gradient.fill(0.0);
                }
                if map.layer == self.settings.content_layer {
                    let target = &self.targets.content;
                    let weight = self.settings.content_weight * self.targets.content_normaliser;
                    terms.content += match &self.targets.content_mask {
                        None => content_loss(map.values, target, weight, tap_gradient),
                        Some(mask) => masked_content_loss(map.values, target, mask, weight, tap_gradient),
                    };
                }
            }
        }
        let backward_start = Instant::now();
        self.network.backward(&mut self.pass)?;
        Ok((terms, forward + backward_start.elapsed()))
    }
}

impl Differentiable for StyleObjective<'_> {
    fn evaluate(&mut self, x: &[f32], gradient: &mut [f32]) -> Result<f64> {
        Ok(self.evaluate_terms(x, gradient)?.total())
    }
}
