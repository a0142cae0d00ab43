//! Bitwise determinism of GAN training on exact arithmetic: the same checkpoint digests at every
//! step whatever the intra-op thread count (with MKL free to use every thread), MKL's and ATen's
//! instruction sets, the implementation of the element-wise work (fused host loops, or the
//! libtorch tensor operations CUDA runs) and of the products (BLAS, or a plain Rust loop summing
//! in the opposite order). Each configuration trains in a child process, since libtorch reads
//! its environment once; the parent compares every digest.
#![cfg(all(feature = "torch", feature = "images"))]

mod common;

use pouw::learning::exact::{Kernels, Products};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, ProofOfLearning, TaskSpec,
};
use std::process::Command;

/// Steps of the digits model compared.
const DIGITS_STEPS: u64 = 50;
/// Steps of the 32x32 RGB model compared.
const RGB_STEPS: u64 = 3;

/// Trains `steps` steps from `trainer`, returning the digest after each.
fn run(
    trainer: &mut GanTrainer,
    ds: &pouw::Dataset,
    from: u64,
    steps: u64,
    anchor: &[u8; 32],
    prev: &mut [u8; 32],
) -> Vec<[u8; 32]> {
    let mut digests = Vec::new();
    for i in from + 1..=from + steps {
        let seed = step_seed(anchor, prev, i);
        let indices = batch_indices(&seed, trainer.spec().batch_size(), ds.len()).unwrap();
        trainer
            .step(&seed, &Batch::from_dataset(ds, &indices).unwrap())
            .unwrap();
        *prev = checkpoint_digest(&trainer.checkpoint().unwrap());
        digests.push(*prev);
    }
    digests
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A folder of 96 deterministic 40x40 RGB PNG images (smooth colour fields with hash-stream
/// texture), imported at 32x32.
fn rgb_dataset(dir: &std::path::Path) -> pouw::Dataset {
    let images = dir.join("images");
    std::fs::create_dir_all(&images).unwrap();
    for n in 0..96u32 {
        let mut xof = pouw::hash::Xof::new("pouw/test-images", &n.to_le_bytes());
        let mut noise = vec![0u8; 40 * 40 * 3];
        xof.fill(&mut noise);
        let img = image::RgbImage::from_fn(40, 40, |x, y| {
            let i = ((y * 40 + x) * 3) as usize;
            let base = |c: u32| ((x * (3 + c) + y * (5 + n % 7) + n * 17 + c * 40) % 200) as u8;
            image::Rgb([
                base(0).wrapping_add(noise[i] / 8),
                base(1).wrapping_add(noise[i + 1] / 8),
                base(2).wrapping_add(noise[i + 2] / 8),
            ])
        });
        img.save(images.join(format!("{n:03}.png"))).unwrap();
    }
    pouw::dataset::import::import_image_folder(&images, dir.join("rgb32"), 32, "test images")
        .unwrap()
}

/// Runs in a child process (spawned by the tests below): trains the model `POUW_MODEL`
/// (`digits` or `rgb32`) with `POUW_THREADS` intra-op threads and the arithmetic
/// `POUW_KERNELS` / `POUW_PRODUCTS`, printing the digest after every step.
#[test]
#[ignore = "child process of the determinism tests"]
fn child_train_and_print_digests() {
    let Ok(model) = std::env::var("POUW_MODEL") else {
        return;
    };
    tch::set_num_threads(std::env::var("POUW_THREADS").unwrap().parse().unwrap());
    let kernels = match std::env::var("POUW_KERNELS").as_deref() {
        Ok("tensor") => Kernels::Tensor,
        _ => Kernels::Host,
    };
    let products = match std::env::var("POUW_PRODUCTS").as_deref() {
        Ok("reference") => Products::Reference,
        _ => Products::Blas,
    };
    let dir = tempfile::tempdir().unwrap();
    let (ds, steps) = match model.as_str() {
        "digits" => (common::digits_dataset().1, DIGITS_STEPS),
        "rgb32" => (rgb_dataset(dir.path()), RGB_STEPS),
        other => panic!("unknown model {other}"),
    };
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let mut trainer = GanTrainer::from_seed(&spec, &[7u8; 32], DeviceChoice::Cpu).unwrap();
    trainer.set_arithmetic(kernels, products);
    let mut prev = checkpoint_digest(&trainer.checkpoint().unwrap());
    for d in run(&mut trainer, &ds, 0, steps, &[1u8; 32], &mut prev) {
        println!("DIGEST {}", hex(&d));
    }
}

/// One child's configuration: environment variables on top of the model.
struct Config {
    name: &'static str,
    env: &'static [(&'static str, &'static str)],
}

const CONFIGS: &[Config] = &[
    Config {
        name: "1 thread",
        env: &[("POUW_THREADS", "1")],
    },
    Config {
        name: "2 threads",
        env: &[("POUW_THREADS", "2")],
    },
    Config {
        name: "4 threads",
        env: &[("POUW_THREADS", "4")],
    },
    Config {
        name: "MKL_ENABLE_INSTRUCTIONS=SSE4_2",
        env: &[("POUW_THREADS", "2"), ("MKL_ENABLE_INSTRUCTIONS", "SSE4_2")],
    },
    Config {
        name: "MKL_ENABLE_INSTRUCTIONS=AVX2",
        env: &[("POUW_THREADS", "2"), ("MKL_ENABLE_INSTRUCTIONS", "AVX2")],
    },
    Config {
        name: "ATEN_CPU_CAPABILITY=default",
        env: &[("POUW_THREADS", "2"), ("ATEN_CPU_CAPABILITY", "default")],
    },
    Config {
        name: "ATEN_CPU_CAPABILITY=avx2",
        env: &[("POUW_THREADS", "2"), ("ATEN_CPU_CAPABILITY", "avx2")],
    },
    Config {
        name: "libtorch tensor kernels (the CUDA path's operations)",
        env: &[("POUW_THREADS", "2"), ("POUW_KERNELS", "tensor")],
    },
    Config {
        name: "reference products (a Rust loop summing in reverse)",
        env: &[("POUW_THREADS", "2"), ("POUW_PRODUCTS", "reference")],
    },
];

fn digests_in_child(model: &str, config: &Config) -> Vec<String> {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_train_and_print_digests",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env_remove("MKL_ENABLE_INSTRUCTIONS")
        .env_remove("ATEN_CPU_CAPABILITY")
        .env("POUW_MODEL", model)
        .envs(config.env.iter().copied())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{model}, {}: child failed: {stdout}\n{}",
        config.name,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.split("DIGEST ").nth(1))
        .map(|d| d.trim().to_owned())
        .collect()
}

fn identical_under_every_configuration(model: &str, steps: u64) {
    let reference = digests_in_child(model, &CONFIGS[0]);
    assert_eq!(reference.len() as u64, steps, "{model}: a digest per step");
    for config in &CONFIGS[1..] {
        let got = digests_in_child(model, config);
        assert_eq!(got.len(), reference.len(), "{model}, {}", config.name);
        if let Some(step) = got.iter().zip(&reference).position(|(a, b)| a != b) {
            panic!(
                "{model}, {}: digest of step {} differs from 1 thread",
                config.name,
                step + 1
            );
        }
    }
}

#[test]
fn digits_model_is_identical_under_every_configuration() {
    identical_under_every_configuration("digits", DIGITS_STEPS);
}

#[test]
fn rgb_model_is_identical_under_every_configuration() {
    identical_under_every_configuration("rgb32", RGB_STEPS);
}

#[test]
fn restart_from_checkpoint_matches_straight_run() {
    let (_dir, ds) = common::digits_dataset();
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let anchor = [3u8; 32];
    let mut straight = GanTrainer::from_seed(&spec, &[9u8; 32], DeviceChoice::Cpu).unwrap();
    let mut prev = checkpoint_digest(&straight.checkpoint().unwrap());
    let all = run(&mut straight, &ds, 0, 4, &anchor, &mut prev);

    let mut first = GanTrainer::from_seed(&spec, &[9u8; 32], DeviceChoice::Cpu).unwrap();
    let mut prev = checkpoint_digest(&first.checkpoint().unwrap());
    let head = run(&mut first, &ds, 0, 2, &anchor, &mut prev);
    let saved = first.checkpoint().unwrap();
    drop(first);
    let mut resumed = GanTrainer::from_checkpoint(&spec, &saved, DeviceChoice::Cpu).unwrap();
    assert_eq!(
        resumed.checkpoint().unwrap(),
        saved,
        "load then save is the identity"
    );
    let tail = run(&mut resumed, &ds, 2, 2, &anchor, &mut prev);
    assert_eq!([head, tail].concat(), all);
}
