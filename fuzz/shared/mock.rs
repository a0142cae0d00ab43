//! A stand-in learner for fuzzing and attack-testing the work function without libtorch: its
//! "training step" hashes the previous state with the step seed and the batch, so re-execution
//! is exact and cheap. Counts, per thread, the states it loads and the steps it takes.

use pouw::codec::{Decoder, Encoder};
use pouw::hash::{tagged_hash, Digest};
use pouw::ident::{cid_from_bytes, Cid};
use pouw::learning::{Batch, DeviceChoice, ProofOfLearning, TaskSpec};
use pouw::{Error, Result};

/// The mock task: a dataset and a batch size.
#[derive(Clone, Debug, PartialEq)]
pub struct MockSpec {
    pub dataset: Cid,
    pub batch_size: u32,
    pub record_size: u32,
}

impl TaskSpec for MockSpec {
    fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.bytes(&self.dataset.to_bytes())
            .u32(self.batch_size)
            .u32(self.record_size);
        e.finish()
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let dataset = cid_from_bytes(d.bytes("cid", 64)?)?;
        let (batch_size, record_size) = (d.u32("batch")?, d.u32("record")?);
        d.finish()?;
        Ok(MockSpec {
            dataset,
            batch_size,
            record_size,
        })
    }

    fn dataset(&self) -> &Cid {
        &self.dataset
    }

    fn batch_size(&self) -> u32 {
        self.batch_size
    }

    fn record_size(&self) -> usize {
        self.record_size as usize
    }

    fn checkpoint_size(&self) -> u64 {
        40
    }
}

/// The mock state: a step counter and a running digest.
pub struct Mock {
    steps: u64,
    acc: Digest,
}

thread_local! {
    static LOADS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
    static STEPS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// `(checkpoints loaded, steps taken)` on this thread since the last reset.
#[allow(dead_code)]
pub fn counters() -> (u64, u64) {
    (LOADS.with(|c| c.get()), STEPS.with(|c| c.get()))
}

/// Zeroes this thread's counters.
#[allow(dead_code)]
pub fn reset_counters() {
    LOADS.with(|c| c.set(0));
    STEPS.with(|c| c.set(0));
}

impl Mock {
    /// A state with this counter and digest (a made-up state, for attacks).
    #[allow(dead_code)]
    pub fn new(steps: u64, acc: Digest) -> Self {
        Mock { steps, acc }
    }
}

impl ProofOfLearning for Mock {
    type Spec = MockSpec;

    fn from_seed(_: &MockSpec, seed: &Digest, _: DeviceChoice) -> Result<Self> {
        Ok(Mock {
            steps: 0,
            acc: *seed,
        })
    }

    fn from_checkpoint(_: &MockSpec, bytes: &[u8], _: DeviceChoice) -> Result<Self> {
        LOADS.with(|c| c.set(c.get() + 1));
        let mut d = Decoder::new(bytes);
        let steps = d.u64("steps")?;
        let acc = d.digest("acc")?;
        d.finish()?;
        Ok(Mock { steps, acc })
    }

    fn step(&mut self, seed: &Digest, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Err(Error::WrongBatch("empty".into()));
        }
        STEPS.with(|c| c.set(c.get() + 1));
        self.acc = tagged_hash("pouw/mock-step", &[&self.acc, seed, &batch.records]);
        self.steps += 1;
        Ok(())
    }

    fn checkpoint(&self) -> Result<Vec<u8>> {
        let mut e = Encoder::new();
        e.u64(self.steps).digest(&self.acc);
        Ok(e.finish())
    }

    fn steps(&self) -> u64 {
        self.steps
    }

    fn quality(&self, _: &Digest, reference: &Batch) -> Result<f64> {
        Ok(reference.len() as f64 / (1.0 + self.steps as f64))
    }
}
