//! The VGG19 graphs in ONNX Runtime and per-size buffers ([`Pass`]).
//!
//! Two ways to evaluate the objective: a forward session, the losses in Rust (the reference) and a backward
//! session; or one evaluation graph per loss layout ([`nst_onnx::evaluation`]) that computes the losses and
//! the backward pass where the forward pass ran. The evaluation graph keeps every feature map on a GPU and
//! needs much less memory than the separate graphs; the forward session stays, for the targets.

mod pass;

use std::sync::Arc;

pub use nst_onnx::loss::LossLayout;
pub use pass::{FeatureMap, GraphLossInputs, GraphStyleInput, Pass};

use nst_onnx::backward::backward_graph;
use nst_onnx::evaluation::evaluation_graph;
use nst_onnx::forward::forward_graph;
use nst_onnx::graph::encode;
use nst_onnx::{Layer, Pooling, Vgg19};
use ort::environment::Environment;
use ort::session::Session;

use crate::error::{EngineError, Result, ort_context};
use crate::runtime::{Provider, SessionOptions, open_session};

/// Where the losses and their gradients are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LossPlacement {
    /// In the evaluation graph on a GPU provider or in low-memory mode, else in Rust (on the CPU the faster).
    #[default]
    Auto,
    /// In Rust on the host (the reference); on a GPU the loss taps and their gradients cross to the host.
    Rust,
    /// In the evaluation graph, on the provider that runs the network.
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

/// The sessions for one model, one set of loss taps and one pooling.
pub struct Network {
    forward: Session,
    /// The backward graph, where the losses run in Rust.
    backward: Option<Session>,
    layers: Vec<Layer>,
    taps: Vec<Layer>,
    provider: Provider,
    weights: Arc<Vgg19>,
    pooling: Pooling,
    options: SessionOptions,
    /// One evaluation graph per loss layout, opened on first use, where the losses run as a graph.
    evaluations: Vec<(LossLayout, Session)>,
    env: Environment,
}

impl Network {
    /// Builds the graphs in memory and opens them. `taps` are the layers losses read; they must not be empty.
    /// `placement` decides where the losses run: `Auto` in the evaluation graph on a GPU provider or with
    /// `options.low_memory`, in Rust otherwise.
    pub fn new(
        env: &Environment,
        model: &Arc<Vgg19>,
        taps: &[Layer],
        pooling: Pooling,
        options: SessionOptions,
        placement: LossPlacement,
    ) -> Result<Self> {
        let mut taps = taps.to_vec();
        taps.sort();
        taps.dedup();
        let deepest = *taps
            .last()
            .ok_or_else(|| EngineError::InvalidArgument("no loss layers: give content or style layers".into()))?;
        let (forward, provider) = open_session(env, &encode(&forward_graph(model, deepest, pooling)), options)?;
        // Everything else must run where the forward pass did.
        let options = SessionOptions { provider, ..options };
        let in_graph = match placement {
            LossPlacement::Auto => provider != Provider::Cpu || options.low_memory,
            LossPlacement::Rust => false,
            LossPlacement::Graph => true,
        };
        let backward = match in_graph {
            true => None,
            false => {
                let graph = backward_graph(model, &taps, pooling).expect("taps are not empty");
                Some(open_session(env, &encode(&graph), options)?.0)
            }
        };
        Ok(Network {
            forward,
            backward,
            layers: nst_onnx::forward::layers_through(deepest).collect(),
            taps,
            provider,
            weights: model.clone(),
            pooling,
            options,
            evaluations: Vec::new(),
            env: env.clone(),
        })
    }

    /// Memory this network holds between runs, in MiB: its weights, and a copy of them in each open session.
    pub fn resident_mib(&self) -> f64 {
        let sessions = 1 + usize::from(self.backward.is_some()) + self.evaluations.len();
        (self.weights.weight_bytes() * (1 + sessions)) as f64 / (1024.0 * 1024.0)
    }

    /// Whether objectives on this network run their losses in an evaluation graph.
    pub fn graph_losses(&self) -> bool {
        self.backward.is_none()
    }

    /// Attaches the evaluation graph of `layout` to `pass`, opening its session on first use.
    pub fn attach_graph_losses(
        &mut self,
        pass: &mut Pass,
        layout: LossLayout,
        inputs: &GraphLossInputs<'_>,
    ) -> Result<()> {
        if !self.graph_losses() || !pass.for_graph_losses() {
            return Err(EngineError::Internal("this network or pass runs its losses in Rust".into()));
        }
        let index = match self.evaluations.iter().position(|(l, _)| *l == layout) {
            Some(index) => index,
            None => {
                let graph = evaluation_graph(&self.weights, &layout, self.pooling);
                let (session, _) = open_session(&self.env, &encode(&graph), self.options)?;
                self.evaluations.push((layout.clone(), session));
                self.evaluations.len() - 1
            }
        };
        pass.attach_evaluation(&self.evaluations[index].1, layout, inputs)
    }

    /// The provider the sessions actually run on.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// Which model the graphs were built from.
    pub fn model_description(&self) -> &str {
        &self.weights.description
    }

    /// The layers losses may read, in network order.
    pub fn taps(&self) -> &[Layer] {
        &self.taps
    }

    /// Allocates the buffers for `height` x `width` images (multiples of 16, at least 16).
    pub fn pass(&self, height: usize, width: usize) -> Result<Pass> {
        Pass::new(self.backward.as_ref(), &self.layers, &self.taps, self.provider, height, width)
    }

    /// Runs the forward graph on the pass's image, filling its feature maps.
    pub fn forward(&mut self, pass: &mut Pass) -> Result<()> {
        let names: Vec<String> = pass.device_resident().iter().map(|layer| layer.relu_name()).collect();
        let mut outputs = self
            .forward
            .run_binding(pass.forward_binding(&self.forward)?)
            .map_err(ort_context("running the forward graph"))?;
        // Feature maps kept on the GPU go straight from the forward outputs to the backward graph's inputs.
        let on_device: Vec<(String, ort::value::DynValue)> =
            names.into_iter().filter_map(|name| outputs.remove(&name).map(|value| (name, value))).collect();
        drop(outputs);
        pass.take_forward_outputs(on_device)
    }

    /// Runs the backward graph on the pass's tap gradients, filling its image gradient.
    pub fn backward(&mut self, pass: &mut Pass) -> Result<()> {
        let backward = self
            .backward
            .as_mut()
            .ok_or_else(|| EngineError::Internal("this network runs its losses in a graph".into()))?;
        backward.run_binding(pass.backward_binding()?).map_err(ort_context("running the backward graph"))?;
        Ok(())
    }

    /// Runs the pass's evaluation graph on its image: fills its image gradient and returns the weighted
    /// (style, content) losses.
    pub fn evaluate(&mut self, pass: &mut Pass) -> Result<(f64, f64)> {
        let (binding, layout) = pass
            .evaluation_binding()?
            .ok_or_else(|| EngineError::Internal("no evaluation graph is attached to this pass".into()))?;
        let (_, session) =
            self.evaluations.iter_mut().find(|(l, _)| l == layout).ok_or_else(|| {
                EngineError::Internal("the pass's evaluation graph belongs to another network".into())
            })?;
        session.run_binding(binding).map_err(ort_context("running the evaluation graph"))?;
        Ok(pass.evaluation_losses().expect("attached"))
    }
}
