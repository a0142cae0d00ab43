//! Audits of a block and the fraud proofs they give.

use super::cancel::pouw_cancel_token;
use crate::boundary::{digest, from_block_proof, guard, handle, out_ptr, slice};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::store::pouw_store;
use pouw::learning::gan::GanTrainer;
use pouw::work::{
    AuditInput, AuditOutcome, AuditProgress, BlockProof, FraudCheckInput, ProofLimits, Target,
};
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;

/// Called by [`pouw_audit`] after every replayed step, on the calling thread, with the steps
/// replayed, the block's steps and the caller's `user_data`. It must return normally.
#[allow(non_camel_case_types)]
pub type pouw_audit_callback =
    Option<unsafe extern "C" fn(step: u64, steps: u64, user_data: *mut c_void)>;

/// Asks [`pouw_audit`] to replay a segment drawn from the library's own randomness.
pub const POUW_SEGMENT_RANDOM: u64 = u64::MAX - 1;
/// Asks [`pouw_audit`] to replay the whole block.
pub const POUW_SEGMENT_ALL: u64 = u64::MAX;

/// Audits a block: replays steps of `proof` (`proof_len` bytes) from its start checkpoint
/// `start` (`start_len` bytes) on `dataset`, with the trajectory companion and the segment
/// starts fetched from `store`, and checks that no ticket before the winning one beats `target`
/// (32 bytes). `segment` chooses what is replayed: [`POUW_SEGMENT_ALL`] every step,
/// [`POUW_SEGMENT_RANDOM`] one segment drawn from this process's own randomness (what every node
/// should do for every block it accepts: README "Security argument"), or a segment index below
/// [`pouw_segment_count`]; `*out_segment` (may be NULL) receives the segment replayed
/// (`POUW_SEGMENT_ALL` for the whole block).
///
/// Returns `POUW_RESULT_OK` when the replay ran to the end, writing to `*out_fraud_proof` a new
/// buffer with the fraud proof of the first wrong step (free it with [`pouw_buffer_free`]), or
/// NULL when every step agrees. The checkpoint the fraud proof names is published to `store`.
/// Returns `POUW_RESULT_CANCELLED` when `cancel` is set (checked before every step), and an
/// error code for a proof or companion that cannot be audited.
///
/// `progress` (may be NULL) is called with `user_data` after every step. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_audit(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const u8,
    start_len: usize,
    target: *const u8,
    proof: *const u8,
    proof_len: usize,
    segment: u64,
    progress: pouw_audit_callback,
    user_data: *mut c_void,
    cancel: *const pouw_cancel_token,
    out_segment: *mut u64,
    out_fraud_proof: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let device = handle(params)?.device;
        let params = &handle(params)?.inner;
        let dataset = &handle(dataset)?.inner;
        let store = &*handle(store)?.inner;
        let header_hash = digest(header_hash)?;
        let miner_id = slice(miner_id, miner_id_len)?;
        let start = slice(start, start_len)?;
        let target = Target(digest(target)?);
        let proof = slice(proof, proof_len)?;
        out_ptr(out_fraud_proof)?;
        let never = AtomicBool::new(false);
        let cancel = cancel.as_ref().map_or(&never, |t| &t.flag);
        let input = AuditInput {
            header_hash,
            miner_id,
            start,
            params,
            target,
            dataset,
            store,
            device,
        };
        let mut report = |p: &AuditProgress| {
            if let Some(callback) = progress {
                callback(p.step, p.steps, user_data);
            }
        };
        let (outcome, replayed) = if segment == POUW_SEGMENT_ALL {
            let outcome = pouw::work::audit::<GanTrainer>(&input, proof, &mut report, cancel)?;
            (outcome, POUW_SEGMENT_ALL)
        } else {
            let chosen = if segment == POUW_SEGMENT_RANDOM {
                let steps = BlockProof::from_bytes(proof, &ProofLimits::of(params))?.steps;
                pouw::work::random_segment(pouw::work::segment_count(params, steps)?)
            } else {
                segment
            };
            let outcome = pouw::work::audit_segment::<GanTrainer>(
                &input,
                proof,
                chosen,
                &mut report,
                cancel,
            )?;
            (outcome, chosen)
        };
        if !out_segment.is_null() {
            out_segment.write(replayed);
        }
        match outcome {
            AuditOutcome::Agrees { .. } => {
                out_fraud_proof.write(std::ptr::null_mut());
                Ok(())
            }
            AuditOutcome::Fraud(fraud) => {
                pouw_buffer::write(out_fraud_proof, fraud.to_bytes());
                Ok(())
            }
            AuditOutcome::Cancelled { .. } => Err(PouwResult::Cancelled),
        }
    })
}

/// Writes to `*out_count` how many segments the block proof `proof` (`proof_len` bytes, decoded
/// under `params`' limits) has: what a segment index given to [`pouw_audit`] stays below.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_segment_count(
    params: *const pouw_params,
    proof: *const u8,
    proof_len: usize,
    out_count: *mut u64,
) -> PouwResult {
    from_block_proof(params, proof, proof_len, out_count, |params, proof| {
        Ok(pouw::work::segment_count(params, proof.steps)?)
    })
}

/// Checks a fraud proof (`fraud`, `fraud_len` bytes; untrusted) against the block proof
/// `block_proof` (`block_proof_len` bytes) that the chain accepted under the identity `block_id`
/// (32 bytes, [`pouw_block_proof_id`]) and whose start checkpoint has step counter
/// `start_steps`, with one step re-executed from the checkpoint it names in `store`.
///
/// Returns `POUW_RESULT_OK` and writes the proven-wrong step to `*out_step` when the fraud is
/// proven; `POUW_RESULT_NOT_FRAUD` when the step re-executes to the committed digest;
/// `POUW_RESULT_BINDING` when the block bytes or the fraud proof are not of `block_id`; another
/// code for a malformed fraud proof. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_fraud_proof_verify(
    params: *const pouw_params,
    store: *const pouw_store,
    block_id: *const u8,
    start_steps: u64,
    block_proof: *const u8,
    block_proof_len: usize,
    fraud: *const u8,
    fraud_len: usize,
    out_step: *mut u64,
) -> PouwResult {
    guard(|| {
        let device = handle(params)?.device;
        let params = &handle(params)?.inner;
        let store = &*handle(store)?.inner;
        let block_id = digest(block_id)?;
        let block = slice(block_proof, block_proof_len)?;
        let fraud = slice(fraud, fraud_len)?;
        out_ptr(out_step)?;
        let input = FraudCheckInput {
            params,
            block_id,
            start_steps,
            store,
            device,
        };
        let step = pouw::work::verify_fraud_proof::<GanTrainer>(&input, block, fraud)?;
        out_step.write(step);
        Ok(())
    })
}
