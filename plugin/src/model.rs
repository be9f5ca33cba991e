//! Which VGG19 a run uses, and how a model reference resolves: `builtin`, the name of an installed model
//! (`vgg19`, see [`nst_onnx::store`]), or a file (ONNX or safetensors).

use std::path::{Path, PathBuf};

use nst_onnx::import::stored_description;
use nst_onnx::store::{BUILTIN, ModelStore, is_model_name};

use crate::error::Result;

/// Which VGG19 weights to use.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ModelChoice {
    /// The built-in seeded random-weight VGG19 (offline default; not pretrained).
    BuiltIn {
        /// Weight seed.
        seed: u64,
    },
    /// A VGG19 file: an installed model's, a torchvision or model zoo ONNX export, safetensors weights or a
    /// PyTorch checkpoint.
    File(PathBuf),
}

impl ModelChoice {
    /// Resolves `reference`: `builtin` (with `seed`), an installed model's name (looked up in the models
    /// folder now, so a missing model is reported before any work), or a file path, relative to `base`.
    /// A path needs a separator or a `.onnx`, `.safetensors` or `.pth` extension; anything else is a name.
    pub fn from_reference(reference: &str, seed: u64, base: &Path) -> Result<ModelChoice> {
        if reference == BUILTIN {
            return Ok(ModelChoice::BuiltIn { seed });
        }
        if is_model_name(reference) {
            return Ok(ModelChoice::File(ModelStore::default_location()?.resolve(reference)?));
        }
        Ok(ModelChoice::File(base.join(reference)))
    }

    /// What a run with this choice will report as its model, without loading the weights: hosts show it before
    /// a run (the GIMP dialog does).
    pub fn summary(&self) -> String {
        match self {
            ModelChoice::BuiltIn { seed } => {
                format!("built-in random-weight VGG19 (seed {seed}; not pretrained)")
            }
            ModelChoice::File(path) => {
                stored_description(path).unwrap_or_else(|| format!("VGG19 from {}", path.display()))
            }
        }
    }
}
