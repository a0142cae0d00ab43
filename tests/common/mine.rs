//! Mining helpers for any model, shared by the tests and the fuzz targets (which include this
//! file by path): the genesis checkpoint put in a store, and a block mined or a panic.

use pouw::learning::{BlobStore, DeviceChoice, ProofOfLearning};
use pouw::work::{mine, MineInput, MineOptions, MineOutcome, MinedBlock};
use std::sync::atomic::AtomicBool;

/// The genesis checkpoint of `spec` (every weight drawn from seed 0, on the CPU), put in `store`.
pub fn genesis_in<P: ProofOfLearning>(spec: &P::Spec, store: &dyn BlobStore) -> Vec<u8> {
    let genesis = P::from_seed(spec, &[0; 32], DeviceChoice::Cpu)
        .unwrap()
        .checkpoint()
        .unwrap();
    store.put(&genesis).unwrap();
    genesis
}

/// The block `input` mines under `options`; panics when mining ends without one.
pub fn mine_found<P: ProofOfLearning>(
    input: &MineInput<'_, P::Spec>,
    options: MineOptions,
) -> MinedBlock {
    match mine::<P>(input, options, &mut |_| {}, &AtomicBool::new(false)).unwrap() {
        MineOutcome::Found(block) => *block,
        other => panic!("no block: {other:?}"),
    }
}
