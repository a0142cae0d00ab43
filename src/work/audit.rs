//! Auditing: every step of a block is deterministic from its start checkpoint, its seeds and the
//! dataset, so any node holding the dataset can replay the block from the trajectory companion
//! the miner published, and either confirm every digest or produce a compact [`FraudProof`] for
//! the first step whose digest differs.
//!
//! Two scopes: [`audit`] replays the whole block; [`audit_segment`] replays one segment of
//! `c = opened_steps + 1` steps from the segment-start checkpoint the proof names (protocol 5
//! on), chosen by the auditor's own randomness ([`random_segment`]) so the miner cannot know
//! which. Sampling by the Fiat-Shamir openings lets one faked step through with probability
//! about `1 - k/n`; across `N` nodes each checking one random segment of `S`, it survives with
//! probability `(1 - 1/S)^N` (README "Security argument").

use super::check_first_ticket;
use super::difficulty::Target;
use super::fraud::FraudProof;
use super::outcome::{StoreAnswers, VerifyError};
use super::params::ConsensusParams;
use super::proof::{segment_starts, BlockProof, ProofLimits};
use super::verify::node_checks;
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::CidProfile;
use crate::learning::{
    checkpoint_digest, fetch_checkpoint, get_named, BlobStore, DeviceChoice, ProofOfLearning,
    Schedule, StepOpening, TaskSpec, Trajectory,
};
use std::sync::atomic::{AtomicBool, Ordering};

/// What an auditor replays a block from.
pub struct AuditInput<'a, S: TaskSpec> {
    /// The header the block is bound to.
    pub header_hash: Digest,
    /// The miner the block is bound to.
    pub miner_id: &'a [u8],
    /// Bytes of the block's start checkpoint (the previous block's winning checkpoint).
    pub start: &'a [u8],
    /// The consensus parameters.
    pub params: &'a ConsensusParams<S>,
    /// The block's difficulty target (every ticket before the winning one must miss it).
    pub target: Target,
    /// The dataset, on the auditor's disk.
    pub dataset: &'a Dataset,
    /// Where the trajectory companion and the segment starts are fetched from, and where the
    /// checkpoint a fraud proof names is published.
    pub store: &'a dyn BlobStore,
    /// Where this node replays steps (a local choice: every device gives the same outcome).
    pub device: DeviceChoice,
}

/// Reported after every replayed step.
#[derive(Clone, Copy, Debug)]
pub struct AuditProgress {
    /// The step just replayed.
    pub step: u64,
    /// Steps in the block.
    pub steps: u64,
}

/// How an audit ended.
#[derive(Clone, Debug)]
pub enum AuditOutcome {
    /// Every replayed step re-executes to the digest the block commits to.
    Agrees {
        /// Steps replayed.
        steps: u64,
    },
    /// A step does not: the proof of it, for [`super::verify_fraud_proof`].
    Fraud(Box<FraudProof>),
    /// `cancel` was set.
    Cancelled {
        /// Steps replayed before the cancellation was seen.
        steps: u64,
    },
}

/// Replays the block `proof_bytes` step by step from its start checkpoint. Fetches the
/// trajectory companion the proof names (exactly `n + 1` digests, checked against the
/// trajectory root and the start checkpoint) and checks that no ticket before the winning one
/// beats the target (protocol 5 on); on the first step whose digest differs, publishes the
/// checkpoint it starts from (the replay's own, which matches the committed `d_{j-1}`) and
/// returns a fraud proof opening that step. Blocks of every protocol version this build
/// verifies are audited.
///
/// `cancel` is checked before every step; `progress` is called after every step.
///
/// Errs with [`VerifyError::Invalid`] when the block itself is invalid before any step (its
/// bindings, companion or tickets), and [`VerifyError::Undecided`] when this node could not
/// replay it (its dataset, its store, its device, cancellation is an outcome instead).
pub fn audit<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome, VerifyError> {
    judged(input, |input| {
        let block = Prepared::new(input, proof_bytes)?;
        let n = block.proof.steps;
        let state = P::from_checkpoint(&input.params.spec, input.start, input.device)?;
        block.replay(input, state, input.start.to_vec(), 0, n, progress, cancel)
    })
}

/// Runs `check` on `input` after this node's own checks, with every store answer undecided,
/// and judges its failure.
fn judged<S: TaskSpec>(
    input: &AuditInput<'_, S>,
    check: impl FnOnce(&AuditInput<'_, S>) -> Result<AuditOutcome>,
) -> Result<AuditOutcome, VerifyError> {
    node_checks(input.params)?;
    let store = StoreAnswers(input.store);
    check(&AuditInput {
        store: &store,
        ..*input
    })
    .map_err(VerifyError::from_error)
}

/// The segments a block of `steps` steps has under `params`: `ceil(steps / c)` with
/// `c = opened_steps + 1` (protocol 5 on); 1 for older versions, whose proofs name no segment
/// starts (their one segment is the whole block).
pub fn segment_count<S: TaskSpec>(params: &ConsensusParams<S>, steps: u64) -> Result<u64> {
    Ok(match params.version().segment_steps(params.opened_steps) {
        Some(c) => segment_starts(steps, c) + 1,
        None => 1,
    })
}

/// A segment index in `0..count` drawn from this process's own randomness (the operating
/// system's, through the standard library's hasher keys): what a node uses for
/// [`audit_segment`], so that no miner can predict which segment it replays.
pub fn random_segment(count: u64) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    if count <= 1 {
        return 0;
    }
    // Rejection sampling on 64 random bits: unbiased.
    let zone = u64::MAX - u64::MAX % count;
    let state = std::collections::hash_map::RandomState::new();
    let mut counter = 0u64;
    loop {
        let mut h = state.build_hasher();
        h.write_u64(counter);
        let r = h.finish();
        if r < zone {
            return r % count;
        }
        counter += 1;
    }
}

/// Replays segment `segment` (of [`segment_count`]) of the block `proof_bytes`: steps
/// `segment * c + 1 ..= min((segment + 1) * c, n)` from the segment-start checkpoint the proof
/// names (the block's start for segment 0), after the same checks as [`audit`]. The segment
/// start must be the committed checkpoint (else [`Error::CheckpointDigest`]); one that holds
/// another step counter than its position makes its segment's first step the fraud. Choose
/// `segment` with [`random_segment`]: its unpredictability is what makes one faked step likely
/// to be found across many nodes. Errs as [`audit`] does; a segment index out of range is
/// invalid (every node computes the same count).
pub fn audit_segment<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    segment: u64,
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome, VerifyError> {
    judged(input, |input| {
        replay_segment::<P>(input, proof_bytes, segment, progress, cancel)
    })
}

fn replay_segment<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    segment: u64,
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome> {
    let block = Prepared::new(input, proof_bytes)?;
    let params = input.params;
    let n = block.proof.steps;
    let count = segment_count(params, n)?;
    if segment >= count {
        return Err(Error::IndexOutOfRange {
            index: segment,
            size: count,
        });
    }
    let spec = &params.spec;
    let start = P::from_checkpoint(spec, input.start, input.device)?;
    let c = params
        .version()
        .segment_steps(params.opened_steps)
        .unwrap_or(n);
    let first = segment * c;
    let last = (first + c).min(n);
    if segment == 0 {
        return block.replay(
            input,
            start,
            input.start.to_vec(),
            0,
            last,
            progress,
            cancel,
        );
    }
    let start_steps = start.steps();
    drop(start);
    let cid = &block.proof.segments[segment as usize - 1];
    let expected = block.digest(first)?;
    let bytes = fetch_checkpoint(
        input.store,
        cid,
        block.names,
        &expected,
        first,
        spec.checkpoint_size(),
    )?;
    let state = P::from_checkpoint(spec, &bytes, input.device)?;
    if Some(state.steps()) != start_steps.checked_add(first) {
        // The committed checkpoint holds another counter: its next step cannot be honest.
        return block.fraud(input, first + 1, &bytes);
    }
    block.replay(input, state, bytes, first, last, progress, cancel)
}

/// A decoded block whose companion and bindings were checked.
struct Prepared {
    proof: BlockProof,
    trajectory: Trajectory,
    schedule: Schedule,
    names: CidProfile,
}

impl Prepared {
    /// Decodes the proof, checks its bindings and length, fetches the companion and checks it
    /// against the root, the start and the first-ticket rule.
    fn new<S: TaskSpec>(input: &AuditInput<'_, S>, proof_bytes: &[u8]) -> Result<Self> {
        let params = input.params;
        params.validate()?;
        let version = params.version();
        let ds = input.dataset;
        if ds.root() != params.dataset_root || ds.len() != params.dataset_len {
            return Err(Error::DatasetMismatch {
                path: ds.dir().to_path_buf(),
                detail: "not the dataset the consensus parameters commit to".into(),
            });
        }
        let proof = BlockProof::from_bytes(proof_bytes, &ProofLimits::of(params))?;
        let params_digest = params.digest();
        if proof.params_digest != params_digest {
            return Err(Error::Binding {
                field: "parameters",
            });
        }
        if proof.header_hash != input.header_hash || proof.miner_id != input.miner_id {
            return Err(Error::Binding {
                field: "header or miner id",
            });
        }
        let n = proof.steps;
        if n == 0 || n < params.min_steps || n > params.max_steps {
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
        let names = version.names();
        let companion = get_named(
            input.store,
            &proof.trajectory_cid,
            Trajectory::encoded_size(n + 1),
            names,
            "trajectory companion",
        )?;
        let trajectory = Trajectory::from_bytes(&companion, n + 1)?;
        if trajectory.root() != proof.trajectory_root {
            return Err(Error::InvalidField {
                what: "trajectory companion",
                detail: "its digests do not have the block's trajectory root".into(),
            });
        }
        if trajectory.digest(0) != Some(&checkpoint_digest(input.start)) {
            // `verify` binds d_0 to the chain's start: the start given here is another.
            return Err(Error::InvalidParameters(
                "the start checkpoint given is not the block's (d_0 differs)".into(),
            ));
        }
        let schedule = params.schedule(&input.header_hash, input.miner_id);
        check_first_ticket(
            version,
            &trajectory,
            &schedule,
            &input.header_hash,
            &input.target,
            params.min_steps,
        )?;
        Ok(Prepared {
            proof,
            trajectory,
            schedule,
            names,
        })
    }

    /// The committed digest `d_i`.
    fn digest(&self, i: u64) -> Result<Digest> {
        self.trajectory
            .digest(i)
            .copied()
            .ok_or(Error::IndexOutOfRange {
                index: i,
                size: self.trajectory.len(),
            })
    }

    /// The fraud proof of step `step`, whose start checkpoint `before` is published first.
    fn fraud<S: TaskSpec>(
        &self,
        input: &AuditInput<'_, S>,
        step: u64,
        before: &[u8],
    ) -> Result<AuditOutcome> {
        let start = input.store.put(before)?;
        let opening = StepOpening::new(
            &self.trajectory,
            step,
            &self.schedule,
            input.dataset,
            start,
            None,
        )?;
        Ok(AuditOutcome::Fraud(Box::new(FraudProof {
            block_id: self.proof.id(),
            opening,
        })))
    }

    /// Replays steps `from + 1 ..= to` from `state` (whose checkpoint is `before`, committed as
    /// `d_from`), comparing every digest with the companion's.
    #[allow(clippy::too_many_arguments)]
    fn replay<P: ProofOfLearning>(
        &self,
        input: &AuditInput<'_, P::Spec>,
        mut state: P,
        mut before: Vec<u8>,
        from: u64,
        to: u64,
        progress: &mut dyn FnMut(&AuditProgress),
        cancel: &AtomicBool,
    ) -> Result<AuditOutcome> {
        let ds = input.dataset;
        let n = self.proof.steps;
        for i in from + 1..=to {
            if cancel.load(Ordering::Relaxed) {
                return Ok(AuditOutcome::Cancelled {
                    steps: i - 1 - from,
                });
            }
            let (seed, batch) = self.schedule.batch_of(&self.trajectory, i, ds)?;
            let after = match state.step(&seed, &batch) {
                Ok(()) => Some(state.checkpoint_with_digest()?),
                // A state no device continues from (a non-finite value, a degenerate state):
                // the step is wrong.
                Err(Error::NonFinite | Error::DegenerateState(_)) => None,
                Err(e) => return Err(e),
            };
            let agrees = after
                .as_ref()
                .is_some_and(|(_, digest)| *digest == self.digest(i).unwrap_or_default());
            let Some((after, _)) = after.filter(|_| agrees) else {
                return self.fraud(input, i, &before);
            };
            before = after;
            progress(&AuditProgress { step: i, steps: n });
        }
        Ok(AuditOutcome::Agrees { steps: to - from })
    }
}
