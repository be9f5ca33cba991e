//! Slices from the (pointer, count) pairs hosts pass, checked once in one place.

use super::boundary::FfiError;

/// The `count` elements at `data`: empty for a count of 0 whatever `data` is, and refused when `data` is NULL
/// with a count.
///
/// # Safety
/// `data` must be NULL or point to `count` initialised elements that outlive `'a`.
pub(crate) unsafe fn slice_from_raw<'a, T>(data: *const T, count: usize, name: &str) -> Result<&'a [T], FfiError> {
    match (count, data.is_null()) {
        (0, _) => Ok(&[]),
        (_, true) => Err(FfiError::null(name)),
        // SAFETY: non-null with `count` elements, per the caller's contract.
        (_, false) => Ok(unsafe { std::slice::from_raw_parts(data, count) }),
    }
}
