//! Growth benches: checking a submission of 1000 8x8 records against the digits (the model-free
//! checks alone, and the whole check with the discriminator), and building the duplicate index.
//!
//! `cargo bench --bench growth`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pouw::dataset::import::import_digits_csv;
use pouw::growth::{precheck, DatasetRequest, DuplicateIndex, Judge, Submission};
use pouw::hash::Xof;
use pouw::ident::cid_of;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{ProofOfLearning, TaskSpec};
use std::time::Duration;

#[path = "../examples/support/mod.rs"]
mod support;
use support::digits_path;

const RECORDS: usize = 1000;

fn bench_check(c: &mut Criterion) {
    tch::set_num_threads(1);
    let dir = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(digits_path(), dir.path().join("d"), Some(1500)).unwrap();
    // Timing does not depend on the weights: an untrained judge, threshold 0.
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let checkpoint = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let request =
        DatasetRequest::for_dataset(&ds, spec.digest(), cid_of(&checkpoint), 0.0, 10_000).unwrap();
    let judge = Judge::<GanTrainer>::new(&request, &spec, &checkpoint, &ds).unwrap();
    // Sparse random strokes that pass the ink rule, so every record reaches the discriminator.
    let mut x = Xof::new("pouw/bench", b"growth");
    let records: Vec<Vec<u8>> = (0..RECORDS)
        .map(|_| {
            (0..64)
                .map(|_| {
                    if x.uniform_below(2) == 0 {
                        1 + x.uniform_below(16) as u8
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect();
    let submission = Submission {
        request: request.cid(),
        submitter: b"bench".to_vec(),
        records,
    };

    let mut g = c.benchmark_group("growth");
    g.measurement_time(Duration::from_secs(5)).sample_size(20);
    g.bench_function("duplicate index build (1500 digits, radius 2)", |b| {
        b.iter(|| black_box(DuplicateIndex::build(&ds, &request).unwrap()))
    });
    let index = DuplicateIndex::build(&ds, &request).unwrap();
    let passing = precheck(&request, &index, &submission)
        .unwrap()
        .iter()
        .filter(|p| p.is_none())
        .count();
    assert!(
        passing > RECORDS * 9 / 10,
        "{passing} records reach the discriminator"
    );
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function("precheck 1000 8x8 records", |b| {
        b.iter(|| black_box(precheck(&request, &index, &submission).unwrap()))
    });
    g.bench_function("check 1000 8x8 records", |b| {
        b.iter(|| black_box(judge.check(&index, &submission, 0).unwrap()))
    });
    g.bench_function("decode and check 1000 8x8 records", |b| {
        let wire = submission.to_bytes();
        b.iter(|| {
            let s = Submission::from_bytes(black_box(&wire), &request).unwrap();
            black_box(judge.check(&index, &s, 0).unwrap())
        })
    });
    g.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
