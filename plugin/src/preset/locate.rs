//! Where the bundled presets live, and whether the files a preset names are there.

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};
use crate::platform::own_file;

/// The presets folder: `explicit` (which must be a folder), else `NST_PRESETS_DIR`, then `presets/` beside this library (or the
/// executable it is linked into), then `../share/nst/presets` from there. Only a library still inside the checkout
/// it was built in (its `target/` folder) also looks at that checkout's `presets/`: a copy installed elsewhere
/// (a GIMP plug-in folder) uses its own presets and names its own folder when they are missing.
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
    let own = own_file();
    if let Some(folder) = own.as_deref().and_then(Path::parent) {
        candidates.push(folder.join("presets"));
        candidates.push(folder.join("../share/nst/presets"));
    }
    let checkout = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    if own.as_deref().is_some_and(|file| inside_build_tree(file, &checkout)) {
        candidates.push(checkout.join("presets"));
    }
    candidates.iter().find(|dir| dir.is_dir()).cloned().ok_or_else(|| {
        let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
        EngineError::Preset(format!("no presets folder found; looked at: {}", tried.join(", ")))
    })
}

/// Whether `file` lies in `checkout`'s `target/` folder (or the `CARGO_TARGET_DIR` it was built into).
fn inside_build_tree(file: &Path, checkout: &Path) -> bool {
    let canonical = |path: &Path| std::fs::canonicalize(path).ok();
    let Some(file) = canonical(file) else { return false };
    let mut targets = vec![checkout.join("target")];
    targets.extend(option_env!("CARGO_TARGET_DIR").map(PathBuf::from));
    targets.iter().filter_map(|target| canonical(target)).any(|target| file.starts_with(target))
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

/// What keeps `path`, written `name` in the preset, from being a file a preset can name: `None` when it is a
/// regular file (symbolic links followed), else a phrase naming it ("'style.png' is a folder, ...").
pub fn not_a_file(path: &Path, name: &str) -> Option<String> {
    let error = match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => return None,
        Ok(metadata) => {
            return Some(format!("'{name}' is {}, not a regular file", nst_files::describe_type(&metadata)));
        }
        Err(error) => error,
    };
    // The name itself exists but does not lead to a file: a link to nowhere or a loop of links.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Some(format!("'{name}' is a symbolic link that cannot be followed: {error}"));
    }
    Some(match error.kind() {
        std::io::ErrorKind::NotFound => format!("file '{name}' not found"),
        // A loop of links further up, a file used as a folder, a folder that may not be read.
        _ => format!("file '{name}' cannot be resolved: {error}"),
    })
}
