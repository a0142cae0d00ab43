//! The work function chains embed: [`mine`] trains until a step's ticket beats the target and
//! returns a [`BlockProof`]; [`verify`] checks one cheaply and returns a [`Verdict`].
//!
//! Both are generic over the [`ProofOfLearning`](crate::learning::ProofOfLearning) model; the
//! GAN is the first. Binding: every step seed derives from the anchor
//! `H("pouw/anchor", params digest, header hash, miner id)` and the previous checkpoint digest,
//! so a trajectory belongs to one header, one miner and one parameter set. The opened steps are
//! chosen by Fiat-Shamir from the trajectory root and the header, after the whole trajectory is
//! committed. The capacity challenge uses the first 8 bytes of the trajectory root as its epoch,
//! so it too is only known once training is done.

mod difficulty;
mod mine;
mod params;
mod proof;
mod verify;

pub use difficulty::{ticket, Target, MAX_RETARGET_FACTOR};
pub use mine::{mine, MineInput, MineOptions, MineOutcome, MineProgress, MinedBlock};
pub use params::{ConsensusParams, MAX_OPENED_STEPS};
pub use proof::{BlockProof, ProofLimits};
pub use verify::{verify, Verdict, VerifyInput};

use crate::error::Result;
use crate::hash::{tag, Digest, TaggedHasher, Xof};

/// `H("pouw/anchor", params digest, header hash, len-prefixed miner id)`.
pub fn anchor(params_digest: &Digest, header_hash: &Digest, miner_id: &[u8]) -> Digest {
    let mut h = TaggedHasher::new(tag::ANCHOR);
    h.update(params_digest)
        .update(header_hash)
        .update_bytes(miner_id);
    h.finish()
}

/// The steps a proof of `steps` steps opens: up to `k` distinct steps of `1..steps` drawn from
/// `SHAKE256("pouw/openings", trajectory root, header hash)` (all of them when fewer), ascending,
/// then the winning step `steps`.
pub fn opened_steps(
    trajectory_root: &Digest,
    header_hash: &Digest,
    steps: u64,
    k: u32,
) -> Result<Vec<u64>> {
    let others = steps.saturating_sub(1);
    let mut chosen: Vec<u64> = if others <= u64::from(k) {
        (1..steps).collect()
    } else {
        let mut seed = trajectory_root.to_vec();
        seed.extend_from_slice(header_hash);
        let mut xof = Xof::new(tag::OPENINGS, &seed);
        let mut set = std::collections::BTreeSet::new();
        while set.len() < k as usize {
            set.insert(1 + xof.uniform_below(others));
        }
        set.into_iter().collect()
    };
    chosen.push(steps);
    Ok(chosen)
}

/// The capacity epoch of a block: the first 8 bytes of its trajectory root.
pub fn capacity_epoch(trajectory_root: &Digest) -> u64 {
    u64::from_le_bytes(trajectory_root[..8].try_into().expect("8 bytes"))
}
