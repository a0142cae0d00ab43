//! Datasets on disk: a manifest, a file of fixed-size records read in O(1) by index, and the
//! persisted Merkle tree over them, all in one directory:
//!
//! - `manifest.bin`: the canonical [`Manifest`] (its CID names the dataset);
//! - `records.bin`: `count * record_size` bytes, record `i` at offset `i * record_size`;
//! - `tree.bin`: the [`TreeFile`].
//!
//! Writers stream: records go to disk as they arrive and the tree is hashed from the file, so
//! memory stays flat (apart from the tree itself) however large the source. The manifest is
//! written last, atomically: it is the commit point of an import or an append.

mod build;
pub mod import;
mod manifest;
mod writer;

pub use build::{build_tree_from_file, leaf_hashes_of_file};
pub use manifest::{DType, Manifest, MAX_DIMS, MAX_MANIFEST_BYTES, MAX_RECORD_SIZE};
pub use writer::DatasetWriter;

use crate::error::{Error, Result};
use crate::fsutil::{read_bounded, read_exact_at};
use crate::hash::Digest;
use crate::ident::Cid;
use crate::merkle::{leaf_hash, prove_many, verify_multiproof, MultiProof, Nodes, TreeFile};
use std::fs::File;
use std::path::{Path, PathBuf};

/// File name of the manifest inside a dataset directory.
pub const MANIFEST_FILE: &str = "manifest.bin";
/// File name of the records inside a dataset directory.
pub const RECORDS_FILE: &str = "records.bin";
/// File name of the persisted tree inside a dataset directory.
pub const TREE_FILE: &str = "tree.bin";

/// An opened dataset. Reads are positioned (`pread`), so one `Dataset` serves many threads.
#[derive(Debug)]
pub struct Dataset {
    dir: PathBuf,
    manifest: Manifest,
    cid: Cid,
    records: File,
    tree: TreeFile,
}

impl Dataset {
    /// Opens the dataset in `dir`, checking that records and tree agree with the manifest in
    /// O(1): sizes, the tree's header and its root. Corruption inside the files is caught when
    /// the damaged part is read (see [`Dataset::record`], [`Dataset::prove`]) or by
    /// [`Dataset::scrub`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let manifest_bytes = read_bounded(dir.join(MANIFEST_FILE), MAX_MANIFEST_BYTES)?;
        let manifest_path = dir.join(MANIFEST_FILE);
        let manifest =
            Manifest::from_bytes(&manifest_bytes).map_err(|e| Error::DatasetMismatch {
                path: manifest_path,
                detail: format!("not a dataset manifest: {e}"),
            })?;
        let mismatch = |detail: String| Error::DatasetMismatch {
            path: dir.clone(),
            detail,
        };
        let records_path = dir.join(RECORDS_FILE);
        let records = File::open(&records_path).map_err(|e| Error::io(&records_path, e))?;
        let len = records
            .metadata()
            .map_err(|e| Error::io(&records_path, e))?
            .len();
        if Some(len) != manifest.count.checked_mul(manifest.record_size) {
            return Err(mismatch(format!(
                "records file is {len} bytes, manifest says {} records of {}",
                manifest.count, manifest.record_size
            )));
        }
        let tree = TreeFile::open(dir.join(TREE_FILE))?;
        if tree.size() != manifest.count
            || tree.record_size() != manifest.record_size
            || tree.root() != manifest.root
        {
            return Err(
                tree.corrupt("tree does not belong to this manifest (size, record size or root)")
            );
        }
        let cid = crate::ident::cid_of(&manifest_bytes);
        Ok(Dataset {
            dir,
            manifest,
            cid,
            records,
            tree,
        })
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The CID of the manifest: the dataset's identifier.
    pub fn cid(&self) -> Cid {
        self.cid
    }

    /// The Merkle root over the records.
    pub fn root(&self) -> Digest {
        self.manifest.root
    }

    /// The number of records.
    pub fn len(&self) -> u64 {
        self.manifest.count
    }

    /// Whether the dataset has no records.
    pub fn is_empty(&self) -> bool {
        self.manifest.count == 0
    }

    /// Bytes per record.
    pub fn record_size(&self) -> usize {
        self.manifest.record_size as usize
    }

    /// The dataset directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The persisted tree.
    pub fn tree(&self) -> &TreeFile {
        &self.tree
    }

    /// Reads record `index` into `buf` (of [`Dataset::record_size`] bytes) without checking it.
    pub fn read_record_unchecked(&self, index: u64, buf: &mut [u8]) -> Result<()> {
        if index >= self.len() {
            return Err(Error::IndexOutOfRange {
                index,
                size: self.len(),
            });
        }
        if buf.len() != self.record_size() {
            return Err(Error::RecordSize {
                found: buf.len() as u64,
                expected: self.manifest.record_size,
            });
        }
        read_exact_at(
            &self.records,
            buf,
            index * self.manifest.record_size,
            &self.dir.join(RECORDS_FILE),
        )
    }

    /// Reads record `index`, checked against its Merkle leaf.
    pub fn record(&self, index: u64) -> Result<Vec<u8>> {
        let mut buf = vec![0u8; self.record_size()];
        self.read_record_unchecked(index, &mut buf)?;
        if leaf_hash(&buf) != self.tree.node(0, index)? {
            return Err(Error::RecordCorrupt { index });
        }
        Ok(buf)
    }

    /// Reads the records at `indices` (strictly ascending) with one multiproof for all of them.
    ///
    /// Every record is checked against its leaf and the proof against the root before it is
    /// returned, so damaged files give [`Error::RecordCorrupt`] or [`Error::TreeCorrupt`], never
    /// a proof that fails elsewhere.
    pub fn prove(&self, indices: &[u64]) -> Result<(Vec<Vec<u8>>, MultiProof)> {
        if indices.is_empty() {
            // Not a tree fault: without this, the verifier's refusal of an empty list below
            // would be reported as TreeCorrupt.
            return Err(Error::InvalidParameters("no indices to prove".into()));
        }
        let records = indices
            .iter()
            .map(|&i| self.record(i))
            .collect::<Result<Vec<_>>>()?;
        let proof = prove_many(&self.tree, indices)?;
        let leaves: Vec<Digest> = records.iter().map(|r| leaf_hash(r)).collect();
        verify_multiproof(&self.root(), self.len(), indices, &leaves, &proof).map_err(|_| {
            self.tree
                .corrupt("a proof built from the tree file does not reach the root")
        })?;
        Ok((records, proof))
    }

    /// Checks every tree node against its children (a damaged tree file is
    /// [`Error::TreeCorrupt`], not blamed on the records), every record against the tree, and the
    /// records file against the manifest's records CID: a full, parallel rehash of the dataset.
    pub fn scrub(&self) -> Result<()> {
        self.tree.scrub()?;
        let leaves = leaf_hashes_of_file(
            &self.dir.join(RECORDS_FILE),
            self.manifest.record_size,
            self.len(),
        )?;
        for (index, leaf) in leaves.iter().enumerate() {
            if *leaf != self.tree.node(0, index as u64)? {
                return Err(Error::RecordCorrupt {
                    index: index as u64,
                });
            }
        }
        let path = self.dir.join(RECORDS_FILE);
        let (cid, _) = crate::ident::unixfs::cid_of_file(&path)?;
        if cid != self.manifest.records {
            return Err(Error::DatasetMismatch {
                path,
                detail: format!(
                    "records file has CID {cid}, the manifest names {}",
                    self.manifest.records
                ),
            });
        }
        Ok(())
    }
}
