//! `pouw bench`: what this machine does, with the ratios the project's benches print: hashing
//! (the Merkle tree build and a file's CID against `cores x` the single-core SHA3 rate), the
//! exact training step, and verifying a block against mining it. Synthetic data (a hash stream),
//! so it needs no files; `--seed-scale` adds the 64x64 RGB default model.

use crate::{Failure, Outcome};
use clap::Args;
use pouw::dataset::{build_tree_from_file, DType, Dataset, DatasetWriter};
use pouw::hash::sha3_256;
use pouw::hash::Digest;
use pouw::ident::unixfs::{cid_of_file, CHUNK_SIZE};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, MemStore, ProofOfLearning};
use pouw::merkle::leaf_hash;
use pouw::work::{
    mine, verify, verify_with, ConsensusParams, MineInput, MineOptions, MineOutcome, MineProgress,
    MinedBlock, Start, Target, VerifyInput, VerifyPhase,
};
use std::hint::black_box;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// MiB of records to hash (tree build, CID), 1 to 1 048 576.
    #[arg(long, default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    mib: u64,
    /// Expected steps of the block mined and verified (default model on 8x8 records).
    #[arg(long, default_value_t = 256)]
    block_steps: u64,
    /// Also time the exact step at the seed's scale (64x64 RGB, default model: seconds a step)
    /// and a verifier's time per opened step of a 17-step block there (about 10 GB of memory).
    #[arg(long)]
    seed_scale: bool,
    /// libtorch intra-op threads of the training steps (default: libtorch's, one a core).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=1024))]
    step_threads: Option<i32>,
}

/// Best-of-`runs` wall time of `f`.
fn best(runs: usize, mut f: impl FnMut() -> Result<(), Failure>) -> Result<Duration, Failure> {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed());
    }
    Ok(best)
}

fn mb_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

/// A dataset of `count` hash-stream records of shape `shape` with values up to `value_max`.
fn synthetic(dir: &Path, shape: Vec<u32>, value_max: u32, count: u64) -> pouw::Result<Dataset> {
    let mut w = DatasetWriter::create(dir, shape, DType::U8, value_max, "hash stream", "none")?;
    let mut xof = pouw::hash::Xof::new("pouw/bench-records", &[0; 32]);
    let mut record = vec![0u8; w.record_size()];
    for _ in 0..count {
        xof.fill(&mut record);
        for v in &mut record {
            *v = (u32::from(*v) % (value_max + 1)) as u8;
        }
        w.push(&record)?;
    }
    w.finish()
}

pub fn run(a: BenchArgs) -> Outcome {
    let cores = rayon::current_num_threads();
    let dir = std::env::temp_dir().join(format!("pouw-bench-{}", std::process::id()));
    let result = bench(&a, cores, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn bench(a: &BenchArgs, cores: usize, dir: &Path) -> Outcome {
    if let Some(threads) = a.step_threads {
        tch::set_num_threads(threads);
    }
    println!(
        "machine   {cores} rayon threads, {} intra-op threads for steps",
        tch::get_num_threads()
    );
    // Hashing: 4 KiB records, a tree build and a CID over the same file.
    let record = 4096u64;
    let count = (a.mib << 20) / record;
    let ds = synthetic(&dir.join("hash"), vec![4096], 255, count)?;
    let records = dir.join("hash").join("records.bin");
    // The single-core rates over the first 64 MiB at most.
    let mut sample = Vec::new();
    std::fs::File::open(&records)
        .and_then(|f| f.take(64 << 20).read_to_end(&mut sample))
        .map_err(|e| Failure::Error(format!("{}: {e}", records.display())))?;
    let sample = &sample[..];
    let leaves = best(3, || {
        for r in sample.chunks_exact(record as usize) {
            black_box(leaf_hash(r));
        }
        Ok(())
    })?;
    let single = mb_s(sample.len() as u64, leaves);
    let build = best(3, || {
        black_box(build_tree_from_file(&records, record, ds.len())?);
        Ok(())
    })?;
    let build = mb_s(count * record, build);
    println!(
        "tree      build over {} MiB of 4 KiB records: {build:.0} MB/s; single-core SHA3 leaf rate \
         {single:.0} MB/s; ratio to {cores} x single {:.2} (target >= 0.85)",
        a.mib,
        build / (cores as f64 * single)
    );
    let chunks = best(3, || {
        for c in sample.chunks(CHUNK_SIZE) {
            black_box(sha3_256(c));
        }
        Ok(())
    })?;
    let single = mb_s(sample.len() as u64, chunks);
    let cid = best(3, || {
        black_box(cid_of_file(&records)?);
        Ok(())
    })?;
    let cid = mb_s(count * record, cid);
    println!(
        "cid       UnixFS CID of the same file: {cid:.0} MB/s; single-core SHA3 over 256 KiB \
         chunks {single:.0} MB/s; ratio to {cores} x single {:.2} (target >= 0.85)",
        cid / (cores as f64 * single)
    );
    drop(ds);

    // The default model on 8x8 records: a step, then a block mined and verified.
    let ds = synthetic(&dir.join("small"), vec![1, 8, 8], 16, 2048)?;
    let spec = GanSpec::for_manifest(ds.manifest())?;
    step_time("step      default model, 8x8", &spec, &ds, 20)?;
    let params = ConsensusParams::new(spec, ds.root(), ds.len());
    let target = Target::from_expected_steps(a.block_steps.max(1));
    let started = Instant::now();
    let mined = BenchBlock::mine(&params, &ds, target, MineOptions::default(), &mut |_| {})?;
    let mining = started.elapsed();
    let (block, proof) = (&mined.block, mined.block.proof.to_bytes());
    let check = mined.verify_input(&params, target);
    let verifying = best(3, || {
        black_box(verify::<GanTrainer>(&check, &proof)?);
        Ok(())
    })?;
    let ratio = verifying.as_secs_f64() / mining.as_secs_f64();
    println!(
        "block     {} steps mined in {:.2} s (once), verified in {:.3} s (best of 3): {:.2}% \
         (scaled to 1000 steps {:.2}%, target <= 5%); proof {} bytes, record-free {} bytes",
        block.proof.steps,
        mining.as_secs_f64(),
        verifying.as_secs_f64(),
        100.0 * ratio,
        100.0 * ratio * block.proof.steps as f64 / 1000.0,
        proof.len(),
        block.proof.record_free().to_bytes().len()
    );
    if a.seed_scale {
        let ds = synthetic(&dir.join("seed"), vec![3, 64, 64], 255, 128)?;
        let spec = GanSpec::for_manifest(ds.manifest())?;
        let step = step_time("step      seed scale, 64x64 RGB", &spec, &ds, 3)?;
        verify_against_mining(spec, &ds, step)?;
    }
    Ok(())
}

/// A block the bench mined from a fresh genesis (in a memory store) and the start a verifier
/// checks it from.
struct BenchBlock {
    block: MinedBlock,
    store: MemStore,
    start: Start,
}

/// The header and miner of the bench's blocks.
const HEADER: Digest = [9; 32];
const MINER: &[u8] = b"bench";

impl BenchBlock {
    /// Mines a block of `params` on `ds` at `target` from the genesis of seed zero.
    fn mine(
        params: &ConsensusParams<GanSpec>,
        ds: &Dataset,
        target: Target,
        options: MineOptions,
        progress: &mut dyn FnMut(&MineProgress),
    ) -> Result<BenchBlock, Failure> {
        let store = MemStore::default();
        let genesis =
            GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)?.checkpoint()?;
        store.put(&genesis)?;
        let input = MineInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &genesis,
            params,
            target,
            dataset: ds,
            store: &store,
        };
        let MineOutcome::Found(block) =
            mine::<GanTrainer>(&input, options, progress, &AtomicBool::new(false))?
        else {
            return Err(Failure::Error("no block within the step limit".into()));
        };
        let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis)?;
        Ok(BenchBlock {
            block: *block,
            store,
            start,
        })
    }

    /// What a verifier of this block is given.
    fn verify_input<'a>(
        &'a self,
        params: &'a ConsensusParams<GanSpec>,
        target: Target,
    ) -> VerifyInput<'a, GanSpec> {
        VerifyInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &self.start,
            params,
            target,
            store: &self.store,
            device: DeviceChoice::Cpu,
        }
    }
}

/// Steps of the seed-scale block that [`verify_against_mining`] mines and verifies: the default
/// parameters' 16 opened steps and the winning one, every step opened.
const SEED_BLOCK_STEPS: u64 = 17;

/// Mines a seed-scale block of exactly [`SEED_BLOCK_STEPS`] steps (every checkpoint kept in
/// memory, so the openings replay nothing) and verifies it: a verifier's time per opened step
/// (fetch, CID and digest checks, decode, re-execution, digest) against the exact step alone
/// (the fastest of `step`, timed before, and three steps timed after) and against a mining step
/// (the step, its bytes and digest, the fastest of the block's).
fn verify_against_mining(spec: GanSpec, ds: &Dataset, step: Duration) -> Outcome {
    let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
    // Every ticket wins from the last step on: exactly that many steps, every one opened.
    params.min_steps = SEED_BLOCK_STEPS;
    params.opened_steps = SEED_BLOCK_STEPS as u32 - 1;
    let options = MineOptions {
        checkpoint_interval: 1,
        max_kept: SEED_BLOCK_STEPS as usize,
        kept_memory: u64::MAX,
        ..MineOptions::default()
    };
    let target = Target::from_expected_steps(1);
    let mut last = Instant::now();
    let mut fastest = Duration::MAX;
    let mined = BenchBlock::mine(&params, ds, target, options, &mut |_| {
        fastest = fastest.min(last.elapsed());
        last = Instant::now();
    })?;
    let proof = mined.block.proof.to_bytes();
    let check = mined.verify_input(&params, target);
    // When each phase began: the winning step runs from its report to the companion's, each
    // other opened step from its report to the next.
    let mut reports: Vec<(VerifyPhase, Instant)> = Vec::new();
    let t = Instant::now();
    let verdict = verify_with::<GanTrainer>(
        &check,
        &proof,
        &mut |p| reports.push((p.phase, Instant::now())),
        &AtomicBool::new(false),
    )?;
    let end = Instant::now();
    let per_step = (end - t).as_secs_f64() / verdict.opened.len() as f64;
    let mut others: Vec<f64> = reports
        .iter()
        .zip(reports.iter().skip(1).map(|r| r.1).chain([end]))
        .skip(3)
        .filter(|((phase, _), _)| *phase == VerifyPhase::Step)
        .map(|((_, from), to)| (to - *from).as_secs_f64())
        .collect();
    others.sort_by(f64::total_cmp);
    let winning = match reports.get(1..3) {
        Some([(_, from), (_, to)]) => (*to - *from).as_secs_f64(),
        _ => 0.0,
    };
    let median = others.get(others.len() / 2).copied().unwrap_or(0.0);
    let step = step.min(step_time(
        "step      seed scale again, after verifying",
        &params.spec,
        ds,
        3,
    )?);
    println!(
        "verify    seed scale, a block of {} steps, all opened: {:.2} s an opened step; ratio to \
         the exact step ({:.2} s, fastest before and after) {:.2} (target <= 1.15), to a mining \
         step ({:.2} s: the step, its bytes and digest) {:.2}",
        verdict.steps,
        per_step,
        step.as_secs_f64(),
        per_step / step.as_secs_f64(),
        fastest.as_secs_f64(),
        per_step / fastest.as_secs_f64()
    );
    println!(
        "verify    the winning step {winning:.2} s (its start fetched and checked first, its end \
         serialised and named); the other opened steps {median:.2} s (median, the next start \
         fetched meanwhile): ratio to the exact step {:.2}",
        median / step.as_secs_f64()
    );
    Ok(())
}

/// Times `steps` exact training steps of `spec`'s model on `ds`, prints the best one and
/// returns it.
fn step_time(label: &str, spec: &GanSpec, ds: &Dataset, steps: u64) -> Result<Duration, Failure> {
    let mut trainer = GanTrainer::from_seed(spec, &[1; 32], DeviceChoice::Cpu)?;
    let mut fastest = Duration::MAX;
    let schedule = pouw::learning::Schedule::new([1; 32], spec.batch_size, ds.len());
    for i in 1..=steps {
        let step = schedule.step(&sha3_256(&i.to_le_bytes()), i)?;
        let batch = pouw::learning::Batch::from_dataset(ds, &step.indices)?;
        let t = Instant::now();
        trainer.step(&step.seed, &batch)?;
        fastest = fastest.min(t.elapsed());
    }
    println!(
        "{label}: {:.2} ms a step (best of {steps}, {} intra-op threads)",
        fastest.as_secs_f64() * 1e3,
        tch::get_num_threads()
    );
    Ok(fastest)
}
