//! The VGG19 graphs in ONNX Runtime: one forward and one backward session, and per-size buffers ([`Pass`]).
//!
//! On a GPU the losses also run as a graph ([`nst_onnx::loss`]), so that the feature maps never leave the
//! device; the Rust losses stay the reference and serve the CPU, where they are faster.

mod pass;

use std::sync::Arc;

pub use nst_onnx::loss::LossLayout;
pub use pass::{FeatureMap, GraphLossInputs, GraphStyleInput, Pass};

use nst_onnx::backward::backward_graph;
use nst_onnx::forward::forward_graph;
use nst_onnx::graph::encode;
use nst_onnx::loss::loss_backward_graph;
use nst_onnx::{Layer, Pooling, Vgg19};
use ort::environment::Environment;
use ort::session::Session;

use crate::error::{EngineError, Result, ort_context};
use crate::runtime::{Provider, SessionOptions, open_session};

/// Where the losses and their gradients are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LossPlacement {
    /// As a graph on a GPU provider, in Rust on the CPU (the faster of the two on each).
    #[default]
    Auto,
    /// In Rust on the host (the reference); on a GPU the loss taps and their gradients cross to the host.
    Rust,
    /// As a graph on the provider that runs the network.
    Graph,
}

impl std::str::FromStr for LossPlacement {
    type Err = EngineError;
    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(LossPlacement::Auto),
            "rust" => Ok(LossPlacement::Rust),
            "graph" => Ok(LossPlacement::Graph),
            other => Err(EngineError::InvalidArgument(format!(
                "unknown loss placement '{other}': expected auto, rust or graph"
            ))),
        }
    }
}

/// Forward and backward sessions for one model, one set of loss taps and one pooling.
pub struct Network {
    forward: Session,
    backward: Session,
    layers: Vec<Layer>,
    taps: Vec<Layer>,
    provider: Provider,
    model: String,
    pooling: Pooling,
    options: SessionOptions,
    /// The weights, shared with the engine's cache, where losses run as graphs (one per layout, on first use).
    graph_loss_model: Option<Arc<Vgg19>>,
    loss_sessions: Vec<(LossLayout, Session)>,
    env: Environment,
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
            pooling,
            options: backward_options,
            graph_loss_model: None,
            loss_sessions: Vec::new(),
            env: env.clone(),
        })
    }

    /// Places the losses (a new network runs them in Rust): `Auto` as a graph on a GPU provider, `Graph` also on
    /// the CPU (e.g. to compare with the Rust losses). `model` must be the one the network was built from.
    pub fn place_losses(&mut self, placement: LossPlacement, model: &Arc<Vgg19>) {
        let in_graph = match placement {
            LossPlacement::Auto => self.provider != Provider::Cpu,
            LossPlacement::Rust => false,
            LossPlacement::Graph => true,
        };
        self.graph_loss_model = in_graph.then(|| model.clone());
    }

    /// Whether objectives on this network run their losses as a graph.
    pub fn graph_losses(&self) -> bool {
        self.graph_loss_model.is_some()
    }

    /// Attaches the loss-and-backward graph of `layout` to `pass`, opening its session on first use.
    pub fn attach_graph_losses(
        &mut self,
        pass: &mut Pass,
        layout: LossLayout,
        inputs: &GraphLossInputs<'_>,
    ) -> Result<()> {
        let model = self
            .graph_loss_model
            .as_ref()
            .ok_or_else(|| EngineError::InvalidArgument("this network runs its losses in Rust".into()))?;
        let index = match self.loss_sessions.iter().position(|(l, _)| *l == layout) {
            Some(index) => index,
            None => {
                let graph = loss_backward_graph(model, &layout, self.pooling);
                let (session, _) = open_session(&self.env, &encode(&graph), self.options)?;
                self.loss_sessions.push((layout.clone(), session));
                self.loss_sessions.len() - 1
            }
        };
        pass.attach_graph_losses(&self.loss_sessions[index].1, layout, inputs)
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
        Pass::new(&self.forward, &self.backward, &self.layers, &self.taps, self.provider, height, width)
    }

    /// Runs the forward graph on the pass's image, filling its feature maps.
    pub fn forward(&mut self, pass: &mut Pass) -> Result<()> {
        let names: Vec<String> = pass.device_resident().iter().map(|layer| layer.relu_name()).collect();
        let mut outputs =
            self.forward.run_binding(pass.forward_binding()?).map_err(ort_context("running the forward graph"))?;
        // Feature maps kept on the GPU go straight from the forward outputs to the next graph's inputs.
        let on_device: Vec<(String, ort::value::DynValue)> =
            names.into_iter().filter_map(|name| outputs.remove(&name).map(|value| (name, value))).collect();
        drop(outputs);
        pass.take_forward_outputs(on_device)
    }

    /// Runs the backward graph on the pass's tap gradients, filling its image gradient.
    pub fn backward(&mut self, pass: &mut Pass) -> Result<()> {
        self.backward.run_binding(pass.backward_binding()?).map_err(ort_context("running the backward graph"))?;
        Ok(())
    }

    /// Runs the pass's loss-and-backward graph: fills its image gradient and returns the weighted (style,
    /// content) losses.
    pub fn losses_and_backward(&mut self, pass: &mut Pass) -> Result<(f64, f64)> {
        let (binding, layout) = pass
            .graph_loss_binding()
            .ok_or_else(|| EngineError::InvalidArgument("no loss graph is attached to this pass".into()))?;
        let (_, session) =
            self.loss_sessions.iter_mut().find(|(l, _)| l == layout).ok_or_else(|| {
                EngineError::InvalidArgument("the pass's loss graph belongs to another network".into())
            })?;
        session.run_binding(binding).map_err(ort_context("running the loss graph"))?;
        Ok(pass.graph_loss_values().expect("attached"))
    }
}
