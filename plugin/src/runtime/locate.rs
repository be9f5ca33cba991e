//! Where ONNX Runtime's library is looked for.
//!
//! `ort` resolves a relative library path against the *host's* executable, which is wrong for a plugin; so every
//! candidate here is made absolute first.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::platform::{ONNX_RUNTIME_NAMES, own_file};

/// The candidates in search order, each with where it came from. A configured path wins and is the only
/// candidate (a wrong configuration is reported, not silently replaced); then `ORT_DYLIB_PATH`, likewise; only
/// when neither is set, the folder of the file holding this engine (the plugin library, or the executable it is
/// linked into).
pub fn candidate_paths(explicit: Option<&Path>) -> Vec<(PathBuf, String)> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let absolute = |path: &Path| if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    if let Some(path) = explicit {
        return vec![(absolute(path), "ort_library in the configuration, or --ort".to_string())];
    }
    if let Some(path) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![(absolute(Path::new(&path)), "ORT_DYLIB_PATH".to_string())];
    }
    let Some(own) = own_file() else { return Vec::new() };
    let folder = own.parent().map(Path::to_path_buf).unwrap_or_default();
    ONNX_RUNTIME_NAMES.iter().map(|name| (folder.join(name), format!("beside {}", own.display()))).collect()
}

/// The first candidate that exists; otherwise an error listing every place tried.
pub fn locate_onnxruntime(explicit: Option<&Path>) -> Result<PathBuf> {
    let candidates = candidate_paths(explicit);
    if let Some((path, _)) = candidates.iter().find(|(path, _)| path.is_file()) {
        return Ok(path.clone());
    }
    Err(EngineError::OnnxRuntimeMissing {
        version: super::ORT_VERSION,
        tried: candidates
            .into_iter()
            .map(|(path, origin)| format!("{} ({origin}): {}", path.display(), why_not_a_library(&path)))
            .collect(),
    })
}

/// Why `path` cannot be the library: it is missing, or a folder (the library file inside it is wanted).
fn why_not_a_library(path: &Path) -> String {
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "no such file".into(),
        Err(e) => format!("cannot read: {e}"),
        Ok(m) if m.is_dir() => {
            format!(
                "is a folder, not the library: name the file itself, such as {}",
                path.join(ONNX_RUNTIME_NAMES[0]).display()
            )
        }
        Ok(_) => "not a regular file".into(),
    }
}
