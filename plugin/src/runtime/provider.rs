//! Execution providers: which one was asked for, and which one actually runs.

use std::str::FromStr;

use ort::AsPointer;
use ort::environment::Environment;
use ort::ep::{self, ExecutionProvider};
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};

use crate::error::{EngineError, Result, ort_context};

/// Where the graphs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Provider {
    /// CUDA if it works here, else DirectML on Windows, else CPU.
    #[default]
    Auto,
    /// ONNX Runtime's CPU kernels.
    Cpu,
    /// NVIDIA GPUs (needs the onnxruntime-gpu library).
    Cuda,
    /// DirectX 12 GPUs on Windows (needs the DirectML build).
    DirectMl,
}

impl Provider {
    /// The name used in presets, configuration and reports.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Auto => "auto",
            Provider::Cpu => "cpu",
            Provider::Cuda => "cuda",
            Provider::DirectMl => "directml",
        }
    }
}

impl FromStr for Provider {
    type Err = EngineError;
    fn from_str(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(Provider::Auto),
            "cpu" => Ok(Provider::Cpu),
            "cuda" => Ok(Provider::Cuda),
            "directml" | "dml" => Ok(Provider::DirectMl),
            other => Err(EngineError::InvalidArgument(format!(
                "unknown execution provider '{other}': expected auto, cpu, cuda or directml"
            ))),
        }
    }
}

/// How sessions are opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionOptions {
    /// Requested provider.
    pub provider: Provider,
    /// Intra-op threads for ONNX Runtime (1..=256).
    pub threads: usize,
    /// Less memory for some speed: ONNX Runtime's CPU memory arena off, and no blocked-layout (NCHWc)
    /// rewriting of the graphs, whose reorder copies double the largest feature maps.
    pub low_memory: bool,
    /// The GPU to use, by index: CUDA's device id, or DirectML's adapter in DXGI's order (which needs no
    /// `dxcore.dll`). `None`: CUDA's device 0, and for DirectML the high-performance GPU chosen through DXCore.
    pub device: Option<u32>,
}

/// Opens a session for `model_bytes`, returning it with the provider that actually runs it.
///
/// An explicitly requested GPU provider that cannot be registered is an error (ONNX Runtime would otherwise fall
/// back to CPU silently); `Auto` tries the GPU providers and reports the one that took.
pub fn open_session(env: &Environment, model_bytes: &[u8], options: SessionOptions) -> Result<(Session, Provider)> {
    let attempts: &[Provider] = match options.provider {
        Provider::Auto if cfg!(windows) => &[Provider::Cuda, Provider::DirectMl, Provider::Cpu],
        Provider::Auto => &[Provider::Cuda, Provider::Cpu],
        Provider::Cpu => &[Provider::Cpu],
        Provider::Cuda => &[Provider::Cuda],
        Provider::DirectMl => &[Provider::DirectMl],
    };
    let mut last_error = None;
    for &provider in attempts {
        match try_open(env, model_bytes, options, provider) {
            Ok(session) => return Ok((session, provider)),
            Err(err) => last_error = Some(err),
        }
    }
    Err(last_error.unwrap_or_else(|| EngineError::Internal("no execution provider to try".into())))
}

/// Opens a one-node session with `options`' provider, so that an engine configured for a provider it cannot
/// have (no CUDA in the library, no usable GPU) says so when it is created, not at its first run. `Auto`
/// always succeeds (it falls back to the CPU) and is not probed.
pub fn probe_provider(env: &Environment, options: SessionOptions) -> Result<()> {
    if matches!(options.provider, Provider::Auto | Provider::Cpu) {
        return Ok(());
    }
    let mut graph = nst_onnx::graph::GraphBuilder::new("probe");
    graph.input("x", &[nst_onnx::graph::Dim::Fixed(1)]);
    graph.op_into("Identity", &["x"], "y", Vec::new());
    graph.output("y", &[nst_onnx::graph::Dim::Fixed(1)]);
    let bytes = nst_onnx::graph::encode(&graph.into_model("provider probe"));
    open_session(env, &bytes, SessionOptions { threads: 1, ..options }).map(|_| ())
}

fn base_builder(env: &Environment, threads: usize, low_memory: bool) -> Result<SessionBuilder> {
    let mut builder = Session::builder(env).map_err(ort_context("configuring a session"))?;
    // ONNX Runtime's CPU arena keeps every intermediate tensor's peak (and grows by doubling); without it the
    // backward graph's large intermediates go back to the system after each run: less memory, some speed lost.
    if low_memory {
        return_large_blocks_to_the_system();
        // SAFETY: a live session-options pointer; the returned status is released when it reports an error.
        unsafe {
            let api = ort::api();
            let status = (api.DisableCpuMemArena)(builder.ptr_mut());
            if !status.0.is_null() {
                (api.ReleaseStatus)(status.0);
            }
        }
    }
    let configure = || ort_context("configuring a session");
    // The layout optimisations (level 3) run convolutions in a blocked layout, reordering every feature map the
    // graphs hand over: faster, but each reorder is one more copy of a large map alive at once.
    let level = if low_memory { GraphOptimizationLevel::Level2 } else { GraphOptimizationLevel::All };
    let builder = builder.with_optimization_level(level).map_err(configure())?;
    let builder = builder.with_intra_threads(threads).map_err(configure())?;
    // Spinning threads would steal the cores the Rust-side losses run on between graph runs.
    let builder = builder.with_intra_op_spinning(false).map_err(configure())?;
    builder.with_inter_op_spinning(false).map_err(configure())
}

/// Without ONNX Runtime's arena its tensors come from `malloc`. glibc serves a large block with its own
/// mapping, returned to the system when freed, but after such a free it raises that threshold (up to 32 MiB),
/// and freed blocks below it then stay in its heap: the resident size would creep up run after run. A fixed
/// 1 MiB threshold keeps every tensor-sized block a mapping of its own. It applies to the whole process (the
/// host's own allocations included), and only once a low-memory session is opened.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes glibc's allocation parameters; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

/// A device index as the providers take it.
fn device_index(index: u32) -> Result<i32> {
    i32::try_from(index).map_err(|_| EngineError::InvalidArgument(format!("device index {index} is too large")))
}

fn try_open(env: &Environment, model_bytes: &[u8], options: SessionOptions, provider: Provider) -> Result<Session> {
    let builder = base_builder(env, options.threads, options.low_memory)?;
    // The memory pattern places every intermediate of a run in one block planned from the first run. On the
    // CPU that block exceeds what is alive at any one time, by a third of the peak at 1024 px with the arena,
    // and without the arena it is allocated per run; leaving it out cost no measurable time there.
    // DirectML's documentation requires it off, and sequential execution.
    let pattern = provider == Provider::Cuda && !options.low_memory;
    let builder = builder.with_memory_pattern(pattern).map_err(ort_context("configuring a session"))?;
    let builder = builder.with_parallel_execution(false).map_err(ort_context("configuring a session"))?;
    let unavailable = |reason: String| EngineError::Provider { requested: provider.name().to_string(), reason };
    let builder = match provider {
        Provider::Cpu | Provider::Auto => builder,
        Provider::Cuda => {
            if !ep::CUDA::is_available().unwrap_or(false) {
                return Err(unavailable(
                    "this ONNX Runtime library has no CUDA support (install the onnxruntime-gpu wheel's library)"
                        .into(),
                ));
            }
            let cuda = ep::CUDA::default();
            let cuda = match options.device {
                Some(index) => cuda.with_device_id(device_index(index)?),
                None => cuda,
            };
            builder
                .with_execution_providers([cuda.build().error_on_failure()])
                .map_err(|err| unavailable(err.to_string()))?
        }
        Provider::DirectMl => {
            if !ep::DirectML::is_available().unwrap_or(false) {
                return Err(unavailable(if cfg!(windows) {
                    "this ONNX Runtime library has no DirectML support: use the DirectML build (directml\\onnxruntime.dll \
                     in nst's Windows zip, from the onnxruntime-directml wheel)"
                } else {
                    "DirectML runs on Windows only"
                }
                .into()));
            }
            let directml = ep::DirectML::default();
            let directml = match options.device {
                Some(index) => directml.with_device_id(device_index(index)?),
                None => directml.with_performance_preference(ep::directml::PerformancePreference::HighPerformance),
            };
            builder
                .with_execution_providers([directml.build().error_on_failure()])
                .map_err(|err| unavailable(err.to_string()))?
        }
    };
    let mut builder = builder;
    builder.commit_from_memory(model_bytes).map_err(ort_context("loading a graph"))
}
