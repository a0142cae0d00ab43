//! Decodes arbitrary bytes as a record-free block proof under the golden parameters' limits
//! (seeds: the golden proof's record-free form): never panics, and whatever decodes re-encodes to
//! the same bytes (one encoding per value).
#![no_main]

use pouw_fuzz::golden;

use libfuzzer_sys::fuzz_target;
use pouw::work::RecordFreeProof;

fuzz_target!(|data: &[u8]| {
    if let Ok(proof) = RecordFreeProof::from_bytes(data, golden::limits()) {
        assert_eq!(
            proof.to_bytes(),
            data,
            "decoded record-free proof re-encodes differently"
        );
    }
});
