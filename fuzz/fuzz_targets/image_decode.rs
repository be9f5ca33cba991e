//! Fuzz target: see `nst_fuzz::image_decode`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| nst_fuzz::image_decode(data));
