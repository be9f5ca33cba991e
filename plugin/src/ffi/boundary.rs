//! The one panic boundary every export runs in, and the per-thread message of the last failure.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use super::status::NstStatus;
use crate::EngineError;

/// A failure on its way out through the C ABI.
#[derive(Debug)]
pub(crate) struct FfiError {
    pub status: NstStatus,
    pub message: String,
}

impl FfiError {
    pub fn new(status: NstStatus, message: impl Into<String>) -> Self {
        FfiError { status, message: message.into() }
    }

    pub fn null(argument: &str) -> Self {
        FfiError::new(NstStatus::NstNullArgument, format!("argument `{argument}` is NULL"))
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        FfiError::new(NstStatus::NstInvalidArgument, message)
    }
}

impl From<EngineError> for FfiError {
    fn from(err: EngineError) -> Self {
        FfiError { status: NstStatus::from(&err), message: err.to_string() }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// Runs `body`, turning its error or panic into a status code and the thread's last-error message.
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), FfiError>) -> NstStatus {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            set_last_error("");
            NstStatus::NstOk
        }
        Ok(Err(err)) => {
            set_last_error(&err.message);
            err.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!("internal error: {what}"));
            NstStatus::NstInternalError
        }
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
    catch_unwind(|| {
        LAST_ERROR.with(|last| {
            let bytes = last.borrow().as_bytes().to_vec();
            if !buffer.is_null() && length > 0 {
                let count = bytes.len().min(length - 1);
                // SAFETY: the caller guarantees `length` writable bytes at `buffer`; `count < length`.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buffer.cast::<u8>(), count);
                    *buffer.add(count) = 0;
                }
            }
            bytes.len()
        })
    })
    .unwrap_or(0)
}

/// Writes `text` into a caller buffer as a NUL-terminated string; `needed` (if not NULL) receives its length
/// plus one. Fails with `NST_BUFFER_TOO_SMALL` when it does not fit.
pub(crate) fn copy_out(text: &str, buffer: *mut c_char, length: usize, needed: *mut usize) -> Result<(), FfiError> {
    let size = text.len() + 1;
    if !needed.is_null() {
        // SAFETY: checked non-null; the caller passes a writable size_t.
        unsafe { *needed = size };
    }
    if buffer.is_null() || length < size {
        return Err(FfiError::new(
            NstStatus::NstBufferTooSmall,
            format!("buffer of {length} bytes is too small: {size} bytes needed"),
        ));
    }
    // SAFETY: `buffer` has at least `size` writable bytes (checked above).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
        *buffer.add(text.len()) = 0;
    }
    Ok(())
}
