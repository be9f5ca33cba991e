//! Errors of graph building and model import; each names the file, node or layer at fault.

use std::fmt;
use std::path::PathBuf;

/// What went wrong while reading a model or building its graphs.
#[derive(Debug)]
pub enum OnnxError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The bytes are not an ONNX model (truncated or another format).
    Decode {
        /// Where the bytes came from.
        origin: String,
        /// The protobuf decoder's reason.
        reason: String,
    },
    /// The model is ONNX but not a VGG19 this crate can use.
    NotVgg19 {
        /// Where the model came from.
        origin: String,
        /// What was found instead.
        found: String,
    },
    /// A tap or layer name that VGG19 does not have.
    UnknownLayer(String),
    /// A model name that is not installed in the models folder.
    NotInstalled {
        /// The name asked for.
        name: String,
        /// The folder searched.
        dir: PathBuf,
    },
    /// An installed model whose file does not match its manifest.
    Damaged {
        /// The model's name.
        name: String,
        /// Its file.
        file: PathBuf,
        /// What does not match.
        reason: String,
    },
    /// The models folder could not be read or written.
    Store {
        /// The file or folder at fault.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for OnnxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OnnxError::Io { path, source } => write!(f, "cannot read model file {}: {source}", path.display()),
            OnnxError::Decode { origin, reason } => {
                write!(f, "{origin} is not a readable ONNX model (truncated or another format): {reason}")
            }
            OnnxError::NotVgg19 { origin, found } => write!(f, "{origin} is not a VGG19: {found}"),
            OnnxError::NotInstalled { name, dir } => write!(
                f,
                "model '{name}' is not installed in {}: run `nst model fetch {name}` (needs the internet), or \
                 `nst model import FILE --name {name}` with a VGG19 .safetensors, .onnx file; set NST_MODELS to \
                 use another models folder",
                dir.display()
            ),
            OnnxError::Damaged { name, file, reason } => write!(
                f,
                "installed model '{name}' ({}) is not the one its manifest describes: {reason}; run `nst model fetch \
                 {name}` to repair it, or import it again with `nst model import FILE --name {name}`",
                file.display()
            ),
            OnnxError::Store { path, reason } => write!(f, "models folder: {}: {reason}", path.display()),
            OnnxError::UnknownLayer(name) => {
                write!(f, "unknown VGG19 layer '{name}': expected relu1_1, relu1_2, relu2_1, ... relu5_4")
            }
        }
    }
}

impl std::error::Error for OnnxError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            OnnxError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
