//! The in-memory tree: every level kept, built in parallel, grown by appending.

use super::{empty_root, level_widths, node_hash, Nodes};
use crate::error::{Error, Result};
use crate::hash::Digest;
use rayon::prelude::*;

/// Levels narrower than this are hashed on the calling thread.
const PARALLEL_MIN_NODES: usize = 1 << 12;

/// A Merkle tree with all its levels in memory (32 bytes a node, about two nodes per leaf).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes; the last level holds the root alone.
    levels: Vec<Vec<Digest>>,
}

impl MerkleTree {
    /// Builds the tree over leaf hashes (see [`super::leaf_hash`]), interior levels in parallel.
    pub fn from_leaves(leaves: Vec<Digest>) -> Self {
        let mut levels = vec![leaves];
        while let Some(below) = levels.last().filter(|l| l.len() > 1) {
            let parents = parent_level(below);
            levels.push(parents);
        }
        MerkleTree { levels }
    }

    /// Rebuilds a tree from its levels, checking their widths (not their hashes).
    pub(crate) fn from_levels(levels: Vec<Vec<Digest>>) -> Result<Self> {
        let size = levels.first().map_or(0, |l| l.len() as u64);
        let widths = level_widths(size);
        let ok = widths.len() == levels.len()
            && widths
                .iter()
                .zip(&levels)
                .all(|(w, l)| *w == l.len() as u64);
        if !(ok || size == 0 && levels.len() <= 1) {
            return Err(Error::InvalidField {
                what: "tree levels",
                detail: "widths do not match the leaf count".into(),
            });
        }
        Ok(MerkleTree {
            levels: if levels.is_empty() {
                vec![Vec::new()]
            } else {
                levels
            },
        })
    }

    /// The number of leaves.
    pub fn len(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Whether the tree has no leaves.
    pub fn is_empty(&self) -> bool {
        self.levels[0].is_empty()
    }

    /// The root (the tagged empty hash for an empty tree).
    pub fn root(&self) -> Digest {
        match self.levels.last() {
            Some(top) if top.len() == 1 => top[0],
            _ => empty_root(),
        }
    }

    /// The leaf hashes.
    pub fn leaves(&self) -> &[Digest] {
        &self.levels[0]
    }

    /// All levels, leaves first.
    pub(crate) fn levels(&self) -> &[Vec<Digest>] {
        &self.levels
    }

    /// Appends one leaf hash, updating the right edge of every level: O(log n).
    pub fn push(&mut self, leaf: Digest) {
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len() > 1 {
            let below = &self.levels[level];
            let last = below.len() - 1;
            let parent = if last % 2 == 1 {
                node_hash(&below[last - 1], &below[last])
            } else {
                below[last]
            };
            let parent_index = last / 2;
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            let above = &mut self.levels[level + 1];
            if parent_index < above.len() {
                above[parent_index] = parent;
            } else {
                above.push(parent);
            }
            level += 1;
        }
    }
}

impl Nodes for MerkleTree {
    fn size(&self) -> u64 {
        self.len()
    }

    fn node(&self, level: u32, index: u64) -> Result<Digest> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or(Error::IndexOutOfRange {
                index,
                size: self.len(),
            })
    }
}

/// Hashes pairs of `below` into the next level up, promoting an odd last node.
pub(crate) fn parent_level(below: &[Digest]) -> Vec<Digest> {
    let prefix = crate::hash::tag_prefix(crate::hash::tag::NODE);
    // Pairs four at a time ([`crate::hash::sha3_256_many`]); an odd last node is promoted.
    let (pairs, odd) = below.as_chunks::<2>();
    let hash = |group: &[[Digest; 2]]| {
        let inputs: Vec<&[u8]> = group.iter().map(|pair| pair.as_flattened()).collect();
        crate::hash::sha3_256_many(&prefix, &inputs)
    };
    let mut parents: Vec<Digest> = if below.len() >= PARALLEL_MIN_NODES {
        pairs.par_chunks(4).flat_map_iter(hash).collect()
    } else {
        pairs.chunks(4).flat_map(hash).collect()
    };
    parents.extend_from_slice(odd);
    parents
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{leaf_hash, prefix_root};

    /// RFC 6962's recursive definition, written independently of the level construction.
    fn rfc_root(leaves: &[Digest]) -> Digest {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
                node_hash(&rfc_root(&leaves[..k]), &rfc_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn levels_match_rfc6962_and_push_matches_build() {
        let leaves: Vec<Digest> = (0..70u32).map(|i| leaf_hash(&i.to_le_bytes())).collect();
        let mut grown = MerkleTree::from_leaves(Vec::new());
        assert_eq!(grown.root(), empty_root());
        for n in 1..=leaves.len() {
            grown.push(leaves[n - 1]);
            let built = MerkleTree::from_leaves(leaves[..n].to_vec());
            assert_eq!(built.root(), rfc_root(&leaves[..n]), "size {n}");
            assert_eq!(grown, built, "size {n}");
            for m in 0..=n as u64 {
                assert_eq!(
                    prefix_root(&built, m).unwrap(),
                    rfc_root(&leaves[..m as usize])
                );
            }
        }
    }
}
