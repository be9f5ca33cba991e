//! The host SDK's and the `nst` command's tests, as one test program: one build and one link for all of them
//! instead of one per file. Each file is a module; `cargo test -p nst-host-sdk --test suite cli::` runs one.
//! `gimp_gui.rs` stays a program of its own, so that the GIMP windows it drives run beside no other test.

#[path = "../support/mod.rs"]
mod support;

mod batch;
mod cli;
mod cli_flags;
mod closed_output;
mod examples;
mod gimp;
mod gimp3;
mod hostile_files;
mod hostile_images;
mod install;
mod krita;
mod model_fetch;
mod overwrite;
mod sdk;
