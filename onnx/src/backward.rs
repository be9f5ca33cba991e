//! The backward graph: the saved ReLU outputs and dL/dtap for each loss tap -> dL/dimage.
//!
//! Built for speed on ONNX Runtime's CPU provider: the input-gradient of a convolution is a plain `Conv` with
//! flipped, transposed weights (faster than `ConvTranspose`); ReLU backward multiplies by `Sign` of the ReLU
//! output (0 or 1, one pass, no boolean tensor); max-pool backward is an `Equal` + `Cast` + `Mul` mask (faster
//! than `Where` or pool indices); average-pool backward spreads the gradient, its 1/4 folded into the weights
//! of the convolution before it.

use crate::forward::{image_dims, layers_through};
use crate::graph::{GraphBuilder, conv3x3, feature_dims, int, keep_mask, nearest, pool2x2};
use crate::proto::{ModelProto, tensor_proto::DataType};
use crate::vgg::{Layer, Pooling, Vgg19};

/// Name of the output: `[1, 3, height, width]`, dL/dimage.
pub const IMAGE_GRADIENT: &str = "grad_image";

/// Name of the input carrying dL/d(ReLU output) of a tap layer.
pub fn gradient_input(layer: Layer) -> String {
    format!("grad_{}", layer.relu_name())
}

/// `W'[ci, co, kh, kw] = W[co, ci, 2 - kh, 2 - kw]`: the weights whose convolution is the input-gradient.
pub fn flipped_transposed(weight: &[f32], cin: usize, cout: usize) -> Vec<f32> {
    let mut flipped = vec![0.0; weight.len()];
    for co in 0..cout {
        for ci in 0..cin {
            for k in 0..9 {
                flipped[(ci * cout + co) * 9 + (8 - k)] = weight[(co * cin + ci) * 9 + k];
            }
        }
    }
    flipped
}

/// Builds the backward graph for losses at `taps` (the deepest tap ends the graph).
///
/// Returns `None` when `taps` is empty.
pub fn backward_graph(model: &Vgg19, taps: &[Layer], pooling: Pooling) -> Option<ModelProto> {
    let deepest = *taps.iter().max()?;
    let mut graph = GraphBuilder::new("nst_backward");
    for layer in layers_through(deepest) {
        graph.input(&layer.relu_name(), &feature_dims(layer.channels().1, layer.downsampling()));
    }
    add_backward(&mut graph, model, taps, pooling, Masks::FromFeatures);
    for layer in layers_through(deepest).filter(|layer| taps.contains(layer)) {
        graph.input(&gradient_input(layer), &feature_dims(layer.channels().1, layer.downsampling()));
    }
    Some(graph.into_model(&format!(
        "VGG19 backward from {} ({} pooling) of {}",
        deepest.relu_name(),
        pooling.name(),
        model.description
    )))
}

/// Where the backward pass finds which positions pass a gradient.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Masks {
    /// Derived from the saved f32 ReLU outputs (tensors named [`Layer::relu_name`], graph inputs).
    FromFeatures,
    /// Boolean masks named [`keep_mask`], made by the same graph's forward pass
    /// ([`crate::forward::add_forward`] with masks), a quarter of the f32 maps' size.
    Kept,
}

/// Adds the backward pass to `graph`, reading its masks from `masks`, with [`IMAGE_GRADIENT`] as output and
/// the gradient of each tap read from the tensor named [`gradient_input`] (a graph input, or a node's output).
pub(crate) fn add_backward(graph: &mut GraphBuilder, model: &Vgg19, taps: &[Layer], pooling: Pooling, masks: Masks) {
    let deepest = *taps.iter().max().expect("taps are not empty");
    let scales = graph.constant_f32("upsample_scales", &[4], &[1.0, 1.0, 2.0, 2.0]);
    let inv_std = graph.constant_f32("gradient_inv_std", &[1, 3, 1, 1], &model.normalisation.std.map(|s| 1.0 / s));
    let as_float = || vec![int("to", DataType::Float as i64)];

    let layers: Vec<Layer> = layers_through(deepest).collect();
    // ONNX Runtime orders nodes by a depth-first walk from the outputs that enters the inputs built last first,
    // and runs each node as the walk leaves it. Built before the gradient flow, each mask's f32 copy is entered
    // after the gradient that it multiplies: it is made just before that product, not with its boolean mask in
    // the forward pass, where it would stay alive as long as the f32 map it replaces.
    let float_masks: Vec<String> = match masks {
        Masks::FromFeatures => Vec::new(),
        Masks::Kept => layers.iter().map(|layer| graph.op("Cast", &[&keep_mask(*layer)], as_float())).collect(),
    };
    let mut upstream: Option<String> = None;
    for &layer in layers.iter().rev() {
        let relu = layer.relu_name();
        let grad_relu = match (upstream.take(), taps.contains(&layer)) {
            (Some(flow), true) => graph.op("Add", &[&flow, &gradient_input(layer)], vec![]),
            (Some(flow), false) => flow,
            (None, _) => gradient_input(layer),
        };
        let mask = match masks {
            // ReLU outputs are >= 0, so Sign gives the 0/1 mask in one pass (no boolean tensor, no cast).
            Masks::FromFeatures => graph.op("Sign", &[&relu], vec![]),
            Masks::Kept => float_masks[layer.index()].clone(),
        };
        let grad_pre = graph.op("Mul", &[&grad_relu, &mask], vec![]);

        let (cin, cout) = layer.channels();
        let mut flipped = flipped_transposed(&model.conv(layer).weight, cin, cout);
        // Average pooling's 1/4 (a power of two: exact) rides on these weights, sparing a pass over the
        // upsampled gradient.
        let averaged = layer.pooled_input() && pooling == Pooling::Average;
        if averaged {
            flipped.iter_mut().for_each(|w| *w *= 0.25);
        }
        let weight = graph.constant_f32(
            &format!("{}.weight_flipped{}", layer.conv_name(), if averaged { "_quarter" } else { "" }),
            &[cin as i64, cout as i64, 3, 3],
            &flipped,
        );
        let grad_input = graph.op("Conv", &[&grad_pre, &weight], conv3x3());

        upstream = Some(if layer.pooled_input() {
            let below = Layer::from_index(layer.index() - 1).expect("pooled layers have a predecessor");
            let spread = graph.op("Resize", &[&grad_input, "", &scales], nearest());
            match pooling {
                Pooling::Average => spread,
                // The kept masks of a max-pooled layer already hold where its pool took the maximum.
                Pooling::Max if masks == Masks::Kept => spread,
                Pooling::Max => {
                    let below_relu = below.relu_name();
                    let pooled = graph.op("MaxPool", &[&below_relu], pool2x2());
                    let pooled_up = graph.op("Resize", &[&pooled, "", &scales], nearest());
                    let is_max = graph.op("Equal", &[&below_relu, &pooled_up], vec![]);
                    let max_mask = graph.op("Cast", &[&is_max], as_float());
                    graph.op("Mul", &[&spread, &max_mask], vec![])
                }
            }
        } else {
            grad_input
        });
    }
    let grad_normalised = upstream.expect("at least one layer");
    graph.op_into("Mul", &[&grad_normalised, &inv_std], IMAGE_GRADIENT, vec![]);
    graph.output(IMAGE_GRADIENT, &image_dims());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_moves_each_tap_to_its_mirror() {
        let (cin, cout) = (2, 3);
        let weight: Vec<f32> = (0..cin * cout * 9).map(|i| i as f32).collect();
        let flipped = flipped_transposed(&weight, cin, cout);
        for co in 0..cout {
            for ci in 0..cin {
                for kh in 0..3 {
                    for kw in 0..3 {
                        let original = weight[((co * cin + ci) * 3 + kh) * 3 + kw];
                        let mirrored = flipped[((ci * cout + co) * 3 + (2 - kh)) * 3 + (2 - kw)];
                        assert_eq!(original, mirrored);
                    }
                }
            }
        }
    }
}
