//! Streaming creation of a dataset directory.

use super::{
    build_tree_from_file, DType, Dataset, Manifest, MANIFEST_FILE, RECORDS_FILE, TREE_FILE,
};
use crate::error::{Error, Result};
use crate::fsutil::{write_atomic, AtomicFile};
use crate::ident::unixfs::cid_of_file;
use crate::merkle::TreeFile;
use std::path::{Path, PathBuf};

/// Writes records one by one into a new dataset directory; [`DatasetWriter::finish`] builds the
/// tree and commits the manifest. Dropped unfinished, it leaves no dataset behind.
pub struct DatasetWriter {
    dir: PathBuf,
    records: AtomicFile,
    shape: Vec<u32>,
    dtype: DType,
    value_max: u32,
    record_size: u64,
    count: u64,
    source: String,
    licence: String,
}

impl DatasetWriter {
    /// Starts a dataset in `dir` (created if missing) of records of `shape` and `dtype` whose
    /// elements are at most `value_max`.
    pub fn create(
        dir: impl AsRef<Path>,
        shape: Vec<u32>,
        dtype: DType,
        value_max: u32,
        source: impl Into<String>,
        licence: impl Into<String>,
    ) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let record_size = Manifest::record_size_of(&shape, dtype)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let records = AtomicFile::create(dir.join(RECORDS_FILE))?;
        Ok(DatasetWriter {
            dir,
            records,
            shape,
            dtype,
            value_max,
            record_size,
            count: 0,
            source: source.into(),
            licence: licence.into(),
        })
    }

    /// Bytes per record.
    pub fn record_size(&self) -> usize {
        self.record_size as usize
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Appends one record, which must be exactly [`DatasetWriter::record_size`] bytes with no
    /// element above `value_max`.
    pub fn push(&mut self, record: &[u8]) -> Result<()> {
        if record.len() as u64 != self.record_size {
            return Err(Error::RecordSize {
                found: record.len() as u64,
                expected: self.record_size,
            });
        }
        if let Some(v) = record.iter().find(|&&v| u32::from(v) > self.value_max) {
            return Err(Error::InvalidField {
                what: "record value",
                detail: format!("{v} above the maximum {}", self.value_max),
            });
        }
        self.records.write_all(record)?;
        self.count += 1;
        Ok(())
    }

    /// Commits the records, builds and writes the tree, then writes the manifest, and opens the
    /// result.
    pub fn finish(self) -> Result<Dataset> {
        if self.count == 0 {
            return Err(Error::InvalidField {
                what: "dataset",
                detail: "no records".into(),
            });
        }
        self.records.commit()?;
        let tree =
            build_tree_from_file(&self.dir.join(RECORDS_FILE), self.record_size, self.count)?;
        TreeFile::write(self.dir.join(TREE_FILE), &tree, self.record_size)?;
        let manifest = Manifest {
            shape: self.shape,
            dtype: self.dtype,
            value_max: self.value_max,
            count: self.count,
            record_size: self.record_size,
            source: self.source,
            licence: self.licence,
            root: tree.root(),
            records: cid_of_file(&self.dir.join(RECORDS_FILE))?.0,
        };
        write_atomic(self.dir.join(MANIFEST_FILE), &manifest.to_bytes())?;
        Dataset::open(&self.dir)
    }
}
