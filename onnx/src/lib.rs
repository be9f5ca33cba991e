//! The VGG19 network of neural style transfer as ONNX graphs.
//!
//! The way of the data: weights (seeded random, or imported from an ONNX or safetensors file, or installed in
//! the models folder, [`store`]) -> a [`vgg::Vgg19`] ->
//! a forward graph (image -> feature taps) and a backward graph (taps' gradients -> image gradient), or one
//! evaluation graph (image -> losses and image gradient); all plain ONNX that ONNX Runtime executes.
#![deny(missing_docs)]

pub mod backward;
pub mod error;
pub mod evaluation;
pub mod forward;
pub mod graph;
pub mod import;
pub mod loss;
pub mod probe;
pub mod proto;
pub mod random;
pub mod store;
pub mod vgg;

pub use error::OnnxError;
pub use vgg::{Layer, Normalisation, Pooling, Vgg19};
