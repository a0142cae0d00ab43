//! Inclusion proofs for one or many leaves. A multiproof sends each sibling node once, however
//! many of the proven leaves share it, and no node the verifier can compute itself.

use super::{level_widths, node_hash, Nodes};
use crate::error::{Error, Result};
use crate::hash::Digest;

/// The sibling nodes that prove a set of leaves, bottom level first, left to right in a level.
///
/// The proof does not carry the indices or the tree size: the verifier already knows both, which
/// is what makes the proof bind to them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MultiProof {
    /// The sibling nodes, in the order the verifier consumes them.
    pub nodes: Vec<Digest>,
}

/// Checks that `indices` are strictly ascending and below `size`.
fn check_indices(indices: &[u64], size: u64) -> Result<()> {
    for (position, pair) in indices.windows(2).enumerate() {
        if pair[1] <= pair[0] {
            return Err(Error::IndicesNotAscending {
                position: position + 1,
            });
        }
    }
    match indices.last() {
        Some(&last) if last >= size => Err(Error::IndexOutOfRange { index: last, size }),
        _ => Ok(()),
    }
}

/// Walks the tree bottom-up from `indices`, calling `sibling(level, index)` for each node a proof
/// must carry, in proof order. Returns the number of such nodes.
fn walk_siblings(
    size: u64,
    indices: &[u64],
    mut sibling: impl FnMut(u32, u64) -> Result<()>,
) -> Result<u64> {
    let mut known = indices.to_vec();
    let mut count = 0;
    for (level, &width) in level_widths(size).iter().enumerate() {
        if width <= 1 {
            break;
        }
        let mut next = Vec::with_capacity(known.len());
        let mut i = 0;
        while i < known.len() {
            let idx = known[i];
            let sib = idx ^ 1;
            if idx.is_multiple_of(2) && known.get(i + 1) == Some(&sib) {
                i += 2;
            } else {
                if sib < width {
                    sibling(level as u32, sib)?;
                    count += 1;
                }
                i += 1;
            }
            next.push(idx / 2);
        }
        known = next;
    }
    Ok(count)
}

/// The number of nodes a multiproof for `indices` (strictly ascending) in a tree of `size` holds.
pub fn multiproof_len(size: u64, indices: &[u64]) -> Result<u64> {
    check_indices(indices, size)?;
    walk_siblings(size, indices, |_, _| Ok(()))
}

/// Proves the leaves at `indices` (strictly ascending, non-empty) of `src`.
pub fn prove_many(src: &impl Nodes, indices: &[u64]) -> Result<MultiProof> {
    check_indices(indices, src.size())?;
    let mut nodes = Vec::new();
    walk_siblings(src.size(), indices, |level, index| {
        nodes.push(src.node(level, index)?);
        Ok(())
    })?;
    Ok(MultiProof { nodes })
}

/// Proves one leaf: a multiproof of a single index.
pub fn prove(src: &impl Nodes, index: u64) -> Result<MultiProof> {
    prove_many(src, &[index])
}

/// Verifies that `leaves` (leaf hashes) sit at `indices` (strictly ascending) in the tree of
/// `size` leaves whose root is `root`.
///
/// Cheap checks come first: the index order, and the proof's length against the exact count the
/// indices need, before any hashing.
pub fn verify_multiproof(
    root: &Digest,
    size: u64,
    indices: &[u64],
    leaves: &[Digest],
    proof: &MultiProof,
) -> Result<()> {
    if indices.is_empty() || indices.len() != leaves.len() {
        return Err(Error::InvalidField {
            what: "multiproof",
            detail: format!("{} indices for {} leaves", indices.len(), leaves.len()),
        });
    }
    let expected = multiproof_len(size, indices)?;
    if proof.nodes.len() as u64 != expected {
        return Err(Error::ProofLength {
            found: proof.nodes.len() as u64,
            expected,
        });
    }
    let mut known: Vec<(u64, Digest)> = indices
        .iter()
        .copied()
        .zip(leaves.iter().copied())
        .collect();
    let mut supplied = proof.nodes.iter();
    for &width in level_widths(size).iter() {
        if width <= 1 {
            break;
        }
        let mut next = Vec::with_capacity(known.len());
        let mut i = 0;
        while i < known.len() {
            let (idx, hash) = known[i];
            let sib = idx ^ 1;
            let parent = if idx % 2 == 0 {
                match known.get(i + 1) {
                    Some(&(j, right)) if j == sib => {
                        i += 1;
                        node_hash(&hash, &right)
                    }
                    _ if sib < width => {
                        node_hash(&hash, supplied.next().ok_or(Error::RootMismatch)?)
                    }
                    _ => hash,
                }
            } else {
                node_hash(supplied.next().ok_or(Error::RootMismatch)?, &hash)
            };
            next.push((idx / 2, parent));
            i += 1;
        }
        known = next;
    }
    match known.as_slice() {
        [(0, computed)] if computed == root && supplied.next().is_none() => Ok(()),
        _ => Err(Error::RootMismatch),
    }
}

/// Verifies a single-leaf inclusion proof.
pub fn verify_inclusion(
    root: &Digest,
    size: u64,
    index: u64,
    leaf: &Digest,
    proof: &MultiProof,
) -> Result<()> {
    verify_multiproof(root, size, &[index], &[*leaf], proof)
}
