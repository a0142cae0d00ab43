//! The trajectory commitment: a Merkle tree (the capacity layer's tree code) over the checkpoint
//! digests `d_0 .. d_n` of a run, the roots of its prefixes (step `i`'s seed binds the root of
//! `d_0 .. d_{i-1}`), openings of single steps, and the canonical encoding of the whole list (the
//! companion a miner publishes so that anyone can audit every step).

use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::merkle::{
    consistency_proof, leaf_hash, prefix_root, prove_many, verify_consistency, verify_multiproof,
    MerkleTree, MultiProof,
};

const MAGIC: &[u8; 4] = b"PWTJ";
const FORMAT_VERSION: u32 = 1;
/// The most nodes a consistency proof holds (two per level of a tree of up to 2^64 leaves).
pub const MAX_CONSISTENCY_NODES: u64 = 128;

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

    /// The trajectory of `digests` (`d_0` first; at least one).
    pub fn from_digests(digests: Vec<Digest>) -> Result<Self> {
        if digests.is_empty() {
            return Err(Error::InvalidField {
                what: "trajectory",
                detail: "no digests".into(),
            });
        }
        let tree = MerkleTree::from_leaves(digests.iter().map(|d| leaf_hash(d)).collect());
        Ok(Trajectory { digests, tree })
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
        self.digests.get(usize::try_from(i).ok()?)
    }

    /// Every digest, `d_0` first.
    pub fn digests(&self) -> &[Digest] {
        &self.digests
    }

    /// The commitment.
    pub fn root(&self) -> Digest {
        self.tree.root()
    }

    /// The root of the first `size` digests (`1 <= size <= len`): what step `size`'s seed
    /// binds.
    pub fn prefix_root(&self, size: u64) -> Result<Digest> {
        if size == 0 || size > self.len() {
            return Err(Error::IndexOutOfRange {
                index: size,
                size: self.len(),
            });
        }
        prefix_root(&self.tree, size)
    }

    /// The proof of `d_i` alone.
    pub fn prove(&self, i: u64) -> Result<MultiProof> {
        prove_many(&self.tree, &[i])
    }

    /// Opens step `step` (1-based): `d_{step-1}` and `d_step` with one multiproof, and the root
    /// of the first `step` digests with its consistency proof to the whole trajectory.
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
            prefix_root: self.prefix_root(step)?,
            prefix_proof: consistency_proof(&self.tree, step)?,
        })
    }

    /// The canonical encoding of every digest (magic `PWTJ`, version `u32`, count `u64`, the
    /// digests): the companion a miner publishes with a block.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC).u32(FORMAT_VERSION).u64(self.len());
        for d in &self.digests {
            e.digest(d);
        }
        e.finish()
    }

    /// The size of the encoding of `len` digests.
    pub fn encoded_size(len: u64) -> u64 {
        4 + 4 + 8 + 32 * len
    }

    /// Decodes untrusted bytes holding exactly `len` digests.
    pub fn from_bytes(bytes: &[u8], len: u64) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "trajectory")?;
        let version = d.u32("trajectory version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "trajectory",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let count = d.u64("trajectory length")?;
        if count != len {
            return Err(Error::InvalidField {
                what: "trajectory",
                detail: format!("{count} digests, the block has {len}"),
            });
        }
        let digests = (0..count)
            .map(|_| d.digest("trajectory digest"))
            .collect::<Result<Vec<_>>>()?;
        d.finish()?;
        Self::from_digests(digests)
    }
}

/// The two digests around one step, their proof against the trajectory root, and the root of
/// the digests before the step (the step's seed binds it) with its consistency proof.
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
    /// `R_step`: the root of `d_0 .. d_{step-1}`.
    pub prefix_root: Digest,
    /// The consistency proof from the first `step` digests to the whole trajectory.
    pub prefix_proof: Vec<Digest>,
}

impl TrajectoryOpening {
    /// Checks the opening against a trajectory of `len` digests with root `root`: both digests
    /// at their places, and the prefix root that of the first `step` digests of the same tree.
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
        )?;
        verify_consistency(self.step, &self.prefix_root, len, root, &self.prefix_proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trajectory(n: u8) -> Trajectory {
        let mut t = Trajectory::new([0; 32]);
        for i in 1..=n {
            t.push([i; 32]);
        }
        t
    }

    #[test]
    fn prefix_roots_are_the_roots_of_the_prefixes() {
        let t = trajectory(20);
        for size in 1..=t.len() {
            let prefix = Trajectory::from_digests(t.digests()[..size as usize].to_vec()).unwrap();
            assert_eq!(t.prefix_root(size).unwrap(), prefix.root(), "size {size}");
        }
        for size in [0, t.len() + 1] {
            let r = t.prefix_root(size);
            assert!(matches!(r, Err(Error::IndexOutOfRange { .. })), "{r:?}");
        }
    }

    #[test]
    fn openings_verify_and_bind_their_prefix() {
        let t = trajectory(13);
        for step in 1..t.len() {
            let o = t.open(step).unwrap();
            o.verify(&t.root(), t.len()).unwrap();
            let mut forged = o.clone();
            forged.prefix_root[0] ^= 1;
            assert!(matches!(
                forged.verify(&t.root(), t.len()),
                Err(Error::ConsistencyMismatch { .. })
            ));
        }
        // The root of the same prefix passes; that of another 13 digests does not.
        let mut o = t.open(13).unwrap();
        o.prefix_root = trajectory(12).root();
        o.verify(&t.root(), t.len()).unwrap();
        let mut other = trajectory(11);
        other.push([99; 32]);
        o.prefix_root = other.root();
        assert!(matches!(
            o.verify(&t.root(), t.len()),
            Err(Error::ConsistencyMismatch { .. })
        ));
    }

    #[test]
    fn the_encoding_round_trips_and_checks_its_length() {
        let t = trajectory(9);
        let bytes = t.to_bytes();
        assert_eq!(bytes.len() as u64, Trajectory::encoded_size(t.len()));
        let back = Trajectory::from_bytes(&bytes, t.len()).unwrap();
        assert_eq!(back.root(), t.root());
        assert!(matches!(
            Trajectory::from_bytes(&bytes, 9),
            Err(Error::InvalidField { .. })
        ));
        assert!(matches!(
            Trajectory::from_bytes(&bytes[..bytes.len() - 1], t.len()),
            Err(Error::Truncated { .. })
        ));
    }
}
