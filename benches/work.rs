//! Work-function targets: verifying a block of about 1000 steps with 16 opened steps against
//! mining it (target: verification at most 5% of mining), and rejecting a random 1 MB string as
//! a proof (target: at most 1 ms). `cargo bench --bench work`.

use criterion::{black_box, criterion_group, Criterion};
use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning};
use pouw::work::{
    mine, verify, ConsensusParams, MineInput, MineOptions, MineOutcome, Start, Target, VerifyInput,
};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

struct Setup {
    params: ConsensusParams<GanSpec>,
    store: DirStore,
    genesis: Vec<u8>,
    start: Start,
    dataset: pouw::Dataset,
}

fn setup() -> Setup {
    tch::set_num_threads(1);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/work");
    let digits = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits.csv.gz");
    let dataset = import_digits_csv(digits, dir.join("digits"), None).unwrap();
    let spec = GanSpec::for_manifest(dataset.manifest()).unwrap();
    let params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    let store = DirStore::new(dir.join("store")).unwrap();
    let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    store.put(&genesis).unwrap();
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis).unwrap();
    Setup {
        params,
        store,
        genesis,
        start,
        dataset,
    }
}

/// Mines blocks at 1000 expected steps until one takes at least 500 steps; prints both times.
fn report_verify_vs_mine(s: &Setup) {
    let target = Target::from_expected_steps(1000);
    for h in 0u8..8 {
        let header = [h; 32];
        let input = MineInput {
            header_hash: header,
            miner_id: b"bench",
            start: &s.genesis,
            params: &s.params,
            target,
            dataset: &s.dataset,
            store: &s.store,
        };
        let t = Instant::now();
        let outcome = mine::<GanTrainer>(
            &input,
            MineOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let mining = t.elapsed().as_secs_f64();
        let MineOutcome::Found(block) = outcome else {
            continue;
        };
        if block.proof.steps < 500 {
            println!(
                "(block of {} steps at header {h}: too short, next header)",
                block.proof.steps
            );
            continue;
        }
        let bytes = block.proof.to_bytes();
        let vin = VerifyInput {
            header_hash: header,
            miner_id: b"bench",
            start: &s.start,
            params: &s.params,
            target,
            store: &s.store,
            device: DeviceChoice::Cpu,
        };
        let t = Instant::now();
        verify::<GanTrainer>(&vin, &bytes).unwrap();
        let verifying = t.elapsed().as_secs_f64();
        let per_1000 = mining * 1000.0 / block.proof.steps as f64;
        println!(
            "block of {} steps, {} opened, proof {} bytes: mining {mining:.2} s, verifying {verifying:.3} s, ratio {:.2}%; \
             scaled to 1000 steps: mining {per_1000:.2} s, ratio {:.2}% (target <= 5%)",
            block.proof.steps,
            block.proof.openings.len(),
            bytes.len(),
            100.0 * verifying / mining,
            100.0 * verifying / per_1000
        );
        return;
    }
}

fn bench_reject(c: &mut Criterion) {
    let s = setup();
    report_verify_vs_mine(&s);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let random: Vec<u8> = (0..1 << 20)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let mut with_magic = random.clone();
    with_magic[..4].copy_from_slice(b"PWBP");
    with_magic[4..8].copy_from_slice(&pouw::PROTOCOL_VERSION.to_le_bytes());
    let vin = VerifyInput {
        header_hash: [0; 32],
        miner_id: b"bench",
        start: &s.start,
        params: &s.params,
        target: Target::from_expected_steps(1000),
        store: &s.store,
        device: DeviceChoice::Cpu,
    };
    let mut g = c.benchmark_group("reject_1mb");
    g.bench_function("random", |b| {
        b.iter(|| verify::<GanTrainer>(&vin, black_box(&random)).unwrap_err())
    });
    g.bench_function("random_with_valid_magic_and_version", |b| {
        b.iter(|| verify::<GanTrainer>(&vin, black_box(&with_magic)).unwrap_err())
    });
    g.finish();
}

criterion_group!(benches, bench_reject);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
