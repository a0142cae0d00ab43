//! Decodes arbitrary bytes as a dataset manifest: it must never panic, and whatever decodes must
//! re-encode to the identical bytes (the manifest's CID names exactly one encoding).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pouw::Manifest;

fuzz_target!(|data: &[u8]| {
    if let Ok(manifest) = Manifest::from_bytes(data) {
        assert_eq!(
            manifest.to_bytes(),
            data,
            "a decoded manifest re-encodes differently"
        );
    }
});
