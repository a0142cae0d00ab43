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
    /// Mining reached its step limit without finding a block.
    StepLimit = 7,
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
    /// A growing dataset held by another writer.
    Locked = 304,
    /// A growth ledger refuses a block's entry, or a revert of entries it did not apply.
    LedgerRefused = 305,
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
    // 503 was `OUTSIDE_TOLERANCE` (tolerance verification, removed in protocol 3); retired.
    /// A batch that does not match the step.
    WrongBatch = 504,
    /// libtorch reported an error.
    Torch = 505,
    /// A block proof bound to other parameters, header, miner or start checkpoint.
    Binding = 506,
    /// The winning ticket does not beat the target.
    TicketAboveTarget = 507,
    /// Training met an infinite or NaN value.
    NonFinite = 508,
    /// The device fails the exact-arithmetic self-test (flushes subnormals, rounds otherwise).
    DeviceArithmetic = 509,
    /// The checkpoint a step starts from holds another step counter than its position implies.
    StepCounter = 510,
    /// A fraud proof names a step that re-executes to the committed digest.
    NotFraud = 511,
    /// A step before the claimed winning one already beat the target.
    EarlierWinningTicket = 512,
    /// A step from a degenerate state (dead, sparse or saturated layers) or one that changed nothing.
    DegenerateState = 513,
    /// The store holds nothing under a CID the call needed (fetch it again elsewhere).
    NotFound = 600,
    /// A store or node sent bytes that are not the block asked for (ban the peer).
    BadBlock = 601,
    /// A store or node did not answer in time (fetch again).
    Timeout = 602,
    /// A store or node is unreachable or refused the request.
    Store = 603,
    /// Any other error.
    Other = 999,
}

impl PouwResult {
    /// Whether a verification that returned this code found the block (or fraud proof)
    /// invalid: the codes of the errors `pouw::work::judge` judges invalid. Any other failure
    /// means this node could not decide (retry, fetch elsewhere; never mark the block bad). One
    /// exhaustive match: a new code does not compile until it is judged.
    pub fn is_rejection(self) -> bool {
        use PouwResult as R;
        match self {
            R::Truncated
            | R::TrailingBytes
            | R::BadMagic
            | R::UnsupportedVersion
            | R::LimitExceeded
            | R::InvalidField
            | R::IndexOutOfRange
            | R::ProofLength
            | R::RootMismatch
            | R::IndicesNotAscending
            | R::ConsistencyMismatch
            | R::ChallengeIndexMismatch
            | R::ChallengeCount
            | R::RecordSize
            | R::CheckpointTensor
            | R::CheckpointDigest
            | R::StepMismatch
            | R::WrongBatch
            | R::Binding
            | R::TicketAboveTarget
            | R::NonFinite
            | R::StepCounter
            | R::NotFraud
            | R::EarlierWinningTicket
            | R::DegenerateState => true,
            R::Ok
            | R::NullArgument
            | R::InvalidArgument
            | R::Panic
            | R::Io
            | R::BufferTooSmall
            | R::Cancelled
            | R::StepLimit
            | R::RecordCorrupt
            | R::TreeCorrupt
            | R::DatasetMismatch
            | R::Import
            | R::Locked
            | R::LedgerRefused
            | R::InvalidParameters
            | R::Torch
            | R::DeviceArithmetic
            | R::NotFound
            | R::BadBlock
            | R::Timeout
            | R::Store
            | R::Other => false,
        }
    }
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
            Error::Locked { .. } => R::Locked,
            Error::ChallengeIndexMismatch { .. } => R::ChallengeIndexMismatch,
            Error::ChallengeCount { .. } => R::ChallengeCount,
            Error::RecordSize { .. } => R::RecordSize,
            Error::InvalidParameters(_) => R::InvalidParameters,
            Error::LedgerRefused(_) => R::LedgerRefused,
            Error::CheckpointTensor { .. } => R::CheckpointTensor,
            Error::CheckpointDigest { .. } => R::CheckpointDigest,
            Error::StepMismatch { .. } => R::StepMismatch,
            Error::NonFinite => R::NonFinite,
            Error::EarlierWinningTicket { .. } => R::EarlierWinningTicket,
            Error::DegenerateState(_) => R::DegenerateState,
            Error::DeviceArithmetic { .. } => R::DeviceArithmetic,
            Error::StepCounter { .. } => R::StepCounter,
            Error::NotFraud { .. } => R::NotFraud,
            Error::NotFound { .. } => R::NotFound,
            Error::BadBlock { .. } => R::BadBlock,
            Error::Timeout { .. } => R::Timeout,
            Error::Store { .. } => R::Store,
            Error::Cancelled => R::Cancelled,
            Error::WrongBatch(_) => R::WrongBatch,
            Error::Torch(_) => R::Torch,
            Error::Binding { .. } => R::Binding,
            Error::TicketAboveTarget { .. } => R::TicketAboveTarget,
            _ => R::Other,
        }
    }
}

// The one list of codes and messages: `message` is an exhaustive match (a new variant without a
// message does not compile), and `from_u32` is generated from the same list, so no second list
// of variants can fall out of step. The enum itself stays written out above, numbers and all,
// because cbindgen reads the source without expanding macros.
macro_rules! codes {
    ($($variant:ident => $message:literal,)*) => {
        impl PouwResult {
            /// A short, static description of the code.
            pub fn message(self) -> &'static str {
                match self {
                    $(PouwResult::$variant => $message,)*
                }
            }

            /// The code numbered `code`, if there is one.
            pub fn from_u32(code: u32) -> Option<Self> {
                $(
                    if code == PouwResult::$variant as u32 {
                        return Some(PouwResult::$variant);
                    }
                )*
                None
            }

            /// Every code, in declaration order.
            pub const ALL: &'static [PouwResult] = &[$(PouwResult::$variant,)*];
        }
    };
}

codes! {
    Ok => "success",
    NullArgument => "a required pointer argument was NULL",
    InvalidArgument => "an argument is out of its domain",
    Panic => "internal error (panic); the call had no effect",
    Io => "file operation failed",
    BufferTooSmall => "output buffer too small",
    Cancelled => "cancelled",
    StepLimit => "step limit reached without a block",
    Truncated => "input ended early",
    TrailingBytes => "bytes after the encoded value",
    BadMagic => "bad magic bytes",
    UnsupportedVersion => "unsupported encoding version",
    LimitExceeded => "a count or length is over its limit",
    InvalidField => "a field is out of its domain",
    IndexOutOfRange => "leaf index out of range",
    ProofLength => "Merkle proof has the wrong length",
    RootMismatch => "Merkle proof does not reach the root",
    IndicesNotAscending => "indices are not strictly ascending",
    ConsistencyMismatch => "consistency proof fails",
    RecordCorrupt => "record does not match its Merkle leaf",
    TreeCorrupt => "tree file corrupt or stale",
    DatasetMismatch => "dataset does not match its manifest",
    Import => "malformed import source",
    Locked => "the growing dataset is held by another writer",
    LedgerRefused => "the growth ledger refuses the entry",
    ChallengeIndexMismatch => "capacity response answers other indices",
    ChallengeCount => "capacity response has the wrong number of answers",
    RecordSize => "record has the wrong size",
    InvalidParameters => "invalid parameters",
    CheckpointTensor => "checkpoint tensor missing, unexpected, mis-shaped or not finite",
    CheckpointDigest => "checkpoint does not match the trajectory",
    StepMismatch => "re-executed step gives another checkpoint",
    WrongBatch => "batch does not match the step",
    Torch => "libtorch error",
    Binding => "proof bound to other parameters, header, miner or start",
    TicketAboveTarget => "winning ticket not below the target",
    NonFinite => "training produced a non-finite value",
    DeviceArithmetic => "the device fails the exact-arithmetic self-test",
    StepCounter => "a step starts from a checkpoint with the wrong step counter",
    NotFraud => "the step re-executes to the committed digest: no fraud",
    EarlierWinningTicket => "an earlier step already beat the target",
    DegenerateState => "a step from a degenerate state, or one that changed nothing",
    NotFound => "the store holds nothing under that CID",
    BadBlock => "a store sent bytes that are not the block asked for",
    Timeout => "a store did not answer in time",
    Store => "a store is unreachable or refused the request",
    Other => "other error",
}

#[cfg(test)]
mod tests {
    use super::PouwResult;

    #[test]
    fn codes_round_trip_and_are_distinct() {
        let mut seen = std::collections::BTreeSet::new();
        for &code in PouwResult::ALL {
            assert!(seen.insert(code as u32), "{code:?} reuses a number");
            assert_eq!(PouwResult::from_u32(code as u32), Some(code));
            assert!(!code.message().is_empty());
        }
        assert_eq!(PouwResult::from_u32(8), None);
        assert_eq!(PouwResult::from_u32(503), None, "retired");
        assert_eq!(PouwResult::from_u32(u32::MAX), None);
    }

    /// A code's judgement is its error's: one sample of every error variant.
    #[test]
    fn a_code_is_a_rejection_when_its_error_is_judged_invalid() {
        use pouw::work::{judge, Judgement};
        use pouw::Error as E;
        let p = std::path::PathBuf::from("x");
        let io = || std::io::Error::other("x");
        let s = || "x".to_string();
        let samples = vec![
            E::Io {
                path: p.clone(),
                source: io(),
            },
            E::Truncated {
                what: "x",
                needed: 1,
                available: 0,
            },
            E::TrailingBytes(1),
            E::BadMagic { what: "x" },
            E::UnsupportedVersion {
                what: "x",
                found: 1,
                supported: 2,
            },
            E::LimitExceeded {
                what: "x",
                found: 2,
                limit: 1,
            },
            E::InvalidField {
                what: "x",
                detail: s(),
            },
            E::IndexOutOfRange { index: 1, size: 0 },
            E::ProofLength {
                found: 1,
                expected: 2,
            },
            E::RootMismatch,
            E::IndicesNotAscending { position: 1 },
            E::ConsistencyMismatch {
                old_size: 1,
                new_size: 2,
            },
            E::RecordCorrupt { index: 1 },
            E::TreeCorrupt {
                path: p.clone(),
                detail: s(),
            },
            E::DatasetMismatch {
                path: p.clone(),
                detail: s(),
            },
            E::Import {
                path: p.clone(),
                detail: s(),
            },
            E::Locked { path: p.clone() },
            E::ChallengeIndexMismatch {
                position: 0,
                found: 1,
                expected: 2,
            },
            E::ChallengeCount {
                found: 1,
                expected: 2,
            },
            E::RecordSize {
                found: 1,
                expected: 2,
            },
            E::CheckpointTensor {
                name: s(),
                detail: s(),
            },
            E::Torch(s()),
            E::StepMismatch { step: 1 },
            E::NonFinite,
            E::DegenerateState(s()),
            E::DeviceArithmetic {
                device: s(),
                detail: s(),
            },
            E::StepCounter {
                step: 1,
                found: 1,
                expected: 2,
            },
            E::NotFraud { step: 1 },
            E::NotFound { cid: s() },
            E::Cancelled,
            E::BadBlock {
                cid: s(),
                detail: s(),
            },
            E::Timeout { what: s() },
            E::Store {
                endpoint: s(),
                detail: s(),
            },
            E::CheckpointDigest { step: 1 },
            E::Binding { field: "x" },
            E::TicketAboveTarget { step: 1 },
            E::EarlierWinningTicket {
                step: 1,
                claimed: 2,
            },
            E::WrongBatch(s()),
            E::InvalidParameters(s()),
            E::LedgerRefused(s()),
        ];
        let mut codes = std::collections::BTreeSet::new();
        for e in &samples {
            let code = PouwResult::from_error(e);
            codes.insert(code as u32);
            assert_eq!(
                code.is_rejection(),
                judge(e) == Judgement::Invalid,
                "{e:?} judged {:?}, its code {code:?}",
                judge(e)
            );
        }
        // Every code an error maps to was sampled (Other and the boundary's own codes aside).
        let from_errors = PouwResult::ALL
            .iter()
            .filter(|c| c.is_rejection() || matches!(c, PouwResult::Io | PouwResult::Cancelled))
            .filter(|c| !codes.contains(&(**c as u32)))
            .collect::<Vec<_>>();
        assert!(from_errors.is_empty(), "unsampled codes {from_errors:?}");
    }

    /// The numbers are part of the ABI: a change here is a breaking change.
    #[test]
    fn numbers_are_stable() {
        use PouwResult as R;
        let fixed = [
            (R::Ok, 0),
            (R::NullArgument, 1),
            (R::InvalidArgument, 2),
            (R::Panic, 3),
            (R::Io, 4),
            (R::BufferTooSmall, 5),
            (R::Cancelled, 6),
            (R::StepLimit, 7),
            (R::Truncated, 100),
            (R::TrailingBytes, 101),
            (R::BadMagic, 102),
            (R::UnsupportedVersion, 103),
            (R::LimitExceeded, 104),
            (R::InvalidField, 105),
            (R::IndexOutOfRange, 200),
            (R::ProofLength, 201),
            (R::RootMismatch, 202),
            (R::IndicesNotAscending, 203),
            (R::ConsistencyMismatch, 204),
            (R::RecordCorrupt, 300),
            (R::TreeCorrupt, 301),
            (R::DatasetMismatch, 302),
            (R::Import, 303),
            (R::Locked, 304),
            (R::LedgerRefused, 305),
            (R::ChallengeIndexMismatch, 400),
            (R::ChallengeCount, 401),
            (R::RecordSize, 402),
            (R::InvalidParameters, 403),
            (R::CheckpointTensor, 500),
            (R::CheckpointDigest, 501),
            (R::StepMismatch, 502),
            (R::WrongBatch, 504),
            (R::Torch, 505),
            (R::Binding, 506),
            (R::TicketAboveTarget, 507),
            (R::NonFinite, 508),
            (R::DeviceArithmetic, 509),
            (R::StepCounter, 510),
            (R::NotFraud, 511),
            (R::EarlierWinningTicket, 512),
            (R::DegenerateState, 513),
            (R::NotFound, 600),
            (R::BadBlock, 601),
            (R::Timeout, 602),
            (R::Store, 603),
            (R::Other, 999),
        ];
        assert_eq!(fixed.len(), PouwResult::ALL.len());
        for (code, number) in fixed {
            assert_eq!(code as u32, number, "{code:?}");
        }
    }
}
