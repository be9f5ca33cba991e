//! nst: neural style transfer (Gatys, Ecker & Bethge) on ONNX Runtime.
//!
//! The way of the data: image in ([`image_io`]) -> tensors -> forward graph ([`network`]) -> features ->
//! losses and their gradients ([`losses`]) -> backward graph -> image gradient -> optimiser step ([`optim`]) ->
//! image out. [`stylize`] runs that loop for a preset ([`preset`]).
#![deny(missing_docs)]

pub mod error;
pub mod network;
pub mod runtime;

pub use error::{EngineError, Result};
pub use nst_onnx;
