//! The VGG19 graphs in ONNX Runtime: one forward and one backward session, and per-size buffers ([`Pass`]).

mod pass;

pub use pass::{FeatureMap, Pass};

use nst_onnx::backward::backward_graph;
use nst_onnx::forward::forward_graph;
use nst_onnx::graph::encode;
use nst_onnx::{Layer, Pooling, Vgg19};
use ort::environment::Environment;
use ort::session::Session;

use crate::error::{EngineError, Result, ort_context};
use crate::runtime::{Provider, SessionOptions, open_session};

/// Forward and backward sessions for one model, one set of loss taps and one pooling.
pub struct Network {
    forward: Session,
    backward: Session,
    layers: Vec<Layer>,
    taps: Vec<Layer>,
    provider: Provider,
    model: String,
}

impl Network {
    /// Builds both graphs in memory and opens them. `taps` are the layers losses read; they must not be empty.
    pub fn new(
        env: &Environment,
        model: &Vgg19,
        taps: &[Layer],
        pooling: Pooling,
        options: SessionOptions,
    ) -> Result<Self> {
        let mut taps = taps.to_vec();
        taps.sort();
        taps.dedup();
        let deepest = *taps
            .last()
            .ok_or_else(|| EngineError::InvalidArgument("no loss layers: give content or style layers".into()))?;
        let backward_model = backward_graph(model, &taps, pooling).expect("taps are not empty");
        let (forward, provider) = open_session(env, &encode(&forward_graph(model, deepest, pooling)), options)?;
        // The backward pass must run where the forward did.
        let backward_options = SessionOptions { provider, ..options };
        let (backward, _) = open_session(env, &encode(&backward_model), backward_options)?;
        Ok(Network {
            forward,
            backward,
            layers: nst_onnx::forward::layers_through(deepest).collect(),
            taps,
            provider,
            model: model.description.clone(),
        })
    }

    /// The provider the sessions actually run on.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Which model the graphs were built from.
    pub fn model_description(&self) -> &str {
        &self.model
    }

    /// The layers losses may read, in network order.
    pub fn taps(&self) -> &[Layer] {
        &self.taps
    }

    /// Allocates the buffers for `height` x `width` images (multiples of 16, at least 16).
    pub fn pass(&self, height: usize, width: usize) -> Result<Pass> {
        let on_gpu = self.provider == Provider::Cuda;
        Pass::new(&self.forward, &self.backward, &self.layers, &self.taps, on_gpu, height, width)
    }

    /// Runs the forward graph on the pass's image, filling its feature maps.
    pub fn forward(&mut self, pass: &mut Pass) -> Result<()> {
        let mut outputs =
            self.forward.run_binding(pass.forward_binding()).map_err(ort_context("running the forward graph"))?;
        // Feature maps kept on the GPU go straight from the forward outputs to the backward inputs.
        let on_device: Vec<(String, ort::value::DynValue)> = pass
            .device_resident()
            .iter()
            .filter_map(|layer| outputs.remove(layer.relu_name()).map(|value| (layer.relu_name(), value)))
            .collect();
        drop(outputs);
        for (name, value) in on_device {
            pass.backward_binding_mut().bind_input(name, &value).map_err(ort_context("passing a GPU feature map"))?;
        }
        Ok(())
    }

    /// Runs the backward graph on the pass's tap gradients, filling its image gradient.
    pub fn backward(&mut self, pass: &mut Pass) -> Result<()> {
        self.backward.run_binding(pass.backward_binding()).map_err(ort_context("running the backward graph"))?;
        Ok(())
    }
}
