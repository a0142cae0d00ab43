//! Datasets on disk: open one, import the UCI digits, read its root and size.

use crate::boundary::{
    buffer_of, digest_of, free_handle, guard, handle, open_into, out_ptr, path, write_handle,
};
use crate::buffer::pouw_buffer;
use crate::result::PouwResult;
use pouw::Dataset;

/// An opened dataset (manifest, records and persisted Merkle tree in one directory). Reads are
/// positioned, so one dataset serves any number of threads at once.
#[allow(non_camel_case_types)]
pub struct pouw_dataset {
    pub(crate) inner: Dataset,
}

/// Opens the dataset in directory `dir` (`dir_len` bytes, not NUL-terminated) and writes its
/// handle to `*out` (free it with [`pouw_dataset_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_open(
    dir: *const u8,
    dir_len: usize,
    out: *mut *mut pouw_dataset,
) -> PouwResult {
    open_into(dir, dir_len, out, |dir| {
        Ok(pouw_dataset {
            inner: Dataset::open(dir)?,
        })
    })
}

/// Imports the UCI digits CSV at `src` (plain or gzip-compressed; `src_len` bytes) into a new
/// dataset in directory `dest` (`dest_len` bytes; created, and must not hold a dataset already)
/// and writes the opened dataset to `*out` (free it with [`pouw_dataset_free`]). Paths are not
/// NUL-terminated. Thread-safe (for distinct `dest` directories).
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_import_digits(
    src: *const u8,
    src_len: usize,
    dest: *const u8,
    dest_len: usize,
    out: *mut *mut pouw_dataset,
) -> PouwResult {
    guard(|| {
        let src = path(src, src_len)?;
        let dest = path(dest, dest_len)?;
        out_ptr(out)?;
        let inner = pouw::dataset::import::import_digits_csv(src, dest, None)?;
        write_handle(out, pouw_dataset { inner });
        Ok(())
    })
}

/// Writes the dataset's Merkle root (32 bytes) to `out_root`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_root(
    dataset: *const pouw_dataset,
    out_root: *mut u8,
) -> PouwResult {
    digest_of(dataset, out_root, |ds| Ok(ds.inner.root()))
}

/// Writes the dataset's record count to `*out_len`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_len(
    dataset: *const pouw_dataset,
    out_len: *mut u64,
) -> PouwResult {
    guard(|| {
        let ds = handle(dataset)?;
        out_ptr(out_len)?;
        *out_len = ds.inner.len();
        Ok(())
    })
}

/// Writes the binary CID of the dataset's manifest (its identifier) to a new buffer `*out`
/// (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_cid(
    dataset: *const pouw_dataset,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(dataset, out, |ds| Ok(ds.inner.cid().to_bytes()))
}

/// Closes a dataset; NULL is a no-op. No other thread may be using it, and mining on it must
/// have returned.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_free(dataset: *mut pouw_dataset) {
    free_handle(dataset);
}
