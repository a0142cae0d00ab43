//! Auditing: every step of a block is deterministic from its start checkpoint, its seeds and the
//! dataset, so any node holding the dataset can replay the whole block from the trajectory
//! companion the miner published, and either confirm every digest or produce a compact
//! [`FraudProof`] for the first step whose digest differs. Sampling catches a fraction of faked
//! steps; auditing catches a single one.

use super::anchor;
use super::fraud::FraudProof;
use super::params::ConsensusParams;
use super::proof::{BlockProof, ProofLimits};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::{
    batch_indices, checkpoint_digest, get_named, step_seed, Batch, CheckpointStore,
    ProofOfLearning, StepOpening, TaskSpec, Trajectory,
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
    /// The dataset, on the auditor's disk.
    pub dataset: &'a Dataset,
    /// Where the trajectory companion is fetched from, and where the checkpoint a fraud proof
    /// names is published.
    pub store: &'a dyn CheckpointStore,
}

/// Reported after every replayed step.
#[derive(Clone, Copy, Debug)]
pub struct AuditProgress {
    /// Steps replayed.
    pub step: u64,
    /// Steps in the block.
    pub steps: u64,
}

/// How an audit ended.
#[derive(Clone, Debug)]
pub enum AuditOutcome {
    /// Every step re-executes to the digest the block commits to.
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
/// trajectory root and the start checkpoint); on the first step whose digest differs,
/// publishes the checkpoint it starts from (the replay's own, which matches the committed
/// `d_{j-1}`) and returns a fraud proof opening that step.
///
/// `cancel` is checked before every step; `progress` is called after every step.
pub fn audit<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome> {
    let params = input.params;
    params.validate()?;
    params
        .version()?
        .require_current("auditing under these parameters")?;
    let ds = input.dataset;
    if ds.root() != params.dataset_root || ds.len() != params.dataset_len {
        return Err(Error::InvalidParameters(
            "the dataset is not the one the parameters name".into(),
        ));
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
    if n == 0 || n > params.max_steps {
        return Err(Error::LimitExceeded {
            what: "steps",
            found: n,
            limit: params.max_steps,
        });
    }
    let companion = get_named(
        input.store,
        &proof.trajectory_cid,
        Trajectory::encoded_size(n + 1),
        params.version()?.names(),
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
        return Err(Error::Binding {
            field: "start checkpoint",
        });
    }
    let anchor = anchor(&params_digest, &input.header_hash, input.miner_id);
    let spec = &params.spec;
    let mut state = P::from_checkpoint(spec, input.start)?;
    let mut before = input.start.to_vec();
    for i in 1..=n {
        if cancel.load(Ordering::Relaxed) {
            return Ok(AuditOutcome::Cancelled { steps: i - 1 });
        }
        let seed = step_seed(&anchor, &trajectory.prefix_root(i)?, i);
        let batch = Batch::from_dataset(ds, &batch_indices(&seed, spec.batch_size(), ds.len())?)?;
        let stepped = state.step(&seed, &batch);
        let after = match stepped {
            Ok(()) => Some(state.checkpoint()?),
            // A state no device can continue from (a non-finite value): the step is wrong.
            Err(Error::NonFinite) => None,
            Err(e) => return Err(e),
        };
        let agrees = after
            .as_ref()
            .is_some_and(|bytes| trajectory.digest(i) == Some(&checkpoint_digest(bytes)));
        if !agrees {
            let start = input.store.put(&before)?;
            let opening =
                StepOpening::new(&trajectory, i, &anchor, ds, spec.batch_size(), start, None)?;
            return Ok(AuditOutcome::Fraud(Box::new(FraudProof {
                params_digest,
                header_hash: input.header_hash,
                miner_id: input.miner_id.to_vec(),
                trajectory_root: proof.trajectory_root,
                steps: n,
                opening,
            })));
        }
        before = after.unwrap_or_default();
        progress(&AuditProgress { step: i, steps: n });
    }
    Ok(AuditOutcome::Agrees { steps: n })
}
