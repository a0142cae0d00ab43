//! The same input twice gives identical bytes and verdicts: every decoder and the verifier run
//! twice on one input and must agree exactly (same value or same error, same re-encoding), and
//! whatever decodes re-encodes to the input. Consensus depends on every node reading the same
//! bytes the same way.
//!
//! The first byte chooses the parser; the rest is its input.
#![no_main]

use pouw_fuzz::chain;
use pouw_fuzz::golden;
use pouw_fuzz::mock;

use libfuzzer_sys::fuzz_target;
use pouw::capacity::{CapacityResponse, ResponseLimits};
use pouw::dataset::Manifest;
use pouw::growth::{AppendProof, DatasetRequest, GenerationPointer, Reputation};
use pouw::learning::gan::GanSpec;
use pouw::learning::Trajectory;
use pouw::work::{verify, BlockProof, ConsensusParams, FraudProof};

/// Runs `decode` twice and checks the runs agree, and that a decoded value re-encodes to the
/// input.
fn twice<T: std::fmt::Debug>(
    bytes: &[u8],
    decode: impl Fn(&[u8]) -> pouw::Result<T>,
    encode: impl Fn(&T) -> Vec<u8>,
) {
    let (a, b) = (decode(bytes), decode(bytes));
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "two decodings differ");
    if let Ok(v) = a {
        assert_eq!(encode(&v), bytes, "a decoded value re-encodes differently");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else {
        return;
    };
    match which % 12 {
        0 => twice(
            bytes,
            |b| BlockProof::from_bytes(b, golden::limits()),
            BlockProof::to_bytes,
        ),
        1 => {
            let c = chain::chain();
            let a = verify::<mock::Mock>(&c.input(&c.store), bytes);
            let b = verify::<mock::Mock>(&c.input(&c.store), bytes);
            assert_eq!(format!("{a:?}"), format!("{b:?}"), "two verdicts differ");
        }
        2 => {
            let f = golden::checkpoint_format();
            twice(bytes, |b| f.decode(b), |c| f.encode(c).unwrap());
        }
        3 => twice(bytes, Manifest::from_bytes, Manifest::to_bytes),
        4 => twice(
            bytes,
            |b| CapacityResponse::from_bytes(b, &ResponseLimits::default()),
            CapacityResponse::to_bytes,
        ),
        5 => twice(bytes, DatasetRequest::from_bytes, DatasetRequest::to_bytes),
        6 => twice(bytes, Reputation::from_bytes, Reputation::to_bytes),
        7 => twice(bytes, AppendProof::from_bytes, AppendProof::to_bytes),
        8 => twice(
            bytes,
            GenerationPointer::from_bytes,
            GenerationPointer::to_bytes,
        ),
        9 => twice(
            bytes,
            ConsensusParams::<GanSpec>::from_bytes,
            ConsensusParams::to_bytes,
        ),
        10 => twice(
            bytes,
            |b| Trajectory::from_bytes(b, (b.len().saturating_sub(16) / 32) as u64),
            Trajectory::to_bytes,
        ),
        _ => twice(
            bytes,
            |b| FraudProof::from_bytes(b, golden::params()),
            FraudProof::to_bytes,
        ),
    }
});
