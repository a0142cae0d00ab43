//! Fraud proofs: the opening of one step of a block whose re-execution does not give the digest
//! the block commits to. Any node checks one with a single step ([`verify_fraud_proof`]) and can
//! so convince every other node that the block is invalid.
//!
//! A fraud proof names its block by the block's identity ([`BlockProof::id`]), and is checked
//! against the identity of the block the chain accepted: a proof about other block bytes (a
//! fabricated block with the same header and miner) is refused.
//!
//! Encoding (little-endian): magic `PWFP`, format version `u32` (the protocol version of this
//! build; it proves blocks of every version it verifies), block identity, then the opening as
//! in the block proof.

use super::outcome::{StoreAnswers, VerifyError};
use super::params::ConsensusParams;
use super::proof::{decode_opening, encode_opening, BlockProof, ProofLimits};
use super::verify::node_checks;
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::{
    check_opening_proofs, fetch_checkpoint, BlobStore, DeviceChoice, ProofOfLearning, StepContext,
    StepOpening, TaskSpec,
};
use crate::version::PROTOCOL_VERSION;

const MAGIC: &[u8; 4] = b"PWFP";

/// A proof that step `opening.trajectory.step` of a block is wrong. Decoded from untrusted
/// bytes: only [`verify_fraud_proof`] makes it trustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FraudProof {
    /// The identity of the block it proves wrong ([`BlockProof::id`]).
    pub block_id: Digest,
    /// The wrong step, opened against the block's trajectory (its start checkpoint named by the
    /// auditor, who published it).
    pub opening: StepOpening,
}

impl FraudProof {
    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC).u32(PROTOCOL_VERSION).digest(&self.block_id);
        encode_opening(&mut e, &self.opening);
        e.finish()
    }

    /// Decodes untrusted bytes under the limits of proofs made under `params`.
    pub fn from_bytes<S: TaskSpec>(bytes: &[u8], params: &ConsensusParams<S>) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "fraud proof")?;
        let version = d.u32("fraud proof version")?;
        if version != PROTOCOL_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "fraud proof",
                found: version,
                supported: PROTOCOL_VERSION,
            });
        }
        let block_id = d.digest("block id")?;
        let opening = decode_opening(&mut d, &ProofLimits::of(params).opening)?;
        d.finish()?;
        Ok(FraudProof { block_id, opening })
    }
}

/// What a fraud proof is checked against: the chain's view of the block.
pub struct FraudCheckInput<'a, S: TaskSpec> {
    /// The consensus parameters the block was verified under.
    pub params: &'a ConsensusParams<S>,
    /// The identity of the block the chain accepted ([`BlockProof::id`] of its proof).
    pub block_id: Digest,
    /// The step counter of the block's start checkpoint (from the chain).
    pub start_steps: u64,
    /// Where the checkpoint the fraud proof names is fetched from.
    pub store: &'a dyn BlobStore,
    /// Where this node re-executes the step (a local choice: every device gives the same
    /// outcome).
    pub device: DeviceChoice,
}

/// Checks that `fraud_bytes` proves a step of the block `block_proof_bytes` wrong: the block's
/// identity is the one the chain accepted (`input.block_id`) and the one the fraud proof names;
/// the step's digests, prefix root and batch records are proven against the block's trajectory
/// and the dataset; its start checkpoint is fetched (at most the spec's checkpoint size) and
/// matches `d_{j-1}`; and re-executing it does not give `d_j` (or cannot be done: a wrong step
/// counter, a non-finite value, a degenerate state). Returns the step. Blocks of every protocol
/// version this build verifies are proven the same way.
///
/// An honest step is never proven wrong: its re-execution gives `d_j` on every device, and the
/// check errs with [`Error::NotFraud`].
///
/// Errs with [`VerifyError::Invalid`] when the fraud proof is invalid (it proves nothing, or not
/// about this block: reject it, and its sender), and [`VerifyError::Undecided`] when this node
/// could not check it (its store, its device).
pub fn verify_fraud_proof<P: ProofOfLearning>(
    input: &FraudCheckInput<'_, P::Spec>,
    block_proof_bytes: &[u8],
    fraud_bytes: &[u8],
) -> Result<u64, VerifyError> {
    node_checks(input.params)?;
    let store = StoreAnswers(input.store);
    let input = FraudCheckInput {
        params: input.params,
        block_id: input.block_id,
        start_steps: input.start_steps,
        store: &store,
        device: input.device,
    };
    check_fraud::<P>(&input, block_proof_bytes, fraud_bytes).map_err(VerifyError::from_error)
}

fn check_fraud<P: ProofOfLearning>(
    input: &FraudCheckInput<'_, P::Spec>,
    block_proof_bytes: &[u8],
    fraud_bytes: &[u8],
) -> Result<u64> {
    let params = input.params;
    let names = params.version().names();
    let block = BlockProof::from_bytes(block_proof_bytes, &ProofLimits::of(params))?;
    let fraud = FraudProof::from_bytes(fraud_bytes, params)?;
    let params_digest = params.digest();
    if block.params_digest != params_digest {
        return Err(Error::Binding {
            field: "parameters",
        });
    }
    let id = block.id();
    if id != input.block_id || fraud.block_id != id {
        return Err(Error::Binding {
            field: "block identity",
        });
    }
    let step = fraud.opening.trajectory.step;
    let ctx = StepContext {
        schedule: params.schedule(&block.header_hash, &block.miner_id),
        trajectory_root: block.trajectory_root,
        trajectory_len: block.steps.checked_add(1).ok_or(Error::InvalidField {
            what: "steps",
            detail: "too many".into(),
        })?,
        dataset_root: params.dataset_root,
    };
    let spec = &params.spec;
    let (seed, batch) = check_opening_proofs(spec.record_size(), &ctx, &fraud.opening)?;
    let before = step - 1; // >= 0: the opening verified a step in 1..=n
    let start = fetch_checkpoint(
        input.store,
        &fraud.opening.start,
        names,
        &fraud.opening.trajectory.prev,
        before,
        spec.checkpoint_size(),
    )?;
    let mut state = P::from_checkpoint(spec, &start, input.device)?;
    if Some(state.steps()) != input.start_steps.checked_add(before) {
        return Ok(step);
    }
    match state.step(&seed, &batch) {
        Ok(()) => {}
        Err(Error::NonFinite | Error::DegenerateState(_)) => return Ok(step),
        Err(e) => return Err(e),
    }
    if state.digest()? == fraud.opening.trajectory.next {
        Err(Error::NotFraud { step })
    } else {
        Ok(step)
    }
}
