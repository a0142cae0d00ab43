//! The work function: genesis checkpoints, mining with progress and cancellation, and
//! verification of block proofs into a verdict.

use crate::boundary::{digest, free_handle, guard, handle, out_ptr, path, slice, write_handle};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::sized::{read_sized, Field};
use crate::store::pouw_store;
use pouw::ident::cid_from_bytes;
use pouw::learning::gan::GanTrainer;
use pouw::learning::ProofOfLearning;
use pouw::work::{
    AuditInput, AuditOutcome, AuditProgress, BlockProof, FraudCheckInput, MineInput, MineOptions,
    MineOutcome, MineProgress, ProofLimits, Start, Target, VerifyInput, VerifyPhase,
    VerifyProgress, Work,
};
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

/// Where a block starts, as the chain keeps it: the previous block's winning checkpoint (from
/// its verdict's `next`), or the genesis checkpoint ([`pouw_start_of_checkpoint`]).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_start {
    /// Binary CID of the checkpoint; its first `cid_len` bytes are meaningful.
    pub cid: [u8; POUW_MAX_CID_LEN],
    /// Length of `cid` in bytes.
    pub cid_len: usize,
    /// The checkpoint's digest.
    pub digest: [u8; 32],
    /// The checkpoint's step counter.
    pub steps: u64,
}

impl pouw_start {
    fn from_start(s: &Start) -> Result<Self, PouwResult> {
        let cid = s.cid.to_bytes();
        if cid.len() > POUW_MAX_CID_LEN {
            return Err(PouwResult::Other);
        }
        let mut out = pouw_start {
            cid: [0; POUW_MAX_CID_LEN],
            cid_len: cid.len(),
            digest: s.digest,
            steps: s.steps,
        };
        out.cid[..cid.len()].copy_from_slice(&cid);
        Ok(out)
    }

    fn as_start(&self) -> Result<Start, PouwResult> {
        let cid = self
            .cid
            .get(..self.cid_len)
            .ok_or(PouwResult::InvalidArgument)?;
        Ok(Start {
            cid: cid_from_bytes(cid)?,
            digest: self.digest,
            steps: self.steps,
        })
    }
}

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
    /// The work the block represents (expected steps at its target), a 256-bit big-endian
    /// integer: sum a chain's with [`pouw_work_add`].
    pub work: [u8; 32],
    /// The next block's start: the winning checkpoint.
    pub next: pouw_start,
}

/// Writes the start a checkpoint (`bytes`, `len`; the genesis checkpoint, typically) gives:
/// its CID, digest and step counter. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_start_of_checkpoint(
    params: *const pouw_params,
    bytes: *const u8,
    len: usize,
    out: *mut pouw_start,
) -> PouwResult {
    guard(|| {
        let params = &handle(params)?.inner;
        let bytes = slice(bytes, len)?;
        out_ptr(out)?;
        let start = Start::of_checkpoint::<GanTrainer>(&params.spec, bytes)?;
        out.write(pouw_start::from_start(&start)?);
        Ok(())
    })
}

/// The work of a block at `target` (32 bytes): `floor(2^256 / (target + 1))`, written to `out`
/// (32 bytes, big-endian). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_work_of_target(target: *const u8, out: *mut u8) -> PouwResult {
    guard(|| {
        let target = Target(digest(target)?);
        out_ptr(out)?;
        std::ptr::copy_nonoverlapping(Work::of(&target).0.as_ptr(), out, 32);
        Ok(())
    })
}

/// Adds two works (32 bytes each, big-endian) into `out` (32 bytes; may alias either input).
/// Returns `POUW_RESULT_LIMIT_EXCEEDED`, writing nothing, when the sum exceeds `2^256 - 1`.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_work_add(a: *const u8, b: *const u8, out: *mut u8) -> PouwResult {
    guard(|| {
        let (a, b) = (Work(digest(a)?), Work(digest(b)?));
        out_ptr(out)?;
        let sum = a.checked_add(&b).ok_or(PouwResult::LimitExceeded)?;
        std::ptr::copy_nonoverlapping(sum.0.as_ptr(), out, 32);
        Ok(())
    })
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
        let options = MineOptions {
            step_limit,
            ..MineOptions::default()
        };
        mine_with(
            params,
            dataset,
            store,
            header_hash,
            slice(miner_id, miner_id_len)?,
            slice(start, start_len)?,
            target,
            options,
            (progress, user_data),
            cancel,
            (out_proof, out_winning_checkpoint),
        )
    })
}

/// The body of [`pouw_mine`] and [`pouw_mine_with_options`].
#[allow(clippy::too_many_arguments)]
unsafe fn mine_with(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: &[u8],
    start: &[u8],
    target: *const u8,
    options: MineOptions,
    (progress, user_data): (pouw_progress_callback, *mut c_void),
    cancel: *const pouw_cancel_token,
    (out_proof, out_winning_checkpoint): (*mut *mut pouw_buffer, *mut *mut pouw_buffer),
) -> Result<(), PouwResult> {
    let params = &handle(params)?.inner;
    let dataset = &handle(dataset)?.inner;
    let store = &*handle(store)?.inner;
    let header_hash = digest(header_hash)?;
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
}

/// `pouw_mine_options::set` bit: `step_limit` is set.
pub const POUW_MINE_OPTION_STEP_LIMIT: u32 = 1 << 0;
/// `pouw_mine_options::set` bit: `checkpoint_interval` is set.
pub const POUW_MINE_OPTION_CHECKPOINT_INTERVAL: u32 = 1 << 1;
/// `pouw_mine_options::set` bit: `max_kept` is set.
pub const POUW_MINE_OPTION_MAX_KEPT: u32 = 1 << 2;
/// `pouw_mine_options::set` bit: `kept_memory` is set.
pub const POUW_MINE_OPTION_KEPT_MEMORY: u32 = 1 << 3;
/// `pouw_mine_options::set` bit: `spill_dir` is set.
pub const POUW_MINE_OPTION_SPILL_DIR: u32 = 1 << 4;

/// Mining options for [`pouw_mine_with_options`]. The struct can grow: a caller sets
/// `struct_size` to `sizeof(pouw_mine_options)` as its header declares it, and the library reads
/// no further (a larger size from a newer header is accepted when the bytes it does not know are
/// zero). A field counts only when its bit is in `set` (`POUW_MINE_OPTION_*`), so "unset" (the
/// default) is not "0".
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_mine_options {
    /// `sizeof(pouw_mine_options)` where the caller was compiled.
    pub struct_size: usize,
    /// Which fields are set (`POUW_MINE_OPTION_*` bits); the others take their defaults.
    pub set: u32,
    /// Give up after this many steps (default: the parameters' `max_steps`).
    pub step_limit: u64,
    /// Keep every this-many-th checkpoint to start with (default 1, every one).
    pub checkpoint_interval: u64,
    /// Most checkpoints kept for the openings' replays (default 64, at least 2).
    pub max_kept: u64,
    /// Bytes of kept checkpoints held in memory before spilling to disk (default 256 MiB; 0
    /// spills every one).
    pub kept_memory: u64,
    /// Directory to spill to (`spill_dir_len` bytes, not NUL-terminated; default the system's
    /// temporary directory).
    pub spill_dir: *const u8,
    /// Length of `spill_dir`.
    pub spill_dir_len: usize,
}

/// Reads a caller's options (NULL: every default) under the sized-struct rules of
/// [`pouw_mine_options`].
unsafe fn read_mine_options(p: *const pouw_mine_options) -> Result<MineOptions, PouwResult> {
    use std::mem::{offset_of, size_of};
    let field = |bit, offset, len| Field { bit, offset, len };
    let fields = [
        field(
            POUW_MINE_OPTION_STEP_LIMIT,
            offset_of!(pouw_mine_options, step_limit),
            8,
        ),
        field(
            POUW_MINE_OPTION_CHECKPOINT_INTERVAL,
            offset_of!(pouw_mine_options, checkpoint_interval),
            8,
        ),
        field(
            POUW_MINE_OPTION_MAX_KEPT,
            offset_of!(pouw_mine_options, max_kept),
            8,
        ),
        field(
            POUW_MINE_OPTION_KEPT_MEMORY,
            offset_of!(pouw_mine_options, kept_memory),
            8,
        ),
        field(
            POUW_MINE_OPTION_SPILL_DIR,
            offset_of!(pouw_mine_options, spill_dir),
            size_of::<*const u8>() + size_of::<usize>(),
        ),
    ];
    let mut options = MineOptions::default();
    let set_offset = offset_of!(pouw_mine_options, set);
    let Some(o) = read_sized(p, set_offset, &fields)? else {
        return Ok(options);
    };
    if o.set & POUW_MINE_OPTION_STEP_LIMIT != 0 {
        options.step_limit = o.step_limit;
    }
    if o.set & POUW_MINE_OPTION_CHECKPOINT_INTERVAL != 0 {
        options.checkpoint_interval = o.checkpoint_interval;
    }
    if o.set & POUW_MINE_OPTION_MAX_KEPT != 0 {
        options.max_kept = usize::try_from(o.max_kept).map_err(|_| PouwResult::InvalidArgument)?;
    }
    if o.set & POUW_MINE_OPTION_KEPT_MEMORY != 0 {
        options.kept_memory = o.kept_memory;
    }
    if o.set & POUW_MINE_OPTION_SPILL_DIR != 0 {
        options.spill_dir = Some(path(o.spill_dir, o.spill_dir_len)?.to_path_buf());
    }
    Ok(options)
}

/// [`pouw_mine`] with every mining option ([`pouw_mine_options`]; NULL: the defaults, which
/// `pouw_mine` also uses, bar its step limit). An option out of its domain gives
/// `POUW_RESULT_INVALID_ARGUMENT` or `POUW_RESULT_INVALID_PARAMETERS`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_mine_with_options(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    start: *const u8,
    start_len: usize,
    target: *const u8,
    options: *const pouw_mine_options,
    progress: pouw_progress_callback,
    user_data: *mut c_void,
    cancel: *const pouw_cancel_token,
    out_proof: *mut *mut pouw_buffer,
    out_winning_checkpoint: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let options = read_mine_options(options)?;
        mine_with(
            params,
            dataset,
            store,
            header_hash,
            slice(miner_id, miner_id_len)?,
            slice(start, start_len)?,
            target,
            options,
            (progress, user_data),
            cancel,
            (out_proof, out_winning_checkpoint),
        )
    })
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
        let v = pouw::work::verify::<GanTrainer>(&view.input(), proof)?;
        write_verdict(out_verdict, &v)
    })
}

/// What a verification is doing, as [`pouw_verify_with_progress`] reports it: decoding and the
/// cheap checks.
pub const POUW_VERIFY_PHASE_CHECKS: u32 = 0;
/// Fetching an opened step's start checkpoint and re-executing the step.
pub const POUW_VERIFY_PHASE_STEP: u32 = 1;
/// Fetching and checking the trajectory companion.
pub const POUW_VERIFY_PHASE_COMPANION: u32 = 2;
/// Scoring the start and winning checkpoints.
pub const POUW_VERIFY_PHASE_QUALITY: u32 = 3;
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
                    VerifyPhase::Quality => POUW_VERIFY_PHASE_QUALITY,
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
    guard(|| {
        let params = &handle(params)?.inner;
        let proof = slice(proof, proof_len)?;
        out_ptr(out)?;
        let proof = BlockProof::from_bytes(proof, &ProofLimits::of(params))?;
        pouw_buffer::write(out, proof.record_free().to_bytes());
        Ok(())
    })
}

/// The chain's view a verification reads from its C arguments.
struct ChainView<'a> {
    params: &'a pouw::work::ConsensusParams<pouw::learning::gan::GanSpec>,
    store: &'a dyn pouw::learning::CheckpointStore,
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
        }
    }
}

unsafe fn write_verdict(out: *mut pouw_verdict, v: &pouw::work::Verdict) -> Result<(), PouwResult> {
    out.write(pouw_verdict {
        steps: v.steps,
        opened_count: v.opened.len() as u64,
        dataset_root: v.dataset_root,
        start_quality: v.start_quality,
        end_quality: v.end_quality,
        work: v.work.0,
        next: pouw_start::from_start(&v.next)?,
    });
    Ok(())
}

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
    guard(|| {
        let params = &handle(params)?.inner;
        let proof = slice(proof, proof_len)?;
        out_ptr(out_count)?;
        let steps = BlockProof::from_bytes(proof, &ProofLimits::of(params))?.steps;
        out_count.write(pouw::work::segment_count(params, steps)?);
        Ok(())
    })
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
    guard(|| {
        let params = &handle(params)?.inner;
        let proof = slice(proof, proof_len)?;
        out_ptr(out_id)?;
        let id = BlockProof::from_bytes(proof, &ProofLimits::of(params))?.id();
        std::ptr::copy_nonoverlapping(id.as_ptr(), out_id, 32);
        Ok(())
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
        };
        let step = pouw::work::verify_fraud_proof::<GanTrainer>(&input, block, fraud)?;
        out_step.write(step);
        Ok(())
    })
}
