//! The signature of every export, for hosts that look the symbols up at run time (the declarations hosts
//! compile against are in `nst.h`). A status comes back as a plain `u32` by default: a newer library may
//! return a code this side does not know (codes are only ever appended), which must not become an invalid
//! `NstStatus`; `NstStatus::from_raw` reads it. The plugin checks its exports against `Fn<NstStatus>`.

use std::ffi::{c_char, c_void};

use super::{NstEngine, NstImage, NstImageMut, NstOverrides, NstProgressCallback, NstRunReport};

/// `nst_abi_version`.
pub type NstAbiVersionFn = unsafe extern "C" fn() -> u32;
/// `nst_version`.
pub type NstVersionFn = unsafe extern "C" fn() -> *const c_char;
/// `nst_last_error`.
pub type NstLastErrorFn = unsafe extern "C" fn(buffer: *mut c_char, length: usize) -> usize;
/// `nst_engine_create`.
pub type NstEngineCreateFn<S = u32> = unsafe extern "C" fn(config: *const c_char, out_engine: *mut *mut NstEngine) -> S;
/// `nst_engine_free` and `nst_engine_trim`.
pub type NstEngineFn<S = u32> = unsafe extern "C" fn(engine: *mut NstEngine) -> S;
/// `nst_describe_presets`.
pub type NstDescribePresetsFn<S = u32> =
    unsafe extern "C" fn(presets_dir: *const c_char, buffer: *mut c_char, length: usize, needed: *mut usize) -> S;
/// `nst_engine_describe`.
pub type NstDescribeFn<S = u32> =
    unsafe extern "C" fn(engine: *const NstEngine, buffer: *mut c_char, length: usize, needed: *mut usize) -> S;
/// `nst_engine_describe_preset`.
pub type NstDescribePresetFn<S = u32> = unsafe extern "C" fn(
    engine: *const NstEngine,
    preset: *const c_char,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> S;
/// `nst_engine_benchmark`.
pub type NstBenchmarkFn<S = u32> = unsafe extern "C" fn(
    engine: *mut NstEngine,
    preset: *const c_char,
    size: u32,
    iterations: u32,
    buffer: *mut c_char,
    length: usize,
    needed: *mut usize,
) -> S;
/// `nst_overrides_init`.
pub type NstOverridesInitFn = unsafe extern "C" fn(overrides: *mut NstOverrides, struct_size: usize);
/// `nst_stylize`.
pub type NstStylizeFn<S = u32> = unsafe extern "C" fn(
    engine: *mut NstEngine,
    preset: *const c_char,
    overrides: *const NstOverrides,
    content: *const NstImage,
    styles: *const NstImage,
    style_count: usize,
    output: *const NstImageMut,
    progress: NstProgressCallback,
    user_data: *mut c_void,
    report: *mut NstRunReport,
) -> S;
