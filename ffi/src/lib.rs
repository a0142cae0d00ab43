//! The C API of `pouw`. The header `include/pouw.h` is generated from this crate by cbindgen.
//!
//! Rules every function follows (README "C API"): inputs before outputs; every buffer is a
//! pointer followed by its length; every pointer is checked for NULL (NULL with length 0 is an
//! empty buffer); outputs are written only on success; every call returns a [`PouwResult`]
//! whose numbers are stable; no panic crosses the boundary (it becomes `POUW_RESULT_PANIC`);
//! `*_free` functions accept NULL.
//!
//! Handles (`pouw_dataset`, `pouw_params`, `pouw_store`, `pouw_cancel_token`, `pouw_buffer`,
//! `pouw_dataset_request`, `pouw_judge`, `pouw_reputation`, `pouw_request_vote`, `pouw_ledger`,
//! `pouw_ledger_block`) are opaque, made by a function that writes them through an out pointer,
//! and released by their `*_free`. They are immutable once made (a cancel token's flag aside,
//! which is atomic, and a reputation table, a ledger and a ledger block being built, which
//! change through non-`const` pointers), so every function taking
//! `const` handles may run on any number of threads at once; a `*_free` or a call taking a
//! non-`const` handle must not race with any use of the same handle. Each function's comment
//! states its thread-safety.
//!
//! Byte strings the library returns (proofs, checkpoints, CIDs, encodings) are `pouw_buffer`s:
//! read them with `pouw_buffer_data`/`pouw_buffer_len` and free them with `pouw_buffer_free`.
//! Paths are `(pointer, length)` bytes, not NUL-terminated.
//!
//! Modules: [`result`] (codes), [`buffer`], [`dataset`], [`params`], [`store`], [`target`],
//! [`work`] (genesis, mine, verify; `torch` feature), [`capacity`], [`request`] (dataset
//! requests and their options), [`growth`] (submissions, consistency proofs of appends,
//! reputation; the judge with the `torch` feature), [`vote`] (requests decided by the miners' vote), [`ledger`] (credits for accepted
//! records, applied and reverted by block).

#![allow(clippy::missing_safety_doc)]
#![deny(missing_docs)]
// No unwrap/expect/panic in the boundary's own code (clippy.toml allows them in tests).
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod boundary;
pub mod buffer;
pub mod capacity;
pub mod dataset;
pub mod growth;
pub mod ledger;
pub mod params;
pub mod request;
pub mod result;
mod sized;
pub mod store;
pub mod target;
pub mod vote;
#[cfg(feature = "torch")]
pub mod work;

pub use buffer::{pouw_buffer, pouw_buffer_data, pouw_buffer_free, pouw_buffer_len};
pub use capacity::pouw_capacity_verify;
pub use dataset::{
    pouw_dataset, pouw_dataset_cid, pouw_dataset_free, pouw_dataset_import_digits,
    pouw_dataset_len, pouw_dataset_open, pouw_dataset_root,
};
#[cfg(feature = "torch")]
pub use growth::judge::{
    pouw_judge, pouw_judge_calibrate_threshold, pouw_judge_check, pouw_judge_check_encoded,
    pouw_judge_free, pouw_judge_new,
};
pub use growth::{
    pouw_append_proof_info, pouw_append_proof_verify, pouw_reputation, pouw_reputation_digest,
    pouw_reputation_free, pouw_reputation_from_bytes, pouw_reputation_new, pouw_reputation_record,
    pouw_reputation_rule, pouw_reputation_rule_default, pouw_reputation_standing,
    pouw_reputation_to_bytes, pouw_submission_encode, pouw_submitter_standing,
    pouw_verify_consistency, POUW_RECORD_ACCEPTED, POUW_RECORD_DUPLICATE_IN_SUBMISSION,
    POUW_RECORD_DUPLICATE_OF_DATASET, POUW_RECORD_FLAT_PATCH, POUW_RECORD_IMPLAUSIBLE,
    POUW_RECORD_INK_OUT_OF_BOUNDS, POUW_RECORD_LEVELS_COPY_IN_SUBMISSION,
    POUW_RECORD_LEVELS_COPY_OF_DATASET, POUW_RECORD_NEAR_COPY_IN_SUBMISSION,
    POUW_RECORD_NEAR_COPY_OF_DATASET, POUW_RECORD_NEGATIVE_CLOSER, POUW_RECORD_REQUEST_FILLED,
    POUW_RECORD_SHIFTED_COPY_IN_SUBMISSION, POUW_RECORD_SHIFTED_COPY_OF_DATASET,
    POUW_RECORD_TRANSFORMED_COPY_IN_SUBMISSION, POUW_RECORD_TRANSFORMED_COPY_OF_DATASET,
    POUW_RECORD_UNLIKE_DATASET, POUW_RECORD_VALUE_OUT_OF_RANGE, POUW_RECORD_WRONG_SIZE,
    POUW_STANDING_BANNED, POUW_STANDING_NORMAL, POUW_STANDING_PROMOTED,
};
pub use ledger::{
    pouw_ledger, pouw_ledger_apply, pouw_ledger_block, pouw_ledger_block_free,
    pouw_ledger_block_new, pouw_ledger_block_open, pouw_ledger_block_settle,
    pouw_ledger_block_to_bytes, pouw_ledger_credits, pouw_ledger_digest, pouw_ledger_free,
    pouw_ledger_from_bytes, pouw_ledger_new, pouw_ledger_request, pouw_ledger_revert,
    pouw_ledger_standing, pouw_ledger_tip, pouw_ledger_to_bytes, pouw_request_account,
};
pub use params::{
    pouw_params, pouw_params_digest, pouw_params_free, pouw_params_from_bytes, pouw_params_new_gan,
    pouw_params_options, pouw_params_to_bytes, POUW_DEVICE_AUTO, POUW_DEVICE_CPU, POUW_DEVICE_CUDA,
    POUW_PARAMS_OPTION_BATCH_SIZE, POUW_PARAMS_OPTION_CAPACITY_CHALLENGES,
    POUW_PARAMS_OPTION_DEVICE, POUW_PARAMS_OPTION_D_FILTERS, POUW_PARAMS_OPTION_G_FILTERS,
    POUW_PARAMS_OPTION_LATENT, POUW_PARAMS_OPTION_MAX_STEPS, POUW_PARAMS_OPTION_MIN_STEPS,
    POUW_PARAMS_OPTION_OPENED_STEPS,
};
pub use request::{
    pouw_dataset_ink_bounds, pouw_dataset_request, pouw_dataset_request_cid,
    pouw_dataset_request_free, pouw_dataset_request_from_bytes, pouw_dataset_request_max_records,
    pouw_dataset_request_new, pouw_dataset_request_options, pouw_dataset_request_to_bytes,
    POUW_COPY_FLIPPED, POUW_COPY_INVERTED, POUW_COPY_MIRRORED, POUW_COPY_TURNED,
    POUW_REQUEST_OPTION_COPY_TRANSFORMS, POUW_REQUEST_OPTION_DISTANCE,
    POUW_REQUEST_OPTION_FLAT_PATCH, POUW_REQUEST_OPTION_INK, POUW_REQUEST_OPTION_LEVELS,
    POUW_REQUEST_OPTION_MAX_BYTES, POUW_REQUEST_OPTION_MAX_RECORDS, POUW_REQUEST_OPTION_MAX_SHIFT,
    POUW_REQUEST_OPTION_NEAR_COPY, POUW_REQUEST_OPTION_NEAR_FLAT,
    POUW_REQUEST_OPTION_NEGATIVE_RULE, POUW_REQUEST_OPTION_NOISE_COPY,
};
pub use result::PouwResult;
pub use store::{
    pouw_block_proof_required_cids, pouw_cid_of, pouw_cid_parse, pouw_cid_to_string,
    pouw_ipfs_options, pouw_sink, pouw_sink_write, pouw_store, pouw_store_free, pouw_store_get,
    pouw_store_get_callback, pouw_store_new_callbacks, pouw_store_new_memory, pouw_store_open_dir,
    pouw_store_open_ipfs, pouw_store_put, pouw_store_put_callback,
    POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB, POUW_IPFS_OPTION_ANSWER_GRACE,
    POUW_IPFS_OPTION_BLOCK_TIMEOUT, POUW_IPFS_OPTION_CONNECT_TIMEOUT, POUW_IPFS_OPTION_LOCAL_ONLY,
    POUW_IPFS_OPTION_PARALLEL_FETCHES,
};
pub use target::{
    pouw_target_expected_steps, pouw_target_from_expected_steps, pouw_target_retarget,
};
pub use vote::{
    pouw_request_vote, pouw_request_vote_free, pouw_request_vote_from_bytes, pouw_request_vote_new,
    pouw_request_vote_params, pouw_request_vote_status, pouw_request_vote_to_bytes,
    pouw_signal_word, pouw_signal_word_for, pouw_signalled_bits, pouw_vote_params,
    pouw_vote_status, POUW_VOTE_ACTIVE, POUW_VOTE_DEFINED, POUW_VOTE_FAILED, POUW_VOTE_LOCKED_IN,
    POUW_VOTE_STARTED,
};
#[cfg(feature = "torch")]
pub use work::{
    pouw_assess, pouw_assessment, pouw_audit, pouw_audit_callback, pouw_block_proof_id,
    pouw_block_proof_record_free, pouw_break_tie, pouw_cancel_token, pouw_cancel_token_cancel,
    pouw_cancel_token_free, pouw_cancel_token_new, pouw_fraud_proof_verify,
    pouw_genesis_checkpoint, pouw_mine, pouw_mine_options, pouw_mine_with_options, pouw_prefer,
    pouw_progress_callback, pouw_quality_points, pouw_reward, pouw_reward_rule, pouw_segment_count,
    pouw_settle, pouw_start, pouw_start_of_checkpoint, pouw_tie_break, pouw_verdict, pouw_verify,
    pouw_verify_callback, pouw_verify_record_free, pouw_verify_with_progress, pouw_work_add,
    pouw_work_of_target, POUW_MAX_CID_LEN, POUW_MAX_SETTLE_BLOCKS,
    POUW_MINE_OPTION_CHECKPOINT_INTERVAL, POUW_MINE_OPTION_KEPT_MEMORY, POUW_MINE_OPTION_MAX_KEPT,
    POUW_MINE_OPTION_SPILL_DIR, POUW_MINE_OPTION_STEP_LIMIT, POUW_SEGMENT_ALL, POUW_SEGMENT_RANDOM,
    POUW_VERIFY_PHASE_CHECKS, POUW_VERIFY_PHASE_COMPANION, POUW_VERIFY_PHASE_SEGMENTS,
    POUW_VERIFY_PHASE_STEP,
};

use boundary::guard_value;
use std::ffi::c_char;

/// The library version as a NUL-terminated static string (never freed). Thread-safe.
#[no_mangle]
pub extern "C" fn pouw_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The consensus protocol version this library proves and verifies. Thread-safe.
#[no_mangle]
pub extern "C" fn pouw_protocol_version() -> u32 {
    pouw::PROTOCOL_VERSION
}

/// Writes the detailed message of the last call on this thread that failed (the library's own
/// text, naming the field, step or file: "block proof is bound to another header", "I/O error
/// on /data/manifest.bin: ..."), NUL-terminated, into `buf` (`buf_len` bytes) and its length
/// without the NUL into `*out_len`; the empty string when the last call succeeded. This call
/// itself leaves the message in place. Returns `POUW_RESULT_BUFFER_TOO_SMALL` (writing nothing,
/// but the needed length without the NUL into `*out_len`) when it does not fit. Call it on the
/// thread that made the failed call, before any other call on that thread.
#[no_mangle]
pub unsafe extern "C" fn pouw_last_error_message(
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> PouwResult {
    if buf.is_null() || out_len.is_null() {
        return PouwResult::NullArgument;
    }
    guard_value(PouwResult::Panic, || {
        let msg = boundary::last_error();
        *out_len = msg.len();
        write_c_string(&msg, buf, buf_len, out_len)
    })
}

/// Whether a verification call (`pouw_verify*`, `pouw_audit`, `pouw_fraud_proof_verify`) that
/// returned `code` found the block, or the fraud proof, invalid: reject it and remember it. Any
/// other non-OK code means this node could not decide (a store miss or timeout, a peer's wrong
/// bytes, I/O, cancellation, its device or dataset): retry or fetch elsewhere, and never mark
/// the block bad for it. False for `POUW_RESULT_OK` and for unknown codes. Thread-safe.
#[no_mangle]
pub extern "C" fn pouw_result_is_rejection(code: u32) -> bool {
    PouwResult::from_u32(code).is_some_and(PouwResult::is_rejection)
}

/// Writes the NUL-terminated message of `code` into `buf` (`buf_len` bytes) and its length
/// without the NUL into `*out_len`. Returns `POUW_RESULT_BUFFER_TOO_SMALL` (writing nothing) when
/// the message and its NUL do not fit. Like [`pouw_last_error_message`], it leaves the calling
/// thread's last error message in place, so the two can be read in either order. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_result_message(
    code: u32,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> PouwResult {
    if buf.is_null() || out_len.is_null() {
        return PouwResult::NullArgument;
    }
    guard_value(PouwResult::Panic, || {
        let msg = PouwResult::from_u32(code).map_or("unknown result code", PouwResult::message);
        write_c_string(msg, buf, buf_len, out_len)
    })
}

/// Writes `msg` NUL-terminated into `buf` (`buf_len` bytes) and its length into `*out_len`, or
/// returns `POUW_RESULT_BUFFER_TOO_SMALL` writing nothing when it and its NUL do not fit.
///
/// # Safety
/// `buf` must be valid for `buf_len` bytes of writes and `out_len` for one write.
unsafe fn write_c_string(
    msg: &str,
    buf: *mut c_char,
    buf_len: usize,
    out_len: *mut usize,
) -> PouwResult {
    if msg.len() + 1 > buf_len {
        return PouwResult::BufferTooSmall;
    }
    std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), msg.len());
    *buf.add(msg.len()) = 0;
    *out_len = msg.len();
    PouwResult::Ok
}
