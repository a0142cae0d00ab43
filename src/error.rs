//! The crate's error type: one variant per reason a caller can act on.

use std::path::PathBuf;

/// Everything that can go wrong in `pouw`. Verifier rejections are variants too, never panics.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on `path` failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    // ---- Encodings of untrusted bytes ----
    /// The input ended before the value being decoded.
    #[error("truncated input: {what} needs {needed} more bytes, {available} left")]
    Truncated {
        /// The value being decoded.
        what: &'static str,
        /// Bytes it needed.
        needed: u64,
        /// Bytes that were left.
        available: u64,
    },
    /// Bytes remained after a complete value.
    #[error("{0} trailing bytes after the encoded value")]
    TrailingBytes(usize),
    /// The magic bytes do not name the expected kind of object.
    #[error("bad magic for {what}")]
    BadMagic {
        /// The kind of object expected.
        what: &'static str,
    },
    /// The encoding version is not one this build reads.
    #[error("unsupported {what} version {found} (this build reads {supported})")]
    UnsupportedVersion {
        /// The kind of object.
        what: &'static str,
        /// The version found.
        found: u32,
        /// The version this build reads.
        supported: u32,
    },
    /// A length or count field exceeds the bound the parameters allow.
    #[error("{what} is {found}, over the limit {limit}")]
    LimitExceeded {
        /// The field.
        what: &'static str,
        /// The value found.
        found: u64,
        /// The largest value allowed.
        limit: u64,
    },
    /// A field holds a value outside its domain (not a length).
    #[error("invalid {what}: {detail}")]
    InvalidField {
        /// The field.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },

    // ---- Merkle proofs ----
    /// A proof's index is not below the tree size.
    #[error("leaf index {index} out of range for a tree of {size} leaves")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A proof has the wrong number of nodes for its indices and tree size.
    #[error("proof has {found} nodes, expected {expected}")]
    ProofLength {
        /// Nodes in the proof.
        found: u64,
        /// Nodes the verifier needs.
        expected: u64,
    },
    /// The root recomputed from a proof differs from the trusted root.
    #[error("Merkle root mismatch")]
    RootMismatch,
    /// Multiproof indices are not strictly ascending (a duplicate or a swap).
    #[error("indices are not strictly ascending at position {position}")]
    IndicesNotAscending {
        /// The first offending position.
        position: usize,
    },
    /// A consistency proof between two sizes is malformed or does not match the roots.
    #[error("consistency proof from size {old_size} to {new_size} fails")]
    ConsistencyMismatch {
        /// The older tree size.
        old_size: u64,
        /// The newer tree size.
        new_size: u64,
    },

    // ---- Datasets and persisted trees ----
    /// A record's bytes do not hash to the leaf the tree holds for it.
    #[error("record {index} does not match its Merkle leaf (records file changed or corrupt)")]
    RecordCorrupt {
        /// The record index.
        index: u64,
    },
    /// The persisted tree file is corrupt or does not belong to the dataset.
    #[error("tree file {path} is corrupt or stale: {detail}")]
    TreeCorrupt {
        /// The tree file.
        path: PathBuf,
        /// What failed.
        detail: String,
    },
    /// The dataset on disk disagrees with its manifest.
    #[error("dataset at {path} does not match its manifest: {detail}")]
    DatasetMismatch {
        /// The dataset directory or file.
        path: PathBuf,
        /// What disagrees.
        detail: String,
    },
    /// A source file being imported is malformed.
    #[error("cannot import {path}: {detail}")]
    Import {
        /// The source.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
    /// Another writer (this process or another) holds the growing dataset in `path`: one writer
    /// per dataset. Readers need no lock.
    #[error("{path} is held by another writer")]
    Locked {
        /// The growing dataset's home directory.
        path: PathBuf,
    },

    // ---- Capacity proofs ----
    /// A response's indices differ from those the challenge derives.
    #[error("response index {position} is {found}, challenge derives {expected}")]
    ChallengeIndexMismatch {
        /// Position in the response.
        position: usize,
        /// Index found.
        found: u64,
        /// Index the challenge derives.
        expected: u64,
    },
    /// A response answers a different number of challenges than asked.
    #[error("response answers {found} challenges, expected {expected}")]
    ChallengeCount {
        /// Challenges answered.
        found: u64,
        /// Challenges asked.
        expected: u64,
    },
    /// A record has the wrong size.
    #[error("record size {found}, expected {expected}")]
    RecordSize {
        /// Size found.
        found: u64,
        /// Size expected.
        expected: u64,
    },
    // ---- Checkpoints and training ----
    /// A checkpoint tensor is missing, unexpected, of the wrong dtype or shape, or not finite.
    #[error("checkpoint tensor {name}: {detail}")]
    CheckpointTensor {
        /// The tensor name.
        name: String,
        /// What is wrong.
        detail: String,
    },
    /// libtorch reported an error.
    #[error("libtorch: {0}")]
    Torch(String),
    /// Re-executing a step gave a different checkpoint digest.
    #[error("step {step} re-executes to another checkpoint digest")]
    StepMismatch {
        /// The step.
        step: u64,
    },
    /// A training computation met an infinite or NaN value. Devices agree on every finite
    /// value but not on the bits of a NaN, so such a state is rejected, never hashed.
    #[error("training produced a non-finite value")]
    NonFinite,
    /// A training step from a state in which it would cost less than an honest step, or that
    /// changed nothing: a network layer all zero or sparse, a tensor that received no gradient,
    /// weights the update left unchanged. Deterministic (exact comparisons), so every device
    /// refuses the same states; an honest trajectory does not reach one.
    #[error("degenerate training state: {0}")]
    DegenerateState(String),
    /// A device does not compute as the exact arithmetic assumes (IEEE rounding, subnormals).
    #[error("device {device} fails the exact-arithmetic self-test: {detail}")]
    DeviceArithmetic {
        /// The device.
        device: String,
        /// What differed.
        detail: String,
    },
    /// The checkpoint a step starts from holds another step counter than its position implies.
    #[error("step {step} starts from a checkpoint of step counter {found}, expected {expected}")]
    StepCounter {
        /// The step.
        step: u64,
        /// The counter the checkpoint holds.
        found: u64,
        /// The counter its position implies.
        expected: u64,
    },
    /// A fraud proof names a step that re-executes to the digest the block committed: the step
    /// is honest.
    #[error("step {step} re-executes to the committed digest: no fraud")]
    NotFraud {
        /// The step.
        step: u64,
    },
    /// A store holds nothing under this CID (fetch it again elsewhere; not a fault of the proof's
    /// bytes).
    #[error("no object {cid} in the store")]
    NotFound {
        /// The CID asked for.
        cid: String,
    },
    /// The caller cancelled the operation (its cancellation flag was set).
    #[error("cancelled")]
    Cancelled,
    /// A store or node returned bytes that are not the block or object asked for: the source
    /// misbehaves (a chain may ban the peer; fetching again from it will not help).
    #[error("block {cid} from the store is wrong: {detail}")]
    BadBlock {
        /// The CID asked for.
        cid: String,
        /// What was wrong.
        detail: String,
    },
    /// A store or node did not answer within its deadline (fetch again; not a fault of the
    /// proof's bytes, nor proof that the source misbehaves).
    #[error("{what} timed out")]
    Timeout {
        /// The operation that timed out, and its deadline when known.
        what: String,
    },
    /// A store or node could not be reached or refused the request (connection refused, an
    /// HTTP error it reported, a malformed answer to a request it should understand).
    #[error("store {endpoint}: {detail}")]
    Store {
        /// The store's endpoint.
        endpoint: String,
        /// What went wrong.
        detail: String,
    },
    /// A fetched checkpoint is not the one the trajectory commits to at this step.
    #[error("checkpoint for step {step} does not match the trajectory digest")]
    CheckpointDigest {
        /// The step whose checkpoint it should be.
        step: u64,
    },
    /// A block proof is bound to other parameters, another header, another miner or another
    /// start checkpoint than the verifier's.
    #[error("block proof is bound to another {field}")]
    Binding {
        /// Which binding differs.
        field: &'static str,
    },
    /// The winning step's ticket does not beat the target.
    #[error("ticket of step {step} is not below the target")]
    TicketAboveTarget {
        /// The claimed winning step.
        step: u64,
    },
    /// A step before the claimed winning one already had a ticket below the target (from the
    /// parameters' `min_steps` on): the block ends there, and a block is its first winning ticket.
    #[error(
        "step {step}'s ticket already beat the target: the block ends there, not at step {claimed}"
    )]
    EarlierWinningTicket {
        /// The first step whose ticket beats the target.
        step: u64,
        /// The step the proof claims as the winning one.
        claimed: u64,
    },
    /// A batch does not match the step seed or the spec.
    #[error("wrong batch: {0}")]
    WrongBatch(String),

    /// A growth ledger refuses a block (one that does not extend its tip, or an entry: unknown
    /// or filled request, more records than its budget pays for, a banned submitter) or a
    /// revert (not its tip, or entries it did not apply).
    #[error("ledger entry refused: {0}")]
    LedgerRefused(String),

    /// Capacity parameters are unusable (e.g. more challenges than records).
    #[error("invalid parameters: {0}")]
    InvalidParameters(String),
}

/// `Result` with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
