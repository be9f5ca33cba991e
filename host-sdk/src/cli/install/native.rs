//! The native files an installed plug-in needs: the plugin library, ONNX Runtime (with its provider libraries
//! and, on Windows, the DirectML build) and the bundled presets. They are taken from where this command finds
//! them itself, so a checkout, the Windows zip and the wheel all install what they run.

use std::path::{Path, PathBuf};

use crate::cli::arguments::EngineArgs;
use crate::cli::error::CliError;

/// What is copied into the plug-in's `nst/_native/` folder.
pub struct NativeFiles {
    pub plugin: PathBuf,
    /// ONNX Runtime's library, then the provider libraries found beside it.
    pub runtime: Vec<PathBuf>,
    /// A folder of another ONNX Runtime build beside it (`directml/` in the Windows zip), copied whole.
    pub runtime_variants: Vec<PathBuf>,
    pub presets: PathBuf,
}

/// The ONNX Runtime file-name prefix on this platform; versioned names (`libonnxruntime.so.1.31.1`) match too.
fn runtime_prefix() -> &'static str {
    if cfg!(windows) { "onnxruntime" } else { "libonnxruntime" }
}

fn is_runtime_library(name: &str) -> bool {
    let library = if cfg!(windows) {
        name.ends_with(".dll")
    } else if cfg!(target_os = "macos") {
        name.ends_with(".dylib")
    } else {
        name.contains(".so")
    };
    library && name.starts_with(runtime_prefix())
}

/// The regular files in `folder` whose names `wanted` accepts, sorted.
fn files_in(folder: &Path, wanted: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.file_name().is_some_and(|name| wanted(&name.to_string_lossy())) && path.is_file())
        .collect();
    found.sort();
    found
}

/// ONNX Runtime's library in `folder`, preferring the most specific (versioned) name.
fn runtime_in(folder: &Path) -> Option<PathBuf> {
    let found = files_in(folder, |name| is_runtime_library(name) && !name.contains("providers"));
    found.into_iter().max_by_key(|path| path.as_os_str().len())
}

/// The provider libraries (CUDA, TensorRT, the shared one) and DirectML beside ONNX Runtime's library.
fn providers_beside(runtime: &Path) -> Vec<PathBuf> {
    files_in(runtime.parent().unwrap_or(Path::new(".")), |name| {
        (name.contains("providers") && is_runtime_library(name)) || name.eq_ignore_ascii_case("DirectML.dll")
    })
}

/// Finds the native files: the plugin as `nst` itself loads it, ONNX Runtime from `--ort`, `ORT_DYLIB_PATH` or
/// beside the plugin, and the presets folder the plugin itself uses.
pub fn find(engine: &EngineArgs) -> Result<NativeFiles, CliError> {
    let loaded = engine.plugin()?;
    let plugin = loaded.path().to_path_buf();
    let plugin_folder = plugin.parent().unwrap_or(Path::new(".")).to_path_buf();
    let configured =
        engine.ort.clone().or_else(|| std::env::var_os("ORT_DYLIB_PATH").filter(|v| !v.is_empty()).map(PathBuf::from));
    let runtime = match configured {
        Some(path) if path.is_file() => path,
        Some(path) => {
            return Err(CliError::Usage(format!(
                "ONNX Runtime's library {} (from --ort or ORT_DYLIB_PATH) is not a file",
                path.display()
            )));
        }
        None => runtime_in(&plugin_folder).ok_or_else(|| {
            CliError::Usage(format!(
                "ONNX Runtime's library was not found beside {}: name it with --ort (or ORT_DYLIB_PATH); in a \
                 checkout, scripts/setup puts it in .ort/",
                plugin.display()
            ))
        })?,
    };
    let mut runtime_files = vec![runtime.clone()];
    runtime_files.extend(providers_beside(&runtime));
    let runtime_folder = runtime.parent().unwrap_or(Path::new(".")).to_path_buf();
    let runtime_variants: Vec<PathBuf> =
        ["directml"].iter().map(|name| runtime_folder.join(name)).filter(|dir| runtime_in(dir).is_some()).collect();
    let presets = presets_folder(&loaded, engine.presets_dir.as_deref())?;
    Ok(NativeFiles { plugin, runtime: runtime_files, runtime_variants, presets })
}

/// The folder of the presets the plugin lists, read from its own description (each preset's `path`).
fn presets_folder(plugin: &nst_host::Plugin, explicit: Option<&Path>) -> Result<PathBuf, CliError> {
    let listing = plugin.describe_presets(explicit)?;
    let json: serde_json::Value = serde_json::from_str(&listing)
        .map_err(|e| CliError::Usage(format!("the plugin's preset list is not JSON: {e}")))?;
    json.as_array()
        .into_iter()
        .flatten()
        .find_map(|preset| preset["path"].as_str().map(PathBuf::from))
        .and_then(|path| path.parent().map(Path::to_path_buf))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "the plugin {} lists no bundled presets to install with it (--presets-dir names their folder)",
                plugin.path().display()
            ))
        })
}
