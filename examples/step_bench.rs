//! Times pouw's CPU training step (used by `scripts/bench-learning.sh`, which prints the ratio
//! against the same model in PyTorch float32, `benches/pytorch_step.py`).
//!
//! ```text
//! cargo run --release --example step_bench -- THREADS [digits|16|32|64|seed] [host|tensor|cuda]
//! ```
//! - `digits`: the default model of the bundled 8x8 digits; best ms/step of 5 rounds of 50 steps
//!   after 20 warm-up steps;
//! - `16`, `32`, `64` (`seed` is `64`): RGB images of that side with the default filters
//!   (generator 160 / discriminator 40, batch 64, latent 100; 64 is the seed article's scale) on
//!   synthetic records; best of 3 rounds (of 10, 3 and 1 steps) after one warm-up step. Also
//!   prints the checkpoint size.
//!
//! Then [`PROFILED_STEPS`] more steps, profiled: where the fastest one's time went by kind of
//! exact operation (products, quantization, scaling back, batch norm, Adam, functions, the
//! rest: element-wise work and checks), and the checkpoint serialised and digested after them
//! (`breakdown ...` lines).
//!
//! `THREADS` sets libtorch's intra-op threads, which run both the matrix products and the
//! fused host kernels. `tensor` runs the element-wise work as libtorch tensor operations (what
//! CUDA runs) instead of the fused host kernels: the same bits, for comparison; `cuda` trains on
//! CUDA device 0 (a build with the `cuda` feature, see `scripts/cuda-check.sh`).

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::exact::{Kernels, Products};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{batch_indices, step_seed, Batch, ProofOfLearning, TaskSpec};
use std::time::Instant;

fn main() -> pouw::Result<()> {
    let mut args = std::env::args().skip(1);
    let threads: i32 = args.next().map_or(1, |t| t.parse().expect("THREADS"));
    let scale = args.next().unwrap_or_else(|| "digits".into());
    let (kernels, device) = match args.next().as_deref() {
        None | Some("host") => (Kernels::Host, DeviceChoice::Cpu),
        Some("tensor") => (Kernels::Tensor, DeviceChoice::Cpu),
        Some("cuda") => (Kernels::Tensor, DeviceChoice::Cuda(0)),
        Some(other) => panic!("unknown kernels {other}: host, tensor or cuda"),
    };
    tch::set_num_threads(threads);
    let dir = std::env::temp_dir().join(format!("pouw-step-bench-{}", std::process::id()));
    let dataset = import_digits_csv(support::digits_path(), dir.join("digits"), None)?;
    let mut spec = GanSpec::for_manifest(dataset.manifest())?;
    let side = match scale.as_str() {
        "digits" => None,
        "seed" => Some(64),
        other => Some(
            other
                .parse::<u32>()
                .ok()
                .filter(|s| [16, 32, 64].contains(s))
                .unwrap_or_else(|| panic!("unknown scale {other}: digits, 16, 32, 64 or seed")),
        ),
    };
    let seed_scale = side.is_some();
    if let Some(side) = side {
        spec.channels = 3;
        spec.image_size = side;
        spec.value_max = 255;
    }
    let batches: Vec<(pouw::Digest, Batch)> = (0..50u64)
        .map(|i| {
            let seed = step_seed(&[1; 32], &[2; 32], i);
            let batch = if seed_scale {
                synthetic_batch(&spec, &seed)
            } else {
                Batch::from_dataset(
                    &dataset,
                    &batch_indices(&seed, spec.batch_size(), dataset.len()).unwrap(),
                )
                .unwrap()
            };
            (seed, batch)
        })
        .collect();
    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], device)?;
    trainer.set_arithmetic(kernels, Products::Blas);
    let mut step = |i: usize| {
        let (seed, batch) = &batches[i % batches.len()];
        trainer.step(seed, batch).unwrap()
    };
    // Each step ends by reading back whether its state is finite: the device is synchronised.
    let (warmup, rounds, per_round) = match side {
        None => (20, 5, 50),
        Some(16) => (1, 3, 10),
        Some(32) => (1, 3, 3),
        Some(_) => (1, 3, 1),
    };
    (0..warmup).for_each(&mut step);
    let best = (0..rounds)
        .map(|r| {
            let t = Instant::now();
            (0..per_round).for_each(|i| step(r * per_round + i));
            t.elapsed().as_secs_f64() / per_round as f64
        })
        .fold(f64::MAX, f64::min);
    println!("pouw {scale} threads={threads} device={device:?} s/step={best:.6}");
    if seed_scale {
        println!(
            "checkpoint {} bytes ({:.1} MB)",
            trainer.checkpoint_size(),
            trainer.checkpoint_size() as f64 / 1e6
        );
    }
    breakdown(&mut trainer, &batches[0])?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Profiled steps of which [`breakdown`] prints the fastest: one step's parts swing with a
/// shared machine as much as its total does.
const PROFILED_STEPS: usize = 3;

/// [`PROFILED_STEPS`] more steps, profiled, then the checkpoint serialised and digested:
/// `breakdown` lines of milliseconds by part (and the share of the step) of the fastest step.
fn breakdown(trainer: &mut GanTrainer, (seed, batch): &(pouw::Digest, Batch)) -> pouw::Result<()> {
    let mut fastest = None;
    for _ in 0..PROFILED_STEPS {
        trainer.set_profiling(true);
        let t = Instant::now();
        trainer.step(seed, batch)?;
        let step = t.elapsed();
        if fastest.is_none_or(|(best, _)| step < best) {
            fastest = Some((step, trainer.profile()));
        }
    }
    trainer.set_profiling(false);
    let Some((step, p)) = fastest else {
        return Ok(());
    };
    let t = Instant::now();
    let (bytes, _) = trainer.checkpoint_with_digest()?;
    let serialise = t.elapsed();
    let t = Instant::now();
    let decoded = GanTrainer::from_checkpoint(trainer.spec(), &bytes, DeviceChoice::Cpu)?;
    let decode = t.elapsed();
    drop((bytes, decoded));
    let t = Instant::now();
    trainer.digest()?;
    let digest = t.elapsed();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
    let share = |d: std::time::Duration| 100.0 * d.as_secs_f64() / step.as_secs_f64();
    let rest = step.saturating_sub(p.total());
    for (part, d) in [
        ("products", p.products),
        ("quantize", p.quantize),
        ("rescale", p.rescale),
        ("batch_norm", p.batch_norm),
        ("adam", p.adam),
        ("functions", p.functions),
        ("rest", rest),
    ] {
        println!("breakdown {part} ms={:.1} share={:.1}%", ms(d), share(d));
    }
    println!(
        "breakdown step ms={:.1}; serialise+digest ms={:.1}; digest in place ms={:.1}; decode \
         (a verifier's) ms={:.1}",
        ms(step),
        ms(serialise),
        ms(digest),
        ms(decode)
    );
    Ok(())
}

/// Records of a hash stream, for the seed scale (no bundled dataset is that large).
fn synthetic_batch(spec: &GanSpec, seed: &pouw::Digest) -> Batch {
    let size = spec.record_size();
    let n = spec.batch_size() as usize;
    let mut xof = pouw::hash::Xof::new("pouw/bench-records", seed);
    let mut records = vec![0u8; n * size];
    xof.fill(&mut records);
    Batch::from_records((0..n as u64).collect(), records, size).unwrap()
}
