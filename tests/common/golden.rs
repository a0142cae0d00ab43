//! The golden block of `tests/golden/`: its files and the inputs that verify it (the C API's
//! overhead bench includes this file by path).

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::{BlobStore, DeviceChoice, DirStore};
use pouw::work::{ConsensusParams, Start, Target, VerifyInput};
use std::path::PathBuf;

/// Regenerates the golden files (with a `PROTOCOL_VERSION` bump only).
pub const REGENERATE: &str = "POUW_REGENERATE_GOLDEN=1 cargo test --test golden";
/// The golden block's header hash.
pub const HEADER: [u8; 32] = [0x42; 32];
/// The golden block's miner id.
pub const MINER: &[u8] = b"golden-miner";
/// The golden block's expected steps (its target).
pub const EXPECTED_STEPS: u64 = 8;

/// `tests/golden/`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// A golden file's bytes.
pub fn read(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name))
        .unwrap_or_else(|e| panic!("tests/golden/{name}: {e}; regenerate with `{REGENERATE}`"))
}

/// What verifying the golden proof needs, owned.
pub struct Golden {
    /// The consensus parameters.
    pub params: ConsensusParams<GanSpec>,
    /// The start of the block.
    pub start: Start,
    /// The start checkpoint's bytes.
    pub genesis: Vec<u8>,
    /// The store holding the block's checkpoints and trajectory.
    pub store: DirStore,
    /// The proof bytes.
    pub proof: Vec<u8>,
}

impl Golden {
    /// Loads the golden files of the current protocol version.
    pub fn load() -> Self {
        Self::load_from(&dir())
    }

    /// Loads the golden files in `dir` (`tests/golden/` or an older version's `tests/golden/vN/`).
    pub fn load_from(dir: &std::path::Path) -> Self {
        let read = |name: &str| {
            std::fs::read(dir.join(name))
                .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
        };
        let params = ConsensusParams::<GanSpec>::from_bytes(&read("params.bin")).unwrap();
        let genesis: pouw::ident::Cid = String::from_utf8(read("genesis.cid"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        let store = DirStore::new(dir.join("store")).unwrap();
        let genesis_bytes = store.get(&genesis, u64::MAX).unwrap();
        let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis_bytes).unwrap();
        Golden {
            params,
            start,
            genesis: genesis_bytes,
            store,
            proof: read("proof.bin"),
        }
    }

    /// The verifier's input for the golden proof.
    pub fn input(&self) -> VerifyInput<'_, GanSpec> {
        VerifyInput {
            header_hash: HEADER,
            miner_id: MINER,
            start: &self.start,
            params: &self.params,
            target: Target::from_expected_steps(EXPECTED_STEPS),
            store: &self.store,
            device: DeviceChoice::Cpu,
        }
    }
}
