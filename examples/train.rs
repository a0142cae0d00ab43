//! Trains the default DCGAN on the bundled UCI digits, printing the quality score (sliced
//! Wasserstein distance to real digits, lower is better) as it falls.
//!
//! Writes to `out/train/`: checkpoints (by CID), `samples.png` (a grid of generated digits)
//! and `quality.png` (the score over steps).
//!
//! ```text
//! cargo run --release --example train -- [STEPS]
//! ```
//!
//! `POUW_THREADS` sets the intra-op threads (default 1).

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, CheckpointStore, DirStore, ProofOfLearning,
    TaskSpec,
};
use std::time::Instant;

fn main() -> pouw::Result<()> {
    // One intra-op thread is fastest for this small model on small machines; training is
    // bitwise identical at any count (`POUW_THREADS` changes it).
    tch::set_num_threads(
        std::env::var("POUW_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1),
    );
    let steps: u64 = std::env::args()
        .nth(1)
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let out = std::path::Path::new("out/train");
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;
    let dataset = import_digits_csv(support::digits_path(), out.join("digits"), None)?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let store = DirStore::new(out.join("checkpoints"))?;
    println!(
        "dataset {} ({} records), task spec {}",
        dataset.cid(),
        dataset.len(),
        hex(&spec.digest())
    );

    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32])?;
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
        &support::line_plot(&curve, 640, 360),
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

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
