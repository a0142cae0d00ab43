//! CUDA checks (feature `cuda`), run on a CUDA machine by `scripts/cuda-check.sh`: the device
//! passes the exact-arithmetic self-test; CPU and CUDA give the same checkpoint digest at every
//! one of 50 steps, for the digits model and for a 64x64 RGB model with the default filters;
//! a block mined on the CPU verifies exactly on CUDA, and a block mined on CUDA on the CPU.
//!
//! Each needs a CUDA device, so each is ignored by default (reported as ignored, not passed,
//! where there is none); `scripts/cuda-check.sh run` runs them with `--include-ignored` and
//! `POUW_REQUIRE_CUDA`, under which a missing device fails them.
#![cfg(feature = "cuda")]

mod common;

use common::flat::verify;
use common::mine::{genesis_in, mine_found};
use common::work::small_params;

use pouw::learning::exact::Exact;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, MemStore, ProofOfLearning, TaskSpec,
};
use pouw::work::{MineInput, MineOptions, Target, VerifyInput};
use std::time::Instant;

const STEPS: u64 = 50;

/// Whether CUDA is there; without it the tests skip, unless `POUW_REQUIRE_CUDA` is set (as
/// `scripts/cuda-check.sh run` sets it), where a missing device fails them.
fn cuda_available() -> bool {
    let ok = tch::Cuda::is_available();
    if !ok {
        assert!(
            std::env::var_os("POUW_REQUIRE_CUDA").is_none(),
            "POUW_REQUIRE_CUDA is set but libtorch sees no CUDA device"
        );
        eprintln!("skipped: no CUDA device");
    }
    ok
}

/// The digest after each of `STEPS` steps from the seed on `device`, with the time.
fn digests(
    spec: &GanSpec,
    device: DeviceChoice,
    ds: &pouw::Dataset,
    batch: impl Fn(&pouw::Digest, u64) -> Batch,
) -> (Vec<[u8; 32]>, f64) {
    let mut trainer = GanTrainer::from_seed(spec, &[4u8; 32], device).unwrap();
    let mut prev = checkpoint_digest(&trainer.checkpoint().unwrap());
    let mut out = Vec::new();
    let start = Instant::now();
    for i in 1..=STEPS {
        let seed = step_seed(&[8u8; 32], &prev, i);
        trainer.step(&seed, &batch(&seed, ds.len())).unwrap();
        prev = checkpoint_digest(&trainer.checkpoint().unwrap());
        out.push(prev);
    }
    (out, start.elapsed().as_secs_f64() / STEPS as f64)
}

fn compare(
    model: &str,
    spec: &GanSpec,
    ds: &pouw::Dataset,
    batch: impl Fn(&pouw::Digest, u64) -> Batch + Copy,
) {
    let (cpu, cpu_time) = digests(spec, DeviceChoice::Cpu, ds, batch);
    let (cuda, cuda_time) = digests(spec, DeviceChoice::Cuda(0), ds, batch);
    println!("{model}: CPU {cpu_time:.3} s/step, CUDA {cuda_time:.3} s/step (steps including checkpoint and digest)");
    for (step, (a, b)) in cpu.iter().zip(&cuda).enumerate() {
        assert_eq!(
            a,
            b,
            "{model}: step {} differs between CPU and CUDA",
            step + 1
        );
    }
    println!(
        "{model}: CPU and CUDA digests equal at all {STEPS} steps; last {:02x?}",
        &cpu[STEPS as usize - 1][..8]
    );
}

#[test]
#[ignore = "needs a CUDA device: scripts/cuda-check.sh runs it"]
fn the_device_passes_the_self_test() {
    if !cuda_available() {
        return;
    }
    Exact::self_test(tch::Device::Cuda(0)).unwrap();
    println!("CUDA device 0 passes the exact-arithmetic self-test");
}

#[test]
#[ignore = "needs a CUDA device: scripts/cuda-check.sh runs it"]
fn digits_digests_agree_on_cpu_and_cuda_at_every_step() {
    if !cuda_available() {
        return;
    }
    let (_dir, ds) = common::digits_dataset();
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let records = |seed: &pouw::Digest, n: u64| {
        Batch::from_dataset(&ds, &batch_indices(seed, 64, n).unwrap()).unwrap()
    };
    compare("digits", &spec, &ds, records);
}

#[test]
#[ignore = "needs a CUDA device: scripts/cuda-check.sh runs it"]
fn rgb64_digests_agree_on_cpu_and_cuda_at_every_step() {
    if !cuda_available() {
        return;
    }
    let (_dir, ds) = common::digits_dataset();
    let mut spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    spec.channels = 3;
    spec.image_size = 64;
    spec.value_max = 255;
    let size = spec.record_size();
    // Records of a hash stream (the bundled digits are 8x8).
    let records = move |seed: &pouw::Digest, _: u64| {
        let mut bytes = vec![0u8; 64 * size];
        pouw::hash::Xof::new("pouw/test-records", seed).fill(&mut bytes);
        Batch::from_records((0..64).collect(), bytes, size).unwrap()
    };
    compare("64x64 RGB, 160/40 filters", &spec, &ds, records);
}

/// Mines a block on `miner`'s device and verifies it on `verifier`'s.
fn mine_and_verify(miner: DeviceChoice, verifier: DeviceChoice) {
    let (_dir, ds) = common::digits_dataset();
    let params = small_params(&ds);
    let store = MemStore::default();
    let genesis = genesis_in::<GanTrainer>(&params.spec, &store);
    let start = pouw::work::Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis).unwrap();
    let target = Target::from_expected_steps(12);
    let input = MineInput {
        header_hash: [3; 32],
        miner_id: b"cuda-check",
        start: &genesis,
        params: &params,
        target,
        dataset: &ds,
        store: &store,
    };
    let block = mine_found::<GanTrainer>(
        &input,
        MineOptions {
            device: miner,
            ..MineOptions::default()
        },
    );
    // The verifier differs only in its local device choice.
    let verdict = verify::<GanTrainer>(
        &VerifyInput {
            header_hash: [3; 32],
            miner_id: b"cuda-check",
            start: &start,
            params: &params,
            target,
            store: &store,
            device: verifier,
        },
        &block.proof.to_bytes(),
    )
    .unwrap();
    println!(
        "mined on {miner:?} ({} steps), verified exactly on {verifier:?}: opened {:?}",
        verdict.steps, verdict.opened
    );
}

#[test]
#[ignore = "needs a CUDA device: scripts/cuda-check.sh runs it"]
fn a_block_mined_on_the_cpu_verifies_exactly_on_cuda() {
    if cuda_available() {
        mine_and_verify(DeviceChoice::Cpu, DeviceChoice::Cuda(0));
    }
}

#[test]
#[ignore = "needs a CUDA device: scripts/cuda-check.sh runs it"]
fn a_block_mined_on_cuda_verifies_exactly_on_the_cpu() {
    if cuda_available() {
        mine_and_verify(DeviceChoice::Cuda(0), DeviceChoice::Cpu);
    }
}
