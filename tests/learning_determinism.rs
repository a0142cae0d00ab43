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

/// Runs in a child process (spawned by the tests below): trains with `POUW_THREADS` intra-op
/// threads and prints the final digest.
#[test]
#[ignore = "child process of the determinism tests"]
fn child_train_and_print_digest() {
    let Ok(threads) = std::env::var("POUW_THREADS") else {
        return;
    };
    tch::set_num_threads(threads.parse().unwrap());
    let (_dir, ds) = common::digits_dataset();
    let spec = spec(&ds);
    let mut trainer = GanTrainer::from_seed(&spec, &[7u8; 32]).unwrap();
    let mut prev = checkpoint_digest(&trainer.checkpoint().unwrap());
    let digests = run(&mut trainer, &ds, 0, STEPS, &[1u8; 32], &mut prev);
    println!("DIGEST {}", hex(digests.last().unwrap()));
}

fn digest_in_child(threads: u32) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_train_and_print_digest",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("POUW_THREADS", threads.to_string())
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
