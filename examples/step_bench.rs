//! Times the CPU training step of the default digits model (used by scripts/bench-learning.sh).
//!
//! ```text
//! cargo run --release --example step_bench -- THREADS [deterministic|plain]
//! ```
//! `plain` runs libtorch as it comes (oneDNN and NNPACK on): the baseline the deterministic
//! configuration is compared with. Prints `ms/step` as the best of 5 rounds of 50 steps.

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::{determinism, DeviceChoice, GanSpec, GanTrainer};
use pouw::learning::{batch_indices, step_seed, Batch, ProofOfLearning, TaskSpec};
use std::time::Instant;

fn main() -> pouw::Result<()> {
    let mut args = std::env::args().skip(1);
    let threads: i32 = args.next().map_or(1, |t| t.parse().expect("THREADS"));
    let mode = args.next().unwrap_or_else(|| "deterministic".into());
    if mode == "plain" {
        assert!(determinism::configure_plain_for_benchmarks());
    }
    tch::set_num_threads(threads);
    let dir = tempfile_dir();
    let dataset = import_digits_csv(support::digits_path(), dir.join("digits"), None)?;
    let mut spec = GanSpec::for_manifest(dataset.manifest())?;
    spec.device = DeviceChoice::Cpu;
    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32])?;
    let batches: Vec<(pouw::Digest, Batch)> = (0..50u64)
        .map(|i| {
            let seed = step_seed(&[1; 32], &[2; 32], i);
            let batch = Batch::from_dataset(
                &dataset,
                &batch_indices(&seed, spec.batch_size(), dataset.len()).unwrap(),
            )
            .unwrap();
            (seed, batch)
        })
        .collect();
    for (seed, batch) in batches.iter().take(20) {
        trainer.step(seed, batch)?;
    }
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            for (seed, batch) in &batches {
                trainer.step(seed, batch).unwrap();
            }
            t.elapsed().as_secs_f64() * 1e3 / batches.len() as f64
        })
        .fold(f64::MAX, f64::min);
    println!("pouw {mode} threads={threads} ms/step={best:.3}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pouw-step-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
