//! What a chain keeps between blocks: the start of the next block, the genesis checkpoint and
//! the work arithmetic.

use crate::boundary::{digest, guard, handle, out_ptr, slice};
use crate::buffer::pouw_buffer;
use crate::params::pouw_params;
use crate::result::PouwResult;
use pouw::ident::cid_from_bytes;
use pouw::learning::gan::GanTrainer;
use pouw::learning::ProofOfLearning;
use pouw::work::{Start, Target, Work};

/// The largest binary CID the library produces or accepts, in bytes.
pub const POUW_MAX_CID_LEN: usize = 64;

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
    pub(super) fn from_start(s: &Start) -> Result<Self, PouwResult> {
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

    pub(super) fn as_start(&self) -> Result<Start, PouwResult> {
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
        let params = handle(params)?;
        let seed = digest(seed)?;
        out_ptr(out)?;
        let bytes =
            GanTrainer::from_seed(&params.inner.spec, &seed, params.device)?.checkpoint()?;
        pouw_buffer::write(out, bytes);
        Ok(())
    })
}
