//! Capacity-layer benches: SHA3 leaf hashing on one core, the parallel tree build from a records
//! file (and its ratio to `cores x` the single-core rate), and verifying a 64-challenge
//! capacity response over 2^20 records.
//!
//! `cargo bench --bench capacity` (add `--features large-benches` for the 1 GiB build).

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use pouw::capacity::CapacityChallenge;
use pouw::dataset::{build_tree_from_file, DType, DatasetWriter};
use pouw::merkle::leaf_hash;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const RECORD_SIZES: [usize; 3] = [64, 4096, 12 * 1024];

fn dataset_bytes() -> u64 {
    if cfg!(feature = "large-benches") {
        1 << 30
    } else {
        256 << 20
    }
}

/// A records file of pseudo-random content holding as many whole records of `record` bytes as
/// fit in `total` bytes, reused across runs.
fn records_file(dir: &Path, total: u64, record: usize) -> PathBuf {
    let total = total - total % record as u64;
    let path = dir.join(format!("records-{total}.bin"));
    if std::fs::metadata(&path)
        .map(|m| m.len() == total)
        .unwrap_or(false)
    {
        return path;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let mut block = vec![0u8; 1 << 20];
    let mut left = total;
    while left > 0 {
        for chunk in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).unwrap();
        left -= n as u64;
    }
    f.flush().unwrap();
    path
}

fn bench_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Best-of-`runs` throughput of `f` over `bytes` bytes, in MB/s.
fn rate(bytes: u64, runs: usize, mut f: impl FnMut()) -> f64 {
    let best = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or(Duration::MAX);
    bytes as f64 / best.as_secs_f64() / 1e6
}

/// Prints the tree-build target: parallel build rate vs cores x single-core leaf-hash rate.
fn report_build_ratio() {
    let cores = rayon::current_num_threads();
    let total = dataset_bytes();
    println!("tree build over {} MiB, {cores} rayon threads", total >> 20);
    for record in RECORD_SIZES {
        let path = records_file(&bench_dir(), total, record);
        let count = total / record as u64;
        // Single core: the same leaf hashing, sequential, over 64 MiB of the same file in memory.
        // (The build also hashes about one interior node per leaf: negligible for large records,
        // as much work again as the leaves for 64-byte ones.)
        let sample = std::fs::read(&path).unwrap()[..64 << 20].to_vec();
        let single = rate(sample.len() as u64, 3, || {
            for r in sample.chunks_exact(record) {
                black_box(leaf_hash(r));
            }
        });
        let _ = build_tree_from_file(&path, record as u64, count).unwrap(); // warm the page cache
        let parallel = rate(count * record as u64, 3, || {
            black_box(build_tree_from_file(&path, record as u64, count).unwrap());
        });
        println!(
            "  record {record:>6} B: single-core SHA3 leaf rate {single:.0} MB/s, parallel build {parallel:.0} MB/s, \
             ratio to {cores} x single = {:.3} (target >= 0.85)",
            parallel / (cores as f64 * single)
        );
    }
}

fn bench_hash_and_build(c: &mut Criterion) {
    let mut g = c.benchmark_group("leaf_hash");
    for record in RECORD_SIZES {
        let data = vec![7u8; record];
        g.throughput(Throughput::Bytes(record as u64));
        g.bench_with_input(BenchmarkId::from_parameter(record), &data, |b, d| {
            b.iter(|| leaf_hash(black_box(d)))
        });
    }
    g.finish();

    let total = dataset_bytes();
    let mut g = c.benchmark_group("tree_build");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    for record in RECORD_SIZES {
        let path = records_file(&bench_dir(), total, record);
        let count = total / record as u64;
        g.throughput(Throughput::Bytes(count * record as u64));
        g.bench_with_input(BenchmarkId::from_parameter(record), &record, |b, &r| {
            b.iter(|| build_tree_from_file(&path, r as u64, count).unwrap())
        });
    }
    g.finish();
}

fn bench_verify(c: &mut Criterion) {
    let dir = bench_dir().join("verify-2p20");
    let ds = match pouw::Dataset::open(&dir) {
        Ok(ds) if ds.len() == 1 << 20 => ds,
        _ => {
            let mut w =
                DatasetWriter::create(&dir, vec![64], DType::U8, 255, "bench", "none").unwrap();
            let mut record = [0u8; 64];
            for i in 0u64..1 << 20 {
                record[..8].copy_from_slice(&i.to_le_bytes());
                w.push(&record).unwrap();
            }
            w.finish().unwrap()
        }
    };
    let challenge = CapacityChallenge::for_dataset(&[1; 32], b"miner", &ds, 0, 64).unwrap();
    let bytes = challenge.respond(&ds).unwrap().to_bytes();
    println!(
        "64-challenge response over 2^20 records of 64 B: {} bytes",
        bytes.len()
    );
    let mut g = c.benchmark_group("capacity_verify");
    g.bench_function("k64_n2p20_decode_and_verify", |b| {
        b.iter(|| challenge.verify_bytes(black_box(&bytes)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_hash_and_build, bench_verify);

fn main() {
    report_build_ratio();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
