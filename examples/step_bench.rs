//! Times the CPU training step of the default digits model (used by scripts/bench-learning.sh).
//!
//! ```text
//! cargo run --release --example step_bench -- THREADS [deterministic|plain|conv]
//! ```
//! - `deterministic`: pouw's trainer as it ships (thread-invariant);
//! - `plain`: the same trainer with libtorch's default switches (oneDNN and NNPACK on, kernels
//!   at the machine's best level, MKL on every thread): what the switches cost;
//! - `conv`: the conventional libtorch step, written with tch's convolution layers and Adam
//!   under libtorch's defaults, as `benches/pytorch_step.py` writes it in PyTorch.
//!
//! Prints `ms/step` as the best of 5 rounds of 50 steps after 20 warm-up steps.

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::{determinism, DeviceChoice, GanSpec, GanTrainer};
use pouw::learning::{batch_indices, step_seed, Batch, ProofOfLearning, TaskSpec};
use std::time::Instant;
use tch::nn::{self, Module, ModuleT, OptimizerConfig};
use tch::{Device, Kind, Reduction, Tensor};

fn main() -> pouw::Result<()> {
    let mut args = std::env::args().skip(1);
    let threads: i32 = args.next().map_or(1, |t| t.parse().expect("THREADS"));
    let mode = args.next().unwrap_or_else(|| "deterministic".into());
    if mode != "deterministic" {
        assert!(determinism::configure_plain_for_benchmarks());
    }
    tch::set_num_threads(threads);
    let dir = tempfile_dir();
    let dataset = import_digits_csv(support::digits_path(), dir.join("digits"), None)?;
    let mut spec = GanSpec::for_manifest(dataset.manifest())?;
    spec.device = DeviceChoice::Cpu;
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
    let best = match mode.as_str() {
        "conv" => {
            let mut step = ConvStep::new(&spec);
            let inputs: Vec<(Tensor, Tensor)> = batches
                .iter()
                .map(|(_, batch)| step.inputs(batch))
                .collect();
            time_steps(inputs.len(), |i| step.step(&inputs[i].0, &inputs[i].1))
        }
        "deterministic" | "plain" => {
            let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32])?;
            time_steps(batches.len(), |i| {
                trainer.step(&batches[i].0, &batches[i].1).unwrap()
            })
        }
        other => panic!("unknown mode {other}: deterministic, plain or conv"),
    };
    println!("pouw {mode} threads={threads} ms/step={best:.3}");
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// 20 warm-up steps, then the best ms/step of 5 rounds over all `n` inputs.
fn time_steps(n: usize, mut step: impl FnMut(usize)) -> f64 {
    for i in 0..20 {
        step(i % n);
    }
    (0..5)
        .map(|_| {
            let t = Instant::now();
            (0..n).for_each(&mut step);
            t.elapsed().as_secs_f64() * 1e3 / n as f64
        })
        .fold(f64::MAX, f64::min)
}

/// The digits DCGAN with tch's layers and optimiser (the model of `pouw`'s default spec:
/// latent 100, generator filters 160, discriminator filters 40, batch 64).
struct ConvStep {
    gen: nn::SequentialT,
    dis: nn::Sequential,
    opt_g: nn::Optimizer,
    opt_d: nn::Optimizer,
    latent: i64,
    value_max: f64,
    _stores: (nn::VarStore, nn::VarStore),
}

impl ConvStep {
    fn new(spec: &GanSpec) -> Self {
        let (gs, ds) = (
            nn::VarStore::new(Device::Cpu),
            nn::VarStore::new(Device::Cpu),
        );
        let (latent, gf, df) = (
            i64::from(spec.latent),
            i64::from(spec.g_filters),
            i64::from(spec.d_filters),
        );
        assert_eq!(spec.image_size, 8, "the baseline is the digits model");
        let up = |stride, padding| nn::ConvTransposeConfig {
            stride,
            padding,
            bias: false,
            ..Default::default()
        };
        let down = |stride, padding| nn::ConvConfig {
            stride,
            padding,
            bias: false,
            ..Default::default()
        };
        let gen = nn::seq_t()
            .add(nn::conv_transpose2d(gs.root(), latent, gf, 4, up(1, 0)))
            .add(nn::batch_norm2d(gs.root(), gf, Default::default()))
            .add_fn(|x| x.relu())
            .add(nn::conv_transpose2d(gs.root(), gf, 1, 4, up(2, 1)))
            .add_fn(|x| x.tanh());
        let dis = nn::seq()
            .add(nn::conv2d(ds.root(), 1, df, 4, down(2, 1)))
            .add_fn(|x| x.maximum(&(x * 0.2)))
            .add(nn::conv2d(ds.root(), df, 1, 4, down(1, 0)))
            .add_fn(|x| x.reshape([-1]));
        let adam = nn::Adam {
            beta1: 0.5,
            ..Default::default()
        };
        ConvStep {
            opt_g: adam.build(&gs, 2e-4).unwrap(),
            opt_d: adam.build(&ds, 2e-4).unwrap(),
            gen,
            dis,
            latent,
            value_max: f64::from(spec.value_max),
            _stores: (gs, ds),
        }
    }

    fn inputs(&self, batch: &Batch) -> (Tensor, Tensor) {
        let real = Tensor::from_slice(&batch.records)
            .to_kind(Kind::Float)
            .reshape([batch.len() as i64, 1, 8, 8])
            * (2.0 / self.value_max)
            - 1.0;
        let z = Tensor::randn(
            [batch.len() as i64, self.latent, 1, 1],
            (Kind::Float, Device::Cpu),
        );
        (real, z)
    }

    fn step(&mut self, real: &Tensor, z: &Tensor) {
        let bce = |logits: &Tensor, target: f64| {
            logits.binary_cross_entropy_with_logits(
                &logits.full_like(target),
                None::<&Tensor>,
                None::<&Tensor>,
                Reduction::Mean,
            )
        };
        let fake = self.gen.forward_t(z, true);
        let loss_d =
            bce(&self.dis.forward(real), 1.0) + bce(&self.dis.forward(&fake.detach()), 0.0);
        self.opt_d.backward_step(&loss_d);
        let loss_g = bce(&self.dis.forward(&fake), 1.0);
        self.opt_g.backward_step(&loss_g);
    }
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("pouw-step-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
