//! Growth benches: checking a submission of 1000 8x8 records against the digits (the model-free
//! checks alone with the copy transforms, the levels rule and the near-copy rule's noise point
//! on and off, and the whole check
//! with the discriminator, with the negative rule on and off), and building the duplicate
//! index; at the seed's record size (64x64 RGB, 80 LFW faces), the model-free checks with the
//! near-copy rule, its noise point, the copy transforms and the levels rule on and off, and
//! making a request (which fits the near-copy rule's two points and the levels rule).
//!
//! `cargo bench --bench growth`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use pouw::dataset::import::{import_digits_csv, import_image_folder};
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
    let plain = DatasetRequest {
        copy_transforms: 0,
        ..request.clone()
    };
    let plain_submission = Submission {
        request: plain.cid(),
        ..submission.clone()
    };
    g.bench_function("precheck 1000 8x8 records, copy transforms off", |b| {
        b.iter(|| black_box(precheck(&plain, &index, &plain_submission).unwrap()))
    });
    let no_levels = DatasetRequest {
        levels_per_mille: 0,
        ..request.clone()
    };
    let no_levels_index = DuplicateIndex::build(&ds, &no_levels).unwrap();
    let no_levels_submission = Submission {
        request: no_levels.cid(),
        ..submission.clone()
    };
    g.bench_function("precheck 1000 8x8 records, levels rule off", |b| {
        b.iter(|| black_box(precheck(&no_levels, &no_levels_index, &no_levels_submission).unwrap()))
    });
    let one_point = DatasetRequest {
        noise_copy_per_mille: 0,
        ..request.clone()
    };
    let one_point_index = DuplicateIndex::build(&ds, &one_point).unwrap();
    let one_point_submission = Submission {
        request: one_point.cid(),
        ..submission.clone()
    };
    let no_flat = DatasetRequest {
        flat_patch_side: 0,
        flat_patch_grounds: [0; 32],
        near_flat_side: 0,
        near_flat_tolerance: 0,
        ..request.clone()
    };
    let no_flat_submission = Submission {
        request: no_flat.cid(),
        ..submission.clone()
    };
    g.bench_function("precheck 1000 8x8 records, flat-patch rule off", |b| {
        b.iter(|| black_box(precheck(&no_flat, &index, &no_flat_submission).unwrap()))
    });
    g.bench_function(
        "precheck 1000 8x8 records, near-copy noise point off",
        |b| {
            b.iter(|| {
                black_box(precheck(&one_point, &one_point_index, &one_point_submission).unwrap())
            })
        },
    );
    g.bench_function("check 1000 8x8 records", |b| {
        b.iter(|| black_box(judge.check(&index, &submission, 0).unwrap()))
    });
    let positive = DatasetRequest {
        negative_rule: false,
        ..request.clone()
    };
    let positive_judge = Judge::<GanTrainer>::new(&positive, &spec, &checkpoint, &ds).unwrap();
    let positive_submission = Submission {
        request: positive.cid(),
        ..submission.clone()
    };
    g.bench_function("check 1000 8x8 records, negative rule off", |b| {
        b.iter(|| {
            black_box(
                positive_judge
                    .check(&index, &positive_submission, 0)
                    .unwrap(),
            )
        })
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

/// The model-free checks at the seed's record size: 80 LFW faces at 64x64 RGB the dataset; a
/// submission of the 20 others and of 80 dataset faces with noise of up to 64 levels (too much
/// for the fitted tolerance, so every record is compared with every dataset record and every
/// earlier record in full or up to the allowance).
fn bench_seed_scale(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lfw-faces");
    let import = |range: std::ops::Range<usize>, name: &str| {
        let folder = dir.path().join(format!("{name}-src"));
        std::fs::create_dir_all(&folder).unwrap();
        for i in range {
            let file = format!("face-{i:03}.png");
            std::fs::copy(src.join(&file), folder.join(&file)).unwrap();
        }
        import_image_folder(&folder, dir.path().join(name), 64, "LFW (bench data)").unwrap()
    };
    let ds = import(0..80, "base");
    let held = import(80..100, "held");
    let mut x = Xof::new("pouw/bench", b"growth seed scale");
    let mut records: Vec<Vec<u8>> = (0..held.len()).map(|i| held.record(i).unwrap()).collect();
    for i in 0..ds.len() {
        let face = ds.record(i).unwrap();
        let noisy = face
            .iter()
            .map(|&v| (i32::from(v) + x.uniform_below(129) as i32 - 64).clamp(0, 255) as u8);
        records.push(noisy.collect());
    }
    let on = DatasetRequest::for_dataset(&ds, [7; 32], cid_of(b"judge"), 0.0, 10_000).unwrap();
    let plain = DatasetRequest {
        copy_transforms: 0,
        ..on.clone()
    };
    let no_levels = DatasetRequest {
        levels_per_mille: 0,
        ..on.clone()
    };
    let one_point = DatasetRequest {
        noise_copy_per_mille: 0,
        ..on.clone()
    };
    let no_flat = DatasetRequest {
        flat_patch_side: 0,
        flat_patch_grounds: [0; 32],
        near_flat_side: 0,
        near_flat_tolerance: 0,
        ..on.clone()
    };
    let exact_flat = DatasetRequest {
        near_flat_side: 0,
        near_flat_tolerance: 0,
        ..on.clone()
    };
    let off = DatasetRequest {
        near_copy_per_mille: 0,
        noise_copy_per_mille: 0,
        copy_transforms: 0,
        levels_per_mille: 0,
        ..on.clone()
    };
    let mut g = c.benchmark_group("growth 64x64 RGB");
    g.measurement_time(Duration::from_secs(5)).sample_size(10);
    g.bench_function(
        "request for 80 faces (fits the near-copy rule's two points, the levels and the flat-patch rules)",
        |b| {
            b.iter(|| {
                black_box(
                    DatasetRequest::for_dataset(&ds, [7; 32], cid_of(b"judge"), 0.0, 10_000)
                        .unwrap(),
                )
            })
        },
    );
    // The whole check with the seed's model (generator 160, discriminator 40 filters; untrained:
    // timing does not depend on the weights), with the negative rule on and off.
    let spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    let checkpoint = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let judged = DatasetRequest {
        spec: spec.digest(),
        model: cid_of(&checkpoint),
        ..on.clone()
    };
    for (name, request) in [
        ("negative rule on", judged.clone()),
        (
            "negative rule off",
            DatasetRequest {
                negative_rule: false,
                ..judged.clone()
            },
        ),
    ] {
        let judge = Judge::<GanTrainer>::new(&request, &spec, &checkpoint, &ds).unwrap();
        let index = DuplicateIndex::build(&ds, &request).unwrap();
        let submission = Submission {
            request: request.cid(),
            submitter: b"bench".to_vec(),
            records: records.clone(),
        };
        let verdicts = judge.check(&index, &submission, 0).unwrap();
        let scored = verdicts
            .iter()
            .filter(|v| {
                !matches!(
                    v,
                    pouw::growth::Verdict::Rejected(
                        pouw::growth::Rejection::UnlikeDataset { .. }
                            | pouw::growth::Rejection::NearCopyOfDataset { .. }
                            | pouw::growth::Rejection::TransformedCopyOfDataset { .. }
                            | pouw::growth::Rejection::LevelsCopyOfDataset { .. }
                    )
                )
            })
            .count();
        println!(
            "{name}: {scored} of {} records within the distance rule",
            records.len()
        );
        g.bench_function(format!("check 100 records, default model, {name}"), |b| {
            b.iter(|| black_box(judge.check(&index, &submission, 0).unwrap()))
        });
    }
    for (name, request) in [
        ("near-copy rule, copy transforms and levels rule on", &on),
        ("levels rule off", &no_levels),
        ("near-copy noise point off", &one_point),
        ("flat-patch near point off", &exact_flat),
        ("flat-patch rule off", &no_flat),
        ("copy transforms off", &plain),
        ("near-copy rule, copy transforms and levels rule off", &off),
    ] {
        let index = DuplicateIndex::build(&ds, request).unwrap();
        let submission = Submission {
            request: request.cid(),
            submitter: b"bench".to_vec(),
            records: records.clone(),
        };
        // Every record passes the copy rules (the flat-patch rule, checked last, takes one
        // held-back face: a 5x5 square of one value).
        let passing = precheck(request, &index, &submission)
            .unwrap()
            .iter()
            .filter(|p| matches!(p, None | Some(pouw::growth::Rejection::FlatPatch { .. })))
            .count();
        assert_eq!(passing, records.len(), "{name}: every record passes");
        g.throughput(Throughput::Elements(records.len() as u64));
        g.bench_function(format!("precheck 100 records, {name}"), |b| {
            b.iter(|| black_box(precheck(request, &index, &submission).unwrap()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench_check, bench_seed_scale);
criterion_main!(benches);
