//! Engine configuration as TOML text (the C ABI's `nst_engine_create`, the command line's `--config`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::network::LossPlacement;
use crate::runtime::Provider;
use crate::stylize::{EngineConfig, ModelChoice};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    ort_library: Option<PathBuf>,
    provider: Option<String>,
    threads: Option<i64>,
    presets_dir: Option<PathBuf>,
    model: Option<String>,
    model_seed: Option<i64>,
    low_memory: Option<bool>,
    memory_budget_mb: Option<i64>,
    losses: Option<String>,
    device: Option<i64>,
}

/// An engine configuration with the presets folder it names.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// How the engine is built.
    pub engine: EngineConfig,
    /// Folder of bundled presets (`None`: the default search).
    pub presets_dir: Option<PathBuf>,
    /// The model every run uses unless the call names one (`None`: each preset's own).
    pub model: Option<ModelChoice>,
}

/// Parses configuration TOML. Keys (all optional): `ort_library` (absolute path of ONNX Runtime's library),
/// `provider` (auto, cpu, cuda, directml), `threads` (0..=256, 0 = every core), `presets_dir`, `model`
/// ("builtin" or a VGG19 .onnx path, relative to `base`; replaces the presets' model) and `model_seed` (the
/// built-in model's seed), `low_memory` (true: one evaluation graph, ONNX Runtime's memory arena and blocked-layout rewriting off) and `memory_budget_mb` (images
/// estimated to need more are optimised in tiles that fit; default: 80% of the memory available when a run
/// starts), `losses` (auto, rust or graph: where the losses run; auto is the evaluation graph on a GPU or in
/// low-memory mode, Rust otherwise), `device` (0..=255: the GPU by index, CUDA's device id or DirectML's adapter
/// in DXGI's order; default: device 0 for CUDA, the high-performance GPU for DirectML).
pub fn parse_config(text: &str, origin: &str, base: &Path) -> Result<Config> {
    let file: ConfigFile = toml::from_str(text)
        .map_err(|e| EngineError::InvalidArgument(format!("configuration {origin}: {}", e.to_string().trim_end())))?;
    let provider = match file.provider.as_deref() {
        None => Provider::Auto,
        Some(name) => name.parse().map_err(|e: EngineError| {
            EngineError::InvalidArgument(format!("configuration {origin}, key `provider`: {e}"))
        })?,
    };
    let threads = match file.threads {
        None => 0,
        Some(n) if (0..=256).contains(&n) => n as usize,
        Some(n) => {
            return Err(EngineError::InvalidArgument(format!(
                "configuration {origin}, key `threads`: {n} is outside 0..=256"
            )));
        }
    };
    let seed = match file.model_seed {
        None => None,
        Some(n) if n >= 0 => Some(n as u64),
        Some(n) => {
            return Err(EngineError::InvalidArgument(format!(
                "configuration {origin}, key `model_seed`: {n} is negative"
            )));
        }
    };
    let memory_budget_mb = match file.memory_budget_mb {
        None => None,
        Some(n) if (64..=1 << 24).contains(&n) => Some(n as u64),
        Some(n) => {
            return Err(EngineError::InvalidArgument(format!(
                "configuration {origin}, key `memory_budget_mb`: {n} is outside 64..=16777216"
            )));
        }
    };
    let device = match file.device {
        None => None,
        Some(n) if (0..=255).contains(&n) => Some(n as u32),
        Some(n) => {
            return Err(EngineError::InvalidArgument(format!(
                "configuration {origin}, key `device`: {n} is outside 0..=255"
            )));
        }
    };
    let losses = match file.losses.as_deref() {
        None => LossPlacement::Auto,
        Some(name) => name.parse().map_err(|e: EngineError| {
            EngineError::InvalidArgument(format!("configuration {origin}, key `losses`: {e}"))
        })?,
    };
    let model = match (file.model.as_deref(), seed) {
        (None, None) => None,
        (None | Some("builtin"), seed) => Some(ModelChoice::BuiltIn { seed: seed.unwrap_or(0) }),
        (Some(reference), seed) => Some(
            ModelChoice::from_reference(reference, seed.unwrap_or(0), base)
                .map_err(|e| EngineError::InvalidArgument(format!("configuration {origin}, key `model`: {e}")))?,
        ),
    };
    Ok(Config {
        engine: EngineConfig {
            ort_library: file.ort_library.map(|p| base.join(p)),
            provider,
            threads,
            low_memory: file.low_memory.unwrap_or(false),
            memory_budget_mb,
            losses,
            device,
        },
        presets_dir: file.presets_dir.map(|p| base.join(p)),
        model,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_refuses_unknown_ones() {
        let config =
            parse_config("provider = \"cpu\"\nthreads = 2\nmodel = \"vgg.onnx\"\n", "test", Path::new("/base"))
                .unwrap();
        assert_eq!(config.engine.provider, Provider::Cpu);
        assert_eq!(config.engine.threads, 2);
        assert_eq!(config.model, Some(ModelChoice::File(PathBuf::from("/base/vgg.onnx"))));
        let err = parse_config("thread = 2\n", "test", Path::new("")).unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("thread"), "{err}");
        let err = parse_config("threads = 999\n", "test", Path::new("")).unwrap_err().to_string();
        assert!(err.contains("`threads`: 999 is outside 0..=256"), "{err}");
        // A name is looked up in the models folder when the configuration is read.
        let err = parse_config("model = \"nst-test-missing-model\"\n", "test", Path::new("")).unwrap_err().to_string();
        assert!(err.contains("key `model`") && err.contains("'nst-test-missing-model' is not installed"), "{err}");
        let config = parse_config("losses = \"graph\"\n", "test", Path::new("")).unwrap();
        assert_eq!(config.engine.losses, LossPlacement::Graph);
        let err = parse_config("losses = \"gpu\"\n", "test", Path::new("")).unwrap_err().to_string();
        assert!(err.contains("`losses`: unknown loss placement 'gpu'"), "{err}");
        assert_eq!(parse_config("device = 1\n", "test", Path::new("")).unwrap().engine.device, Some(1));
        let err = parse_config("device = 256\n", "test", Path::new("")).unwrap_err().to_string();
        assert!(err.contains("`device`: 256 is outside 0..=255"), "{err}");
    }
}
