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

/// The body of a `pouw_*_from_bytes`: decodes `(bytes, len)` (untrusted) with `decode` and
/// writes the new handle to `*out`.
///
/// # Safety
/// As [`slice`] for `bytes` and `len`; `out` must be valid for a write when not NULL.
pub(crate) unsafe fn decode_into<H>(
    bytes: *const u8,
    len: usize,
    out: *mut *mut H,
    decode: impl FnOnce(&[u8]) -> Result<H, PouwResult>,
) -> PouwResult {
    guard(|| {
        let bytes = slice(bytes, len)?;
        write_made(out, || decode(bytes))
    })
}

/// The body of a call that writes bytes of a handle (`pouw_*_to_bytes`, `pouw_*_cid`): `make`
/// them from `*h` and write them to a new buffer `*out`.
///
/// # Safety
/// As [`handle`] for `h`; `out` must be valid for a write when not NULL.
pub(crate) unsafe fn buffer_of<H>(
    h: *const H,
    out: *mut *mut crate::buffer::pouw_buffer,
    make: impl FnOnce(&H) -> Result<Vec<u8>, PouwResult>,
) -> PouwResult {
    guard(|| {
        let h = handle(h)?;
        out_ptr(out)?;
        let bytes = make(h)?;
        crate::buffer::pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// The body of a call that writes a 32-byte value of a handle (a digest, a root): `make` it from
/// `*h` and copy it to `out`.
///
/// # Safety
/// As [`handle`] for `h`; `out` must be valid for 32 bytes of writes when not NULL.
pub(crate) unsafe fn digest_of<H>(
    h: *const H,
    out: *mut u8,
    make: impl FnOnce(&H) -> Result<[u8; 32], PouwResult>,
) -> PouwResult {
    guard(|| {
        let h = handle(h)?;
        out_ptr(out)?;
        write_digest(out, &make(h)?);
        Ok(())
    })
}

/// Copies a 32-byte value to `out` (checked non-NULL before).
///
/// # Safety
/// `out` must be valid for 32 bytes of writes.
pub(crate) unsafe fn write_digest(out: *mut u8, value: &[u8; 32]) {
    std::ptr::copy_nonoverlapping(value.as_ptr(), out, 32);
}

/// The body of a call on a self-contained block proof `(proof, len)` (untrusted, decoded under
/// `params`' limits): writes to `*out` what `make` derives from the parameters and the proof.
///
/// # Safety
/// As [`handle`] for `params` and [`slice`] for `proof` and `len`; `out` must be valid for a
/// write when not NULL.
pub(crate) unsafe fn from_block_proof<T>(
    params: *const crate::params::pouw_params,
    proof: *const u8,
    len: usize,
    out: *mut T,
    make: impl FnOnce(
        &pouw::work::ConsensusParams<pouw::learning::gan::GanSpec>,
        pouw::work::BlockProof,
    ) -> Result<T, PouwResult>,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let bytes = slice(proof, len)?;
        out_ptr(out)?;
        let limits = pouw::work::ProofLimits::of(params);
        let value = make(params, pouw::work::BlockProof::from_bytes(bytes, &limits)?)?;
        out.write(value);
        Ok(())
    })
}

/// The body of a `pouw_*_open`: opens the directory `(dir, len)` with `open` and writes the new
/// handle to `*out`.
///
/// # Safety
/// As [`path`] for `dir` and `len`; `out` must be valid for a write when not NULL.
pub(crate) unsafe fn open_into<H>(
    dir: *const u8,
    len: usize,
    out: *mut *mut H,
    open: impl FnOnce(&Path) -> Result<H, PouwResult>,
) -> PouwResult {
    guard(|| {
        let dir = path(dir, len)?;
        write_made(out, || open(dir))
    })
}

/// Checks `out`, makes a value and writes it to `*out` as a new handle.
///
/// # Safety
/// `out` must be valid for a write when not NULL.
unsafe fn write_made<H>(
    out: *mut *mut H,
    make: impl FnOnce() -> Result<H, PouwResult>,
) -> Result<(), PouwResult> {
    out_ptr(out)?;
    let value = make()?;
    write_handle(out, value);
    Ok(())
}
