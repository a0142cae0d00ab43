//! Sound chains, not only sound blocks (mock learner on the digits, the real verifier, auditor
//! and fraud-proof checker):
//! - one block per ticket: a block ends at its first ticket below the target, so a miner can
//!   neither skip winning tickets (to re-draw openings, the capacity challenge or the reported
//!   quality) nor publish several blocks of one trajectory;
//! - a spliced step that the Fiat-Shamir openings miss is found by a node's segment check
//!   (one segment of `opened_steps + 1` steps, drawn by the node's own randomness), proven with
//!   one step, and the chain drops the block and its descendants before its reward settles;
//! - a fraud proof about other block bytes than the block the chain accepted is refused.
#![cfg(feature = "torch")]

mod common;

use common::flat::{audit, audit_segment, verify_fraud_proof};

use common::attack::{all, made_up, mock_chain, Mock, MockChain, MINER};
use pouw::hash::Digest;
use pouw::learning::DeviceChoice;
use pouw::learning::ProofOfLearning;
use pouw::learning::{checkpoint_digest, Trajectory};
use pouw::work::{
    opened_steps, random_segment, segment_count, AuditInput, AuditOutcome, BlockProof,
    FraudCheckInput, Start, Target,
};
use pouw::Error;
use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

const HEADER: Digest = [0x62; 32];

fn never() -> AtomicBool {
    AtomicBool::new(false)
}

fn audit_input<'a>(
    c: &'a MockChain,
    header: Digest,
    start: &'a [u8],
    target: Target,
) -> AuditInput<'a, common::attack::mock::MockSpec> {
    AuditInput {
        header_hash: header,
        miner_id: MINER,
        start,
        params: &c.params,
        target,
        dataset: &c.dataset,
        store: &c.store,
        device: DeviceChoice::Cpu,
    }
}

/// A miner skips its first winning tickets and publishes a block ending at a later one (the
/// attack measured against protocol 4: blocks ending at steps 1, 3 and 6 of one trajectory were
/// all accepted). Only the block at the first winning ticket verifies; the others are refused
/// naming that ticket, by `verify` (from the companion it fetches) and by `audit`.
#[test]
fn only_the_first_winning_ticket_makes_a_block() {
    let c = mock_chain(4, 8);
    let target = Target::from_expected_steps(4);
    let (checkpoints, trajectory) = c.run(&HEADER, 80, |_| None);
    let winning: Vec<u64> = (1..=80u64)
        .filter(|&i| {
            let before =
                Trajectory::from_digests(trajectory.digests()[..i as usize].to_vec()).unwrap();
            target.is_met_by(&c.ticket(&HEADER, &before, i, trajectory.digest(i).unwrap()))
        })
        .collect();
    assert!(winning.len() >= 3, "winning tickets at {winning:?}");
    let block_at = |n: u64| {
        let t = Trajectory::from_digests(trajectory.digests()[..=n as usize].to_vec()).unwrap();
        c.prove(&HEADER, &all(&checkpoints[..=n as usize]), &t)
    };
    let first = winning[0];
    c.verify(&HEADER, target, &block_at(first)).unwrap();
    for &later in &winning[1..3] {
        let proof = block_at(later);
        match c.verify(&HEADER, target, &proof) {
            Err(Error::EarlierWinningTicket { step, claimed }) => {
                assert_eq!((step, claimed), (first, later))
            }
            other => panic!("a block skipping the ticket at {first} ended at {later}: {other:?}"),
        }
        let r = audit::<Mock>(
            &audit_input(&c, HEADER, &c.genesis, target),
            &proof.to_bytes(),
            &mut |_| {},
            &never(),
        );
        assert!(
            matches!(r, Err(Error::EarlierWinningTicket { step, .. }) if step == first),
            "{r:?}"
        );
    }
    println!("winning tickets at steps {winning:?}: only the block at step {first} is valid");
}

/// `min_steps` still counts: tickets before it do not end the block.
#[test]
fn tickets_before_min_steps_do_not_end_the_block() {
    let mut c = mock_chain(4, 8);
    c.params.min_steps = 10;
    let (checkpoints, t) = c.run(&HEADER, 10, |_| None);
    c.verify(
        &HEADER,
        Target::MAX,
        &c.prove(&HEADER, &all(&checkpoints), &t),
    )
    .unwrap();
}

/// A chain as an embedder keeps it: blocks by identity, the documented rule applied.
struct ChainState {
    /// Accepted blocks in height order: (identity, proof bytes, start).
    blocks: Vec<(Digest, Vec<u8>, Start)>,
    /// The first block proven fraudulent: it and its descendants are invalid.
    invalid_from: Option<usize>,
    /// Blocks whose reward has settled (final: a fraud proof can no longer undo them).
    settled: BTreeSet<usize>,
    /// Valid blocks a block's reward waits for after it before it settles.
    window: usize,
}

impl ChainState {
    /// The valid blocks' count.
    fn tip(&self) -> usize {
        self.invalid_from.unwrap_or(self.blocks.len())
    }

    /// Accepts a block (verified, and its segment check agreed at this node) and settles the
    /// rewards of the blocks `window` blocks deep.
    fn accept(&mut self, block: (Digest, Vec<u8>, Start)) {
        self.blocks.push(block);
        let tip = self.tip();
        self.settled
            .extend((0..tip).filter(|h| h + self.window < tip));
    }

    /// Applies a verified fraud proof against the block with identity `id`: it and its
    /// descendants become invalid. Settled blocks are final; the settlement window is what makes
    /// a fraud proof arrive before it.
    fn invalidate(&mut self, id: &Digest) {
        let at = self.blocks.iter().position(|b| &b.0 == id).unwrap();
        assert!(
            !self.settled.contains(&at),
            "a fraud proof arrived after settlement"
        );
        self.invalid_from = Some(at);
    }
}

/// Five blocks, the third with one spliced step that its openings miss: every block verifies
/// (sampling), then nodes each replay one segment of their own choosing; a node that draws the
/// spliced segment gets a fraud proof, which every node checks with one step against the
/// identity of the block the chain accepted; the chain drops the block and its descendants
/// before its reward settled. Honest blocks' segments all agree. Prints the catch probability
/// across N nodes from the real per-segment outcomes.
#[test]
fn a_splice_is_caught_by_a_segment_check_proven_and_dropped() {
    let (k, n) = (3u32, 24u64);
    let mut c = mock_chain(k, 8);
    c.params.min_steps = n; // with Target::MAX, every block ends at step n
    let target = Target::MAX;
    let segments = segment_count(&c.params, n).unwrap();
    assert_eq!(segments, 6, "24 steps in segments of k + 1 = 4");

    let mut chain = ChainState {
        blocks: Vec::new(),
        invalid_from: None,
        settled: BTreeSet::new(),
        window: 3,
    };
    let mut start_bytes = c.genesis.clone();
    let mut splice_at = 0;
    for height in 0..5u64 {
        let header = pouw::hash::sha3_256(&height.to_le_bytes());
        let (checkpoints, t) = if height == 2 {
            // A splice at a step the openings leave alone.
            let (m, cps, t) = (2..n - 1)
                .find_map(|m| {
                    let (cps, t) = c.run_from(&start_bytes, &header, n, |i| {
                        (i == m).then(|| made_up("splice", m))
                    });
                    let opened = opened_steps(&t.root(), &header, n, k).unwrap();
                    (!opened.contains(&m)).then_some((m, cps, t))
                })
                .unwrap();
            splice_at = m;
            (cps, t)
        } else {
            c.run_from(&start_bytes, &header, n, |_| None)
        };
        let start = Start::of_checkpoint::<Mock>(&c.params.spec, &start_bytes).unwrap();
        let proof = c.prove(&header, &all(&checkpoints), &t);
        let verdict = c
            .verify_from(&start, &header, target, &c.store, &proof)
            .unwrap_or_else(|e| panic!("block {height}: {e}"));
        chain.accept((proof.id(), proof.to_bytes(), start));
        start_bytes = checkpoints.last().unwrap().clone();
        assert_eq!(verdict.next.digest, checkpoint_digest(&start_bytes));
    }
    assert_eq!(
        chain.settled,
        BTreeSet::from([0, 1]),
        "block 2 is in its window"
    );

    // Every segment of every block, replayed: honest blocks agree everywhere; the spliced block
    // disagrees in exactly one segment, the one holding the splice.
    let mut catching = Vec::new();
    let start_of = |height: usize| -> Vec<u8> {
        let start = &chain.blocks[height].2;
        pouw::learning::BlobStore::get(&c.store, &start.cid, 40).unwrap()
    };
    for height in 0..5 {
        let header = pouw::hash::sha3_256(&(height as u64).to_le_bytes());
        let start = start_of(height);
        let input = audit_input(&c, header, &start, target);
        for m in 0..segments {
            let outcome =
                audit_segment::<Mock>(&input, &chain.blocks[height].1, m, &mut |_| {}, &never())
                    .unwrap();
            match outcome {
                AuditOutcome::Agrees { steps } => assert!(steps >= 1),
                AuditOutcome::Fraud(f) => {
                    assert_eq!(height, 2, "an honest block's segment {m} disagreed");
                    assert_eq!(f.opening.trajectory.step, splice_at);
                    catching.push(m);
                }
                AuditOutcome::Cancelled { .. } => unreachable!(),
            }
        }
    }
    let c_steps = u64::from(k) + 1;
    assert_eq!(
        catching,
        vec![(splice_at - 1) / c_steps],
        "splice at step {splice_at}"
    );

    // Nodes draw their segment with their own randomness until one catches the splice.
    let header = pouw::hash::sha3_256(&2u64.to_le_bytes());
    let start = start_of(2);
    let input = audit_input(&c, header, &start, target);
    let (nodes, fraud) = (1..=1000u32)
        .find_map(|node| {
            let m = random_segment(segments);
            match audit_segment::<Mock>(&input, &chain.blocks[2].1, m, &mut |_| {}, &never())
                .unwrap()
            {
                AuditOutcome::Fraud(f) => Some((node, f)),
                _ => None,
            }
        })
        .expect("some node draws the spliced segment");
    println!("the splice at step {splice_at} was caught by node {nodes} (each draws 1 of {segments} segments)");

    // Every node checks the fraud proof with one step, against the block the chain accepted.
    let check = FraudCheckInput {
        params: &c.params,
        block_id: chain.blocks[2].0,
        start_steps: chain.blocks[2].2.steps,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    assert_eq!(
        verify_fraud_proof::<Mock>(&check, &chain.blocks[2].1, &fraud.to_bytes()).unwrap(),
        splice_at
    );
    chain.invalidate(&fraud.block_id);
    assert_eq!(chain.tip(), 2, "blocks 2, 3 and 4 are dropped");
    assert_eq!(chain.settled, BTreeSet::from([0, 1]), "block 2 never paid");

    // The catch probability across N nodes, from the per-segment outcomes just measured: one
    // segment in `segments` catches, so a splice survives N independent nodes with probability
    // (1 - 1/S)^N. Checked by drawing with the nodes' own randomness.
    let caught_alone = catching.len() as f64 / segments as f64;
    let trials = 20_000u32;
    for nodes in [1u32, 2, 4] {
        let survived = (0..trials)
            .filter(|_| (0..nodes).all(|_| !catching.contains(&random_segment(segments))))
            .count() as f64
            / f64::from(trials);
        let predicted = (1.0 - caught_alone).powi(nodes as i32);
        let sd = (predicted * (1.0 - predicted) / f64::from(trials)).sqrt();
        println!("{nodes} nodes: the splice survived {survived:.4} of {trials} draws, predicted {predicted:.4}");
        assert!((survived - predicted).abs() <= 5.0 * sd + 1e-9);
    }
    for nodes in [10i32, 50, 100] {
        println!(
            "{nodes} nodes: survival (1 - 1/{segments})^{nodes} = {:.3e}",
            (1.0 - caught_alone).powi(nodes)
        );
    }
}

/// The attack measured against protocol 4: a fabricated block with the victim's header and
/// miner, and a fraud proof about it, "proved" the victim's block wrong. Now the fraud proof
/// names the block it is about by identity, and is checked against the identity of the block
/// the chain accepted: both the fabricated bytes and a fraud proof about them are refused.
#[test]
fn a_fraud_proof_about_other_block_bytes_is_refused() {
    let (k, n) = (3u32, 16u64);
    let mut c = mock_chain(k, 8);
    c.params.min_steps = n;
    let (cps, t) = c.run(&HEADER, n, |_| None);
    let honest = c.prove(&HEADER, &all(&cps), &t);
    c.verify(&HEADER, Target::MAX, &honest).unwrap();
    // The fabrication: same header and miner, a made-up step 5.
    let (fcps, ft) = c.run(&HEADER, n, |i| (i == 5).then(|| made_up("fabricated", i)));
    let fabricated = c.prove(&HEADER, &all(&fcps), &ft);
    let AuditOutcome::Fraud(fraud) = audit::<Mock>(
        &audit_input(&c, HEADER, &c.genesis, Target::MAX),
        &fabricated.to_bytes(),
        &mut |_| {},
        &never(),
    )
    .unwrap() else {
        panic!("the fabricated block audits clean")
    };
    let check = |accepted: &BlockProof| FraudCheckInput {
        params: &c.params,
        block_id: accepted.id(),
        start_steps: c.start.steps,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    // About the fabricated bytes, against the honest block the chain accepted: refused.
    let r = verify_fraud_proof::<Mock>(&check(&honest), &fabricated.to_bytes(), &fraud.to_bytes());
    assert!(
        matches!(
            r,
            Err(Error::Binding {
                field: "block identity"
            })
        ),
        "{r:?}"
    );
    // The honest bytes with the fabricated block's fraud proof: refused.
    let r = verify_fraud_proof::<Mock>(&check(&honest), &honest.to_bytes(), &fraud.to_bytes());
    assert!(
        matches!(
            r,
            Err(Error::Binding {
                field: "block identity"
            })
        ),
        "{r:?}"
    );
    // The fraud proof is valid about the block it names.
    assert_eq!(
        verify_fraud_proof::<Mock>(
            &check(&fabricated),
            &fabricated.to_bytes(),
            &fraud.to_bytes()
        )
        .unwrap(),
        5
    );
    // One identity per block: the record-free form has the same one; any other field changes it.
    assert_eq!(honest.record_free().proof.id(), honest.id());
    let mut other = honest.clone();
    other.segments.reverse();
    assert_ne!(other.id(), honest.id());
    let ids: BTreeSet<Digest> = [honest.id(), fabricated.id()].into();
    assert_eq!(ids.len(), 2);
}

/// A segment start that is not the committed checkpoint is refused by `verify` (which fetches
/// every segment start and checks its digest against the companion), so a node's segment check
/// always starts from the committed state.
#[test]
fn a_wrong_segment_start_is_refused_by_verify() {
    let (k, n) = (3u32, 16u64);
    let mut c = mock_chain(k, 8);
    c.params.min_steps = n;
    let (cps, t) = c.run(&HEADER, n, |_| None);
    let honest = c.prove(&HEADER, &all(&cps), &t);
    assert_eq!(honest.segments.len(), 3);
    let mut wrong = honest.clone();
    wrong.segments[1] = wrong.segments[0];
    let r = c.verify(&HEADER, Target::MAX, &wrong);
    assert!(
        matches!(r, Err(Error::CheckpointDigest { step: 8 })),
        "{r:?}"
    );
    let mut missing = honest.clone();
    missing.segments.pop();
    let r = BlockProof::from_bytes(&missing.to_bytes(), &pouw::work::ProofLimits::of(&c.params));
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "segment starts",
                ..
            })
        ),
        "{r:?}"
    );
}

/// The attack measured against protocol 4 with the real model ("sabotage"): one step's result
/// replaced by fresh weights (the right step counter, every moment zero), the openings missing
/// it, so `verify` accepts the block and the chain's next model descends from the replacement.
/// A node's segment check replays the splice's segment with the real GAN step and finds it;
/// the fraud proof is checked with one real step; no other segment disagrees.
#[test]
fn a_model_replacement_is_caught_by_a_segment_check_and_proven() {
    use common::attack::{prove_block, run_steps};
    use pouw::learning::gan::{DecodedCheckpoint, GanTrainer};
    let mut c = common::work::chain();
    let n = 15u64; // k = 4: 3 segments of 5 steps
    c.params.min_steps = n;
    let target = Target::MAX;
    let header = [0x63; 32];
    let miner = b"saboteur".as_slice();
    let format = c.params.spec.checkpoint_format().unwrap();
    let fresh = GanTrainer::from_seed(&c.params.spec, &[9; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let replacement = |step: u64| {
        let DecodedCheckpoint { tensors, .. } = format.decode(&fresh).unwrap();
        format.encode(&DecodedCheckpoint { step, tensors }).unwrap()
    };
    let start = Start::of_checkpoint::<GanTrainer>(&c.params.spec, &c.genesis).unwrap();
    let (splice, proof) = (2..n - 1)
        .find_map(|m| {
            let (cps, t) = run_steps::<GanTrainer>(
                &c.params,
                &c.dataset,
                &c.genesis,
                &header,
                miner,
                n,
                |i, _| (i == m).then(|| replacement(start.steps + i)),
            );
            let opened = opened_steps(&t.root(), &header, n, c.params.opened_steps).unwrap();
            (!opened.contains(&m)).then(|| {
                let present: Vec<Option<&[u8]>> = cps.iter().map(|b| Some(b.as_slice())).collect();
                (
                    m,
                    prove_block(
                        &c.params, &c.dataset, &c.store, &header, miner, &present, &t,
                    ),
                )
            })
        })
        .expect("a splice the openings miss");
    let bytes = proof.to_bytes();
    let input = pouw::work::VerifyInput {
        header_hash: header,
        miner_id: miner,
        start: &start,
        params: &c.params,
        target,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    common::flat::verify::<GanTrainer>(&input, &bytes)
        .expect("sampling misses the replacement: verify accepts");
    let check = AuditInput {
        header_hash: header,
        miner_id: miner,
        start: &c.genesis,
        params: &c.params,
        target,
        dataset: &c.dataset,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    let segments = segment_count(&c.params, n).unwrap();
    let mut caught = Vec::new();
    for m in 0..segments {
        match audit_segment::<GanTrainer>(&check, &bytes, m, &mut |_| {}, &never()).unwrap() {
            AuditOutcome::Agrees { .. } => {}
            AuditOutcome::Fraud(fraud) => {
                assert_eq!(fraud.opening.trajectory.step, splice);
                let fraud_check = FraudCheckInput {
                    params: &c.params,
                    block_id: proof.id(),
                    start_steps: start.steps,
                    store: &c.store,
                    device: DeviceChoice::Cpu,
                };
                assert_eq!(
                    verify_fraud_proof::<GanTrainer>(&fraud_check, &bytes, &fraud.to_bytes())
                        .unwrap(),
                    splice
                );
                caught.push(m);
            }
            AuditOutcome::Cancelled { .. } => unreachable!(),
        }
    }
    assert_eq!(
        caught,
        vec![(splice - 1) / 5],
        "the replacement at step {splice}"
    );
    println!("a model replacement at step {splice} of {n}: caught by segment {caught:?} of {segments}, proven");
}
