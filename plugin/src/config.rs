//! Engine configuration as TOML text (the C ABI's `nst_engine_create`, the command line's `--config`).

use std::path::PathBuf;

use serde::Deserialize;

use crate::error::{EngineError, Result};
use crate::runtime::Provider;
use crate::stylize::EngineConfig;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    ort_library: Option<PathBuf>,
    provider: Option<String>,
    threads: Option<i64>,
    presets_dir: Option<PathBuf>,
}

/// An engine configuration with the presets folder it names.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// How the engine is built.
    pub engine: EngineConfig,
    /// Folder of bundled presets (`None`: the default search).
    pub presets_dir: Option<PathBuf>,
}

/// Parses configuration TOML. Keys (all optional): `ort_library` (absolute path of libonnxruntime),
/// `provider` (auto, cpu, cuda, directml), `threads` (0..=256, 0 = every core), `presets_dir`.
pub fn parse_config(text: &str, origin: &str) -> Result<Config> {
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
    Ok(Config {
        engine: EngineConfig { ort_library: file.ort_library, provider, threads },
        presets_dir: file.presets_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keys_and_refuses_unknown_ones() {
        let config = parse_config("provider = \"cpu\"\nthreads = 2\n", "test").unwrap();
        assert_eq!(config.engine.provider, Provider::Cpu);
        assert_eq!(config.engine.threads, 2);
        let err = parse_config("thread = 2\n", "test").unwrap_err().to_string();
        assert!(err.contains("line 1") && err.contains("thread"), "{err}");
        let err = parse_config("threads = 999\n", "test").unwrap_err().to_string();
        assert!(err.contains("`threads`: 999 is outside 0..=256"), "{err}");
    }
}
