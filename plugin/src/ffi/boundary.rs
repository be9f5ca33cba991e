//! The boundary every export runs in is `nst_boundary`'s; here the engine's errors become its failures, and
//! the thread's last failure message is exported.

use std::ffi::c_char;

pub(crate) use nst_boundary::{FfiError, boundary, copy_out};

use super::status::NstStatus;
use crate::EngineError;

impl From<EngineError> for FfiError {
    fn from(err: EngineError) -> Self {
        FfiError { status: NstStatus::from(&err), message: err.to_string() }
    }
}

/// Copies the message of the calling thread's last failed call into `buffer` (NUL-terminated, truncated to
/// `length` bytes) and returns the message's full length in bytes without the NUL. An empty message means the
/// last call succeeded. `buffer` may be NULL when `length` is 0, to ask for the length.
///
/// # Safety
/// `buffer` must be NULL or point to `length` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn nst_last_error(buffer: *mut c_char, length: usize) -> usize {
    // SAFETY: the caller's contract is the one `last_error_into` asks for.
    unsafe { nst_boundary::last_error_into(buffer, length) }
}
