//! Parallel tree building from a records file: chunks of records are read with `pread` and
//! hashed on rayon's pool, so memory holds the leaf hashes plus one chunk buffer per thread.

use crate::error::{Error, Result};
use crate::fsutil::read_exact_at;
use crate::hash::Digest;
use crate::merkle::{leaf_hashes, MerkleTree};
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;

/// Bytes read per parallel task.
const CHUNK_BYTES: u64 = 4 << 20;

/// Leaf hashes of the `count` records of `record_size` bytes in the file at `path`.
pub fn leaf_hashes_of_file(path: &Path, record_size: u64, count: u64) -> Result<Vec<Digest>> {
    if record_size == 0 {
        return Err(Error::InvalidField {
            what: "record size",
            detail: "zero".into(),
        });
    }
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    if Some(len) != count.checked_mul(record_size) {
        return Err(Error::DatasetMismatch {
            path: path.into(),
            detail: format!("{len} bytes is not {count} records of {record_size}"),
        });
    }
    let per_chunk = (CHUNK_BYTES / record_size).max(1);
    let mut leaves = vec![[0u8; 32]; count as usize];
    leaves
        .par_chunks_mut(per_chunk as usize)
        .enumerate()
        .try_for_each_init(
            || Vec::with_capacity((per_chunk * record_size) as usize),
            |buf: &mut Vec<u8>, (chunk, out)| {
                let first = chunk as u64 * per_chunk;
                buf.resize(out.len() * record_size as usize, 0);
                read_exact_at(&file, buf, first * record_size, path)?;
                leaf_hashes(buf, record_size as usize, out);
                Ok::<(), Error>(())
            },
        )?;
    Ok(leaves)
}

/// Builds the Merkle tree over the records in the file at `path`, in parallel.
pub fn build_tree_from_file(path: &Path, record_size: u64, count: u64) -> Result<MerkleTree> {
    Ok(MerkleTree::from_leaves(leaf_hashes_of_file(
        path,
        record_size,
        count,
    )?))
}
