//! Opening one training step so that a verifier can re-execute it, and the verifier.
//!
//! An opening carries: the trajectory digests `d_{j-1}`, `d_j` with their multiproof, and the
//! root `R_j` of the digests before the step with its consistency proof (the step's seed binds
//! `R_j`); the CID of the checkpoint `W_{j-1}` (fetched through a [`BlobStore`]), and for
//! the winning step the CID of `W_j` (where the next block's start can be fetched); the step's
//! batch records (each distinct index once, ascending) with one multiproof against the dataset
//! root. The verifier derives the step seed and the batch indices itself, so nothing in the
//! opening chooses what the step trains on.

use super::store::get_named;
use super::{
    checkpoint_digest, Batch, BlobStore, DeviceChoice, ProofOfLearning, Schedule, TaskSpec,
    Trajectory, TrajectoryOpening,
};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::{Cid, CidProfile};
use crate::merkle::{leaf_hash, verify_multiproof, MultiProof};

/// Everything a verifier needs to re-execute step `trajectory.step`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepOpening {
    /// `d_{j-1}`, `d_j` and their proof against the trajectory root.
    pub trajectory: TrajectoryOpening,
    /// CID of the checkpoint `W_{j-1}` the step starts from.
    pub start: Cid,
    /// CID of the checkpoint `W_j` (the winning step's only: the next block starts there).
    pub end: Option<Cid>,
    /// The batch's distinct records, ascending by index, concatenated.
    pub records: Vec<u8>,
    /// Multiproof of those records against the dataset root.
    pub records_proof: MultiProof,
}

/// The distinct indices of a batch, ascending.
pub(crate) fn distinct_sorted(indices: &[u64]) -> Vec<u64> {
    let mut unique = indices.to_vec();
    unique.sort_unstable();
    unique.dedup();
    unique
}

impl StepOpening {
    /// Opens step `step` of a run scheduled by `schedule`: `start` and `end` are the stored
    /// checkpoints around it.
    pub fn new(
        trajectory: &Trajectory,
        step: u64,
        schedule: &Schedule,
        dataset: &Dataset,
        start: Cid,
        end: Option<Cid>,
    ) -> Result<Self> {
        let opened = trajectory.open(step)?;
        let unique = distinct_sorted(&schedule.step(&opened.prefix_root, step)?.indices);
        let (records, records_proof) = dataset.prove(&unique)?;
        Ok(StepOpening {
            trajectory: opened,
            start,
            end,
            records: records.concat(),
            records_proof,
        })
    }
}

/// The public facts a step is verified against.
#[derive(Clone, Debug)]
pub struct StepContext {
    /// The block's schedule (anchor, batch size, dataset size).
    pub schedule: Schedule,
    /// The trajectory root.
    pub trajectory_root: Digest,
    /// Digests in the trajectory (steps + 1).
    pub trajectory_len: u64,
    /// The dataset root.
    pub dataset_root: Digest,
}

/// Checks the cheap parts of an opening (trajectory path, batch records against the dataset
/// root) and returns the step seed and the batch in drawn order.
pub(crate) fn check_opening_proofs(
    record_size: usize,
    ctx: &StepContext,
    opening: &StepOpening,
) -> Result<(Digest, Batch)> {
    let step = opening.trajectory.step;
    opening
        .trajectory
        .verify(&ctx.trajectory_root, ctx.trajectory_len)?;
    let scheduled = ctx.schedule.step(&opening.trajectory.prefix_root, step)?;
    let indices = scheduled.indices;
    let unique = distinct_sorted(&indices);
    if opening.records.len() != unique.len() * record_size {
        return Err(Error::WrongBatch(format!(
            "{} bytes of records, the step's {} distinct indices need {}",
            opening.records.len(),
            unique.len(),
            unique.len() * record_size
        )));
    }
    let leaves: Vec<Digest> = opening
        .records
        .chunks_exact(record_size)
        .map(leaf_hash)
        .collect();
    verify_multiproof(
        &ctx.dataset_root,
        ctx.schedule.dataset_len(),
        &unique,
        &leaves,
        &opening.records_proof,
    )?;
    let mut records = Vec::with_capacity(indices.len() * record_size);
    for i in &indices {
        // `unique` is the sorted, deduplicated `indices`, so every index is found.
        let at = unique
            .binary_search(i)
            .map_err(|_| Error::WrongBatch(format!("index {i}")))?;
        records.extend_from_slice(&opening.records[at * record_size..(at + 1) * record_size]);
    }
    Ok((
        scheduled.seed,
        Batch::from_records(indices, records, record_size)?,
    ))
}

/// Fetches a checkpoint of at most `limit` bytes and checks it is the one with digest
/// `expected` (`step`: the step whose result it is, for the error).
pub(crate) fn fetch_checkpoint(
    store: &dyn BlobStore,
    cid: &Cid,
    names: CidProfile,
    expected: &Digest,
    step: u64,
    limit: u64,
) -> Result<Vec<u8>> {
    let bytes = get_named(store, cid, limit, names, "start checkpoint")?;
    if checkpoint_digest(&bytes) != *expected {
        return Err(Error::CheckpointDigest { step });
    }
    Ok(bytes)
}

/// How a verifier re-executes the steps of one trajectory.
#[derive(Clone, Copy)]
pub struct Reexecution<'a> {
    /// Where start checkpoints are fetched from.
    pub store: &'a dyn BlobStore,
    /// The step counter of the trajectory's start checkpoint.
    pub start_steps: u64,
    /// How the proof's protocol version names checkpoints (one encoding per proof).
    pub names: CidProfile,
    /// Where steps run (a local choice).
    pub device: DeviceChoice,
}

/// Verifies one opened step of a trajectory re-executed as `how` says: proofs first, then the
/// start checkpoint, then re-execution.
pub fn verify_step<P: ProofOfLearning>(
    spec: &P::Spec,
    ctx: &StepContext,
    opening: &StepOpening,
    how: &Reexecution<'_>,
) -> Result<P> {
    let (seed, batch) = check_opening_proofs(spec.record_size(), ctx, opening)?;
    reexecute_step::<P>(spec, opening, &seed, &batch, how)
}

/// The expensive half of [`verify_step`], for callers that already ran
/// [`check_opening_proofs`] and hold its step seed and batch: fetches the start checkpoint `W_{j-1}`
/// (at most the spec's checkpoint size), checks its step counter is `start_steps + j - 1`,
/// re-executes the step and compares the digest of the result with `d_j`, bit for bit. Returns
/// the state after the step. The opening's start and end CIDs must be `how.names` names.
pub(crate) fn reexecute_step<P: ProofOfLearning>(
    spec: &P::Spec,
    opening: &StepOpening,
    seed: &Digest,
    batch: &Batch,
    how: &Reexecution<'_>,
) -> Result<P> {
    let state = how.fetch_state::<P>(spec, opening)?;
    reexecute_from(state, opening, seed, batch, how.names)
}

impl Reexecution<'_> {
    /// The state an opening starts from: its start checkpoint `W_{j-1}` fetched (at most the
    /// spec's checkpoint size), checked against `d_{j-1}`, decoded, and its step counter checked
    /// to be `start_steps + j - 1`. The half of [`reexecute_step`] a verifier may run ahead of
    /// the step before it.
    pub(crate) fn fetch_state<P: ProofOfLearning>(
        &self,
        spec: &P::Spec,
        opening: &StepOpening,
    ) -> Result<P> {
        let step = opening.trajectory.step;
        let before = step
            .checked_sub(1)
            .ok_or(Error::IndexOutOfRange { index: 0, size: 0 })?;
        let start = fetch_checkpoint(
            self.store,
            &opening.start,
            self.names,
            &opening.trajectory.prev,
            before,
            spec.checkpoint_size(),
        )?;
        let state = P::from_checkpoint(spec, &start, self.device)?;
        drop(start);
        // The digest binds the counter, which counts from the chain's first block: it must be
        // the one of this position in the trajectory.
        let expected = self
            .start_steps
            .checked_add(before)
            .ok_or(Error::StepCounter {
                step,
                found: state.steps(),
                expected: u64::MAX,
            })?;
        if state.steps() != expected {
            return Err(Error::StepCounter {
                step,
                found: state.steps(),
                expected,
            });
        }
        Ok(state)
    }
}

/// The other half of [`reexecute_step`]: runs the opened step on the state
/// [`Reexecution::fetch_state`] returned and compares the result's digest with `d_j` (and, for
/// the winning step, its CID with the opening's end CID, named as `names` names).
pub(crate) fn reexecute_from<P: ProofOfLearning>(
    mut state: P,
    opening: &StepOpening,
    seed: &Digest,
    batch: &Batch,
    names: CidProfile,
) -> Result<P> {
    let step = opening.trajectory.step;
    state.step(seed, batch)?;
    let Some(end) = opening.end else {
        // Only the digest is compared: it is hashed from the state, no bytes written.
        if state.digest()? != opening.trajectory.next {
            return Err(Error::StepMismatch { step });
        }
        return Ok(state);
    };
    let (bytes, digest) = state.checkpoint_with_digest()?;
    if digest != opening.trajectory.next {
        return Err(Error::StepMismatch { step });
    }
    // The end CID names the next block's start: it must be the re-executed checkpoint's, or
    // anyone could change it (and the proof's bytes) without the verifier noticing.
    if end != names.cid_of(&bytes) {
        return Err(Error::InvalidField {
            what: "end checkpoint",
            detail: format!("step {step}: not the CID of the re-executed checkpoint"),
        });
    }
    Ok(state)
}
