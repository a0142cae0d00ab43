//! The work function: mining and verifying chained blocks, concurrency, and rejection of every
//! kind of bad proof.
#![cfg(feature = "torch")]

mod common;

use common::work::chain;
use pouw::ident::cid_of;
use pouw::learning::gan::GanTrainer;
use pouw::work::{verify, BlockProof, ProofLimits};
use pouw::Error;

const MINER: &[u8] = b"miner-1";

#[test]
fn three_chained_blocks_mine_and_verify() {
    let c = chain();
    let mut start = c.genesis.clone();
    for height in 0..3u8 {
        let header = [height + 1; 32];
        let block = c.mine(header, MINER, &start);
        let start_cid = cid_of(&start);
        let verdict =
            verify::<GanTrainer>(&c.input(header, MINER, &start_cid), &block.proof.to_bytes())
                .unwrap();
        assert_eq!(verdict.steps, block.proof.steps);
        assert_eq!(
            verdict.winning_checkpoint,
            cid_of(&block.winning_checkpoint)
        );
        assert_eq!(*verdict.opened.last().unwrap(), verdict.steps);
        assert!(verdict.start_quality.is_finite() && verdict.end_quality.is_finite());
        start = block.winning_checkpoint;
    }
}

#[test]
fn proof_round_trips_through_its_encoding() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    assert_eq!(
        BlockProof::from_bytes(&bytes, &ProofLimits::of(&c.params)).unwrap(),
        block.proof
    );
}

#[test]
fn bindings_are_checked() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let genesis = cid_of(&c.genesis);
    let check =
        |input: pouw::work::VerifyInput<'_, _>| verify::<GanTrainer>(&input, &bytes).unwrap_err();
    assert!(matches!(
        check(c.input([2; 32], MINER, &genesis)),
        Error::Binding { field: "header" }
    ));
    assert!(matches!(
        check(c.input([1; 32], b"miner-2", &genesis)),
        Error::Binding { field: "miner id" }
    ));
    let mut other = c.params.clone();
    other.opened_steps += 1;
    let input = pouw::work::VerifyInput {
        params: &other,
        ..c.input([1; 32], MINER, &genesis)
    };
    assert!(matches!(
        check(input),
        Error::Binding {
            field: "parameters"
        }
    ));
    // A start checkpoint that is not the claimed one.
    let not_start = cid_of(&block.winning_checkpoint);
    pouw::learning::CheckpointStore::put(&c.store, &block.winning_checkpoint).unwrap();
    assert!(matches!(
        check(c.input([1; 32], MINER, &not_start)),
        Error::Binding {
            field: "start checkpoint"
        }
    ));
    // A harder target than the block met (if its ticket is not below the new target).
    let hard = pouw::work::VerifyInput {
        target: pouw::work::Target([0; 32]),
        ..c.input([1; 32], MINER, &genesis)
    };
    assert!(matches!(check(hard), Error::TicketAboveTarget { .. }));
}

#[test]
fn a_replayed_opening_from_another_block_is_rejected() {
    let c = chain();
    let a = c.mine([1; 32], MINER, &c.genesis);
    // A second block with an opening besides the winning one, to replace.
    let (header, b) = (2u8..)
        .map(|h| ([h; 32], c.mine([h; 32], MINER, &c.genesis)))
        .find(|(_, b)| b.proof.openings.len() > 1)
        .unwrap();
    let mut forged = b.proof.clone();
    forged.openings[0] = a.proof.openings[0].clone();
    let genesis = cid_of(&c.genesis);
    let err =
        verify::<GanTrainer>(&c.input(header, MINER, &genesis), &forged.to_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidField {
                what: "opened steps",
                ..
            } | Error::RootMismatch
                | Error::ProofLength { .. }
        ),
        "{err:?}"
    );
}

#[test]
fn every_truncation_is_rejected_cheaply() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let bytes = block.proof.to_bytes();
    let genesis = cid_of(&c.genesis);
    let input = c.input([1; 32], MINER, &genesis);
    for cut in 0..bytes.len() {
        let err = verify::<GanTrainer>(&input, &bytes[..cut]).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Truncated { .. }
                    | Error::BadMagic { .. }
                    | Error::LimitExceeded { .. }
                    | Error::InvalidField { .. }
            ),
            "cut {cut}: {err:?}"
        );
    }
    let mut long = bytes.clone();
    long.push(0);
    assert!(matches!(
        verify::<GanTrainer>(&input, &long),
        Err(Error::TrailingBytes(1))
    ));
}

/// Mutates every field of a valid proof in turn: each mutation must be rejected.
#[test]
fn every_field_mutation_is_rejected() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let genesis = cid_of(&c.genesis);
    let input = c.input([1; 32], MINER, &genesis);
    let reject = |p: &BlockProof, what: &str| {
        let result = verify::<GanTrainer>(&input, &p.to_bytes());
        assert!(result.is_err(), "mutation of {what} was accepted");
    };
    let flip = |d: &mut [u8; 32]| d[0] ^= 1;
    let p = &block.proof;
    let mut m = p.clone();
    flip(&mut m.params_digest);
    reject(&m, "params digest");
    let mut m = p.clone();
    flip(&mut m.header_hash);
    reject(&m, "header hash");
    let mut m = p.clone();
    m.miner_id.push(b'x');
    reject(&m, "miner id");
    let mut m = p.clone();
    flip(&mut m.start_digest);
    reject(&m, "start digest");
    let mut m = p.clone();
    if let Some(n) = m.start_proof.nodes.first_mut() {
        flip(n);
        reject(&m, "start proof");
    }
    let mut m = p.clone();
    m.steps += 1;
    reject(&m, "steps");
    let mut m = p.clone();
    flip(&mut m.trajectory_root);
    reject(&m, "trajectory root");
    for (k, o) in p.openings.iter().enumerate() {
        let mut m = p.clone();
        m.openings[k].trajectory.step += 1;
        reject(&m, "opened step");
        let mut m = p.clone();
        flip(&mut m.openings[k].trajectory.prev);
        reject(&m, "opening prev");
        let mut m = p.clone();
        flip(&mut m.openings[k].trajectory.next);
        reject(&m, "opening next");
        if !o.trajectory.proof.nodes.is_empty() {
            let mut m = p.clone();
            flip(&mut m.openings[k].trajectory.proof.nodes[0]);
            reject(&m, "opening trajectory proof");
        }
        let mut m = p.clone();
        m.openings[k].start = genesis_or_other(&c, &o.start);
        reject(&m, "opening start cid");
        let mut m = p.clone();
        m.openings[k].records[0] ^= 1;
        reject(&m, "opening records");
        if !o.records_proof.nodes.is_empty() {
            let mut m = p.clone();
            flip(&mut m.openings[k].records_proof.nodes[0]);
            reject(&m, "opening records proof");
        }
    }
    let mut m = p.clone();
    m.openings.last_mut().unwrap().end = None;
    reject(&m, "winning end cid");
    let mut m = p.clone();
    m.capacity.records[0][0] ^= 1;
    reject(&m, "capacity record");
    let mut m = p.clone();
    m.capacity.indices.swap(0, 1);
    reject(&m, "capacity indices");
    let mut m = p.clone();
    m.openings.remove(0);
    reject(&m, "opening count");
}

/// A CID of a stored checkpoint other than `cid`.
fn genesis_or_other(c: &common::work::Chain, cid: &pouw::ident::Cid) -> pouw::ident::Cid {
    let genesis = cid_of(&c.genesis);
    if *cid == genesis {
        pouw::ident::cid_of(b"not a checkpoint")
    } else {
        genesis
    }
}

#[test]
fn verify_runs_alongside_mining_with_identical_results() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let genesis = cid_of(&c.genesis);
    let alone =
        verify::<GanTrainer>(&c.input([1; 32], MINER, &genesis), &block.proof.to_bytes()).unwrap();
    let bytes = block.proof.to_bytes();
    std::thread::scope(|s| {
        let miner = s.spawn(|| c.mine([9; 32], MINER, &c.genesis));
        let verifiers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    verify::<GanTrainer>(&c.input([1; 32], MINER, &genesis), &bytes).unwrap()
                })
            })
            .collect();
        for v in verifiers {
            assert_eq!(v.join().unwrap(), alone);
        }
        let mined = miner.join().unwrap();
        assert_eq!(
            mined.proof,
            c.mine([9; 32], MINER, &c.genesis).proof,
            "mining alongside verifiers is unchanged"
        );
    });
}
