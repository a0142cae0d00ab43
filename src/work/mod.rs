//! The work function chains embed: [`mine`] trains until a step's ticket beats the target and
//! returns a [`BlockProof`]; [`verify`] checks one cheaply and returns a [`Verdict`];
//! [`assess`] scores an accepted block's training (apart from validity), [`settle`] on records
//! its miner could not choose, for [`reward`] (a reference rule paying by quality) and
//! [`break_tie`] (fork choice by the better model);
//! [`audit_segment`] replays one segment chosen by the node's own randomness and [`audit`] the
//! whole block, each returning a [`FraudProof`] for the first wrong step, which
//! [`verify_fraud_proof`] checks with one re-execution against the block identity the chain
//! accepted.
//!
//! All are generic over the [`ProofOfLearning`] model; the
//! GAN is the first. Binding: step `i`'s seed derives from the anchor
//! `H("pouw/anchor", params digest, header hash, miner id)` and the root `R_i` of the committed
//! trajectory so far (`d_0 .. d_{i-1}`), so a trajectory belongs to one header, one miner and one
//! parameter set, and changing any committed digest changes the seed of every later step, the
//! winning one included: a new winning step (on average the target's expected steps) per change.
//! The opened steps are chosen by Fiat-Shamir from the final commitment (the root of
//! `d_0 .. d_n`) and the header, and the capacity challenge's epoch is the root's first 8 bytes:
//! neither is known before the winning step, and neither can be re-drawn without a new one.

mod assess;
mod audit;
mod difficulty;
mod fraud;
mod kept;
mod mine;
mod outcome;
mod params;
mod proof;
mod protocol;
mod record_free;
mod reward;
mod settle;
mod verify;

pub use assess::{assess, AssessInput, Assessment};
pub use audit::{
    audit, audit_segment, random_segment, segment_count, AuditInput, AuditOutcome, AuditProgress,
};
pub use difficulty::{ticket, ticket_without_seed, Target, Work, MAX_RETARGET_FACTOR};
pub use fraud::{verify_fraud_proof, FraudCheckInput, FraudProof};
pub use mine::{mine, MineInput, MineOptions, MineOutcome, MineProgress, MinedBlock};
pub use outcome::{judge, Judgement, Rejection, VerifyError};
pub use params::{ConsensusParams, MAX_OPENED_STEPS, MAX_PARAMS_BYTES};
pub use proof::{segment_starts, BlockProof, ProofLimits};
pub use protocol::ProtocolVersion;
pub use record_free::RecordFreeProof;
pub use reward::{prefer, reward, Contender, QualityPoints, RewardRule, PPM};
pub use settle::{break_tie, settle, TieBreak};
pub use verify::{
    verify, verify_proof, verify_record_free, verify_record_free_with, verify_with, Verdict,
    VerifyInput, VerifyPhase, VerifyProgress,
};

use crate::error::{Error, Result};
use crate::hash::{tag, Digest, TaggedHasher, Xof};
use crate::ident::{cid_of, Cid};
use crate::learning::{checkpoint_digest, DeviceChoice, ProofOfLearning, Schedule, Trajectory};

/// Where a block starts: the previous block's winning checkpoint (or the chain's genesis
/// checkpoint). The chain keeps it from the previous [`Verdict`] (`Verdict::next`); a verifier
/// takes the digest and the step counter from here, never from the proof.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Start {
    /// Where the checkpoint can be fetched.
    pub cid: Cid,
    /// Its digest `d_0`.
    pub digest: Digest,
    /// Its step counter (steps trained since the chain's genesis checkpoint).
    pub steps: u64,
}

impl Start {
    /// The start at the checkpoint `bytes` (the genesis, typically); its counter is read on the
    /// CPU.
    pub fn of_checkpoint<P: ProofOfLearning>(spec: &P::Spec, bytes: &[u8]) -> Result<Start> {
        Ok(Start {
            cid: cid_of(bytes),
            digest: checkpoint_digest(bytes),
            steps: P::from_checkpoint(spec, bytes, DeviceChoice::Cpu)?.steps(),
        })
    }
}

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

/// One block per ticket (protocol 5 on): fails with [`Error::EarlierWinningTicket`] when a step
/// of `trajectory` from `min_steps` on, before its last, already has a ticket below `target`.
/// Versions 3 and 4 checked the winning ticket alone; nothing is checked for them.
pub(crate) fn check_first_ticket(
    version: ProtocolVersion,
    trajectory: &Trajectory,
    schedule: &Schedule,
    header_hash: &Digest,
    target: &Target,
    min_steps: u64,
) -> Result<()> {
    if !version.first_ticket_wins() {
        return Ok(());
    }
    let n = trajectory.steps();
    for i in min_steps.max(1)..n {
        let seed = schedule.seed(&trajectory.prefix_root(i)?, i);
        let digest = trajectory.digest(i).ok_or(Error::IndexOutOfRange {
            index: i,
            size: trajectory.len(),
        })?;
        if target.is_met_by(&version.ticket(header_hash, &seed, digest)) {
            return Err(Error::EarlierWinningTicket {
                step: i,
                claimed: n,
            });
        }
    }
    Ok(())
}

/// The capacity epoch of a block: the first 8 bytes of its trajectory root.
pub fn capacity_epoch(trajectory_root: &Digest) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&trajectory_root[..8]);
    u64::from_le_bytes(first)
}
