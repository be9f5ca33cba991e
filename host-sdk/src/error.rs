//! The SDK's one error type.

use std::fmt;
use std::path::PathBuf;

/// What went wrong between the host and the plugin.
#[derive(Debug)]
pub enum HostError {
    /// The plugin library could not be loaded.
    Load {
        /// The library file.
        path: PathBuf,
        /// The loader's reason.
        reason: String,
    },
    /// The plugin speaks another C ABI version.
    AbiMismatch {
        /// The library file.
        path: PathBuf,
        /// What the plugin reports.
        found: u32,
        /// What this SDK speaks.
        expected: u32,
    },
    /// A call failed; `status` is the plugin's `NstStatus` and `message` its explanation.
    Plugin {
        /// The status code.
        status: u32,
        /// The plugin's message.
        message: String,
    },
    /// The run was cancelled (by the progress closure or a cancel token).
    Cancelled,
    /// An image could not be read, converted or written.
    Image {
        /// The file, if any.
        path: String,
        /// Why.
        reason: String,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Load { path, reason } => write!(f, "cannot load the nst plugin {}: {reason}", path.display()),
            HostError::AbiMismatch { path, found, expected } => write!(
                f,
                "the nst plugin {} has C ABI version {found}, this program needs version {expected}",
                path.display()
            ),
            HostError::Plugin { status, message } => {
                write!(f, "{message} ({})", crate::abi::status_name(*status))
            }
            HostError::Cancelled => write!(f, "cancelled"),
            HostError::Image { path, reason } => write!(f, "image {path}: {reason}"),
        }
    }
}

impl std::error::Error for HostError {}
