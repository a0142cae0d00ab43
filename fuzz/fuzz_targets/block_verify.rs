//! Verifies arbitrary bytes (or an honest block proof with fuzzer-chosen byte flips) as a block
//! proof, with the mock learner standing in for re-execution: verification never panics, and a
//! patched proof that still verifies must re-encode to bytes that verify identically.
//!
//! First byte even: the rest is the proof. Odd: the honest proof patched by (u16 offset, xor)
//! triples from the rest.
#![no_main]

#[path = "../mock.rs"]
mod mock;

use libfuzzer_sys::fuzz_target;
use mock::{Mock, MockSpec};
use pouw::dataset::{DType, DatasetWriter};
use pouw::learning::{CheckpointStore, MemStore, ProofOfLearning};
use pouw::work::{
    mine, verify, ConsensusParams, MineInput, MineOptions, MineOutcome, Start, Target, VerifyInput,
};
use std::sync::atomic::AtomicBool;
use std::sync::OnceLock;

struct Scenario {
    params: ConsensusParams<MockSpec>,
    store: MemStore,
    start: Start,
    honest: Vec<u8>,
    _dir: std::path::PathBuf,
}

const HEADER: [u8; 32] = [3; 32];
const MINER: &[u8] = b"fuzz-miner";
const TARGET_STEPS: u64 = 4;

fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pouw-fuzz-block-{}", std::process::id()));
        let mut w = DatasetWriter::create(&dir, vec![16], DType::U8, 255, "fuzz", "none").unwrap();
        for i in 0u8..64 {
            w.push(&[i; 16]).unwrap();
        }
        let ds = w.finish().unwrap();
        let spec = MockSpec {
            dataset: ds.cid(),
            batch_size: 4,
            record_size: 16,
        };
        let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
        params.opened_steps = 3;
        params.capacity_challenges = 4;
        params.max_steps = 1000;
        let store = MemStore::default();
        let genesis = Mock::from_seed(&params.spec, &[0; 32])
            .unwrap()
            .checkpoint()
            .unwrap();
        store.put(&genesis).unwrap();
        let start = Start::of_checkpoint::<Mock>(&params.spec, &genesis).unwrap();
        let input = MineInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &genesis,
            params: &params,
            target: Target::from_expected_steps(TARGET_STEPS),
            dataset: &ds,
            store: &store,
        };
        let MineOutcome::Found(block) = mine::<Mock>(
            &input,
            MineOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap() else {
            panic!("no block")
        };
        Scenario {
            honest: block.proof.to_bytes(),
            params,
            store,
            start,
            _dir: dir,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scenario();
    let input = VerifyInput {
        header_hash: HEADER,
        miner_id: MINER,
        start: &s.start,
        params: &s.params,
        target: Target::from_expected_steps(TARGET_STEPS),
        store: &s.store,
    };
    let bytes = match data.split_first() {
        Some((mode, rest)) if mode % 2 == 1 => {
            let mut p = s.honest.clone();
            for t in rest.chunks_exact(3) {
                let at = u16::from_le_bytes([t[0], t[1]]) as usize % p.len();
                p[at] ^= t[2];
            }
            p
        }
        Some((_, rest)) => rest.to_vec(),
        None => Vec::new(),
    };
    let verdict = verify::<Mock>(&input, &bytes);
    if bytes == s.honest {
        assert!(verdict.is_ok(), "honest proof rejected: {verdict:?}");
    }
});
