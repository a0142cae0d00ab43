//! The schedule of a block: what each step trains on, derived from consensus data alone. Mining,
//! verification, audits, segment checks, fraud proofs, record-free expansion and openings all
//! derive a step's seed and batch here, so there is one derivation to get right.

use super::seeds::{batch_indices, step_seed};
use super::{Batch, Trajectory};
use crate::dataset::Dataset;
use crate::error::Result;
use crate::hash::Digest;

/// The consensus schedule of one block: its anchor (which binds the parameters, the header and
/// the miner), the batch size and the dataset's record count. Step `i`'s seed is
/// `s_i = H("pouw/step-seed", anchor, R_i, i)` with `R_i` the root of `d_0 .. d_{i-1}`; its
/// batch is `batch_size` indices drawn from `s_i`; the model draws its noise from `s_i`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    anchor: Digest,
    batch_size: u32,
    dataset_len: u64,
}

/// One scheduled step: its seed and its batch's record indices, in drawn order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduledStep {
    /// The step's seed `s_i`.
    pub seed: Digest,
    /// The batch's record indices (with repeats), in drawn order.
    pub indices: Vec<u64>,
}

impl Schedule {
    /// The schedule of the block with this anchor, over a dataset of `dataset_len` records.
    pub fn new(anchor: Digest, batch_size: u32, dataset_len: u64) -> Self {
        Schedule {
            anchor,
            batch_size,
            dataset_len,
        }
    }

    /// The anchor.
    pub fn anchor(&self) -> &Digest {
        &self.anchor
    }

    /// Records per batch.
    pub fn batch_size(&self) -> u32 {
        self.batch_size
    }

    /// Records in the dataset.
    pub fn dataset_len(&self) -> u64 {
        self.dataset_len
    }

    /// Step `step` whose digests before it have the root `prefix_root` (`R_step`).
    pub fn step(&self, prefix_root: &Digest, step: u64) -> Result<ScheduledStep> {
        let seed = step_seed(&self.anchor, prefix_root, step);
        let indices = batch_indices(&seed, self.batch_size, self.dataset_len)?;
        Ok(ScheduledStep { seed, indices })
    }

    /// Step `step`'s seed alone (what its ticket binds).
    pub fn seed(&self, prefix_root: &Digest, step: u64) -> Digest {
        step_seed(&self.anchor, prefix_root, step)
    }

    /// Step `step` of `trajectory`, which holds at least `d_0 .. d_{step-1}`.
    pub fn step_of(&self, trajectory: &Trajectory, step: u64) -> Result<ScheduledStep> {
        self.step(&trajectory.prefix_root(step)?, step)
    }

    /// Step `step` of `trajectory` with its batch read from `dataset` (each record checked
    /// against its Merkle leaf): the seed and the batch a step trains on.
    pub fn batch_of(
        &self,
        trajectory: &Trajectory,
        step: u64,
        dataset: &Dataset,
    ) -> Result<(Digest, Batch)> {
        let s = self.step_of(trajectory, step)?;
        Ok((s.seed, Batch::from_dataset(dataset, &s.indices)?))
    }
}
