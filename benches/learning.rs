//! Checkpoint serialise + digest throughput on a state of about 100 MB, against `threads x` the
//! single-core SHA3-256 rate (target: at least 0.9), and loading a trainer from the checkpoint
//! against decoding it into vectors and copying those into tensors. `cargo bench --bench
//! learning`.

use criterion::{black_box, criterion_group, Criterion, Throughput};
use pouw::hash::sha3_256;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{checkpoint_digest, ProofOfLearning};
use std::time::{Duration, Instant};

/// A 64x64 RGB task sized so that weights and both Adam moments take about 100 MB.
fn big_spec() -> GanSpec {
    let manifest = pouw::Manifest {
        shape: vec![3, 64, 64],
        dtype: pouw::dataset::DType::U8,
        value_max: 255,
        count: 1,
        record_size: 3 * 64 * 64,
        source: "bench".into(),
        licence: "none".into(),
        root: [0; 32],
        records: pouw::ident::cid_of(b""),
    };
    let mut spec = GanSpec::for_manifest(&manifest).unwrap();
    spec.g_filters = 72;
    spec.d_filters = 72;
    spec
}

fn bench_checkpoint(c: &mut Criterion) {
    let trainer = GanTrainer::from_seed(&big_spec(), &[0; 32], DeviceChoice::Cpu).unwrap();
    let encoded = trainer.checkpoint().unwrap();
    let bytes = encoded.len() as u64;
    let best_of = |f: &mut dyn FnMut()| {
        (0..5)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap_or(Duration::MAX)
    };
    let rate = |d: Duration| bytes as f64 / d.as_secs_f64() / 1e6;
    // The ratio, best of 5 each: serialise + digest (one pass) against `threads` times
    // the single-core SHA3-256 rate over the same bytes (one thread, no checkpoint tags).
    let fused = rate(best_of(&mut || {
        black_box(trainer.checkpoint_with_digest().unwrap());
    }));
    let in_place = rate(best_of(&mut || {
        black_box(trainer.digest().unwrap());
    }));
    let separate = rate(best_of(&mut || {
        black_box(checkpoint_digest(&trainer.checkpoint().unwrap()));
    }));
    let digest = rate(best_of(&mut || {
        black_box(checkpoint_digest(&encoded));
    }));
    let single = rate(best_of(&mut || {
        black_box(sha3_256(&encoded));
    }));
    // Loading: a trainer from the bytes (each tensor made from its bytes, one copy), against
    // decoding the values into vectors and copying those into tensors (two copies).
    let spec = big_spec();
    let load = rate(best_of(&mut || {
        black_box(GanTrainer::from_checkpoint(&spec, &encoded, DeviceChoice::Cpu).unwrap());
    }));
    let format = spec.checkpoint_format().unwrap();
    let two_copies = rate(best_of(&mut || {
        let decoded = format.decode(&encoded).unwrap();
        let tensors: Vec<tch::Tensor> = decoded
            .tensors
            .iter()
            .map(|t| tch::Tensor::from_slice(t))
            .collect();
        black_box(tensors);
    }));
    let threads = rayon::current_num_threads();
    println!(
        "checkpoint of {:.1} MB: loading a trainer from it {load:.0} MB/s (each tensor from its \
         bytes); decoding into vectors then copying them into tensors {two_copies:.0} MB/s; \
         ratio {:.2}",
        bytes as f64 / 1e6,
        load / two_copies
    );
    println!(
        "checkpoint of {:.1} MB: serialise + digest {fused:.0} MB/s in one pass ({separate:.0} MB/s \
         serialising then digesting; the digest of encoded bytes {digest:.0} MB/s); the state's \
         digest without its bytes (what a step not kept costs) {in_place:.0} MB/s; single-core \
         SHA3-256 {single:.0} MB/s; ratio to {threads} x single: serialise + digest {:.2}, \
         digest in place {:.2} (target >= 0.9)",
        bytes as f64 / 1e6,
        fused / (threads as f64 * single),
        in_place / (threads as f64 * single)
    );
    let mut g = c.benchmark_group("checkpoint");
    g.sample_size(10).throughput(Throughput::Bytes(bytes));
    g.bench_function("serialise_and_digest", |b| {
        b.iter(|| trainer.checkpoint_with_digest().unwrap())
    });
    g.bench_function("digest_only", |b| {
        b.iter(|| checkpoint_digest(black_box(&encoded)))
    });
    g.finish();
}

criterion_group!(benches, bench_checkpoint);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
