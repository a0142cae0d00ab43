//! Trains the default DCGAN on the bundled UCI digits, printing the quality score (sliced
//! Wasserstein distance to real digits, lower is better) as it falls.
//!
//! Writes to `out/train/`: checkpoints (by CID), `samples.png` (a grid of generated digits)
//! and `quality.png` (the score over steps).
//!
//! ```text
//! cargo run --release --example train -- [STEPS]
//! cargo run --release --example train -- --compare [--data digits|faces32|faces64|FOLDER]
//!     [--runs R] [--steps N] [--every K] [--jobs J] [--out DIR]
//! ```
//!
//! `--compare` trains `R` (default 5) seeds of the exact step and of the float32 PyTorch
//! reference (`benches/pytorch_train.py`, one thread) on the default model of the data (default
//! the digits) for `N` steps each (default 400), scores every `K`th checkpoint (default 25) of
//! both with the same quality function, prints the mean and spread per step and writes, in
//! `DIR` (default `out/train/compare-<data>`), `quality-vs-pytorch.png` (exact runs blue,
//! PyTorch runs orange, means drawn thick) and a sample grid of every run's final model. `J`
//! jobs (one seed of one side each, default 1) run at a time; a finished job's curve is kept in
//! `DIR`, so a stopped comparison resumes with the jobs it had not finished.
//!
//! `POUW_THREADS` sets the intra-op threads (default 1).

mod support;

use pouw::dataset::import::import_digits_csv;
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{
    batch_indices, checkpoint_digest, step_seed, Batch, BlobStore, DirStore, ProofOfLearning,
    TaskSpec,
};
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use support::data::{data_label, named_dataset};
use support::quality::{
    exact_curve, pytorch_dir, pytorch_scores, pytorch_train, spread, Curve, RecordsFile, Scorer,
};
use support::Series;

fn main() -> pouw::Result<()> {
    // One intra-op thread is fastest for this small model on small machines; training is
    // bitwise identical at any count (`POUW_THREADS` changes it).
    tch::set_num_threads(
        std::env::var("POUW_THREADS")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(1),
    );
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--compare") {
        return compare(&Compare::from_args(&args)?);
    }
    let out = Path::new("out/train");
    std::fs::create_dir_all(out).map_err(|e| pouw::Error::io(out, e))?;
    let dataset = import_digits_csv(support::digits_path(), out.join("digits"), None)?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let steps: u64 = args
        .first()
        .map_or(400, |s| s.parse().expect("STEPS is a number"));
    let store = DirStore::new(out.join("checkpoints"))?;
    println!(
        "dataset {} ({} records), task spec {}",
        dataset.cid(),
        dataset.len(),
        hex(&spec.digest())
    );

    let mut trainer = GanTrainer::from_seed(&spec, &[0u8; 32], DeviceChoice::Cpu)?;
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
        &support::chart(
            "Quality while training on the digits",
            "training step",
            "sliced Wasserstein distance (lower is better)",
            &[Series {
                points: curve.clone(),
                color: [30, 90, 200],
                thick: true,
                label: Some("pouw exact step".into()),
            }],
            720,
            420,
        )?,
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

/// `--compare`'s settings.
struct Compare {
    data: String,
    runs: u8,
    steps: u64,
    every: u64,
    jobs: usize,
    out: PathBuf,
}

impl Compare {
    fn from_args(args: &[String]) -> pouw::Result<Self> {
        let flag = |name: &str| support::flag(args, name);
        let number = |name: &str, default: u64| -> pouw::Result<u64> {
            match flag(name)? {
                None => Ok(default),
                Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                    pouw::Error::InvalidParameters(format!("{name} takes a number, at least 1"))
                }),
            }
        };
        let data = flag("--data")?.unwrap_or_else(|| "digits".into());
        let runs = number("--runs", 5)?;
        let (steps, every) = (number("--steps", 400)?, number("--every", 25)?);
        if runs < 2 || runs > u64::from(u8::MAX) || !steps.is_multiple_of(every) {
            return Err(pouw::Error::InvalidParameters(
                "--runs is 2 to 255 (a spread needs two) and --every divides --steps".into(),
            ));
        }
        Ok(Compare {
            out: flag("--out")?.map_or_else(
                || PathBuf::from("out/train").join(format!("compare-{}", data_label(&data))),
                PathBuf::from,
            ),
            data,
            runs: runs as u8,
            steps,
            every,
            jobs: number("--jobs", 1)? as usize,
        })
    }
}

/// A finished job: its curve, and the seconds it trained (none when cached).
type JobResult = pouw::Result<(Curve, Option<f64>)>;

/// Which trainer a comparison job runs.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Exact,
    PyTorch,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Exact => "exact",
            Side::PyTorch => "pytorch",
        }
    }
}

/// What every comparison job shares.
struct Bench<'a> {
    c: &'a Compare,
    dataset: &'a pouw::Dataset,
    spec: &'a GanSpec,
    scorer: &'a Scorer,
    records: &'a RecordsFile,
    done: AtomicU64,
    bar: &'a support::Progress,
}

impl Bench<'_> {
    fn advance(&self, steps: u64, note: &str) {
        let done = self.done.fetch_add(steps, Ordering::Relaxed) + steps;
        self.bar.update(done, note);
    }

    /// One seed of one side: its curve (from the cache when an earlier run finished it), a
    /// sample grid of its final model, and the seconds it trained.
    fn job(&self, side: Side, run: u8) -> JobResult {
        let c = self.c;
        let cache = c.out.join(format!("{}-{run}.curve", side.name()));
        if let Some(curve) = read_curve(&cache, c.steps, c.every)? {
            self.advance(c.steps, "cached");
            return Ok((curve, None));
        }
        let note = format!("{} seed {run}", side.name());
        let start = Instant::now();
        let (curve, model, secs) = match side {
            Side::Exact => {
                let (curve, model) = exact_curve(
                    self.dataset,
                    self.spec,
                    run,
                    c.steps,
                    c.every,
                    self.scorer,
                    &|_| self.advance(1, &note),
                )?;
                let secs = start.elapsed().as_secs_f64();
                (curve, model, secs)
            }
            Side::PyTorch => {
                let last = Cell::new(0);
                pytorch_train(self.records, run, c.steps, c.every, &c.out, &|t| {
                    self.advance(t.saturating_sub(last.replace(t)), &note)
                })?;
                let secs = start.elapsed().as_secs_f64();
                let (curve, model) =
                    pytorch_scores(self.spec, run, c.steps, c.every, self.scorer, &c.out)?;
                let dir = pytorch_dir(&c.out, run);
                std::fs::remove_dir_all(&dir).map_err(|e| pouw::Error::io(&dir, e))?;
                (curve, model, secs)
            }
        };
        let zoom = if self.spec.image_size <= 8 { 4 } else { 2 };
        write_png(
            &sample_grid(&model, &[3u8; 32], 6, 6, zoom)?,
            c.out.join(format!("samples-{}-{run}.png", side.name())),
        )?;
        write_curve(&cache, c.steps, c.every, &curve)?;
        Ok((curve, Some(secs)))
    }
}

/// `--compare`: the exact step against the float32 PyTorch reference, several seeds each,
/// `--jobs` at a time.
fn compare(c: &Compare) -> pouw::Result<()> {
    std::fs::create_dir_all(&c.out).map_err(|e| pouw::Error::io(&c.out, e))?;
    let dataset = named_dataset(&c.data, &c.out.join("dataset"))?;
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let scorer = Scorer::new(&dataset)?;
    let records = RecordsFile::write(&dataset, &c.out)?;
    println!(
        "{}: {} records of {}x{}x{}; {} seeds per side, {} steps, scored every {}; {} job(s) at a time, {} intra-op thread(s) each",
        c.data,
        dataset.len(),
        spec.channels,
        spec.image_size,
        spec.image_size,
        c.runs,
        c.steps,
        c.every,
        c.jobs,
        tch::get_num_threads()
    );
    let jobs: Vec<(Side, u8)> = [Side::Exact, Side::PyTorch]
        .into_iter()
        .flat_map(|side| (0..c.runs).map(move |run| (side, run)))
        .collect();
    let bar = support::Progress::new("training", 2 * u64::from(c.runs) * c.steps);
    let started = Instant::now();
    let bench = Bench {
        c,
        dataset: &dataset,
        spec: &spec,
        scorer: &scorer,
        records: &records,
        done: AtomicU64::new(0),
        bar: &bar,
    };
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<JobResult>>> = Mutex::new(jobs.iter().map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..c.jobs.min(jobs.len()) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(side, run)) = jobs.get(i) else {
                    break;
                };
                let result = bench.job(side, run);
                let failed = result.is_err();
                if let Ok(mut slots) = results.lock() {
                    slots[i] = Some(result);
                }
                if failed {
                    // The other workers finish their current job; nothing new starts.
                    next.store(jobs.len(), Ordering::Relaxed);
                }
            });
        }
    });
    bar.finish();
    let wall = started.elapsed().as_secs_f64();
    let (mut exact, mut reference) = (Vec::new(), Vec::new());
    let (mut exact_secs, mut reference_secs) = (Vec::new(), Vec::new());
    let slots = results
        .into_inner()
        .map_err(|_| pouw::Error::InvalidParameters("a comparison job panicked".into()))?;
    for (&(side, _), slot) in jobs.iter().zip(slots) {
        let (curve, secs) = slot.ok_or_else(|| {
            pouw::Error::InvalidParameters("a comparison job did not run".into())
        })??;
        let (curves, times) = match side {
            Side::Exact => (&mut exact, &mut exact_secs),
            Side::PyTorch => (&mut reference, &mut reference_secs),
        };
        curves.push(curve);
        times.extend(secs);
    }
    report(c, &exact, &reference);
    println!("{wall:.0} s for every job, cached ones included (wall clock)");
    for (name, times) in [
        ("exact step", &exact_secs),
        ("PyTorch float32", &reference_secs),
    ] {
        if !times.is_empty() {
            println!(
                "{name}: {:.0} ms a step while training (mean of {} seeds trained in this run, {} job(s) sharing the machine; scoring excluded)",
                times.iter().sum::<f64>() * 1e3 / (times.len() as f64 * c.steps as f64),
                times.len(),
                c.jobs
            );
        }
    }
    plot(c, &exact, &reference)
}

/// Prints the mean and spread of both sides per evaluation step, and how far apart they are.
fn report(c: &Compare, exact: &[Curve], reference: &[Curve]) {
    println!(
        "quality (sliced Wasserstein, lower is better), mean +- standard deviation over {} seeds:",
        c.runs
    );
    println!("   step        exact step       PyTorch float32   |difference| / larger sd");
    let mut worst: f64 = 0.0;
    for ((t, me, se), (_, mf, sf)) in spread(exact).into_iter().zip(spread(reference)) {
        let ratio = (me - mf).abs() / se.max(sf).max(f64::MIN_POSITIVE);
        if t > 0 {
            worst = worst.max(ratio);
        }
        println!("  {t:>5}   {me:.4} +- {se:.4}   {mf:.4} +- {sf:.4}   {ratio:.2}");
    }
    println!(
        "after step 0 the means differ by at most {worst:.2} of the larger run-to-run standard deviation"
    );
}

/// `quality-vs-pytorch.png`: every run thin, the means thick.
fn plot(c: &Compare, exact: &[Curve], reference: &[Curve]) -> pouw::Result<()> {
    let points = |c: &Curve| c.iter().map(|&(t, q)| (t as f64, q)).collect::<Vec<_>>();
    let mean = |curves: &[Curve]| {
        spread(curves)
            .iter()
            .map(|&(t, m, _)| (t as f64, m))
            .collect()
    };
    let (blue, orange) = ([30, 90, 200], [230, 120, 20]);
    let mut series: Vec<Series> = Vec::new();
    for (curves, color) in [(exact, blue), (reference, orange)] {
        series.extend(curves.iter().map(|c| Series {
            points: points(c),
            color: color.map(|v| v / 2 + 127),
            thick: false,
            label: None,
        }));
    }
    for (curves, color, name) in [
        (exact, blue, "pouw exact step"),
        (reference, orange, "PyTorch float32"),
    ] {
        series.push(Series {
            points: mean(curves),
            color,
            thick: true,
            label: Some(format!(
                "{name}: mean of {} seeds (thin: each)",
                curves.len()
            )),
        });
    }
    let png = c.out.join("quality-vs-pytorch.png");
    let chart = support::chart(
        &format!(
            "Quality while training on {}: the exact step and float32 PyTorch",
            c.data
        ),
        "training step",
        "sliced Wasserstein distance (lower is better)",
        &series,
        900,
        500,
    )?;
    write_png(&chart, &png)?;
    println!(
        "wrote {} (exact runs blue, PyTorch runs orange, means thick) and samples-<side>-<seed>.png (each run's final model) in {}",
        png.display(),
        c.out.display()
    );
    Ok(())
}

/// A curve a finished job cached, when it was made with the same steps and spacing.
fn read_curve(path: &Path, steps: u64, every: u64) -> pouw::Result<Option<Curve>> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(pouw::Error::io(path, e)),
    };
    let mut lines = text.lines();
    if lines.next() != Some(&format!("steps {steps} every {every}")) {
        return Ok(None);
    }
    let curve: Option<Curve> = lines
        .map(|line| {
            let (t, q) = line.split_once(' ')?;
            Some((t.parse().ok()?, q.parse().ok()?))
        })
        .collect();
    Ok(curve.filter(|c| c.len() as u64 == steps / every + 1))
}

/// Caches a finished job's curve (atomically: a stopped run leaves no partial curve).
fn write_curve(path: &Path, steps: u64, every: u64, curve: &Curve) -> pouw::Result<()> {
    let mut text = format!("steps {steps} every {every}\n");
    for (t, q) in curve {
        text.push_str(&format!("{t} {q}\n"));
    }
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text).map_err(|e| pouw::Error::io(&partial, e))?;
    std::fs::rename(&partial, path).map_err(|e| pouw::Error::io(path, e))
}

fn hex(d: &[u8; 32]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
