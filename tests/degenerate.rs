//! No cheap states: a step from a state in which training would cost less than an honest step,
//! or that changes nothing, is refused (`Error::DegenerateState`) on every path: mining,
//! verification (re-execution), audits and fraud proofs. Each state below is built from the
//! digits model's genesis checkpoint by rewriting tensors, as a miner who faked one transition
//! could. Each test asserts the rule of `learning::gan`'s liveness checks that refuses it
//! first, so each fails with that rule removed (the step then succeeds, or a later rule refuses
//! it: the dead networks also receive no gradient, the saturated generator also does not move).
#![cfg(feature = "torch")]

mod common;

use common::work::chain;
use pouw::learning::gan::{DecodedCheckpoint, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{batch_indices, checkpoint_digest, Batch, ProofOfLearning};
use pouw::work::{mine, MineInput, MineOptions};
use pouw::Error;
use std::sync::atomic::AtomicBool;

/// The genesis checkpoint with `edit(name, values)` applied to every tensor.
fn rewritten(c: &common::work::Chain, edit: impl Fn(&str, &mut Vec<f32>)) -> Vec<u8> {
    let format = c.params.spec.checkpoint_format().unwrap();
    let DecodedCheckpoint { step, mut tensors } = format.decode(&c.genesis).unwrap();
    for (name, values) in format.names().iter().zip(&mut tensors) {
        edit(name, values);
    }
    format.encode(&DecodedCheckpoint { step, tensors }).unwrap()
}

/// The network a tensor belongs to (`gen` or `dis`), moments included.
fn network(name: &str) -> &str {
    let plain = name
        .strip_prefix("adam.m.")
        .or_else(|| name.strip_prefix("adam.v."))
        .unwrap_or(name);
    plain.split('.').next().unwrap()
}

/// One step from `checkpoint` on a real batch of the digits.
fn step_from(c: &common::work::Chain, checkpoint: &[u8]) -> pouw::Result<()> {
    let mut state = GanTrainer::from_checkpoint(&c.params.spec, checkpoint, DeviceChoice::Cpu)?;
    let seed = [7u8; 32];
    let indices = batch_indices(&seed, c.params.spec.batch_size, c.dataset.len())?;
    state.step(&seed, &Batch::from_dataset(&c.dataset, &indices)?)
}

fn assert_refused(c: &common::work::Chain, checkpoint: &[u8], rule: &str) {
    match step_from(c, checkpoint) {
        Err(Error::DegenerateState(detail)) => {
            assert!(
                detail.contains(rule),
                "refused for another reason: {detail}"
            )
        }
        other => panic!("a degenerate state was not refused ({rule}): {other:?}"),
    }
}

#[test]
fn an_honest_state_steps() {
    let c = chain();
    step_from(&c, &c.genesis).unwrap();
}

/// The attack probe's state: every discriminator weight and both its Adam moments zero. Every
/// gradient is zero, so without the rules a step changes only the counter, whatever its seed
/// and batch, and a ticket costs a hash.
#[test]
fn a_dead_discriminator_is_refused() {
    let c = chain();
    let dead = rewritten(&c, |name, v| {
        if network(name) == "dis" {
            v.fill(0.0)
        }
    });
    assert_refused(&c, &dead, "all zero");
    // Mining from it (the start a chain would have after one faked block) stops at once.
    let input = MineInput {
        header_hash: [3; 32],
        miner_id: b"m",
        start: &dead,
        params: &c.params,
        target: c.target,
        dataset: &c.dataset,
        store: &c.store,
    };
    let r = mine::<GanTrainer>(
        &input,
        MineOptions::default(),
        &mut |_| {},
        &AtomicBool::new(false),
    );
    assert!(matches!(r, Err(Error::DegenerateState(_))), "{:?}", r.err());
}

/// A dead generator: its products vanish, so its forward and backward passes could be skipped.
#[test]
fn a_dead_generator_is_refused() {
    let c = chain();
    let dead = rewritten(&c, |name, v| {
        if name.starts_with("gen.") && name.ends_with(".conv") {
            v.fill(0.0)
        }
    });
    assert_refused(&c, &dead, "all zero");
}

/// A saturated generator: its last layer's weights all large and positive, so every output's
/// tanh rounds to 1, its derivative to 0, and no generator tensor receives a gradient.
#[test]
fn a_saturated_generator_is_refused() {
    let c = chain();
    let last = c
        .params
        .spec
        .checkpoint_format()
        .unwrap()
        .names()
        .iter()
        .filter(|n| n.starts_with("gen.") && n.ends_with(".conv"))
        .max()
        .unwrap()
        .clone();
    let saturated = rewritten(&c, |name, v| {
        if name == last {
            v.fill(1000.0)
        }
    });
    assert_refused(&c, &saturated, "received no gradient");
}

/// A sparse layer: one huge weight, the rest quantized to zero in every product (a sparse
/// kernel could skip them).
#[test]
fn a_sparse_layer_is_refused() {
    let c = chain();
    let sparse = rewritten(&c, |name, v| {
        if name == "dis.b0.conv" {
            v.iter_mut().for_each(|x| *x *= 1e-9);
            v[0] = 1.0;
        }
    });
    assert_refused(&c, &sparse, "is sparse");
}

/// A step that moves nothing: the generator's first convolution scaled by 10^8 (batch norm
/// after it undoes the scale, so the outputs are unchanged), and Adam's update, about the
/// learning rate, is below the precision of weights that large.
#[test]
fn a_step_that_changes_nothing_is_refused() {
    let c = chain();
    let frozen = rewritten(&c, |name, v| {
        if name == "gen.b0.conv" {
            v.iter_mut().for_each(|x| *x *= 1e8);
        }
    });
    assert_refused(&c, &frozen, "did not change");
    assert_ne!(checkpoint_digest(&frozen), checkpoint_digest(&c.genesis));
}
