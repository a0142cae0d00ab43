//! The panic boundary and argument helpers every export goes through.

use crate::result::PouwResult;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

thread_local! {
    /// The detailed message of the last failed call on this thread (`pouw_last_error_message`).
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records `message` as this thread's last error.
fn set_last_error(message: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

/// This thread's last error message (empty when the last call succeeded).
pub(crate) fn last_error() -> String {
    LAST_ERROR.with(|m| m.borrow().clone())
}

/// Runs `f`, turning an error into its code and a panic into [`PouwResult::Panic`], and records
/// the call's detailed error message (a library error's own text, with its field, step or
/// file; else the code's message) for `pouw_last_error_message`, clearing it on success.
pub(crate) fn guard(f: impl FnOnce() -> Result<(), PouwResult>) -> PouwResult {
    set_last_error("");
    let code = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => PouwResult::Ok,
        Ok(Err(code)) => code,
        Err(_) => PouwResult::Panic,
    };
    if code != PouwResult::Ok && LAST_ERROR.with(|m| m.borrow().is_empty()) {
        set_last_error(code.message());
    }
    code
}

/// Runs an infallible accessor `f`, returning `fallback` if it panics.
pub(crate) fn guard_value<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

impl From<pouw::Error> for PouwResult {
    /// The error's code; its text becomes this thread's last error message.
    fn from(e: pouw::Error) -> Self {
        set_last_error(&e.to_string());
        PouwResult::from_error(&e)
    }
}

impl From<pouw::work::VerifyError> for PouwResult {
    /// The error's code (whose judgement, `pouw_result_is_rejection`, is the error's); its text
    /// becomes this thread's last error message.
    fn from(e: pouw::work::VerifyError) -> Self {
        e.into_error().into()
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

/// A `(pointer, count)` array of `T` as a slice; NULL is accepted only for count 0.
///
/// # Safety
/// A non-NULL `ptr` must point to `count` readable, aligned `T`s that outlive the slice.
pub(crate) unsafe fn array<'a, T>(ptr: *const T, count: usize) -> Result<&'a [T], PouwResult> {
    if count == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(PouwResult::NullArgument);
    }
    if count
        .checked_mul(std::mem::size_of::<T>())
        .is_none_or(|n| n > isize::MAX as usize)
    {
        return Err(PouwResult::InvalidArgument);
    }
    Ok(std::slice::from_raw_parts(ptr, count))
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

/// A file-system path given as `(pointer, length)` bytes (not NUL-terminated). NULL is
/// `NullArgument`; an empty path is `InvalidArgument`. On Unix the bytes are taken as they are;
/// elsewhere they must be UTF-8.
///
/// # Safety
/// As [`slice`].
pub(crate) unsafe fn path<'a>(ptr: *const u8, len: usize) -> Result<&'a Path, PouwResult> {
    if ptr.is_null() {
        return Err(PouwResult::NullArgument);
    }
    let bytes = slice(ptr, len)?;
    if bytes.is_empty() || bytes.contains(&0) {
        return Err(PouwResult::InvalidArgument);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(Path::new(std::ffi::OsStr::from_bytes(bytes)))
    }
    #[cfg(not(unix))]
    {
        std::str::from_utf8(bytes)
            .map(Path::new)
            .map_err(|_| PouwResult::InvalidArgument)
    }
}

/// A handle argument: NULL is `NullArgument`.
///
/// # Safety
/// A non-NULL `ptr` must come from the matching `pouw_*_new` and not be freed yet.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T) -> Result<&'a T, PouwResult> {
    ptr.as_ref().ok_or(PouwResult::NullArgument)
}

/// Checks that an out pointer is not NULL (before any work is done).
pub(crate) fn out_ptr<T>(ptr: *mut T) -> Result<(), PouwResult> {
    if ptr.is_null() {
        Err(PouwResult::NullArgument)
    } else {
        Ok(())
    }
}

/// Moves `value` to the heap and writes the pointer through `out` (checked non-NULL before).
///
/// # Safety
/// `out` must be valid for a write.
pub(crate) unsafe fn write_handle<T>(out: *mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

/// Frees a handle made by [`write_handle`]; NULL is a no-op.
///
/// # Safety
/// A non-NULL `ptr` must come from [`write_handle`] of the same type and not be freed yet.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(ptr))));
    }
}
