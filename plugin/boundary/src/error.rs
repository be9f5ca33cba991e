//! A failure on its way out through the C ABI: a status code and the message the thread keeps for
//! `nst_last_error`.

use nst_sys::abi::NstStatus;

/// A failure on its way out through the C ABI.
#[derive(Debug)]
pub struct FfiError {
    /// What the export returns.
    pub status: NstStatus,
    /// What `nst_last_error` then gives.
    pub message: String,
}

impl FfiError {
    /// A failure with its status and message.
    pub fn new(status: NstStatus, message: impl Into<String>) -> Self {
        FfiError { status, message: message.into() }
    }

    /// A required pointer argument was NULL.
    pub fn null(argument: &str) -> Self {
        FfiError::new(NstStatus::NstNullArgument, format!("argument `{argument}` is NULL"))
    }

    /// An argument out of its range or inconsistent with another.
    pub fn invalid(message: impl Into<String>) -> Self {
        FfiError::new(NstStatus::NstInvalidArgument, message)
    }
}
