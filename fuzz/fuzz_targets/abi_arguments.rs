//! Fuzz target: see `nst_fuzz::abi_arguments`. Needs `ORT_DYLIB_PATH` (scripts/fuzz sets it).
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

static ENGINE: OnceLock<usize> = OnceLock::new();

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("fuzz/ is in the repository");
    let engine = *ENGINE.get_or_init(|| {
        let ort = PathBuf::from(std::env::var_os("ORT_DYLIB_PATH").expect("set ORT_DYLIB_PATH"));
        nst_fuzz::abi_engine(repo, &ort)
    });
    nst_fuzz::abi_arguments(engine, repo, data)
});
