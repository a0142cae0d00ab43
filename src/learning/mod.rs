//! Proof of learning: the [`ProofOfLearning`] seam, the seeds every step is drawn from, checkpoint
//! digests, trajectory commitments and checkpoint stores.
//!
//! The trait is shaped so that the work function never knows which model it trains:
//! - **state comes only from seeds or checkpoints** ([`ProofOfLearning::from_seed`],
//!   [`ProofOfLearning::from_checkpoint`]), so a verifier can rebuild the exact state a miner
//!   had from public bytes;
//! - **a step takes its seed and its batch from outside** ([`ProofOfLearning::step`]): the work
//!   function derives both from consensus data (one [`Schedule`] per block) and reads the
//!   records from the capacity layer's dataset, so the miner chooses nothing and one dataset
//!   serves capacity proofs and training;
//! - **the checkpoint is canonical bytes** ([`ProofOfLearning::checkpoint`]): the digest, the CID
//!   and the trajectory commitment are computed here, identically for every model;
//! - **the task spec is an associated type** ([`TaskSpec`]) with a canonical encoding, so a chain
//!   pins it by digest whatever model it describes.
//!
//! A second model plugs in by implementing the two traits; nothing else changes.

mod device;
#[cfg(feature = "torch")]
pub mod exact;
pub mod gan;
mod opening;
mod schedule;
mod seeds;
mod store;
mod trajectory;

pub use device::DeviceChoice;
pub(crate) use opening::{check_opening_proofs, distinct_sorted, fetch_checkpoint, reexecute_step};
pub use opening::{verify_step, Reexecution, StepContext, StepOpening};
pub use schedule::{Schedule, ScheduledStep};
pub use seeds::{batch_indices, checkpoint_digest, step_seed, Batch};
pub(crate) use store::get_named;
pub use store::{BlobStore, DirStore, MemStore};
pub use trajectory::{Trajectory, TrajectoryOpening, MAX_CONSISTENCY_NODES};

use crate::error::Result;
use crate::hash::Digest;
use crate::ident::Cid;

/// The consensus parameters of a learning task, with a canonical encoding.
pub trait TaskSpec: Clone + Send + Sync + Sized {
    /// The canonical encoding.
    fn to_bytes(&self) -> Vec<u8>;
    /// Decodes and validates untrusted bytes.
    fn from_bytes(bytes: &[u8]) -> Result<Self>;
    /// The CID of the dataset manifest the task trains on.
    fn dataset(&self) -> &Cid;
    /// Records per training batch.
    fn batch_size(&self) -> u32;
    /// Bytes per record.
    fn record_size(&self) -> usize;
    /// The exact size of every checkpoint of this task, in bytes: verifiers fetch no more.
    fn checkpoint_size(&self) -> u64;
    /// The digest a chain pins: SHA3-256 of the canonical encoding under `pouw/task-spec`.
    fn digest(&self) -> Digest {
        crate::hash::tagged_hash(crate::hash::tag::TASK_SPEC, &[&self.to_bytes()])
    }
}

/// A trainable model whose training steps can be proven and re-executed bit for bit.
///
/// Implementations must be deterministic: the same spec, starting checkpoint, step seed and
/// batch give the same checkpoint bytes on every machine and device (verification compares
/// digests bit for bit).
pub trait ProofOfLearning: Sized {
    /// The task's consensus parameters.
    type Spec: TaskSpec;

    /// The initial state, every weight drawn from `seed`, on `device`.
    fn from_seed(spec: &Self::Spec, seed: &Digest, device: DeviceChoice) -> Result<Self>;

    /// The state a checkpoint holds, on `device`. The bytes are untrusted: every name, shape and
    /// value is validated against the spec.
    fn from_checkpoint(spec: &Self::Spec, bytes: &[u8], device: DeviceChoice) -> Result<Self>;

    /// One training step on `batch`, all randomness drawn from `step_seed`.
    fn step(&mut self, step_seed: &Digest, batch: &Batch) -> Result<()>;

    /// The canonical checkpoint bytes of the current state.
    fn checkpoint(&self) -> Result<Vec<u8>>;

    /// Steps taken since the initial state.
    fn steps(&self) -> u64;

    /// A deterministic quality score (lower is better) against reference records, samples drawn
    /// from `seed`.
    fn quality(&self, seed: &Digest, reference: &Batch) -> Result<f64>;
}

/// A model that scores records it was not trained on (higher: more like the data it learned):
/// the seam through which the growth judge ([`crate::growth::Judge`]) scores submissions,
/// whatever the model.
///
/// Scores must be deterministic for the same state and batch on every machine and device (they
/// decide which submitted records a network accepts).
pub trait Critic: ProofOfLearning {
    /// The records the critic scores under `spec`: their shape and largest value.
    fn record_format(spec: &Self::Spec) -> (Vec<u32>, u32);

    /// One score per record of `batch`, in order. A score may depend on the other records of
    /// the batch (batch statistics): callers fix the batching.
    fn scores(&self, batch: &Batch) -> Result<Vec<f32>>;
}
