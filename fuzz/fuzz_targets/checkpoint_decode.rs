//! Decodes arbitrary bytes as a checkpoint of the golden spec (the largest untrusted parser a
//! verifier runs; seeds: the golden checkpoints): never panics, allocates nothing an input's
//! size does not justify, and whatever decodes re-encodes to the same bytes.
//!
//! Input modes (`patch.rs`): even first byte, the rest as is; odd, a valid checkpoint (all
//! zeros, step 1) patched by (u16 offset, xor) triples.
#![no_main]

use pouw_fuzz::golden;
use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::learning::gan::DecodedCheckpoint;
use std::sync::OnceLock;

fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let format = golden::checkpoint_format();
        let zeros = DecodedCheckpoint {
            step: 1,
            tensors: format.lens().iter().map(|&n| vec![0.0; n]).collect(),
        };
        format.encode(&zeros).expect("zeros encode")
    })
}

fuzz_target!(|data: &[u8]| {
    let format = golden::checkpoint_format();
    let bytes = patch::input(data, template());
    if let Ok(checkpoint) = format.decode(&bytes) {
        assert_eq!(bytes.len(), format.size());
        assert!(checkpoint.tensors.iter().flatten().all(|v| v.is_finite()));
        assert_eq!(
            format
                .encode(&checkpoint)
                .expect("a decoded checkpoint encodes"),
            bytes,
            "a decoded checkpoint re-encodes differently"
        );
    }
});
