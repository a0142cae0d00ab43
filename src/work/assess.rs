//! Scoring a block's training: what a chain may reward, apart from whether the block is valid.
//!
//! [`verify`](super::verify) decides validity and never scores; [`assess`] scores a block the
//! chain accepted, so a node that does not reward quality never pays for it. The scores are
//! deterministic (exact arithmetic, samples drawn from the trajectory root), so every node
//! computes the same ones.

use super::proof::BlockProof;
use super::reward::QualityPoints;
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

    /// Both scores as integer points (start, end), for [`reward`](super::reward).
    pub fn points(&self) -> Result<(QualityPoints, QualityPoints)> {
        Ok((
            QualityPoints::from_score(self.start_quality)?,
            QualityPoints::from_score(self.end_quality)?,
        ))
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
    let reference = reference_records(input.params.spec.record_size(), [proof])?;
    let (end_cid, end_digest) = winning_checkpoint(proof)?;
    let seed = &proof.trajectory_root;
    Ok(Assessment {
        start_quality: score::<P>(
            input,
            &input.start.cid,
            &input.start.digest,
            0,
            seed,
            &reference,
        )?,
        end_quality: score::<P>(input, &end_cid, &end_digest, proof.steps, seed, &reference)?,
    })
}

/// The CID and digest of a proof's winning checkpoint (the end of its last opening).
pub(crate) fn winning_checkpoint(proof: &BlockProof) -> Result<(Cid, Digest)> {
    let winning = proof.openings.last().ok_or(Error::InvalidField {
        what: "opened steps",
        detail: "no winning step".into(),
    })?;
    let end_cid = winning.end.ok_or(Error::InvalidField {
        what: "winning step",
        detail: "no end checkpoint".into(),
    })?;
    Ok((end_cid, winning.trajectory.next))
}

/// The capacity records of `proofs` together: ascending by index, each (index, record) once.
pub(crate) fn reference_records<'a>(
    record_size: usize,
    proofs: impl IntoIterator<Item = &'a BlockProof>,
) -> Result<Batch> {
    let mut pairs: Vec<(u64, &[u8])> = proofs
        .into_iter()
        .flat_map(|p| {
            p.capacity
                .indices
                .iter()
                .copied()
                .zip(p.capacity.records.iter().map(Vec::as_slice))
        })
        .collect();
    if let Some((_, bad)) = pairs.iter().find(|(_, r)| r.len() != record_size) {
        return Err(Error::RecordSize {
            found: bad.len() as u64,
            expected: record_size as u64,
        });
    }
    pairs.sort_unstable();
    pairs.dedup();
    let indices = pairs.iter().map(|(i, _)| *i).collect();
    let records = pairs.iter().flat_map(|(_, r)| r.iter().copied()).collect();
    Batch::from_records(indices, records, record_size)
}

/// The quality score of the checkpoint `cid` (checked against `digest`; `step` names it in the
/// error) against `reference`, samples drawn from `seed`.
pub(crate) fn score<P: ProofOfLearning>(
    input: &AssessInput<'_, P::Spec>,
    cid: &Cid,
    digest: &Digest,
    step: u64,
    seed: &Digest,
    reference: &Batch,
) -> Result<f64> {
    let spec = &input.params.spec;
    let bytes = StoreAnswers(input.store).get(cid, spec.checkpoint_size())?;
    if checkpoint_digest(&bytes) != *digest {
        return Err(Error::CheckpointDigest { step });
    }
    P::from_checkpoint(spec, &bytes, input.device)?.quality(seed, reference)
}
