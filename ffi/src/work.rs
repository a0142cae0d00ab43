//! The work function: genesis checkpoints, mining with progress and cancellation, and
//! verification of block proofs into a verdict.

use crate::boundary::{digest, free_handle, guard, handle, out_ptr, slice, write_handle};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::store::pouw_store;
use pouw::ident::cid_from_bytes;
use pouw::learning::gan::GanTrainer;
use pouw::learning::ProofOfLearning;
use pouw::work::{MineInput, MineOptions, MineOutcome, MineProgress, Target, VerifyInput};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

/// The largest binary CID the library produces or accepts, in bytes.
pub const POUW_MAX_CID_LEN: usize = 64;

/// A cancellation flag for [`pouw_mine`]: set it from any thread with
/// [`pouw_cancel_token_cancel`]; mining checks it before every step.
#[allow(non_camel_case_types)]
pub struct pouw_cancel_token {
    flag: AtomicBool,
}

/// Makes an unset cancellation token and writes it to `*out` (free it with
/// [`pouw_cancel_token_free`] once no call uses it). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_new(out: *mut *mut pouw_cancel_token) -> PouwResult {
    guard(|| {
        out_ptr(out)?;
        write_handle(
            out,
            pouw_cancel_token {
                flag: AtomicBool::new(false),
            },
        );
        Ok(())
    })
}

/// Sets the token: a [`pouw_mine`] using it returns `POUW_RESULT_CANCELLED` before its next
/// step. A token stays set. Thread-safe: meant to be called from another thread than the miner's.
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_cancel(token: *const pouw_cancel_token) -> PouwResult {
    guard(|| {
        handle(token)?.flag.store(true, Ordering::Relaxed);
        Ok(())
    })
}

/// Frees a token; NULL is a no-op. No call may still be using it (let [`pouw_mine`] return
/// first).
#[no_mangle]
pub unsafe extern "C" fn pouw_cancel_token_free(token: *mut pouw_cancel_token) {
    free_handle(token);
}

/// Called by [`pouw_mine`] after every training step, on the thread that called
/// [`pouw_mine`], with the number of steps done and the caller's `user_data`. It must return
/// normally (no `longjmp`, no exception).
#[allow(non_camel_case_types)]
pub type pouw_progress_callback = Option<unsafe extern "C" fn(step: u64, user_data: *mut c_void)>;

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
    /// Quality score of the start checkpoint (lower is better).
    pub start_quality: f64,
    /// Quality score of the winning checkpoint (lower is better).
    pub end_quality: f64,
    /// Expected steps per block at the target: the work the block represents.
    pub work: f64,
    /// Digest of the winning checkpoint.
    pub winning_digest: [u8; 32],
    /// Binary CID of the winning checkpoint (the next block's start); its first
    /// `winning_cid_len` bytes are meaningful.
    pub winning_cid: [u8; POUW_MAX_CID_LEN],
    /// Length of `winning_cid` in bytes.
    pub winning_cid_len: usize,
}

/// Writes the genesis checkpoint of `params` (every weight drawn from `seed`, 32 bytes) to a
/// new buffer `*out` (free it with [`pouw_buffer_free`]). A chain fixes the seed in its genesis;
/// the checkpoint's CID is the first block's start. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_genesis_checkpoint(
    params: *const pouw_params,
    seed: *const u8,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let seed = digest(seed)?;
        out_ptr(out)?;
        let bytes = GanTrainer::from_seed(&params.spec, &seed)?.checkpoint()?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}

/// Mines a block: trains from the start checkpoint `start` (`start_len` bytes: the previous
/// block's winning checkpoint, or the genesis one) on `dataset` until a step's ticket is below
/// `target` (32 bytes), bound to `header_hash` (32 bytes) and `miner_id` (`miner_id_len` bytes,
/// at most 256), publishing the checkpoints the proof opens to `store`.
///
/// On success writes the encoded block proof to `*out_proof` and the winning checkpoint (the
/// next block's start) to `*out_winning_checkpoint` (free both with [`pouw_buffer_free`]).
/// Returns `POUW_RESULT_STEP_LIMIT` after `step_limit` steps without a block (the parameters'
/// `max_steps` bounds it too; pass `UINT64_MAX` for that bound alone) and
/// `POUW_RESULT_CANCELLED` when `cancel` is set; neither output is written then.
///
/// `progress` (may be NULL) is called with `user_data` (may be NULL) after every step, on the
/// calling thread; `cancel` (may be NULL) is checked before every step.
///
/// Thread-safe: any number of mining and verifying calls may share `params`, `dataset` and
/// `store` at once.
#[no_mangle]
pub unsafe extern "C" fn pouw_mine(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const u8,
    start_len: usize,
    target: *const u8,
    step_limit: u64,
    progress: pouw_progress_callback,
    user_data: *mut c_void,
    cancel: *const pouw_cancel_token,
    out_proof: *mut *mut pouw_buffer,
    out_winning_checkpoint: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let dataset = &handle(dataset)?.inner;
        let store = &*handle(store)?.inner;
        let header_hash = digest(header_hash)?;
        let miner_id = slice(miner_id, miner_id_len)?;
        let start = slice(start, start_len)?;
        let target = Target(digest(target)?);
        out_ptr(out_proof)?;
        out_ptr(out_winning_checkpoint)?;
        let never = AtomicBool::new(false);
        let cancel = cancel.as_ref().map_or(&never, |t| &t.flag);
        let input = MineInput {
            header_hash,
            miner_id,
            start,
            params,
            target,
            dataset,
            store,
        };
        let options = MineOptions {
            step_limit,
            ..MineOptions::default()
        };
        let mut report = |p: &MineProgress| {
            if let Some(callback) = progress {
                callback(p.step, user_data);
            }
        };
        match pouw::work::mine::<GanTrainer>(&input, options, &mut report, cancel)? {
            MineOutcome::Found(block) => {
                pouw_buffer::write(out_proof, block.proof.to_bytes());
                pouw_buffer::write(out_winning_checkpoint, block.winning_checkpoint);
                Ok(())
            }
            MineOutcome::StepLimit { .. } => Err(PouwResult::StepLimit),
            MineOutcome::Cancelled { .. } => Err(PouwResult::Cancelled),
        }
    })
}

/// Verifies a block proof (`proof`, `proof_len` bytes; untrusted) against the chain's view:
/// `params`, the header `header_hash` (32 bytes), the miner `miner_id` (`miner_id_len` bytes),
/// the start checkpoint's binary CID `start_cid` (`start_cid_len` bytes) and `target` (32
/// bytes), fetching the opened checkpoints from `store`. Cheap checks run first; only then are
/// the opened steps re-executed.
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
    start_cid: *const u8,
    start_cid_len: usize,
    target: *const u8,
    proof: *const u8,
    proof_len: usize,
    out_verdict: *mut pouw_verdict,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let store = &*handle(store)?.inner;
        let header_hash = digest(header_hash)?;
        let miner_id = slice(miner_id, miner_id_len)?;
        let start_cid = slice(start_cid, start_cid_len)?;
        let target = Target(digest(target)?);
        let proof = slice(proof, proof_len)?;
        out_ptr(out_verdict)?;
        let start = cid_from_bytes(start_cid)?;
        let input = VerifyInput {
            header_hash,
            miner_id,
            start: &start,
            params,
            target,
            store,
        };
        let v = pouw::work::verify::<GanTrainer>(&input, proof)?;
        let cid = v.winning_checkpoint.to_bytes();
        if cid.len() > POUW_MAX_CID_LEN {
            return Err(PouwResult::Other);
        }
        let mut verdict = pouw_verdict {
            steps: v.steps,
            opened_count: v.opened.len() as u64,
            dataset_root: v.dataset_root,
            start_quality: v.start_quality,
            end_quality: v.end_quality,
            work: v.work,
            winning_digest: v.winning_digest,
            winning_cid: [0; POUW_MAX_CID_LEN],
            winning_cid_len: cid.len(),
        };
        verdict.winning_cid[..cid.len()].copy_from_slice(&cid);
        out_verdict.write(verdict);
        Ok(())
    })
}
