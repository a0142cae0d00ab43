//! Reward by training quality and fork choice by the better model: the reference reward rule
//! (integer arithmetic), a block's scores settled on later blocks' records, and the tie-break
//! between two blocks at one height.

use super::chain::pouw_start;
use super::verify::{decode_either, pouw_assessment};
use crate::boundary::{array, digest, guard, handle, out_ptr, slice};
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::store::pouw_store;
use pouw::learning::gan::GanTrainer;
use pouw::work::{prefer, reward, AssessInput, Contender, QualityPoints, RewardRule};
use std::cmp::Ordering;

/// The reference reward rule's parameters ([`pouw_reward`]): consensus parameters of a chain
/// that adopts it.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_reward_rule {
    /// The largest share of the subsidy added or withheld, in millionths (at most 1 000 000).
    pub max_adjustment_ppm: u32,
    /// The improvement, in quality points, that earns the whole adjustment (at least 1).
    pub full_improvement: u64,
}

/// Two blocks at one height, scored on the records both drew ([`pouw_break_tie`]).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_tie_break {
    /// The first block's winning checkpoint, in quality points (lower is better).
    pub a_points: u64,
    /// The second block's, in quality points.
    pub b_points: u64,
    /// The first block's identity.
    pub a_block_id: [u8; 32],
    /// The second block's identity.
    pub b_block_id: [u8; 32],
    /// Whether a chain holding the first switches to the second.
    pub prefers_b: bool,
}

/// Writes the quality points of `score` (a quality score from [`pouw_assess`] or
/// [`pouw_settle`]: the score times 2^20, rounded) to `*out`: what consensus arithmetic uses.
/// `POUW_RESULT_INVALID_FIELD` for a score that is not finite, negative or above 2^43.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_quality_points(score: f64, out: *mut u64) -> PouwResult {
    guard(|| {
        out_ptr(out)?;
        out.write(QualityPoints::from_score(score)?.0);
        Ok(())
    })
}

/// Writes the reward of a block to `*out`: `subsidy` scaled by `rule`'s adjustment for a model
/// taken from `start_points` to `end_points` (settled scores in points, [`pouw_settle`],
/// [`pouw_quality_points`]), rounded down; at most twice the subsidy. Integer arithmetic only:
/// the same on every node. `POUW_RESULT_INVALID_PARAMETERS` for a rule out of bounds or a
/// reward above 2^64. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_reward(
    subsidy: u64,
    start_points: u64,
    end_points: u64,
    rule: *const pouw_reward_rule,
    out: *mut u64,
) -> PouwResult {
    guard(|| {
        let rule = handle(rule)?;
        out_ptr(out)?;
        let rule = RewardRule {
            max_adjustment_ppm: rule.max_adjustment_ppm,
            full_improvement: QualityPoints(rule.full_improvement),
        };
        out.write(reward(
            subsidy,
            QualityPoints(start_points),
            QualityPoints(end_points),
            &rule,
        )?);
        Ok(())
    })
}

/// Writes which of two scored contenders a chain keeps to `*out`: -1 the first (`a_points`,
/// `a_block_id`), 1 the second, 0 when both are the same block. Fewer points win; equal points
/// go to the smaller block identity (32 bytes each). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_prefer(
    a_points: u64,
    a_block_id: *const u8,
    b_points: u64,
    b_block_id: *const u8,
    out: *mut i32,
) -> PouwResult {
    guard(|| {
        let a = Contender {
            points: QualityPoints(a_points),
            block_id: digest(a_block_id)?,
        };
        let b = Contender {
            points: QualityPoints(b_points),
            block_id: digest(b_block_id)?,
        };
        out_ptr(out)?;
        out.write(match prefer(&a, &b) {
            Ordering::Less => -1,
            Ordering::Equal => 0,
            Ordering::Greater => 1,
        });
        Ok(())
    })
}

/// Most later blocks a settlement reads.
pub const POUW_MAX_SETTLE_BLOCKS: usize = 64;

/// Settles a block the chain accepted (`proof`, `proof_len` bytes) once `later_count` blocks
/// (1 to [`POUW_MAX_SETTLE_BLOCKS`]) are accepted on top of it (`later[i]`, `later_lens[i]`
/// bytes, in chain order): scores its start `start` and its winning checkpoint on the later
/// blocks' capacity records, which its miner could not choose, and writes them to
/// `*out_assessment` (convert with [`pouw_quality_points`] for [`pouw_reward`]). Proofs are
/// self-contained when `dataset` is NULL, else record-free against `dataset`. Every error is
/// this node's (retry or fetch elsewhere). Costs two checkpoint fetches and two quality
/// evaluations. Thread-safe.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pouw_settle(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    start: *const pouw_start,
    proof: *const u8,
    proof_len: usize,
    later: *const *const u8,
    later_lens: *const usize,
    later_count: usize,
    out_assessment: *mut pouw_assessment,
) -> PouwResult {
    guard(|| {
        let handle_params = handle(params)?;
        let params = &handle_params.inner;
        let start = handle(start)?.as_start()?;
        if later_count == 0 || later_count > POUW_MAX_SETTLE_BLOCKS {
            return Err(PouwResult::InvalidArgument);
        }
        let (ptrs, lens) = (array(later, later_count)?, array(later_lens, later_count)?);
        out_ptr(out_assessment)?;
        let block = decode_either(params, dataset, slice(proof, proof_len)?)?;
        let later = ptrs
            .iter()
            .zip(lens)
            .map(|(p, n)| decode_either(params, dataset, slice(*p, *n)?))
            .collect::<Result<Vec<_>, _>>()?;
        let input = AssessInput {
            start: &start,
            params,
            store: &*handle(store)?.inner,
            device: handle_params.device,
        };
        let a = pouw::work::settle::<GanTrainer>(&input, &block, &later)?;
        out_assessment.write(pouw_assessment {
            start_quality: a.start_quality,
            end_quality: a.end_quality,
        });
        Ok(())
    })
}

/// Breaks the tie between two valid blocks on the same `start` (`a`, `b`; forms as in
/// [`pouw_settle`]): scores both winning checkpoints on the capacity records of both, samples
/// from both trajectory roots, so the result does not depend on the order given, and writes the
/// scores and the preference to `*out` (Substrate's `break_tie`: switch when `prefers_b`).
/// Every error is this node's. Costs two checkpoint fetches and two quality evaluations.
/// Thread-safe.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pouw_break_tie(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    start: *const pouw_start,
    a: *const u8,
    a_len: usize,
    b: *const u8,
    b_len: usize,
    out: *mut pouw_tie_break,
) -> PouwResult {
    guard(|| {
        let handle_params = handle(params)?;
        let params = &handle_params.inner;
        let start = handle(start)?.as_start()?;
        out_ptr(out)?;
        let a = decode_either(params, dataset, slice(a, a_len)?)?;
        let b = decode_either(params, dataset, slice(b, b_len)?)?;
        let input = AssessInput {
            start: &start,
            params,
            store: &*handle(store)?.inner,
            device: handle_params.device,
        };
        let tie = pouw::work::break_tie::<GanTrainer>(&input, &a, &b)?;
        out.write(pouw_tie_break {
            a_points: tie.a.points.0,
            b_points: tie.b.points.0,
            a_block_id: tie.a.block_id,
            b_block_id: tie.b.block_id,
            prefers_b: tie.prefers_b(),
        });
        Ok(())
    })
}
