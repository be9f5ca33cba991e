//! Where the bundled presets live.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::runtime::own_file;

/// The presets folder: `explicit` (which must be a folder), else `NST_PRESETS_DIR`, then `presets/` beside this library (or the
/// executable it is linked into), then the source tree's `presets/` (for builds run from a checkout).
pub fn presets_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    // A folder the caller names is that folder: a typo must not quietly fall back to the bundled presets.
    if let Some(dir) = explicit {
        return match dir.is_dir() {
            true => Ok(dir.to_path_buf()),
            false => Err(EngineError::Preset(format!("presets folder {} is not a folder", dir.display()))),
        };
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    candidates.extend(std::env::var_os("NST_PRESETS_DIR").filter(|v| !v.is_empty()).map(PathBuf::from));
    if let Some(folder) = own_file().as_deref().and_then(Path::parent) {
        candidates.push(folder.join("presets"));
        candidates.push(folder.join("../share/nst/presets"));
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../presets"));
    candidates.iter().find(|dir| dir.is_dir()).cloned().ok_or_else(|| {
        let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
        EngineError::Preset(format!("no presets folder found; looked at: {}", tried.join(", ")))
    })
}

/// The bundled presets of `dir`: (name, path), sorted by name.
pub fn bundled_presets(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut presets: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .filter_map(|path| Some((path.file_stem()?.to_string_lossy().into_owned(), path)))
        .collect();
    presets.sort();
    presets
}
