//! The forward graph: image in [0, 1] -> the ReLU outputs of every layer up to the deepest one the losses need.
//!
//! All ReLU outputs are graph outputs, not only the loss taps: the backward graph needs them for its ReLU and
//! max-pool masks, and handing them over avoids recomputing the forward pass there. The evaluation graph
//! ([`crate::evaluation`]) runs the same nodes inside one graph.

use crate::graph::{Dim, GraphBuilder, conv3x3, feature_dims, keep_mask, nearest, pool2x2};
use crate::proto::ModelProto;
use crate::vgg::{Layer, Pooling, Vgg19};

/// Name of the image input: `[1, 3, height, width]`, RGB in [0, 1], height and width multiples of 16.
pub const IMAGE_INPUT: &str = "image";

/// The layers a forward graph ending at `deepest` computes, in order.
pub fn layers_through(deepest: Layer) -> impl Iterator<Item = Layer> {
    Layer::all().take_while(move |layer| *layer <= deepest)
}

/// Builds the forward graph through `deepest`.
pub fn forward_graph(model: &Vgg19, deepest: Layer, pooling: Pooling) -> ModelProto {
    let mut graph = GraphBuilder::new("nst_forward");
    graph.input(IMAGE_INPUT, &image_dims());
    add_forward(&mut graph, model, deepest, pooling, false);
    for layer in layers_through(deepest) {
        graph.output(&layer.relu_name(), &feature_dims(layer.channels().1, layer.downsampling()));
    }
    graph.into_model(&format!(
        "VGG19 forward through {} ({} pooling) of {}",
        deepest.relu_name(),
        pooling.name(),
        model.description
    ))
}

/// Shape of the image input and of its gradient: `[1, 3, height, width]`.
pub fn image_dims() -> Vec<Dim> {
    vec![Dim::Fixed(1), Dim::Fixed(3), Dim::Symbolic("height".into()), Dim::Symbolic("width".into())]
}

/// Adds the forward pass from [`IMAGE_INPUT`] (declared by the caller) through `deepest`: each layer's ReLU
/// output is named [`Layer::relu_name`]. With `masks`, each layer's boolean mask for the backward pass
/// (named [`keep_mask`]) is made as soon as its ReLU output exists.
pub(crate) fn add_forward(graph: &mut GraphBuilder, model: &Vgg19, deepest: Layer, pooling: Pooling, masks: bool) {
    let norm = model.normalisation;
    let mean = graph.constant_f32("normalise_mean", &[1, 3, 1, 1], &norm.mean);
    let inv_std = graph.constant_f32("normalise_inv_std", &[1, 3, 1, 1], &norm.std.map(|s| 1.0 / s));
    let mask_constants = masks.then(|| {
        [
            graph.constant_f32("zero", &[], &[0.0]),
            graph.constant_i64("halved_shape", &[4], &[1, 1, 2, 2]),
            graph.constant_f32("mask_upsample_scales", &[4], &[1.0, 1.0, 2.0, 2.0]),
        ]
    });
    let centred = graph.op("Sub", &[IMAGE_INPUT, &mean], vec![]);
    let mut x = graph.op("Mul", &[&centred, &inv_std], vec![]);
    let mut previous: Option<Layer> = None;
    for layer in layers_through(deepest) {
        if layer.pooled_input() {
            let op = match pooling {
                Pooling::Max => "MaxPool",
                Pooling::Average => "AveragePool",
            };
            x = graph.op(op, &[&x], pool2x2());
        }
        if let (Some(constants), Some(below)) = (&mask_constants, previous) {
            x = with_mask(graph, below, &x, layer.pooled_input(), pooling, constants);
        }
        let (cin, cout) = layer.channels();
        let conv = model.conv(layer);
        let weight = graph.constant_f32(
            &format!("{}.weight", layer.conv_name()),
            &[cout as i64, cin as i64, 3, 3],
            &conv.weight,
        );
        let bias = graph.constant_f32(&format!("{}.bias", layer.conv_name()), &[cout as i64], &conv.bias);
        let pre = graph.op("Conv", &[&x, &weight, &bias], conv3x3());
        let relu = layer.relu_name();
        graph.op_into("Relu", &[&pre], &relu, vec![]);
        x = relu;
        previous = Some(layer);
    }
    if let Some([zero, ..]) = &mask_constants {
        graph.op_into("Greater", &[&deepest.relu_name(), zero], &keep_mask(deepest), vec![]);
    }
}

/// Makes the mask of `below` (the layer whose output, `pooled` or not, is `input`) and returns `input` as the
/// next layer's input, made to depend on the mask.
///
/// ONNX Runtime runs a node only when a depth-first walk from the graph's outputs reaches it, and only the
/// backward pass reads the mask: left alone, it would be made there, and the f32 map kept alive until then.
/// A reshape of the next layer's input to the mask's shape (a free alias) makes the forward pass need it.
fn with_mask(
    graph: &mut GraphBuilder,
    below: Layer,
    input: &str,
    pooled: bool,
    pooling: Pooling,
    constants: &[String; 3],
) -> String {
    let [zero, halving, scales] = constants;
    let relu = below.relu_name();
    let mask = keep_mask(below);
    if pooled && pooling == Pooling::Max {
        // Max pooling passes the gradient only where it took the maximum.
        let positive = graph.op("Greater", &[&relu, zero], vec![]);
        let pooled_up = graph.op("Resize", &[input, "", scales], nearest());
        let is_max = graph.op("Equal", &[&relu, &pooled_up], vec![]);
        graph.op_into("And", &[&positive, &is_max], &mask, vec![]);
    } else {
        graph.op_into("Greater", &[&relu, zero], &mask, vec![]);
    }
    let mut shape = graph.op("Shape", &[&mask], vec![]);
    if pooled {
        shape = graph.op("Div", &[&shape, halving], vec![]);
    }
    graph.op("Reshape", &[input, &shape], vec![])
}
