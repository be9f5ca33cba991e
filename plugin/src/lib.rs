//! nst: neural style transfer (Gatys, Ecker & Bethge) on ONNX Runtime.
//!
//! The way of the data: image in ([`image_io`]) -> tensors -> forward graph ([`network`]) -> features ->
//! losses and their gradients ([`losses`], combined in [`objective`]) -> backward graph -> image gradient ->
//! optimiser step ([`optim`]) -> image out. [`stylize`] runs that loop; [`preset`] reads its settings.
#![deny(missing_docs)]

pub mod bench;
mod cache;
pub mod colour;
pub mod config;
pub mod detail;
pub mod error;
pub mod ffi;
pub mod fit;
pub mod image_io;
pub mod losses;
pub mod model;
pub mod network;
pub mod objective;
pub mod optim;
mod platform;
pub mod preset;
pub mod request;
pub mod runtime;
pub mod stylize;
pub mod targets;

pub use error::{EngineError, Result};
pub use nst_onnx;
