//! Verification outcomes: "invalid" apart from "could not decide". A rejection is a fact about
//! the proof, the parameters and the start alone, so it must be reproducible: the same proof
//! verified through other stores, at other thread counts, with prefetching in another order and
//! with transient store failures gives the same rejection or an undecided error, never another
//! rejection; and a store that times out, refuses, misses or sends wrong bytes never makes a
//! block invalid.
#![cfg(feature = "torch")]

mod common;

use common::work::chain;
use pouw::ident::Cid;
use pouw::learning::gan::GanTrainer;
use pouw::learning::{BlobStore, DeviceChoice, DirStore};
use pouw::work::{
    audit_segment, judge, verify, verify_fraud_proof, AuditInput, FraudCheckInput, FraudProof,
    Judgement, VerifyError,
};
use pouw::{Error, Result};
use proptest::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// How a hostile or unlucky store answers the `at`-th get (0-based) and every one after it.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// Answers honestly.
    None,
    /// Times out.
    Timeout,
    /// Refuses (unreachable, an HTTP error).
    Refuse,
    /// Holds nothing.
    Missing,
    /// Sends the bytes with one flipped.
    Flip,
    /// Sends the bytes and more.
    TooLong,
    /// Sends the bytes cut short.
    Truncated,
    /// Answers with an error a store has no business returning (as a buggy embedder store may).
    Nonsense,
}

const FAULTS: [Fault; 8] = [
    Fault::None,
    Fault::Timeout,
    Fault::Refuse,
    Fault::Missing,
    Fault::Flip,
    Fault::TooLong,
    Fault::Truncated,
    Fault::Nonsense,
];

/// A store over `inner` that answers gets from the `at`-th on with `fault`; with `transient`,
/// only the `at`-th get fails. Prefetches load what is asked, in reverse order, into a cache.
struct Hostile<'a> {
    inner: &'a dyn BlobStore,
    fault: Fault,
    at: u64,
    transient: bool,
    gets: AtomicU64,
    cache: Mutex<HashMap<Cid, Vec<u8>>>,
}

impl<'a> Hostile<'a> {
    fn new(inner: &'a dyn BlobStore, fault: Fault, at: u64, transient: bool) -> Self {
        Hostile {
            inner,
            fault,
            at,
            transient,
            gets: AtomicU64::new(0),
            cache: Mutex::new(HashMap::new()),
        }
    }
}

impl BlobStore for Hostile<'_> {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let n = self.gets.fetch_add(1, Ordering::Relaxed);
        let faulty = if self.transient {
            n == self.at
        } else {
            n >= self.at
        };
        let cached = self.cache.lock().unwrap().get(cid).cloned();
        let honest = || match cached.clone() {
            Some(bytes) => Ok(bytes),
            None => self.inner.get_unchecked(cid, limit),
        };
        if !faulty {
            return honest();
        }
        match self.fault {
            Fault::None => honest(),
            Fault::Timeout => Err(Error::Timeout {
                what: cid.to_string(),
            }),
            Fault::Refuse => Err(Error::Store {
                endpoint: "test".into(),
                detail: "refused".into(),
            }),
            Fault::Missing => Err(Error::NotFound {
                cid: cid.to_string(),
            }),
            Fault::Flip => honest().map(|mut b| {
                if let Some(x) = b.last_mut() {
                    *x ^= 1;
                }
                b
            }),
            Fault::TooLong => honest().map(|mut b| {
                b.extend_from_slice(b"more");
                b
            }),
            Fault::Truncated => honest().map(|mut b| {
                b.truncate(b.len() / 2);
                b
            }),
            Fault::Nonsense => Err(Error::LimitExceeded {
                what: "the store's own limit",
                found: limit + 1,
                limit,
            }),
        }
    }

    fn prefetch(&self, cids: &[Cid], limit: u64, stop: &AtomicBool) {
        for cid in cids
            .iter()
            .rev()
            .take_while(|_| !stop.load(Ordering::Relaxed))
        {
            if let Ok(bytes) = self.inner.get(cid, limit) {
                self.cache.lock().unwrap().insert(*cid, bytes);
            }
        }
    }
}

/// The tiny chain's block, the stores holding it (memory and a directory), and its bytes.
struct Setup {
    c: common::work::Chain,
    header: [u8; 32],
    proof: Vec<u8>,
    /// Holds `disk`'s directory.
    _dir: tempfile::TempDir,
    disk: DirStore,
}

fn setup() -> Setup {
    let c = chain();
    let header = [0x71; 32];
    let block = c.mine(header, b"m", &c.genesis);
    let dir = tempfile::tempdir().unwrap();
    let disk = DirStore::new(dir.path()).unwrap();
    for cid in block.proof.required_cids() {
        disk.put(&c.store.get(&cid, u64::MAX).unwrap()).unwrap();
    }
    disk.put(&c.genesis).unwrap();
    Setup {
        proof: block.proof.to_bytes(),
        c,
        header,
        _dir: dir,
        disk,
    }
}

impl Setup {
    fn verify(&self, proof: &[u8], store: &dyn BlobStore) -> std::result::Result<(), VerifyError> {
        let start = self.c.genesis_start();
        let mut input = self.c.input(self.header, b"m", &start);
        input.store = store;
        verify::<GanTrainer>(&input, proof).map(|_| ())
    }
}

/// The judgement of a failure, with the error's text for a rejection.
fn outcome(r: &std::result::Result<(), VerifyError>) -> String {
    match r {
        Ok(()) => "valid".into(),
        Err(VerifyError::Invalid(e)) => format!("invalid: {e}"),
        Err(VerifyError::Undecided(_)) => "undecided".into(),
    }
}

/// Every failure a hostile store causes on an honest block, at any get, is undecided; and the
/// judgement of an error is its variant's.
#[test]
fn a_store_never_makes_an_honest_block_invalid() {
    let s = setup();
    let gets = {
        let counting = Hostile::new(&s.c.store, Fault::None, u64::MAX, false);
        s.verify(&s.proof, &counting).unwrap();
        counting.gets.load(Ordering::Relaxed)
    };
    // At least the winning step's start and the trajectory companion.
    assert!(gets >= 2, "{gets} gets");
    let mut undecided = 0;
    for fault in FAULTS {
        for at in 0..gets {
            let store = Hostile::new(&s.c.store, fault, at, false);
            match s.verify(&s.proof, &store) {
                Ok(()) => {}
                Err(VerifyError::Undecided(e)) => {
                    assert_eq!(judge(&e), Judgement::Undecided, "{e:?}");
                    undecided += 1;
                }
                Err(VerifyError::Invalid(e)) => {
                    panic!("{fault:?} from get {at} made the honest block invalid: {e}")
                }
            }
        }
    }
    println!(
        "{} faulty stores x {gets} gets: {undecided} undecided, none invalid",
        FAULTS.len()
    );
    assert!(undecided >= (FAULTS.len() as u64 - 1) * gets / 2);
}

/// A store over `inner` whose prefetch takes `patience` unless the verifier stops it first, and
/// records whether it was stopped.
struct SlowPrefetch<'a> {
    inner: &'a dyn BlobStore,
    patience: std::time::Duration,
    stopped: AtomicBool,
}

impl BlobStore for SlowPrefetch<'_> {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        self.inner.get_unchecked(cid, limit)
    }

    fn prefetch(&self, _cids: &[Cid], _limit: u64, stop: &AtomicBool) {
        let t = std::time::Instant::now();
        while t.elapsed() < self.patience {
            if stop.load(Ordering::Relaxed) {
                self.stopped.store(true, Ordering::Relaxed);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
}

/// A verification that fails after its prefetch began (a store that stops answering from the
/// second get on: the companion or the next opened step's start) stops the prefetch and returns
/// at once, instead of waiting for checkpoints it no longer needs; one that passes lets the
/// prefetch run on.
#[test]
fn a_verification_that_fails_stops_its_prefetch() {
    let s = setup();
    let patience = std::time::Duration::from_secs(30);
    let failing = Hostile::new(&s.c.store, Fault::Missing, 1, false);
    let store = SlowPrefetch {
        inner: &failing,
        patience,
        stopped: AtomicBool::new(false),
    };
    let t = std::time::Instant::now();
    let verdict = s.verify(&s.proof, &store);
    let took = t.elapsed();
    assert_eq!(outcome(&verdict), "undecided", "{verdict:?}");
    assert!(
        store.stopped.load(Ordering::Relaxed),
        "the prefetch was not stopped (the verification took {took:?})"
    );
    assert!(took < patience, "{took:?}");
    // Patient enough that the verification's steps end while it waits: a flag set on success
    // would reach it.
    let honest = SlowPrefetch {
        inner: &s.c.store,
        patience: std::time::Duration::from_secs(3),
        stopped: AtomicBool::new(false),
    };
    let t = std::time::Instant::now();
    s.verify(&s.proof, &honest).unwrap();
    assert!(
        !honest.stopped.load(Ordering::Relaxed),
        "a passing verification stopped its prefetch"
    );
    // It waited for the prefetch, which ran its course.
    assert!(t.elapsed() >= honest.patience);
}

/// The same for a node's segment check and for a fraud proof's check: a store's failure is
/// never a finding about the block or the fraud proof.
#[test]
fn a_store_never_makes_a_segment_check_or_a_fraud_check_a_finding() {
    let s = setup();
    let block =
        pouw::work::BlockProof::from_bytes(&s.proof, &pouw::work::ProofLimits::of(&s.c.params))
            .unwrap();
    let winning = block.openings.last().unwrap().clone();
    let fraud = FraudProof {
        block_id: block.id(),
        opening: winning,
    }
    .to_bytes();
    let never = AtomicBool::new(false);
    for fault in FAULTS {
        for at in 0..3 {
            let store = Hostile::new(&s.c.store, fault, at, false);
            let input = AuditInput {
                header_hash: s.header,
                miner_id: b"m",
                start: &s.c.genesis,
                params: &s.c.params,
                target: s.c.target,
                dataset: &s.c.dataset,
                store: &store,
                device: DeviceChoice::Cpu,
            };
            let r = audit_segment::<GanTrainer>(&input, &s.proof, 0, &mut |_| {}, &never);
            assert!(
                !matches!(r, Err(VerifyError::Invalid(_))),
                "{fault:?} at {at}: {r:?}"
            );
            let check = FraudCheckInput {
                params: &s.c.params,
                block_id: block.id(),
                start_steps: 0,
                store: &store,
                device: DeviceChoice::Cpu,
            };
            match verify_fraud_proof::<GanTrainer>(&check, &s.proof, &fraud) {
                // The honest winning step, "proven" wrong, with the store answering honestly.
                Err(VerifyError::Invalid(e)) => {
                    assert!(
                        matches!(e.error(), Error::NotFraud { .. }),
                        "{fault:?} at {at}: {e}"
                    )
                }
                Err(VerifyError::Undecided(_)) => {}
                Ok(step) => panic!("an honest step proven wrong: {step}"),
            }
        }
    }
}

/// Parameters this node's own checks refuse are its problem, not the block's.
#[test]
fn unusable_parameters_are_undecided() {
    let s = setup();
    let mut params = s.c.params.clone();
    params.min_steps = params.max_steps + 1;
    let start = s.c.genesis_start();
    let mut input = s.c.input(s.header, b"m", &start);
    input.params = &params;
    let r = verify::<GanTrainer>(&input, &s.proof);
    assert!(matches!(r, Err(VerifyError::Undecided(_))), "{r:?}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// A proof with one byte changed is judged the same way through a directory store and a
    /// memory store, at 1 and 2 threads, and through a store with a transient failure or
    /// prefetching in reverse order: the same rejection, or undecided, never another rejection.
    #[test]
    fn a_rejection_is_reproducible(
        at in any::<prop::sample::Index>(),
        xor in 1u8..=255,
        fault in 0usize..FAULTS.len(),
        fail_at in 0u64..8,
        threads in 1i32..=2,
    ) {
        let s = shared();
        let mut proof = s.proof.clone();
        let i = at.index(proof.len());
        proof[i] ^= xor;
        tch::set_num_threads(1);
        let reference = s.verify(&proof, &s.c.store);
        prop_assert!(reference.is_err(), "a changed byte {i} verified");
        tch::set_num_threads(threads);
        let disk = s.verify(&proof, &s.disk);
        let hostile = Hostile::new(&s.c.store, FAULTS[fault], fail_at, true);
        let faulty = s.verify(&proof, &hostile);
        let expected = outcome(&reference);
        for (what, r) in [("directory store", &disk), ("faulty store", &faulty)] {
            let got = outcome(r);
            prop_assert!(
                got == expected || got == "undecided",
                "byte {} ^ {}: {} through the memory store, {} through the {}", i, xor, expected, got, what
            );
        }
        // Nothing differs between two clean stores.
        prop_assert_eq!(outcome(&disk), expected);
    }
}

/// One setup for every proptest case (mining the block once).
fn shared() -> &'static Setup {
    static SETUP: std::sync::OnceLock<Setup> = std::sync::OnceLock::new();
    SETUP.get_or_init(setup)
}
