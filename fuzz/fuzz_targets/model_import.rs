//! Fuzz target: see `nst_fuzz::model_import`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nst_fuzz::model_import(data));
