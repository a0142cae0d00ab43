//! Decodes arbitrary bytes (or a valid ledger block with fuzzer-chosen byte flips, see
//! `patch.rs`) as a growth ledger block and applies it to a ledger with an open request: never
//! panics, whatever decodes re-encodes to the same bytes, a refused block leaves the ledger's
//! bytes unchanged, and an applied one reverts to them exactly. The same bytes decoded as a
//! ledger and as a request vote re-encode to themselves.
#![no_main]

use pouw_fuzz::patch;

use libfuzzer_sys::fuzz_target;
use pouw::growth::{Budget, Ledger, LedgerBlock, LedgerEntry, ReputationRule, RequestVote};
use pouw::hash::sha3_256;
use pouw::ident::cid_of;
use std::sync::OnceLock;

fn settle(request: &[u8], who: &[u8], accepted: u64, rejected: u64) -> LedgerEntry {
    LedgerEntry::Submission {
        request: cid_of(request),
        submitter: who.to_vec(),
        accepted,
        rejected,
    }
}

/// A ledger at height 2: request `r` open (price 2, cap 40: 20 records), alice and bob settled.
fn base() -> &'static (Ledger, Vec<u8>) {
    static B: OnceLock<(Ledger, Vec<u8>)> = OnceLock::new();
    B.get_or_init(|| {
        let rule = ReputationRule {
            ban_min_rejected: 3,
            ..ReputationRule::default()
        };
        let mut ledger = Ledger::new(rule, sha3_256(b"0")).expect("rule");
        for (h, entries) in [
            (
                1u64,
                vec![LedgerEntry::Open {
                    request: cid_of(b"r"),
                    target: 100,
                    budget: Budget { price: 2, cap: 40 },
                }],
            ),
            (
                2,
                vec![settle(b"r", b"alice", 5, 0), settle(b"r", b"bob", 1, 2)],
            ),
        ] {
            let block = LedgerBlock {
                height: h,
                id: sha3_256(&[h as u8]),
                parent: ledger.tip(),
                entries,
            };
            ledger.apply(&block).expect("base block applies");
        }
        let bytes = ledger.to_bytes();
        (ledger, bytes)
    })
}

/// Block 3 on the base: a settlement, a second request opened and settled.
fn template() -> &'static [u8] {
    static T: OnceLock<Vec<u8>> = OnceLock::new();
    T.get_or_init(|| {
        LedgerBlock {
            height: 3,
            id: sha3_256(&[3]),
            parent: base().0.tip(),
            entries: vec![
                settle(b"r", b"alice", 3, 1),
                LedgerEntry::Open {
                    request: cid_of(b"s"),
                    target: 5,
                    budget: Budget { price: 7, cap: 70 },
                },
                settle(b"s", b"bob", 2, 0),
            ],
        }
        .to_bytes()
    })
}

fuzz_target!(|data: &[u8]| {
    let bytes = patch::input(data, template());
    if let Ok(block) = LedgerBlock::from_bytes(&bytes) {
        assert_eq!(
            block.to_bytes(),
            bytes,
            "a decoded block re-encodes differently"
        );
        let (base, base_bytes) = base();
        let mut ledger = base.clone();
        match ledger.apply(&block) {
            Err(_) => assert_eq!(
                ledger.to_bytes(),
                *base_bytes,
                "a refused block changed the ledger"
            ),
            Ok(()) => {
                let applied = ledger.to_bytes();
                assert_eq!(Ledger::from_bytes(&applied).ok().as_ref(), Some(&ledger));
                ledger.revert(&block).expect("the applied block reverts");
                assert_eq!(ledger.to_bytes(), *base_bytes, "revert is not exact");
            }
        }
    }
    if let Ok(ledger) = Ledger::from_bytes(&bytes) {
        assert_eq!(
            ledger.to_bytes(),
            bytes,
            "a decoded ledger re-encodes differently"
        );
    }
    if let Ok(vote) = RequestVote::from_bytes(&bytes) {
        assert_eq!(
            vote.to_bytes(),
            bytes,
            "a decoded vote re-encodes differently"
        );
        let words: Vec<u32> = bytes.iter().map(|&b| 0x2000_0000 | u32::from(b)).collect();
        vote.status(&words).expect("a valid vote has a status");
    }
});
