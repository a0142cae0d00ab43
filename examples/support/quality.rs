//! Training quality of the exact step against the float32 PyTorch reference
//! (`benches/pytorch_train.py`): both train the default DCGAN of a dataset from several seeds,
//! and pouw scores every evaluated checkpoint of both with the same quality function (sliced
//! Wasserstein distance of generated samples to real records, lower is better). Used by the
//! `train` example (`--compare`, which plots both) and by `tests/learning_quality.rs`.

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{batch_indices, step_seed, Batch, ProofOfLearning, TaskSpec};
use pouw::{Dataset, Digest, Error, Result};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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

/// Trains the exact model from the seed of run `run` for `steps` steps, scoring every `every`;
/// `on_step` hears of every step done. Returns the curve and the final state.
pub fn exact_curve(
    dataset: &Dataset,
    spec: &GanSpec,
    run: u8,
    steps: u64,
    every: u64,
    scorer: &Scorer,
    on_step: &dyn Fn(u64),
) -> Result<(Curve, GanTrainer)> {
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
        on_step(i);
    }
    Ok((curve, trainer))
}

/// The project's virtualenv Python (scripts/setup.sh installs torch and safetensors there).
pub fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python")
}

/// A dataset's records end to end in one file, the input of `benches/pytorch_train.py`.
pub struct RecordsFile {
    path: PathBuf,
    channels: u32,
    size: u32,
    value_max: u32,
}

impl RecordsFile {
    /// Writes every record of `dataset` (square images) to `work/records.u8`, atomically.
    pub fn write(dataset: &Dataset, work: &Path) -> Result<Self> {
        let manifest = dataset.manifest();
        let (channels, size, width) = manifest.image_dims().ok_or_else(|| {
            Error::InvalidParameters("the PyTorch reference trains on images".into())
        })?;
        if size != width {
            return Err(Error::InvalidParameters(format!(
                "images of {size}x{width} are not square"
            )));
        }
        let mut bytes = Vec::with_capacity(dataset.record_size() * dataset.len() as usize);
        for i in 0..dataset.len() {
            bytes.extend_from_slice(&dataset.record(i)?);
        }
        std::fs::create_dir_all(work).map_err(|e| Error::io(work, e))?;
        let path = work.join("records.u8");
        let partial = work.join("records.u8.partial");
        std::fs::write(&partial, &bytes).map_err(|e| Error::io(&partial, e))?;
        std::fs::rename(&partial, &path).map_err(|e| Error::io(&path, e))?;
        Ok(RecordsFile {
            path,
            channels,
            size,
            value_max: manifest.value_max,
        })
    }
}

/// Trains the float32 PyTorch reference from seed `run` (one thread), writing its checkpoints
/// under `work/pytorch-<run>/`; `on_saved` hears the step of every checkpoint written.
pub fn pytorch_train(
    records: &RecordsFile,
    run: u8,
    steps: u64,
    every: u64,
    work: &Path,
    on_saved: &dyn Fn(u64),
) -> Result<()> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/pytorch_train.py");
    let out = pytorch_dir(work, run);
    let numbers = [
        records.channels.into(),
        records.size.into(),
        records.value_max.into(),
        run.into(),
        steps,
        every,
    ];
    let mut child = Command::new(python())
        .arg(&script)
        .arg(&records.path)
        .args(numbers.map(|n: u64| n.to_string()))
        .arg(&out)
        .arg("1")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| Error::io(python(), e))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line = line.map_err(|e| Error::io(&script, e))?;
            if let Some(step) = line.strip_prefix("saved ").and_then(|s| s.parse().ok()) {
                on_saved(step);
            }
        }
    }
    let status = child.wait().map_err(|e| Error::io(python(), e))?;
    if !status.success() {
        return Err(Error::InvalidParameters(format!(
            "{} failed ({status}); scripts/setup.sh installs torch and safetensors",
            script.display()
        )));
    }
    Ok(())
}

/// Where [`pytorch_train`] writes the checkpoints of seed `run`.
pub fn pytorch_dir(work: &Path, run: u8) -> PathBuf {
    work.join(format!("pytorch-{run}"))
}

/// Scores the checkpoints [`pytorch_train`] wrote for seed `run`, each read once; returns the
/// curve and the last state.
pub fn pytorch_scores(
    spec: &GanSpec,
    run: u8,
    steps: u64,
    every: u64,
    scorer: &Scorer,
    work: &Path,
) -> Result<(Curve, GanTrainer)> {
    let mut curve = Curve::new();
    let mut last = None;
    for t in (0..=steps).step_by(every as usize) {
        let path = pytorch_dir(work, run).join(format!("step-{t}.safetensors"));
        let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
        let model = GanTrainer::from_checkpoint(spec, &bytes, DeviceChoice::Cpu)?;
        curve.push((t, scorer.score(&model)?));
        last = Some(model);
    }
    let last = last.ok_or_else(|| Error::InvalidParameters("no checkpoint to score".into()))?;
    Ok((curve, last))
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
