//! The persisted tree: all levels in one file next to the dataset, read node by node, so proving
//! over a large dataset never rehashes it or loads the tree whole.
//!
//! Layout (little-endian): magic `PWMT`, format version `u32`, leaf count `u64`, record size
//! `u64`, root (32 bytes), header checksum `H("pouw/tree-file", preceding header bytes)`
//! (32 bytes), then the levels, leaves first, 32 bytes a node.
//!
//! Opening checks the header, its checksum, the file length and that the stored top node is the
//! root, in O(1). Interior corruption is caught where it matters: every proof built from the file
//! is checked against the root before it is returned (see `Dataset`), so a corrupt file yields
//! [`Error::TreeCorrupt`], never a wrong proof. [`TreeFile::scrub`] checks every node.

use super::tree::parent_level;
use super::{level_widths, MerkleTree, Nodes};
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::fsutil::{read_exact_at, AtomicFile};
use crate::hash::{tag, tagged_hash, Digest};
use std::fs::File;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 4] = b"PWMT";
const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: u64 = 4 + 4 + 8 + 8 + 32 + 32;

/// A tree file opened for reading.
#[derive(Debug)]
pub struct TreeFile {
    path: PathBuf,
    file: File,
    size: u64,
    record_size: u64,
    root: Digest,
    /// Byte offset of each level in the file.
    level_offsets: Vec<u64>,
    /// Node count of each level.
    level_widths: Vec<u64>,
}

fn header_bytes(size: u64, record_size: u64, root: &Digest) -> Vec<u8> {
    let mut e = Encoder::new();
    e.raw(MAGIC)
        .u32(FORMAT_VERSION)
        .u64(size)
        .u64(record_size)
        .digest(root);
    let mut bytes = e.finish();
    let checksum = tagged_hash(tag::TREE_FILE, &[&bytes]);
    bytes.extend_from_slice(&checksum);
    bytes
}

fn level_offsets(size: u64) -> (Vec<u64>, u64) {
    let mut offsets = Vec::new();
    let mut at = HEADER_LEN;
    for w in level_widths(size) {
        offsets.push(at);
        at += w * 32;
    }
    (offsets, at)
}

impl TreeFile {
    /// Writes `tree` to `path` atomically.
    pub fn write(path: impl AsRef<Path>, tree: &MerkleTree, record_size: u64) -> Result<()> {
        let mut out = AtomicFile::create(path.as_ref())?;
        out.write_all(&header_bytes(tree.len(), record_size, &tree.root()))?;
        for level in tree.levels() {
            for node in level {
                out.write_all(node)?;
            }
        }
        out.commit()
    }

    /// Opens a tree file, checking its header, checksum, length and stored root in O(1).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let corrupt = |detail: String| Error::TreeCorrupt {
            path: path.clone(),
            detail,
        };
        let file = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let file_len = file.metadata().map_err(|e| Error::io(&path, e))?.len();
        if file_len < HEADER_LEN {
            return Err(corrupt(format!(
                "{file_len} bytes is shorter than the header"
            )));
        }
        let mut header = [0u8; HEADER_LEN as usize];
        read_exact_at(&file, &mut header, 0, &path)?;
        let mut d = Decoder::new(&header);
        d.magic(MAGIC, "tree file")
            .map_err(|e| corrupt(e.to_string()))?;
        let version = d.u32("version")?;
        if version != FORMAT_VERSION {
            return Err(corrupt(format!(
                "format version {version}, expected {FORMAT_VERSION}"
            )));
        }
        let size = d.u64("leaf count")?;
        let record_size = d.u64("record size")?;
        let root = d.digest("root")?;
        if header_bytes(size, record_size, &root)[..] != header[..] {
            return Err(corrupt("header checksum mismatch".into()));
        }
        if size == 0 || size > (1 << 48) {
            return Err(corrupt(format!("leaf count {size}")));
        }
        let (offsets, expected_len) = level_offsets(size);
        if file_len != expected_len {
            return Err(corrupt(format!(
                "file is {file_len} bytes, {size} leaves need {expected_len}"
            )));
        }
        let tree = TreeFile {
            path,
            file,
            size,
            record_size,
            root,
            level_offsets: offsets,
            level_widths: level_widths(size),
        };
        let top = tree.node(tree.level_offsets.len() as u32 - 1, 0)?;
        if top != root {
            return Err(tree.corrupt("stored root node differs from the header root"));
        }
        Ok(tree)
    }

    /// The root.
    pub fn root(&self) -> Digest {
        self.root
    }

    /// The record size the tree was built for.
    pub fn record_size(&self) -> u64 {
        self.record_size
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A [`Error::TreeCorrupt`] for this file.
    pub fn corrupt(&self, detail: impl Into<String>) -> Error {
        Error::TreeCorrupt {
            path: self.path.clone(),
            detail: detail.into(),
        }
    }

    /// Loads the whole tree into memory (for appending).
    pub fn load(&self) -> Result<MerkleTree> {
        let mut levels = Vec::with_capacity(self.level_offsets.len());
        for (level, &w) in self.level_widths.iter().enumerate() {
            let mut bytes = vec![0u8; (w * 32) as usize];
            read_exact_at(
                &self.file,
                &mut bytes,
                self.level_offsets[level],
                &self.path,
            )?;
            levels.push(
                bytes
                    .chunks_exact(32)
                    .map(|c| {
                        let mut d = [0u8; 32];
                        d.copy_from_slice(c);
                        d
                    })
                    .collect(),
            );
        }
        MerkleTree::from_levels(levels)
    }

    /// Checks every interior node against its children and the top against the root:
    /// O(size) hashing of the tree itself (not of the records).
    pub fn scrub(&self) -> Result<()> {
        let tree = self.load()?;
        let levels = tree.levels();
        for l in 1..levels.len() {
            if parent_level(&levels[l - 1]) != levels[l] {
                return Err(self.corrupt(format!("level {l} does not hash from level {}", l - 1)));
            }
        }
        Ok(())
    }
}

impl Nodes for TreeFile {
    fn size(&self) -> u64 {
        self.size
    }

    fn node(&self, level: u32, index: u64) -> Result<Digest> {
        let width = self.level_widths.get(level as usize).copied().unwrap_or(0);
        if index >= width {
            return Err(Error::IndexOutOfRange { index, size: width });
        }
        let mut node = [0u8; 32];
        read_exact_at(
            &self.file,
            &mut node,
            self.level_offsets[level as usize] + index * 32,
            &self.path,
        )?;
        Ok(node)
    }
}
