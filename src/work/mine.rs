//! Mining: train from the start checkpoint until a step's ticket beats the target.

use super::difficulty::{ticket, Target};
use super::kept::Kept;
use super::opened_steps;
use super::params::ConsensusParams;
use super::proof::{segment_starts, BlockProof};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::{
    checkpoint_digest, BlobStore, DeviceChoice, ProofOfLearning, Schedule, StepOpening, TaskSpec,
    Trajectory,
};
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// What a miner mines on.
pub struct MineInput<'a, S: TaskSpec> {
    /// The header the block commits to.
    pub header_hash: Digest,
    /// The miner's identity (at most 256 bytes).
    pub miner_id: &'a [u8],
    /// Bytes of the start checkpoint `W_0` (the previous block's winning checkpoint).
    pub start: &'a [u8],
    /// The consensus parameters.
    pub params: &'a ConsensusParams<S>,
    /// The difficulty target.
    pub target: Target,
    /// The dataset on the miner's disk.
    pub dataset: &'a Dataset,
    /// Where the opened steps' checkpoints are published.
    pub store: &'a dyn BlobStore,
}

/// Mining knobs that do not change the proof.
///
/// While it trains, a miner keeps checkpoints so that opening a step replays from the nearest
/// kept one instead of from the start: every `checkpoint_interval`-th, at most `max_kept` of
/// them (when a long block would keep more, the spacing doubles and every other one is
/// dropped, so an opening replays fewer than `max(checkpoint_interval, 2 n / max_kept)` steps
/// of an `n`-step block). They stay in memory when `max_kept` of them fit in `kept_memory`
/// bytes, else they go to a private directory under `spill_dir` (at most `max_kept` files of
/// the spec's checkpoint size), removed when mining returns. Beyond them, mining holds about
/// four checkpoints' worth at its peak (the training state, the last checkpoint, a replayed
/// state and its bytes) plus the step's working memory.
#[derive(Clone, Debug)]
pub struct MineOptions {
    /// Give up after this many steps (at most the parameters' `max_steps`).
    pub step_limit: u64,
    /// Keep every this-many-th checkpoint (to start with).
    pub checkpoint_interval: u64,
    /// Most checkpoints kept (at least 2).
    pub max_kept: usize,
    /// Memory the kept checkpoints may take; above it they are spilled to disk.
    pub kept_memory: u64,
    /// Where to spill (the system's temporary directory when `None`).
    pub spill_dir: Option<PathBuf>,
    /// Where to train (CUDA device 0 when available by default).
    pub device: DeviceChoice,
}

impl Default for MineOptions {
    /// Every checkpoint (writing one costs far less than replaying a step), at most 64, in
    /// memory up to 256 MiB.
    fn default() -> Self {
        MineOptions {
            step_limit: u64::MAX,
            checkpoint_interval: 1,
            max_kept: 64,
            kept_memory: 256 << 20,
            spill_dir: None,
            device: DeviceChoice::Auto,
        }
    }
}

/// Reported after every step.
#[derive(Clone, Debug)]
pub struct MineProgress {
    /// Steps done.
    pub step: u64,
    /// That step's ticket.
    pub ticket: Digest,
}

/// A found block.
#[derive(Clone, Debug)]
pub struct MinedBlock {
    /// The proof to publish.
    pub proof: BlockProof,
    /// Bytes of the winning checkpoint `W_n`: the next block's start.
    pub winning_checkpoint: Vec<u8>,
}

/// How mining ended.
#[derive(Clone, Debug)]
pub enum MineOutcome {
    /// A step beat the target.
    Found(Box<MinedBlock>),
    /// The step limit came first; the last state's digest is `last_digest`.
    StepLimit {
        /// Steps trained.
        steps: u64,
        /// Digest of the last checkpoint.
        last_digest: Digest,
    },
    /// `cancel` was set.
    Cancelled {
        /// Steps trained before the cancellation was seen.
        steps: u64,
    },
}

/// Trains from `input.start` until a step's ticket (from the parameters' `min_steps` on) is
/// below the target (the first such ticket ends the block: verifiers check every earlier one),
/// then builds the proof: the winning step and the Fiat-Shamir-chosen steps opened with their
/// batch records, the checkpoints they start from, the segment starts and the trajectory
/// companion published to the store, and the capacity response.
///
/// `cancel` is checked before every step; `progress` is called after every step.
pub fn mine<P: ProofOfLearning>(
    input: &MineInput<'_, P::Spec>,
    options: MineOptions,
    progress: &mut dyn FnMut(&MineProgress),
    cancel: &AtomicBool,
) -> Result<MineOutcome> {
    let params = input.params;
    params.validate()?;
    params
        .version()
        .require_current("mining under these parameters")?;
    let ds = input.dataset;
    if ds.root() != params.dataset_root
        || ds.len() != params.dataset_len
        || ds.cid() != *params.spec.dataset()
    {
        return Err(Error::InvalidParameters(
            "the dataset is not the one the parameters name".into(),
        ));
    }
    let params_digest = params.digest();
    let schedule = params.schedule(&input.header_hash, input.miner_id);
    let limit = options.step_limit.min(params.max_steps);
    let spec = &params.spec;
    let spill_dir = options.spill_dir.clone().unwrap_or_else(std::env::temp_dir);
    let mut kept = Kept::new(
        options.checkpoint_interval,
        options.max_kept,
        spec.checkpoint_size(),
        options.kept_memory,
        &spill_dir,
    )?;

    let mut state = P::from_checkpoint(spec, input.start, options.device)?;
    let mut trajectory = Trajectory::new(checkpoint_digest(input.start));
    let mut last_digest = checkpoint_digest(input.start);
    let mut found = None;
    for i in 1..=limit {
        if cancel.load(Ordering::Relaxed) {
            return Ok(MineOutcome::Cancelled { steps: i - 1 });
        }
        // The trajectory holds d_0 .. d_{i-1}.
        let (seed, batch) = schedule.batch_of(&trajectory, i, ds)?;
        state.step(&seed, &batch)?;
        // The bytes are written only for a checkpoint kept or published; the digest is hashed
        // from the state in place otherwise.
        let bytes;
        (bytes, last_digest) = if kept.wants(i) {
            let (bytes, d) = state.checkpoint_with_digest()?;
            (Some(bytes), d)
        } else {
            (None, state.digest()?)
        };
        trajectory.push(last_digest);
        let t = ticket(&input.header_hash, &seed, &last_digest);
        progress(&MineProgress { step: i, ticket: t });
        if i >= params.min_steps && input.target.is_met_by(&t) {
            found = Some((i, bytes));
            break;
        }
        if let Some(bytes) = bytes {
            kept.offer(i, &bytes, &last_digest)?;
        }
    }
    let Some((n, written)) = found else {
        return Ok(MineOutcome::StepLimit {
            steps: trajectory.steps(),
            last_digest,
        });
    };

    // The winning checkpoint, published with the block; the state's working memory serves the
    // openings' replays.
    let last = match written {
        Some(bytes) => bytes,
        None => state.checkpoint()?,
    };
    let mut workspace = Some(state);
    let root = trajectory.root();
    let replay = Replay {
        spec,
        schedule: &schedule,
        dataset: ds,
        trajectory: &trajectory,
        start: input.start,
        last: (n, &last),
        kept: &kept,
        device: options.device,
    };
    let mut openings = Vec::new();
    for j in opened_steps(&root, &input.header_hash, n, params.opened_steps)? {
        let start = input
            .store
            .put(&replay.checkpoint(j - 1, &mut workspace)?)?;
        let end = if j == n {
            Some(input.store.put(&replay.checkpoint(j, &mut workspace)?)?)
        } else {
            None
        };
        openings.push(StepOpening::new(&trajectory, j, &schedule, ds, start, end)?);
    }
    // Every c-th checkpoint before the winning step, for segment checks (protocol 5 on).
    let mut segments = Vec::new();
    if let Some(c) = params.version().segment_steps(params.opened_steps) {
        for m in 1..=segment_starts(n, c) {
            segments.push(
                input
                    .store
                    .put(&replay.checkpoint(m * c, &mut workspace)?)?,
            );
        }
    }
    let challenge = params.capacity_challenge(&input.header_hash, input.miner_id, &root)?;
    let proof = BlockProof {
        version: params.protocol_version,
        params_digest,
        header_hash: input.header_hash,
        miner_id: input.miner_id.to_vec(),
        start_proof: trajectory.prove(0)?,
        steps: n,
        trajectory_root: root,
        trajectory_cid: input.store.put(&trajectory.to_bytes())?,
        segments,
        openings,
        capacity: challenge.respond(ds)?,
    };
    Ok(MineOutcome::Found(Box::new(MinedBlock {
        proof,
        winning_checkpoint: last,
    })))
}

/// Rebuilds checkpoints of the run from the nearest kept one by re-executing steps.
struct Replay<'a, S> {
    spec: &'a S,
    schedule: &'a Schedule,
    dataset: &'a Dataset,
    trajectory: &'a Trajectory,
    /// Step 0's checkpoint.
    start: &'a [u8],
    /// The last step and its checkpoint.
    last: (u64, &'a [u8]),
    kept: &'a Kept,
    device: DeviceChoice,
}

impl<'a, S: TaskSpec> Replay<'a, S> {
    /// The checkpoint after `step`; a replay's state takes over `workspace`'s working memory
    /// and leaves itself there for the next one.
    fn checkpoint<P: ProofOfLearning<Spec = S>>(
        &self,
        step: u64,
        workspace: &mut Option<P>,
    ) -> Result<Cow<'a, [u8]>> {
        if step == self.last.0 {
            return Ok(Cow::Borrowed(self.last.1));
        }
        let (from, bytes) = match self.kept.nearest(step)? {
            Some((from, bytes)) => (from, Cow::Owned(bytes)),
            None => (0, Cow::Borrowed(self.start)),
        };
        if from == step {
            return Ok(bytes);
        }
        let mut state = P::from_checkpoint(self.spec, &bytes, self.device)?;
        drop(bytes);
        if let Some(previous) = workspace.take() {
            state.reuse_workspace(previous);
        }
        for i in from + 1..=step {
            let (seed, batch) = self.schedule.batch_of(self.trajectory, i, self.dataset)?;
            state.step(&seed, &batch)?;
        }
        let (bytes, digest) = state.checkpoint_with_digest()?;
        if self.trajectory.digest(step) != Some(&digest) {
            return Err(Error::StepMismatch { step });
        }
        *workspace = Some(state);
        Ok(Cow::Owned(bytes))
    }
}
