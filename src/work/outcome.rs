//! Verification outcomes as types. A verification (of a block, a record-free block, a fraud
//! proof, or an audit's replay) ends in its result, or in one of two errors that a chain must
//! treat differently:
//! - [`VerifyError::Invalid`]: a [`Rejection`], a fact about the bytes checked, the consensus
//!   parameters and the chain's start alone, the same on every honest node whatever its store,
//!   threads, device or timing: reject the block (or the fraud proof), and remember it;
//! - [`VerifyError::Undecided`]: this node could not decide (a store miss, a timeout, a peer
//!   sending wrong bytes, I/O, cancellation, its device failing the self-test, its own dataset
//!   damaged or another, parameters this build cannot use): retry or fetch elsewhere, and never
//!   mark the block bad for it.
//!
//! Every [`Error`] variant is judged by one exhaustive match ([`judge`]); a new variant does
//! not compile until it is judged. What a store returns is undecided whatever it says
//! ([`StoreAnswers`] turns any other error from a store into [`Error::BadBlock`]), and
//! parameter problems found before checking are undecided ([`node_error`]), so a variant's
//! judgement holds wherever the error arises. The C API's `pouw_result_is_rejection` and Go's
//! `pouw.ErrInvalid` follow the same judgement.

use crate::error::Error;
use crate::ident::Cid;
use crate::learning::BlobStore;

/// Why a block or a fraud proof is invalid (see the module documentation).
#[derive(Debug)]
pub struct Rejection(Error);

impl Rejection {
    /// The error that says why.
    pub fn error(&self) -> &Error {
        &self.0
    }

    /// The error that says why, owned.
    pub fn into_error(self) -> Error {
        self.0
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A verification that reached no verdict: the block is invalid, or this node could not decide.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// The block (or fraud proof) is invalid, on every honest node.
    #[error("invalid: {0}")]
    Invalid(Rejection),
    /// This node could not decide; nothing is known about the block.
    #[error("could not decide: {0}")]
    Undecided(Error),
}

impl VerifyError {
    /// The outcome of a check that failed with `e`, as [`judge`] judges it.
    pub fn from_error(e: Error) -> Self {
        match judge(&e) {
            Judgement::Invalid => VerifyError::Invalid(Rejection(e)),
            Judgement::Undecided => VerifyError::Undecided(e),
        }
    }

    /// Whether the block (or fraud proof) is invalid.
    pub fn is_invalid(&self) -> bool {
        matches!(self, VerifyError::Invalid(_))
    }

    /// The error either way.
    pub fn error(&self) -> &Error {
        match self {
            VerifyError::Invalid(r) => r.error(),
            VerifyError::Undecided(e) => e,
        }
    }

    /// The error either way, owned.
    pub fn into_error(self) -> Error {
        match self {
            VerifyError::Invalid(r) => r.into_error(),
            VerifyError::Undecided(e) => e,
        }
    }
}

impl From<VerifyError> for Error {
    fn from(e: VerifyError) -> Self {
        e.into_error()
    }
}

/// How a failed verification is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// The checked bytes are invalid.
    Invalid,
    /// This node could not decide.
    Undecided,
}

/// How a verification that failed with `e` is judged: one exhaustive match, so that a new
/// variant must be judged before it compiles.
pub fn judge(e: &Error) -> Judgement {
    use Judgement::{Invalid, Undecided};
    match e {
        // The bytes checked: encodings, bounds, proofs, bindings, the re-executed steps.
        Error::Truncated { .. }
        | Error::TrailingBytes(_)
        | Error::BadMagic { .. }
        | Error::UnsupportedVersion { .. }
        | Error::LimitExceeded { .. }
        | Error::InvalidField { .. }
        | Error::IndexOutOfRange { .. }
        | Error::ProofLength { .. }
        | Error::RootMismatch
        | Error::IndicesNotAscending { .. }
        | Error::ConsistencyMismatch { .. }
        | Error::ChallengeIndexMismatch { .. }
        | Error::ChallengeCount { .. }
        | Error::RecordSize { .. }
        | Error::CheckpointTensor { .. }
        | Error::CheckpointDigest { .. }
        | Error::StepMismatch { .. }
        | Error::NonFinite
        | Error::DegenerateState(_)
        | Error::StepCounter { .. }
        | Error::NotFraud { .. }
        | Error::Binding { .. }
        | Error::TicketAboveTarget { .. }
        | Error::EarlierWinningTicket { .. }
        | Error::WrongBatch(_) => Invalid,
        // This node: its store and network, its disk and dataset, its device, its caller.
        Error::Io { .. }
        | Error::NotFound { .. }
        | Error::BadBlock { .. }
        | Error::Timeout { .. }
        | Error::Store { .. }
        | Error::Cancelled
        | Error::RecordCorrupt { .. }
        | Error::TreeCorrupt { .. }
        | Error::DatasetMismatch { .. }
        | Error::Import { .. }
        | Error::Locked { .. }
        | Error::LedgerRefused(_)
        | Error::Torch(_)
        | Error::DeviceArithmetic { .. }
        | Error::InvalidParameters(_) => Undecided,
    }
}

/// A problem of this node's found before checking anything (its parameters, its dataset): an
/// undecided outcome whatever the error's variant.
pub(crate) fn node_error(e: Error) -> VerifyError {
    match judge(&e) {
        Judgement::Undecided => VerifyError::Undecided(e),
        Judgement::Invalid => VerifyError::Undecided(Error::InvalidParameters(e.to_string())),
    }
}

/// A store whose every failure is judged undecided: an error a store returns that would
/// otherwise judge invalid (a size limit, a malformed answer) becomes [`Error::BadBlock`], since
/// a store's answer says nothing about the block.
pub(crate) struct StoreAnswers<'a>(pub &'a dyn BlobStore);

fn from_store(cid: &Cid, e: Error) -> Error {
    match judge(&e) {
        Judgement::Undecided => e,
        Judgement::Invalid => Error::BadBlock {
            cid: cid.to_string(),
            detail: format!("the store answered: {e}"),
        },
    }
}

impl BlobStore for StoreAnswers<'_> {
    fn put(&self, bytes: &[u8]) -> crate::error::Result<Cid> {
        self.0.put(bytes).map_err(|e| match judge(&e) {
            Judgement::Undecided => e,
            Judgement::Invalid => Error::Store {
                endpoint: "put".into(),
                detail: e.to_string(),
            },
        })
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> crate::error::Result<Vec<u8>> {
        self.0
            .get_unchecked(cid, limit)
            .map_err(|e| from_store(cid, e))
    }

    fn get(&self, cid: &Cid, limit: u64) -> crate::error::Result<Vec<u8>> {
        self.0.get(cid, limit).map_err(|e| from_store(cid, e))
    }

    fn prefetch(&self, cids: &[Cid], limit: u64, stop: &std::sync::atomic::AtomicBool) {
        self.0.prefetch(cids, limit, stop);
    }
}
