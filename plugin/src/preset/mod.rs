//! Style presets: versioned, strict TOML files naming style images and every artistic setting.
//!
//! Every error names the file, the line and the key, and what was expected (see presets/README.md).

mod locate;
mod overrides;
mod parse;
mod schema;

pub use locate::{bundled_presets, presets_dir};

pub use overrides::Overrides;
pub use parse::parse_preset;

use std::path::{Path, PathBuf};

use crate::error::{EngineError, Result};

use crate::stylize::Settings;

/// How the optimisation starts, before images are loaded.
#[derive(Debug, Clone, PartialEq)]
pub enum InitSpec {
    /// From the content image.
    Content,
    /// From seeded noise.
    Noise,
    /// From an image file.
    Image(PathBuf),
}

/// A preset read and checked: its style images (paths), blend weights and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Preset {
    /// Name (the file stem).
    pub name: String,
    /// One line for menus.
    pub description: String,
    /// The file it came from (`None` for TOML given as text).
    pub source: Option<PathBuf>,
    /// Style images with blend weights.
    pub styles: Vec<(PathBuf, f32)>,
    /// One mask per style image (where it applies), or empty.
    pub style_masks: Vec<PathBuf>,
    /// Per-pixel content weight mask.
    pub content_mask: Option<PathBuf>,
    /// Run settings (`init` is [`crate::stylize::Init::Content`] here; see `init`).
    pub settings: Settings,
    /// Where the run starts.
    pub init: InitSpec,
}

/// Reads a preset given as a bundled name (`mosaic`) or a path to a `.toml` file.
pub fn load_preset(name_or_path: &str, presets: Option<&Path>) -> Result<Preset> {
    let as_path = Path::new(name_or_path);
    let path = if name_or_path.ends_with(".toml") || as_path.components().count() > 1 {
        as_path.to_path_buf()
    } else {
        let dir = presets_dir(presets)?;
        let candidate = dir.join(format!("{name_or_path}.toml"));
        if !candidate.is_file() {
            let known: Vec<String> = bundled_presets(&dir).into_iter().map(|(name, _)| name).collect();
            let holds = match known.is_empty() {
                true => "it holds no presets".to_string(),
                false => format!("bundled: {}", known.join(", ")),
            };
            return Err(EngineError::Preset(format!(
                "no preset named '{name_or_path}' in {} ({holds})",
                dir.display()
            )));
        }
        candidate
    };
    let text = nst_files::read_text(&path, nst_files::FileKind::Preset)
        .map_err(|e| EngineError::Preset(format!("preset {}: cannot read: {e}", path.display())))?;
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_preset(&text, &name, &path.display().to_string(), &base).map(|mut preset| {
        preset.source = Some(path.clone());
        preset
    })
}

/// A preset given as a bundled name, a `.toml` path, or TOML text (recognised by a newline or `=`; its relative
/// paths resolve against the current folder).
pub fn resolve_preset(spec: &str, presets: Option<&Path>) -> Result<Preset> {
    if spec.contains('\n') || spec.contains('=') {
        let base = std::env::current_dir().unwrap_or_default();
        return parse_preset(spec, "inline", "given as text", &base);
    }
    load_preset(spec, presets)
}
