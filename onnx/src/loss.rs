//! The losses of the paper and their gradients as graph nodes, for the evaluation graph
//! ([`crate::evaluation`]).
//!
//! The formulas are those of the engine's Rust losses (the
//! reference): per style term `scale/4 * sum (G - A)^2` with gradient `scale * (G - A) F`, where `G = F F^T`
//! and `scale = weight / (N M)^2`; content `weight/2 * sum (F - P)^2` with gradient `weight * (F - P)`. A
//! masked style term (spatial control) uses `F m` for `F` in `G` and `F m^2` in the gradient, with its target
//! and scale computed for the mask's mass by the caller; a masked content term weighs each position by `c`.

use crate::backward::gradient_input;
use crate::graph::{Dim, GraphBuilder, feature_dims, int};
use crate::vgg::Layer;

/// Output: the weighted style loss, `[1]`.
pub const STYLE_LOSS: &str = "style_loss";
/// Output: the weighted content loss, `[1]`.
pub const CONTENT_LOSS: &str = "content_loss";
/// Input: the content image's features at the content layer (`P`), shaped like that layer's output.
pub const CONTENT_TARGET: &str = "content_target";
/// Input: the content weight (alpha), `[1]`.
pub const CONTENT_WEIGHT: &str = "content_weight";
/// Input of a masked content term: the per-position weight `c`, `[1, 1, h, w]` at the content layer.
pub const CONTENT_MASK: &str = "content_mask";

/// Input: the Gram target `A` of the `index`-th style term, `channels x channels`.
pub fn style_target_input(index: usize) -> String {
    format!("style_target_{index}")
}

/// Input: `weight / (N M)^2` of the `index`-th style term, `[1]`.
pub fn style_scale_input(index: usize) -> String {
    format!("style_scale_{index}")
}

/// Input of a masked style term: the mask `m` of the `index`-th term, `[1, 1, h, w]` at its layer.
pub fn style_mask_input(index: usize) -> String {
    format!("style_mask_{index}")
}

/// Which loss terms an evaluation graph computes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LossLayout {
    /// The content loss's layer.
    pub content_layer: Layer,
    /// Whether the content loss weighs positions by a mask.
    pub content_masked: bool,
    /// One style term per entry (a layer, and whether a mask guides it), numbered in this order.
    pub style_terms: Vec<(Layer, bool)>,
}

fn mask_dims(layer: Layer) -> Vec<Dim> {
    feature_dims(1, layer.downsampling())
}

impl LossLayout {
    /// Every layer a term reads, in network order.
    pub fn taps(&self) -> Vec<Layer> {
        let mut taps: Vec<Layer> = self.style_terms.iter().map(|(layer, _)| *layer).collect();
        taps.push(self.content_layer);
        taps.sort();
        taps.dedup();
        taps
    }
}

/// Adds `layout`'s content loss and style terms (inputs numbered in the layout's order) reading the ReLU
/// outputs by name: writes [`STYLE_LOSS`] and [`CONTENT_LOSS`] (declared as outputs) and each tap's gradient
/// to the tensor named [`gradient_input`].
pub(crate) fn add_losses(graph: &mut GraphBuilder, layout: &LossLayout) {
    let (content_layer, style_terms) = (layout.content_layer, &layout.style_terms);
    let half = graph.constant_f32("half", &[], &[0.5]);
    let quarter = graph.constant_f32("quarter_loss", &[], &[0.25]);
    let mut contributions: Vec<(Layer, String)> = Vec::new();

    let mut style_losses = Vec::new();
    for (index, &(layer, masked)) in style_terms.iter().enumerate() {
        let channels = layer.channels().1 as i64;
        let (target, scale) = (style_target_input(index), style_scale_input(index));
        graph.input(&target, &[Dim::Fixed(channels), Dim::Fixed(channels)]);
        graph.input(&scale, &[Dim::Fixed(1)]);
        let relu = layer.relu_name();
        // A mask weighs the features in the Gram matrix (F m) and once more in the gradient (F m^2).
        let (gram_input, gradient_input) = if masked {
            let mask = style_mask_input(index);
            graph.input(&mask, &mask_dims(layer));
            let weighted = graph.op("Mul", &[&relu, &mask], vec![]);
            let twice = graph.op("Mul", &[&weighted, &mask], vec![]);
            (weighted, twice)
        } else {
            (relu.clone(), relu.clone())
        };
        let flat_shape = graph.constant_i64(&format!("flat_shape_{index}"), &[2], &[channels, -1]);
        let features = graph.op("Reshape", &[&gram_input, &flat_shape], vec![]);
        // Gemm reads F transposed in place: a transposed copy would be as large as the feature map.
        let gram = graph.op("Gemm", &[&features, &features], vec![int("transB", 1)]);
        let difference = graph.op("Sub", &[&gram, &target], vec![]);
        let squared = graph.op("Mul", &[&difference, &difference], vec![]);
        let sum = graph.op("ReduceSum", &[&squared], vec![int("keepdims", 0)]);
        let quarter_sum = graph.op("Mul", &[&sum, &quarter], vec![]);
        style_losses.push(graph.op("Mul", &[&quarter_sum, &scale], vec![]));
        let factor = if masked { graph.op("Reshape", &[&gradient_input, &flat_shape], vec![]) } else { features };
        // Scaling the C x C difference, not the C x N product, spares a pass over a feature-map-sized tensor.
        let scaled = graph.op("Mul", &[&difference, &scale], vec![]);
        let product = graph.op("MatMul", &[&scaled, &factor], vec![]);
        let shape = graph.op("Shape", &[&relu], vec![]);
        contributions.push((layer, graph.op("Reshape", &[&product, &shape], vec![])));
    }
    if style_losses.is_empty() {
        let zero = graph.constant_f32("no_style_loss", &[1], &[0.0]);
        graph.op_into("Identity", &[&zero], STYLE_LOSS, vec![]);
    } else {
        let refs: Vec<&str> = style_losses.iter().map(String::as_str).collect();
        graph.op_into("Sum", &refs, STYLE_LOSS, vec![]);
    }

    graph.input(CONTENT_TARGET, &feature_dims(content_layer.channels().1, content_layer.downsampling()));
    graph.input(CONTENT_WEIGHT, &[Dim::Fixed(1)]);
    let difference = graph.op("Sub", &[&content_layer.relu_name(), CONTENT_TARGET], vec![]);
    // A content mask weighs each position's squared difference and so its gradient: c (F - P).
    let weighted = if layout.content_masked {
        graph.input(CONTENT_MASK, &mask_dims(content_layer));
        graph.op("Mul", &[&difference, CONTENT_MASK], vec![])
    } else {
        difference.clone()
    };
    let squared = graph.op("Mul", &[&weighted, &difference], vec![]);
    let sum = graph.op("ReduceSum", &[&squared], vec![int("keepdims", 0)]);
    let half_sum = graph.op("Mul", &[&sum, &half], vec![]);
    graph.op_into("Mul", &[&half_sum, CONTENT_WEIGHT], CONTENT_LOSS, vec![]);
    contributions.push((content_layer, graph.op("Mul", &[&weighted, CONTENT_WEIGHT], vec![])));

    for tap in layout.taps() {
        let parts: Vec<&str> = contributions.iter().filter(|(l, _)| *l == tap).map(|(_, g)| g.as_str()).collect();
        // A lone part is only renamed (ONNX Runtime removes the Identity); a one-input Sum would copy it.
        let op = if parts.len() == 1 { "Identity" } else { "Sum" };
        graph.op_into(op, &parts, &gradient_input(tap), vec![]);
    }
    graph.output(STYLE_LOSS, &[Dim::Fixed(1)]);
    graph.output(CONTENT_LOSS, &[Dim::Fixed(1)]);
}
