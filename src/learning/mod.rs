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
pub(crate) use opening::{
    check_opening_proofs, distinct_sorted, fetch_checkpoint, reexecute_from, reexecute_step,
};
pub use opening::{verify_step, Reexecution, StepContext, StepOpening};
pub use schedule::{Schedule, ScheduledStep};
pub use seeds::{
    batch_indices, checkpoint_digest, concat_with_digest, digest_of_pieces, step_seed, Batch,
};
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
pub trait ProofOfLearning: Sized + Send {
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

    /// [`checkpoint`](Self::checkpoint) and its [`checkpoint_digest`]. A model may produce both
    /// in one pass ([`concat_with_digest`]); the bytes and digest are the same either way.
    fn checkpoint_with_digest(&self) -> Result<(Vec<u8>, Digest)> {
        let bytes = self.checkpoint()?;
        let digest = checkpoint_digest(&bytes);
        Ok((bytes, digest))
    }

    /// Takes over the reusable working memory of `previous`, a state the caller is done with, so
    /// that this state's next step does not allocate its temporaries afresh (a verifier moving
    /// from one opened step's state to the next). It changes no result. By default it only
    /// drops `previous`.
    fn reuse_workspace(&mut self, previous: Self) {
        drop(previous);
    }

    /// The [`checkpoint_digest`] of the current state, for a caller that does not need the bytes
    /// (a model may hash its state in place, [`digest_of_pieces`]).
    fn digest(&self) -> Result<Digest> {
        Ok(checkpoint_digest(&self.checkpoint()?))
    }

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
/// Scores are taken in *inference form*: a normalisation layer that training runs on batch
/// statistics uses fixed per-channel statistics instead ([`ChannelMoments`], one per layer, in
/// layer order), which the judge computes from a reference dataset layer by layer. A record's
/// score then depends on the record alone, never on the records scored with it.
///
/// Scores and sums must be deterministic for the same state, statistics and batch on every
/// machine and device (they decide which submitted records a network accepts).
pub trait Critic: ProofOfLearning {
    /// The records the critic scores under `spec`: their shape and largest value.
    fn record_format(spec: &Self::Spec) -> (Vec<u32>, u32);

    /// The number of normalisation layers (each needs its [`ChannelMoments`]).
    fn norm_layers(&self) -> usize;

    /// The per-channel sums over `batch` of the input of normalisation layer `fixed.len()`,
    /// the layers before it in inference form under `fixed`.
    fn norm_sums(&self, batch: &Batch, fixed: &[ChannelMoments]) -> Result<ChannelSums>;

    /// One score per record of `batch`, in order, in inference form under `norms` (one per
    /// normalisation layer): a record's score depends on that record alone.
    fn scores(&self, batch: &Batch, norms: &[ChannelMoments]) -> Result<Vec<f32>>;

    /// One feature vector per record of `batch`, in order and all of one length, in inference
    /// form under `norms`: what the judge measures a record's distance to the dataset by.
    fn features(&self, batch: &Batch, norms: &[ChannelMoments]) -> Result<Vec<Vec<f64>>>;
}

/// Per-channel sums of a normalisation layer's input over some records, in float64 added in a
/// fixed order (records, then positions), so the same records give the same bits everywhere.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ChannelSums {
    /// `S(x)` per channel.
    pub sum: Vec<f64>,
    /// `S(x * x)` per channel.
    pub sum_squares: Vec<f64>,
    /// The terms in each channel's sums (records times positions).
    pub count: u64,
}

impl ChannelSums {
    /// Adds `other` (the sums of the next records in order) to these.
    pub fn add(&mut self, other: &ChannelSums) -> Result<()> {
        if self.count == 0 && self.sum.is_empty() {
            *self = other.clone();
            return Ok(());
        }
        if other.sum.len() != self.sum.len() || other.sum_squares.len() != self.sum.len() {
            return Err(crate::Error::InvalidParameters(format!(
                "sums of {} channels added to sums of {}",
                other.sum.len(),
                self.sum.len()
            )));
        }
        for (a, b) in self.sum.iter_mut().zip(&other.sum) {
            *a += b;
        }
        for (a, b) in self.sum_squares.iter_mut().zip(&other.sum_squares) {
            *a += b;
        }
        self.count += other.count;
        Ok(())
    }

    /// The mean and (population) variance per channel, rounded to float32.
    pub fn moments(&self) -> Result<ChannelMoments> {
        if self.count == 0 {
            return Err(crate::Error::InvalidParameters(
                "statistics of no records".into(),
            ));
        }
        let n = self.count as f64;
        let (mean, var): (Vec<f32>, Vec<f32>) = self
            .sum
            .iter()
            .zip(&self.sum_squares)
            .map(|(&s, &s2)| {
                let m = s / n;
                (m as f32, (s2 / n - m * m).max(0.0) as f32)
            })
            .unzip();
        let moments = ChannelMoments { mean, var };
        moments.validate()?;
        Ok(moments)
    }
}

/// The fixed statistics of one normalisation layer in inference form: per-channel mean and
/// variance (finite, variance not negative).
#[derive(Clone, Debug, PartialEq)]
pub struct ChannelMoments {
    /// Mean per channel.
    pub mean: Vec<f32>,
    /// Population variance per channel.
    pub var: Vec<f32>,
}

impl ChannelMoments {
    /// Checks the two vectors have one finite value per channel and no variance is negative.
    pub fn validate(&self) -> Result<()> {
        let ok = self.mean.len() == self.var.len()
            && self.mean.iter().all(|m| m.is_finite())
            && self.var.iter().all(|v| v.is_finite() && *v >= 0.0);
        if ok {
            Ok(())
        } else {
            Err(crate::Error::InvalidParameters(
                "normalisation statistics not finite or of mismatched channels".into(),
            ))
        }
    }
}
