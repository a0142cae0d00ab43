//! Mines one block of exactly STEPS steps (`min_steps = STEPS`, the easiest target) with the
//! default model on SIZE x SIZE RGB images and default mining options, then prints the
//! checkpoint size, the peak resident memory of mining and the bound it is held to: five
//! checkpoints plus 512 MiB, whatever the block's length (`scripts/measure-mining-memory.sh`).
//! Then verifies the block and prints what verifying costs at that scale: proof bytes, bytes
//! fetched from the store, time per re-executed step.
//!
//! ```text
//! cargo run --release --example mine_memory -- [STEPS] [SIZE]
//! ```
//!
//! Checkpoints are published to a `DirStore` on disk, as a miner would. The records are a hash stream (the measure is of memory, not of learning). Linux only: the
//! peak is the kernel's `VmHWM`.

mod support;

use pouw::dataset::{DType, DatasetWriter};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning, TaskSpec};
use pouw::work::{
    mine, verify, ConsensusParams, MineInput, MineOptions, MineOutcome, Start, Target, VerifyInput,
};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

/// Peak resident memory of this process, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

fn main() -> pouw::Result<()> {
    let mut args = std::env::args().skip(1);
    let bad = |what: &str| pouw::Error::InvalidParameters(format!("{what}: a number"));
    let steps: u64 = match args.next() {
        None => 256,
        Some(s) => s.parse().map_err(|_| bad("STEPS"))?,
    };
    let size: u32 = match args.next() {
        None => 32,
        Some(s) => s.parse().map_err(|_| bad("SIZE"))?,
    };
    let dir = std::env::temp_dir().join(format!("pouw-mine-memory-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut writer = DatasetWriter::create(
        dir.join("images"),
        vec![3, size, size],
        DType::U8,
        255,
        "hash-stream images",
        "none",
    )?;
    let mut xof = pouw::hash::Xof::new("pouw/memory-records", &[0; 32]);
    let mut record = vec![0u8; (3 * size * size) as usize];
    for _ in 0..512 {
        xof.fill(&mut record);
        writer.push(&record)?;
    }
    let dataset = writer.finish()?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let mut params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    params.min_steps = steps;
    params.max_steps = params.max_steps.max(steps);
    let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)?.checkpoint()?;
    let checkpoint = params.spec.checkpoint_size();
    let store = DirStore::new(dir.join("store"))?;
    let genesis_cid = store.put(&genesis)?;
    let input = MineInput {
        header_hash: [7; 32],
        miner_id: b"memory",
        start: &genesis,
        params: &params,
        target: Target::from_expected_steps(1),
        dataset: &dataset,
        store: &store,
    };
    let started = Instant::now();
    let outcome = mine::<GanTrainer>(
        &input,
        MineOptions::default(),
        &mut |p| {
            if p.step % 16 == 0 {
                eprintln!("step {} ({:.0} s)", p.step, started.elapsed().as_secs_f64());
            }
        },
        &AtomicBool::new(false),
    )?;
    let MineOutcome::Found(block) = outcome else {
        panic!("no block: {outcome:?}");
    };
    let elapsed = started.elapsed().as_secs_f64();
    let published: u64 = std::fs::read_dir(dir.join("store"))
        .map_err(|e| pouw::Error::io(dir.join("store"), e))?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let peak = peak_rss();
    let bound = 5 * checkpoint + (512 << 20);
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "{size}x{size} RGB, {steps}-step block in {elapsed:.0} s ({:.2} s a step); checkpoint \
         {checkpoint} bytes ({:.1} MiB); published to the store (on disk) {:.1} MiB",
        elapsed / steps as f64,
        mib(checkpoint),
        mib(published),
    );
    println!(
        "peak RSS {:.1} MiB; bound 5 checkpoints + 512 MiB = {:.1} MiB: {}",
        mib(peak),
        mib(bound),
        if peak <= bound { "within" } else { "EXCEEDED" }
    );

    let proof = block.proof.to_bytes();
    let fetched = support::verifier_fetch_bytes(&store, &block.proof, &genesis_cid);
    let opened = block.proof.openings.len();
    drop(block);
    let started = Instant::now();
    let verdict = verify::<GanTrainer>(
        &VerifyInput {
            header_hash: [7; 32],
            miner_id: b"memory",
            start: &Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis)?,
            params: &params,
            target: Target::from_expected_steps(1),
            store: &store,
            device: DeviceChoice::Cpu,
        },
        &proof,
    )?;
    let verifying = started.elapsed().as_secs_f64();
    println!(
        "verified {} steps, {opened} opened, in {verifying:.1} s ({:.2} s an opened step); proof \
         {} bytes; a verifier fetches {:.1} MiB (the opened steps' starts, the trajectory, the block's start)",
        verdict.steps,
        verifying / opened as f64,
        proof.len(),
        mib(fetched),
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
