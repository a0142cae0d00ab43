//! Decodes arbitrary bytes as a block proof: never panics, and whatever decodes re-encodes to the
//! same bytes (one encoding per value).
#![no_main]

#[path = "../mock.rs"]
mod mock;

use libfuzzer_sys::fuzz_target;
use pouw::work::{BlockProof, ConsensusParams, ProofLimits};
use std::sync::OnceLock;

fn limits() -> &'static ProofLimits {
    static L: OnceLock<ProofLimits> = OnceLock::new();
    L.get_or_init(|| {
        let spec = mock::MockSpec {
            dataset: pouw::ident::cid_of(b"fuzz"),
            batch_size: 4,
            record_size: 16,
        };
        let mut params = ConsensusParams::new(spec, [0; 32], 64);
        params.opened_steps = 3;
        params.capacity_challenges = 4;
        ProofLimits::of(&params)
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = BlockProof::from_bytes(data, limits()) {
        assert_eq!(
            proof.to_bytes(),
            data,
            "decoded proof re-encodes differently"
        );
    }
});
