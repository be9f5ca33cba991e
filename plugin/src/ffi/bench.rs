//! `nst_engine_benchmark`: the engine's own measurement of an evaluation, for `nst bench` and hosts.

use std::ffi::c_char;

use super::boundary::{FfiError, boundary, copy_out};
use super::engine::{NstEngine, engine_ref};
use super::required_str;
use super::status::NstStatus;
use crate::preset::resolve_preset;

/// Measures one evaluation (forward graph, Rust losses and backward graph, or the evaluation graph where the
/// engine runs its losses in a graph: on a GPU, in low-memory mode) of `preset`'s objective on
/// `size` x `size` noise images (16..=4096, rounded to a multiple of 16): the median of `evaluations` timed runs
/// (1..=1000) after two warm-up runs. Writes a JSON object with `size`, `seconds_per_evaluation`, `conv_gflop`,
/// `achieved_gflops`, `peak_gflops` (the fp32 matrix-product peak of the CPU or GPU that runs the graphs, measured
/// in the same call), `ratio_to_floor`, `rust_share` and `peak_rss_mb`; buffer rules as for `nst_engine_describe`.
///
/// # Safety
/// `engine` must be a live handle; `preset` NUL-terminated; `buffer` NULL or `length` writable bytes; `needed`
/// NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_engine_benchmark(
    engine: *mut NstEngine,
    preset: *const c_char,
    size: u32,
    evaluations: u32,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> NstStatus {
    boundary(|| {
        let engine = engine_ref(engine)?;
        // SAFETY: per the caller's contract.
        let preset = unsafe { required_str(preset, "preset")? };
        if !(16..=4096).contains(&size) {
            return Err(FfiError::invalid(format!("size {size} is outside 16..=4096")));
        }
        if !(1..=1000).contains(&evaluations) {
            return Err(FfiError::invalid(format!("evaluations {evaluations} is outside 1..=1000")));
        }
        let resolved = resolve_preset(preset, engine.presets_dir.as_deref())?;
        let mut locked = engine.lock()?;
        let result = locked.benchmark(&resolved.settings, size as usize, evaluations as usize)?;
        // SAFETY: the buffer rules of this export are copy_out's.
        unsafe { copy_out(&result.to_json(), buffer, length, needed) }
    })
}
