//! Capacity-proof verification.

use crate::boundary::{digest, guard, slice};
use crate::result::PouwResult;
use pouw::capacity::ChallengeFor;
use pouw::CapacityChallenge;

/// Verifies an encoded capacity response against the challenge derived from the block context
/// (`header_hash`, 32 bytes; `miner_id`), the dataset (`root`, 32 bytes; `count` records of
/// `record_size` bytes), `epoch` and `k` challenges. Returns `POUW_RESULT_OK` when the response
/// is valid, else the rejection reason. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_capacity_verify(
    header_hash: *const u8,
    miner_id: *const u8,
    miner_id_len: usize,
    root: *const u8,
    count: u64,
    record_size: u64,
    epoch: u64,
    k: u32,
    response: *const u8,
    response_len: usize,
) -> PouwResult {
    guard(|| {
        let header_hash = digest(header_hash)?;
        let root = digest(root)?;
        let miner_id = slice(miner_id, miner_id_len)?;
        let response = slice(response, response_len)?;
        let challenge = CapacityChallenge::new(&ChallengeFor {
            header_hash: &header_hash,
            miner_id,
            dataset_root: &root,
            records: count,
            record_size,
            epoch,
            challenges: k,
        })?;
        challenge.verify_bytes(response)?;
        Ok(())
    })
}
