//! The C ABI (`include/nst.h`, generated from this module by cbindgen). It only checks and converts arguments,
//! then calls the engine; every export runs inside [`boundary::boundary`], so no panic crosses it.
//!
//! Threads: every export may be called from any thread. An engine serialises the runs started on it (a second
//! `nst_stylize` on the same engine waits for the first); use one engine per thread to run in parallel. A run
//! is cancelled from another thread through its progress callback's return value, or by freeing the engine.
//! Failure messages are kept per thread (`nst_last_error`).

mod bench;
mod boundary;
mod describe;
mod engine;
mod json;
mod limits;
mod models;
mod overrides;
mod pixels;
mod run;
mod status;

pub use bench::nst_engine_benchmark;
pub use boundary::nst_last_error;
pub use describe::{nst_engine_describe, nst_engine_describe_preset};
pub use engine::{NstEngine, nst_engine_create, nst_engine_create_from_file, nst_engine_free, nst_engine_trim};
pub use limits::*;
pub use models::nst_describe_models;
pub use overrides::{NstOverrides, nst_overrides_init};
pub use pixels::{NstImage, NstImageMut, NstPixelFormat};
pub use run::{NstPreviewCallback, NstProgressCallback, NstRunReport, nst_stylize};
pub use status::NstStatus;

use std::ffi::c_char;

pub(crate) use nst_boundary::required_str;

/// The version of this C ABI. A host must refuse a library whose `nst_abi_version()` differs from the
/// `NST_ABI_VERSION` it was compiled with.
pub const NST_ABI_VERSION: u32 = 2;
const _: () = assert!(NST_ABI_VERSION == nst_sys::abi::ABI_VERSION);

// Hosts look the exports up with the signatures in `nst_sys::abi`: these fail to compile if one drifts.
const _: nst_sys::abi::NstAbiVersionFn = nst_abi_version;
const _: nst_sys::abi::NstVersionFn = nst_version;
const _: nst_sys::abi::NstLastErrorFn = nst_last_error;
const _: nst_sys::abi::NstEngineCreateFn<NstStatus> = nst_engine_create;
const _: nst_sys::abi::NstEngineFn<NstStatus> = nst_engine_free;
const _: nst_sys::abi::NstEngineFn<NstStatus> = nst_engine_trim;
const _: nst_sys::abi::NstDescribePresetsFn<NstStatus> = describe::nst_describe_presets;
const _: nst_sys::abi::NstDescribeFn<NstStatus> = nst_engine_describe;
const _: nst_sys::abi::NstDescribePresetFn<NstStatus> = nst_engine_describe_preset;
const _: nst_sys::abi::NstBenchmarkFn<NstStatus> = nst_engine_benchmark;
const _: nst_sys::abi::NstOverridesInitFn = nst_overrides_init;
const _: nst_sys::abi::NstStylizeFn<NstStatus> = nst_stylize;

/// The C ABI version of this library (compare with `NST_ABI_VERSION` before any other call).
#[unsafe(no_mangle)]
pub extern "C" fn nst_abi_version() -> u32 {
    NST_ABI_VERSION
}

/// The library's version, e.g. "0.1.0": a static NUL-terminated string owned by the library (never free it).
#[unsafe(no_mangle)]
pub extern "C" fn nst_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
