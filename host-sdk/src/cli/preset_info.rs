//! A preset's summary, as the plugin describes it.

use std::path::PathBuf;

use nst_host::Engine;

use super::error::CliError;

/// The preset's summary from the plugin.
pub struct PresetInfo {
    pub name: String,
    pub description: String,
    pub size: Option<u32>,
    pub styles: Vec<PathBuf>,
}

pub fn preset_info(engine: &Engine, preset: &str) -> Result<PresetInfo, CliError> {
    let json: serde_json::Value = serde_json::from_str(&engine.describe_preset(preset)?)
        .map_err(|e| CliError::Usage(format!("the plugin's preset description is not JSON: {e}")))?;
    Ok(PresetInfo {
        name: json["name"].as_str().unwrap_or_default().to_string(),
        description: json["description"].as_str().unwrap_or_default().to_string(),
        size: json["size"].as_u64().map(|s| s as u32),
        styles: json["styles"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["path"].as_str())
            .map(PathBuf::from)
            .collect(),
    })
}
