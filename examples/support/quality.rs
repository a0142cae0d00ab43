//! Training quality of the exact step against the float32 PyTorch reference
//! (`benches/pytorch_train.py`): both train the default digits DCGAN from several seeds, and
//! pouw scores every checkpoint of both with the same quality function (sliced Wasserstein
//! distance of generated samples to real digits, lower is better). Used by the `train` example
//! (`--compare`, which plots both) and by `tests/learning_quality.rs`.

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{batch_indices, step_seed, Batch, ProofOfLearning, TaskSpec};
use pouw::{Dataset, Digest, Error, Result};
use std::path::{Path, PathBuf};

/// Real records the quality score compares with.
pub const REFERENCE_RECORDS: u32 = 512;

/// A quality curve: `(step, score)` at every evaluation step.
pub type Curve = Vec<(u64, f64)>;

/// The fixed quality reference of a comparison: real records and the sampling seed.
pub struct Scorer {
    seed: Digest,
    reference: Batch,
}

impl Scorer {
    /// `REFERENCE_RECORDS` records of `dataset` drawn from a fixed seed.
    pub fn new(dataset: &Dataset) -> Result<Self> {
        let seed = [1u8; 32];
        let indices = batch_indices(&seed, REFERENCE_RECORDS, dataset.len())?;
        Ok(Scorer {
            seed,
            reference: Batch::from_dataset(dataset, &indices)?,
        })
    }

    /// The quality score of a state.
    pub fn score(&self, trainer: &GanTrainer) -> Result<f64> {
        trainer.quality(&self.seed, &self.reference)
    }
}

/// Trains the exact model from the seed of run `run` for `steps` steps, scoring every `every`.
pub fn exact_curve(
    dataset: &Dataset,
    spec: &GanSpec,
    run: u8,
    steps: u64,
    every: u64,
    scorer: &Scorer,
) -> Result<Curve> {
    let mut trainer = GanTrainer::from_seed(spec, &[run; 32], DeviceChoice::Cpu)?;
    let anchor = [run ^ 0x5a; 32];
    let mut curve = vec![(0, scorer.score(&trainer)?)];
    for i in 1..=steps {
        // Seeds of a fixed chain (mining binds them to checkpoint digests; quality does not
        // depend on which seeds).
        let seed = step_seed(&anchor, &[0; 32], i);
        let indices = batch_indices(&seed, spec.batch_size(), dataset.len())?;
        trainer.step(&seed, &Batch::from_dataset(dataset, &indices)?)?;
        if i % every == 0 {
            curve.push((i, scorer.score(&trainer)?));
        }
    }
    Ok(curve)
}

/// The project's virtualenv Python (scripts/setup.sh installs torch and safetensors there).
pub fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// Trains the float32 PyTorch reference from seed `run` (in `work`), then scores the
/// checkpoints it wrote with pouw's quality function.
pub fn pytorch_curve(
    digits_csv: &Path,
    spec: &GanSpec,
    run: u8,
    steps: u64,
    every: u64,
    scorer: &Scorer,
    work: &Path,
) -> Result<Curve> {
    pytorch_train(digits_csv, run, steps, every, work)?;
    pytorch_scores(spec, run, steps, every, scorer, work)
}

/// Trains the float32 PyTorch reference from seed `run`, writing its checkpoints under `work`.
pub fn pytorch_train(
    digits_csv: &Path,
    run: u8,
    steps: u64,
    every: u64,
    work: &Path,
) -> Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pytorch_train.py");
    let out = work.join(format!("pytorch-{run}"));
    let status = std::process::Command::new(python())
        .arg(&script)
        .arg(digits_csv)
        .args([run.to_string(), steps.to_string(), every.to_string()])
        .arg(&out)
        .arg("1")
        .status()
        .map_err(|e| Error::io(python(), e))?;
    if !status.success() {
        return Err(Error::InvalidParameters(format!(
            "{} failed ({status}); scripts/setup.sh installs torch and safetensors",
            script.display()
        )));
    }
    Ok(())
}

/// Scores the checkpoints [`pytorch_train`] wrote for seed `run`.
pub fn pytorch_scores(
    spec: &GanSpec,
    run: u8,
    steps: u64,
    every: u64,
    scorer: &Scorer,
    work: &Path,
) -> Result<Curve> {
    let out = work.join(format!("pytorch-{run}"));
    (0..=steps)
        .step_by(every as usize)
        .map(|t| {
            let path = out.join(format!("step-{t}.safetensors"));
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            Ok((
                t,
                scorer.score(&GanTrainer::from_checkpoint(
                    spec,
                    &bytes,
                    DeviceChoice::Cpu,
                )?)?,
            ))
        })
        .collect()
}

/// Per evaluation step: the mean and the sample standard deviation over runs.
pub fn spread(curves: &[Curve]) -> Vec<(u64, f64, f64)> {
    let n = curves.len() as f64;
    (0..curves[0].len())
        .map(|i| {
            let values: Vec<f64> = curves.iter().map(|c| c[i].1).collect();
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
            (curves[0][i].0, mean, var.sqrt())
        })
        .collect()
}
