//! Mining a block, with its options.

use super::cancel::pouw_cancel_token;
use crate::boundary::{digest, guard, handle, out_ptr, path, slice};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::sized::{read_sized, Field};
use crate::store::pouw_store;
use pouw::learning::gan::GanTrainer;
use pouw::work::{MineInput, MineOptions, MineOutcome, MineProgress, Target};
use std::ffi::c_void;
use std::sync::atomic::AtomicBool;

/// Called by [`pouw_mine`] after every training step, on the thread that called
/// [`pouw_mine`], with the number of steps done and the caller's `user_data`. It must return
/// normally (no `longjmp`, no exception).
#[allow(non_camel_case_types)]
pub type pouw_progress_callback = Option<unsafe extern "C" fn(step: u64, user_data: *mut c_void)>;

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
    let options = pouw_mine_options {
        struct_size: std::mem::size_of::<pouw_mine_options>(),
        set: POUW_MINE_OPTION_STEP_LIMIT,
        step_limit,
        checkpoint_interval: 0,
        max_kept: 0,
        kept_memory: 0,
        spill_dir: std::ptr::null(),
        spill_dir_len: 0,
    };
    pouw_mine_with_options(
        params,
        dataset,
        store,
        header_hash,
        miner_id,
        miner_id_len,
        start,
        start_len,
        target,
        &options,
        progress,
        user_data,
        cancel,
        out_proof,
        out_winning_checkpoint,
    )
}

/// The body of [`pouw_mine_with_options`].
#[allow(clippy::too_many_arguments)]
unsafe fn mine_with(
    params: *const pouw_params,
    dataset: *const pouw_dataset,
    store: *const pouw_store,
    header_hash: *const u8,
    miner_id: &[u8],
    start: &[u8],
    target: *const u8,
    mut options: MineOptions,
    (progress, user_data): (pouw_progress_callback, *mut c_void),
    cancel: *const pouw_cancel_token,
    (out_proof, out_winning_checkpoint): (*mut *mut pouw_buffer, *mut *mut pouw_buffer),
) -> Result<(), PouwResult> {
    let handle_params = handle(params)?;
    let params = &handle_params.inner;
    options.device = handle_params.device;
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
