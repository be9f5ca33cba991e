//! The one panic boundary every export runs in, the per-thread message of the last failure, and strings
//! written into the caller's buffers.

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use nst_sys::abi::NstStatus;

use crate::FfiError;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

/// Runs `body`, turning its error or panic into a status code and the thread's last-error message.
pub fn boundary(body: impl FnOnce() -> Result<(), FfiError>) -> NstStatus {
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

/// Copies the calling thread's last failure message into `buffer` (NUL-terminated, truncated to `length`
/// bytes) and returns the message's full length in bytes without the NUL: the body of `nst_last_error`.
///
/// # Safety
/// `buffer` must be NULL or point to `length` writable bytes.
pub unsafe fn last_error_into(buffer: *mut c_char, length: usize) -> usize {
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
///
/// # Safety
/// `buffer` must be NULL or point to `length` writable bytes, and `needed` NULL or to a writable `usize`.
pub unsafe fn copy_out(text: &str, buffer: *mut c_char, length: usize, needed: *mut usize) -> Result<(), FfiError> {
    let size = text.len() + 1;
    if !needed.is_null() {
        // SAFETY: checked non-null; writable per the caller's contract.
        unsafe { *needed = size };
    }
    if buffer.is_null() || length < size {
        return Err(FfiError::new(
            NstStatus::NstBufferTooSmall,
            format!("buffer of {length} bytes is too small: {size} bytes needed"),
        ));
    }
    // SAFETY: `buffer` has `length >= size` writable bytes (checked above, and the caller's contract).
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
        *buffer.add(text.len()) = 0;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_panics_become_statuses_and_the_threads_last_message() {
        let refused = boundary(|| Err(FfiError::invalid("iterations 0 is outside 1..=100000")));
        assert_eq!(refused, NstStatus::NstInvalidArgument);
        let mut buffer = [0x55 as c_char; 11];
        // SAFETY: `buffer` has its own length.
        let full = unsafe { last_error_into(buffer.as_mut_ptr(), buffer.len()) };
        assert_eq!(full, "iterations 0 is outside 1..=100000".len());
        // SAFETY: NUL-terminated within the buffer.
        let kept = unsafe { std::ffi::CStr::from_ptr(buffer.as_ptr()) };
        assert_eq!(kept.to_str().unwrap(), "iterations");
        // SAFETY: NULL with length 0 asks for the length only.
        assert_eq!(unsafe { last_error_into(std::ptr::null_mut(), 0) }, full);

        let panicked = boundary(|| panic!("a broken invariant"));
        assert_eq!(panicked, NstStatus::NstInternalError);
        let mut buffer = [0 as c_char; 64];
        // SAFETY: `buffer` has its own length.
        unsafe { last_error_into(buffer.as_mut_ptr(), buffer.len()) };
        // SAFETY: NUL-terminated within the buffer.
        let message = unsafe { std::ffi::CStr::from_ptr(buffer.as_ptr()) }.to_str().unwrap().to_string();
        assert_eq!(message, "internal error: a broken invariant");

        assert_eq!(boundary(|| Ok(())), NstStatus::NstOk);
        // SAFETY: NULL with length 0.
        assert_eq!(unsafe { last_error_into(std::ptr::null_mut(), 0) }, 0);
    }

    #[test]
    fn copy_out_writes_what_fits_and_says_what_is_needed() {
        let mut needed = 0usize;
        let mut small = [0x55 as c_char; 4];
        // SAFETY: buffers with their own lengths, and a writable `needed`.
        let refused = unsafe { copy_out("{\"a\":1}", small.as_mut_ptr(), small.len(), &mut needed) }.unwrap_err();
        assert_eq!((refused.status, needed), (NstStatus::NstBufferTooSmall, 8));
        assert!(small.iter().all(|&b| b == 0x55), "a refused copy wrote into the buffer");
        let mut exact = [0x55 as c_char; 8];
        // SAFETY: as above, with no `needed`.
        unsafe { copy_out("{\"a\":1}", exact.as_mut_ptr(), exact.len(), std::ptr::null_mut()) }.unwrap();
        // SAFETY: NUL-terminated within the buffer.
        assert_eq!(unsafe { std::ffi::CStr::from_ptr(exact.as_ptr()) }.to_str().unwrap(), "{\"a\":1}");
    }
}
