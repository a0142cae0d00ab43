//! The C result codes: stable numbers, never reused.

use pouw::Error;

/// The result of every fallible `pouw_*` call. Numbers are stable across versions and never
/// reused; new codes are only added.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PouwResult {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 1,
    /// An argument is out of its domain (a length, a count, an unknown option).
    InvalidArgument = 2,
    /// The library panicked; the call had no effect. Please report it.
    Panic = 3,
    /// A file operation failed.
    Io = 4,
    /// The caller's output buffer is too small.
    BufferTooSmall = 5,
    /// The call was cancelled.
    Cancelled = 6,
    /// Untrusted bytes ended early.
    Truncated = 100,
    /// Bytes remained after a complete value.
    TrailingBytes = 101,
    /// Wrong magic bytes.
    BadMagic = 102,
    /// An encoding version this build does not read.
    UnsupportedVersion = 103,
    /// A count or length over its bound.
    LimitExceeded = 104,
    /// A field outside its domain.
    InvalidField = 105,
    /// A leaf index beyond the tree.
    IndexOutOfRange = 200,
    /// A Merkle proof of the wrong length.
    ProofLength = 201,
    /// A Merkle proof that does not reach the root.
    RootMismatch = 202,
    /// Indices not strictly ascending.
    IndicesNotAscending = 203,
    /// A consistency proof that fails.
    ConsistencyMismatch = 204,
    /// A record that does not match its leaf.
    RecordCorrupt = 300,
    /// A corrupt or stale tree file.
    TreeCorrupt = 301,
    /// A dataset that disagrees with its manifest.
    DatasetMismatch = 302,
    /// A malformed import source.
    Import = 303,
    /// A capacity response for other indices.
    ChallengeIndexMismatch = 400,
    /// A capacity response with the wrong number of answers.
    ChallengeCount = 401,
    /// A record of the wrong size.
    RecordSize = 402,
    /// Unusable parameters.
    InvalidParameters = 403,
    /// A checkpoint tensor missing, unexpected, mis-shaped or not finite.
    CheckpointTensor = 500,
    /// A fetched checkpoint is not the one the trajectory commits to.
    CheckpointDigest = 501,
    /// A re-executed step gives another checkpoint digest.
    StepMismatch = 502,
    /// A re-executed step lands outside the tolerance.
    OutsideTolerance = 503,
    /// A batch that does not match the step.
    WrongBatch = 504,
    /// libtorch reported an error.
    Torch = 505,
    /// A block proof bound to other parameters, header, miner or start checkpoint.
    Binding = 506,
    /// The winning ticket does not beat the target.
    TicketAboveTarget = 507,
    /// Any other error.
    Other = 999,
}

impl PouwResult {
    /// The code of a library error.
    pub fn from_error(e: &Error) -> Self {
        use PouwResult as R;
        match e {
            Error::Io { .. } => R::Io,
            Error::Truncated { .. } => R::Truncated,
            Error::TrailingBytes(_) => R::TrailingBytes,
            Error::BadMagic { .. } => R::BadMagic,
            Error::UnsupportedVersion { .. } => R::UnsupportedVersion,
            Error::LimitExceeded { .. } => R::LimitExceeded,
            Error::InvalidField { .. } => R::InvalidField,
            Error::IndexOutOfRange { .. } => R::IndexOutOfRange,
            Error::ProofLength { .. } => R::ProofLength,
            Error::RootMismatch => R::RootMismatch,
            Error::IndicesNotAscending { .. } => R::IndicesNotAscending,
            Error::ConsistencyMismatch { .. } => R::ConsistencyMismatch,
            Error::RecordCorrupt { .. } => R::RecordCorrupt,
            Error::TreeCorrupt { .. } => R::TreeCorrupt,
            Error::DatasetMismatch { .. } => R::DatasetMismatch,
            Error::Import { .. } => R::Import,
            Error::ChallengeIndexMismatch { .. } => R::ChallengeIndexMismatch,
            Error::ChallengeCount { .. } => R::ChallengeCount,
            Error::RecordSize { .. } => R::RecordSize,
            Error::InvalidParameters(_) => R::InvalidParameters,
            Error::CheckpointTensor { .. } => R::CheckpointTensor,
            Error::CheckpointDigest { .. } => R::CheckpointDigest,
            Error::StepMismatch { .. } => R::StepMismatch,
            Error::OutsideTolerance { .. } => R::OutsideTolerance,
            Error::WrongBatch(_) => R::WrongBatch,
            Error::Torch(_) => R::Torch,
            Error::Binding { .. } => R::Binding,
            Error::TicketAboveTarget { .. } => R::TicketAboveTarget,
            _ => R::Other,
        }
    }

    /// A short, static description of the code.
    pub fn message(self) -> &'static str {
        use PouwResult as R;
        match self {
            R::Ok => "success",
            R::NullArgument => "a required pointer argument was NULL",
            R::InvalidArgument => "an argument is out of its domain",
            R::Panic => "internal error (panic); the call had no effect",
            R::Io => "file operation failed",
            R::BufferTooSmall => "output buffer too small",
            R::Cancelled => "cancelled",
            R::Truncated => "input ended early",
            R::TrailingBytes => "bytes after the encoded value",
            R::BadMagic => "bad magic bytes",
            R::UnsupportedVersion => "unsupported encoding version",
            R::LimitExceeded => "a count or length is over its limit",
            R::InvalidField => "a field is out of its domain",
            R::IndexOutOfRange => "leaf index out of range",
            R::ProofLength => "Merkle proof has the wrong length",
            R::RootMismatch => "Merkle proof does not reach the root",
            R::IndicesNotAscending => "indices are not strictly ascending",
            R::ConsistencyMismatch => "consistency proof fails",
            R::RecordCorrupt => "record does not match its Merkle leaf",
            R::TreeCorrupt => "tree file corrupt or stale",
            R::DatasetMismatch => "dataset does not match its manifest",
            R::Import => "malformed import source",
            R::ChallengeIndexMismatch => "capacity response answers other indices",
            R::ChallengeCount => "capacity response has the wrong number of answers",
            R::RecordSize => "record has the wrong size",
            R::InvalidParameters => "invalid parameters",
            R::CheckpointTensor => "checkpoint tensor missing, unexpected, mis-shaped or not finite",
            R::CheckpointDigest => "checkpoint does not match the trajectory",
            R::StepMismatch => "re-executed step gives another checkpoint",
            R::OutsideTolerance => "re-executed step outside the tolerance",
            R::WrongBatch => "batch does not match the step",
            R::Torch => "libtorch error",
            R::Binding => "proof bound to other parameters, header, miner or start",
            R::TicketAboveTarget => "winning ticket not below the target",
            R::Other => "other error",
        }
    }
}
