//! Verifying a block (self-contained or record-free), scoring an accepted one, and the block
//! identity.

use super::cancel::pouw_cancel_token;
use super::chain::pouw_start;
use crate::boundary::{digest, from_block_proof, guard, handle, out_ptr, slice};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::store::pouw_store;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::work::{
    AssessInput, BlockProof, ConsensusParams, ProofLimits, RecordFreeProof, Target, VerifyInput,
    VerifyPhase, VerifyProgress,
};
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;

/// The facts of an accepted block, written by [`pouw_verify`].
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_verdict {
    /// Training steps in the block.
    pub steps: u64,
    /// Steps re-executed by the verifier (the opened ones, the winning step included).
    pub opened_count: u64,
    /// Merkle root of the dataset trained on.
    pub dataset_root: [u8; 32],
    /// The work the block represents (expected steps at its target), a 256-bit big-endian
    /// integer: sum a chain's with [`pouw_work_add`].
    pub work: [u8; 32],
    /// The next block's start: the winning checkpoint.
    pub next: pouw_start,
}

/// Verifies a block proof (`proof`, `proof_len` bytes; untrusted) against the chain's view:
/// `params`, the header `header_hash` (32 bytes), the miner `miner_id` (`miner_id_len` bytes),
/// the block's `start` (the previous verdict's `next`, or [`pouw_start_of_checkpoint`] of the
/// genesis) and `target` (32 bytes), fetching the opened checkpoints from `store`. Cheap checks
/// run first; then the winning step is re-executed, then the other opened steps.
///
/// Returns `POUW_RESULT_OK` and writes the verdict to `*out_verdict` when the block is valid,
/// else the rejection reason (a decoding code for malformed bytes, `POUW_RESULT_BINDING`,
/// `POUW_RESULT_TICKET_ABOVE_TARGET`, `POUW_RESULT_STEP_MISMATCH`, ...) with `*out_verdict`
/// untouched.
///
/// Thread-safe: verifications may run on many threads at once, alongside mining.
#[no_mangle]
pub unsafe extern "C" fn pouw_verify(
    params: *const pouw_params,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const pouw_start,
    target: *const u8,
    proof: *const u8,
    proof_len: usize,
    out_verdict: *mut pouw_verdict,
) -> PouwResult {
    pouw_verify_with_progress(
        params,
        store,
        header_hash,
        miner_id,
        miner_id_len,
        start,
        target,
        proof,
        proof_len,
        None,
        std::ptr::null_mut(),
        std::ptr::null(),
        out_verdict,
    )
}

/// What a verification is doing, as [`pouw_verify_with_progress`] reports it: decoding and the
/// cheap checks.
pub const POUW_VERIFY_PHASE_CHECKS: u32 = 0;
/// Fetching an opened step's start checkpoint and re-executing the step.
pub const POUW_VERIFY_PHASE_STEP: u32 = 1;
/// Fetching and checking the trajectory companion.
pub const POUW_VERIFY_PHASE_COMPANION: u32 = 2;
/// Fetching the segment-start checkpoints and checking their digests.
pub const POUW_VERIFY_PHASE_SEGMENTS: u32 = 4;

/// Called by [`pouw_verify_with_progress`] as verification moves on, on the calling thread: the
/// phase (`POUW_VERIFY_PHASE_*`), the step being re-executed (phase STEP) or whose segment start is
/// fetched (phase SEGMENTS), else 0, opened steps
/// re-executed so far and in all, bytes fetched from the store so far, and the caller's
/// `user_data`. It must return normally.
#[allow(non_camel_case_types)]
pub type pouw_verify_callback = Option<
    unsafe extern "C" fn(
        phase: u32,
        step: u64,
        done: u32,
        total: u32,
        fetched_bytes: u64,
        user_data: *mut c_void,
    ),
>;

/// [`pouw_verify`], reporting progress to `progress` (may be NULL; called with `user_data`) and
/// checking `cancel` (may be NULL) before each fetch and step: `POUW_RESULT_CANCELLED` once it is
/// set, `*out_verdict` untouched. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_verify_with_progress(
    params: *const pouw_params,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const pouw_start,
    target: *const u8,
    proof: *const u8,
    proof_len: usize,
    progress: pouw_verify_callback,
    user_data: *mut c_void,
    cancel: *const pouw_cancel_token,
    out_verdict: *mut pouw_verdict,
) -> PouwResult {
    guard(|| {
        let view = ChainView::read(
            params,
            store,
            header_hash,
            miner_id,
            miner_id_len,
            start,
            target,
        )?;
        let proof = slice(proof, proof_len)?;
        out_ptr(out_verdict)?;
        let never = AtomicBool::new(false);
        let cancel = cancel.as_ref().map_or(&never, |t| &t.flag);
        let mut report = |p: &VerifyProgress| {
            if let Some(callback) = progress {
                let phase = match p.phase {
                    VerifyPhase::Checks => POUW_VERIFY_PHASE_CHECKS,
                    VerifyPhase::Step => POUW_VERIFY_PHASE_STEP,
                    VerifyPhase::Companion => POUW_VERIFY_PHASE_COMPANION,
                    VerifyPhase::Segments => POUW_VERIFY_PHASE_SEGMENTS,
                };
                callback(phase, p.step, p.done, p.total, p.fetched_bytes, user_data);
            }
        };
        let v = pouw::work::verify_with::<GanTrainer>(&view.input(), proof, &mut report, cancel)?;
        write_verdict(out_verdict, &v)
    })
}

/// Verifies a block proof in its record-free form (`proof`, `proof_len` bytes; untrusted; see
/// [`pouw_block_proof_record_free`]) as [`pouw_verify`] does, reading the batches and the
/// challenged records from `dataset` (the one `params` commit to; another gives
/// `POUW_RESULT_DATASET_MISMATCH`). The verdict is the self-contained form's. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_verify_record_free(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const pouw_start,
    target: *const u8,
    proof: *const u8,
    proof_len: usize,
    out_verdict: *mut pouw_verdict,
) -> PouwResult {
    guard(|| {
        let view = ChainView::read(
            params,
            store,
            header_hash,
            miner_id,
            miner_id_len,
            start,
            target,
        )?;
        let dataset = &handle(dataset)?.inner;
        let proof = slice(proof, proof_len)?;
        out_ptr(out_verdict)?;
        let v = pouw::work::verify_record_free::<GanTrainer>(&view.input(), dataset, proof)?;
        write_verdict(out_verdict, &v)
    })
}

/// The quality scores of a block's training ([`pouw_assess`]; lower is better).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_assessment {
    /// Quality score of the start checkpoint.
    pub start_quality: f64,
    /// Quality score of the winning checkpoint.
    pub end_quality: f64,
}

/// Scores the training of a block that [`pouw_verify`] (or [`pouw_verify_record_free`])
/// accepted, for chains that reward quality: fetches the start checkpoint `start` and the
/// winning one from `store` (each checked against its digest) and scores both against the
/// block's capacity records. `proof` is the self-contained form when `dataset` is NULL, else the
/// record-free form read against `dataset`. It decides nothing of validity; every error is this
/// node's (retry or fetch elsewhere). Costs two checkpoint fetches and two quality evaluations,
/// no re-execution. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_assess(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    start: *const pouw_start,
    proof: *const u8,
    proof_len: usize,
    out_assessment: *mut pouw_assessment,
) -> PouwResult {
    guard(|| {
        let handle_params = handle(params)?;
        let params = &handle_params.inner;
        let start = handle(start)?.as_start()?;
        let input = AssessInput {
            start: &start,
            params,
            store: &*handle(store)?.inner,
            device: handle_params.device,
        };
        let bytes = slice(proof, proof_len)?;
        out_ptr(out_assessment)?;
        let proof = decode_either(params, dataset, bytes)?;
        let a = pouw::work::assess::<GanTrainer>(&input, &proof)?;
        out_assessment.write(pouw_assessment {
            start_quality: a.start_quality,
            end_quality: a.end_quality,
        });
        Ok(())
    })
}

/// Writes the record-free form of the self-contained block proof `proof` (`proof_len` bytes,
/// decoded under `params`' limits) to a new buffer `*out` (free it with [`pouw_buffer_free`]): the
/// openings without their batches, one keyed digest per challenged record. For verifiers that
/// hold the dataset ([`pouw_verify_record_free`]); a fraction of the size. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_block_proof_record_free(
    params: *const pouw_params,
    proof: *const u8,
    proof_len: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    from_block_proof(params, proof, proof_len, out, |_, proof| {
        Ok(pouw_buffer::new(proof.record_free().to_bytes()))
    })
}

/// The chain's view a verification reads from its C arguments.
struct ChainView<'a> {
    params: &'a pouw::work::ConsensusParams<pouw::learning::gan::GanSpec>,
    device: pouw::learning::DeviceChoice,
    store: &'a dyn pouw::learning::BlobStore,
    header_hash: [u8; 32],
    miner_id: &'a [u8],
    start: pouw::work::Start,
    target: Target,
}

impl<'a> ChainView<'a> {
    #[allow(clippy::too_many_arguments)]
    unsafe fn read(
        params: *const pouw_params,
        store: *const pouw_store,
        header_hash: *const u8,
        miner_id: *const u8,
        miner_id_len: usize,
        start: *const pouw_start,
        target: *const u8,
    ) -> Result<Self, PouwResult> {
        Ok(ChainView {
            params: &handle(params)?.inner,
            device: handle(params)?.device,
            store: &*handle(store)?.inner,
            header_hash: digest(header_hash)?,
            miner_id: slice(miner_id, miner_id_len)?,
            start: handle(start)?.as_start()?,
            target: Target(digest(target)?),
        })
    }

    fn input(&self) -> VerifyInput<'_, pouw::learning::gan::GanSpec> {
        VerifyInput {
            header_hash: self.header_hash,
            miner_id: self.miner_id,
            start: &self.start,
            params: self.params,
            target: self.target,
            store: self.store,
            device: self.device,
        }
    }
}

unsafe fn write_verdict(out: *mut pouw_verdict, v: &pouw::work::Verdict) -> Result<(), PouwResult> {
    out.write(pouw_verdict {
        steps: v.steps,
        opened_count: v.opened.len() as u64,
        dataset_root: v.dataset_root,
        work: v.work.0,
        next: pouw_start::from_start(&v.next)?,
    });
    Ok(())
}

/// Writes the identity of the block proof `proof` (`proof_len` bytes, self-contained, decoded
/// under `params`' limits) to `out_id` (32 bytes): what a chain records for an accepted block and
/// gives [`pouw_fraud_proof_verify`]. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_block_proof_id(
    params: *const pouw_params,
    proof: *const u8,
    proof_len: usize,
    out_id: *mut u8,
) -> PouwResult {
    from_block_proof(
        params,
        proof,
        proof_len,
        out_id.cast::<[u8; 32]>(),
        |_, proof| Ok(proof.id()),
    )
}

/// A proof in the self-contained form when `dataset` is NULL, else the record-free form read
/// against `dataset` (both decoded under `params`' limits).
///
/// # Safety
/// A non-NULL `dataset` must be a live handle.
pub(super) unsafe fn decode_either(
    params: &ConsensusParams<GanSpec>,
    dataset: *const pouw_dataset,
    bytes: &[u8],
) -> Result<BlockProof, PouwResult> {
    let limits = ProofLimits::of(params);
    Ok(if dataset.is_null() {
        BlockProof::from_bytes(bytes, &limits)?
    } else {
        RecordFreeProof::from_bytes(bytes, &limits)?.expand(params, &handle(dataset)?.inner)?
    })
}
