//! Decodes arbitrary bytes (or a valid `CURRENT` pointer with fuzzer-chosen byte flips, see
//! `patch.rs`) as a growing dataset's generation pointer: never panics, whatever decodes names a
//! generation directory inside the home directory, and re-encodes to the same bytes.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::growth::GenerationPointer;
use pouw::ident::cid_of;
use std::sync::OnceLock;

fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let pointer = GenerationPointer {
            generation: "g0000000000001797-0123456789abcdef".into(),
            manifest: cid_of(b"manifest"),
        };
        let bytes = pointer.to_bytes();
        GenerationPointer::from_bytes(&bytes).expect("valid template");
        bytes
    })
}

fuzz_target!(|data: &[u8]| {
    let bytes = patch::input(data, template());
    if let Ok(pointer) = GenerationPointer::from_bytes(&bytes) {
        let name = &pointer.generation;
        assert!(
            !name.contains('/')
                && !name.contains('\\')
                && !name.contains("..")
                && name.starts_with('g'),
            "{name:?}"
        );
        assert_eq!(
            pointer.to_bytes(),
            bytes,
            "a decoded pointer re-encodes differently"
        );
    }
});
