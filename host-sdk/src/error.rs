//! The SDK's one error type.

use std::fmt;
use std::path::PathBuf;

use nst_sys::abi::NstStatus;

/// A status code from the plugin: one this SDK knows, or one a newer plugin added.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PluginStatus {
    /// A code of this SDK's `NstStatus`.
    Known(NstStatus),
    /// A code this SDK does not know.
    Unknown(u32),
}

impl PluginStatus {
    /// The status a raw code stands for.
    pub fn from_raw(code: u32) -> Self {
        NstStatus::from_raw(code).map_or(PluginStatus::Unknown(code), PluginStatus::Known)
    }
}

impl fmt::Display for PluginStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginStatus::Known(status) => write!(f, "{}", status.describe()),
            PluginStatus::Unknown(code) => write!(f, "status {code}, unknown to this program"),
        }
    }
}

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
    /// A call failed; `status` is the plugin's and `message` its explanation.
    Plugin {
        /// The status code.
        status: PluginStatus,
        /// The plugin's message.
        message: String,
    },
    /// The run was cancelled (by the progress closure or a cancel token).
    Cancelled,
    /// An argument this SDK refuses before calling the plugin.
    InvalidArgument(String),
    /// The plugin broke its side of the ABI (a NULL handle on success, a description that is not UTF-8).
    Internal(String),
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
            HostError::Plugin { status, message } => write!(f, "{message} ({status})"),
            HostError::InvalidArgument(message) => write!(f, "{message} (invalid argument)"),
            HostError::Internal(message) => write!(f, "{message} (internal error)"),
            HostError::Cancelled => write!(f, "cancelled"),
            HostError::Image { path, reason } => write!(f, "image {path}: {reason}"),
        }
    }
}

impl std::error::Error for HostError {}
