//! Scoring a block's training: what a chain may reward, apart from whether the block is valid.
//!
//! [`verify`](super::verify) decides validity and never scores; [`assess`] scores a block the
//! chain accepted, so a node that does not reward quality never pays for it. The scores are
//! deterministic (exact arithmetic, samples drawn from the trajectory root), so every node
//! computes the same ones.

use super::proof::BlockProof;
use super::{ConsensusParams, Start};
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::Cid;
use crate::learning::{
    checkpoint_digest, Batch, BlobStore, DeviceChoice, ProofOfLearning, TaskSpec,
};
use crate::work::outcome::StoreAnswers;

/// What a block is scored against: the chain's view, as [`verify`](super::verify) had it.
pub struct AssessInput<'a, S: TaskSpec> {
    /// The block's start (the previous block's winning checkpoint).
    pub start: &'a Start,
    /// The consensus parameters.
    pub params: &'a ConsensusParams<S>,
    /// Where checkpoints are fetched from (untrusted: checked against their digests).
    pub store: &'a dyn BlobStore,
    /// Where this node scores (a local choice: every device gives the same scores).
    pub device: DeviceChoice,
}

/// The quality scores of a block's start and winning checkpoints (lower is better).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Assessment {
    /// Quality score of the start checkpoint.
    pub start_quality: f64,
    /// Quality score of the winning checkpoint.
    pub end_quality: f64,
}

impl Assessment {
    /// How much the block improved the model (start score minus winning score; positive is
    /// better).
    pub fn improvement(&self) -> f64 {
        self.start_quality - self.end_quality
    }
}

/// Scores the start checkpoint (`input.start`) and the winning checkpoint of `proof` (the CID
/// and digest of its winning opening) against the block's capacity records, samples drawn from
/// the trajectory root.
///
/// Cost: two checkpoint fetches (each checked against its digest), two model loads and two
/// quality evaluations on `input.device`; nothing is re-executed. Call it after
/// [`verify`](super::verify) accepted the block: it checks nothing of the block's validity.
/// Every error is this node's (a store miss, a checkpoint that is not the committed one, the
/// device): retry or fetch elsewhere.
pub fn assess<P: ProofOfLearning>(
    input: &AssessInput<'_, P::Spec>,
    proof: &BlockProof,
) -> Result<Assessment> {
    let spec = &input.params.spec;
    let store = StoreAnswers(input.store);
    let reference = Batch::from_records(
        proof.capacity.indices.clone(),
        proof.capacity.records.concat(),
        spec.record_size(),
    )?;
    let winning = proof.openings.last().ok_or(Error::InvalidField {
        what: "opened steps",
        detail: "no winning step".into(),
    })?;
    let end_cid = winning.end.ok_or(Error::InvalidField {
        what: "winning step",
        detail: "no end checkpoint".into(),
    })?;
    let score = |cid: &Cid, digest: &Digest, step: u64| -> Result<f64> {
        let bytes = store.get(cid, spec.checkpoint_size())?;
        if checkpoint_digest(&bytes) != *digest {
            return Err(Error::CheckpointDigest { step });
        }
        P::from_checkpoint(spec, &bytes, input.device)?.quality(&proof.trajectory_root, &reference)
    };
    Ok(Assessment {
        start_quality: score(&input.start.cid, &input.start.digest, 0)?,
        end_quality: score(&end_cid, &winning.trajectory.next, proof.steps)?,
    })
}
