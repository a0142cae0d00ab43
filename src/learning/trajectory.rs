//! The trajectory commitment: a Merkle tree (the capacity layer's tree code) over the checkpoint
//! digests `d_0 .. d_n` of a run, and openings of single steps.

use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::merkle::{leaf_hash, prove_many, verify_multiproof, MerkleTree, MultiProof};

/// The digests of a training run, committed to by a Merkle root.
#[derive(Clone, Debug)]
pub struct Trajectory {
    digests: Vec<Digest>,
    tree: MerkleTree,
}

impl Trajectory {
    /// A trajectory starting at the checkpoint digest `d0`.
    pub fn new(d0: Digest) -> Self {
        Trajectory {
            digests: vec![d0],
            tree: MerkleTree::from_leaves(vec![leaf_hash(&d0)]),
        }
    }

    /// Appends the digest of the next checkpoint.
    pub fn push(&mut self, digest: Digest) {
        self.digests.push(digest);
        self.tree.push(leaf_hash(&digest));
    }

    /// The number of digests (steps + 1).
    pub fn len(&self) -> u64 {
        self.digests.len() as u64
    }

    /// Always false: a trajectory holds at least `d_0`.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The number of steps.
    pub fn steps(&self) -> u64 {
        self.len() - 1
    }

    /// The digest after step `i` (`d_0` is the start).
    pub fn digest(&self, i: u64) -> Option<&Digest> {
        self.digests.get(i as usize)
    }

    /// The commitment.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The proof of `d_i` alone.
    pub fn prove(&self, i: u64) -> Result<MultiProof> {
        prove_many(&self.tree, &[i])
    }

    /// Opens step `step` (1-based): `d_{step-1}` and `d_step` with one multiproof.
    pub fn open(&self, step: u64) -> Result<TrajectoryOpening> {
        if step == 0 || step >= self.len() {
            return Err(Error::IndexOutOfRange {
                index: step,
                size: self.len(),
            });
        }
        let proof = prove_many(&self.tree, &[step - 1, step])?;
        Ok(TrajectoryOpening {
            step,
            prev: self.digests[step as usize - 1],
            next: self.digests[step as usize],
            proof,
        })
    }
}

/// The two digests around one step and their proof against the trajectory root.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrajectoryOpening {
    /// The step opened (1-based).
    pub step: u64,
    /// `d_{step-1}`: the digest of the checkpoint the step starts from.
    pub prev: Digest,
    /// `d_step`: the digest of the checkpoint the step produced.
    pub next: Digest,
    /// Multiproof of leaves `step - 1` and `step`.
    pub proof: MultiProof,
}

impl TrajectoryOpening {
    /// Checks the opening against a trajectory of `len` digests with root `root`.
    pub fn verify(&self, root: &Digest, len: u64) -> Result<()> {
        if self.step == 0 || self.step >= len {
            return Err(Error::IndexOutOfRange {
                index: self.step,
                size: len,
            });
        }
        verify_multiproof(
            root,
            len,
            &[self.step - 1, self.step],
            &[leaf_hash(&self.prev), leaf_hash(&self.next)],
            &self.proof,
        )
    }
}
