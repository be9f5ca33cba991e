//! The engine handle: created once from configuration TOML, serves many runs.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::Mutex;

use super::boundary::{FfiError, boundary};
use super::required_str;
use super::status::NstStatus;
use crate::config::{Config, parse_config};
use crate::stylize::{Engine, ModelChoice};

/// An engine: ONNX Runtime loaded, models and graphs cached. Opaque to C.
pub struct NstEngine {
    pub(crate) engine: Mutex<Engine>,
    pub(crate) presets_dir: Option<PathBuf>,
    pub(crate) model: Option<ModelChoice>,
}

fn create(config: Config, out: *mut *mut NstEngine) -> Result<(), FfiError> {
    let engine = Engine::new(&config.engine)?;
    let handle =
        Box::new(NstEngine { engine: Mutex::new(engine), presets_dir: config.presets_dir, model: config.model });
    // SAFETY: `out` was checked non-null by the caller of this helper.
    unsafe { *out = Box::into_raw(handle) };
    Ok(())
}

/// Creates an engine from configuration TOML text (NULL or "" for defaults). Keys, all optional:
/// `ort_library` (absolute path of libonnxruntime), `provider` ("auto", "cpu", "cuda", "directml"),
/// `threads` (0..=256, 0 = every core), `presets_dir`, `model` ("builtin" or a VGG19 .onnx path: the model
/// of every run whose call does not name one) and `model_seed` (the built-in model's seed). Relative paths are
/// relative to the current folder (for `nst_engine_create_from_file`: to the file's folder).
///
/// On success `*out_engine` receives a handle the caller owns and must release with `nst_engine_free`. On
/// failure `*out_engine` is set to NULL and `nst_last_error` has the message (e.g. where ONNX Runtime was
/// looked for).
///
/// # Safety
/// `config` must be NULL or NUL-terminated; `out_engine` must point to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_create(config: *const c_char, out_engine: *mut *mut NstEngine) -> NstStatus {
    boundary(|| {
        if out_engine.is_null() {
            return Err(FfiError::null("out_engine"));
        }
        // SAFETY: checked non-null.
        unsafe { *out_engine = std::ptr::null_mut() };
        let text = if config.is_null() { "" } else { unsafe { required_str(config, "config")? } };
        let cwd = std::env::current_dir().unwrap_or_default();
        create(parse_config(text, "text", &cwd)?, out_engine)
    })
}

/// Creates an engine from a configuration TOML file (see `nst_engine_create` for the keys and ownership).
///
/// # Safety
/// `path` must be NUL-terminated; `out_engine` must point to writable storage for a pointer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_create_from_file(
    path: *const c_char,
    out_engine: *mut *mut NstEngine,
) -> NstStatus {
    boundary(|| {
        if out_engine.is_null() {
            return Err(FfiError::null("out_engine"));
        }
        // SAFETY: checked non-null.
        unsafe { *out_engine = std::ptr::null_mut() };
        // SAFETY: the caller passes a NUL-terminated string or NULL (refused).
        let path = unsafe { required_str(path, "path")? };
        let text = std::fs::read_to_string(path).map_err(|e| {
            FfiError::new(NstStatus::NstInvalidArgument, format!("configuration {path}: cannot read: {e}"))
        })?;
        let base = std::path::Path::new(path).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        create(parse_config(&text, path, &base)?, out_engine)
    })
}

/// Releases an engine. NULL is accepted and ignored. The engine must not be in use by another thread.
///
/// # Safety
/// `engine` must be NULL or a handle from `nst_engine_create*` not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_free(engine: *mut NstEngine) {
    boundary(|| {
        if !engine.is_null() {
            // SAFETY: a handle made by Box::into_raw in `create`, freed once per the caller's contract.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(())
    });
}

/// The engine behind a handle.
///
/// # Safety
/// `engine` must be NULL or a live handle.
pub(crate) unsafe fn engine_ref<'a>(engine: *const NstEngine) -> Result<&'a NstEngine, FfiError> {
    // SAFETY: per the caller's contract.
    unsafe { engine.as_ref() }.ok_or_else(|| FfiError::null("engine"))
}
