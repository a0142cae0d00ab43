//! A file's UnixFS CID, as `ipfs add --cid-version 1 --raw-leaves --hash sha3-256
//! --chunker size-262144` names it: the file cut into 256 KiB raw leaves, the leaves gathered
//! under dag-pb nodes of at most 174 links, level by level (IPFS's balanced layout), the root's
//! CID naming the file. A file of one chunk is its own raw leaf, so files up to 256 KiB keep the
//! raw CID of their bytes.
//!
//! Hashing is streamed (memory stays flat whatever the file size) and the leaves of a batch are
//! hashed in parallel: the CID is hash-bound, and leaves are independent.

pub use super::dagpb::{decode_node, encode_node};
use super::dagpb::{Link, MAX_LINKS, MAX_NODE_BYTES};
use super::{cid_from_sha3, Cid, DAG_PB_CODEC, RAW_CODEC, SHA3_256_CODE};
use crate::error::{Error, Result};
use crate::hash::{sha3_256, sha3_256_chunks};
use std::io::Read;
use std::sync::mpsc;

/// The chunk size of a file's leaves, in bytes.
pub const CHUNK_SIZE: usize = 262_144;
/// Leaves hashed per parallel batch when streaming (8 MiB).
const BATCH_CHUNKS: usize = 32;
/// The deepest DAG a reader follows: 174^8 leaves of 256 KiB is far past any file size.
const MAX_DEPTH: usize = 8;

/// The CID of a dag-pb node's bytes.
pub fn dag_pb_cid(node: &[u8]) -> Cid {
    let digest = sha3_256(node);
    let raw = cid_from_sha3(&digest);
    Cid::new_v1(DAG_PB_CODEC, *raw.hash())
}

/// Builds a file's DAG from its leaves, in order.
#[derive(Default)]
pub struct DagBuilder {
    levels: Vec<Vec<Link>>,
    /// Interior nodes made so far, when collecting them.
    nodes: Option<Vec<(Cid, Vec<u8>)>>,
}

impl DagBuilder {
    /// A builder that keeps only what the CID needs (at most 174 links per level).
    pub fn new() -> Self {
        DagBuilder::default()
    }

    /// A builder that also keeps every interior node it makes (for serving the file's blocks).
    pub fn collecting() -> Self {
        DagBuilder {
            levels: Vec::new(),
            nodes: Some(Vec::new()),
        }
    }

    /// Adds the next leaf: a chunk of `len` bytes whose SHA3-256 digest is `digest`.
    pub fn push_leaf(&mut self, digest: &[u8; 32], len: u64) {
        let link = Link {
            cid: cid_from_sha3(digest),
            file_size: len,
            tsize: len,
        };
        self.push(0, link);
    }

    fn push(&mut self, level: usize, link: Link) {
        if self.levels.len() == level {
            self.levels.push(Vec::new());
        }
        if self.levels[level].len() == MAX_LINKS {
            self.flush(level);
        }
        self.levels[level].push(link);
    }

    /// Replaces the links of `level` by one node at the level above.
    fn flush(&mut self, level: usize) {
        let links = std::mem::take(&mut self.levels[level]);
        let node = encode_node(&links);
        let cid = dag_pb_cid(&node);
        let link = Link {
            cid,
            file_size: links.iter().map(|l| l.file_size).sum(),
            tsize: node.len() as u64 + links.iter().map(|l| l.tsize).sum::<u64>(),
        };
        if let Some(nodes) = &mut self.nodes {
            nodes.push((cid, node));
        }
        self.push(level + 1, link);
    }

    /// Completes the DAG: the root link (the file's CID, its size, its cumulative size) and the
    /// interior nodes made, when collecting (root last).
    pub fn finish(mut self) -> (Link, Vec<(Cid, Vec<u8>)>) {
        if self.levels.first().is_none_or(Vec::is_empty) {
            // The empty file is one empty raw leaf.
            self.push_leaf(&sha3_256(&[]), 0);
        }
        let mut level = 0;
        loop {
            let top = self.levels.len() == level + 1;
            match self.levels[level].as_slice() {
                [root] if top => return (*root, self.nodes.unwrap_or_default()),
                [] => {}
                _ => self.flush(level),
            }
            level += 1;
        }
    }
}

/// The UnixFS CID of `bytes` (leaves hashed in parallel).
pub fn cid_of(bytes: &[u8]) -> Cid {
    if bytes.len() <= CHUNK_SIZE {
        return cid_from_sha3(&sha3_256(bytes));
    }
    let digests: Vec<[u8; 32]> = sha3_256_chunks(&[], bytes, CHUNK_SIZE);
    let mut builder = DagBuilder::new();
    for (d, chunk) in digests.iter().zip(bytes.chunks(CHUNK_SIZE)) {
        builder.push_leaf(d, chunk.len() as u64);
    }
    builder.finish().0.cid
}

/// The UnixFS CID of everything `reader` yields, and the number of bytes it yielded. Memory
/// stays at three batches of leaves (8 MiB each): one being read (on a thread of its own) while
/// the one before is hashed in parallel.
pub fn cid_of_reader(reader: &mut (dyn Read + Send)) -> Result<(Cid, u64)> {
    const BATCH: usize = CHUNK_SIZE * BATCH_CHUNKS;
    let mut builder = DagBuilder::new();
    let mut total = 0u64;
    std::thread::scope(|s| -> Result<()> {
        let (full_tx, full_rx) = mpsc::sync_channel::<Result<Vec<u8>>>(1);
        let (free_tx, free_rx) = mpsc::sync_channel::<Vec<u8>>(3);
        for _ in 0..2 {
            let _ = free_tx.send(Vec::new());
        }
        s.spawn(move || {
            for mut buf in free_rx {
                buf.resize(BATCH, 0);
                let read = fill(reader, &mut buf).map(|n| {
                    buf.truncate(n);
                    buf
                });
                let last = read.as_ref().map_or(true, |b| b.len() < BATCH);
                if full_tx.send(read).is_err() || last {
                    break;
                }
            }
        });
        for batch in full_rx {
            let batch = batch?;
            let digests: Vec<[u8; 32]> = sha3_256_chunks(&[], &batch, CHUNK_SIZE);
            for (d, chunk) in digests.iter().zip(batch.chunks(CHUNK_SIZE)) {
                builder.push_leaf(d, chunk.len() as u64);
            }
            total += batch.len() as u64;
            if batch.len() < BATCH {
                break;
            }
            let _ = free_tx.send(batch);
        }
        Ok(())
    })?;
    Ok((builder.finish().0.cid, total))
}

/// The UnixFS CID of the file at `path`, streamed.
pub fn cid_of_file(path: &std::path::Path) -> Result<(Cid, u64)> {
    let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    cid_of_reader(&mut file).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })
}

/// Reads until `buf` is full or the reader ends; the bytes read.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Error::Io {
                    path: "<stream>".into(),
                    source: e,
                })
            }
        }
    }
    Ok(filled)
}

/// Where a reader gets blocks by CID: an IPFS node, a peer, a local block store. Untrusted:
/// [`read_file`], [`walk_dag`] and [`fetch_leaves`] check every block it returns against its CID.
pub trait BlockSource: Sync {
    /// The bytes of the block `cid` names, at most `limit` of them.
    fn block(&self, cid: &Cid, limit: usize) -> Result<Vec<u8>>;

    /// How many blocks to fetch at once.
    fn parallel_fetches(&self) -> usize {
        4
    }
}

/// Fetches `leaves` from `source`, `source.parallel_fetches()` at a time, each checked against
/// its CID and its length; returned in order.
pub fn fetch_leaves(source: &dyn BlockSource, leaves: &[LeafRef]) -> Result<Vec<Vec<u8>>> {
    let workers = source.parallel_fetches().clamp(1, 64);
    let per = leaves.len().div_ceil(workers).max(1);
    let fetch = |group: &[LeafRef]| -> Result<Vec<Vec<u8>>> {
        group
            .iter()
            .map(|l| {
                let bytes = source.block(&l.cid, l.len as usize)?;
                check_block(&l.cid, &bytes)?;
                Ok(bytes)
            })
            .collect()
    };
    if leaves.len() <= per {
        return fetch(leaves);
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = leaves
            .chunks(per)
            .map(|group| s.spawn(move || fetch(group)))
            .collect();
        let mut out = Vec::with_capacity(leaves.len());
        for h in handles {
            match h.join() {
                Ok(group) => out.extend(group?),
                Err(_) => {
                    return Err(Error::Store {
                        endpoint: "block source".into(),
                        detail: "a fetching thread panicked".into(),
                    })
                }
            }
        }
        Ok(out)
    })
}

/// Checks that `bytes` are the block `cid` names; a mismatch is the source's fault.
pub fn check_block(cid: &Cid, bytes: &[u8]) -> Result<()> {
    let mh = cid.hash();
    let codec_ok = cid.codec() == RAW_CODEC || cid.codec() == DAG_PB_CODEC;
    if !codec_ok || mh.code() != SHA3_256_CODE || mh.digest() != sha3_256(bytes) {
        return Err(Error::BadBlock {
            cid: cid.to_string(),
            detail: format!("{} bytes that do not hash to it", bytes.len()),
        });
    }
    Ok(())
}

/// One leaf of a file being read: where it goes in the file, how long it is, its CID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafRef {
    /// Offset of the leaf's first byte in the file.
    pub offset: u64,
    /// Bytes in the leaf.
    pub len: u64,
    /// The leaf's raw CID.
    pub cid: Cid,
}

/// The largest raw block read as a whole file (1 MiB, the most an IPFS node stores in one block):
/// UnixFS names a file of up to one chunk by a raw CID, and protocol 3 named a checkpoint of any
/// size by the raw CID of its whole bytes.
pub const MAX_RAW_BLOCK: u64 = 1 << 20;

/// Walks the file DAG under `root`, fetching and checking interior nodes from `source`, and
/// hands `leaf` every leaf in file order (the root itself when it is a raw leaf; its length is
/// then known only as at most `limit` and [`MAX_RAW_BLOCK`]). Refuses a file over `limit` bytes
/// before fetching it. Returns the file's size (for a raw root, that bound).
pub fn walk_dag(
    source: &dyn BlockSource,
    root: &Cid,
    limit: u64,
    leaf: &mut dyn FnMut(&[LeafRef]) -> Result<()>,
) -> Result<u64> {
    if root.codec() == RAW_CODEC {
        let max = limit.min(MAX_RAW_BLOCK);
        leaf(&[LeafRef {
            offset: 0,
            len: max,
            cid: *root,
        }])?;
        return Ok(max);
    }
    walk_node(source, root, None, 0, limit, 0, leaf)
}

fn walk_node(
    source: &dyn BlockSource,
    cid: &Cid,
    expected_size: Option<u64>,
    offset: u64,
    limit: u64,
    depth: usize,
    leaf: &mut dyn FnMut(&[LeafRef]) -> Result<()>,
) -> Result<u64> {
    if depth > MAX_DEPTH {
        return Err(dagpb_error(cid, "deeper than any file"));
    }
    if cid.codec() != DAG_PB_CODEC {
        return Err(dagpb_error(cid, "interior node is not dag-pb"));
    }
    let bytes = source.block(cid, MAX_NODE_BYTES)?;
    check_block(cid, &bytes)?;
    let node = decode_node(&bytes)?;
    if expected_size.is_some_and(|s| s != node.file_size) {
        return Err(dagpb_error(cid, "file size differs from its parent's"));
    }
    if offset.saturating_add(node.file_size) > limit {
        return Err(Error::LimitExceeded {
            what: "file size",
            found: offset.saturating_add(node.file_size),
            limit,
        });
    }
    let mut at = offset;
    let mut leaves = Vec::new();
    for (child, size) in node.children {
        if child.codec() == RAW_CODEC {
            if size == 0 || size > CHUNK_SIZE as u64 {
                return Err(dagpb_error(cid, "leaf size out of range"));
            }
            leaves.push(LeafRef {
                offset: at,
                len: size,
                cid: child,
            });
        } else {
            if !leaves.is_empty() {
                leaf(&leaves)?;
                leaves.clear();
            }
            walk_node(source, &child, Some(size), at, limit, depth + 1, leaf)?;
        }
        at += size;
    }
    if !leaves.is_empty() {
        leaf(&leaves)?;
    }
    Ok(node.file_size)
}

fn dagpb_error(cid: &Cid, detail: &str) -> Error {
    Error::InvalidField {
        what: "dag-pb node",
        detail: format!("{cid}: {detail}"),
    }
}

/// Checks, leaf by leaf in file order, that a file's DAG is the canonical one of its bytes
/// (one file, one DAG): leaves whole chunks but the last, and the leaves' digests (each checked
/// against its bytes by the caller) rebuilding the root, which costs only the interior nodes'
/// hashes.
pub struct CanonicalLayout {
    root: Cid,
    rebuilt: DagBuilder,
    short_leaf_seen: bool,
}

impl CanonicalLayout {
    /// A check of the DAG under `root`.
    pub fn new(root: &Cid) -> Self {
        CanonicalLayout {
            root: *root,
            rebuilt: DagBuilder::new(),
            short_leaf_seen: false,
        }
    }

    /// The next leaf in file order: its CID and its length.
    pub fn leaf(&mut self, cid: &Cid, len: u64) -> Result<()> {
        if self.short_leaf_seen {
            return Err(dagpb_error(
                &self.root,
                "a leaf shorter than a chunk is not the last",
            ));
        }
        self.short_leaf_seen = len < CHUNK_SIZE as u64;
        let mut digest = [0u8; 32];
        digest.copy_from_slice(cid.hash().digest());
        self.rebuilt.push_leaf(&digest, len);
        Ok(())
    }

    /// After the last leaf: the leaves rebuild the root (a raw root is its own one leaf).
    pub fn finish(self) -> Result<()> {
        if self.root.codec() != RAW_CODEC && self.rebuilt.finish().0.cid != self.root {
            return Err(dagpb_error(
                &self.root,
                "not the canonical DAG of its bytes",
            ));
        }
        Ok(())
    }
}

/// Reads the whole file `root` names from `source`, every block checked, at most `limit`
/// bytes, leaves fetched in parallel ([`BlockSource::parallel_fetches`]); the result is then
/// checked to be the file whose CID is `root` under this crate's layout ([`CanonicalLayout`]).
pub fn read_file(source: &dyn BlockSource, root: &Cid, limit: u64) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut layout = CanonicalLayout::new(root);
    walk_dag(source, root, limit, &mut |leaves| {
        let blocks = fetch_leaves(source, leaves)?;
        for (l, bytes) in leaves.iter().zip(blocks) {
            if root.codec() != RAW_CODEC && bytes.len() as u64 != l.len {
                return Err(dagpb_error(&l.cid, "leaf length differs from its parent's"));
            }
            layout.leaf(&l.cid, bytes.len() as u64)?;
            out.extend_from_slice(&bytes);
        }
        Ok(())
    })?;
    layout.finish()?;
    Ok(out)
}

/// Every block of `bytes`'s DAG as `(CID, block bytes)`, leaves first, root last: what a node
/// given the file stores (for serving a file block by block).
pub fn blocks_of(bytes: &[u8]) -> Vec<(Cid, Vec<u8>)> {
    let digests: Vec<[u8; 32]> = sha3_256_chunks(&[], bytes, CHUNK_SIZE);
    if digests.len() <= 1 {
        return vec![(cid_of(bytes), bytes.to_vec())];
    }
    let mut builder = DagBuilder::collecting();
    let mut blocks = Vec::with_capacity(digests.len() + 2);
    for (d, c) in digests.iter().zip(bytes.chunks(CHUNK_SIZE)) {
        builder.push_leaf(d, c.len() as u64);
        blocks.push((cid_from_sha3(d), c.to_vec()));
    }
    blocks.extend(builder.finish().1);
    blocks
}
