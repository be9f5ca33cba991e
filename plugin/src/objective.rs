//! One evaluation of the style-transfer objective: image -> forward graph -> losses -> backward graph -> dL/dimage
//! (or the evaluation graph, which does all three).

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::losses::content::content_loss;
use crate::losses::mask::{self, masked_content_loss, masked_style_loss};
use crate::losses::style::style_loss;
use crate::losses::total_variation::total_variation;
use crate::losses::{LossSettings, LossTerms};
use crate::network::{GraphLossInputs, GraphStyleInput, LossLayout, Network, Pass};
use crate::optim::Differentiable;
use crate::targets::Targets;

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
