//! Quality measured on records the miner could not choose: what [`reward`](super::reward)
//! and fork choice use.
//!
//! [`assess`](super::assess) scores a block on its own capacity records, which its miner knew
//! (drawn from its trajectory root) before publishing it. [`settle`] scores it on the capacity
//! records of blocks mined on top of it, and [`break_tie`] scores two blocks at one height on
//! the records both drew, samples seeded by both trajectory roots: neither miner knew those
//! records when it decided to publish, and neither can re-draw them without another winning
//! step (a whole block's expected work).

use super::assess::{reference_records, score, winning_checkpoint, AssessInput, Assessment};
use super::proof::BlockProof;
use super::reward::{Contender, QualityPoints};
use crate::error::{Error, Result};
use crate::hash::{tag, TaggedHasher};
use crate::learning::{ProofOfLearning, TaskSpec};
use std::cmp::Ordering;

/// Scores a block's start (`input.start`) and winning checkpoints on the capacity records of
/// `later`, the blocks the chain accepted on top of it (one or more, in chain order), samples
/// drawn from their trajectory roots. Call it once `later` is as deep as the chain settles
/// rewards; every node computes the same scores.
///
/// Cost: two checkpoint fetches (checked against their digests) and two quality evaluations.
/// Errors: [`Error::InvalidParameters`] without a later block; otherwise this node's (a store
/// miss, a checkpoint that is not the committed one, the device).
pub fn settle<P: ProofOfLearning>(
    input: &AssessInput<'_, P::Spec>,
    block: &BlockProof,
    later: &[BlockProof],
) -> Result<Assessment> {
    if later.is_empty() {
        return Err(Error::InvalidParameters(
            "settling a block takes at least one later block".into(),
        ));
    }
    let reference = reference_records(input.params.spec.record_size(), later)?;
    let mut h = TaggedHasher::new(tag::SETTLE);
    h.update_u64(later.len() as u64);
    for p in later {
        h.update(&p.trajectory_root);
    }
    let seed = h.finish();
    let (end_cid, end_digest) = winning_checkpoint(block)?;
    Ok(Assessment {
        start_quality: score::<P>(
            input,
            &input.start.cid,
            &input.start.digest,
            0,
            &seed,
            &reference,
        )?,
        end_quality: score::<P>(input, &end_cid, &end_digest, block.steps, &seed, &reference)?,
    })
}

/// Two valid blocks on one start (`input.start`, the same parent): their winning checkpoints
/// scored on the capacity records of both together, samples drawn from both trajectory roots
/// in a fixed order, so the scores do not depend on which block came first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TieBreak {
    /// The first block as scored.
    pub a: Contender,
    /// The second block as scored.
    pub b: Contender,
}

impl TieBreak {
    /// Whether a chain holding `a` switches to `b` (Substrate's `break_tie`): `b` has the better
    /// model, or an equal one and the smaller block identity.
    pub fn prefers_b(&self) -> bool {
        super::reward::prefer(&self.a, &self.b) == Ordering::Greater
    }
}

/// Breaks a tie between two blocks the chain verified on the same start (see [`TieBreak`]).
/// Both must be valid (this checks nothing of validity). Cost: two checkpoint fetches and two
/// quality evaluations. Errors are this node's, as [`settle`]'s.
pub fn break_tie<P: ProofOfLearning>(
    input: &AssessInput<'_, P::Spec>,
    a: &BlockProof,
    b: &BlockProof,
) -> Result<TieBreak> {
    let reference = reference_records(input.params.spec.record_size(), [a, b])?;
    let (low, high) = if a.trajectory_root <= b.trajectory_root {
        (a, b)
    } else {
        (b, a)
    };
    let mut h = TaggedHasher::new(tag::TIE);
    h.update(&low.trajectory_root).update(&high.trajectory_root);
    let seed = h.finish();
    let contender = |p: &BlockProof| -> Result<Contender> {
        let (cid, digest) = winning_checkpoint(p)?;
        let quality = score::<P>(input, &cid, &digest, p.steps, &seed, &reference)?;
        Ok(Contender {
            points: QualityPoints::from_score(quality)?,
            block_id: p.id(),
        })
    };
    Ok(TieBreak {
        a: contender(a)?,
        b: contender(b)?,
    })
}
