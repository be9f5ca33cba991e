//! The evaluation graph: image -> forward pass -> losses and their gradients -> backward pass -> dL/dimage,
//! in one graph.
//!
//! Nothing crosses between passes: on a GPU every feature map stays on the device, and on any provider ONNX
//! Runtime releases each map after its last use. The backward pass reads boolean masks made during the
//! forward pass, so the f32 maps of the layers no loss reads live only until the next layer has read them;
//! at 1024 px this holds the peak to well under the f32 maps a separate backward graph needs.

use crate::backward::{Masks, add_backward};
use crate::forward::{IMAGE_INPUT, add_forward, image_dims};
use crate::graph::GraphBuilder;
use crate::loss::{LossLayout, add_losses};
use crate::proto::ModelProto;
use crate::vgg::{Pooling, Vgg19};

/// The evaluation graph of `layout`'s losses: input [`IMAGE_INPUT`] and the loss inputs of
/// [`crate::loss`]; outputs [`crate::loss::STYLE_LOSS`], [`crate::loss::CONTENT_LOSS`] and
/// [`crate::backward::IMAGE_GRADIENT`].
pub fn evaluation_graph(model: &Vgg19, layout: &LossLayout, pooling: Pooling) -> ModelProto {
    let taps = layout.taps();
    let deepest = *taps.last().expect("a layout has a content layer");
    let mut graph = GraphBuilder::new("nst_evaluation");
    graph.input(IMAGE_INPUT, &image_dims());
    add_forward(&mut graph, model, deepest, pooling, true);
    add_losses(&mut graph, layout);
    add_backward(&mut graph, model, &taps, pooling, Masks::Kept);
    graph.into_model(&format!(
        "VGG19 forward, losses (content at {}, {} style terms) and backward ({} pooling) of {}",
        layout.content_layer.relu_name(),
        layout.style_terms.len(),
        pooling.name(),
        model.description
    ))
}
