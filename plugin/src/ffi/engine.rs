//! Engine handles: created once from configuration TOML, serving many runs, freed at any time.
//!
//! A handle is a key into a registry, never a pointer the library dereferences: a freed, forged or
//! twice-freed handle is answered with `NST_INVALID_HANDLE` instead of undefined behaviour, and freeing an
//! engine while runs are in flight cancels them and releases the engine when the last one returns.

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::boundary::{FfiError, boundary};
use super::required_str;
use super::status::NstStatus;
use crate::config::{Config, parse_config};
use crate::stylize::{Engine, ModelChoice};

pub use nst_sys::abi::NstEngine;

/// What a live handle stands for, shared with the runs in flight.
pub(crate) struct EngineState {
    engine: Mutex<Engine>,
    pub(crate) presets_dir: Option<PathBuf>,
    pub(crate) model: Option<ModelChoice>,
    pub(crate) memory_budget_mb: Option<u64>,
    freed: AtomicBool,
}

thread_local! {
    /// The engines whose lock this thread holds: a callback that calls back into the same engine would wait for
    /// itself forever.
    static HELD_HERE: std::cell::RefCell<Vec<usize>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The engine, locked for one caller; the thread's mark is removed with the lock.
pub(crate) struct LockedEngine<'a> {
    guard: MutexGuard<'a, Engine>,
    key: usize,
}

impl std::ops::Deref for LockedEngine<'_> {
    type Target = Engine;
    fn deref(&self) -> &Engine {
        &self.guard
    }
}

impl std::ops::DerefMut for LockedEngine<'_> {
    fn deref_mut(&mut self) -> &mut Engine {
        &mut self.guard
    }
}

impl Drop for LockedEngine<'_> {
    fn drop(&mut self) {
        HELD_HERE.with(|held| held.borrow_mut().retain(|k| *k != self.key));
    }
}

impl EngineState {
    /// The engine, once the runs queued before this caller have finished; `NST_BUSY` when this very thread
    /// holds it already (a progress or preview callback calling back into its own engine).
    pub(crate) fn lock(&self) -> Result<LockedEngine<'_>, FfiError> {
        let key = self as *const EngineState as usize;
        if HELD_HERE.with(|held| held.borrow().contains(&key)) {
            return Err(FfiError::new(
                NstStatus::NstBusy,
                "this engine is running a call on this thread already (a progress or preview callback called \
                 back into it); runs on one engine are serialised: use another engine for nested runs",
            ));
        }
        let guard = self.engine.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        HELD_HERE.with(|held| held.borrow_mut().push(key));
        Ok(LockedEngine { guard, key })
    }

    /// Whether the host freed the handle: runs in flight stop at their next iteration.
    pub(crate) fn is_freed(&self) -> bool {
        self.freed.load(Ordering::Acquire)
    }
}

/// Live handles by address. Addresses are never reused, so a stale handle cannot reach a newer engine.
struct Registry {
    next: usize,
    live: BTreeMap<usize, Arc<EngineState>>,
}

static REGISTRY: Mutex<Registry> = Mutex::new(Registry { next: 0x1000, live: BTreeMap::new() });

fn registry() -> MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Creates the engine `config` describes and writes its handle to `out`.
///
/// # Safety
/// `out` must be non-null and point to writable storage for a pointer.
unsafe fn create(config: Config, out: *mut *mut NstEngine) -> Result<(), FfiError> {
    let memory_budget_mb = config.engine.memory_budget_mb;
    let mut engine = Engine::new(&config.engine)?;
    if let Some(model) = &config.model {
        engine.preload(model)?;
    }
    let state = Arc::new(EngineState {
        engine: Mutex::new(engine),
        presets_dir: config.presets_dir,
        model: config.model,
        memory_budget_mb,
        freed: AtomicBool::new(false),
    });
    let mut registry = registry();
    let address = registry.next;
    registry.next += 16;
    registry.live.insert(address, state);
    // SAFETY: non-null and writable, per this function's contract.
    unsafe { *out = address as *mut NstEngine };
    Ok(())
}

/// Creates an engine from configuration TOML text (NULL or "" for defaults). Keys, all optional:
/// `ort_library` (absolute path of libonnxruntime.so or onnxruntime.dll; on Windows best in single quotes, which
/// TOML takes literally), `provider` ("auto", "cpu", "cuda", "directml"), `device` (0..=255: the GPU by index),
/// `threads` (0..=256, 0 = every core), `presets_dir`, `model` ("builtin" or a VGG19 .onnx path: the model
/// of every run whose call does not name one), `model_seed` (the built-in model's seed), `low_memory`,
/// `memory_budget_mb` (images estimated to need more are optimised in tiles that fit; default: 80% of the
/// memory available when the run starts) and `losses` ("auto": the evaluation graph on a GPU or with
/// `low_memory`, Rust otherwise; "rust"; "graph"). Relative paths are relative to the current folder (for `nst_engine_create_from_file`: to the
/// file's folder).
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
        // SAFETY: the caller passes a NUL-terminated string when it is not NULL.
        let text = if config.is_null() { "" } else { unsafe { required_str(config, "config")? } };
        let cwd = std::env::current_dir().unwrap_or_default();
        let config = parse_config(text, "text", &cwd)?;
        // SAFETY: `out_engine` is non-null (checked) and writable per this export's contract.
        unsafe { create(config, out_engine) }
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
        let text = nst_files::read_text(Path::new(path), nst_files::FileKind::Configuration).map_err(|e| {
            FfiError::new(NstStatus::NstInvalidArgument, format!("configuration {path}: cannot read: {e}"))
        })?;
        let base = std::path::Path::new(path).parent().map(std::path::Path::to_path_buf).unwrap_or_default();
        let config = parse_config(&text, path, &base)?;
        // SAFETY: `out_engine` is non-null (checked) and writable per this export's contract.
        unsafe { create(config, out_engine) }
    })
}

/// Drops the models and graph sessions the engine keeps from its recent runs (it keeps those of its last two
/// networks, so memory stays bounded however many models a host walks through), returning their memory; the
/// next run builds what it needs again. Waits for a run in progress on the engine to finish.
///
/// # Safety
/// None beyond passing a value this library returned (any other value is refused, not dereferenced).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_trim(engine: *mut NstEngine) -> NstStatus {
    boundary(|| {
        let state = engine_ref(engine)?;
        state.lock()?.trim();
        Ok(())
    })
}

/// Releases an engine; NULL is accepted and ignored. Safe to call from any thread at any time: runs in
/// flight on the engine stop at their next iteration and return `NST_CANCELLED` (runs still waiting for the
/// engine return it at once), and the memory is released when the last of them returns. Every later call
/// with the handle, a second free included, returns `NST_INVALID_HANDLE`.
///
/// # Safety
/// None beyond passing a value this library returned (any other value is refused, not dereferenced).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_free(engine: *mut NstEngine) -> NstStatus {
    boundary(|| {
        if engine.is_null() {
            return Ok(());
        }
        let state = registry().live.remove(&(engine as usize)).ok_or_else(|| stale(engine))?;
        state.freed.store(true, Ordering::Release);
        Ok(())
    })
}

fn stale(engine: *const NstEngine) -> FfiError {
    FfiError::new(
        NstStatus::NstInvalidHandle,
        format!("engine handle {engine:p} is not live: it was freed, or never returned by nst_engine_create"),
    )
}

/// The engine behind a handle, kept alive for the caller even if the host frees the handle meanwhile.
pub(crate) fn engine_ref(engine: *const NstEngine) -> Result<Arc<EngineState>, FfiError> {
    if engine.is_null() {
        return Err(FfiError::null("engine"));
    }
    registry().live.get(&(engine as usize)).cloned().ok_or_else(|| stale(engine))
}
