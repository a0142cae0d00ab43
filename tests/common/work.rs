//! A small, fast mining setup on the digits for the work-function tests.

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{CheckpointStore, MemStore, ProofOfLearning};
use pouw::work::{
    mine, ConsensusParams, MineInput, MineOptions, MineOutcome, MinedBlock, Start, Target,
    VerifyInput,
};
use std::sync::atomic::AtomicBool;

pub struct Chain {
    pub _dir: tempfile::TempDir,
    pub dataset: pouw::Dataset,
    pub params: ConsensusParams<GanSpec>,
    pub store: MemStore,
    pub genesis: Vec<u8>,
    pub target: Target,
}

impl Chain {
    /// The start at checkpoint `bytes`.
    pub fn start_of(&self, bytes: &[u8]) -> Start {
        Start::of_checkpoint::<GanTrainer>(&self.params.spec, bytes).unwrap()
    }

    /// The genesis start.
    pub fn genesis_start(&self) -> Start {
        self.start_of(&self.genesis)
    }
}

/// A small model (fast steps), 4 opened steps, 8 capacity challenges, ~6 steps per block.
pub fn chain() -> Chain {
    let (dir, dataset) = super::digits_dataset();
    let mut spec = GanSpec::for_manifest(dataset.manifest()).unwrap();
    spec.g_filters = 16;
    spec.d_filters = 8;
    spec.batch_size = 16;
    let mut params = ConsensusParams::new(spec, dataset.root(), dataset.len());
    params.opened_steps = 4;
    params.capacity_challenges = 8;
    params.max_steps = 200;
    let genesis = GanTrainer::from_seed(&params.spec, &[0u8; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    let store = MemStore::default();
    store.put(&genesis).unwrap();
    Chain {
        _dir: dir,
        dataset,
        params,
        store,
        genesis,
        target: Target::from_expected_steps(6),
    }
}

impl Chain {
    pub fn mine(&self, header: [u8; 32], miner: &[u8], start: &[u8]) -> MinedBlock {
        let input = MineInput {
            header_hash: header,
            miner_id: miner,
            start,
            params: &self.params,
            target: self.target,
            dataset: &self.dataset,
            store: &self.store,
        };
        match mine::<GanTrainer>(
            &input,
            // Few kept checkpoints, spilled to disk: the blocks of these tests exercise the
            // spacing doubling and the spill files.
            MineOptions {
                step_limit: 200,
                checkpoint_interval: 2,
                max_kept: 3,
                kept_memory: 0,
                spill_dir: None,
                device: DeviceChoice::Cpu,
            },
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap()
        {
            MineOutcome::Found(block) => *block,
            other => panic!("no block: {other:?}"),
        }
    }

    pub fn input<'a>(
        &'a self,
        header: [u8; 32],
        miner: &'a [u8],
        start: &'a Start,
    ) -> VerifyInput<'a, GanSpec> {
        VerifyInput {
            header_hash: header,
            miner_id: miner,
            start,
            params: &self.params,
            target: self.target,
            store: &self.store,
            device: DeviceChoice::Cpu,
        }
    }
}
