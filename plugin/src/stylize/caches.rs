//! What an engine keeps between runs: the models and the graph sessions of its last few networks, bounded,
//! and counted in a memory budget someone set.

use super::{Engine, ModelChoice, Settings};
use std::sync::Arc;

use nst_onnx::import::load_vgg19;
use nst_onnx::random::random_vgg19_through;
use nst_onnx::{Layer, Pooling, Vgg19};

use crate::error::{EngineError, Result};
use crate::fit::memory::{Fit, budget_mib, plan};
use crate::network::Network;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct NetworkKey {
    model: ModelChoice,
    taps: Vec<Layer>,
    pooling: Pooling,
}

impl NetworkKey {
    /// The network `settings` run on.
    fn of(settings: &Settings) -> Self {
        NetworkKey { model: settings.model.clone(), taps: settings.losses.taps(), pooling: settings.pooling }
    }
}

/// Models an engine keeps between runs (weights, about 80 MB each for the whole VGG19).
pub(super) const CACHED_MODELS: usize = 2;
/// Networks (graph sessions of a model, taps and pooling) an engine keeps between runs.
pub(super) const CACHED_NETWORKS: usize = 2;

impl Engine {
    /// How a `width x height` optimisation through `deepest` fits the memory budget: whole, in tiles, or not
    /// at all (an error naming the largest size that would). A budget someone set (the engine's or the run's)
    /// also pays for what the caches hold besides `settings`' network; the default one, a share of the memory
    /// available now, has already seen them.
    pub fn plan_memory(&self, deepest: Layer, width: usize, height: usize, settings: &Settings) -> Result<Fit> {
        let mode = self.memory_mode();
        let set = match (self.memory_budget_mb, settings.memory_budget_mb) {
            (Some(engine), Some(run)) => Some(engine.min(run) as f64),
            (engine, run) => engine.or(run).map(|mib| mib as f64),
        };
        let budget = match set {
            Some(mib) => Some((mib - self.cached_mib_besides(settings)).max(0.0)),
            None => budget_mib(None),
        };
        plan(deepest, width, height, mode, budget)
    }

    /// MiB the caches hold for networks other than `settings`' (models held by no cached network included).
    fn cached_mib_besides(&self, settings: &Settings) -> f64 {
        let key = NetworkKey::of(settings);
        let networks: f64 = self.networks.iter().filter(|(k, _)| **k != key).map(|(_, n)| n.resident_mib()).sum();
        let loose_models: f64 = self
            .models
            .iter()
            .filter(|(_, model)| Arc::strong_count(model) == 1)
            .map(|(_, model)| model.weight_bytes() as f64 / (1024.0 * 1024.0))
            .sum();
        networks + loose_models
    }

    /// Drops the cached networks and models `settings` does not use when a budget someone set would otherwise
    /// make its run tile or fail: the caches give way to the work.
    pub(super) fn yield_caches_to(&mut self, settings: &Settings, deepest: Layer, width: usize, height: usize) {
        if self.memory_budget_mb.or(settings.memory_budget_mb).is_none() || self.cached_mib_besides(settings) == 0.0 {
            return;
        }
        if matches!(self.plan_memory(deepest, width, height, settings), Ok(Fit::Whole)) {
            return;
        }
        let key = NetworkKey::of(settings);
        self.networks.retain(|k| *k == key);
        self.models.retain(|(choice, _)| *choice == settings.model);
    }

    /// The model's weights through `deepest` (built-in weights are only drawn as deep as the graphs go).
    fn model(&mut self, choice: &ModelChoice, deepest: Layer) -> Result<Arc<Vgg19>> {
        let key = (
            choice.clone(),
            if matches!(choice, ModelChoice::File(_)) { Layer::from_index(15).expect("16 layers") } else { deepest },
        );
        if let Some(model) = self.models.get(&key) {
            return Ok(model.clone());
        }
        let model = Arc::new(match choice {
            ModelChoice::BuiltIn { seed } => random_vgg19_through(*seed, deepest),
            ModelChoice::File(path) => load_vgg19(path)?,
        });
        self.models.insert(key, model.clone());
        Ok(model)
    }

    /// Reads `choice`'s weights now, so that a model file that is missing or not a VGG19 is reported when it is
    /// configured rather than at the first run; the weights stay cached for that run.
    pub fn preload(&mut self, choice: &ModelChoice) -> Result<()> {
        match choice {
            ModelChoice::File(_) => self.model(choice, Layer::from_index(15).expect("16 layers")).map(|_| ()),
            ModelChoice::BuiltIn { .. } => Ok(()),
        }
    }

    /// Drops the cached models and sessions: the next run builds its own again.
    pub fn trim(&mut self) {
        self.networks.clear();
        self.models.clear();
    }

    /// The network for `settings`, built on first use and cached.
    pub fn network_for(&mut self, settings: &Settings) -> Result<&mut Network> {
        let key = NetworkKey::of(settings);
        if self.networks.get(&key).is_none() {
            let deepest =
                *key.taps.iter().max().ok_or_else(|| EngineError::Internal("loss settings without a layer".into()))?;
            let model = self.model(&settings.model, deepest)?;
            let network = Network::new(&self.env, &model, &key.taps, key.pooling, self.options, self.losses)?;
            return Ok(self.networks.insert(key, network));
        }
        Ok(self.networks.get(&key).expect("present"))
    }
}
