//! Checkpoint stores: where miners publish the checkpoints a proof opens and verifiers fetch
//! them, addressed by CID.

use crate::boundary::{free_handle, guard, handle, out_ptr, path, slice, write_handle};
use crate::buffer::pouw_buffer;
use crate::result::PouwResult;
use pouw::ident::{cid_from_bytes, cid_of, Cid};
use pouw::learning::{CheckpointStore, DirStore, MemStore};

/// The largest object [`pouw_store_get`] returns, in bytes (1 GiB).
const MAX_OBJECT_BYTES: u64 = 1 << 30;

/// A content-addressed checkpoint store. Its operations are safe from any number of threads at
/// once; what it returns is always checked against the CID asked for.
#[allow(non_camel_case_types)]
pub struct pouw_store {
    pub(crate) inner: Box<dyn CheckpointStore>,
}

/// Opens (creating it if needed) a store in directory `dir` (`dir_len` bytes, not
/// NUL-terminated), one file per checkpoint named by its CID, written atomically. Writes the
/// handle to `*out` (free it with [`pouw_store_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_open_dir(
    dir: *const u8,
    dir_len: usize,
    out: *mut *mut pouw_store,
) -> PouwResult {
    guard(|| {
        let dir = path(dir, dir_len)?;
        out_ptr(out)?;
        let store = DirStore::new(dir)?;
        write_handle(
            out,
            pouw_store {
                inner: Box::new(store),
            },
        );
        Ok(())
    })
}

/// Makes an empty in-memory store (freed with its handle) and writes it to `*out` (free it with
/// [`pouw_store_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_new_memory(out: *mut *mut pouw_store) -> PouwResult {
    guard(|| {
        out_ptr(out)?;
        write_handle(
            out,
            pouw_store {
                inner: Box::new(MemStore::default()),
            },
        );
        Ok(())
    })
}

/// Stores `bytes` (`len` bytes) and writes their binary CID to a new buffer `*out_cid` (free it
/// with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_put(
    store: *const pouw_store,
    bytes: *const u8,
    len: usize,
    out_cid: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let store = handle(store)?;
        let bytes = slice(bytes, len)?;
        out_ptr(out_cid)?;
        let cid = store.inner.put(bytes)?;
        pouw_buffer::write(out_cid, cid.to_bytes());
        Ok(())
    })
}

/// Fetches the checkpoint named by the binary CID `cid` (`cid_len` bytes), checks it against the
/// CID, and writes it to a new buffer `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_get(
    store: *const pouw_store,
    cid: *const u8,
    cid_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let store = handle(store)?;
        let cid = cid_from_bytes(slice(cid, cid_len)?)?;
        out_ptr(out)?;
        let bytes = store.inner.get(&cid, MAX_OBJECT_BYTES)?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// Writes the binary CID (CIDv1, raw, sha3-256) of `bytes` (`len` bytes) to a new buffer `*out`
/// (free it with [`pouw_buffer_free`]), without storing them. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_of(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let bytes = slice(bytes, len)?;
        out_ptr(out)?;
        pouw_buffer::write(out, cid_of(bytes).to_bytes());
        Ok(())
    })
}

/// Parses the text form of a CID (`text`, `text_len` bytes, not NUL-terminated; e.g. `bafk...`)
/// of this library's profile (CIDv1, raw, sha3-256) and writes its binary form to a new buffer
/// `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_parse(
    text: *const u8,
    text_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let text = slice(text, text_len)?;
        out_ptr(out)?;
        let text = std::str::from_utf8(text).map_err(|_| PouwResult::InvalidField)?;
        let cid: Cid = text.trim().parse().map_err(|_| PouwResult::InvalidField)?;
        let bytes = cid.to_bytes();
        cid_from_bytes(&bytes)?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// Writes the text form (base32, `bafk...`, no NUL) of the binary CID `cid` (`cid_len` bytes)
/// to a new buffer `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cid_to_string(
    cid: *const u8,
    cid_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let cid = cid_from_bytes(slice(cid, cid_len)?)?;
        out_ptr(out)?;
        pouw_buffer::write(out, cid.to_string().into_bytes());
        Ok(())
    })
}

/// Frees a store handle (an in-memory store's contents with it; a directory store's files stay);
/// NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_store_free(store: *mut pouw_store) {
    free_handle(store);
}
