//! Attacks on the block proof, each run against the verifier with the mock learner (cheap and
//! exact, so millions of attempts fit in a test): grinding the openings, mining from perturbed
//! copies of one state, grinding the capacity challenge, forging the winning digest, splicing
//! one step; and the acceptance rate of a partly faked trajectory against its prediction.
//!
//! The defence under test: step `i`'s seed binds the root of every digest before it, the
//! openings and the capacity epoch derive from the final root, and the winning step is
//! re-executed first. Each attack must fail to produce an accepted block, with its error.
#![cfg(feature = "torch")]

mod common;

use common::flat::{audit, verify_fraud_proof};

use common::attack::{all, made_up, mock_chain, reset_counters, CountingStore, Mock};
use pouw::hash::Digest;
use pouw::learning::{checkpoint_digest, BlobStore, DeviceChoice, ProofOfLearning, Trajectory};
use pouw::work::{opened_steps, AuditInput, AuditOutcome, FraudCheckInput, Target};
use pouw::Error;
use std::sync::atomic::{AtomicBool, Ordering};

const HEADER: Digest = [0x61; 32];

/// Grinding: a block claims 40 steps of which only the first 20 were trained; the rest are
/// made-up digests, and the state before the winning step a made-up one. Re-rolling anything
/// the proof commits to changes the winning step's seed, so every one of up to 2^20 re-rolls
/// costs a real winning step (counted), whose ticket wins one time in 64; and even a winning
/// ticket leaves the 16 openings to chance. No re-roll yields an accepted block; and re-rolling
/// a committed digest without redoing the winning step (what the old binding allowed for free)
/// is rejected for the winning step.
#[test]
fn grinding_a_half_faked_trajectory_fails() {
    const ROLLS: u64 = 1 << 20;
    let c = mock_chain(16, 8);
    let (n, trained) = (40u64, 20u64);
    let target = Target::from_expected_steps(64);
    let (checkpoints, honest) = c.run(&HEADER, trained, |_| None);
    // d_0 .. d_20 trained, d_21 .. d_38 made up: fixed; d_39 (a made-up state) re-rolled.
    let mut prefix = honest.clone();
    for i in trained + 1..n - 1 {
        prefix.push(made_up("leaf", i));
    }
    reset_counters();
    let (mut winning_tickets, mut all_openings_trained) = (0u64, 0u64);
    for roll in 0..ROLLS {
        let state = Mock::new(c.start.steps + n - 1, made_up("state", roll))
            .checkpoint()
            .unwrap();
        let mut t = prefix.clone();
        t.push(checkpoint_digest(&state));
        let won = c.step(&HEADER, &t, &state, n);
        let d_n = checkpoint_digest(&won);
        if !target.is_met_by(&c.ticket(&HEADER, &t, n, &d_n)) {
            continue;
        }
        winning_tickets += 1;
        t.push(d_n);
        let opened = opened_steps(&t.root(), &HEADER, n, 16).unwrap();
        if opened[..opened.len() - 1].iter().all(|&j| j <= trained) {
            all_openings_trained += 1;
            let mut present: Vec<Option<&[u8]>> = all(&checkpoints);
            present.resize(n as usize - 1, None);
            present.push(Some(&state));
            present.push(Some(&won));
            let proof = c.prove(&HEADER, &present, &t);
            let verdict = c.verify(&HEADER, target, &proof);
            assert!(
                matches!(verdict, Err(Error::StepMismatch { .. })),
                "a half-faked block was not refused for a step mismatch after {roll} re-rolls: \
                 {verdict:?}"
            );
        }
    }
    let (_, steps) = common::attack::counters();
    assert_eq!(steps, ROLLS, "each re-roll took a real winning step");
    println!(
        "{ROLLS} re-rolls, {steps} real steps: {winning_tickets} winning tickets, {all_openings_trained} with every opening on a trained step, 0 accepted"
    );
    assert_eq!(all_openings_trained, 0);

    // The free re-roll of the old binding: change a made-up digest, keep the winning step.
    let state = Mock::new(c.start.steps + n - 1, made_up("state", 0))
        .checkpoint()
        .unwrap();
    let mut t = prefix.clone();
    t.push(checkpoint_digest(&state));
    let won = c.step(&HEADER, &t, &state, n);
    let mut present: Vec<Option<&[u8]>> = all(&checkpoints);
    present.resize(n as usize - 1, None);
    present.extend([Some(state.as_slice()), Some(won.as_slice())]);
    for roll in 0..256u64 {
        let mut digests = t.digests().to_vec();
        digests[(trained + 1) as usize] = made_up("free re-roll", roll);
        let mut rolled = Trajectory::from_digests(digests).unwrap();
        rolled.push(checkpoint_digest(&won));
        let proof = c.prove(&HEADER, &present, &rolled);
        match c.verify(&HEADER, Target::MAX, &proof) {
            Err(Error::StepMismatch { step }) => assert_eq!(step, n),
            other => panic!("free re-roll {roll}: {other:?}"),
        }
    }
}

/// Perturbation mining: every ticket attempt is one real step from a perturbed copy of one
/// state, every other digest a placeholder; once a ticket wins and the openings are known, the
/// opened positions are filled in with real transitions. Filling changes the root: with the
/// openings re-drawn from it, the winning step's seed is not the one it was mined with (nor is
/// its ticket, which binds the seed); with the openings the ticket drew, they are not the new
/// root's choice. Rejected both ways.
#[test]
fn perturbation_mining_fails() {
    let c = mock_chain(8, 8);
    let n = 30u64;
    let target = Target::from_expected_steps(16);
    let schedule = c.params.schedule(&HEADER, common::attack::MINER);
    let put = |bytes: &[u8]| pouw::learning::BlobStore::put(&c.store, bytes).unwrap();
    let mut found = 0;
    for attempt in 0..2048u64 {
        let copy = Mock::new(c.start.steps + n - 1, made_up("perturbed", attempt))
            .checkpoint()
            .unwrap();
        let mut digests: Vec<Digest> = (0..n - 1).map(|i| made_up("placeholder", i)).collect();
        digests[0] = checkpoint_digest(&c.genesis);
        digests.push(checkpoint_digest(&copy));
        let so_far = Trajectory::from_digests(digests.clone()).unwrap();
        let won = c.step(&HEADER, &so_far, &copy, n);
        if !target.is_met_by(&c.ticket(&HEADER, &so_far, n, &checkpoint_digest(&won))) {
            continue;
        }
        found += 1;
        digests.push(checkpoint_digest(&won));
        let drawn = opened_steps(
            &Trajectory::from_digests(digests.clone()).unwrap().root(),
            &HEADER,
            n,
            8,
        )
        .unwrap();
        // Fill the opened positions with real transitions from made-up (but real) states.
        let mut states: Vec<Option<Vec<u8>>> = vec![None; n as usize + 1];
        states[0] = Some(c.genesis.clone());
        states[n as usize - 1] = Some(copy.clone());
        states[n as usize] = Some(won.clone());
        for &j in &drawn[..drawn.len() - 1] {
            let before = states[j as usize - 1].clone().unwrap_or_else(|| {
                Mock::new(c.start.steps + j - 1, made_up("filler", j))
                    .checkpoint()
                    .unwrap()
            });
            digests[j as usize - 1] = checkpoint_digest(&before);
            let prefix = Trajectory::from_digests(digests[..j as usize].to_vec()).unwrap();
            let after = c.step(&HEADER, &prefix, &before, j);
            digests[j as usize] = checkpoint_digest(&after);
            states[j as usize - 1] = Some(before);
            states[j as usize] = Some(after);
        }
        let filled = Trajectory::from_digests(digests).unwrap();
        let present: Vec<Option<&[u8]>> = states.iter().map(|s| s.as_deref()).collect();
        let redrawn_proof = c.prove(&HEADER, &present, &filled);
        // The winning ticket binds the step's seed, hence the filled-in prefix: it no longer
        // beats the target, or (one time in 16) it does and the winning step re-executes to
        // another digest.
        match c.verify(&HEADER, target, &redrawn_proof) {
            Err(Error::StepMismatch { step } | Error::TicketAboveTarget { step }) => {
                assert_eq!(step, n)
            }
            other => panic!("attempt {attempt}, openings re-drawn: {other:?}"),
        }
        let redrawn = opened_steps(&filled.root(), &HEADER, n, 8).unwrap();
        if redrawn != drawn {
            let mut kept = redrawn_proof.clone();
            kept.openings = drawn
                .iter()
                .map(|&j| {
                    let start = states[j as usize - 1]
                        .as_deref()
                        .map_or(pouw::ident::cid_of(b"none"), put);
                    let end = (j == n).then(|| put(&won));
                    pouw::learning::StepOpening::new(&filled, j, &schedule, &c.dataset, start, end)
                        .unwrap()
                })
                .collect();
            match c.verify(&HEADER, target, &kept) {
                Err(Error::InvalidField {
                    what: "opened steps",
                    ..
                }) => {}
                other => panic!("attempt {attempt}, openings kept: {other:?}"),
            }
        }
    }
    assert!(found > 60, "{found} winning tickets");
}

/// Capacity grinding: a miner missing 10% of the records re-draws the capacity challenge by
/// changing committed digests. Without a new winning step every re-draw is rejected for the
/// winning step; a legitimate re-draw costs a new winning step (on average the target's expected
/// steps), and one draw in `1/0.9^32`, about 29, avoids the missing records.
#[test]
fn capacity_grinding_with_a_tenth_missing_fails() {
    let c = mock_chain(4, 32);
    let n = 12u64;
    let missing = |i: u64| pouw::hash::sha3_256(&i.to_le_bytes())[0] < 26; // ~10%
    let (checkpoints, honest) = c.run(&HEADER, n, |_| None);
    let mut lucky = 0;
    for roll in 0..4096u64 {
        let mut digests = honest.digests().to_vec();
        digests[3] = made_up("capacity re-roll", roll);
        let rolled = Trajectory::from_digests(digests).unwrap();
        let proof = c.prove(&HEADER, &all(&checkpoints), &rolled);
        if proof.capacity.indices.iter().any(|&i| missing(i)) {
            continue; // the miner could not answer this draw
        }
        lucky += 1;
        match c.verify(&HEADER, Target::MAX, &proof) {
            Err(Error::StepMismatch { step }) => assert_eq!(step, n),
            other => panic!("capacity re-roll {roll}: {other:?}"),
        }
    }
    // About 4096 * 0.9^32 = 140 draws avoid the missing records; none verifies.
    assert!((60..260).contains(&lucky), "{lucky} answerable draws");
}

/// A forged winning digest (a ticket below the target found by hashing, no step behind it) is
/// rejected after one checkpoint fetch and one step: the verifier re-executes the winning step
/// first.
#[test]
fn a_forged_winning_digest_costs_one_fetch_and_one_step() {
    let c = mock_chain(16, 8);
    let n = 50u64;
    let target = Target::from_expected_steps(256);
    let (checkpoints, honest) = c.run(&HEADER, n - 1, |_| None);
    let forged = (0u64..)
        .map(|i| made_up("forged winner", i))
        .find(|d| target.is_met_by(&c.ticket(&HEADER, &honest, n, d)))
        .unwrap();
    let mut t = honest.clone();
    t.push(forged);
    let mut present = all(&checkpoints);
    present.push(Some(b"no such checkpoint"));
    let proof = c.prove(&HEADER, &present, &t);
    let store = CountingStore::default();
    for cp in &checkpoints {
        pouw::learning::BlobStore::put(&store, cp).unwrap();
    }
    pouw::learning::BlobStore::put(&store, &t.to_bytes()).unwrap();
    reset_counters();
    match c.verify_with(&HEADER, target, &store, &proof) {
        Err(Error::StepMismatch { step }) => assert_eq!(step, n),
        other => panic!("{other:?}"),
    }
    let (loads, steps) = common::attack::counters();
    assert_eq!(
        (loads, steps),
        (1, 1),
        "checkpoints loaded, steps re-executed"
    );
    assert_eq!(store.gets.load(Ordering::Relaxed), 1, "store fetches");
}

/// One spliced step in an otherwise honest block: sampling may accept it, auditing finds it,
/// its fraud proof convinces a fresh verifier with one step, and a fraud proof against an honest
/// step is refused.
#[test]
fn a_spliced_step_is_found_by_the_audit_and_proven() {
    let mut c = mock_chain(4, 8);
    let n = 40u64;
    // Every ticket wins (Target::MAX) and the first one counted is step n's.
    c.params.min_steps = n;
    // A splice at a step the openings leave alone.
    let (splice, checkpoints, t) = (2u64..n)
        .find_map(|m| {
            let (cps, t) = c.run(&HEADER, n, |i| (i == m).then(|| made_up("splice", m)));
            let opened = opened_steps(&t.root(), &HEADER, n, 4).unwrap();
            (!opened.contains(&m)).then_some((m, cps, t))
        })
        .unwrap();
    let proof = c.prove(&HEADER, &all(&checkpoints), &t);
    c.verify(&HEADER, Target::MAX, &proof)
        .expect("the splice is not among the opened steps: sampling accepts the block");
    let input = AuditInput {
        header_hash: HEADER,
        miner_id: common::attack::MINER,
        start: &c.genesis,
        params: &c.params,
        target: Target::MAX,
        dataset: &c.dataset,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    let mut seen = 0;
    let outcome = audit::<Mock>(
        &input,
        &proof.to_bytes(),
        &mut |p| seen = p.step,
        &AtomicBool::new(false),
    )
    .unwrap();
    let AuditOutcome::Fraud(fraud) = outcome else {
        panic!("the audit found nothing: {outcome:?}")
    };
    assert_eq!(fraud.opening.trajectory.step, splice);
    assert_eq!(seen, splice - 1, "replayed up to the splice");
    let check = FraudCheckInput {
        params: &c.params,
        block_id: proof.id(),
        start_steps: c.start.steps,
        store: &c.store,
        device: DeviceChoice::Cpu,
    };
    assert_eq!(
        verify_fraud_proof::<Mock>(&check, &proof.to_bytes(), &fraud.to_bytes()).unwrap(),
        splice
    );
    // The honest step after the splice, opened the same way: no fraud.
    let mut honest = (*fraud).clone();
    honest.opening = pouw::learning::StepOpening::new(
        &t,
        splice + 1,
        &c.params.schedule(&HEADER, common::attack::MINER),
        &c.dataset,
        pouw::learning::BlobStore::put(&c.store, &checkpoints[splice as usize]).unwrap(),
        None,
    )
    .unwrap();
    match verify_fraud_proof::<Mock>(&check, &proof.to_bytes(), &honest.to_bytes()) {
        Err(Error::NotFraud { step }) => assert_eq!(step, splice + 1),
        other => panic!("{other:?}"),
    }
    // An honest block audits clean.
    let (cps, t) = c.run(&HEADER, n, |_| None);
    let clean = c.prove(&HEADER, &all(&cps), &t);
    assert!(matches!(
        audit::<Mock>(&input, &clean.to_bytes(), &mut |_| {}, &AtomicBool::new(false)).unwrap(),
        AuditOutcome::Agrees { steps } if steps == n
    ));
}

/// Over many blocks with a fraction `f` of their transitions faked (spliced at random, the
/// winning step real), the verifier accepts at the rate sampling predicts: the chance that the
/// `k` distinct opened steps all miss the faked ones (hypergeometric; `(1-f)^k` drawing with
/// replacement), within four standard deviations.
#[test]
fn acceptance_of_a_partly_faked_trajectory_is_the_sampling_rate() {
    let (k, n, faked) = (4u32, 100u64, 25u64);
    let mut c = mock_chain(k, 8);
    c.params.min_steps = n;
    let trials = 2000u64;
    let mut accepted = 0u64;
    for trial in 0..trials {
        let header = pouw::hash::sha3_256(&trial.to_le_bytes());
        // `faked` distinct positions among the 99 non-winning transitions.
        let mut positions = std::collections::BTreeSet::new();
        let mut x = trial;
        while (positions.len() as u64) < faked {
            x = u64::from_le_bytes(
                pouw::hash::sha3_256(&x.to_le_bytes())[..8]
                    .try_into()
                    .unwrap(),
            );
            positions.insert(1 + x % (n - 1));
        }
        let (cps, t) = c.run(&header, n, |i| {
            positions.contains(&i).then(|| made_up("fake", i))
        });
        let proof = c.prove(&header, &all(&cps), &t);
        match c.verify(&header, Target::MAX, &proof) {
            Ok(_) => accepted += 1,
            Err(Error::StepMismatch { .. }) => {}
            Err(e) => panic!("trial {trial}: {e:?}"),
        }
    }
    let honest = (n - 1 - faked) as f64;
    let p: f64 = (0..k)
        .map(|i| (honest - f64::from(i)) / ((n - 1) as f64 - f64::from(i)))
        .product();
    let with_replacement = (1.0 - faked as f64 / (n - 1) as f64).powi(k as i32);
    let rate = accepted as f64 / trials as f64;
    let sd = (p * (1.0 - p) / trials as f64).sqrt();
    println!(
        "{trials} blocks with {faked}/{} steps faked, k = {k}: accepted {rate:.4}; predicted {p:.4} \
         (without replacement), {with_replacement:.4} ((1-f)^k), sd {sd:.4}",
        n - 1
    );
    assert!((rate - p).abs() <= 4.0 * sd, "{rate} vs {p} +- 4 * {sd}");
}

/// One proof, one encoding: a proof naming its trajectory companion by the other protocol
/// version's name (the raw CID of its whole bytes; the names differ past 256 KiB, 8192 steps)
/// is refused, though the store serves the right bytes under that name.
#[test]
fn a_companion_named_as_another_version_names_it_is_refused() {
    let mut c = mock_chain(4, 8);
    let n = 8200;
    c.params.min_steps = n;
    let (checkpoints, trajectory) = c.run(&HEADER, n, |_| None);
    let companion = trajectory.to_bytes();
    assert!(companion.len() > pouw::ident::unixfs::CHUNK_SIZE);
    let store = common::BothNames::default();
    for checkpoint in &checkpoints {
        store.put(checkpoint).unwrap();
    }
    store.put(&companion).unwrap();
    let target = Target::from_expected_steps(1);
    let proof = c.prove(&HEADER, &all(&checkpoints), &trajectory);
    c.verify_with(&HEADER, target, &store, &proof).unwrap();
    let mut forged = proof.clone();
    forged.trajectory_cid = pouw::ident::CidProfile::WholeFile.cid_of(&companion);
    assert_ne!(forged.trajectory_cid, proof.trajectory_cid);
    let r = c.verify_with(&HEADER, target, &store, &forged);
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "trajectory companion",
                ..
            })
        ),
        "{r:?}"
    );
}
