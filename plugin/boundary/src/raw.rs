//! Strings and slices from the raw parts hosts pass, checked once in one place.

use std::ffi::{CStr, c_char};

use crate::FfiError;

/// A required C string argument as UTF-8.
///
/// # Safety
/// `text` must be NULL or a NUL-terminated string that lives for `'a`.
pub unsafe fn required_str<'a>(text: *const c_char, name: &str) -> Result<&'a str, FfiError> {
    if text.is_null() {
        return Err(FfiError::null(name));
    }
    // SAFETY: non-null and NUL-terminated per the caller's contract.
    unsafe { CStr::from_ptr(text) }.to_str().map_err(|_| FfiError::invalid(format!("argument `{name}` is not UTF-8")))
}

/// The `count` elements at `data`: empty for a count of 0 whatever `data` is, and refused when `data` is NULL
/// with a count.
///
/// # Safety
/// `data` must be NULL or point to `count` initialised elements that outlive `'a`.
pub unsafe fn slice_from_raw<'a, T>(data: *const T, count: usize, name: &str) -> Result<&'a [T], FfiError> {
    match (count, data.is_null()) {
        (0, _) => Ok(&[]),
        (_, true) => Err(FfiError::null(name)),
        // SAFETY: non-null with `count` elements, per the caller's contract.
        (_, false) => Ok(unsafe { std::slice::from_raw_parts(data, count) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nst_sys::abi::NstStatus;

    #[test]
    fn strings_must_be_given_and_utf8() {
        // SAFETY: NULL, and NUL-terminated literals.
        unsafe {
            assert_eq!(required_str(std::ptr::null(), "preset").unwrap_err().status, NstStatus::NstNullArgument);
            assert_eq!(required_str(c"mosaic".as_ptr(), "preset").unwrap(), "mosaic");
            let latin1 = b"caf\xe9\0";
            let refused = required_str(latin1.as_ptr().cast(), "preset").unwrap_err();
            assert!(refused.message.contains("`preset` is not UTF-8"), "{}", refused.message);
        }
    }

    #[test]
    fn slices_are_empty_for_no_count_and_refused_for_null_with_one() {
        let weights = [0.5f32, 2.0];
        // SAFETY: NULL, or `weights` with its own length.
        unsafe {
            assert!(slice_from_raw::<f32>(std::ptr::null(), 0, "w").unwrap().is_empty());
            assert_eq!(slice_from_raw::<f32>(std::ptr::null(), 2, "w").unwrap_err().status, NstStatus::NstNullArgument);
            assert_eq!(slice_from_raw(weights.as_ptr(), 2, "w").unwrap(), &weights);
        }
    }
}
