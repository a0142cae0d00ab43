//! Trains the default DCGAN on the bundled UCI digits, printing the quality score (sliced
//! Wasserstein distance to real digits, lower is better) as it falls.
//!
//! Writes to `out/train/`: checkpoints (by CID), `samples.png` (a grid of generated digits)
//! and `quality.png` (the score over steps).
//!
//! ```text
//! cargo run --release --example train -- [STEPS]
//! cargo run --release --example train -- --compare [RUNS]
//! ```
//!
//! `--compare` trains `RUNS` (default 5) seeds of the exact step and of the float32 PyTorch
//! reference (`benches/pytorch_train.py`) for 400 steps each, scores every 25th checkpoint of
//! both with the same quality function, prints the mean and spread per step and writes
//! `quality-vs-pytorch.png` (exact runs blue, PyTorch runs orange, means drawn thick).
//!
//! `POUW_THREADS` sets the intra-op threads (default 1).

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, BlobStore, DirStore, ProofOfLearning,
    TaskSpec,
};
use std::time::Instant;
use support::quality::{exact_curve, pytorch_curve, spread, Curve, Scorer};
use support::Series;

fn main() -> pouw::Result<()> {
    // One intra-op thread is fastest for this small model on small machines; training is
    // bitwise identical at any count (`POUW_THREADS` changes it).
    tch::set_num_threads(
        std::env::var("POUW_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1),
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = std::path::Path::new("out/train");
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;
    let dataset = import_digits_csv(support::digits_path(), out.join("digits"), None)?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    if args.first().map(String::as_str) == Some("--compare") {
        let runs = args
            .get(1)
            .map_or(5, |r| r.parse().expect("RUNS is a number"));
        return compare(&dataset, &spec, runs, out);
    }
    let steps: u64 = args
        .first()
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let store = DirStore::new(out.join("checkpoints"))?;
    println!(
        "dataset {} ({} records), task spec {}",
        dataset.cid(),
        dataset.len(),
        hex(&spec.digest())
    );

    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu)?;
    println!(
        "device {:?}, {} intra-op threads",
        trainer.device(),
        tch::get_num_threads()
    );
    // The quality reference: 512 real digits and a latent seed, fixed for the whole run.
    let eval_seed = [1u8; 32];
    let reference = Batch::from_dataset(&dataset, &batch_indices(&eval_seed, 512, dataset.len())?)?;
    let anchor = [2u8; 32];
    let mut prev = checkpoint_digest(&trainer.checkpoint()?);
    let mut curve = vec![(0.0, trainer.quality(&eval_seed, &reference)?)];
    let before = curve[0].1;

    let bar = support::Progress::new("training", steps);
    let start = Instant::now();
    for i in 1..=steps {
        let seed = step_seed(&anchor, &prev, i);
        let batch = Batch::from_dataset(
            &dataset,
            &batch_indices(&seed, spec.batch_size(), dataset.len())?,
        )?;
        trainer.step(&seed, &batch)?;
        let bytes = trainer.checkpoint()?;
        prev = checkpoint_digest(&bytes);
        if i % 25 == 0 || i == steps {
            curve.push((i as f64, trainer.quality(&eval_seed, &reference)?));
            store.put(&bytes)?;
        }
        bar.update(
            i,
            &format!("quality {:.4}", curve.last().expect("non-empty").1),
        );
    }
    bar.finish();
    let elapsed = start.elapsed();
    let after = curve.last().expect("non-empty").1;

    write_png(
        &sample_grid(&trainer, &[3u8; 32], 8, 8, 4)?,
        out.join("samples.png"),
    )?;
    write_png(
        &support::chart(
            "Quality while training on the digits",
            "training step",
            "sliced Wasserstein distance (lower is better)",
            &[Series {
                points: curve.clone(),
                color: [30, 90, 200],
                thick: true,
                label: Some("pouw exact step".into()),
            }],
            720,
            420,
        )?,
        out.join("quality.png"),
    )?;
    println!("quality curve (step, sliced Wasserstein distance):");
    for (step, q) in &curve {
        println!("  {step:>5} {q:.4}");
    }
    println!(
        "{steps} steps in {:.1} s ({:.1} ms/step); quality {before:.4} -> {after:.4}; final digest {}",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / steps as f64,
        hex(&prev)
    );
    println!(
        "wrote {}/samples.png, {}/quality.png, checkpoints in {}/checkpoints",
        out.display(),
        out.display(),
        out.display()
    );
    Ok(())
}

/// `--compare`: the exact step against the float32 PyTorch reference, several seeds each.
fn compare(
    dataset: &pouw::Dataset,
    spec: &GanSpec,
    runs: u8,
    out: &std::path::Path,
) -> pouw::Result<()> {
    let (steps, every) = (400, 25);
    let scorer = Scorer::new(dataset)?;
    let work = out.join("pytorch");
    let bar = support::Progress::new("training", 2 * u64::from(runs));
    let mut exact: Vec<Curve> = Vec::new();
    let mut reference: Vec<Curve> = Vec::new();
    for run in 0..runs {
        exact.push(exact_curve(dataset, spec, run, steps, every, &scorer)?);
        bar.update(2 * u64::from(run) + 1, "exact");
        reference.push(pytorch_curve(
            &support::digits_path(),
            spec,
            run,
            steps,
            every,
            &scorer,
            &work,
        )?);
        bar.update(2 * u64::from(run) + 2, "PyTorch float32");
    }
    bar.finish();
    println!("quality (sliced Wasserstein, lower is better), mean +- standard deviation over {runs} seeds:");
    println!("   step        exact step       PyTorch float32");
    for ((t, me, se), (_, mf, sf)) in spread(&exact).into_iter().zip(spread(&reference)) {
        println!("  {t:>5}   {me:.4} +- {se:.4}   {mf:.4} +- {sf:.4}");
    }
    let points = |c: &Curve| c.iter().map(|&(t, q)| (t as f64, q)).collect::<Vec<_>>();
    let mean = |curves: &[Curve]| {
        spread(curves)
            .iter()
            .map(|&(t, m, _)| (t as f64, m))
            .collect()
    };
    let (blue, orange) = ([30, 90, 200], [230, 120, 20]);
    let mut series: Vec<Series> = Vec::new();
    for (curves, color) in [(&exact, blue), (&reference, orange)] {
        series.extend(curves.iter().map(|c| Series {
            points: points(c),
            color: color.map(|v| v / 2 + 127),
            thick: false,
            label: None,
        }));
    }
    for (curves, color, name) in [
        (&exact, blue, "pouw exact step"),
        (&reference, orange, "PyTorch float32"),
    ] {
        series.push(Series {
            points: mean(curves),
            color,
            thick: true,
            label: Some(format!(
                "{name}: mean of {} seeds (thin: each)",
                curves.len()
            )),
        });
    }
    let png = out.join("quality-vs-pytorch.png");
    let chart = support::chart(
        "Quality while training: the exact step and float32 PyTorch",
        "training step",
        "sliced Wasserstein distance (lower is better)",
        &series,
        900,
        500,
    )?;
    write_png(&chart, &png)?;
    println!(
        "wrote {} (exact runs blue, PyTorch runs orange, means thick)",
        png.display()
    );
    Ok(())
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
