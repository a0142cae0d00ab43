//! The vote and ledger C API called as C would call it: the same states, encodings and ledger
//! bytes as the Rust API, refusals that leave the ledger unchanged, revert and re-apply, and
//! typed codes for NULL, unknown and malformed arguments.
#![cfg(feature = "torch")]

mod common;

use common::{check, take};
use pouw::dataset::DType;
use pouw::growth::{
    Budget, DatasetRequest, Ledger, LedgerBlock, LedgerEntry, ReputationRule, RequestVote, Verdict,
};
use pouw::ident::cid_of;
use pouw_ffi::*;
use std::ptr::{null, null_mut};

const N: PouwResult = PouwResult::NullArgument;

fn request() -> DatasetRequest {
    DatasetRequest {
        dataset: cid_of(b"dataset"),
        shape: vec![1, 8, 8],
        dtype: DType::U8,
        value_max: 16,
        target_count: 100,
        spec: [7; 32],
        model: cid_of(b"judge"),
        threshold: 0.0,
        distance_reject_per_mille: 20,
        ink_min: 1,
        ink_max: 64,
        max_shift: 0,
        near_copy_per_mille: 150,
        near_copy_tolerance: 0,
        noise_copy_per_mille: 0,
        noise_copy_tolerance: 0,
        copy_transforms: 3,
        flat_patch_side: 0,
        flat_patch_grounds: [0; 32],
        near_flat_side: 0,
        near_flat_tolerance: 0,
        levels_per_mille: 0,
        levels_tolerance: 0,
        negative_rule: true,
        max_records: 64,
        max_bytes: 64 * 64,
    }
}

fn c_request(r: &DatasetRequest) -> *mut pouw_dataset_request {
    let bytes = r.to_bytes();
    let mut out = null_mut();
    unsafe {
        check(
            pouw_dataset_request_from_bytes(bytes.as_ptr(), bytes.len(), &mut out),
            PouwResult::Ok,
        );
    }
    out
}

const PARAMS: pouw_vote_params = pouw_vote_params {
    bit: 5,
    window: 10,
    threshold: 7,
    start_height: 20,
    timeout_height: 60,
    min_activation_height: 0,
};

#[test]
fn votes_give_the_rust_states_and_bytes() {
    let cid = cid_of(b"request").to_bytes();
    let rust = RequestVote {
        request: cid_of(b"request"),
        bit: 5,
        window: 10,
        threshold: 7,
        start_height: 20,
        timeout_height: 60,
        min_activation_height: 0,
    };
    unsafe {
        let mut vote = null_mut();
        check(
            pouw_request_vote_new(cid.as_ptr(), cid.len(), &PARAMS, &mut vote),
            PouwResult::Ok,
        );
        let mut buf = null_mut();
        check(pouw_request_vote_to_bytes(vote, &mut buf), PouwResult::Ok);
        assert_eq!(take(buf), rust.to_bytes());
        // Words that signal in a pattern: every state the Rust API gives at every height.
        let (mut yes, mut other) = (0u32, 0u32);
        check(
            pouw_signal_word_for([5u8].as_ptr(), 1, &mut yes),
            PouwResult::Ok,
        );
        check(
            pouw_signal_word_for([6u8].as_ptr(), 1, &mut other),
            PouwResult::Ok,
        );
        let words: Vec<u32> = (0..90u32)
            .map(|h| {
                if (20..30).contains(&h) || (30..40).contains(&h) && h % 3 != 0 {
                    yes
                } else {
                    other
                }
            })
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for h in 0..=words.len() {
            let mut s = pouw_vote_status {
                state: 99,
                since: 99,
            };
            check(
                pouw_request_vote_status(vote, words.as_ptr(), h, &mut s),
                PouwResult::Ok,
            );
            let r = rust.status(&words[..h]).unwrap();
            assert_eq!((s.state, s.since), (r.state.code(), r.since), "height {h}");
            seen.insert(s.state);
        }
        assert_eq!(
            seen.into_iter().collect::<Vec<_>>(),
            [
                POUW_VOTE_DEFINED,
                POUW_VOTE_STARTED,
                POUW_VOTE_LOCKED_IN,
                POUW_VOTE_ACTIVE
            ]
        );
        // From bytes, and its parameters back.
        let bytes = rust.to_bytes();
        let mut decoded = null_mut();
        check(
            pouw_request_vote_from_bytes(bytes.as_ptr(), bytes.len(), &mut decoded),
            PouwResult::Ok,
        );
        let mut p = pouw_vote_params {
            bit: 0,
            window: 0,
            threshold: 0,
            start_height: 0,
            timeout_height: 0,
            min_activation_height: 0,
        };
        check(pouw_request_vote_params(decoded, &mut p), PouwResult::Ok);
        assert_eq!(
            (p.bit, p.window, p.threshold, p.timeout_height),
            (5, 10, 7, 60)
        );
        check(
            pouw_request_vote_from_bytes(bytes.as_ptr(), bytes.len() - 1, &mut decoded),
            PouwResult::Truncated,
        );
        // Out-of-domain parameters, a CID that is not one, NULLs.
        for bad in [
            pouw_vote_params { bit: 29, ..PARAMS },
            pouw_vote_params {
                threshold: 11,
                ..PARAMS
            },
            pouw_vote_params {
                start_height: 25,
                ..PARAMS
            },
            pouw_vote_params {
                timeout_height: 20,
                ..PARAMS
            },
        ] {
            let mut v = null_mut();
            check(
                pouw_request_vote_new(cid.as_ptr(), cid.len(), &bad, &mut v),
                PouwResult::InvalidField,
            );
            assert!(v.is_null());
        }
        let mut v = null_mut();
        check(
            pouw_request_vote_new(b"xx".as_ptr(), 2, &PARAMS, &mut v),
            PouwResult::InvalidField,
        );
        check(
            pouw_request_vote_new(cid.as_ptr(), cid.len(), null(), &mut v),
            N,
        );
        check(
            pouw_request_vote_new(cid.as_ptr(), cid.len(), &PARAMS, null_mut()),
            N,
        );
        let mut s = pouw_vote_status { state: 0, since: 0 };
        check(
            pouw_request_vote_status(null(), words.as_ptr(), 1, &mut s),
            N,
        );
        check(pouw_request_vote_status(vote, null(), 1, &mut s), N);
        check(
            pouw_request_vote_status(vote, words.as_ptr(), 1, null_mut()),
            N,
        );
        // Signal words from header bytes.
        let mut w = 0u32;
        check(
            pouw_signal_word([0, 1, 0, 0x20].as_ptr(), 4, &mut w),
            PouwResult::Ok,
        );
        assert_eq!(w, 0x2000_0100);
        check(
            pouw_signal_word([0u8; 5].as_ptr(), 5, &mut w),
            PouwResult::InvalidField,
        );
        check(
            pouw_signal_word_for([29u8].as_ptr(), 1, &mut w),
            PouwResult::InvalidField,
        );
        let mut bits = 7u32;
        check(pouw_signalled_bits(0x6000_0001, &mut bits), PouwResult::Ok);
        assert_eq!(bits, 0);
        check(pouw_signalled_bits(1, null_mut()), N);
        pouw_request_vote_free(vote);
        pouw_request_vote_free(decoded);
        pouw_request_vote_free(null_mut());
    }
}

fn rule() -> ReputationRule {
    ReputationRule {
        ban_min_rejected: 2,
        ban_rejected_per_mille: 500,
        promote_min_accepted: 3,
        promote_rejected_per_mille: 100,
    }
}

/// Encodes a block through the C builder; entries are (submitter, verdict codes), or an open
/// when the submitter is empty.
unsafe fn c_block(
    height: u64,
    request: *const pouw_dataset_request,
    entries: &[(&[u8], &[u32])],
) -> Vec<u8> {
    let mut b = null_mut();
    check(
        pouw_ledger_block_new(
            height,
            [height as u8 + 1; 32].as_ptr(),
            [height as u8; 32].as_ptr(),
            &mut b,
        ),
        PouwResult::Ok,
    );
    for (who, codes) in entries {
        if who.is_empty() {
            check(pouw_ledger_block_open(b, request, 3, 30), PouwResult::Ok);
        } else {
            check(
                pouw_ledger_block_settle(
                    b,
                    request,
                    who.as_ptr(),
                    who.len(),
                    codes.as_ptr(),
                    codes.len(),
                ),
                PouwResult::Ok,
            );
        }
    }
    let mut buf = null_mut();
    check(pouw_ledger_block_to_bytes(b, &mut buf), PouwResult::Ok);
    pouw_ledger_block_free(b);
    take(buf)
}

unsafe fn c_ledger_bytes(l: *const pouw_ledger) -> Vec<u8> {
    let mut buf = null_mut();
    check(pouw_ledger_to_bytes(l, &mut buf), PouwResult::Ok);
    take(buf)
}

#[test]
fn the_ledger_follows_the_rust_api_refuses_and_reverts() {
    let r = request();
    let rust_rule = rule();
    let c_rule = pouw_reputation_rule {
        ban_min_rejected: rust_rule.ban_min_rejected,
        ban_rejected_per_mille: rust_rule.ban_rejected_per_mille,
        promote_min_accepted: rust_rule.promote_min_accepted,
        promote_rejected_per_mille: rust_rule.promote_rejected_per_mille,
    };
    let accepted = Verdict::Accepted { logit: 0.0 };
    let implausible = Verdict::Rejected(pouw::growth::Rejection::Implausible { logit: 0.0 });
    unsafe {
        let request = c_request(&r);
        let blocks = [
            c_block(1, request, &[(b"", &[])]),
            c_block(2, request, &[(b"alice", &[0, 0, 0]), (b"junk", &[8, 8, 0])]),
            c_block(3, request, &[(b"alice", &[0, 9])]),
        ];
        // The same blocks through the Rust API.
        let rust_blocks = [
            vec![LedgerEntry::open(&r, Budget { price: 3, cap: 30 })],
            vec![
                LedgerEntry::submission(&r, b"alice", &[accepted; 3]),
                LedgerEntry::submission(&r, b"junk", &[implausible, implausible, accepted]),
            ],
            vec![LedgerEntry::submission(
                &r,
                b"alice",
                &[
                    accepted,
                    Verdict::Rejected(pouw::growth::Rejection::RequestFilled),
                ],
            )],
        ];
        let mut rust = Ledger::new(rust_rule, [1; 32]).unwrap();
        let mut ledger = null_mut();
        check(
            pouw_ledger_new(&c_rule, [1u8; 32].as_ptr(), &mut ledger),
            PouwResult::Ok,
        );
        let mut states = vec![c_ledger_bytes(ledger)];
        for (i, (bytes, entries)) in blocks.iter().zip(rust_blocks).enumerate() {
            let h = i as u64 + 1;
            let rb = LedgerBlock {
                height: h,
                id: [h as u8 + 1; 32],
                parent: [h as u8; 32],
                entries,
            };
            assert_eq!(*bytes, rb.to_bytes(), "block {h}");
            rust.apply(&rb).unwrap();
            check(
                pouw_ledger_apply(ledger, bytes.as_ptr(), bytes.len()),
                PouwResult::Ok,
            );
            states.push(c_ledger_bytes(ledger));
            assert_eq!(states[i + 1], rust.to_bytes(), "ledger after block {h}");
        }
        let mut credits = 0u64;
        check(
            pouw_ledger_credits(ledger, b"alice".as_ptr(), 5, &mut credits),
            PouwResult::Ok,
        );
        assert_eq!(credits, 12);
        let mut st = pouw_submitter_standing {
            accepted: 0,
            rejected: 0,
            standing: 99,
        };
        check(
            pouw_ledger_standing(ledger, b"junk".as_ptr(), 4, &mut st),
            PouwResult::Ok,
        );
        assert_eq!(
            (st.accepted, st.rejected, st.standing),
            (1, 2, POUW_STANDING_BANNED)
        );
        let cid = r.cid().to_bytes();
        let mut account = pouw_request_account::default();
        check(
            pouw_ledger_request(ledger, cid.as_ptr(), cid.len(), &mut account),
            PouwResult::Ok,
        );
        assert!(account.open);
        assert_eq!(
            (account.limit, account.accepted, account.accepted_for_judge),
            (10, 5, 95)
        );
        let other = cid_of(b"other").to_bytes();
        check(
            pouw_ledger_request(ledger, other.as_ptr(), other.len(), &mut account),
            PouwResult::Ok,
        );
        assert!(!account.open);
        let (mut height, mut tip) = (0u64, [0u8; 32]);
        check(
            pouw_ledger_tip(ledger, &mut height, tip.as_mut_ptr()),
            PouwResult::Ok,
        );
        assert_eq!((height, tip), (3, [4; 32]));
        // Refused: the banned submitter, more than the budget pays for, a revert below the tip.
        for refused in [
            c_block(4, request, &[(b"alice", &[0]), (b"junk", &[0])]),
            c_block(4, request, &[(b"bob", &[0, 0, 0, 0, 0, 0])]),
        ] {
            check(
                pouw_ledger_apply(ledger, refused.as_ptr(), refused.len()),
                PouwResult::LedgerRefused,
            );
        }
        check(
            pouw_ledger_revert(ledger, blocks[1].as_ptr(), blocks[1].len()),
            PouwResult::LedgerRefused,
        );
        check(
            pouw_ledger_apply(ledger, blocks[1].as_ptr(), blocks[1].len()),
            PouwResult::LedgerRefused,
        );
        check(
            pouw_ledger_apply(ledger, b"PWLB".as_ptr(), 4),
            PouwResult::Truncated,
        );
        assert_eq!(c_ledger_bytes(ledger), states[3]);
        // Revert everything, then re-apply: the same bytes at every height.
        for i in (0..3).rev() {
            check(
                pouw_ledger_revert(ledger, blocks[i].as_ptr(), blocks[i].len()),
                PouwResult::Ok,
            );
            assert_eq!(c_ledger_bytes(ledger), states[i]);
        }
        for (i, b) in blocks.iter().enumerate() {
            check(
                pouw_ledger_apply(ledger, b.as_ptr(), b.len()),
                PouwResult::Ok,
            );
            assert_eq!(c_ledger_bytes(ledger), states[i + 1]);
        }
        let mut digest = [0u8; 32];
        check(
            pouw_ledger_digest(ledger, digest.as_mut_ptr()),
            PouwResult::Ok,
        );
        assert_eq!(digest, rust.digest());
        let mut decoded = null_mut();
        check(
            pouw_ledger_from_bytes(states[3].as_ptr(), states[3].len(), &mut decoded),
            PouwResult::Ok,
        );
        assert_eq!(c_ledger_bytes(decoded), states[3]);
        check(
            pouw_ledger_from_bytes(states[3].as_ptr(), states[3].len() - 1, &mut null_mut()),
            PouwResult::Truncated,
        );
        // Unknown verdict codes, NULLs.
        let mut b = null_mut();
        check(
            pouw_ledger_block_new(1, [0u8; 32].as_ptr(), [0u8; 32].as_ptr(), &mut b),
            PouwResult::Ok,
        );
        check(
            pouw_ledger_block_settle(b, request, b"x".as_ptr(), 1, [42u32].as_ptr(), 1),
            PouwResult::InvalidArgument,
        );
        check(
            pouw_ledger_block_settle(b, null(), b"x".as_ptr(), 1, [0u32].as_ptr(), 1),
            N,
        );
        check(pouw_ledger_block_open(null_mut(), request, 1, 1), N);
        check(
            pouw_ledger_block_new(1, null(), [0u8; 32].as_ptr(), &mut null_mut()),
            N,
        );
        check(pouw_ledger_new(&c_rule, null(), &mut null_mut()), N);
        check(
            pouw_ledger_new(null(), [0u8; 32].as_ptr(), &mut null_mut()),
            N,
        );
        check(
            pouw_ledger_apply(null_mut(), blocks[0].as_ptr(), blocks[0].len()),
            N,
        );
        check(pouw_ledger_revert(ledger, null(), 3), N);
        check(pouw_ledger_credits(ledger, b"a".as_ptr(), 1, null_mut()), N);
        check(pouw_ledger_tip(ledger, null_mut(), tip.as_mut_ptr()), N);
        pouw_ledger_block_free(b);
        pouw_ledger_block_free(null_mut());
        pouw_ledger_free(decoded);
        pouw_ledger_free(ledger);
        pouw_ledger_free(null_mut());
        pouw_dataset_request_free(request);
    }
}
