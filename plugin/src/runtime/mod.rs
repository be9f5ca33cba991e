//! ONNX Runtime: finding its library, loading it once per process, and opening sessions on a provider.

mod locate;
mod provider;

pub use locate::{candidate_paths, locate_onnxruntime};
pub use provider::{Provider, SessionOptions, open_session, probe_provider};

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ort::environment::Environment;

use crate::error::{EngineError, Result, ort_context};

/// The ONNX Runtime release this engine is built and tested against.
pub const ORT_VERSION: &str = "1.31.1";

/// The process-wide runtime: the library is loaded once and never unloaded (its thread pools outlive `dlclose`).
static RUNTIME: Mutex<Option<(PathBuf, Environment)>> = Mutex::new(None);

/// The ONNX Runtime environment, loading the library on first use.
///
/// `explicit` is a configured library path; see [`locate_onnxruntime`] for the search order. Once loaded, later
/// calls return the same environment; asking for another library then is an error.
pub fn environment(explicit: Option<&Path>) -> Result<(Environment, PathBuf)> {
    let mut runtime = RUNTIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((loaded, env)) = runtime.as_ref() {
        if let Some(wanted) = explicit {
            let same = std::fs::canonicalize(wanted).ok() == std::fs::canonicalize(loaded).ok();
            if !same {
                return Err(EngineError::InvalidArgument(format!(
                    "ONNX Runtime is already loaded from {} in this process; cannot also load {}",
                    loaded.display(),
                    wanted.display()
                )));
            }
        }
        return Ok((env.clone(), loaded.clone()));
    }
    let path = locate_onnxruntime(explicit)?;
    crate::platform::open_runtime_library(&path).map_err(|reason| EngineError::OnnxRuntimeMissing {
        version: ORT_VERSION,
        tried: vec![format!("{}: found but failed to load: {reason}", path.display())],
    })?;
    let builder = ort::init_from(&path).map_err(|err| EngineError::OnnxRuntimeMissing {
        version: ORT_VERSION,
        tried: vec![format!("{}: found but failed to load: {err}", path.display())],
    })?;
    let env = builder.with_name("nst").build().map_err(ort_context("creating its environment"))?;
    *runtime = Some((path.clone(), env.clone()));
    Ok((env, path))
}
