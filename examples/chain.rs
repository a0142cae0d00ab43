//! A chain of blocks, locally: `--miners` lanes (one miner id each, lockstep: the fewest steps
//! to a winning ticket wins, equal steps go to the tie-break by model quality) mine `--blocks`
//! consecutive blocks on one dataset, each from the previous winner's checkpoint. A separate
//! verifier checks every block and audits one segment of every `--audit-every`-th; the target
//! retargets every 4 blocks toward `--expected-steps` steps a block; each block is settled on
//! the next block's records (`pouw::work::settle`) and paid by the reference reward rule
//! (`pouw::work::reward`). Prints a row per settled block, draws `quality-by-block.png` and a
//! sample grid of the chain's model at the genesis and every `--grid-every` blocks, and
//! resumes where it stopped (its state is written atomically after every block).
//!
//! ```text
//! cargo run --release --example chain -- [--data digits|faces32|faces64|FOLDER] [--blocks N]
//!     [--miners M] [--expected-steps E] [--grid-every K] [--audit-every A] [--out DIR]
//!     [--all-lanes] [--full-improvement SCORE] [--max-adjustment-ppm PPM] [--fresh]
//! ```
//!
//! `--all-lanes` lets every lane finish its own block too and settles the losers on the same
//! later records, to measure what a miner would gain by racing several lanes and publishing the
//! best, or by withholding a poorly scoring block; it prints the table README quotes ("Reward
//! by quality and fork choice"). `POUW_THREADS` sets the intra-op threads (default 2).

mod support;

use pouw::hash::{tagged_hash, Digest};
use pouw::learning::gan::render::{sample_grid, write_png};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{BlobStore, DeviceChoice, DirStore, ProofOfLearning};
use pouw::work::{
    assess, audit_segment, break_tie, mine, random_segment, reward, segment_count, settle, verify,
    AssessInput, AuditInput, AuditOutcome, BlockProof, ConsensusParams, MineInput, MineOptions,
    MineOutcome, ProofLimits, QualityPoints, RewardRule, Start, Target, VerifyInput,
};
use pouw::{Dataset, Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;
use support::quality::Scorer;

/// Blocks between retargets.
const WINDOW: u64 = 4;
/// The block subsidy of the reward rule (units of the chain's coin).
const SUBSIDY: u64 = 1_000_000;

struct Args {
    data: String,
    blocks: u64,
    miners: u32,
    expected: u64,
    grid_every: u64,
    audit_every: u64,
    out: PathBuf,
    all_lanes: bool,
    rule: RewardRule,
}

fn args() -> Result<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| support::flag(&args, name);
    let number = |name: &str, default: u64| -> Result<u64> {
        match flag(name)? {
            None => Ok(default),
            Some(s) => s.parse().ok().filter(|n| *n >= 1).ok_or_else(|| {
                Error::InvalidParameters(format!("{name} takes a number, at least 1"))
            }),
        }
    };
    let data = flag("--data")?.unwrap_or_else(|| "digits".into());
    let full = match flag("--full-improvement")? {
        None => 0.04,
        Some(s) => s.parse::<f64>().map_err(|_| {
            Error::InvalidParameters("--full-improvement takes a score difference".into())
        })?,
    };
    let rule = RewardRule {
        max_adjustment_ppm: number("--max-adjustment-ppm", 250_000)? as u32,
        full_improvement: QualityPoints::from_score(full)?,
    };
    rule.validate()?;
    Ok(Args {
        out: flag("--out")?.map_or_else(|| PathBuf::from("out/chain").join(&data), PathBuf::from),
        data,
        blocks: number("--blocks", 8)?,
        miners: number("--miners", 3)? as u32,
        expected: number("--expected-steps", 16)?,
        grid_every: number("--grid-every", 4)?,
        audit_every: number("--audit-every", 2)?,
        all_lanes: args.iter().any(|a| a == "--all-lanes"),
        rule,
    })
}

/// One settled block: the table's row.
#[derive(Clone, Debug, Default)]
struct Row {
    height: u64,
    winner: u32,
    steps: u64,
    /// Settled scores of its start and winning checkpoints.
    start_quality: f64,
    end_quality: f64,
    /// The winning checkpoint's score on the fixed evaluation records (the chain's model).
    eval_quality: f64,
    reward: u64,
    mine_secs: f64,
    verify_secs: f64,
    audit_secs: f64,
    proof_bytes: u64,
    /// Improvement on its own capacity records (what its miner knew when publishing).
    private_delta: f64,
    /// Lanes that reached a winning ticket at the fewest steps (more than 1: a tie).
    contenders: u32,
}

impl Row {
    const FIELDS: usize = 13;

    fn to_line(&self) -> String {
        format!(
            "{} {} {} {:e} {:e} {:e} {} {:e} {:e} {:e} {} {:e} {}",
            self.height,
            self.winner,
            self.steps,
            self.start_quality,
            self.end_quality,
            self.eval_quality,
            self.reward,
            self.mine_secs,
            self.verify_secs,
            self.audit_secs,
            self.proof_bytes,
            self.private_delta,
            self.contenders
        )
    }

    fn from_line(line: &str) -> Result<Row> {
        let f: Vec<&str> = line.split_whitespace().collect();
        let bad = || Error::InvalidField {
            what: "chain state row",
            detail: line.to_owned(),
        };
        if f.len() != Row::FIELDS {
            return Err(bad());
        }
        let u = |i: usize| f[i].parse::<u64>().map_err(|_| bad());
        let x = |i: usize| f[i].parse::<f64>().map_err(|_| bad());
        Ok(Row {
            height: u(0)?,
            winner: u(1)? as u32,
            steps: u(2)?,
            start_quality: x(3)?,
            end_quality: x(4)?,
            eval_quality: x(5)?,
            reward: u(6)?,
            mine_secs: x(7)?,
            verify_secs: x(8)?,
            audit_secs: x(9)?,
            proof_bytes: u(10)?,
            private_delta: x(11)?,
            contenders: u(12)? as u32,
        })
    }
}

/// A lane's block at one height when every lane finishes (`--all-lanes`).
#[derive(Clone, Debug)]
struct Lane {
    height: u64,
    lane: u32,
    steps: u64,
    private_delta: f64,
    settled_delta: f64,
    won: bool,
}

/// The chain so far, as written to `state` after every block.
struct State {
    dataset_root: Digest,
    /// Blocks accepted.
    height: u64,
    target: Target,
    /// Winning steps summed over the current retarget window.
    window_steps: u64,
    /// Settled blocks.
    rows: Vec<Row>,
    /// The last block, accepted but not yet settled (its row's settled fields unset).
    pending: Option<Row>,
    lanes: Vec<Lane>,
}

fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Digest> {
    let mut d = [0u8; 32];
    if s.len() != 64 {
        return None;
    }
    for (i, b) in d.iter_mut().enumerate() {
        *b = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(d)
}

impl State {
    fn save(&self, path: &Path) -> Result<()> {
        let mut s = format!(
            "pouw-chain 1\ndataset {}\nheight {}\ntarget {}\nwindow {}\n",
            hex(&self.dataset_root),
            self.height,
            hex(&self.target.0),
            self.window_steps
        );
        for r in &self.rows {
            s += &format!("row {}\n", r.to_line());
        }
        if let Some(p) = &self.pending {
            s += &format!("pending {}\n", p.to_line());
        }
        for l in &self.lanes {
            s += &format!(
                "lane {} {} {} {:e} {:e} {}\n",
                l.height, l.lane, l.steps, l.private_delta, l.settled_delta, l.won as u8
            );
        }
        pouw::write_atomic(path, s.as_bytes())
    }

    fn load(path: &Path) -> Result<State> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let bad = |line: &str| Error::InvalidField {
            what: "chain state",
            detail: line.to_owned(),
        };
        let mut state = State {
            dataset_root: [0; 32],
            height: 0,
            target: Target::MAX,
            window_steps: 0,
            rows: Vec::new(),
            pending: None,
            lanes: Vec::new(),
        };
        let mut lines = text.lines();
        if lines.next() != Some("pouw-chain 1") {
            return Err(bad("first line"));
        }
        for line in lines {
            let (key, rest) = line.split_once(' ').ok_or_else(|| bad(line))?;
            match key {
                "dataset" => state.dataset_root = unhex(rest).ok_or_else(|| bad(line))?,
                "height" => state.height = rest.parse().map_err(|_| bad(line))?,
                "target" => state.target = Target(unhex(rest).ok_or_else(|| bad(line))?),
                "window" => state.window_steps = rest.parse().map_err(|_| bad(line))?,
                "row" => state.rows.push(Row::from_line(rest)?),
                "pending" => state.pending = Some(Row::from_line(rest)?),
                "lane" => {
                    let f: Vec<&str> = rest.split_whitespace().collect();
                    let u = |i: usize| f.get(i).and_then(|s| s.parse::<u64>().ok());
                    let x = |i: usize| f.get(i).and_then(|s| s.parse::<f64>().ok());
                    state.lanes.push(Lane {
                        height: u(0).ok_or_else(|| bad(line))?,
                        lane: u(1).ok_or_else(|| bad(line))? as u32,
                        steps: u(2).ok_or_else(|| bad(line))?,
                        private_delta: x(3).ok_or_else(|| bad(line))?,
                        settled_delta: x(4).ok_or_else(|| bad(line))?,
                        won: u(5).ok_or_else(|| bad(line))? == 1,
                    });
                }
                _ => return Err(bad(line)),
            }
        }
        Ok(state)
    }
}

/// The chain's files: checkpoints the chain keeps (starts, winners awaiting settlement) in
/// `chain/`, a block's mining artifacts in `block/` (removed once the block is settled and
/// audited), the state and the last blocks' proofs beside them.
struct Files {
    out: PathBuf,
    chain: DirStore,
}

impl Files {
    fn state(&self) -> PathBuf {
        self.out.join("state.txt")
    }
    fn start(&self, height: u64) -> PathBuf {
        self.out.join(format!("start-{height}.ckpt"))
    }
    fn proof(&self, height: u64, lane: u32) -> PathBuf {
        self.out.join(format!("proof-{height}-{lane}.bin"))
    }
    /// Removes the start and the proofs of `height`, and the winning checkpoints those proofs
    /// name, from the chain's store: settled and no longer a start.
    fn forget(&self, height: u64, lanes: u32, params: &ConsensusParams<GanSpec>) -> Result<()> {
        if let Ok(start) = std::fs::read(self.start(height)) {
            let _ = std::fs::remove_file(self.chain.path_of(&pouw::ident::cid_of(&start)));
            let _ = std::fs::remove_file(self.start(height));
        }
        for lane in 0..lanes {
            let path = self.proof(height, lane);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let proof = BlockProof::from_bytes(&bytes, &ProofLimits::of(params))?;
            if let Some(end) = proof.openings.last().and_then(|o| o.end) {
                let _ = std::fs::remove_file(self.chain.path_of(&end));
            }
            let _ = std::fs::remove_file(path);
        }
        Ok(())
    }

    fn read(path: &Path) -> Result<Vec<u8>> {
        std::fs::read(path).map_err(|e| Error::io(path, e))
    }
}

/// Reads what a block's miners published, then the chain's own checkpoints.
struct Both<'a>(&'a DirStore, &'a DirStore);

impl BlobStore for Both<'_> {
    fn put(&self, bytes: &[u8]) -> Result<pouw::ident::Cid> {
        self.0.put(bytes)
    }
    fn get_unchecked(&self, cid: &pouw::ident::Cid, limit: u64) -> Result<Vec<u8>> {
        self.0
            .get_unchecked(cid, limit)
            .or_else(|_| self.1.get_unchecked(cid, limit))
    }
}

fn header_of(parent: &Digest, height: u64) -> Digest {
    tagged_hash(
        "pouw-example/chain-header",
        &[parent, &height.to_le_bytes()],
    )
}

fn miner_id(lane: u32) -> Vec<u8> {
    format!("miner-{lane}").into_bytes()
}

fn main() -> Result<()> {
    let a = args()?;
    let threads = std::env::var("POUW_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    tch::set_num_threads(threads);
    if std::env::args().any(|x| x == "--fresh") {
        let _ = std::fs::remove_dir_all(&a.out);
    }
    std::fs::create_dir_all(&a.out).map_err(|e| Error::io(&a.out, e))?;
    let ds = support::data::named_dataset(&a.data, &a.out.join("dataset"))?;
    let spec = GanSpec::for_manifest(ds.manifest())?;
    let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
    params.min_steps = (a.expected / 2).max(1);
    params.max_steps = params.max_steps.max(64 * a.expected);
    let files = Files {
        out: a.out.clone(),
        chain: DirStore::new(a.out.join("chain"))?,
    };
    let mut state = if files.state().exists() {
        let s = State::load(&files.state())?;
        if s.dataset_root != ds.root() {
            return Err(Error::InvalidParameters(format!(
                "{} holds a chain on another dataset; pass --fresh or another --out",
                a.out.display()
            )));
        }
        println!("resuming at height {}", s.height);
        s
    } else {
        let genesis = GanTrainer::from_seed(&params.spec, &[0; 32], DeviceChoice::Cpu)?;
        let bytes = genesis.checkpoint()?;
        files.chain.put(&bytes)?;
        pouw::write_atomic(files.start(0), &bytes)?;
        write_grid(&genesis, &a.out, 0)?;
        State {
            dataset_root: ds.root(),
            height: 0,
            target: Target::from_expected_steps(a.expected),
            window_steps: 0,
            rows: Vec::new(),
            pending: None,
            lanes: Vec::new(),
        }
    };
    let scorer = Scorer::new(&ds)?;
    println!(
        "chain     {} records of {} bytes; generator {} / discriminator {} filters, batch {}; \
         {} miners, ~{} steps a block (at least {}); {threads} thread(s)",
        ds.len(),
        ds.record_size(),
        params.spec.g_filters,
        params.spec.d_filters,
        params.spec.batch_size,
        a.miners,
        a.expected,
        params.min_steps
    );
    print_header();
    for r in &state.rows {
        print_row(r);
    }
    let progress = support::Progress::new("mining", a.blocks);
    progress.update(state.height.min(a.blocks), "");
    while state.height < a.blocks {
        next_block(&a, &params, &ds, &files, &scorer, &progress, &mut state)?;
        progress.update(state.height, "");
        if let Some(r) = state.rows.last() {
            progress.suspend(|| print_row(r));
        }
    }
    progress.finish();
    plot(&a.out, &state.rows)?;
    summary(&state.rows);
    if a.all_lanes {
        manipulation(&state, &a.rule);
    }
    Ok(())
}

/// Mines, verifies, audits and settles the block at `state.height + 1`.
fn next_block(
    a: &Args,
    params: &ConsensusParams<GanSpec>,
    ds: &Dataset,
    files: &Files,
    scorer: &Scorer,
    progress: &support::Progress,
    state: &mut State,
) -> Result<()> {
    let height = state.height + 1;
    // The start is in the chain's store already: the genesis, or the last block's winner.
    let start_bytes = Files::read(&files.start(state.height))?;
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &start_bytes)?;
    let parent = match &state.pending {
        None => start.digest,
        Some(last) => BlockProof::from_bytes(
            &Files::read(&files.proof(last.height, last.winner))?,
            &ProofLimits::of(params),
        )?
        .id(),
    };
    let header = header_of(&parent, height);
    let block_dir = a.out.join("block");
    let _ = std::fs::remove_dir_all(&block_dir);
    let block_store = DirStore::new(&block_dir)?;
    let store = Both(&block_store, &files.chain);

    // The race: lanes in lockstep, so the fewest steps wins; each lane after the first mines
    // only up to the best so far (all the way with --all-lanes).
    let started = Instant::now();
    let mut found: Vec<(u32, pouw::work::MinedBlock)> = Vec::new();
    for lane in 0..a.miners {
        let best = found.iter().map(|(_, b)| b.proof.steps).min();
        let id = miner_id(lane);
        let input = MineInput {
            header_hash: header,
            miner_id: &id,
            start: &start_bytes,
            params,
            target: state.target,
            dataset: ds,
            store: &store,
        };
        let options = MineOptions {
            step_limit: match (a.all_lanes, best) {
                (false, Some(b)) => b,
                _ => params.max_steps,
            },
            device: DeviceChoice::Cpu,
            spill_dir: Some(block_dir.clone()),
            ..MineOptions::default()
        };
        if let MineOutcome::Found(b) = mine::<GanTrainer>(
            &input,
            options,
            &mut |p| {
                let note = format!("block {height}: miner {lane} at step {}", p.step);
                progress.update(state.height, &note)
            },
            &AtomicBool::new(false),
        )? {
            found.push((lane, *b));
        }
    }
    let mine_secs = started.elapsed().as_secs_f64();
    let fewest = found
        .iter()
        .map(|(_, b)| b.proof.steps)
        .min()
        .ok_or_else(|| Error::InvalidParameters("no lane found a block".into()))?;

    // Equal steps: the tie-break by model quality, pairwise.
    let scoring = AssessInput {
        start: &start,
        params,
        store: &store,
        device: DeviceChoice::Cpu,
    };
    let mut winner: Option<usize> = None;
    let mut contenders = 0;
    for (i, (_, b)) in found.iter().enumerate() {
        if b.proof.steps != fewest {
            continue;
        }
        contenders += 1;
        winner = Some(match winner {
            None => i,
            Some(w)
                if break_tie::<GanTrainer>(&scoring, &found[w].1.proof, &b.proof)?.prefers_b() =>
            {
                i
            }
            Some(w) => w,
        });
    }
    let w = winner.unwrap_or(0);
    let (lane, block) = &found[w];
    let proof_bytes = block.proof.to_bytes();

    // A separate verifier, and an audit of one segment drawn by its own randomness.
    let id = miner_id(*lane);
    let started = Instant::now();
    let verdict = verify::<GanTrainer>(
        &VerifyInput {
            header_hash: header,
            miner_id: &id,
            start: &start,
            params,
            target: state.target,
            store: &store,
            device: DeviceChoice::Cpu,
        },
        &proof_bytes,
    )
    .map_err(|e| e.into_error())?;
    let verify_secs = started.elapsed().as_secs_f64();
    let mut audit_secs = 0.0;
    if height.is_multiple_of(a.audit_every) {
        let started = Instant::now();
        let audit = AuditInput {
            header_hash: header,
            miner_id: &id,
            start: &start_bytes,
            params,
            target: state.target,
            dataset: ds,
            store: &store,
            device: DeviceChoice::Cpu,
        };
        let segment = random_segment(segment_count(params, block.proof.steps)?);
        match audit_segment::<GanTrainer>(
            &audit,
            &proof_bytes,
            segment,
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .map_err(|e| e.into_error())?
        {
            AuditOutcome::Agrees { .. } => {}
            other => {
                return Err(Error::InvalidParameters(format!(
                    "audit of block {height}: {other:?}"
                )))
            }
        }
        audit_secs = started.elapsed().as_secs_f64();
    }

    // Settle the previous block (and, with --all-lanes, its losing lanes) on this block's records.
    let winning = &block.winning_checkpoint;
    for (_, b) in found.iter().filter(|_| a.all_lanes) {
        files.chain.put(&b.winning_checkpoint)?;
    }
    files.chain.put(winning)?;
    if let Some(mut row) = state.pending.take() {
        let prev_start_bytes = Files::read(&files.start(row.height - 1))?;
        let prev_start = Start::of_checkpoint::<GanTrainer>(&params.spec, &prev_start_bytes)?;
        let prev_scoring = AssessInput {
            start: &prev_start,
            ..scoring
        };
        let later = std::slice::from_ref(&block.proof);
        let limits = ProofLimits::of(params);
        for l in state.lanes.iter_mut().filter(|l| l.height == row.height) {
            let p =
                BlockProof::from_bytes(&Files::read(&files.proof(row.height, l.lane))?, &limits)?;
            let s = settle::<GanTrainer>(&prev_scoring, &p, later)?;
            l.settled_delta = s.improvement();
        }
        let prev =
            BlockProof::from_bytes(&Files::read(&files.proof(row.height, row.winner))?, &limits)?;
        let settled = settle::<GanTrainer>(&prev_scoring, &prev, later)?;
        let (s, e) = settled.points()?;
        row.start_quality = settled.start_quality;
        row.end_quality = settled.end_quality;
        row.reward = reward(SUBSIDY, s, e, &a.rule)?;
        state.rows.push(row);
    }
    let private = assess::<GanTrainer>(&scoring, &block.proof)?;
    let model = GanTrainer::from_checkpoint(&params.spec, winning, DeviceChoice::Cpu)?;
    if a.all_lanes {
        for (l, b) in &found {
            state.lanes.push(Lane {
                height,
                lane: *l,
                steps: b.proof.steps,
                private_delta: assess::<GanTrainer>(&scoring, &b.proof)?.improvement(),
                settled_delta: f64::NAN,
                won: l == lane,
            });
        }
    }
    // Files first (a crash before the state is written repeats this block), then the state.
    pouw::write_atomic(files.start(height), winning)?;
    pouw::write_atomic(files.proof(height, *lane), &proof_bytes)?;
    if a.all_lanes {
        for (l, b) in found.iter().filter(|(l, _)| l != lane) {
            pouw::write_atomic(files.proof(height, *l), &b.proof.to_bytes())?;
        }
    }
    if height.is_multiple_of(a.grid_every) || height == a.blocks {
        write_grid(&model, &a.out, height)?;
    }
    state.pending = Some(Row {
        height,
        winner: *lane,
        steps: verdict.steps,
        eval_quality: scorer.score(&model)?,
        mine_secs,
        verify_secs,
        audit_secs,
        proof_bytes: proof_bytes.len() as u64,
        private_delta: private.improvement(),
        contenders,
        ..Row::default()
    });
    state.height = height;
    state.window_steps += verdict.steps;
    if height.is_multiple_of(WINDOW) {
        state.target = state
            .target
            .retarget(state.window_steps, WINDOW * a.expected);
        state.window_steps = 0;
    }
    state.save(&files.state())?;
    // What the chain no longer needs: this block's artifacts, older starts and proofs.
    let _ = std::fs::remove_dir_all(&block_dir);
    if height >= 2 {
        files.forget(height - 2, a.miners, params)?;
    }
    Ok(())
}

/// `samples-<height>.png`: a 6x6 grid of the chain's model at `height` (the same latent seed
/// every time, so grids compare).
fn write_grid(model: &GanTrainer, out: &Path, height: u64) -> Result<()> {
    let zoom = if model.spec().image_size <= 8 { 4 } else { 2 };
    let grid = sample_grid(model, &[3u8; 32], 6, 6, zoom)?;
    write_png(&grid, out.join(format!("samples-{height:05}.png")))
}

fn print_header() {
    println!(
        "{:>6} {:>6} {:>5} {:>9} {:>9} {:>9} {:>9} {:>8} {:>8} {:>7} {:>7}",
        "block",
        "winner",
        "steps",
        "before",
        "after",
        "model",
        "reward",
        "mine s",
        "verify s",
        "audit s",
        "proof"
    );
}

fn print_row(r: &Row) {
    println!(
        "{:>6} {:>6} {:>5} {:>9.5} {:>9.5} {:>9.5} {:>9} {:>8.1} {:>8.1} {:>7.1} {:>7}",
        r.height,
        format!("m{}", r.winner),
        r.steps,
        r.start_quality,
        r.end_quality,
        r.eval_quality,
        r.reward,
        r.mine_secs,
        r.verify_secs,
        r.audit_secs,
        r.proof_bytes
    );
}

/// Totals of the settled blocks, and how well a run's settled improvements add up to the
/// chain model's improvement on the fixed records.
fn summary(rows: &[Row]) {
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return;
    };
    let steps: u64 = rows.iter().map(|r| r.steps).sum();
    let sum = |f: fn(&Row) -> f64| rows.iter().map(f).sum::<f64>();
    let audited = rows.iter().filter(|r| r.audit_secs > 0.0).count();
    println!(
        "summary   {} settled blocks, {steps} steps; mining {:.2} s a step; verification {:.1} s \
         a block; audit {:.1} s an audited block ({audited}); proofs {:.0} bytes on average; \
         ties {} of {} heights",
        rows.len(),
        sum(|r| r.mine_secs) / steps.max(1) as f64,
        sum(|r| r.verify_secs) / rows.len() as f64,
        sum(|r| r.audit_secs) / audited.max(1) as f64,
        sum(|r| r.proof_bytes as f64) / rows.len() as f64,
        rows.iter().filter(|r| r.contenders > 1).count(),
        rows.len()
    );
    // The same model (block h's winner) scored on block h+1's records and on block h+2's.
    let noise: Vec<f64> = rows
        .windows(2)
        .map(|w| w[1].start_quality - w[0].end_quality)
        .collect();
    let settled: f64 = rows[1..]
        .iter()
        .map(|r| r.start_quality - r.end_quality)
        .sum();
    println!(
        "summary   blocks {} to {}: settled improvements sum to {settled:.4}; the model on the \
         fixed records {:.4} -> {:.4} ({:.4}); one model on two blocks' records differs by sd \
         {:.4}",
        first.height + 1,
        last.height,
        first.eval_quality,
        last.eval_quality,
        first.eval_quality - last.eval_quality,
        sd(&noise)
    );
}

fn sd(x: &[f64]) -> f64 {
    let m = mean(x);
    (x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
}

/// `quality-by-block.png`: the chain model's score on the fixed evaluation records, and each
/// block's settled scores before and after it.
fn plot(out: &Path, rows: &[Row]) -> Result<()> {
    let series = |f: fn(&Row) -> f64, color, thick, label: &str| support::Series {
        points: rows.iter().map(|r| (r.height as f64, f(r))).collect(),
        color,
        thick,
        label: Some(label.to_owned()),
    };
    let img = support::chart(
        "The chain's model by block (sliced Wasserstein, lower is better)",
        "block",
        "quality score",
        &[
            series(
                |r| r.eval_quality,
                [30, 90, 200],
                true,
                "model, fixed evaluation records",
            ),
            series(
                |r| r.start_quality,
                [150, 150, 150],
                false,
                "settled: before the block",
            ),
            series(
                |r| r.end_quality,
                [220, 80, 40],
                false,
                "settled: after the block",
            ),
        ],
        900,
        500,
    )?;
    write_png(&img, out.join("quality-by-block.png"))
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len().max(1) as f64
}

fn correlation(x: &[f64], y: &[f64]) -> f64 {
    let (mx, my) = (mean(x), mean(y));
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    cov / (vx * vy).sqrt()
}

/// The manipulation table (`--all-lanes`): what a miner gains by choosing among its lanes'
/// blocks or withholding a poorly scoring one, in the rule's rewards.
fn manipulation(state: &State, rule: &RewardRule) {
    let pay = |delta: f64| -> f64 {
        let base = QualityPoints::PER_UNIT * 1000;
        let end = (base as f64 - delta * QualityPoints::PER_UNIT as f64).round() as u64;
        reward(SUBSIDY, QualityPoints(base), QualityPoints(end), rule)
            .map_or(f64::NAN, |r| r as f64)
    };
    let settled: Vec<&Lane> = state
        .lanes
        .iter()
        .filter(|l| l.settled_delta.is_finite())
        .collect();
    let heights: std::collections::BTreeSet<u64> = settled.iter().map(|l| l.height).collect();
    let (mut first, mut by_private, mut oracle, mut min_steps, mut max_steps) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for h in &heights {
        let at: Vec<&&Lane> = settled.iter().filter(|l| l.height == *h).collect();
        let Some(w) = at.iter().find(|l| l.won) else {
            continue;
        };
        first.push(pay(w.settled_delta));
        let best = at
            .iter()
            .max_by(|x, y| x.private_delta.total_cmp(&y.private_delta));
        by_private.push(best.map_or(f64::NAN, |l| pay(l.settled_delta)));
        oracle.push(
            at.iter()
                .map(|l| pay(l.settled_delta))
                .fold(f64::MIN, f64::max),
        );
        min_steps.push(at.iter().map(|l| l.steps).min().unwrap_or(0) as f64);
        max_steps.push(at.iter().map(|l| l.steps).max().unwrap_or(0) as f64);
    }
    let private: Vec<f64> = settled.iter().map(|l| l.private_delta).collect();
    let later: Vec<f64> = settled.iter().map(|l| l.settled_delta).collect();
    println!(
        "manipulation ({} heights, {} lane blocks settled)",
        heights.len(),
        settled.len()
    );
    println!(
        "  settled improvement: mean {:.5}, sd {:.5}; own-records improvement: mean {:.5}, sd {:.5}; correlation {:.2}",
        mean(&later),
        sd(&later),
        mean(&private),
        sd(&private),
        correlation(&private, &later)
    );
    println!(
        "  reward a block: publish the first block {:.0}; wait for every lane and publish the best \
         by own records {:.0}; the best by the settled score (unknowable) {:.0}; waiting costs {:.2}x \
         the steps (mean slowest / fastest lane)",
        mean(&first),
        mean(&by_private),
        mean(&oracle),
        mean(&max_steps) / mean(&min_steps).max(1.0)
    );
    let mut winners: Vec<(f64, f64)> = settled
        .iter()
        .filter(|l| l.won)
        .map(|l| (l.private_delta, pay(l.settled_delta)))
        .collect();
    winners.sort_by(|x, y| x.0.total_cmp(&y.0));
    let quarter = winners.len() / 4;
    let low: Vec<f64> = winners[..quarter].iter().map(|w| w.1).collect();
    let rest: Vec<f64> = winners[quarter..].iter().map(|w| w.1).collect();
    println!(
        "  withholding: blocks in the lowest quarter by own records earn {:.0}, the rest {:.0}",
        mean(&low),
        mean(&rest)
    );
    // Per unit of mining time (one block's steps at the fastest lane), for a miner alone on
    // the chain (the best case for each strategy: with rivals, waiting or discarding also
    // risks losing the block).
    let waiting = mean(&max_steps) / mean(&min_steps).max(1.0);
    println!(
        "  reward per block time, a miner alone: publish every block {:.0}; discard the lowest quarter and mine again {:.0}; wait for every lane and publish the best {:.0}",
        mean(&first),
        mean(&rest) * rest.len() as f64 / winners.len().max(1) as f64,
        mean(&by_private) / waiting
    );
}
