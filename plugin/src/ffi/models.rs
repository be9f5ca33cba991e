//! The models a run can name, as JSON: the built-in one and each installed in the models folder.

use std::ffi::c_char;

use super::boundary::{FfiError, boundary, copy_out};
use super::json::{array, object, string};
use crate::EngineError;
use nst_onnx::store::{BUILTIN, ModelStore};

/// What the built-in model is, as `nst model list` says it.
const BUILTIN_DESCRIPTION: &str = "built-in random-weight VGG19 (seeded, not pretrained; always available)";

/// The default models folder's models as JSON objects, the built-in one first.
fn models_json() -> Result<String, FfiError> {
    let store = ModelStore::default_location().map_err(EngineError::from)?;
    let installed = store.list().map_err(EngineError::from)?;
    let mut models = vec![object(&[
        ("name", string(BUILTIN)),
        ("description", string(BUILTIN_DESCRIPTION)),
        ("pretrained", "false".into()),
        ("file", "null".into()),
    ])];
    for model in installed {
        let (manifest, path) = (&model.manifest, &model.file);
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        models.push(object(&[
            ("name", string(&manifest.name)),
            ("description", string(&manifest.description)),
            ("pretrained", "true".into()),
            ("file", string(&path.display().to_string())),
            ("size_bytes", size.to_string()),
            ("source", string(&manifest.source)),
            ("source_sha256", string(&manifest.source_sha256)),
            ("stored_sha256", string(&manifest.stored_sha256)),
            ("licence", string(&manifest.licence)),
            ("date", string(&manifest.date)),
            ("problem", model.problem.as_deref().map_or_else(|| "null".into(), string)),
        ]));
    }
    Ok(object(&[("models_dir", string(&store.dir().display().to_string())), ("models", array(&models))]))
}

/// Writes the models a run can name as a JSON object, without an engine: `models_dir` (the models folder:
/// `NST_MODELS`, else the user's data folder) and `models`, the built-in random-weight VGG19 first, then each
/// installed one with its `name`, `description`, `pretrained`, `file`, `size_bytes`, `source`,
/// `source_sha256`, `stored_sha256`, `licence`, `date` and `problem` (null, or why the file does not match
/// its manifest: runs refuse such a model). Buffer rules as for `nst_engine_describe`.
///
/// # Safety
/// `buffer` NULL or `length` writable bytes; `needed` NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_describe_models(
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> super::NstStatus {
    boundary(|| {
        // SAFETY: the buffer rules of this export are copy_out's.
        unsafe { copy_out(&models_json()?, buffer, length, needed) }
    })
}
