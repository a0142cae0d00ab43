//! The growth ledger: credits for accepted records under each request's budget, with the
//! submitters' reputation, applied and reverted block by block (see `pouw::growth::Ledger`).
//!
//! A chain builds each block's entries with a [`pouw_ledger_block`] (requests opened,
//! submissions settled from their verdict codes), stores the block's canonical bytes, and
//! gives them to [`pouw_ledger_apply`], or to [`pouw_ledger_revert`] when the block is
//! reorganised away. A refused block or revert is `POUW_RESULT_LEDGER_REFUSED` and leaves the
//! ledger unchanged.

use crate::boundary::{
    array, buffer_of, decode_into, digest, digest_of, free_handle, guard, handle, out_ptr, slice,
    write_digest, write_handle,
};
use crate::buffer::pouw_buffer;
use crate::growth::{
    pouw_reputation_rule, pouw_submitter_standing, standing_code, verdict_of_code,
};
use crate::request::pouw_dataset_request;
use crate::result::PouwResult;
use pouw::growth::{Budget, Ledger, LedgerBlock, LedgerEntry};
use pouw::ident::cid_from_bytes;

/// A ledger. Reads may run on any number of threads at once; [`pouw_ledger_apply`] and
/// [`pouw_ledger_revert`] change it and must not run alongside any other call on it.
#[allow(non_camel_case_types)]
pub struct pouw_ledger {
    inner: Ledger,
}

/// An open request's account, written by [`pouw_ledger_request`].
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default)]
pub struct pouw_request_account {
    /// Whether the request is open (the other fields are zero when not).
    pub open: bool,
    /// The request's target count.
    pub target: u64,
    /// Credits per accepted record.
    pub price: u64,
    /// Records the request pays for: the target, cut to what its cap pays for.
    pub limit: u64,
    /// Records accepted so far.
    pub accepted: u64,
    /// The `accepted_so_far` to give `pouw_judge_check`, so that it accepts no more records
    /// than the budget still pays for.
    pub accepted_for_judge: u64,
}

/// The entries of one chain block, built in order and encoded with
/// [`pouw_ledger_block_to_bytes`]. Not thread-safe while being built.
#[allow(non_camel_case_types)]
pub struct pouw_ledger_block {
    inner: LedgerBlock,
}

/// Makes an empty ledger at the chain's block `genesis` (32 bytes; height 0) under the
/// reputation `rule` and writes it to `*out` (free it with [`pouw_ledger_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_new(
    rule: *const pouw_reputation_rule,
    genesis: *const u8,
    out: *mut *mut pouw_ledger,
) -> PouwResult {
    guard(|| {
        let rule = *handle(rule)?;
        let genesis = digest(genesis)?;
        out_ptr(out)?;
        let inner = Ledger::new(rule.into(), genesis)?;
        write_handle(out, pouw_ledger { inner });
        Ok(())
    })
}

/// Decodes and validates a ledger from its canonical bytes (`bytes`, `len`; untrusted) and
/// writes it to `*out` (free it with [`pouw_ledger_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_ledger,
) -> PouwResult {
    decode_into(bytes, len, out, |bytes| {
        Ok(pouw_ledger {
            inner: Ledger::from_bytes(bytes)?,
        })
    })
}

/// Writes the canonical encoding of `ledger` to a new buffer `*out` (free it with
/// `pouw_buffer_free`). Safe alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_to_bytes(
    ledger: *const pouw_ledger,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(ledger, out, |l| Ok(l.inner.to_bytes()))
}

/// Writes the digest a chain commits to for `ledger` (32 bytes) to `out_digest`. Safe
/// alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_digest(
    ledger: *const pouw_ledger,
    out_digest: *mut u8,
) -> PouwResult {
    digest_of(ledger, out_digest, |l| Ok(l.inner.digest()))
}

/// Writes the height and the identifier (32 bytes) of the last block `ledger` applied to
/// `*out_height` and `out_tip`. Safe alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_tip(
    ledger: *const pouw_ledger,
    out_height: *mut u64,
    out_tip: *mut u8,
) -> PouwResult {
    guard(|| {
        let l = &handle(ledger)?.inner;
        out_ptr(out_height)?;
        out_ptr(out_tip)?;
        *out_height = l.height();
        write_digest(out_tip, &l.tip());
        Ok(())
    })
}

/// Applies the block whose canonical bytes are `block` (`len`; untrusted) on top of the tip:
/// every entry, or none when one is refused. Not thread-safe: no other call may use the ledger
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_apply(
    ledger: *mut pouw_ledger,
    block: *const u8,
    len: usize,
) -> PouwResult {
    change(ledger, block, len, Ledger::apply)
}

/// Reverts the tip block, whose canonical bytes are `block` (`len`; the same bytes that were
/// applied); its parent becomes the tip. Not thread-safe: no other call may use the ledger
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_revert(
    ledger: *mut pouw_ledger,
    block: *const u8,
    len: usize,
) -> PouwResult {
    change(ledger, block, len, Ledger::revert)
}

/// The body of apply and revert: decodes the block `(block, len)` and runs `how` on it.
///
/// # Safety
/// As [`slice`] for the block; `ledger` as a handle, used by no other call meanwhile.
unsafe fn change(
    ledger: *mut pouw_ledger,
    block: *const u8,
    len: usize,
    how: impl FnOnce(&mut Ledger, &LedgerBlock) -> pouw::Result<()>,
) -> PouwResult {
    guard(|| {
        let l = ledger.as_mut().ok_or(PouwResult::NullArgument)?;
        let block = LedgerBlock::from_bytes(slice(block, len)?)?;
        how(&mut l.inner, &block)?;
        Ok(())
    })
}

/// Writes the credits `submitter` (`submitter_len` bytes) has earned to `*out_credits` (0 when
/// unknown). Safe alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_credits(
    ledger: *const pouw_ledger,
    submitter: *const u8,
    submitter_len: usize,
    out_credits: *mut u64,
) -> PouwResult {
    guard(|| {
        let l = &handle(ledger)?.inner;
        let submitter = slice(submitter, submitter_len)?;
        out_ptr(out_credits)?;
        *out_credits = l.credits(submitter);
        Ok(())
    })
}

/// Writes the account of the request whose binary CID is `request_cid` (`request_cid_len`
/// bytes) to `*out` (`open` false when it is not open). Safe alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_request(
    ledger: *const pouw_ledger,
    request_cid: *const u8,
    request_cid_len: usize,
    out: *mut pouw_request_account,
) -> PouwResult {
    guard(|| {
        let l = &handle(ledger)?.inner;
        let cid = cid_from_bytes(slice(request_cid, request_cid_len)?)?;
        out_ptr(out)?;
        out.write(match l.request(&cid) {
            Some(a) => pouw_request_account {
                open: true,
                target: a.target,
                price: a.price,
                limit: a.limit,
                accepted: a.accepted,
                accepted_for_judge: a.accepted_for_judge(),
            },
            None => pouw_request_account::default(),
        });
        Ok(())
    })
}

/// Writes `submitter`'s (`submitter_len` bytes) counts and standing in the ledger's
/// reputation table to `*out`. Safe alongside other reads.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_standing(
    ledger: *const pouw_ledger,
    submitter: *const u8,
    submitter_len: usize,
    out: *mut pouw_submitter_standing,
) -> PouwResult {
    guard(|| {
        let r = handle(ledger)?.inner.reputation();
        let submitter = slice(submitter, submitter_len)?;
        out_ptr(out)?;
        let counts = r.counts(submitter);
        out.write(pouw_submitter_standing {
            accepted: counts.accepted,
            rejected: counts.rejected,
            standing: standing_code(r.standing(submitter)),
        });
        Ok(())
    })
}

/// Frees a ledger; NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_free(ledger: *mut pouw_ledger) {
    free_handle(ledger);
}

/// Starts the entries of the chain block at `height` with identifier `id` whose parent is
/// `parent` (32 bytes each) and writes it to `*out` (free it with
/// [`pouw_ledger_block_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_block_new(
    height: u64,
    id: *const u8,
    parent: *const u8,
    out: *mut *mut pouw_ledger_block,
) -> PouwResult {
    guard(|| {
        let (id, parent) = (digest(id)?, digest(parent)?);
        out_ptr(out)?;
        let inner = LedgerBlock {
            height,
            id,
            parent,
            entries: Vec::new(),
        };
        write_handle(out, pouw_ledger_block { inner });
        Ok(())
    })
}

/// Adds an entry opening `request` (its vote became active), paying `price` credits per
/// accepted record and `cap` in all. Budgets are checked when the block is applied.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_block_open(
    block: *mut pouw_ledger_block,
    request: *const pouw_dataset_request,
    price: u64,
    cap: u64,
) -> PouwResult {
    guard(|| {
        let b = block.as_mut().ok_or(PouwResult::NullArgument)?;
        let r = &handle(request)?.inner;
        b.inner
            .entries
            .push(LedgerEntry::open(r, Budget { price, cap }));
        Ok(())
    })
}

/// Adds an entry settling `submitter`'s (`submitter_len` bytes) submission to `request` from
/// its verdicts (`codes`, `code_count` record verdict codes as `pouw_judge_check` writes them;
/// an unknown code is `POUW_RESULT_INVALID_ARGUMENT`): accepted records are paid, and both
/// counts go to the submitter's reputation.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_block_settle(
    block: *mut pouw_ledger_block,
    request: *const pouw_dataset_request,
    submitter: *const u8,
    submitter_len: usize,
    codes: *const u32,
    code_count: usize,
) -> PouwResult {
    guard(|| {
        let b = block.as_mut().ok_or(PouwResult::NullArgument)?;
        let r = &handle(request)?.inner;
        let submitter = slice(submitter, submitter_len)?;
        let verdicts = array(codes, code_count)?
            .iter()
            .map(|&c| verdict_of_code(c))
            .collect::<Option<Vec<_>>>()
            .ok_or(PouwResult::InvalidArgument)?;
        b.inner
            .entries
            .push(LedgerEntry::submission(r, submitter, &verdicts));
        Ok(())
    })
}

/// Writes the canonical encoding of `block` (what the chain stores and gives to
/// [`pouw_ledger_apply`] and [`pouw_ledger_revert`]) to a new buffer `*out`.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_block_to_bytes(
    block: *const pouw_ledger_block,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(block, out, |b| Ok(b.inner.to_bytes()))
}

/// Frees a block; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn pouw_ledger_block_free(block: *mut pouw_ledger_block) {
    free_handle(block);
}
