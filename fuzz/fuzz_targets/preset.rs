//! Fuzz target: see `nst_fuzz::preset`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nst_fuzz::preset(data));
