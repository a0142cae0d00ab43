//! Byte buffers the library allocates and hands to the caller (proofs, checkpoints, CIDs,
//! encoded parameters).

use crate::boundary::{free_handle, guard_value, write_handle};

/// Bytes owned by the library. Read them with [`pouw_buffer_data`] and [`pouw_buffer_len`]
/// (copy them out if they must outlive the buffer) and release them with [`pouw_buffer_free`].
/// A buffer never changes after it is made.
#[allow(non_camel_case_types)]
pub struct pouw_buffer {
    bytes: Vec<u8>,
}

impl pouw_buffer {
    /// Writes a new buffer holding `bytes` through `out` (checked non-NULL before).
    ///
    /// # Safety
    /// `out` must be valid for a write.
    pub(crate) unsafe fn write(out: *mut *mut pouw_buffer, bytes: Vec<u8>) {
        write_handle(out, pouw_buffer { bytes });
    }

    /// A buffer holding `bytes`.
    pub(crate) fn holding(bytes: Vec<u8>) -> pouw_buffer {
        pouw_buffer { bytes }
    }

    /// A new buffer holding `bytes`, owned by the caller (freed by [`pouw_buffer_free`]).
    pub(crate) fn new(bytes: Vec<u8>) -> *mut pouw_buffer {
        Box::into_raw(Box::new(pouw_buffer { bytes }))
    }
}

/// The first byte of `buffer`, valid until the buffer is freed; NULL when `buffer` is NULL. The
/// pointer of an empty buffer is not NULL but must not be read. Thread-safe (a buffer is
/// immutable).
#[no_mangle]
pub unsafe extern "C" fn pouw_buffer_data(buffer: *const pouw_buffer) -> *const u8 {
    guard_value(std::ptr::null(), || {
        buffer
            .as_ref()
            .map_or(std::ptr::null(), |b| b.bytes.as_ptr())
    })
}

/// The length of `buffer` in bytes; 0 when `buffer` is NULL. Thread-safe (a buffer is
/// immutable).
#[no_mangle]
pub unsafe extern "C" fn pouw_buffer_len(buffer: *const pouw_buffer) -> usize {
    guard_value(0, || buffer.as_ref().map_or(0, |b| b.bytes.len()))
}

/// Frees a buffer; NULL is a no-op. The buffer must not be in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn pouw_buffer_free(buffer: *mut pouw_buffer) {
    free_handle(buffer);
}
