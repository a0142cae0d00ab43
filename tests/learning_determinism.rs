//! Bitwise determinism of GAN training: across processes, intra-op thread counts, and a restart
//! from a saved checkpoint.
#![cfg(feature = "torch")]

mod common;

use pouw::learning::gan::{DeviceChoice, GanSpec, GanTrainer};
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec,
};
use std::process::Command;

const STEPS: u64 = 3;

fn spec(ds: &pouw::Dataset) -> GanSpec {
    let mut spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    spec.device = DeviceChoice::Cpu;
    spec
}

/// Trains `steps` steps from `trainer`, returning the digest after each.
fn run(
    trainer: &mut GanTrainer,
    ds: &pouw::Dataset,
    from: u64,
    steps: u64,
    anchor: &[u8; 32],
    prev: &mut [u8; 32],
) -> Vec<[u8; 32]> {
    let mut digests = Vec::new();
    for i in from + 1..=from + steps {
        let seed = step_seed(anchor, prev, i);
        let indices = batch_indices(&seed, trainer.spec().batch_size(), ds.len()).unwrap();
        trainer
            .step(&seed, &Batch::from_dataset(ds, &indices).unwrap())
            .unwrap();
        *prev = checkpoint_digest(&trainer.checkpoint().unwrap());
        digests.push(*prev);
    }
    digests
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A small model on images of `size` pixels (3 channels), for shapes the digits do not reach.
fn large_image_spec(ds: &pouw::Dataset, size: u32) -> GanSpec {
    let mut spec = spec(ds);
    spec.image_size = size;
    spec.channels = 3;
    spec.latent = 16;
    spec.g_filters = 16;
    spec.d_filters = 8;
    spec.batch_size = 16;
    spec
}

/// Trains `spec` from a seed on synthetic records (bytes of a hash stream), returning the final
/// digest.
fn train_synthetic(spec: &GanSpec) -> [u8; 32] {
    let mut trainer = GanTrainer::from_seed(spec, &[5u8; 32]).unwrap();
    let record_size = spec.record_size();
    for i in 0..STEPS {
        let seed = step_seed(&[4u8; 32], &[i as u8; 32], i + 1);
        let records: Vec<u8> = (0..spec.batch_size() as usize * record_size)
            .map(|j| (seed[j % 32] as usize ^ j.wrapping_mul(31)) as u8 % 17)
            .collect();
        let batch = Batch {
            indices: (0..spec.batch_size() as u64).collect(),
            records,
            record_size,
        };
        trainer.step(&seed, &batch).unwrap();
    }
    checkpoint_digest(&trainer.checkpoint().unwrap())
}

/// Runs in a child process (spawned by the tests below): trains with `POUW_THREADS` intra-op
/// threads and prints the final digest; the digits model, or with `POUW_IMAGE_SIZE` a small
/// model on synthetic images of that size.
#[test]
#[ignore = "child process of the determinism tests"]
fn child_train_and_print_digest() {
    let Ok(threads) = std::env::var("POUW_THREADS") else {
        return;
    };
    tch::set_num_threads(threads.parse().unwrap());
    let (_dir, ds) = common::digits_dataset();
    let digest = match std::env::var("POUW_IMAGE_SIZE") {
        Ok(size) => train_synthetic(&large_image_spec(&ds, size.parse().unwrap())),
        Err(_) => {
            let spec = spec(&ds);
            let mut trainer = GanTrainer::from_seed(&spec, &[7u8; 32]).unwrap();
            let mut prev = checkpoint_digest(&trainer.checkpoint().unwrap());
            *run(&mut trainer, &ds, 0, STEPS, &[1u8; 32], &mut prev)
                .last()
                .unwrap()
        }
    };
    println!("DIGEST {}", hex(&digest));
}

fn digest_in_child(threads: u32) -> String {
    digest_in_child_with(threads, None)
}

fn digest_in_child_with(threads: u32, image_size: Option<u32>) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_train_and_print_digest",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("POUW_THREADS", threads.to_string())
        .envs(image_size.map(|s| ("POUW_IMAGE_SIZE", s.to_string())))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split("DIGEST ").nth(1))
        .expect("digest line")
        .trim()
        .to_owned()
}

#[test]
fn identical_digests_across_processes_and_thread_counts() {
    let one = digest_in_child(1);
    assert_eq!(one, digest_in_child(1), "two processes at 1 thread");
    for threads in [2, 4] {
        assert_eq!(one, digest_in_child(threads), "1 thread vs {threads}");
    }
}

#[test]
fn larger_images_are_thread_invariant() {
    for size in [16, 32, 64] {
        let one = digest_in_child_with(1, Some(size));
        for threads in [2, 4] {
            assert_eq!(
                one,
                digest_in_child_with(threads, Some(size)),
                "{size}x{size} images: 1 thread vs {threads}"
            );
        }
    }
}

#[test]
fn restart_from_checkpoint_matches_straight_run() {
    let (_dir, ds) = common::digits_dataset();
    let spec = spec(&ds);
    let anchor = [3u8; 32];
    let mut straight = GanTrainer::from_seed(&spec, &[9u8; 32]).unwrap();
    let mut prev = checkpoint_digest(&straight.checkpoint().unwrap());
    let all = run(&mut straight, &ds, 0, 4, &anchor, &mut prev);

    let mut first = GanTrainer::from_seed(&spec, &[9u8; 32]).unwrap();
    let mut prev = checkpoint_digest(&first.checkpoint().unwrap());
    let head = run(&mut first, &ds, 0, 2, &anchor, &mut prev);
    let saved = first.checkpoint().unwrap();
    drop(first);
    let mut resumed = GanTrainer::from_checkpoint(&spec, &saved).unwrap();
    assert_eq!(
        resumed.checkpoint().unwrap(),
        saved,
        "load then save is the identity"
    );
    let tail = run(&mut resumed, &ds, 2, 2, &anchor, &mut prev);
    assert_eq!([head, tail].concat(), all);
}

/// Matrix products whose row split MKL changes with its thread count (these shapes differ
/// between 1 and 4 MKL threads here) are identical at every intra-op thread count under the pin.
#[test]
fn pinned_matrix_products_ignore_the_thread_count() {
    use pouw::learning::gan::determinism;
    use tch::{Kind, Tensor};
    GanTrainer::from_seed(&spec(&common::digits_dataset().1), &[1u8; 32]).unwrap();
    for (m, k, n) in [(1024, 16, 40), (16, 1024, 40)] {
        let a = Tensor::arange(m * k, (Kind::Float, tch::Device::Cpu))
            .reshape([m, k])
            .sin();
        let b = Tensor::arange(k * n, (Kind::Float, tch::Device::Cpu))
            .reshape([k, n])
            .cos();
        let product_at = |threads: i32| {
            tch::set_num_threads(threads);
            let _pin = determinism::single_threaded_blas().unwrap();
            a.mm(&b)
        };
        let one = product_at(1);
        for threads in [2, 4] {
            assert!(
                one.equal(&product_at(threads)),
                "[{m},{k}]x[{k},{n}] at {threads} threads"
            );
        }
    }
}
