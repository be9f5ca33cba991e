//! The engine and its whole run: size the images, build (or reuse) the network, compute targets, optimise,
//! resize back. The run's settings, the caches and the run loop each have a file of their own.

mod caches;
mod run;
mod settings;

pub use crate::model::ModelChoice;
pub use run::{Progress, Stylized};
pub use settings::{Init, Multiscale, Settings, SpatialControl, output_size, working_side};

use caches::{CACHED_MODELS, CACHED_NETWORKS, NetworkKey};
use std::path::PathBuf;
use std::sync::Arc;

use nst_onnx::{Layer, Vgg19};
use ort::environment::Environment;

use crate::cache::Lru;
use crate::error::{EngineError, Result};
use crate::fit::memory::{MemoryMode, budget_mib, check_budget};
use crate::network::{LossPlacement, Network};
use crate::runtime::{Provider, SessionOptions, environment, probe_provider};

/// How the engine is set up (once, for many runs).
#[derive(Debug, Clone, Default)]
pub struct EngineConfig {
    /// ONNX Runtime library path; searched for when `None` (see [`crate::runtime::locate_onnxruntime`]).
    pub ort_library: Option<PathBuf>,
    /// Requested execution provider.
    pub provider: Provider,
    /// Threads for ONNX Runtime and the Rust-side products; 0 means every core.
    pub threads: usize,
    /// Turn ONNX Runtime's CPU memory arena and blocked layout off: about half the peak memory, 25-60% slower.
    pub low_memory: bool,
    /// Runs estimated to need more memory (MiB) are refused before any allocation; `None`: 80% of the memory
    /// available when each run starts.
    pub memory_budget_mb: Option<u64>,
    /// Where the losses run (default: as a graph on a GPU, in Rust on the CPU).
    pub losses: LossPlacement,
    /// The GPU by index (see [`SessionOptions::device`]); `None`: the provider's default.
    pub device: Option<u32>,
}

/// The engine: ONNX Runtime loaded once, the models and graph sessions of its recent runs cached (a few: see
/// `caches`).
pub struct Engine {
    env: Environment,
    ort_library: PathBuf,
    options: SessionOptions,
    models: Lru<(ModelChoice, Layer), Arc<Vgg19>>,
    networks: Lru<NetworkKey, Network>,
    memory_budget_mb: Option<u64>,
    losses: LossPlacement,
}

impl Engine {
    /// Loads ONNX Runtime (once per process) and prepares the engine.
    pub fn new(config: &EngineConfig) -> Result<Self> {
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            n if n <= 256 => n,
            n => return Err(EngineError::InvalidArgument(format!("threads {n} is outside 0..=256"))),
        };
        let (env, ort_library) = environment(config.ort_library.as_deref())?;
        let options =
            SessionOptions { provider: config.provider, threads, low_memory: config.low_memory, device: config.device };
        probe_provider(&env, options)?;
        Ok(Engine {
            env,
            ort_library,
            options,
            models: Lru::new(CACHED_MODELS),
            networks: Lru::new(CACHED_NETWORKS),
            memory_budget_mb: config.memory_budget_mb,
            losses: config.losses,
        })
    }

    /// Refuses a whole-image `width x height` optimisation through `deepest` that would not fit the budget.
    pub fn check_memory(&self, deepest: Layer, width: usize, height: usize) -> Result<()> {
        check_budget(deepest, width, height, self.memory_mode(), budget_mib(self.memory_budget_mb))
    }

    /// How the sessions use host memory: low-memory mode runs the evaluation graph unless told to keep the
    /// losses in Rust.
    fn memory_mode(&self) -> MemoryMode {
        match (self.options.low_memory, self.losses) {
            (false, _) => MemoryMode::Arena,
            (true, LossPlacement::Rust) => MemoryMode::LowMemorySeparate,
            (true, _) => MemoryMode::LowMemoryEvaluation,
        }
    }

    /// The ONNX Runtime environment sessions are opened in.
    pub(crate) fn environment(&self) -> &Environment {
        &self.env
    }

    /// How this engine opens sessions (provider, threads, memory arena).
    pub(crate) fn session_options(&self) -> SessionOptions {
        self.options
    }

    /// The ONNX Runtime library in use.
    pub fn ort_library(&self) -> &std::path::Path {
        &self.ort_library
    }
}
