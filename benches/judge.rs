//! The growth judge's acceptance table, on faces and on digits: the share of held-back real
//! records (never trained on, never calibrated on) accepted, and of each kind of junk, by the
//! critic's feature distance alone, by its logit alone, and by the whole judge (every rule of
//! the request: size, values, duplicates, shifted, near and transformed copies, copies with
//! their levels changed, flat patches, distance, the negative rule, logit).
//!
//! The corrupted records come in two kinds: copies of the dataset's own records (noise, a
//! block, inverted, mirrored, brighter or darker, less contrast, upside down, rotated, and
//! levels changed together with another change), which
//! a submitter might hope to be paid for, and corrupted held-back records, which no rule
//! about copies reaches: the model judges those, and the flat-patch rule a block of one value
//! (blocks with a texture, the last rows, it does not reach; for four copies of one held-back
//! record damaged in different places the bench prints how many of each record's copies were
//! accepted).
//!
//! Faces: the 100 LFW faces of `tests/data/lfw-faces` at 32x32 RGB, 80 the dataset and 20 held
//! back; the other photographs are the 100 LFW non-face crops of `tests/data/lfw-nonfaces`
//! (never seen by training or calibration). Digits: the first 1500 UCI digits the dataset, the
//! other 297 held back. The default model (generator 160, discriminator 40 filters, batch 64)
//! trained STEPS steps (default 400) with the demo's seeds. The distance rule is shown at 1%,
//! 2% and 5% of the dataset rejected out of fold, the logit rule at 2% of the dataset's scores;
//! the judge's request has the distance rule at 5% for the faces, 2% for the digits, and the
//! logit rule off (on the faces it rejects 40% of unseen faces; README weighs it).
//!
//! `cargo bench --bench judge -- [STEPS]`

use pouw::dataset::import::{import_digits_csv, import_image_folder};
use pouw::growth::{
    calibrate_distance, calibrate_threshold, record_features, DatasetRequest, DuplicateIndex,
    Judge, Submission, DEFAULT_DISTANCE_REJECT_PER_MILLE, DEFAULT_REJECT_PER_MILLE,
};
use pouw::hash::Xof;
use pouw::ident::cid_of;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, DeviceChoice, ProofOfLearning, TaskSpec,
};
use pouw::Dataset;
use std::path::Path;
use std::time::Instant;

#[path = "../examples/support/mod.rs"]
mod support;

/// Out-of-fold rejection rates of the dataset's own records, in thousandths, at which the
/// table shows the distance rule.
const DISTANCE_RATES: [u32; 3] = [10, 20, 50];

fn main() {
    let steps: u64 = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let dir = tempfile::tempdir().unwrap();
    let rows = support::digits::rows(&support::digits_path());
    faces(dir.path(), &rows, steps);
    digits(dir.path(), &rows, steps);
}

fn faces(tmp: &Path, rows: &[Vec<u8>], steps: u64) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let base = import_range(&root.join("lfw-faces"), 0..80, tmp, "faces-base", 32);
    let held = records(&import_range(
        &root.join("lfw-faces"),
        80..100,
        tmp,
        "faces-held",
        32,
    ));
    let nonfaces = records(&import_range(
        &root.join("lfw-nonfaces"),
        0..100,
        tmp,
        "nonfaces",
        32,
    ));
    let own = records(&base);
    let size = own[0].len();
    let mut x = Xof::new("pouw/bench", b"judge faces");
    let digits: Vec<Vec<u8>> = rows[..100].iter().map(|r| upscale_digit(r, 32)).collect();
    // Drawn in this order (the table's figures depend on it), listed by noise level.
    let uniform: Vec<Vec<u8>> = (0..100).map(|_| noise(&mut x, size, 255)).collect();
    let noise110 = corrupt(&own, 100, &mut x, Corruption::Noise(110), 255);
    let noise24 = corrupt(&own, 100, &mut x, Corruption::Noise(24), 255);
    let noise32 = corrupt(&own, 100, &mut x, Corruption::Noise(32), 255);
    let noise16 = corrupt(&own, 100, &mut x, Corruption::Noise(16), 255);
    let noise8 = corrupt(&own, 100, &mut x, Corruption::Noise(8), 255);
    let classes = vec![
        ("held-back real faces", held.clone()),
        ("uniform noise", uniform),
        (
            "blank and constant",
            (0..100).map(|k| vec![(k * 255 / 99) as u8; size]).collect(),
        ),
        ("other photographs (non-faces)", nonfaces),
        ("digits upscaled", digits),
        ("dataset faces + noise (±8)", noise8),
        ("dataset faces + noise (±16)", noise16),
        ("dataset faces + noise (±24)", noise24),
        ("dataset faces + noise (±32)", noise32),
        ("dataset faces + noise (±110)", noise110),
        (
            "dataset faces with a 12x12 block",
            corrupt(&own, 100, &mut x, Corruption::Block(12, 32, 3), 255),
        ),
        (
            "dataset faces inverted",
            corrupt(&own, own.len(), &mut x, Corruption::Invert, 255),
        ),
        (
            "held-back faces with a 12x12 block",
            corrupt(&held, 20, &mut x, Corruption::Block(12, 32, 3), 255),
        ),
        (
            "held-back faces inverted",
            corrupt(&held, 20, &mut x, Corruption::Invert, 255),
        ),
        (
            "dataset faces mirrored",
            corrupt(&own, own.len(), &mut x, Corruption::Mirror(32, 3), 255),
        ),
        (
            CORNERS,
            corners(&held, &mut x, Corruption::Block(12, 32, 3), 255),
        ),
        (
            "dataset faces brighter (+32)",
            corrupt(&own, own.len(), &mut x, Corruption::Levels(32), 255),
        ),
        (
            "dataset faces darker (-32)",
            corrupt(&own, own.len(), &mut x, Corruption::Levels(-32), 255),
        ),
        (
            "dataset faces, contrast 3/4",
            corrupt(&own, own.len(), &mut x, Corruption::Contrast(3, 4), 255),
        ),
        (
            "dataset faces upside down",
            corrupt(&own, own.len(), &mut x, Corruption::Flip(32, 3), 255),
        ),
        (
            "dataset faces rotated 90°",
            corrupt(&own, own.len(), &mut x, Corruption::Rotate(32, 3), 255),
        ),
        (
            "dataset faces darker (-48)",
            corrupt(&own, own.len(), &mut x, Corruption::Levels(-48), 255),
        ),
        (
            "dataset faces, contrast 1/2",
            corrupt(&own, own.len(), &mut x, Corruption::Contrast(1, 2), 255),
        ),
        (
            "dataset faces brighter (+32) and mirrored",
            corrupt(
                &corrupt(&own, own.len(), &mut x, Corruption::Levels(32), 255),
                own.len(),
                &mut x,
                Corruption::Mirror(32, 3),
                255,
            ),
        ),
        (
            "dataset faces brighter (+32) with a 12x12 block",
            corrupt(
                &corrupt(&own, own.len(), &mut x, Corruption::Levels(32), 255),
                own.len(),
                &mut x,
                Corruption::Block(12, 32, 3),
                255,
            ),
        ),
        (
            "dataset faces brighter (+32) + noise (±16)",
            corrupt(
                &corrupt(&own, own.len(), &mut x, Corruption::Levels(32), 255),
                own.len(),
                &mut x,
                Corruption::Noise(16),
                255,
            ),
        ),
        // Drawn last (the rows above keep their figures): blocks that are not flat, past the
        // flat-patch rule, as a submitter who knows it would paste.
        (
            "held-back faces with a 12x12 block ±2 of noise",
            corrupt(&held, 20, &mut x, Corruption::NoisyBlock(12, 32, 3, 2), 255),
        ),
        (
            "held-back faces with a 12x12 block of uniform noise",
            corrupt(
                &held,
                20,
                &mut x,
                Corruption::NoisyBlock(12, 32, 3, 255),
                255,
            ),
        ),
        // Drawn last (request format 10): a texture past the flat-patch rule's near point
        // (tolerance 15: +-8 spans 16), as a submitter who knows it would paste.
        (
            "held-back faces with a 12x12 block ±8 of noise",
            corrupt(&held, 20, &mut x, Corruption::NoisyBlock(12, 32, 3, 8), 255),
        ),
    ];
    let accepted = table(
        "faces, 80 LFW faces at 32x32 RGB",
        &base,
        steps,
        support::FACES_DISTANCE_REJECT_PER_MILLE,
        classes,
    );
    paid_per_source(&accepted, "face");
}

fn digits(tmp: &Path, rows: &[Vec<u8>], steps: u64) {
    let base = import_digits_csv(support::digits_path(), tmp.join("digits"), Some(1500)).unwrap();
    let own = records(&base);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let small = |src: &str, name: &str| -> Vec<Vec<u8>> {
        records(&import_range(&root.join(src), 0..100, tmp, name, 8))
            .iter()
            .map(|r| {
                r.iter()
                    .step_by(3)
                    .map(|&v| (u32::from(v) * 16 / 255) as u8)
                    .collect()
            })
            .collect()
    };
    let mut x = Xof::new("pouw/bench", b"judge digits");
    // Drawn in this order (the table's figures depend on it), listed by noise level.
    let uniform: Vec<Vec<u8>> = (0..100).map(|_| noise(&mut x, 64, 16)).collect();
    let noise7 = corrupt(&own, 100, &mut x, Corruption::Noise(7), 16);
    let noise2 = corrupt(&own, 100, &mut x, Corruption::Noise(2), 16);
    let noise1 = corrupt(&own, 100, &mut x, Corruption::Noise(1), 16);
    let classes = vec![
        ("held-back real digits", rows[1500..].to_vec()),
        ("uniform noise", uniform),
        (
            "blank and constant",
            (0..100).map(|k| vec![(k % 17) as u8; 64]).collect(),
        ),
        (
            "other photographs (non-faces)",
            small("lfw-nonfaces", "nonfaces-8"),
        ),
        ("faces downscaled", small("lfw-faces", "faces-8")),
        ("dataset digits + noise (±1)", noise1),
        ("dataset digits + noise (±2)", noise2),
        ("dataset digits + noise (±7)", noise7),
        (
            "dataset digits with a 3x3 block",
            corrupt(&own, 100, &mut x, Corruption::Block(3, 8, 1), 16),
        ),
        (
            "dataset digits inverted",
            corrupt(&own, 100, &mut x, Corruption::Invert, 16),
        ),
        (
            "held-back digits with a 3x3 block",
            corrupt(&rows[1500..], 100, &mut x, Corruption::Block(3, 8, 1), 16),
        ),
        (
            "held-back digits inverted",
            corrupt(&rows[1500..], 100, &mut x, Corruption::Invert, 16),
        ),
        (
            "dataset digits mirrored",
            corrupt(&own, 100, &mut x, Corruption::Mirror(8, 1), 16),
        ),
        (
            CORNERS,
            corners(&rows[1500..1600], &mut x, Corruption::Block(3, 8, 1), 16),
        ),
        (
            "dataset digits brighter (+2)",
            corrupt(&own, 100, &mut x, Corruption::Levels(2), 16),
        ),
        (
            "dataset digits, contrast 3/4",
            corrupt(&own, 100, &mut x, Corruption::Contrast(3, 4), 16),
        ),
        (
            "dataset digits upside down",
            corrupt(&own, 100, &mut x, Corruption::Flip(8, 1), 16),
        ),
        (
            "dataset digits rotated 90°",
            corrupt(&own, 100, &mut x, Corruption::Rotate(8, 1), 16),
        ),
        // Drawn last (the rows above keep their figures): noise just beyond the near-copy
        // rule's noise point (fitted at a tolerance of 2), as a submitter who knows it would
        // add.
        (
            "dataset digits + noise (±3)",
            corrupt(&own, 100, &mut x, Corruption::Noise(3), 16),
        ),
        (
            "dataset digits + noise (±4)",
            corrupt(&own, 100, &mut x, Corruption::Noise(4), 16),
        ),
        // Drawn last too: blocks that are not flat, past the flat-patch rule.
        (
            "held-back digits with a 3x3 block ±1 of noise",
            corrupt(
                &rows[1500..],
                100,
                &mut x,
                Corruption::NoisyBlock(3, 8, 1, 1),
                16,
            ),
        ),
        (
            "held-back digits with a 3x3 block of uniform noise",
            corrupt(
                &rows[1500..],
                100,
                &mut x,
                Corruption::NoisyBlock(3, 8, 1, 16),
                16,
            ),
        ),
        // Drawn last (request format 10): past the near point's tolerance (2: +-2 spans 4).
        (
            "held-back digits with a 3x3 block ±2 of noise",
            corrupt(
                &rows[1500..],
                100,
                &mut x,
                Corruption::NoisyBlock(3, 8, 1, 2),
                16,
            ),
        ),
    ];
    let accepted = table(
        "digits, the first 1500 UCI digits (8x8)",
        &base,
        steps,
        DEFAULT_DISTANCE_REJECT_PER_MILLE,
        classes,
    );
    paid_per_source(&accepted, "digit");
}

/// The class of [`corners`]: each held-back record four times, damaged in a different place
/// each time (one record paid for many times over unless the near-copy share stops it).
const CORNERS: &str = "held-back, blocked in each corner (4 copies)";

/// How many held-back records of the [`CORNERS`] class had 0, 1, 2, 3 and 4 of their copies
/// accepted, from the verdicts `accepted` (per class, in the order [`table`] printed them).
fn paid_per_source(accepted: &[(&str, Vec<bool>)], kind: &str) {
    let Some((_, verdicts)) = accepted.iter().find(|(name, _)| *name == CORNERS) else {
        return;
    };
    let mut sources = [0usize; 5];
    for copies in verdicts.chunks(4) {
        sources[copies.iter().filter(|&&a| a).count()] += 1;
    }
    println!(
        "\nheld-back {kind}s with 0, 1, 2, 3, 4 of their 4 blocked copies accepted: {sources:?}"
    );
}

/// Trains the default model on `base`, builds the judge of a request with the distance rule at
/// `distance_per_mille` out of fold and the logit rule off (the other rules
/// `DatasetRequest::for_dataset`'s), and prints the table.
fn table(
    title: &str,
    base: &Dataset,
    steps: u64,
    distance_per_mille: u32,
    classes: Vec<(&'static str, Vec<Vec<u8>>)>,
) -> Vec<(&'static str, Vec<bool>)> {
    let spec = GanSpec::for_manifest(base.manifest()).unwrap();
    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu).unwrap();
    let mut checkpoint = trainer.checkpoint().unwrap();
    let t = Instant::now();
    for i in 1..=steps {
        let seed = step_seed(&[2u8; 32], &checkpoint_digest(&checkpoint), i);
        let indices = batch_indices(&seed, spec.batch_size(), base.len()).unwrap();
        trainer
            .step(&seed, &Batch::from_dataset(base, &indices).unwrap())
            .unwrap();
        checkpoint = trainer.checkpoint().unwrap();
    }
    let trained = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let threshold = calibrate_threshold(&trainer, &spec, base, DEFAULT_REJECT_PER_MILLE).unwrap();
    let mut request =
        DatasetRequest::for_dataset(base, spec.digest(), cid_of(&checkpoint), f32::MIN, 1 << 20)
            .unwrap();
    request.distance_reject_per_mille = distance_per_mille;
    let judge = Judge::<GanTrainer>::new(&request, &spec, &checkpoint, base).unwrap();
    let index = DuplicateIndex::build(base, &request).unwrap();
    let built = t.elapsed().as_secs_f64();
    // The distance threshold at each rate the table shows (the request's is one of them).
    let own_features = record_features(
        judge.model(),
        &spec,
        judge.norms(),
        &as_slices(&records(base)),
    )
    .unwrap();
    let rows: Vec<&[f64]> = own_features.iter().map(Vec::as_slice).collect();
    // The negative rule's assumption, measured on the dataset itself: how many of its own
    // records have a negative closer to its features than themselves.
    let own = records(base);
    let value_max = u8::try_from(base.manifest().value_max).unwrap();
    let negatives: Vec<Vec<u8>> = own
        .iter()
        .map(|r| r.iter().map(|&v| value_max - v).collect())
        .collect();
    let own_distances = judge.distances(&as_slices(&own)).unwrap();
    let negative_closer = judge
        .distances(&as_slices(&negatives))
        .unwrap()
        .iter()
        .zip(&own_distances)
        .filter(|(n, d)| n < d)
        .count();
    let maxima: Vec<f64> = DISTANCE_RATES
        .iter()
        .map(|&r| calibrate_distance(&rows, r).unwrap())
        .collect();
    println!(
        "\n## {title}\n\nmodel trained {steps} steps in {trained:.0} s; judge built in {built:.1} s \
         (distance over {} features; logit threshold {threshold:.4} at {}% of the dataset); the \
         judge's request: distance rule at {}% out of fold, logit rule off; the dataset's own \
         records with a negative closer than themselves (the negative rule would reject them): \
         {negative_closer} of {}\n",
        judge.feature_count(),
        f64::from(DEFAULT_REJECT_PER_MILLE) / 10.0,
        f64::from(distance_per_mille) / 10.0,
        own.len(),
    );
    let rates: Vec<String> = DISTANCE_RATES
        .iter()
        .map(|&r| format!("accepted by distance ({}% out)", f64::from(r) / 10.0))
        .collect();
    println!(
        "| records | n | {} | accepted by logit | accepted by the judge |",
        rates.join(" | ")
    );
    println!("|---|---|{}---|---|", "---|".repeat(rates.len()));
    let mut accepted = Vec::with_capacity(classes.len());
    for (name, records) in classes {
        let slices = as_slices(&records);
        let distances = judge.distances(&slices).unwrap();
        let by_distance: Vec<usize> = maxima
            .iter()
            .map(|max| distances.iter().filter(|&d| d <= max).count())
            .collect();
        let by_logit = judge
            .scores(&slices)
            .unwrap()
            .iter()
            .filter(|&&s| s >= threshold)
            .count();
        let submission = Submission {
            request: request.cid(),
            submitter: name.as_bytes().to_vec(),
            records: records.clone(),
        };
        let verdicts = judge.check(&index, &submission, 0).unwrap();
        accepted.push((name, verdicts.iter().map(|v| v.is_accepted()).collect()));
        let by_judge = verdicts.iter().filter(|v| v.is_accepted()).count();
        let pct = |k: usize| format!("{:.1}%", 100.0 * k as f64 / records.len() as f64);
        let by_distance: Vec<String> = by_distance.into_iter().map(pct).collect();
        println!(
            "| {name} | {} | {} | {} | {} |",
            records.len(),
            by_distance.join(" | "),
            pct(by_logit),
            pct(by_judge)
        );
    }
    accepted
}

fn import_range(
    src: &Path,
    range: std::ops::Range<usize>,
    tmp: &Path,
    name: &str,
    side: u32,
) -> Dataset {
    let folder = tmp.join(format!("{name}-src"));
    std::fs::create_dir_all(&folder).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    files.sort();
    for f in &files[range] {
        std::fs::copy(f, folder.join(f.file_name().unwrap())).unwrap();
    }
    import_image_folder(
        &folder,
        tmp.join(name),
        side,
        "LFW via scikit-image (bench data)",
    )
    .unwrap()
}

fn as_slices(records: &[Vec<u8>]) -> Vec<&[u8]> {
    records.iter().map(Vec::as_slice).collect()
}

fn records(ds: &Dataset) -> Vec<Vec<u8>> {
    (0..ds.len())
        .map(|i| ds.record(i).unwrap().to_vec())
        .collect()
}

fn noise(x: &mut Xof, size: usize, max: u64) -> Vec<u8> {
    (0..size).map(|_| x.uniform_below(max + 1) as u8).collect()
}

/// An 8x8 digit (values 0..=16) as a `side`-pixel RGB image (nearest neighbour, 0..=255).
fn upscale_digit(digit: &[u8], side: usize) -> Vec<u8> {
    let plane: Vec<u8> = (0..side * side)
        .map(|p| digit[(p / side * 8 / side) * 8 + (p % side) * 8 / side])
        .map(|v| (u32::from(v) * 255 / 16) as u8)
        .collect();
    [plane.clone(), plane.clone(), plane].concat()
}

enum Corruption {
    /// Uniform noise of up to this many levels either way.
    Noise(u64),
    /// A `k`x`k` block of a random level at a random place, in images of `side` pixels and
    /// `channels` channels.
    Block(usize, usize, usize),
    /// As [`Corruption::Block`], with uniform noise of up to the last many levels either way on
    /// each of its elements (clamped to the range).
    NoisyBlock(usize, usize, usize, u64),
    /// Every value `v` becomes `max - v`.
    Invert,
    /// Mirrored left to right, in images of `side` pixels and `channels` channels.
    Mirror(usize, usize),
    /// Every value moved by this many levels (clamped to the range): brighter or darker.
    Levels(i64),
    /// Every value's distance from the middle of the range scaled by `num / den`.
    Contrast(i64, i64),
    /// Upside down (the rows of each channel in reverse order), in images of `side` pixels and
    /// `channels` channels.
    Flip(usize, usize),
    /// Rotated a quarter turn clockwise, in images of `side` pixels and `channels` channels.
    Rotate(usize, usize),
}

/// Four copies of each of `sources`, in turn, each with the block of `how` (a
/// [`Corruption::Block`]) in another corner.
fn corners(sources: &[Vec<u8>], x: &mut Xof, how: Corruption, max: u8) -> Vec<Vec<u8>> {
    let Corruption::Block(k, side, channels) = how else {
        panic!("corners takes a block");
    };
    let far = side - k;
    sources
        .iter()
        .flat_map(|r| [(0, 0), (0, far), (far, 0), (far, far)].map(|at| (r, at)))
        .map(|(r, (top, left))| {
            let mut r = r.clone();
            let level = x.uniform_below(u64::from(max) + 1) as u8;
            for c in 0..channels {
                for y in top..top + k {
                    r[c * side * side + y * side + left..c * side * side + y * side + left + k]
                        .fill(level);
                }
            }
            r
        })
        .collect()
}

/// `count` corrupted copies of `own`'s records (record `i % n` for copy `i`; a count over
/// `n` repeats records, which only the random corruptions make distinct), values up to `max`.
fn corrupt(own: &[Vec<u8>], count: usize, x: &mut Xof, how: Corruption, max: u8) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let mut r = own[i % own.len()].clone();
            match how {
                Corruption::Noise(a) => {
                    for v in &mut r {
                        let d = x.uniform_below(2 * a + 1) as i64 - a as i64;
                        *v = (i64::from(*v) + d).clamp(0, i64::from(max)) as u8;
                    }
                }
                Corruption::Block(k, side, channels) => {
                    let (top, left) = (
                        x.uniform_below((side - k + 1) as u64) as usize,
                        x.uniform_below((side - k + 1) as u64) as usize,
                    );
                    let level = x.uniform_below(u64::from(max) + 1) as u8;
                    for c in 0..channels {
                        for y in top..top + k {
                            for xx in left..left + k {
                                r[c * side * side + y * side + xx] = level;
                            }
                        }
                    }
                }
                Corruption::NoisyBlock(k, side, channels, a) => {
                    let (top, left) = (
                        x.uniform_below((side - k + 1) as u64) as usize,
                        x.uniform_below((side - k + 1) as u64) as usize,
                    );
                    let level = i64::from(x.uniform_below(u64::from(max) + 1) as u8);
                    for c in 0..channels {
                        for y in top..top + k {
                            for xx in left..left + k {
                                let d = x.uniform_below(2 * a + 1) as i64 - a as i64;
                                r[c * side * side + y * side + xx] =
                                    (level + d).clamp(0, i64::from(max)) as u8;
                            }
                        }
                    }
                }
                Corruption::Mirror(side, channels) => {
                    for row in r.chunks_exact_mut(side).take(side * channels) {
                        row.reverse();
                    }
                }
                Corruption::Levels(d) => {
                    for v in &mut r {
                        *v = (i64::from(*v) + d).clamp(0, i64::from(max)) as u8;
                    }
                }
                Corruption::Contrast(num, den) => {
                    let mid = i64::from(max) / 2;
                    for v in &mut r {
                        *v = (mid + (i64::from(*v) - mid) * num / den).clamp(0, i64::from(max))
                            as u8;
                    }
                }
                Corruption::Flip(side, channels) => {
                    for plane in r.chunks_exact_mut(side * side).take(channels) {
                        let rows: Vec<Vec<u8>> =
                            plane.chunks_exact(side).rev().map(<[u8]>::to_vec).collect();
                        plane.copy_from_slice(&rows.concat());
                    }
                }
                Corruption::Rotate(side, channels) => {
                    for plane in r.chunks_exact_mut(side * side).take(channels) {
                        let turned: Vec<u8> = (0..side * side)
                            .map(|p| plane[(side - 1 - p % side) * side + p / side])
                            .collect();
                        plane.copy_from_slice(&turned);
                    }
                }
                Corruption::Invert => {
                    for v in &mut r {
                        *v = max - *v;
                    }
                }
            }
            r
        })
        .collect()
}
