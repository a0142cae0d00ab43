//! A small, fast mining setup on the digits for the work-function tests.

use super::mine::{genesis_in, mine_found};
use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::MemStore;
use pouw::work::{ConsensusParams, MineInput, MineOptions, MinedBlock, Start, Target, VerifyInput};

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

/// The small parameters of the work tests on `ds`: a small model (16/8 filters, batch 16, fast
/// steps), 4 opened steps, 8 capacity challenges, at most 200 steps a block.
pub fn small_params(ds: &pouw::Dataset) -> ConsensusParams<GanSpec> {
    let mut spec = GanSpec::for_manifest(ds.manifest()).unwrap();
    spec.g_filters = 16;
    spec.d_filters = 8;
    spec.batch_size = 16;
    let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
    params.opened_steps = 4;
    params.capacity_challenges = 8;
    params.max_steps = 200;
    params
}

/// [`small_params`] on the digits, the genesis in a memory store, ~6 steps per block.
pub fn chain() -> Chain {
    let (dir, dataset) = super::digits_dataset();
    let params = small_params(&dataset);
    let store = MemStore::default();
    let genesis = genesis_in::<GanTrainer>(&params.spec, &store);
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
        mine_found::<GanTrainer>(
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
        )
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
