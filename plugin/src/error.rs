//! The engine's one error type; every message names the input at fault.

use std::fmt;

/// What went wrong in the engine.
#[derive(Debug)]
pub enum EngineError {
    /// ONNX Runtime's shared library was not found or did not load.
    OnnxRuntimeMissing {
        /// The release looked for.
        version: &'static str,
        /// Each place looked at, with what was found there.
        tried: Vec<String>,
    },
    /// ONNX Runtime reported an error.
    OnnxRuntime {
        /// What the engine was doing.
        context: String,
        /// ONNX Runtime's message.
        message: String,
    },
    /// The requested execution provider cannot run here.
    Provider {
        /// `cuda`, `directml`, ...
        requested: String,
        /// Why it is unavailable.
        reason: String,
    },
    /// The model could not be read or built.
    Model(nst_onnx::OnnxError),
    /// An image could not be read, decoded or written.
    Image {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A preset is invalid; the message names its file, line and key.
    Preset(String),
    /// An argument is out of range or inconsistent.
    InvalidArgument(String),
    /// The engine broke one of its own invariants: a bug, not the caller's doing.
    Internal(String),
    /// The run was cancelled through the progress callback.
    Cancelled,
    /// The run's estimated peak memory exceeds the budget; nothing was allocated.
    OverBudget {
        /// Working width.
        width: usize,
        /// Working height.
        height: usize,
        /// The estimate, MiB.
        needed_mib: f64,
        /// The budget, MiB.
        budget_mib: f64,
        /// The largest long side that fits at the same aspect, if any.
        largest_side: Option<usize>,
    },
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineError::OnnxRuntimeMissing { version, tried } => {
                write!(f, "ONNX Runtime {version} was not found. Looked at:")?;
                for place in tried {
                    write!(f, "\n  - {place}")?;
                }
                if cfg!(windows) {
                    write!(
                        f,
                        "\nPut onnxruntime.dll and onnxruntime_providers_shared.dll beside nst.dll (they come with \
                         nst's Windows zip; scripts/setup --windows takes them from the onnxruntime=={version} \
                         wheel, or from onnxruntime-directml==1.24.4 for DirectML), or point ORT_DYLIB_PATH at \
                         the absolute path of onnxruntime.dll."
                    )
                } else {
                    write!(
                        f,
                        "\nRun scripts/setup (it fetches the onnxruntime=={version} wheel with pip and unpacks its \
                         library), or point ORT_DYLIB_PATH at the absolute path of {}.",
                        crate::platform::ONNX_RUNTIME_NAMES[0]
                    )
                }
            }
            EngineError::OnnxRuntime { context, message } => {
                write!(f, "ONNX Runtime failed while {context}: {message}")
            }
            EngineError::Provider { requested, reason } => {
                write!(f, "execution provider '{requested}' is not available: {reason}")
            }
            EngineError::Model(err) => write!(f, "{err}"),
            EngineError::Image { path, reason } => write!(f, "image {path}: {reason}"),
            EngineError::Preset(message) => write!(f, "{message}"),
            EngineError::InvalidArgument(message) => write!(f, "{message}"),
            EngineError::Internal(message) => write!(f, "internal error (a bug in nst): {message}"),
            EngineError::Cancelled => write!(f, "cancelled"),
            EngineError::OverBudget { width, height, needed_mib, budget_mib, largest_side } => {
                write!(
                    f,
                    "a {width}x{height} working image needs about {needed_mib:.0} MiB, more than the memory budget \
                     of {budget_mib:.0} MiB (engine key `memory_budget_mb`; by default 80% of the available memory): "
                )?;
                match largest_side {
                    Some(side) => write!(f, "use a long side of at most {side} px, or raise the budget"),
                    None => write!(f, "not even one 64x64 tile fits; raise the budget"),
                }
            }
        }
    }
}

impl std::error::Error for EngineError {}

impl From<nst_onnx::OnnxError> for EngineError {
    fn from(err: nst_onnx::OnnxError) -> Self {
        EngineError::Model(err)
    }
}

/// Wraps an ONNX Runtime error with what the engine was doing.
pub(crate) fn ort_context<E: fmt::Display>(context: &str) -> impl FnOnce(E) -> EngineError + '_ {
    move |err| EngineError::OnnxRuntime { context: context.to_string(), message: err.to_string() }
}

/// Shorthand for the engine's results.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;
