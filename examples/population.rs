//! Miner-chosen hyperparameters, simulated on the digits: would letting each block's miner pick
//! the learning rate (within consensus bounds, committed before the first step) make the
//! network's model better? Trains the default digits model from `SEEDS` genesis seeds for
//! `BLOCKS` blocks of `STEPS` steps with each learning rate fixed, and as a population search
//! where every block keeps the rate whose block improved the model most on records drawn after
//! it (the best a reward by settled quality could select: an oracle, upper bound), and prints
//! the final quality of each (sliced Wasserstein on 512 fixed records, lower is better).
//!
//! ```text
//! cargo run --release --example population -- [BLOCKS] [STEPS] [SEEDS]   # POUW_THREADS (default 1)
//! ```

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::hash::tagged_hash;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{batch_indices, step_seed, Batch, DeviceChoice, ProofOfLearning, TaskSpec};
use pouw::{Dataset, Digest, Result};
use support::quality::Scorer;

/// The learning rates miners could choose from (the default, 2e-4, among them).
const RATES: [f32; 4] = [1e-4, 2e-4, 4e-4, 8e-4];

/// Trains `steps` steps of block `block` from `bytes` at learning rate `rate`.
fn train(
    ds: &Dataset,
    spec: &GanSpec,
    bytes: &[u8],
    rate: f32,
    anchor: &Digest,
    steps: u64,
) -> Result<GanTrainer> {
    let spec = GanSpec {
        learning_rate: rate,
        ..spec.clone()
    };
    let mut t = GanTrainer::from_checkpoint(&spec, bytes, DeviceChoice::Cpu)?;
    for i in 1..=steps {
        let seed = step_seed(anchor, &[0; 32], i);
        let indices = batch_indices(&seed, spec.batch_size(), ds.len())?;
        t.step(&seed, &Batch::from_dataset(ds, &indices)?)?;
    }
    Ok(t)
}

/// Quality on 64 records drawn from `seed` (records no one chose: the settlement's stand-in).
fn settled(ds: &Dataset, t: &GanTrainer, seed: &Digest) -> Result<f64> {
    let indices = batch_indices(seed, 64, ds.len())?;
    t.quality(seed, &Batch::from_dataset(ds, &indices)?)
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len() as f64;
    (m, v.sqrt())
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let mut next = |default| args.next().and_then(|a| a.ok()).unwrap_or(default);
    let (blocks, steps, seeds) = (next(25), next(16), next(3));
    tch::set_num_threads(
        std::env::var("POUW_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1),
    );
    let dir = std::path::PathBuf::from("out/population");
    let _ = std::fs::remove_dir_all(&dir);
    let ds = import_digits_csv(support::digits_path(), dir.join("digits"), None)?;
    let spec = GanSpec::for_manifest(ds.manifest())?;
    let scorer = Scorer::new(&ds)?;
    println!("{blocks} blocks of {steps} steps, {seeds} seeds; quality on 512 fixed records");
    let mut fixed = vec![Vec::new(); RATES.len()];
    let (mut searched, mut chosen) = (Vec::new(), vec![0u32; RATES.len()]);
    for s in 0..seeds as u8 {
        let genesis = GanTrainer::from_seed(&spec, &[s; 32], DeviceChoice::Cpu)?.checkpoint()?;
        let anchor = |b: u64| tagged_hash("pouw-example/population", &[&[s], &b.to_le_bytes()]);
        for (r, rate) in RATES.iter().enumerate() {
            let mut bytes = genesis.clone();
            for b in 0..blocks {
                bytes = train(&ds, &spec, &bytes, *rate, &anchor(b), steps)?.checkpoint()?;
            }
            let t = GanTrainer::from_checkpoint(&spec, &bytes, DeviceChoice::Cpu)?;
            fixed[r].push(scorer.score(&t)?);
        }
        let mut bytes = genesis.clone();
        for b in 0..blocks {
            let records = tagged_hash("pouw-example/population-records", &[&[s], &b.to_le_bytes()]);
            let mut best: Option<(f64, usize, Vec<u8>)> = None;
            for (r, rate) in RATES.iter().enumerate() {
                let t = train(&ds, &spec, &bytes, *rate, &anchor(b), steps)?;
                let q = settled(&ds, &t, &records)?;
                if best.as_ref().is_none_or(|(bq, _, _)| q < *bq) {
                    best = Some((q, r, t.checkpoint()?));
                }
            }
            if let Some((_, r, b)) = best {
                chosen[r] += 1;
                bytes = b;
            }
        }
        let t = GanTrainer::from_checkpoint(&spec, &bytes, DeviceChoice::Cpu)?;
        searched.push(scorer.score(&t)?);
        println!("seed {s} done");
    }
    println!("learning rate        final quality (mean +- sd over seeds)");
    for (r, rate) in RATES.iter().enumerate() {
        let (m, sd) = mean_sd(&fixed[r]);
        println!("fixed {rate:<14e} {m:.4} +- {sd:.4}");
    }
    let (m, sd) = mean_sd(&searched);
    println!("population search    {m:.4} +- {sd:.4} (rates chosen {chosen:?} of {RATES:?})");
    Ok(())
}
