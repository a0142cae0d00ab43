//! The verification entry points with their outcome flattened to `pouw::Result`, for tests that
//! assert which check refused a proof (the error's variant). Whether a failure is judged
//! invalid or undecided is tested on its own (`tests/outcomes.rs`).

use pouw::learning::ProofOfLearning;
use pouw::work::{
    AuditInput, AuditOutcome, AuditProgress, BlockProof, FraudCheckInput, Verdict, VerifyInput,
};
use pouw::{Dataset, Result};
use std::sync::atomic::AtomicBool;

/// [`pouw::work::verify`], flattened.
pub fn verify<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof_bytes: &[u8],
) -> Result<Verdict> {
    pouw::work::verify::<P>(input, proof_bytes).map_err(Into::into)
}

/// [`pouw::work::verify_proof`], flattened.
pub fn verify_proof<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    proof: &BlockProof,
) -> Result<Verdict> {
    pouw::work::verify_proof::<P>(input, proof).map_err(Into::into)
}

/// [`pouw::work::verify_record_free`], flattened.
pub fn verify_record_free<P: ProofOfLearning>(
    input: &VerifyInput<'_, P::Spec>,
    dataset: &Dataset,
    proof_bytes: &[u8],
) -> Result<Verdict> {
    pouw::work::verify_record_free::<P>(input, dataset, proof_bytes).map_err(Into::into)
}

/// [`pouw::work::audit`], flattened.
pub fn audit<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome> {
    pouw::work::audit::<P>(input, proof_bytes, progress, cancel).map_err(Into::into)
}

/// [`pouw::work::audit_segment`], flattened.
pub fn audit_segment<P: ProofOfLearning>(
    input: &AuditInput<'_, P::Spec>,
    proof_bytes: &[u8],
    segment: u64,
    progress: &mut dyn FnMut(&AuditProgress),
    cancel: &AtomicBool,
) -> Result<AuditOutcome> {
    pouw::work::audit_segment::<P>(input, proof_bytes, segment, progress, cancel)
        .map_err(Into::into)
}

/// [`pouw::work::verify_fraud_proof`], flattened.
pub fn verify_fraud_proof<P: ProofOfLearning>(
    input: &FraudCheckInput<'_, P::Spec>,
    block_proof_bytes: &[u8],
    fraud_bytes: &[u8],
) -> Result<u64> {
    pouw::work::verify_fraud_proof::<P>(input, block_proof_bytes, fraud_bytes).map_err(Into::into)
}
