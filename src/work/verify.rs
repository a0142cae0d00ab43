//! Verification of a block proof, cheapest checks first: sizes and encoding, bindings
//! (parameters, header, miner, the chain's start digest), the opened-step set, the winning
//! ticket, every Merkle path, prefix root and dataset proof, the capacity response; only then
//! checkpoint fetches and re-execution, the winning step first, so that a forged proof costs
//! the verifier at most one checkpoint fetch and one step; then the trajectory companion (32
//! bytes a step: it must be published, for audits) and the other opened steps.

use super::difficulty::{Target, Work};
use super::outcome::{node_error, StoreAnswers, VerifyError};
use super::params::ConsensusParams;
use super::proof::{BlockProof, ProofLimits};
use super::record_free::RecordFreeProof;
use super::{check_first_ticket, opened_steps, Start};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::{Cid, CidProfile};
use crate::learning::{
    check_opening_proofs, fetch_checkpoint, get_named, reexecute_from, reexecute_step, Batch,
    BlobStore, DeviceChoice, ProofOfLearning, Reexecution, Schedule, StepContext, TaskSpec,
    Trajectory,
};
use crate::merkle::{leaf_hash, verify_inclusion};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What a verifier checks a proof against: the chain's view.
pub struct VerifyInput<'a, S: TaskSpec> {
    /// The header the proof must be bound to.
    pub header_hash: Digest,
    /// The miner the proof must be bound to.
    pub miner_id: &'a [u8],
    /// The block's start: the previous block's winning checkpoint (its digest and step counter
    /// come from the chain, not from the proof).
    pub start: &'a Start,
    /// The consensus parameters.
    pub params: &'a ConsensusParams<S>,
    /// The difficulty target.
    pub target: Target,
    /// Where checkpoints are fetched from (untrusted: bytes are checked against CIDs and digests,
    /// and no fetch exceeds the spec's checkpoint size).
    pub store: &'a dyn BlobStore,
    /// Where this node re-executes steps (a local choice: every device gives the same verdict).
    pub device: DeviceChoice,
}

/// An accepted block's facts.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Training steps in the block.
    pub steps: u64,
    /// Root of the dataset trained on.
    pub dataset_root: Digest,
    /// The work the block represents: the expected steps at its target, an exact integer that
    /// chains sum ([`Work::checked_add`]).
    pub work: Work,
    /// The steps re-executed, ascending (the winning step last).
    pub opened: Vec<u64>,
    /// The next block's start: the winning checkpoint's CID (as the proof names it), digest and
    /// step counter.
    pub next: Start,
}

/// What a verification is doing ([`VerifyProgress::phase`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VerifyPhase {
    /// Decoding and the cheap checks: bindings, opened steps, ticket, Merkle paths, capacity.
    Checks,
    /// Fetching an opened step's start checkpoint and re-executing the step.
    Step,
    /// Fetching and checking the trajectory companion (and every earlier ticket).
    Companion,
    /// Fetching the segment-start checkpoints and checking their digests.
    Segments,
}

/// A verification's progress, reported as it goes ([`verify_with`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifyProgress {
    /// What it is doing.
    pub phase: VerifyPhase,
    /// The step being re-executed (phase [`VerifyPhase::Step`]) or whose segment-start
    /// checkpoint is fetched (phase [`VerifyPhase::Segments`]), else 0.
    pub step: u64,
    /// Opened steps re-executed so far.
    pub done: u32,
    /// Opened steps in all (0 until the proof is decoded).
    pub total: u32,
    /// Bytes fetched from the store so far.
    pub fetched_bytes: u64,
}

/// A store that counts the bytes its gets return.
struct Counting<'a> {
    inner: &'a dyn BlobStore,
    bytes: AtomicU64,
}

impl BlobStore for Counting<'_> {
    fn put(&self, bytes: &[u8]) -> Result<crate::ident::Cid> {
        self.inner.put(bytes)
    }

    fn get_unchecked(&self, cid: &crate::ident::Cid, limit: u64) -> Result<Vec<u8>> {
        let bytes = self.inner.get_unchecked(cid, limit)?;
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    fn get(&self, cid: &crate::ident::Cid, limit: u64) -> Result<Vec<u8>> {
        let bytes = self.inner.get(cid, limit)?;
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    fn prefetch(&self, cids: &[crate::ident::Cid], limit: u64, stop: &AtomicBool) {
        self.inner.prefetch(cids, limit, stop);
    }
}

/// Sets its flag when dropped unless [`disarm`](Self::disarm)ed first: on every early way out
/// of a scope, errors and panics included.
struct SetUnlessDisarmed<'a>(Option<&'a AtomicBool>);

impl SetUnlessDisarmed<'_> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for SetUnlessDisarmed<'_> {
    fn drop(&mut self) {
        if let Some(flag) = self.0 {
            flag.store(true, Ordering::Relaxed);
        }
    }
}

/// The checks of this node's own inputs, before anything of the block: parameters this build
/// cannot use are undecided, not a rejection.
pub(crate) fn node_checks<S: TaskSpec>(params: &ConsensusParams<S>) -> Result<(), VerifyError> {
    params.validate().map_err(node_error)?;
    Ok(())
}

/// [`verify`], reporting its progress to `progress` and checking `cancel` before each fetch and
/// step (undecided, [`Error::Cancelled`], once it is set).
pub fn verify_with<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof_bytes: &[u8],
    progress: &mut dyn FnMut(&VerifyProgress),
    cancel: &AtomicBool,
) -> Result<Verdict, VerifyError> {
    node_checks(input.params)?;
    let store = StoreAnswers(input.store);
    let input = VerifyInput {
        store: &store,
        ..*input
    };
    BlockProof::from_bytes(proof_bytes, &ProofLimits::of(input.params))
        .and_then(|proof| verify_proof_with::<P>(&input, &proof, progress, cancel))
        .map_err(VerifyError::from_error)
}

/// Verifies a block proof given as untrusted bytes: the verdict, or why the block is invalid
/// ([`VerifyError::Invalid`]: reject it), or why this node could not decide
/// ([`VerifyError::Undecided`]: retry, fetch elsewhere; never mark the block bad for it).
pub fn verify<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof_bytes: &[u8],
) -> Result<Verdict, VerifyError> {
    verify_with::<P>(input, proof_bytes, &mut |_| {}, &AtomicBool::new(false))
}

/// Verifies a block proof given in its record-free form ([`RecordFreeProof`]) as untrusted
/// bytes, reading the records from `dataset` (the one the parameters commit to, else an
/// undecided [`Error::DatasetMismatch`]): the verdict is the self-contained form's.
pub fn verify_record_free<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    dataset: &Dataset,
    proof_bytes: &[u8],
) -> Result<Verdict, VerifyError> {
    verify_record_free_with::<P>(
        input,
        dataset,
        proof_bytes,
        &mut |_| {},
        &AtomicBool::new(false),
    )
}

/// [`verify_record_free`], reporting its progress to `progress` and checking `cancel` as
/// [`verify_with`] does.
pub fn verify_record_free_with<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    dataset: &Dataset,
    proof_bytes: &[u8],
    progress: &mut dyn FnMut(&VerifyProgress),
    cancel: &AtomicBool,
) -> Result<Verdict, VerifyError> {
    node_checks(input.params)?;
    let store = StoreAnswers(input.store);
    let input = VerifyInput {
        store: &store,
        ..*input
    };
    let mut verdict = || -> Result<Verdict> {
        let compact = RecordFreeProof::from_bytes(proof_bytes, &ProofLimits::of(input.params))?;
        // The cheap checks first: a forged proof costs no dataset reads.
        let claims = check_claims(&input, &compact.proof)?;
        let proof = compact.expand(input.params, dataset)?;
        verify_claimed::<P>(&input, &proof, claims, progress, cancel)
    };
    verdict().map_err(VerifyError::from_error)
}

/// Verifies a decoded block proof.
pub fn verify_proof<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof: &BlockProof,
) -> Result<Verdict, VerifyError> {
    node_checks(input.params)?;
    let store = StoreAnswers(input.store);
    verify_proof_with::<P>(
        &VerifyInput {
            store: &store,
            ..*input
        },
        proof,
        &mut |_| {},
        &AtomicBool::new(false),
    )
    .map_err(VerifyError::from_error)
}

fn verify_proof_with<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof: &BlockProof,
    progress: &mut dyn FnMut(&VerifyProgress),
    cancel: &AtomicBool,
) -> Result<Verdict> {
    let claims = check_claims(input, proof)?;
    verify_claimed::<P>(input, proof, claims, progress, cancel)
}

/// What [`check_claims`] derived from a proof's claims.
struct Claims {
    /// How the proof's version names files.
    names: CidProfile,
    /// The opened steps (the Fiat-Shamir choice).
    expected: Vec<u64>,
    /// The winning checkpoint's CID.
    winning_cid: Cid,
    /// The block's schedule (its anchor binds the parameters, header and miner).
    schedule: Schedule,
}

/// The checks that need neither a record nor a fetch: the parameters, the bindings, the step
/// count, the opened steps, the ticket and the end CIDs' places. A record-free proof passes them
/// before the verifier reads its dataset.
fn check_claims<S: TaskSpec>(input: &VerifyInput<'_, S>, proof: &BlockProof) -> Result<Claims> {
    let params = input.params;
    params.validate()?;
    let names = params.version().names();
    if proof.version != params.protocol_version {
        return Err(Error::UnsupportedVersion {
            what: "block proof under these parameters",
            found: proof.version.number(),
            supported: params.protocol_version.number(),
        });
    }
    let params_digest = params.digest();
    if proof.params_digest != params_digest {
        return Err(Error::Binding {
            field: "parameters",
        });
    }
    if proof.header_hash != input.header_hash {
        return Err(Error::Binding { field: "header" });
    }
    if proof.miner_id != input.miner_id {
        return Err(Error::Binding { field: "miner id" });
    }
    let n = proof.steps;
    if n < params.min_steps || n > params.max_steps {
        return Err(Error::LimitExceeded {
            what: "steps",
            found: n,
            limit: if n > params.max_steps {
                params.max_steps
            } else {
                params.min_steps
            },
        });
    }
    let expected = opened_steps(
        &proof.trajectory_root,
        &input.header_hash,
        n,
        params.opened_steps,
    )?;
    if proof.openings.len() != expected.len()
        || proof
            .openings
            .iter()
            .zip(&expected)
            .any(|(o, s)| o.trajectory.step != *s)
    {
        return Err(Error::InvalidField {
            what: "opened steps",
            detail: "not the Fiat-Shamir choice".into(),
        });
    }
    let Some(winning) = proof.openings.last() else {
        return Err(Error::InvalidField {
            what: "opened steps",
            detail: "no winning step".into(),
        });
    };
    let version = params.version();
    // The winning seed from the claimed prefix root (checked with the opening's proofs later).
    let schedule = params.schedule(&input.header_hash, input.miner_id);
    let winning_seed = schedule.seed(&winning.trajectory.prefix_root, n);
    if !input.target.is_met_by(&version.ticket(
        &input.header_hash,
        &winning_seed,
        &winning.trajectory.next,
    )) {
        return Err(Error::TicketAboveTarget { step: n });
    }
    let winning_cid = winning.end.ok_or(Error::InvalidField {
        what: "winning opening",
        detail: "no end checkpoint".into(),
    })?;
    if proof.openings[..proof.openings.len() - 1]
        .iter()
        .any(|o| o.end.is_some())
    {
        return Err(Error::InvalidField {
            what: "opened steps",
            detail: "an end checkpoint on a step other than the winning one".into(),
        });
    }
    Ok(Claims {
        names,
        expected,
        winning_cid,
        schedule,
    })
}

/// [`verify_proof_with`] once [`check_claims`] passed: the proofs, the capacity response, the
/// re-executed steps, the companion and the quality.
fn verify_claimed<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof: &BlockProof,
    claims: Claims,
    progress: &mut dyn FnMut(&VerifyProgress),
    cancel: &AtomicBool,
) -> Result<Verdict> {
    let Claims {
        names,
        expected,
        winning_cid,
        schedule,
    } = claims;
    let params = input.params;
    let n = proof.steps;
    let store = Counting {
        inner: input.store,
        bytes: AtomicU64::new(0),
    };
    let total = proof.openings.len() as u32;
    let mut report = |phase, step, done| {
        progress(&VerifyProgress {
            phase,
            step,
            done,
            total,
            fetched_bytes: store.bytes.load(Ordering::Relaxed),
        });
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(())
    };
    report(VerifyPhase::Checks, 0, 0)?;
    let Some((winning, others)) = proof.openings.split_last() else {
        return Err(Error::InvalidField {
            what: "opened steps",
            detail: "no winning step".into(),
        });
    };
    let len = n + 1;
    verify_inclusion(
        &proof.trajectory_root,
        len,
        0,
        &leaf_hash(&input.start.digest),
        &proof.start_proof,
    )
    .map_err(|_| Error::Binding {
        field: "start checkpoint",
    })?;
    let ctx = StepContext {
        schedule,
        trajectory_root: proof.trajectory_root,
        trajectory_len: len,
        dataset_root: params.dataset_root,
    };
    let batches = proof
        .openings
        .iter()
        .map(|opening| check_opening_proofs(params.spec.record_size(), &ctx, opening))
        .collect::<Result<Vec<_>>>()?;
    let challenge =
        params.capacity_challenge(&input.header_hash, input.miner_id, &proof.trajectory_root)?;
    challenge.verify(&proof.capacity)?;
    // Expensive part: the winning step first (a forged ticket costs one fetch and one step),
    // then the others.
    let spec = &params.spec;
    let how = Reexecution {
        store: &store,
        start_steps: input.start.steps,
        names,
        device: input.device,
    };
    let replay = |opening, (seed, batch): &(Digest, Batch)| {
        reexecute_step::<P>(spec, opening, seed, batch, &how)
    };
    report(VerifyPhase::Step, winning.trajectory.step, 0)?;
    let Some((winning_batch, other_batches)) = batches.split_last() else {
        return Err(Error::InvalidField {
            what: "opened steps",
            detail: "no winning step".into(),
        });
    };
    let end_state = replay(winning, winning_batch)?;
    let next_steps = end_state.steps();
    // Each state hands its working memory to the next one re-executed.
    let mut previous = Some(end_state);
    // The winning step holds: fetch the rest at once where the store can, beside the steps (a
    // forged proof never got this far, so it cannot make the verifier fetch more than one
    // checkpoint).
    let mut rest: Vec<Cid> = Vec::with_capacity(others.len() + proof.segments.len());
    for cid in others
        .iter()
        .map(|o| o.start)
        .chain(proof.segments.iter().copied())
    {
        if !rest.contains(&cid) {
            rest.push(cid);
        }
    }
    // The other opened steps' start checkpoints are fetched, checked, digested and decoded by a
    // helper thread from here on, one ahead of the step re-executed (handed over in order, so the
    // verdict and the first error are the sequential ones): the first while the companion is
    // fetched, each next while the step before it runs.
    // Set when a step fails (or the companion, or anything in between): a verification that
    // fails does not wait for the prefetch of checkpoints it no longer needs, nor fetch them.
    // One that passes lets it run on (the segment starts come last).
    let stop_prefetch = AtomicBool::new(false);
    let trajectory = std::thread::scope(|scope| -> Result<Trajectory> {
        let (ahead, fetched) = std::sync::mpsc::sync_channel(0);
        let how = &how;
        let rest = &rest;
        let stop = &stop_prefetch;
        scope.spawn(move || how.store.prefetch(rest, spec.checkpoint_size(), stop));
        let stop_on_failure = SetUnlessDisarmed(Some(stop));
        scope.spawn(move || {
            for opening in others {
                if cancel.load(Ordering::Relaxed)
                    || ahead.send(how.fetch_state::<P>(spec, opening)).is_err()
                {
                    return;
                }
            }
        });
        report(VerifyPhase::Companion, 0, 1)?;
        // The trajectory companion must be published (anyone may audit the block): n + 1
        // digests, 32 bytes a step, against the root, named as the proof's version names it.
        let companion = get_named(
            how.store,
            &proof.trajectory_cid,
            Trajectory::encoded_size(len),
            names,
            "trajectory companion",
        )?;
        let trajectory = Trajectory::from_bytes(&companion, len)?;
        if trajectory.root() != proof.trajectory_root {
            return Err(Error::InvalidField {
                what: "trajectory companion",
                detail: "its digests do not have the block's trajectory root".into(),
            });
        }
        drop(companion);
        // One block per ticket: no earlier step's ticket may beat the target.
        check_first_ticket(
            params.version(),
            &trajectory,
            &ctx.schedule,
            &input.header_hash,
            &input.target,
            params.min_steps,
        )?;
        for (i, (opening, (seed, batch))) in others.iter().zip(other_batches).enumerate() {
            report(VerifyPhase::Step, opening.trajectory.step, 1 + i as u32)?;
            // The helper stops early only when cancelled.
            let mut state: P = fetched.recv().map_err(|_| Error::Cancelled)??;
            if let Some(previous) = previous.take() {
                state.reuse_workspace(previous);
            }
            previous = Some(reexecute_from(state, opening, seed, batch, names)?);
        }
        stop_on_failure.disarm();
        Ok(trajectory)
    })?;
    // The segment starts: published, and each the committed checkpoint of its step, so that
    // any node can replay any segment (a miner who names another file is refused here).
    if let Some(c) = params.version().segment_steps(params.opened_steps) {
        for (m, cid) in (1u64..).zip(&proof.segments) {
            let step = m * c;
            // The start of an opened step `step + 1` was fetched and checked as `d_step` already.
            if proof
                .openings
                .iter()
                .any(|o| o.trajectory.step == step + 1 && o.start == *cid)
            {
                continue;
            }
            report(VerifyPhase::Segments, step, total)?;
            let expected = trajectory.digest(step).ok_or(Error::IndexOutOfRange {
                index: step,
                size: len,
            })?;
            fetch_checkpoint(&store, cid, names, expected, step, spec.checkpoint_size())?;
        }
    }
    Ok(Verdict {
        steps: n,
        dataset_root: params.dataset_root,
        work: Work::of(&input.target),
        opened: expected,
        next: Start {
            cid: winning_cid,
            digest: winning.trajectory.next,
            steps: next_steps,
        },
    })
}
