//! Request votes: the version-bits state machine that decides whether a dataset request
//! becomes active (see `pouw::growth::RequestVote`), and the signal words blocks carry.
//!
//! A vote's state is a `uint32_t`: `POUW_VOTE_DEFINED` (0), `POUW_VOTE_STARTED` (1),
//! `POUW_VOTE_LOCKED_IN` (2), `POUW_VOTE_ACTIVE` (3) or `POUW_VOTE_FAILED` (4).

use crate::boundary::{array, buffer_of, decode_into, free_handle, guard, handle, out_ptr, slice};
use crate::buffer::pouw_buffer;
use crate::result::PouwResult;
use pouw::growth::{signal_word, signal_word_for, signalled_bits, RequestVote};
use pouw::ident::cid_from_bytes;

/// Vote state: before the start height.
pub const POUW_VOTE_DEFINED: u32 = 0;
/// Vote state: signals are counted window by window.
pub const POUW_VOTE_STARTED: u32 = 1;
/// Vote state: a window reached the threshold; active from the next window on or after the
/// minimum activation height.
pub const POUW_VOTE_LOCKED_IN: u32 = 2;
/// Vote state: the request is active.
pub const POUW_VOTE_ACTIVE: u32 = 3;
/// Vote state: the timeout passed without a window reaching the threshold.
pub const POUW_VOTE_FAILED: u32 = 4;

/// The parameters of a request vote (all but the request's CID).
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_vote_params {
    /// The signal bit (0 to 28).
    pub bit: u8,
    /// Blocks per window (1 to 2^20).
    pub window: u32,
    /// Signalling blocks in a window that lock the request in (1 to `window`).
    pub threshold: u32,
    /// The first height whose window counts signals (a multiple of `window`).
    pub start_height: u64,
    /// The height from which a window that missed the threshold fails the vote (a multiple of
    /// `window`, above `start_height`).
    pub timeout_height: u64,
    /// The earliest height at which a locked-in request becomes active.
    pub min_activation_height: u64,
}

/// A vote's state for a block, written by [`pouw_request_vote_status`].
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_vote_status {
    /// `POUW_VOTE_*`.
    pub state: u32,
    /// The first height of the run of windows in this state (0 for `POUW_VOTE_DEFINED`).
    pub since: u64,
}

/// A request vote. Immutable once made, so usable from any number of threads at once.
#[allow(non_camel_case_types)]
pub struct pouw_request_vote {
    inner: RequestVote,
}

/// Makes the vote on the request whose binary CID is `request_cid` (`request_cid_len` bytes,
/// as `pouw_dataset_request_cid` writes it) under `params` (refused with
/// `POUW_RESULT_INVALID_FIELD` when out of their domains) and writes it to `*out` (free it with
/// [`pouw_request_vote_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_new(
    request_cid: *const u8,
    request_cid_len: usize,
    params: *const pouw_vote_params,
    out: *mut *mut pouw_request_vote,
) -> PouwResult {
    decode_into(request_cid, request_cid_len, out, |cid| {
        let p = *handle(params)?;
        let inner = RequestVote {
            request: cid_from_bytes(cid)?,
            bit: p.bit,
            window: p.window,
            threshold: p.threshold,
            start_height: p.start_height,
            timeout_height: p.timeout_height,
            min_activation_height: p.min_activation_height,
        };
        inner.validate()?;
        Ok(pouw_request_vote { inner })
    })
}

/// Decodes and validates a vote from its canonical bytes (`bytes`, `len`; untrusted) and writes
/// it to `*out` (free it with [`pouw_request_vote_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_request_vote,
) -> PouwResult {
    decode_into(bytes, len, out, |bytes| {
        Ok(pouw_request_vote {
            inner: RequestVote::from_bytes(bytes)?,
        })
    })
}

/// Writes the canonical encoding of `vote` to a new buffer `*out` (free it with
/// [`pouw_buffer_free`](crate::buffer::pouw_buffer_free)). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_to_bytes(
    vote: *const pouw_request_vote,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(vote, out, |vote| Ok(vote.inner.to_bytes()))
}

/// Writes `vote`'s parameters to `*out_params`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_params(
    vote: *const pouw_request_vote,
    out_params: *mut pouw_vote_params,
) -> PouwResult {
    guard(|| {
        let v = &handle(vote)?.inner;
        out_ptr(out_params)?;
        out_params.write(pouw_vote_params {
            bit: v.bit,
            window: v.window,
            threshold: v.threshold,
            start_height: v.start_height,
            timeout_height: v.timeout_height,
            min_activation_height: v.min_activation_height,
        });
        Ok(())
    })
}

/// Writes `vote`'s state for the block at height `word_count` to `*out`, where `words[h]` is
/// the signal word of the chain's block at height `h`: every ancestor of that block, in
/// order (after a reorganisation, the words of the branch now followed). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_status(
    vote: *const pouw_request_vote,
    words: *const u32,
    word_count: usize,
    out: *mut pouw_vote_status,
) -> PouwResult {
    guard(|| {
        let v = &handle(vote)?.inner;
        let words = array(words, word_count)?;
        out_ptr(out)?;
        let status = v.status(words)?;
        out.write(pouw_vote_status {
            state: status.state.code(),
            since: status.since,
        });
        Ok(())
    })
}

/// Reads a block's signal word from the 4 bytes its header carries for it (`field`, `len`:
/// little-endian; another length is `POUW_RESULT_INVALID_FIELD`) into `*out_word`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_signal_word(
    field: *const u8,
    len: usize,
    out_word: *mut u32,
) -> PouwResult {
    guard(|| {
        let field = slice(field, len)?;
        out_ptr(out_word)?;
        *out_word = signal_word(field)?;
        Ok(())
    })
}

/// Writes the mask of the bits (0 to 28) that signal word `word` votes for to `*out_bits`:
/// zero when its top three bits are not `001`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_signalled_bits(word: u32, out_bits: *mut u32) -> PouwResult {
    guard(|| {
        out_ptr(out_bits)?;
        *out_bits = signalled_bits(word);
        Ok(())
    })
}

/// Writes the signal word that votes for exactly the `bit_count` bits of `bits` (each 0 to
/// 28, else `POUW_RESULT_INVALID_FIELD`) to `*out_word`: what a miner puts in its header.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_signal_word_for(
    bits: *const u8,
    bit_count: usize,
    out_word: *mut u32,
) -> PouwResult {
    guard(|| {
        let bits = slice(bits, bit_count)?;
        out_ptr(out_word)?;
        *out_word = signal_word_for(bits)?;
        Ok(())
    })
}

/// Frees a vote; NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_request_vote_free(vote: *mut pouw_request_vote) {
    free_handle(vote);
}
