//! Verification of a block proof, cheapest checks first: sizes and encoding, bindings
//! (parameters, header, miner, start), the opened-step set, the winning ticket, every Merkle
//! path and dataset proof, the capacity response; only then checkpoint fetches and re-execution.

use super::difficulty::{ticket, Target};
use super::params::ConsensusParams;
use super::proof::{BlockProof, ProofLimits};
use super::{anchor, capacity_epoch, opened_steps};
use crate::capacity::CapacityChallenge;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::Cid;
use crate::learning::{
    check_opening_proofs, checkpoint_digest, fetch_checkpoint, reexecute_step, Batch,
    CheckpointStore, ProofOfLearning, StepContext, TaskSpec,
};
use crate::merkle::{leaf_hash, verify_inclusion};

/// What a verifier checks a proof against.
pub struct VerifyInput<'a, S: TaskSpec> {
    /// The header the proof must be bound to.
    pub header_hash: Digest,
    /// The miner the proof must be bound to.
    pub miner_id: &'a [u8],
    /// CID of the start checkpoint the chain expects (the previous block's winning checkpoint).
    pub start: &'a Cid,
    /// The consensus parameters.
    pub params: &'a ConsensusParams<S>,
    /// The difficulty target.
    pub target: Target,
    /// Where checkpoints are fetched from (untrusted: bytes are checked against CIDs).
    pub store: &'a dyn CheckpointStore,
}

/// An accepted block's facts.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    /// Training steps in the block.
    pub steps: u64,
    /// Root of the dataset trained on.
    pub dataset_root: Digest,
    /// Quality score of the start checkpoint (lower is better).
    pub start_quality: f64,
    /// Quality score of the winning checkpoint.
    pub end_quality: f64,
    /// Expected steps per block at the target: the work the block represents.
    pub work: f64,
    /// The steps re-executed.
    pub opened: Vec<u64>,
    /// CID of the winning checkpoint, the next block's start.
    pub winning_checkpoint: Cid,
    /// Digest of the winning checkpoint.
    pub winning_digest: Digest,
}

/// Verifies a block proof given as untrusted bytes.
pub fn verify<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof_bytes: &[u8],
) -> Result<Verdict> {
    let params = input.params;
    let proof = BlockProof::from_bytes(proof_bytes, &ProofLimits::of(params))?;
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
    if n == 0 || n > params.max_steps {
        return Err(Error::LimitExceeded {
            what: "steps",
            found: n,
            limit: params.max_steps,
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
    let winning = proof.openings.last().expect("at least the winning step");
    if !input
        .target
        .is_met_by(&ticket(&input.header_hash, &winning.trajectory.next))
    {
        return Err(Error::TicketAboveTarget { step: n });
    }
    let winning_cid = winning.end.ok_or(Error::InvalidField {
        what: "winning opening",
        detail: "no end checkpoint".into(),
    })?;
    let len = n + 1;
    verify_inclusion(
        &proof.trajectory_root,
        len,
        0,
        &leaf_hash(&proof.start_digest),
        &proof.start_proof,
    )?;
    let anchor = anchor(&params_digest, &input.header_hash, input.miner_id);
    let ctx = StepContext {
        anchor,
        trajectory_root: proof.trajectory_root,
        trajectory_len: len,
        dataset_root: params.dataset_root,
        dataset_len: params.dataset_len,
    };
    let batches = proof
        .openings
        .iter()
        .map(|opening| {
            check_opening_proofs(
                params.spec.batch_size(),
                params.spec.record_size(),
                &ctx,
                opening,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let challenge = CapacityChallenge::new(
        &input.header_hash,
        input.miner_id,
        &params.dataset_root,
        params.dataset_len,
        params.spec.record_size() as u64,
        capacity_epoch(&proof.trajectory_root),
        params.capacity_challenges,
    )?;
    challenge.verify(&proof.capacity)?;

    // Expensive part: fetch checkpoints and re-execute.
    let start = input
        .store
        .get(input.start, crate::learning::MAX_CHECKPOINT_BYTES)?;
    if checkpoint_digest(&start) != proof.start_digest {
        return Err(Error::Binding {
            field: "start checkpoint",
        });
    }
    for (opening, (seed, batch)) in proof.openings.iter().zip(&batches) {
        reexecute_step::<P>(&params.spec, opening, seed, batch, input.store)?;
    }
    let end = fetch_checkpoint(input.store, &winning_cid, &winning.trajectory.next, n)?;
    let reference = Batch::from_records(
        proof.capacity.indices.clone(),
        proof.capacity.records.concat(),
        params.spec.record_size(),
    )?;
    let start_quality =
        P::from_checkpoint(&params.spec, &start)?.quality(&proof.trajectory_root, &reference)?;
    let end_quality =
        P::from_checkpoint(&params.spec, &end)?.quality(&proof.trajectory_root, &reference)?;
    Ok(Verdict {
        steps: n,
        dataset_root: params.dataset_root,
        start_quality,
        end_quality,
        work: input.target.expected_steps(),
        opened: expected,
        winning_checkpoint: winning_cid,
        winning_digest: winning.trajectory.next,
    })
}
