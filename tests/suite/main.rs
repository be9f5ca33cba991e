//! The end-to-end tests of the engine, its C ABI and the repository, as one test program: one build and one link
//! for all of them instead of one per file. Each file is a module; `cargo test --test suite golden::` runs one.
//! `tests/abi_limits.rs` stays a program of its own: it measures the memory of its own process.

#[path = "../support/mod.rs"]
mod support;

mod abi_concurrency;
mod architecture;
mod backward_gradient;
mod coarse_to_fine;
mod engine;
mod ffi_abi;
mod fuzz_corpora;
mod golden;
mod model_import;
mod objective_gradient;
mod onnx_checker;
mod presets;
mod spatial_control;
mod style_scale;
mod tiling;
mod unit_free_losses;
