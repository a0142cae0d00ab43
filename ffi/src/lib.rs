//! The C API of `pouw`. The header `include/pouw.h` is generated from this crate by cbindgen.
//!
//! Rules every function follows (README "C API"): inputs before outputs; every buffer is a
//! pointer followed by its length; every pointer is checked for NULL (NULL with length 0 is an
//! empty buffer); outputs are written only on success; every call returns a [`PouwResult`]
//! whose numbers are stable; no panic crosses the boundary (it becomes `POUW_RESULT_PANIC`);
//! `*_free` functions accept NULL. Functions without handles are thread-safe.

#![allow(clippy::missing_safety_doc)]

mod boundary;
mod capacity;
mod result;

pub use capacity::pouw_capacity_verify;
pub use result::PouwResult;

use boundary::guard;
use std::ffi::c_char;

/// The library version as a NUL-terminated static string (never freed). Thread-safe.
#[no_mangle]
pub extern "C" fn pouw_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The consensus protocol version this library proves and verifies. Thread-safe.
#[no_mangle]
pub extern "C" fn pouw_protocol_version() -> u32 {
    pouw::PROTOCOL_VERSION
}

/// Writes the NUL-terminated message of `code` into `buf` (`buf_len` bytes) and its length
/// without the NUL into `*out_len`. Returns `POUW_RESULT_BUFFER_TOO_SMALL` (writing nothing) when
/// the message and its NUL do not fit. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_result_message(code: u32, buf: *mut c_char, buf_len: usize, out_len: *mut usize) -> PouwResult {
    guard(|| {
        if buf.is_null() || out_len.is_null() {
            return Err(PouwResult::NullArgument);
        }
        let msg = result_from_u32(code).map_or("unknown result code", PouwResult::message);
        if msg.len() + 1 > buf_len {
            return Err(PouwResult::BufferTooSmall);
        }
        std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), msg.len());
        *buf.add(msg.len()) = 0;
        *out_len = msg.len();
        Ok(())
    })
}

fn result_from_u32(code: u32) -> Option<PouwResult> {
    use PouwResult as R;
    const ALL: &[PouwResult] = &[
        R::Ok, R::NullArgument, R::InvalidArgument, R::Panic, R::Io, R::BufferTooSmall, R::Cancelled, R::Truncated,
        R::TrailingBytes, R::BadMagic, R::UnsupportedVersion, R::LimitExceeded, R::InvalidField, R::IndexOutOfRange,
        R::ProofLength, R::RootMismatch, R::IndicesNotAscending, R::ConsistencyMismatch, R::RecordCorrupt,
        R::TreeCorrupt, R::DatasetMismatch, R::Import, R::ChallengeIndexMismatch, R::ChallengeCount, R::RecordSize,
        R::InvalidParameters, R::CheckpointTensor, R::CheckpointDigest, R::StepMismatch, R::OutsideTolerance,
        R::WrongBatch, R::Torch, R::Binding, R::TicketAboveTarget, R::Other,
    ];
    ALL.iter().copied().find(|r| *r as u32 == code)
}
