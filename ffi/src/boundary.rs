//! The panic boundary and argument helpers every export goes through.

use crate::result::PouwResult;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning an error into its code and a panic into [`PouwResult::Panic`].
pub(crate) fn guard(f: impl FnOnce() -> Result<(), PouwResult>) -> PouwResult {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => PouwResult::Ok,
        Ok(Err(code)) => code,
        Err(_) => PouwResult::Panic,
    }
}

impl From<pouw::Error> for PouwResult {
    fn from(e: pouw::Error) -> Self {
        PouwResult::from_error(&e)
    }
}

/// A `(pointer, length)` pair as a slice; NULL is accepted only for length 0.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that outlive the returned slice.
pub(crate) unsafe fn slice<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8], PouwResult> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(PouwResult::NullArgument);
    }
    if len > isize::MAX as usize {
        return Err(PouwResult::InvalidArgument);
    }
    Ok(std::slice::from_raw_parts(ptr, len))
}

/// A 32-byte digest argument.
///
/// # Safety
/// A non-NULL `ptr` must point to 32 readable bytes.
pub(crate) unsafe fn digest(ptr: *const u8) -> Result<[u8; 32], PouwResult> {
    if ptr.is_null() {
        return Err(PouwResult::NullArgument);
    }
    let mut d = [0u8; 32];
    d.copy_from_slice(std::slice::from_raw_parts(ptr, 32));
    Ok(d)
}
