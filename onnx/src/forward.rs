//! The forward graph: image in [0, 1] -> the ReLU outputs of every layer up to the deepest one the losses need.
//!
//! All ReLU outputs are graph outputs, not only the loss taps: the backward graph needs them for its ReLU and
//! max-pool masks, and handing them over avoids recomputing the forward pass there.

use crate::graph::{Dim, GraphBuilder, conv3x3, feature_dims, pool2x2};
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
    graph.input(
        IMAGE_INPUT,
        &[Dim::Fixed(1), Dim::Fixed(3), Dim::Symbolic("height".into()), Dim::Symbolic("width".into())],
    );
    let norm = model.normalisation;
    let mean = graph.constant_f32("normalise_mean", &[1, 3, 1, 1], &norm.mean);
    let inv_std = graph.constant_f32("normalise_inv_std", &[1, 3, 1, 1], &norm.std.map(|s| 1.0 / s));
    let centred = graph.op("Sub", &[IMAGE_INPUT, &mean], vec![]);
    let mut x = graph.op("Mul", &[&centred, &inv_std], vec![]);

    for layer in layers_through(deepest) {
        if layer.pooled_input() {
            let op = match pooling {
                Pooling::Max => "MaxPool",
                Pooling::Average => "AveragePool",
            };
            x = graph.op(op, &[&x], pool2x2());
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
        graph.output(&relu, &feature_dims(cout, layer.downsampling()));
        x = relu;
    }
    graph.into_model(&format!(
        "VGG19 forward through {} ({} pooling) of {}",
        deepest.relu_name(),
        pooling.name(),
        model.description
    ))
}
