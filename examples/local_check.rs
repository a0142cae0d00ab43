//! What sound chains cost (README "Security argument"): mines one block of exactly `--steps`
//! steps with the default model (generator 160, discriminator 40 filters, 16 opened steps,
//! segments of 17) at one image size, then measures what the miner published, what `verify`
//! fetched and took, and what a node's local segment check (one segment drawn by its own
//! randomness) fetched and took; and prints the survival probability of one spliced step across
//! N such nodes, `(1 - 1/S)^N` for the block's `S` segments.
//!
//! ```text
//! cargo run --release --example local_check -- [--size 8|32|64] [--steps N] [--segment M]
//! ```
//!
//! `--segment` replays segment `M` instead of one drawn at random (to measure a given one).
//!
//! Size 8 trains on the UCI digits (8x8 gray); 32 and 64 on the bundled LFW faces
//! (`tests/data/lfw-faces`, scaled up, RGB). Everything it writes (`out/local-check/`, about
//! `steps + 20` checkpoints of 244 MB each at 64x64) is removed when it is done.

mod support;

use pouw::dataset::import::{import_digits_csv, import_image_folder};
use pouw::ident::Cid;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning, TaskSpec};
use pouw::work::{
    audit_segment, mine, random_segment, segment_count, verify, AuditInput, AuditOutcome,
    ConsensusParams, MineInput, MineOptions, MineOutcome, Start, Target, VerifyInput,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Instant;

/// A directory store counting the bytes put and fetched.
struct Counted {
    inner: DirStore,
    put: AtomicU64,
    fetched: AtomicU64,
}

impl Counted {
    fn take_fetched(&self) -> u64 {
        self.fetched.swap(0, Ordering::Relaxed)
    }
}

impl BlobStore for Counted {
    fn put(&self, bytes: &[u8]) -> pouw::Result<Cid> {
        self.put.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> pouw::Result<Vec<u8>> {
        let bytes = self.inner.get_unchecked(cid, limit)?;
        self.fetched
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

fn main() -> pouw::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| support::flag(&args, name);
    let bad = |what: &str| pouw::Error::InvalidParameters(what.into());
    let size: u32 = match flag("--size")?.as_deref() {
        None | Some("8") => 8,
        Some("32") => 32,
        Some("64") => 64,
        Some(_) => return Err(bad("--size takes 8, 32 or 64")),
    };
    let steps: u64 = match flag("--steps")?.map(|s| s.parse::<u64>()) {
        None => 34,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return Err(bad("--steps takes a number of steps, at least 1")),
    };
    let threads = std::env::var("POUW_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    let out = PathBuf::from("out/local-check");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| pouw::Error::io(&out, e))?;
    let segment = match flag("--segment")?.map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(m)) => Some(m),
        Some(Err(_)) => return Err(bad("--segment takes a segment number")),
    };
    let result = run(&out, size, steps, segment, threads);
    let _ = std::fs::remove_dir_all(&out);
    result
}

fn run(
    out: &std::path::Path,
    size: u32,
    steps: u64,
    segment: Option<u64>,
    threads: i32,
) -> pouw::Result<()> {
    let dataset = if size == 8 {
        import_digits_csv(support::digits_path(), out.join("dataset"), None)?
    } else {
        let faces = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lfw-faces");
        import_image_folder(
            &faces,
            out.join("dataset"),
            size,
            "LFW crops (scikit-image)",
        )?
    };
    let spec = GanSpec::for_manifest(dataset.manifest())?;
    let mut params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    // A block of exactly `steps` steps: tickets count from `steps` on, and any ticket wins.
    params.min_steps = steps;
    params.max_steps = params.max_steps.max(steps);
    let target = Target::from_expected_steps(1);
    let store = Counted {
        inner: DirStore::new(out.join("store"))?,
        put: AtomicU64::new(0),
        fetched: AtomicU64::new(0),
    };
    let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)?.checkpoint()?;
    store.inner.put(&genesis)?;
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis)?;
    println!(
        "model     {size}x{size}, {} channel(s), default model, {threads} thread(s); checkpoint {:.1} MB",
        params.spec.channels,
        mb(params.spec.checkpoint_size())
    );
    let (header, miner) = ([5u8; 32], b"local-check".as_slice());

    let bar = support::Progress::new("mining", steps);
    let started = Instant::now();
    let input = MineInput {
        header_hash: header,
        miner_id: miner,
        start: &genesis,
        params: &params,
        target,
        dataset: &dataset,
        store: &store,
    };
    let options = MineOptions {
        spill_dir: Some(out.to_path_buf()),
        ..MineOptions::default()
    };
    let mined = mine::<GanTrainer>(
        &input,
        options,
        &mut |p| bar.update(p.step, ""),
        &AtomicBool::new(false),
    )?;
    bar.finish();
    let MineOutcome::Found(block) = mined else {
        return Err(pouw::Error::InvalidParameters("no block".into()));
    };
    let mining = started.elapsed().as_secs_f64();
    let proof = block.proof.to_bytes();
    let n = block.proof.steps;
    let segments = segment_count(&params, n)?;
    let segment_steps = u64::from(params.opened_steps) + 1;
    println!(
        "miner     {n} steps in {mining:.1} s ({:.3} s a step); published {:.1} MB: {} opened-step \
         starts, the winning checkpoint, {} segment starts, the companion; proof {} bytes",
        mining / n as f64,
        mb(store.put.load(Ordering::Relaxed)),
        block.proof.openings.len(),
        block.proof.segments.len(),
        proof.len()
    );

    store.take_fetched();
    let started = Instant::now();
    let check = VerifyInput {
        header_hash: header,
        miner_id: miner,
        start: &start,
        params: &params,
        target,
        store: &store,
        device: DeviceChoice::Cpu,
    };
    let verdict = verify::<GanTrainer>(&check, &proof)?;
    let verifying = started.elapsed().as_secs_f64();
    println!(
        "verify    {} steps re-executed in {verifying:.1} s; fetched {:.1} MB",
        verdict.opened.len(),
        mb(store.take_fetched())
    );

    let segment = segment.unwrap_or_else(|| random_segment(segments));
    let replay = AuditInput {
        header_hash: header,
        miner_id: miner,
        start: &genesis,
        params: &params,
        target,
        dataset: &dataset,
        store: &store,
        device: DeviceChoice::Cpu,
    };
    let started = Instant::now();
    let outcome = audit_segment::<GanTrainer>(
        &replay,
        &proof,
        segment,
        &mut |_| {},
        &AtomicBool::new(false),
    )?;
    let checking = started.elapsed().as_secs_f64();
    let AuditOutcome::Agrees { steps: replayed } = outcome else {
        return Err(pouw::Error::InvalidParameters(format!(
            "an honest block's segment check found {outcome:?}"
        )));
    };
    println!(
        "segment   {segment} of {segments} ({segment_steps} steps a segment): {replayed} steps \
         replayed in {checking:.1} s; fetched {} bytes (the companion{})",
        store.take_fetched(),
        if segment == 0 {
            "; segment 0 starts at the chain's start, which the node holds"
        } else {
            " and one segment start"
        }
    );
    let survive = |nodes: i32| (1.0 - 1.0 / segments as f64).powi(nodes);
    println!(
        "splice    one faked step survives N nodes' checks with (1 - 1/{segments})^N: N = 10: {:.2e}, \
         N = 100: {:.2e}",
        survive(10),
        survive(100)
    );
    Ok(())
}
