//! Decodes arbitrary bytes as a block proof under the golden parameters' limits (seeds: the
//! golden proof): never panics, and whatever decodes re-encodes to the same bytes (one encoding
//! per value).
#![no_main]

use pouw_fuzz::golden;

use libfuzzer_sys::fuzz_target;
use pouw::work::BlockProof;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = BlockProof::from_bytes(data, golden::limits()) {
        assert_eq!(
            proof.to_bytes(),
            data,
            "decoded proof re-encodes differently"
        );
    }
});
