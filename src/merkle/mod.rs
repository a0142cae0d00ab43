//! The Merkle tree over records (and over checkpoint digests): RFC 6962 shape with SHA3-256.
//!
//! Leaves are `H("pouw/leaf", bytes)`, interior nodes `H("pouw/node", left || right)`. The tree
//! is left-full and unbalanced: a level with an odd number of nodes promotes its last node
//! unchanged to the level above (never duplicated), which gives exactly RFC 6962's
//! `MTH(D[0:n]) = H(MTH(D[0:k]), MTH(D[k:n]))` with `k` the largest power of two below `n`.
//! Trees can therefore grow by appending, with consistency proofs between sizes.
//!
//! Node `(level, index)` covers leaves `index << level .. min((index + 1) << level, n)` and equals
//! the RFC 6962 hash of that range. Proof builders read nodes through [`Nodes`], implemented by
//! the in-memory [`MerkleTree`] and by the persisted [`TreeFile`].

mod consistency;
mod file;
mod multiproof;
mod tree;

pub use consistency::{consistency_proof, verify_consistency};
pub use file::TreeFile;
pub use multiproof::{prove, prove_many, verify_inclusion, verify_multiproof, MultiProof};
pub use tree::MerkleTree;

use crate::error::Result;
use crate::hash::{tag, tagged_hash, Digest, TaggedHasher};

/// Read access to the nodes of a tree, in memory or on disk.
pub trait Nodes {
    /// The number of leaves.
    fn size(&self) -> u64;
    /// The node at `level` (0 = leaves) and `index`; the caller keeps both in range.
    fn node(&self, level: u32, index: u64) -> Result<Digest>;
}

/// The leaf hash of a record.
pub fn leaf_hash(record: &[u8]) -> Digest {
    tagged_hash(tag::LEAF, &[record])
}

/// The leaf hashes of consecutive records of `record_size` bytes in `records`, into `out` (one
/// per record): four at a time where the CPU allows ([`crate::hash::sha3_256_x4`]).
pub fn leaf_hashes(records: &[u8], record_size: usize, out: &mut [Digest]) {
    let records: Vec<&[u8]> = records.chunks_exact(record_size.max(1)).collect();
    let leaves = crate::hash::sha3_256_many(&crate::hash::tag_prefix(tag::LEAF), &records);
    for (leaf, hash) in out.iter_mut().zip(leaves) {
        *leaf = hash;
    }
}

/// The hash of an interior node.
pub fn node_hash(left: &Digest, right: &Digest) -> Digest {
    let mut h = TaggedHasher::new(tag::NODE);
    h.update(left).update(right);
    h.finish()
}

/// The root of an empty tree (RFC 6962: the hash of the empty string, here tagged).
pub fn empty_root() -> Digest {
    tagged_hash(tag::NODE, &[])
}

/// Node counts of each level for `size` leaves, leaves first, root last.
pub(crate) fn level_widths(size: u64) -> Vec<u64> {
    let mut widths = vec![size];
    let mut w = size;
    while w > 1 {
        w = w.div_ceil(2);
        widths.push(w);
    }
    widths
}

/// The root of the first `size` leaves of `src` (`size <= src.size()`), from stored nodes only.
pub fn prefix_root(src: &impl Nodes, size: u64) -> Result<Digest> {
    if size == 0 {
        return Ok(empty_root());
    }
    // size = 2^a + 2^b + ... with a > b > ...: the full subtrees left to right, folded from the right.
    let mut parts = Vec::new();
    let mut start = 0u64;
    for level in (0..64u32).rev() {
        if size & (1u64 << level) != 0 {
            parts.push(src.node(level, start >> level)?);
            start += 1u64 << level;
        }
    }
    let Some(mut acc) = parts.pop() else {
        return Ok(empty_root());
    };
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The hash of the leaf range `start .. start + len` of `src`, which must be a node of the tree:
/// `start` aligned to the smallest power of two `>= len`, and the range full or ending at the
/// tree's last leaf.
pub(crate) fn range_node(src: &impl Nodes, start: u64, len: u64) -> Result<Digest> {
    let level = u64::BITS - (len - 1).leading_zeros();
    let level = if len == 1 { 0 } else { level };
    debug_assert_eq!(start % (1u64 << level), 0);
    debug_assert!(len == 1u64 << level || start + len == src.size());
    src.node(level, start >> level)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaf_hashes_are_each_records_leaf_hash() {
        for size in [1usize, 64, 126, 136, 4096] {
            for count in 0..10 {
                let mut records = vec![0u8; size * count];
                crate::hash::Xof::new("test", &[size as u8, count as u8]).fill(&mut records);
                let mut out = vec![[0u8; 32]; count];
                leaf_hashes(&records, size, &mut out);
                let expected: Vec<Digest> = records.chunks_exact(size).map(leaf_hash).collect();
                assert_eq!(out, expected, "{size} x {count}");
            }
        }
    }
}
