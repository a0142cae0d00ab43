//! Growth as a chain runs it: request votes (the BIP9 state machine with heights, checked
//! against Bitcoin Core's own version-bits test scenarios), and the credit ledger (budgets,
//! bans, atomic blocks, revert and re-apply).

use pouw::dataset::DType;
use pouw::growth::{
    check_disjoint, finish_verdicts, signal_word, signal_word_for, signalled_bits, Budget,
    DatasetRequest, Ledger, LedgerBlock, LedgerEntry, Rejection, ReputationRule, RequestVote,
    Standing, Verdict, VoteState, VoteStatus, SIGNAL_TOP_BITS,
};
use pouw::hash::{sha3_256, Digest};
use pouw::ident::cid_of;

// ---- Votes ----

/// A chain's signal words, grown block by block as Bitcoin Core's `VersionBitsTester::Mine`
/// does: `mine(h, word)` adds blocks with `word` until the chain has `h` blocks.
#[derive(Default)]
struct Chain(Vec<u32>);

impl Chain {
    fn mine(&mut self, height: usize, word: u32) -> &mut Self {
        while self.0.len() < height {
            self.0.push(word);
        }
        self
    }

    /// The vote's state for the next block (the tester's `GetStateFor(tip)`) and since when.
    fn expect(&mut self, vote: &RequestVote, state: VoteState, since: u64) -> &mut Self {
        assert_eq!(
            vote.status(&self.0).unwrap(),
            VoteStatus { state, since },
            "at height {}",
            self.0.len()
        );
        self
    }
}

/// Bitcoin Core's test deployment in heights: windows of 1000 blocks, threshold 900, bit 8.
fn vote(start: u64, timeout: u64) -> RequestVote {
    RequestVote {
        request: cid_of(b"a dataset request"),
        bit: 8,
        window: 1000,
        threshold: 900,
        start_height: start,
        timeout_height: timeout,
        min_activation_height: 0,
    }
}

fn yes() -> u32 {
    signal_word_for(&[8]).unwrap()
}

fn no() -> u32 {
    signal_word_for(&[]).unwrap()
}

#[test]
fn started_then_failed_one_signal_short() {
    use VoteState::*;
    let v = vote(2000, 3000);
    Chain::default()
        .expect(&v, Defined, 0)
        .mine(1, no())
        .expect(&v, Defined, 0)
        .mine(1000, yes())
        .expect(&v, Defined, 0) // signals before the start count for nothing
        .mine(2000, yes())
        .expect(&v, Started, 2000)
        .mine(2051, no()) // 51 blocks without the bit
        .expect(&v, Started, 2000)
        .mine(2950, yes()) // 899 with it
        .expect(&v, Started, 2000)
        .mine(3000, no()) // 50 without: 899 of 1000
        .expect(&v, Failed, 3000)
        .mine(4000, yes())
        .expect(&v, Failed, 3000);
}

#[test]
fn locked_in_at_the_last_window_then_active() {
    use VoteState::*;
    let v = vote(2000, 3000);
    let other = signal_word_for(&[9]).unwrap();
    Chain::default()
        .mine(1, no())
        .mine(1000, yes())
        .expect(&v, Defined, 0)
        .mine(2000, yes())
        .expect(&v, Started, 2000)
        .mine(2050, other) // 50 blocks signalling another bit
        .expect(&v, Started, 2000)
        .mine(2950, yes()) // 900 signalling this one
        .expect(&v, Started, 2000)
        .mine(2999, other)
        .expect(&v, Started, 2000)
        .mine(3000, other) // 900 of 1000, in the window the timeout ends
        .expect(&v, LockedIn, 3000)
        .mine(3999, no())
        .expect(&v, LockedIn, 3000)
        .mine(4000, no())
        .expect(&v, Active, 4000)
        .mine(14333, no())
        .expect(&v, Active, 4000)
        .mine(24000, no())
        .expect(&v, Active, 4000);
}

/// Bitcoin Core's "threshold reached as the timeout passes" case: BIP9's first text failed the
/// deployment, Bitcoin Core counts the threshold first since 0.21.1, and so do we.
#[test]
fn a_full_last_window_locks_in_rather_than_fails() {
    use VoteState::*;
    let v = vote(2000, 3000);
    Chain::default()
        .mine(2000, yes())
        .expect(&v, Started, 2000)
        .mine(2999, yes())
        .expect(&v, Started, 2000)
        .mine(3000, yes())
        .expect(&v, LockedIn, 3000)
        .mine(4000, no())
        .expect(&v, Active, 4000);
}

#[test]
fn defined_and_started_for_several_windows_then_failed() {
    use VoteState::*;
    let v = vote(3000, 6000);
    Chain::default()
        .mine(999, no())
        .expect(&v, Defined, 0)
        .mine(1000, no())
        .expect(&v, Defined, 0)
        .mine(2000, no())
        .expect(&v, Defined, 0)
        .mine(3000, no())
        .expect(&v, Started, 3000)
        .mine(4000, no())
        .expect(&v, Started, 3000)
        .mine(5000, no())
        .expect(&v, Started, 3000)
        .mine(6000, no())
        .expect(&v, Failed, 6000)
        .mine(7000, yes())
        .expect(&v, Failed, 6000);
}

#[test]
fn the_minimum_activation_height_holds_a_locked_in_request() {
    use VoteState::*;
    let v = RequestVote {
        min_activation_height: 5500,
        ..vote(1000, 4000)
    };
    Chain::default()
        .mine(1000, no())
        .mine(2000, yes())
        .expect(&v, LockedIn, 2000)
        .mine(5000, no())
        .expect(&v, LockedIn, 2000)
        .mine(6000, no())
        .expect(&v, Active, 6000);
}

#[test]
fn a_start_at_zero_counts_from_the_second_window() {
    use VoteState::*;
    // The first window is always defined (BIP9): its signals are not counted.
    let v = vote(0, 3000);
    Chain::default()
        .mine(1000, yes())
        .expect(&v, Started, 1000)
        .mine(2000, yes())
        .expect(&v, LockedIn, 2000);
}

#[test]
fn words_without_the_top_bits_signal_nothing() {
    let v = vote(1000, 3000);
    for word in [0x100, 0x6000_0100, 0xE000_0100, 0x4000_0100] {
        assert!(!v.signalled_by(word), "{word:#x}");
        assert_eq!(signalled_bits(word), 0);
    }
    assert!(v.signalled_by(SIGNAL_TOP_BITS | 0x100));
    assert_eq!(signalled_bits(0x2000_0101), 0x101);
    let mut chain = Chain::default();
    chain
        .mine(1000, no())
        .mine(2000, 0x100)
        .expect(&v, VoteState::Started, 1000)
        .mine(3000, 0x100)
        .expect(&v, VoteState::Failed, 3000);
}

#[test]
fn the_signal_word_comes_from_its_four_header_bytes() {
    assert_eq!(signal_word(&[0x00, 0x01, 0x00, 0x20]).unwrap(), 0x2000_0100);
    assert!(signal_word(&[0; 3]).is_err());
    assert!(signal_word(&[0; 5]).is_err());
    assert!(signal_word_for(&[29]).is_err());
    assert_eq!(signal_word_for(&[0, 28]).unwrap(), 0x3000_0001);
}

/// A reorganisation: the state is recomputed from the branch the chain now follows, so two
/// branches sharing 2500 blocks reach different outcomes and returning to the first gives its
/// outcome again.
#[test]
fn a_reorganisation_recomputes_the_state_from_the_new_branch() {
    let v = vote(2000, 3000);
    let mut a = Chain::default();
    a.mine(2000, no()).mine(3000, yes());
    let mut b = Chain(a.0[..2500].to_vec());
    b.mine(3000, no());
    assert_eq!(v.status(&a.0).unwrap().state, VoteState::LockedIn);
    assert_eq!(v.status(&b.0).unwrap().state, VoteState::Failed);
    // Back to a's branch after b was followed.
    let mut back = Chain(b.0[..2500].to_vec());
    back.mine(3000, yes());
    assert_eq!(v.status(&back.0).unwrap(), v.status(&a.0).unwrap());
}

#[test]
fn votes_round_trip_validate_and_share_no_bit() {
    let v = vote(2000, 3000);
    assert_eq!(RequestVote::from_bytes(&v.to_bytes()).unwrap(), v);
    let bytes = v.to_bytes();
    for cut in 0..bytes.len() {
        assert!(RequestVote::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
    }
    for bad in [
        RequestVote {
            bit: 29,
            ..v.clone()
        },
        RequestVote {
            window: 0,
            ..v.clone()
        },
        RequestVote {
            threshold: 0,
            ..v.clone()
        },
        RequestVote {
            threshold: 1001,
            ..v.clone()
        },
        RequestVote {
            start_height: 2500,
            ..v.clone()
        },
        RequestVote {
            timeout_height: 2000,
            ..v.clone()
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
        assert!(RequestVote::from_bytes(&bad.to_bytes()).is_err());
        assert!(bad.status(&[]).is_err());
    }
    let later = RequestVote {
        request: cid_of(b"another request"),
        ..vote(3000, 5000)
    };
    check_disjoint(&[v.clone(), later.clone()]).unwrap();
    let overlapping = RequestVote {
        start_height: 2000,
        ..later.clone()
    };
    assert!(check_disjoint(&[v.clone(), overlapping.clone()]).is_err());
    check_disjoint(&[
        v,
        RequestVote {
            bit: 9,
            ..overlapping
        },
    ])
    .unwrap();
}

// ---- The ledger ----

fn request(target: u64, tag: &[u8]) -> DatasetRequest {
    DatasetRequest {
        dataset: cid_of(tag),
        shape: vec![1, 8, 8],
        dtype: DType::U8,
        value_max: 16,
        target_count: target,
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

fn id(height: u64, branch: &str) -> Digest {
    sha3_256(format!("{branch} {height}").as_bytes())
}

fn genesis() -> Digest {
    id(0, "main")
}

/// Block `height` of `branch` on top of `parent` (the main branch's previous block when None).
fn block(height: u64, branch: &str, entries: Vec<LedgerEntry>) -> LedgerBlock {
    let parent_branch = if height == 1 { "main" } else { branch };
    LedgerBlock {
        height,
        id: id(height, branch),
        parent: id(height - 1, parent_branch),
        entries,
    }
}

fn settle(r: &DatasetRequest, who: &[u8], accepted: u64, rejected: u64) -> LedgerEntry {
    LedgerEntry::Submission {
        request: r.cid(),
        submitter: who.to_vec(),
        accepted,
        rejected,
    }
}

fn rule() -> ReputationRule {
    ReputationRule {
        ban_min_rejected: 5,
        ban_rejected_per_mille: 500,
        promote_min_accepted: 4,
        promote_rejected_per_mille: 100,
    }
}

#[test]
fn a_budget_pays_up_to_its_cap_and_a_filled_request_takes_no_more() {
    let r = request(10, b"faces");
    let mut ledger = Ledger::new(rule(), genesis()).unwrap();
    // 3 credits a record, 20 in all: 6 records, fewer than the target of 10.
    let budget = Budget { price: 3, cap: 20 };
    ledger
        .apply(&block(1, "main", vec![LedgerEntry::open(&r, budget)]))
        .unwrap();
    let account = ledger.request(&r.cid()).unwrap();
    assert_eq!((account.limit, account.remaining()), (6, 6));
    assert_eq!(account.accepted_for_judge(), 4);
    ledger
        .apply(&block(2, "main", vec![settle(&r, b"alice", 4, 0)]))
        .unwrap();
    assert_eq!(ledger.credits(b"alice"), 12);
    // Three more than the two it still pays for: the block is refused.
    let before = ledger.to_bytes();
    assert!(ledger
        .apply(&block(3, "main", vec![settle(&r, b"bob", 3, 0)]))
        .is_err());
    assert_eq!(ledger.to_bytes(), before);
    // The judge, given the ledger's count, accepts exactly the two.
    let account = ledger.request(&r.cid()).unwrap();
    let verdicts =
        finish_verdicts(&r, vec![None; 3], &[1.0; 3], account.accepted_for_judge()).unwrap();
    assert_eq!(
        verdicts.iter().filter(|v| v.is_accepted()).count(),
        2,
        "{verdicts:?}"
    );
    assert_eq!(verdicts[2], Verdict::Rejected(Rejection::RequestFilled));
    let entry = LedgerEntry::submission(&r, b"bob", &verdicts);
    ledger.apply(&block(3, "main", vec![entry])).unwrap();
    assert_eq!(ledger.credits(b"bob"), 6);
    let account = ledger.request(&r.cid()).unwrap();
    assert!(account.is_filled());
    assert!(ledger.credits(b"alice") + ledger.credits(b"bob") <= budget.cap);
    // Filled: even an empty settlement is refused.
    assert!(ledger
        .apply(&block(4, "main", vec![settle(&r, b"carol", 0, 1)]))
        .is_err());
    // A request opens once; one never opened takes nothing.
    assert!(ledger
        .apply(&block(4, "main", vec![LedgerEntry::open(&r, budget)]))
        .is_err());
    let unknown = request(5, b"unknown");
    assert!(ledger
        .apply(&block(4, "main", vec![settle(&unknown, b"carol", 1, 0)]))
        .is_err());
    for bad in [Budget { price: 0, cap: 5 }, Budget { price: 5, cap: 4 }] {
        let other = request(5, b"other");
        assert!(ledger
            .apply(&block(4, "main", vec![LedgerEntry::open(&other, bad)]))
            .is_err());
    }
    assert_eq!(ledger.height(), 3);
}

#[test]
fn a_submitter_banned_mid_request_is_refused_and_the_budget_stays_for_others() {
    let r = request(100, b"faces");
    let mut ledger = Ledger::new(rule(), genesis()).unwrap();
    ledger
        .apply(&block(
            1,
            "main",
            vec![
                LedgerEntry::open(&r, Budget { price: 2, cap: 200 }),
                settle(&r, b"honest", 5, 0),
                settle(&r, b"junk", 1, 4),
            ],
        ))
        .unwrap();
    assert_eq!(ledger.reputation().standing(b"junk"), Standing::Normal);
    assert_eq!(ledger.reputation().standing(b"honest"), Standing::Promoted);
    // Its next submission bans it (5 rejections, over half its records)...
    ledger
        .apply(&block(2, "main", vec![settle(&r, b"junk", 0, 2)]))
        .unwrap();
    assert_eq!(ledger.reputation().standing(b"junk"), Standing::Banned);
    assert_eq!(ledger.credits(b"junk"), 2, "what it earned before stays");
    // ...and a block settling another of its submissions is refused whole, the honest
    // settlement in it included.
    let before = ledger.to_bytes();
    let refused = block(
        3,
        "main",
        vec![settle(&r, b"honest", 3, 0), settle(&r, b"junk", 3, 0)],
    );
    assert!(ledger.apply(&refused).is_err());
    assert_eq!(ledger.to_bytes(), before);
    ledger
        .apply(&block(3, "main", vec![settle(&r, b"honest", 3, 0)]))
        .unwrap();
    let account = ledger.request(&r.cid()).unwrap();
    assert_eq!((account.accepted, account.remaining()), (9, 91));
    assert_eq!(ledger.credits(b"honest"), 16);
}

/// Apply a main branch, revert to the fork point, follow another branch, revert it, re-apply
/// the main branch: every height's ledger has the same bytes as the first time, and reverting
/// everything gives the empty ledger.
#[test]
fn revert_and_reapply_give_the_same_ledger() {
    let (r1, r2) = (request(50, b"faces"), request(8, b"bridges"));
    let main: Vec<LedgerBlock> = vec![
        block(
            1,
            "main",
            vec![LedgerEntry::open(
                &r1,
                Budget {
                    price: 5,
                    cap: 1000,
                },
            )],
        ),
        block(
            2,
            "main",
            vec![settle(&r1, b"a", 10, 1), settle(&r1, b"b", 0, 3)],
        ),
        block(
            3,
            "main",
            vec![
                LedgerEntry::open(&r2, Budget { price: 1, cap: 8 }),
                settle(&r2, b"a", 8, 0),
            ],
        ),
        block(
            4,
            "main",
            vec![settle(&r1, b"b", 2, 4), settle(&r1, b"c", 7, 0)],
        ),
        block(5, "main", vec![settle(&r1, b"c", 1, 0)]),
    ];
    let empty = Ledger::new(rule(), genesis()).unwrap();
    let mut ledger = empty.clone();
    let mut at = vec![ledger.to_bytes()];
    for b in &main {
        ledger.apply(b).unwrap();
        at.push(ledger.to_bytes());
    }
    assert_eq!(ledger.reputation().standing(b"b"), Standing::Banned);
    // The tip only: reverting block 3 first is refused.
    assert!(ledger.revert(&main[2]).is_err());
    for b in main[2..].iter().rev() {
        ledger.revert(b).unwrap();
        assert_eq!(ledger.to_bytes(), at[b.height as usize - 1]);
    }
    // Another branch from block 2: b is not banned there and r2 never opens.
    let fork = vec![
        LedgerBlock {
            parent: main[1].id,
            ..block(3, "fork", vec![settle(&r1, b"b", 6, 0)])
        },
        block(4, "fork", vec![settle(&r1, b"d", 30, 0)]),
    ];
    for b in &fork {
        ledger.apply(b).unwrap();
    }
    assert_eq!(ledger.reputation().standing(b"b"), Standing::Normal);
    assert_eq!(ledger.request(&r1.cid()).unwrap().accepted, 46);
    for b in fork.iter().rev() {
        ledger.revert(b).unwrap();
    }
    assert_eq!(ledger.to_bytes(), at[2]);
    for b in &main[2..] {
        ledger.apply(b).unwrap();
        assert_eq!(ledger.to_bytes(), at[b.height as usize]);
    }
    let digest = ledger.digest();
    assert_eq!(Ledger::from_bytes(&ledger.to_bytes()).unwrap(), ledger);
    assert_eq!(
        Ledger::from_bytes(&ledger.to_bytes()).unwrap().digest(),
        digest
    );
    for b in main.iter().rev() {
        ledger.revert(b).unwrap();
    }
    assert_eq!(ledger, empty);
    assert!(ledger.revert(&main[0]).is_err(), "nothing left to revert");
}

#[test]
fn a_revert_of_entries_that_were_not_applied_changes_nothing() {
    let r = request(50, b"faces");
    let mut ledger = Ledger::new(rule(), genesis()).unwrap();
    let one = block(
        1,
        "main",
        vec![LedgerEntry::open(&r, Budget { price: 1, cap: 50 })],
    );
    let two = block(2, "main", vec![settle(&r, b"a", 3, 0)]);
    ledger.apply(&one).unwrap();
    ledger.apply(&two).unwrap();
    let before = ledger.to_bytes();
    // The tip's id with other entries: the last reverts, the first cannot, and the last is
    // put back.
    let forged = LedgerBlock {
        entries: vec![settle(&r, b"a", 9, 0), settle(&r, b"a", 1, 0)],
        ..two.clone()
    };
    assert!(ledger.revert(&forged).is_err());
    assert_eq!(ledger.to_bytes(), before);
    // A block that does not extend the tip.
    assert!(ledger.apply(&block(2, "main", vec![])).is_err());
    assert!(ledger.apply(&block(4, "main", vec![])).is_err());
    assert_eq!(ledger.to_bytes(), before);
}

#[test]
fn ledger_and_block_bytes_round_trip_and_refuse_damage() {
    let r = request(50, b"faces");
    let b = block(
        1,
        "main",
        vec![
            LedgerEntry::open(&r, Budget { price: 2, cap: 40 }),
            settle(&r, b"alice", 3, 1),
        ],
    );
    let bytes = b.to_bytes();
    assert_eq!(LedgerBlock::from_bytes(&bytes).unwrap(), b);
    for cut in 0..bytes.len() {
        assert!(LedgerBlock::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
    }
    let mut ledger = Ledger::new(rule(), genesis()).unwrap();
    ledger.apply(&b).unwrap();
    let bytes = ledger.to_bytes();
    for cut in 0..bytes.len() {
        assert!(Ledger::from_bytes(&bytes[..cut]).is_err(), "cut {cut}");
    }
    // Accepted above the limit: the last account field (accepted) raised past limit 20.
    let mut bad = bytes.clone();
    let credits_start = bytes.len() - (4 + 4 + 5 + 8);
    let accepted_at = credits_start - 8;
    bad[accepted_at..credits_start].copy_from_slice(&21u64.to_le_bytes());
    assert!(Ledger::from_bytes(&bad).is_err());
    let mut trailing = bytes;
    trailing.push(0);
    assert!(Ledger::from_bytes(&trailing).is_err());
}
