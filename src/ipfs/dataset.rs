//! Datasets by CID: publish a dataset's manifest and records to a node; fetch a dataset into a
//! local directory from its manifest's CID alone, every block checked against its CID and every
//! record against the manifest's Merkle root before the dataset opens.
//!
//! The tree file is not published: it is derived data, and a fetcher must hash every record to
//! check it against the root anyway, which rebuilds the tree at no extra cost.

use super::IpfsStore;
use crate::dataset::{
    build_tree_from_file, Dataset, Manifest, MANIFEST_FILE, MAX_MANIFEST_BYTES, RECORDS_FILE,
    TREE_FILE,
};
use crate::error::{Error, Result};
use crate::fsutil::{sync_parent, write_atomic};
use crate::hash::sha3_256;
use crate::ident::unixfs::{
    fetch_leaves, read_file, walk_dag, BlockSource, CanonicalLayout, LeafRef,
};
use crate::ident::{Cid, CidProfile, RAW_CODEC};
use crate::learning::BlobStore;
use crate::merkle::TreeFile;
use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::Path;

/// The records file while it is being fetched (kept across attempts: a fetch resumes from it).
pub const PARTIAL_RECORDS_FILE: &str = "records.bin.part";

/// What a fetch moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// Leaves fetched from the source.
    pub fetched_leaves: u64,
    /// Leaves already on disk, checked against their CIDs and kept.
    pub reused_leaves: u64,
    /// File bytes fetched.
    pub fetched_bytes: u64,
}

/// Adds `dataset`'s records and manifest to the node (pinned) and returns the dataset's CID (its
/// manifest's), after checking that the node names both as the manifest does.
pub fn publish_dataset(store: &IpfsStore, dataset: &Dataset) -> Result<Cid> {
    let records = dataset.dir().join(RECORDS_FILE);
    let records_cid = store.add_file(&records)?;
    if records_cid != dataset.manifest().records {
        return Err(Error::DatasetMismatch {
            path: records,
            detail: format!(
                "records file has CID {records_cid}, the manifest names {}",
                dataset.manifest().records
            ),
        });
    }
    let manifest = dataset.manifest().to_bytes();
    // The manifest's encoding is canonical: re-encoded, it is the bytes the dataset's CID names.
    store.put(&manifest)
}

/// Fetches the file `cid` names, exactly `size` bytes, into `dest`, resuming from what `dest`
/// already holds: a leaf whose bytes on disk hash to its CID is kept, any other is fetched and
/// checked. `cid` must be the UnixFS CID of a `size`-byte file (a raw CID only up to one chunk),
/// else [`Error::InvalidField`] before anything is fetched, and its DAG the canonical one of
/// the bytes (as [`read_file`] requires). `dest` is fsynced before returning.
pub fn fetch_file(
    source: &dyn BlockSource,
    cid: &Cid,
    size: u64,
    dest: &Path,
) -> Result<FetchReport> {
    if !CidProfile::UnixFs.has_form(cid, size) {
        return Err(Error::InvalidField {
            what: "file cid",
            detail: format!("{cid} is not the UnixFS CID of a {size}-byte file"),
        });
    }
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dest)
        .map_err(|e| Error::io(dest, e))?;
    // What an earlier attempt left: only leaves within it can be on disk.
    let had = file.metadata().map_err(|e| Error::io(dest, e))?.len();
    file.set_len(size).map_err(|e| Error::io(dest, e))?;
    let mut report = FetchReport::default();
    let mut buf = Vec::new();
    let mut layout = CanonicalLayout::new(cid);
    let total = walk_dag(source, cid, size, &mut |leaves| {
        let mut missing: Vec<LeafRef> = Vec::new();
        for l in leaves {
            let mut leaf = *l;
            if cid.codec() == RAW_CODEC {
                // A one-block file (at most one chunk, checked above): its size is the one
                // asked for.
                leaf.len = size;
            }
            let on_disk = leaf.offset + leaf.len <= had && {
                buf.resize(leaf.len as usize, 0);
                file.read_exact_at(&mut buf, leaf.offset).is_ok()
                    && leaf.cid.hash().digest() == sha3_256(&buf)
            };
            if on_disk {
                report.reused_leaves += 1;
            } else {
                missing.push(leaf);
            }
        }
        for (leaf, bytes) in missing.iter().zip(fetch_leaves(source, &missing)?) {
            if bytes.len() as u64 != leaf.len {
                return Err(Error::BadBlock {
                    cid: leaf.cid.to_string(),
                    detail: format!("{} bytes, the file's DAG says {}", bytes.len(), leaf.len),
                });
            }
            file.write_all_at(&bytes, leaf.offset)
                .map_err(|e| Error::io(dest, e))?;
            report.fetched_leaves += 1;
            report.fetched_bytes += leaf.len;
        }
        // Every leaf, on disk or fetched, has the length its CID names (the bytes were hashed).
        for l in leaves {
            layout.leaf(
                &l.cid,
                if cid.codec() == RAW_CODEC {
                    size
                } else {
                    l.len
                },
            )?;
        }
        Ok(())
    })?;
    layout.finish()?;
    let total = if cid.codec() == RAW_CODEC {
        size
    } else {
        total
    };
    if total != size {
        return Err(Error::InvalidField {
            what: "file size",
            detail: format!("{cid} names {total} bytes, expected {size}"),
        });
    }
    file.sync_all().map_err(|e| Error::io(dest, e))?;
    Ok(report)
}

/// Fetches the dataset whose manifest's CID is `manifest_cid` into `dir` (created if needed)
/// and opens it. Every block is checked against its CID, and the records are checked against the
/// manifest's Merkle root before anything is committed; the manifest is written last, so `dir`
/// holds a dataset only once it is complete. An interrupted fetch resumes: records already
/// fetched and checked are not fetched again. A `dir` already holding this dataset is opened as
/// it is.
pub fn fetch_dataset(
    source: &dyn BlockSource,
    manifest_cid: &Cid,
    dir: &Path,
) -> Result<(Dataset, FetchReport)> {
    if dir.join(MANIFEST_FILE).exists() {
        let existing = Dataset::open(dir)?;
        if existing.cid() != *manifest_cid {
            return Err(Error::DatasetMismatch {
                path: dir.to_path_buf(),
                detail: format!("holds dataset {}, not {manifest_cid}", existing.cid()),
            });
        }
        return Ok((existing, FetchReport::default()));
    }
    let manifest_bytes = read_file(source, manifest_cid, MAX_MANIFEST_BYTES)?;
    let manifest = Manifest::from_bytes(&manifest_bytes)?;
    // Created once the manifest is fetched: a fetch from a node that cannot answer leaves no
    // directory behind (one that fails later keeps its partial records, to resume).
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let size = manifest
        .count
        .checked_mul(manifest.record_size)
        .ok_or_else(|| Error::InvalidField {
            what: "record count",
            detail: "records size overflows".into(),
        })?;
    let partial = dir.join(PARTIAL_RECORDS_FILE);
    let records = dir.join(RECORDS_FILE);
    if !partial.exists() && records.exists() {
        // A fetch that stopped between committing the records and writing the manifest: its
        // records resume like any partial file (each leaf checked again).
        std::fs::rename(&records, &partial).map_err(|e| Error::io(&partial, e))?;
    }
    let report = fetch_file(source, &manifest.records, size, &partial)?;
    let tree = build_tree_from_file(&partial, manifest.record_size, manifest.count)?;
    if tree.root() != manifest.root {
        return Err(Error::DatasetMismatch {
            path: partial,
            detail: format!(
                "the records {} names do not hash to the manifest's root",
                manifest.records
            ),
        });
    }
    std::fs::rename(&partial, &records).map_err(|e| Error::io(&records, e))?;
    sync_parent(&records)?;
    TreeFile::write(dir.join(TREE_FILE), &tree, manifest.record_size)?;
    write_atomic(dir.join(MANIFEST_FILE), &manifest_bytes)?;
    let dataset = Dataset::open(dir)?;
    // Re-opened from disk: what was written is what was checked.
    if dataset.cid() != *manifest_cid {
        return Err(Error::DatasetMismatch {
            path: dir.to_path_buf(),
            detail: "the written manifest differs from the fetched one".into(),
        });
    }
    Ok((dataset, report))
}
