//! `pouw init|mine|verify|audit`.

use crate::{check_output, hex, read_bounded, Failure, Outcome};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use pouw::hash::Digest;
use pouw::ident::Cid;
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore, ProofOfLearning, TaskSpec};
use pouw::work::{
    self, AuditInput, AuditOutcome, ConsensusParams, MineInput, MineOptions, MineOutcome, Start,
    Target, VerifyInput,
};
use pouw::write_atomic;
use pouw::Dataset;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

#[derive(Args)]
pub struct InitArgs {
    /// The dataset the network trains on.
    #[arg(long)]
    dataset: PathBuf,
    /// The store to put the genesis checkpoint in: a directory, or an IPFS node's RPC API
    /// (`http://127.0.0.1:5001`).
    #[arg(long)]
    store: String,
    /// Where to write the consensus parameters.
    #[arg(long)]
    params: PathBuf,
    /// Seed of the genesis model (64 hex digits).
    #[arg(long, value_parser = parse_digest, default_value = ZERO)]
    seed: Digest,
    /// Generator base filters (default: the task's default, 160).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    g_filters: Option<u32>,
    /// Discriminator base filters (default 40).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1024))]
    d_filters: Option<u32>,
    /// Records per training step, 2 to 4096 (default 64).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=4096))]
    batch_size: Option<u32>,
    /// Steps a proof opens besides the winning one.
    #[arg(long, value_parser = clap::value_parser!(u32).range(0..=256))]
    opened_steps: Option<u32>,
    /// Records a capacity proof opens.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    capacity_challenges: Option<u32>,
    /// Tickets count from this step on.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    min_steps: Option<u64>,
}

/// What every command on a block names: the chain's parameters, store and block.
#[derive(Args)]
pub struct BlockArgs {
    /// The consensus parameters (written by `pouw init`).
    #[arg(long)]
    params: PathBuf,
    /// The checkpoint store: a directory, or an IPFS node's RPC API (`http://127.0.0.1:5001`).
    #[arg(long)]
    store: String,
    /// CID of the block's start checkpoint (the genesis, or the previous block's winner).
    #[arg(long)]
    start: Cid,
    /// The block header's hash (64 hex digits).
    #[arg(long, value_parser = parse_digest)]
    header: Digest,
    /// The miner's identity.
    #[arg(long)]
    miner: String,
    /// Where this machine trains and re-executes: `auto` (CUDA device 0 when available), `cpu`
    /// or `cuda:N`. A local choice: every device computes the same bits.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    device: DeviceChoice,
}

fn parse_device(s: &str) -> Result<DeviceChoice, String> {
    match s {
        "auto" => Ok(DeviceChoice::Auto),
        "cpu" => Ok(DeviceChoice::Cpu),
        "cuda" => Ok(DeviceChoice::Cuda(0)),
        other => other
            .strip_prefix("cuda:")
            .filter(|n| !n.is_empty() && n.bytes().all(|c| c.is_ascii_digit()))
            .and_then(|n| n.parse().ok())
            .map(DeviceChoice::Cuda)
            .ok_or_else(|| format!("{other:?}: not `auto`, `cpu` or `cuda:N`")),
    }
}

#[derive(Args)]
pub struct MineArgs {
    #[command(flatten)]
    block: BlockArgs,
    /// The dataset (the parameters' own).
    #[arg(long)]
    dataset: PathBuf,
    /// The target, as the steps a block is expected to take.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    expected_steps: u64,
    /// Where to write the proof.
    #[arg(long)]
    proof: PathBuf,
    /// Also write the proof's record-free form here (for verifiers holding the dataset).
    #[arg(long)]
    record_free_proof: Option<PathBuf>,
    /// Give up after this many steps.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    step_limit: Option<u64>,
    /// libtorch intra-op threads, 1 to 256 (default: libtorch's choice).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=256))]
    threads: Option<i32>,
}

#[derive(Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    block: BlockArgs,
    /// The target, as the steps a block is expected to take.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    expected_steps: u64,
    /// The dataset (the parameters' own): needed for a record-free proof, whose records the
    /// verifier reads from it.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// libtorch intra-op threads, 1 to 256 (default: libtorch's choice).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=256))]
    threads: Option<i32>,
    /// Also score the block's training (two checkpoint fetches and two quality evaluations
    /// after the block is found valid; the scores decide nothing of validity).
    #[arg(long)]
    quality: bool,

    /// The proof to verify, self-contained or record-free.
    proof: PathBuf,
}

#[derive(Args)]
pub struct AuditArgs {
    #[command(flatten)]
    block: BlockArgs,
    /// The dataset (the parameters' own).
    #[arg(long)]
    dataset: PathBuf,
    /// The target, as the steps a block is expected to take (no ticket before the winning one
    /// may beat it).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    expected_steps: u64,
    /// What to replay: `all` steps, one `random` segment (drawn by this node: what every node
    /// should do for every block it accepts), or segment number N.
    #[arg(long, default_value = "all", value_parser = parse_segment)]
    segment: SegmentChoice,
    /// Where to write a fraud proof, if the audit finds a wrong step.
    #[arg(long, default_value = "fraud.bin")]
    fraud: PathBuf,
    /// libtorch intra-op threads, 1 to 256 (default: libtorch's choice).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=256))]
    threads: Option<i32>,
    /// Replay without verifying the block first (for a block this node already verified).
    #[arg(long)]
    skip_verify: bool,

    /// The proof to audit, self-contained or record-free.
    proof: PathBuf,
}

/// What `pouw audit` replays.
#[derive(Clone, Copy, Debug)]
pub enum SegmentChoice {
    /// Every step.
    All,
    /// One segment drawn by this process's randomness.
    Random,
    /// Segment N.
    Index(u64),
}

fn parse_segment(s: &str) -> Result<SegmentChoice, String> {
    match s {
        "all" => Ok(SegmentChoice::All),
        "random" => Ok(SegmentChoice::Random),
        n => n
            .parse()
            .map(SegmentChoice::Index)
            .map_err(|_| format!("{n:?}: not `all`, `random` or a segment number")),
    }
}

const ZERO: &str = "0000000000000000000000000000000000000000000000000000000000000000";

fn parse_digest(s: &str) -> Result<Digest, String> {
    let s = s.trim();
    // Hex digits only: `from_str_radix` alone would take a `+` sign.
    if s.len() != 64 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err("expected 64 hex digits".into());
    }
    let mut d = [0u8; 32];
    for (i, byte) in d.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| "expected 64 hex digits".to_string())?;
    }
    Ok(d)
}

/// Reads consensus parameters.
pub fn load_params(path: &Path) -> Result<ConsensusParams<GanSpec>, Failure> {
    let bytes = read_bounded(
        path,
        work::MAX_PARAMS_BYTES,
        "consensus parameters file",
        Failure::Error,
    )?;
    ConsensusParams::<GanSpec>::from_bytes(&bytes)
        .map_err(|e| Failure::Error(format!("{}: {e}", path.display())))
}

/// A checkpoint store named on the command line: an IPFS node's RPC API (`http://...`) or a
/// directory. Any other URL (`https://`, `HTTP://`, ...) is refused rather than taken for a
/// directory of that name.
/// Opens the store `name` (an IPFS node's `http://` API or a directory); a directory is created
/// when `create` (by `init`), else it must exist (commands on a block read their start from it,
/// and create nothing on the way).
pub fn open_store(name: &str, create: bool) -> Result<Box<dyn BlobStore>, Failure> {
    if name.starts_with("http://") {
        return Ok(Box::new(pouw::ipfs::IpfsStore::new(name)?));
    }
    if let Some((scheme, _)) = name.split_once("://") {
        return Err(Failure::Error(format!(
            "store {name}: {scheme}:// is not supported: an IPFS node's RPC API is plain \
             http:// (keep it on loopback), anything else a directory path"
        )));
    }
    if !create && !Path::new(name).is_dir() {
        return Err(Failure::Error(format!(
            "store {name}: no such directory (pouw init creates the store)"
        )));
    }
    Ok(Box::new(DirStore::new(name).map_err(|e| {
        Failure::Error(format!("store {name}: {e}"))
    })?))
}

fn open_dataset(path: &Path) -> Result<Dataset, Failure> {
    Dataset::open(path).map_err(|e| Failure::Error(format!("{}: {e}", path.display())))
}

/// Everything a block command loads.
struct Chain {
    params: ConsensusParams<GanSpec>,
    store: Box<dyn BlobStore>,
    start_bytes: Vec<u8>,
    start: Start,
}

fn load(b: &BlockArgs) -> Result<Chain, Failure> {
    let params = load_params(&b.params)?;
    let store = open_store(&b.store, false)?;
    let start_bytes = store
        .get(&b.start, params.spec.checkpoint_size())
        .map_err(|e| Failure::Error(format!("start checkpoint {}: {e}", b.start)))?;
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &start_bytes)?;
    Ok(Chain {
        params,
        store,
        start_bytes,
        start,
    })
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template(
        "{msg:>9} [{elapsed_precise}] {wide_bar} {pos}/{len} steps ({per_sec}, eta {eta})",
    ) {
        bar.set_style(style);
    }
    bar.set_message(what.to_owned());
    bar
}

pub fn init(a: InitArgs) -> Outcome {
    check_output(&a.params)?;
    let ds = open_dataset(&a.dataset)?;
    let mut spec = GanSpec::for_manifest(ds.manifest())?;
    if let Some(v) = a.g_filters {
        spec.g_filters = v;
    }
    if let Some(v) = a.d_filters {
        spec.d_filters = v;
    }
    if let Some(v) = a.batch_size {
        spec.batch_size = v;
    }
    let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
    if let Some(v) = a.opened_steps {
        params.opened_steps = v;
    }
    if let Some(v) = a.capacity_challenges {
        params.capacity_challenges = v;
    }
    if let Some(v) = a.min_steps {
        params.min_steps = v;
    }
    params.validate()?;
    let genesis = GanTrainer::from_seed(&params.spec, &a.seed, DeviceChoice::Cpu)?.checkpoint()?;
    let cid = open_store(&a.store, true)?.put(&genesis)?;
    write_atomic(&a.params, &params.to_bytes())?;
    println!(
        "params    {} (digest {})",
        a.params.display(),
        hex(&params.digest())
    );
    println!("genesis   {cid} ({} bytes)", genesis.len());
    Ok(())
}

pub fn mine(a: MineArgs) -> Outcome {
    check_output(&a.proof)?;
    if let Some(path) = &a.record_free_proof {
        check_output(path)?;
    }
    let c = load(&a.block)?;
    let ds = open_dataset(&a.dataset)?;
    set_threads(a.threads);
    let target = expected(a.expected_steps)?;
    let input = MineInput {
        header_hash: a.block.header,
        miner_id: a.block.miner.as_bytes(),
        start: &c.start_bytes,
        params: &c.params,
        target,
        dataset: &ds,
        store: c.store.as_ref(),
    };
    let options = MineOptions {
        step_limit: a.step_limit.unwrap_or(u64::MAX),
        device: a.block.device,
        ..MineOptions::default()
    };
    let bar = bar(a.expected_steps.max(c.params.min_steps), "mining");
    let started = Instant::now();
    let outcome = work::mine::<GanTrainer>(
        &input,
        options,
        &mut |p| {
            if p.step > bar.length().unwrap_or(0) {
                bar.set_length(p.step * 2);
            }
            bar.set_position(p.step);
        },
        &AtomicBool::new(false),
    )?;
    bar.finish_and_clear();
    match outcome {
        MineOutcome::Found(block) => {
            let proof = block.proof.to_bytes();
            write_atomic(&a.proof, &proof)?;
            // Mining published the winning checkpoint with the proof's openings.
            let next = block
                .proof
                .winning_checkpoint()
                .map_or_else(|| "none".to_owned(), ToString::to_string);
            println!(
                "block     at step {} in {:.1} s; proof {} ({} bytes)",
                block.proof.steps,
                started.elapsed().as_secs_f64(),
                a.proof.display(),
                proof.len()
            );
            println!("next      start {next}");
            if let Some(path) = &a.record_free_proof {
                let compact = block.proof.record_free().to_bytes();
                write_atomic(path, &compact)?;
                println!(
                    "record-free proof {} ({} bytes)",
                    path.display(),
                    compact.len()
                );
            }
            Ok(())
        }
        MineOutcome::StepLimit { steps, .. } => Err(Failure::Error(format!(
            "no block within the step limit ({steps} steps)"
        ))),
        MineOutcome::Cancelled { steps } => {
            Err(Failure::Error(format!("cancelled after {steps} steps")))
        }
    }
}

/// libtorch's intra-op threads, when the operator chose them.
fn set_threads(threads: Option<i32>) {
    if let Some(t) = threads {
        tch::set_num_threads(t);
    }
}

fn expected(steps: u64) -> Result<Target, Failure> {
    if steps == 0 {
        return Err(Failure::Error("--expected-steps must be at least 1".into()));
    }
    Ok(Target::from_expected_steps(steps))
}

/// A verification's failure as the command reports it (see `Failure`'s `From`).
fn judged(e: work::VerifyError) -> Failure {
    e.into()
}

/// A proof file read under the parameters' bound, with its form.
struct ProofFile {
    bytes: Vec<u8>,
    record_free: bool,
}

impl ProofFile {
    fn read(path: &Path, params: &ConsensusParams<GanSpec>) -> Result<Self, Failure> {
        let limit = work::ProofLimits::of(params).max_encoded_len();
        // A proof file larger than any proof is an invalid block (exit 1).
        let bytes = read_bounded(
            path,
            limit,
            "block proof under these parameters",
            Failure::Rejected,
        )?;
        let record_free = bytes.starts_with(b"PWBR");
        Ok(ProofFile { bytes, record_free })
    }

    /// The self-contained form (a record-free proof expanded with `dataset`).
    fn decoded(
        &self,
        params: &ConsensusParams<GanSpec>,
        dataset: Option<&Dataset>,
    ) -> Result<work::BlockProof, Failure> {
        let limits = work::ProofLimits::of(params);
        let decoded = match (self.record_free, dataset) {
            (false, _) => work::BlockProof::from_bytes(&self.bytes, &limits),
            (true, Some(ds)) => work::RecordFreeProof::from_bytes(&self.bytes, &limits)
                .and_then(|p| p.expand(params, ds)),
            (true, None) => return Err(needs_dataset()),
        };
        decoded.map_err(|e| judged(work::VerifyError::from_error(e)))
    }
}

fn needs_dataset() -> Failure {
    Failure::Error("a record-free proof: reading its records needs --dataset".into())
}

/// Verifies `proof` (either form; a record-free one against `dataset`) with a progress bar
/// that stays where it stopped when verification fails.
fn verify_file(
    input: &VerifyInput<'_, GanSpec>,
    proof: &ProofFile,
    dataset: Option<&Dataset>,
) -> Result<work::Verdict, Failure> {
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template(
        "verifying [{elapsed_precise}] {wide_bar} {pos}/{len} opened steps: {msg}",
    ) {
        bar.set_style(style);
    }
    let mut report = |p: &work::VerifyProgress| {
        bar.set_length(u64::from(p.total));
        bar.set_position(u64::from(p.done));
        let what = match p.phase {
            work::VerifyPhase::Checks => "checks".to_owned(),
            work::VerifyPhase::Step => format!("step {}", p.step),
            work::VerifyPhase::Companion => "trajectory companion".to_owned(),
            work::VerifyPhase::Segments => format!("segment start {}", p.step),
        };
        bar.set_message(format!(
            "{what}, {:.1} MiB fetched",
            p.fetched_bytes as f64 / 1048576.0
        ));
    };
    let never = AtomicBool::new(false);
    let verdict = match (proof.record_free, dataset) {
        (false, _) => work::verify_with::<GanTrainer>(input, &proof.bytes, &mut report, &never),
        (true, Some(ds)) => work::verify_record_free_with::<GanTrainer>(
            input,
            ds,
            &proof.bytes,
            &mut report,
            &never,
        ),
        (true, None) => return Err(needs_dataset()),
    };
    match verdict {
        Ok(v) => {
            bar.finish_and_clear();
            Ok(v)
        }
        Err(e) => {
            bar.abandon();
            Err(judged(e))
        }
    }
}

pub fn verify(a: VerifyArgs) -> Outcome {
    set_threads(a.threads);
    let c = load(&a.block)?;
    let proof = ProofFile::read(&a.proof, &c.params)?;
    let dataset = a.dataset.as_deref().map(open_dataset).transpose()?;
    let started = Instant::now();
    let input = VerifyInput {
        header_hash: a.block.header,
        miner_id: a.block.miner.as_bytes(),
        start: &c.start,
        params: &c.params,
        target: expected(a.expected_steps)?,
        store: c.store.as_ref(),
        device: a.block.device,
    };
    let verdict = verify_file(&input, &proof, dataset.as_ref())?;
    println!(
        "valid     {} steps, work {}, opened {:?}; verified in {:.2} s",
        verdict.steps,
        verdict.work,
        verdict.opened,
        started.elapsed().as_secs_f64()
    );
    println!(
        "next      start {} (step {})",
        verdict.next.cid, verdict.next.steps
    );
    if a.quality {
        let decoded = proof.decoded(&c.params, dataset.as_ref())?;
        let scored = Instant::now();
        let assessment = work::assess::<GanTrainer>(
            &work::AssessInput {
                start: &c.start,
                params: &c.params,
                store: c.store.as_ref(),
                device: a.block.device,
            },
            &decoded,
        )?;
        println!(
            "quality   {:.4} -> {:.4} (lower is better); scored in {:.2} s",
            assessment.start_quality,
            assessment.end_quality,
            scored.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

pub fn audit(a: AuditArgs) -> Outcome {
    check_output(&a.fraud)?;
    set_threads(a.threads);
    let c = load(&a.block)?;
    let ds = open_dataset(&a.dataset)?;
    let file = ProofFile::read(&a.proof, &c.params)?;
    let target = expected(a.expected_steps)?;
    if !a.skip_verify {
        // A replay says whether the steps re-execute, not whether the block is valid: verify
        // first, so that an invalid proof is reported as such.
        let input = VerifyInput {
            header_hash: a.block.header,
            miner_id: a.block.miner.as_bytes(),
            start: &c.start,
            params: &c.params,
            target,
            store: c.store.as_ref(),
            device: a.block.device,
        };
        let verdict = verify_file(&input, &file, Some(&ds))?;
        println!("valid     {} steps; replaying", verdict.steps);
    }
    // Audits read the self-contained form (a record-free one is expanded from the dataset).
    let decoded = file.decoded(&c.params, Some(&ds))?;
    let proof = if file.record_free {
        std::borrow::Cow::Owned(decoded.to_bytes())
    } else {
        std::borrow::Cow::Borrowed(&file.bytes)
    };
    let bar = bar(0, "auditing");
    let input = AuditInput {
        header_hash: a.block.header,
        miner_id: a.block.miner.as_bytes(),
        start: &c.start_bytes,
        params: &c.params,
        target,
        dataset: &ds,
        store: c.store.as_ref(),
        device: a.block.device,
    };
    let mut report = |p: &work::AuditProgress| {
        bar.set_length(p.steps);
        bar.set_position(p.step);
    };
    let never = AtomicBool::new(false);
    let segment = match a.segment {
        SegmentChoice::All => None,
        SegmentChoice::Index(m) => Some(m),
        SegmentChoice::Random => Some(work::random_segment(
            work::segment_count(&c.params, decoded.steps)
                .map_err(|e| judged(work::VerifyError::from_error(e)))?,
        )),
    };
    let outcome = match segment {
        None => work::audit::<GanTrainer>(&input, &proof, &mut report, &never),
        Some(m) => {
            bar.println(format!("segment   {m}"));
            work::audit_segment::<GanTrainer>(&input, &proof, m, &mut report, &never)
        }
    };
    let outcome = match outcome {
        Ok(o) => {
            bar.finish_and_clear();
            o
        }
        Err(e) => {
            bar.abandon();
            return Err(judged(e));
        }
    };
    match outcome {
        AuditOutcome::Agrees { steps } => {
            println!("agrees    {steps} replayed steps re-execute to the committed digests");
            Ok(())
        }
        AuditOutcome::Fraud(fraud) => {
            write_atomic(&a.fraud, &fraud.to_bytes())?;
            Err(Failure::Rejected(format!(
                "step {} does not re-execute to its committed digest; fraud proof written to {}",
                fraud.opening.trajectory.step,
                a.fraud.display()
            )))
        }
        AuditOutcome::Cancelled { steps } => {
            Err(Failure::Error(format!("cancelled after {steps} steps")))
        }
    }
}
