//! The work function: mining and verifying chained blocks, concurrency, and rejection of every
//! kind of bad proof, each with the error it must give.
#![cfg(feature = "torch")]

mod common;

use common::flat::verify;

use common::work::chain;
use pouw::ident::{cid_of, CidProfile};
use pouw::learning::gan::GanTrainer;
use pouw::learning::BlobStore;
use pouw::learning::DeviceChoice;
use pouw::work::{
    mine, BlockProof, MineInput, MineOptions, MineOutcome, ProofLimits, Target, Work,
};
use pouw::Error;
use std::sync::atomic::AtomicBool;

const MINER: &[u8] = b"miner-1";

#[test]
fn three_chained_blocks_mine_and_verify() {
    let c = chain();
    let mut start = c.genesis_start();
    let mut bytes = c.genesis.clone();
    let mut total = Work::ZERO;
    for height in 0..3u8 {
        let header = [height + 1; 32];
        let block = c.mine(header, MINER, &bytes);
        let verdict =
            verify::<GanTrainer>(&c.input(header, MINER, &start), &block.proof.to_bytes()).unwrap();
        assert_eq!(verdict.steps, block.proof.steps);
        assert_eq!(verdict.next, c.start_of(&block.winning_checkpoint));
        assert_eq!(verdict.next.steps, start.steps + verdict.steps);
        assert_eq!(*verdict.opened.last().unwrap(), verdict.steps);
        // Scoring is apart from validity: the same scores on a second call, finite.
        let scoring = pouw::work::AssessInput {
            start: &start,
            params: &c.params,
            store: &c.store,
            device: DeviceChoice::Cpu,
        };
        let scores = pouw::work::assess::<GanTrainer>(&scoring, &block.proof).unwrap();
        assert!(scores.start_quality.is_finite() && scores.end_quality.is_finite());
        assert_eq!(
            scores,
            pouw::work::assess::<GanTrainer>(&scoring, &block.proof).unwrap()
        );
        assert_eq!(verdict.work, Work::of(&c.target));
        total = total.checked_add(&verdict.work).unwrap();
        start = verdict.next;
        bytes = block.winning_checkpoint;
    }
    assert_eq!(
        total.to_u128(),
        Some(3 * Work::of(&c.target).to_u128().unwrap())
    );
}

#[test]
fn proof_round_trips_through_its_encoding() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    assert_eq!(
        BlockProof::from_bytes(&bytes, &ProofLimits::of(&c.params)).unwrap(),
        block.proof
    );
}

#[test]
fn bindings_are_checked() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let genesis = c.genesis_start();
    let check =
        |input: pouw::work::VerifyInput<'_, _>| verify::<GanTrainer>(&input, &bytes).unwrap_err();
    assert!(matches!(
        check(c.input([2; 32], MINER, &genesis)),
        Error::Binding { field: "header" }
    ));
    assert!(matches!(
        check(c.input([1; 32], b"miner-2", &genesis)),
        Error::Binding { field: "miner id" }
    ));
    let mut other = c.params.clone();
    other.opened_steps += 1;
    let input = pouw::work::VerifyInput {
        params: &other,
        ..c.input([1; 32], MINER, &genesis)
    };
    assert!(matches!(
        check(input),
        Error::Binding {
            field: "parameters"
        }
    ));
    // The chain's start is another checkpoint than the block's.
    c.store.put(&block.winning_checkpoint).unwrap();
    let not_start = c.start_of(&block.winning_checkpoint);
    assert!(matches!(
        check(c.input([1; 32], MINER, &not_start)),
        Error::Binding {
            field: "start checkpoint"
        }
    ));
    // The right digest with another step counter: the first re-executed step's checkpoint
    // holds a counter its position does not imply.
    let shifted = pouw::work::Start {
        steps: genesis.steps + 1,
        ..genesis
    };
    assert!(matches!(
        check(c.input([1; 32], MINER, &shifted)),
        Error::StepCounter { .. }
    ));
    // A harder target than the block met.
    let hard = pouw::work::VerifyInput {
        target: pouw::work::Target([0; 32]),
        ..c.input([1; 32], MINER, &genesis)
    };
    assert!(matches!(check(hard), Error::TicketAboveTarget { .. }));
    // Parameters the verifier's own code rejects.
    let mut broken = c.params.clone();
    broken.min_steps = broken.max_steps + 1;
    let input = pouw::work::VerifyInput {
        params: &broken,
        ..c.input([1; 32], MINER, &genesis)
    };
    assert!(matches!(check(input), Error::InvalidParameters(_)));
}

#[test]
fn a_replayed_opening_from_another_block_is_rejected() {
    let c = chain();
    let a = c.mine([1; 32], MINER, &c.genesis);
    // A second block with an opening besides the winning one, to replace.
    let (header, b) = (2u8..)
        .map(|h| ([h; 32], c.mine([h; 32], MINER, &c.genesis)))
        .find(|(_, b)| b.proof.openings.len() > 1)
        .unwrap();
    let mut forged = b.proof.clone();
    forged.openings[0] = a.proof.openings[0].clone();
    let genesis = c.genesis_start();
    let err =
        verify::<GanTrainer>(&c.input(header, MINER, &genesis), &forged.to_bytes()).unwrap_err();
    // Another block's step: not the Fiat-Shamir choice, or (the same step number) not under
    // this trajectory root.
    let same_step = a.proof.openings[0].trajectory.step == b.proof.openings[0].trajectory.step;
    if same_step {
        assert!(matches!(err, Error::RootMismatch), "{err:?}");
    } else {
        assert!(
            matches!(
                err,
                Error::InvalidField {
                    what: "opened steps",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn every_truncation_is_rejected_cheaply() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let genesis = c.genesis_start();
    let input = c.input([1; 32], MINER, &genesis);
    for cut in 0..bytes.len() {
        let err = verify::<GanTrainer>(&input, &bytes[..cut]).unwrap_err();
        assert!(matches!(err, Error::Truncated { .. }), "cut {cut}: {err:?}");
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        verify::<GanTrainer>(&input, &long),
        Err(Error::TrailingBytes(1))
    ));
}

/// Mutates every field of a valid proof in turn: each mutation must be rejected, with the error
/// of the check it breaks.
#[test]
fn every_field_mutation_is_rejected_for_its_reason() {
    let c = chain();
    // A block with a step opened besides the winning one.
    let (header, block) = (1u8..)
        .map(|h| ([h; 32], c.mine([h; 32], MINER, &c.genesis)))
        .find(|(_, b)| b.proof.openings.len() > 1)
        .unwrap();
    let genesis = c.genesis_start();
    let input = c.input(header, MINER, &genesis);
    let verify_err = |p: &BlockProof| verify::<GanTrainer>(&input, &p.to_bytes()).unwrap_err();
    let flip = |d: &mut [u8; 32]| d[0] ^= 1;
    let p = &block.proof;
    // With every step opened the choice does not depend on the root; else it does.
    let all_opened = p.steps - 1 <= u64::from(c.params.opened_steps);

    macro_rules! rejects {
        ($m:expr, $what:literal, $pattern:pat) => {{
            let err = verify_err(&$m);
            assert!(matches!(err, $pattern), "{}: {err:?}", $what);
        }};
    }
    let mut m = p.clone();
    flip(&mut m.params_digest);
    rejects!(
        m,
        "params digest",
        Error::Binding {
            field: "parameters"
        }
    );
    let mut m = p.clone();
    flip(&mut m.header_hash);
    rejects!(m, "header hash", Error::Binding { field: "header" });
    let mut m = p.clone();
    m.miner_id.push(b'x');
    rejects!(m, "miner id", Error::Binding { field: "miner id" });
    if !m.start_proof.nodes.is_empty() {
        let mut m = p.clone();
        flip(&mut m.start_proof.nodes[0]);
        rejects!(
            m,
            "start proof",
            Error::Binding {
                field: "start checkpoint"
            }
        );
    }
    let mut m = p.clone();
    m.steps += 1;
    rejects!(
        m,
        "steps",
        Error::InvalidField {
            what: "opened steps",
            ..
        }
    );
    let mut m = p.clone();
    flip(&mut m.trajectory_root);
    if all_opened {
        rejects!(
            m,
            "trajectory root",
            Error::Binding {
                field: "start checkpoint"
            }
        );
    } else {
        rejects!(
            m,
            "trajectory root",
            Error::InvalidField {
                what: "opened steps",
                ..
            }
        );
    }
    let mut m = p.clone();
    m.trajectory_cid = cid_of(b"no such companion");
    rejects!(m, "trajectory companion cid", Error::NotFound { .. });
    let last = p.openings.len() - 1;
    for (k, o) in p.openings.iter().enumerate() {
        let winning = k == last;
        let mut m = p.clone();
        m.openings[k].trajectory.step += 1;
        rejects!(
            m,
            "opened step",
            Error::InvalidField {
                what: "opened steps",
                ..
            }
        );
        let mut m = p.clone();
        flip(&mut m.openings[k].trajectory.prev);
        rejects!(m, "opening prev", Error::RootMismatch);
        let mut m = p.clone();
        flip(&mut m.openings[k].trajectory.next);
        let anchor = pouw::work::anchor(&c.params.digest(), &header, MINER);
        let ticket_of = |o: &pouw::learning::StepOpening| {
            let seed = pouw::learning::step_seed(&anchor, &o.trajectory.prefix_root, p.steps);
            pouw::work::ticket(&header, &seed, &o.trajectory.next)
        };
        let met = c.target.is_met_by(&ticket_of(&m.openings[k]));
        if winning && !met {
            // The ticket of the changed digest is checked first.
            rejects!(m, "winning next", Error::TicketAboveTarget { .. });
        } else {
            rejects!(m, "opening next", Error::RootMismatch);
        }
        if !o.trajectory.proof.nodes.is_empty() {
            let mut m = p.clone();
            flip(&mut m.openings[k].trajectory.proof.nodes[0]);
            rejects!(m, "opening trajectory proof", Error::RootMismatch);
        }
        let mut m = p.clone();
        flip(&mut m.openings[k].trajectory.prefix_root);
        if winning && !c.target.is_met_by(&ticket_of(&m.openings[k])) {
            // The winning seed binds the prefix root: the ticket is checked first.
            rejects!(m, "winning prefix root", Error::TicketAboveTarget { .. });
        } else {
            rejects!(m, "opening prefix root", Error::ConsistencyMismatch { .. });
        }
        if !o.trajectory.prefix_proof.is_empty() {
            let mut m = p.clone();
            flip(&mut m.openings[k].trajectory.prefix_proof[0]);
            rejects!(m, "opening prefix proof", Error::ConsistencyMismatch { .. });
        }
        // Another stored checkpoint as the step's start: its digest is not d_{j-1}.
        let mut m = p.clone();
        m.openings[k].start = other_stored(&c, &o.start);
        rejects!(m, "opening start cid", Error::CheckpointDigest { .. });
        let mut m = p.clone();
        m.openings[k].start = cid_of(b"not stored");
        rejects!(m, "opening start cid", Error::NotFound { .. });
        let mut m = p.clone();
        m.openings[k].records[0] ^= 1;
        rejects!(m, "opening records", Error::RootMismatch);
        if !o.records_proof.nodes.is_empty() {
            let mut m = p.clone();
            flip(&mut m.openings[k].records_proof.nodes[0]);
            rejects!(m, "opening records proof", Error::RootMismatch);
        }
    }
    let mut m = p.clone();
    m.openings[last].end = None;
    rejects!(
        m,
        "winning end cid",
        Error::InvalidField {
            what: "winning opening",
            ..
        }
    );
    // Another end CID: a stored object (the start checkpoint) or none at all. Found by fuzzing
    // (`block_mutate`): the end CID was not checked, so proofs were malleable.
    for other in [p.openings[last].start, cid_of(b"not stored")] {
        let mut m = p.clone();
        m.openings[last].end = Some(other);
        rejects!(
            m,
            "winning end cid",
            Error::InvalidField {
                what: "end checkpoint",
                ..
            }
        );
    }
    let mut m = p.clone();
    m.openings[0].end = m.openings[last].end;
    rejects!(
        m,
        "end cid on a step that did not win",
        Error::InvalidField {
            what: "opened steps",
            ..
        }
    );
    let mut m = p.clone();
    m.capacity.records[0][0] ^= 1;
    rejects!(m, "capacity record", Error::RootMismatch);
    let mut m = p.clone();
    m.capacity.indices.swap(0, 1);
    rejects!(m, "capacity indices", Error::IndicesNotAscending { .. });
    let mut m = p.clone();
    m.openings.remove(0);
    rejects!(
        m,
        "opening count",
        Error::InvalidField {
            what: "opened steps",
            ..
        }
    );
}

/// A CID of a stored checkpoint other than `cid`.
fn other_stored(c: &common::work::Chain, cid: &pouw::ident::Cid) -> pouw::ident::Cid {
    let genesis = cid_of(&c.genesis);
    if *cid != genesis {
        return genesis;
    }
    // The genesis itself is the step's start: store another checkpoint to point at.
    let other = c.mine([99; 32], MINER, &c.genesis).winning_checkpoint;
    c.store.put(&other).unwrap()
}

#[test]
fn verify_runs_alongside_mining_with_identical_results() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let genesis = c.genesis_start();
    let alone =
        verify::<GanTrainer>(&c.input([1; 32], MINER, &genesis), &block.proof.to_bytes()).unwrap();
    let bytes = block.proof.to_bytes();
    std::thread::scope(|s| {
        let miner = s.spawn(|| c.mine([9; 32], MINER, &c.genesis));
        let verifiers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    verify::<GanTrainer>(&c.input([1; 32], MINER, &genesis), &bytes).unwrap()
                })
            })
            .collect();
        for v in verifiers {
            assert_eq!(v.join().unwrap(), alone);
        }
        let mined = miner.join().unwrap();
        assert_eq!(
            mined.proof,
            c.mine([9; 32], MINER, &c.genesis).proof,
            "mining alongside verifiers is unchanged"
        );
    });
}

/// How a miner keeps checkpoints (in memory, or a few spilled to disk at a doubling spacing)
/// changes what it replays, never the proof; the spill directory is emptied when mining returns.
#[test]
fn the_proof_does_not_depend_on_how_checkpoints_are_kept() {
    let c = common::work::chain();
    let spill = tempfile::tempdir().unwrap();
    let input = MineInput {
        header_hash: [9; 32],
        miner_id: b"keeper",
        start: &c.genesis,
        params: &c.params,
        target: Target::from_expected_steps(24),
        dataset: &c.dataset,
        store: &c.store,
    };
    let mine_with = |options: MineOptions| -> (Vec<u8>, u64) {
        match mine::<GanTrainer>(&input, options, &mut |_| {}, &AtomicBool::new(false)).unwrap() {
            MineOutcome::Found(block) => (block.proof.to_bytes(), block.proof.steps),
            other => panic!("no block: {other:?}"),
        }
    };
    let (in_memory, steps) = mine_with(MineOptions::default());
    let (spilled, _) = mine_with(MineOptions {
        checkpoint_interval: 1,
        max_kept: 2,
        kept_memory: 0,
        spill_dir: Some(spill.path().to_owned()),
        ..MineOptions::default()
    });
    assert!(
        steps >= 8,
        "a block of {steps} steps does not thin the kept checkpoints"
    );
    assert!(
        in_memory == spilled,
        "the proof depends on how checkpoints were kept"
    );
    assert_eq!(std::fs::read_dir(spill.path()).unwrap().count(), 0);
}

#[test]
fn a_checkpoint_named_as_another_version_names_it_is_refused() {
    use pouw::learning::ProofOfLearning;
    // Checkpoints over one 256 KiB chunk, so that the two names differ.
    let c = chain();
    let mut params = c.params.clone();
    params.spec.g_filters = 48;
    params.spec.d_filters = 24;
    let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    assert!(genesis.len() > pouw::ident::unixfs::CHUNK_SIZE);
    let store = common::BothNames::default();
    store.put(&genesis).unwrap();
    let input = MineInput {
        header_hash: [3; 32],
        miner_id: MINER,
        start: &genesis,
        params: &params,
        target: c.target,
        dataset: &c.dataset,
        store: &store,
    };
    let block = common::mine::mine_found::<GanTrainer>(&input, MineOptions::default());
    let start = pouw::work::Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis).unwrap();
    let verify_input = pouw::work::VerifyInput {
        header_hash: [3; 32],
        miner_id: MINER,
        start: &start,
        params: &params,
        target: c.target,
        store: &store,
        device: DeviceChoice::Cpu,
    };
    verify::<GanTrainer>(&verify_input, &block.proof.to_bytes()).unwrap();
    // The same block, each opened step's start renamed by the whole-file CID: the store serves
    // the right bytes under it, and the proof is refused all the same.
    for k in 0..block.proof.openings.len() {
        let mut forged = block.proof.clone();
        let bytes = store.get(&forged.openings[k].start, u64::MAX).unwrap();
        forged.openings[k].start = CidProfile::WholeFile.cid_of(&bytes);
        let r = verify::<GanTrainer>(&verify_input, &forged.to_bytes());
        assert!(
            matches!(
                r,
                Err(Error::InvalidField {
                    what: "start checkpoint",
                    ..
                })
            ),
            "opening {k}: {r:?}"
        );
    }
    // And the winning step's end.
    let mut forged = block.proof.clone();
    let last = forged.openings.len() - 1;
    forged.openings[last].end = Some(CidProfile::WholeFile.cid_of(&block.winning_checkpoint));
    let r = verify::<GanTrainer>(&verify_input, &forged.to_bytes());
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "end checkpoint",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn parameters_state_a_version_this_build_verifies() {
    let c = chain();
    for v in [0, 2, pouw::PROTOCOL_VERSION + 1, u32::MAX] {
        // The version follows the 4-byte magic.
        let mut bytes = c.params.to_bytes();
        bytes[4..8].copy_from_slice(&v.to_le_bytes());
        let r = pouw::work::ConsensusParams::<pouw::learning::gan::GanSpec>::from_bytes(&bytes);
        assert!(
            matches!(r, Err(Error::UnsupportedVersion { found, .. }) if found == v),
            "version {v}: {:?}",
            r.err()
        );
    }
    for v in pouw::work::ProtocolVersion::OLDEST.number()..=pouw::PROTOCOL_VERSION {
        let mut p = c.params.clone();
        p.protocol_version = pouw::work::ProtocolVersion::from_number(v, "test").unwrap();
        p.validate().unwrap();
        let decoded =
            pouw::work::ConsensusParams::<pouw::learning::gan::GanSpec>::from_bytes(&p.to_bytes());
        assert_eq!(decoded.unwrap().version().number(), v);
    }
}

#[test]
fn verification_reports_its_progress_and_can_be_cancelled() {
    use pouw::work::{verify_with, VerifyPhase, VerifyProgress};
    use std::sync::atomic::Ordering;
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let start = c.genesis_start();
    let input = c.input([1; 32], MINER, &start);
    let mut seen: Vec<VerifyProgress> = Vec::new();
    let verdict = verify_with::<GanTrainer>(
        &input,
        &bytes,
        &mut |p| seen.push(*p),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(verdict, verify::<GanTrainer>(&input, &bytes).unwrap());
    let phases: Vec<VerifyPhase> = seen.iter().map(|p| p.phase).collect();
    let n = block.proof.openings.len();
    // Checks, the winning step, the companion, the other steps (no segment start to fetch
    // that an opened step did not fetch already), and no scoring.
    assert_eq!(phases.len(), 1 + 1 + 1 + (n - 1), "{seen:?}");
    assert_eq!(phases[0], VerifyPhase::Checks);
    assert_eq!(seen[1].phase, VerifyPhase::Step);
    assert_eq!(seen[1].step, block.proof.steps, "the winning step first");
    assert_eq!(phases[2], VerifyPhase::Companion);
    assert!(phases[3..3 + n - 1].iter().all(|p| *p == VerifyPhase::Step));
    assert!(seen.iter().all(|p| p.total as usize == n));
    assert!(seen
        .windows(2)
        .all(|w| w[0].fetched_bytes <= w[1].fetched_bytes && w[0].done <= w[1].done));
    assert!(
        seen.last().unwrap().fetched_bytes >= (n as u64) * 1000,
        "{seen:?}"
    );
    // Cancelled at the first re-execution: nothing more is fetched.
    let cancel = AtomicBool::new(false);
    let mut after = 0;
    let r = verify_with::<GanTrainer>(
        &input,
        &bytes,
        &mut |p| {
            if cancel.load(Ordering::Relaxed) {
                after += 1;
            }
            if p.phase == VerifyPhase::Step {
                cancel.store(true, Ordering::Relaxed);
            }
        },
        &cancel,
    );
    // Cancellation says nothing about the block: undecided.
    assert!(
        matches!(r, Err(pouw::work::VerifyError::Undecided(Error::Cancelled))),
        "{r:?}"
    );
    assert_eq!(after, 0);
}

/// A store that counts its gets and fails those of chosen CIDs (as a node that cannot serve them).
struct Failing<'a> {
    inner: &'a dyn BlobStore,
    missing: Vec<pouw::ident::Cid>,
    gets: std::sync::atomic::AtomicUsize,
}

impl BlobStore for Failing<'_> {
    fn put(&self, bytes: &[u8]) -> pouw::Result<pouw::ident::Cid> {
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &pouw::ident::Cid, limit: u64) -> pouw::Result<Vec<u8>> {
        self.gets.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.missing.contains(cid) {
            return Err(Error::NotFound {
                cid: cid.to_string(),
            });
        }
        self.inner.get_unchecked(cid, limit)
    }
}

/// The other opened steps' starts are fetched one step ahead by a helper thread: the verdict's
/// first error is still the first opened step that fails, in order, and a cancellation stops the
/// fetching (at most the one fetch already under way).
#[test]
fn start_checkpoints_fetched_ahead_keep_the_order_and_stop_on_cancel() {
    use pouw::work::{verify_with, VerifyError, VerifyInput, VerifyPhase};
    use std::sync::atomic::Ordering;
    let c = chain();
    let block = c.mine([4; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let start = c.genesis_start();
    let openings = &block.proof.openings;
    assert!(openings.len() >= 5, "{}", openings.len());
    // Two later steps' starts cannot be fetched (neither is the block's start, which the
    // winning step may share): the earlier of them is the one reported.
    let (second, fourth) = (openings[1].start, openings[3].start);
    assert!(second != start.cid && fourth != start.cid);
    let store = Failing {
        inner: &c.store,
        missing: vec![fourth, second],
        gets: Default::default(),
    };
    let input = VerifyInput {
        store: &store,
        ..c.input([4; 32], MINER, &start)
    };
    match pouw::work::verify::<GanTrainer>(&input, &bytes) {
        Err(VerifyError::Undecided(Error::NotFound { cid })) => {
            assert_eq!(cid, second.to_string())
        }
        other => panic!("{other:?}"),
    }
    // Cancelled at the third opened step: no step after it runs, and at most one more start
    // is fetched after the cancellation than before it.
    let store = Failing {
        inner: &c.store,
        missing: vec![],
        gets: Default::default(),
    };
    let input = VerifyInput {
        store: &store,
        ..c.input([4; 32], MINER, &start)
    };
    let cancel = AtomicBool::new(false);
    let mut gets_at_cancel = 0;
    let mut steps_seen = 0;
    let r = verify_with::<GanTrainer>(
        &input,
        &bytes,
        &mut |p| {
            if p.phase == VerifyPhase::Step {
                steps_seen += 1;
                if steps_seen == 3 {
                    gets_at_cancel = store.gets.load(Ordering::Relaxed);
                    cancel.store(true, Ordering::Relaxed);
                }
            }
        },
        &cancel,
    );
    assert!(
        matches!(r, Err(VerifyError::Undecided(Error::Cancelled))),
        "{r:?}"
    );
    assert_eq!(steps_seen, 3);
    let gets = store.gets.load(Ordering::Relaxed);
    assert!(
        gets <= gets_at_cancel + 1,
        "{gets} gets, {gets_at_cancel} at the cancellation"
    );
}

/// A reader bounds a proof file by the parameters before decoding it: every proof fits the bound
/// in both forms, the golden one too.
#[test]
fn proofs_fit_the_bound_a_reader_takes_from_the_parameters() {
    let c = chain();
    let block = c.mine([9; 32], MINER, &c.genesis);
    let limit = ProofLimits::of(&c.params).max_encoded_len();
    let full = block.proof.to_bytes().len() as u64;
    let compact = block.proof.record_free().to_bytes().len() as u64;
    assert!(
        full <= limit && compact <= full,
        "{full}, {compact}, {limit}"
    );
    let golden = common::golden::Golden::load();
    let golden_limit = ProofLimits::of(&golden.params).max_encoded_len();
    assert!(golden.proof.len() as u64 <= golden_limit);
    // Not a figure of speech: a few times the proof, not gigabytes.
    assert!(limit < 64 * full, "{limit} vs {full}");
    // Parameters files have their bound too.
    assert!(c.params.to_bytes().len() as u64 <= pouw::work::MAX_PARAMS_BYTES);
}
