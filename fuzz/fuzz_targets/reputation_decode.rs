//! Decodes arbitrary bytes (or a valid reputation table with fuzzer-chosen byte flips, see
//! `patch.rs`) as a reputation table: never panics, whatever decodes re-encodes to the same
//! bytes (its digest commits to one encoding), and standings of its submitters are computable.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::growth::{Reputation, ReputationRule};
use std::sync::OnceLock;

fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        let mut table = Reputation::new(ReputationRule::default()).expect("default rule");
        table.add(b"alice", 120, 3).unwrap();
        table.add(b"bob", 1, 30).unwrap();
        table.add(b"carol", 0, 1).unwrap();
        table.to_bytes()
    })
}

fuzz_target!(|data: &[u8]| {
    let bytes = patch::input(data, template());
    if let Ok(table) = Reputation::from_bytes(&bytes) {
        assert_eq!(
            table.to_bytes(),
            bytes,
            "a decoded table re-encodes differently"
        );
        assert_eq!(
            Reputation::from_bytes(&bytes).ok().as_ref(),
            Some(&table),
            "decoding is not deterministic"
        );
        assert!(table.rule().validate().is_ok());
        for (id, counts) in table.iter() {
            assert!(!id.is_empty() && id.len() <= 64);
            assert_eq!(table.counts(id), *counts);
            let _ = table.standing(id);
        }
        let _ = table.digest();
    }
});
