//! A one-block chain on the mock learner (`mock.rs`: exact, cheap steps), for the targets that
//! run the verifier all the way through re-execution: 64 records of 16 bytes, batch 4, three
//! opened steps, four capacity challenges, an honest block mined at start.

// The mining helpers the tests use (one place: `tests/common/mine.rs`).
#[path = "../../tests/common/mine.rs"]
#[allow(dead_code)]
mod mine;

use super::mock::{Mock, MockSpec};
use mine::{genesis_in, mine_found};
use pouw::dataset::{DType, DatasetWriter};
use pouw::ident::Cid;
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, MemStore};
use pouw::work::{BlockProof, ConsensusParams, MineInput, MineOptions, Start, Target, VerifyInput};
use std::sync::OnceLock;

/// The header the block is bound to.
pub const HEADER: [u8; 32] = [3; 32];
/// The miner the block is bound to.
pub const MINER: &[u8] = b"fuzz-miner";
/// The target's expected steps.
pub const TARGET_STEPS: u64 = 4;

/// The chain and its honest block (each target reads some of it).
#[allow(dead_code)]
pub struct Chain {
    /// The consensus parameters.
    pub params: ConsensusParams<MockSpec>,
    /// Holds the genesis checkpoint and everything the honest block names.
    pub store: MemStore,
    /// The block's start.
    pub start: Start,
    /// The honest proof's bytes.
    pub honest: Vec<u8>,
    /// The honest proof.
    pub proof: BlockProof,
    /// Every CID in the store.
    pub cids: Vec<Cid>,
}

impl Chain {
    /// The verifier's input, fetching from `store`.
    pub fn input<'a>(&'a self, store: &'a dyn BlobStore) -> VerifyInput<'a, MockSpec> {
        VerifyInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &self.start,
            params: &self.params,
            target: Target::from_expected_steps(TARGET_STEPS),
            store,
            device: DeviceChoice::Cpu,
        }
    }
}

/// The chain, made once per process.
pub fn chain() -> &'static Chain {
    static S: OnceLock<Chain> = OnceLock::new();
    S.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("pouw-fuzz-chain-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut w = DatasetWriter::create(&dir, vec![16], DType::U8, 255, "fuzz", "none").unwrap();
        for i in 0u8..64 {
            w.push(&[i; 16]).unwrap();
        }
        let ds = w.finish().unwrap();
        let spec = MockSpec {
            dataset: ds.cid(),
            batch_size: 4,
            record_size: 16,
        };
        let mut params = ConsensusParams::new(spec, ds.root(), ds.len());
        params.opened_steps = 3;
        params.capacity_challenges = 4;
        params.max_steps = 1000;
        let store = MemStore::default();
        let genesis = genesis_in::<Mock>(&params.spec, &store);
        let mut cids = vec![pouw::ident::cid_of(&genesis)];
        let start = Start::of_checkpoint::<Mock>(&params.spec, &genesis).unwrap();
        let input = MineInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &genesis,
            params: &params,
            target: Target::from_expected_steps(TARGET_STEPS),
            dataset: &ds,
            store: &store,
        };
        let block = mine_found::<Mock>(&input, MineOptions::default());
        drop(ds);
        let _ = std::fs::remove_dir_all(&dir);
        let proof = block.proof;
        cids.push(proof.trajectory_cid);
        for o in &proof.openings {
            cids.push(o.start);
            cids.extend(o.end);
        }
        Chain {
            honest: proof.to_bytes(),
            proof,
            params,
            store,
            start,
            cids,
        }
    })
}
