//! The record-free proof form: the same verdict as the self-contained form for a verifier that
//! holds the dataset, a fraction of the bytes, and every forged capacity digest refused.
#![cfg(feature = "torch")]

mod common;

use common::flat::{verify, verify_record_free};

use common::work::chain;
use pouw::learning::gan::GanTrainer;
use pouw::work::{ProofLimits, RecordFreeProof};
use pouw::Error;

const MINER: &[u8] = b"miner-1";

#[test]
fn both_forms_reach_the_same_verdict() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let start = c.genesis_start();
    let input = c.input([1; 32], MINER, &start);
    let full = block.proof.to_bytes();
    let compact = block.proof.record_free().to_bytes();
    let a = verify::<GanTrainer>(&input, &full).unwrap();
    let b = verify_record_free::<GanTrainer>(&input, &c.dataset, &compact).unwrap();
    assert_eq!(a, b);
    assert!(
        compact.len() * 4 < full.len(),
        "record-free {} bytes, self-contained {}",
        compact.len(),
        full.len()
    );
    // Decoding and re-encoding gives the same bytes; the expansion is the mined proof.
    let limits = ProofLimits::of(&c.params);
    let decoded = RecordFreeProof::from_bytes(&compact, &limits).unwrap();
    assert_eq!(decoded.to_bytes(), compact);
    assert_eq!(decoded.expand(&c.params, &c.dataset).unwrap(), block.proof);
    // One form is not the other.
    assert!(matches!(
        verify::<GanTrainer>(&input, &compact),
        Err(Error::BadMagic { .. })
    ));
    assert!(matches!(
        verify_record_free::<GanTrainer>(&input, &c.dataset, &full),
        Err(Error::BadMagic { .. })
    ));
}

#[test]
fn forged_capacity_digests_are_refused() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let start = c.genesis_start();
    let input = c.input([1; 32], MINER, &start);
    let honest = block.proof.record_free();
    let check = |p: &RecordFreeProof| {
        verify_record_free::<GanTrainer>(&input, &c.dataset, &p.to_bytes()).unwrap_err()
    };
    // Any one digest wrong.
    for k in 0..honest.capacity_digests.len() {
        let mut p = honest.clone();
        p.capacity_digests[k][0] ^= 1;
        assert!(
            matches!(
                check(&p),
                Error::InvalidField {
                    what: "capacity digest",
                    ..
                }
            ),
            "digest {k}"
        );
    }
    // Digests keyed to another miner or another header (a miner reusing someone's answers, or
    // answering before the header): the records are right, the keys are not.
    let response = &block.proof.capacity;
    for (header, miner) in [([1u8; 32], &b"miner-2"[..]), ([2u8; 32], MINER)] {
        let mut p = honest.clone();
        p.capacity_digests = response
            .indices
            .iter()
            .zip(&response.records)
            .map(|(i, r)| pouw::capacity::record_digest(&header, miner, *i, r))
            .collect();
        assert!(matches!(
            check(&p),
            Error::InvalidField {
                what: "capacity digest",
                ..
            }
        ));
    }
    // A digest missing.
    let mut p = honest.clone();
    p.capacity_digests.pop();
    assert!(matches!(check(&p), Error::ChallengeCount { .. }));
}

#[test]
fn a_verifier_with_another_dataset_refuses() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let start = c.genesis_start();
    let input = c.input([1; 32], MINER, &start);
    let compact = block.proof.record_free().to_bytes();
    let dir = tempfile::tempdir().unwrap();
    let other = pouw::dataset::import::import_digits_csv(
        common::digits_path(),
        dir.path(),
        Some(c.dataset.len() - 1),
    )
    .unwrap();
    let r = verify_record_free::<GanTrainer>(&input, &other, &compact);
    assert!(matches!(r, Err(Error::DatasetMismatch { .. })), "{r:?}");
    // The claims are checked before the dataset is read: a proof for another header is refused
    // for its binding, whatever the verifier's copy.
    let other_header = c.input([2; 32], MINER, &start);
    let r = verify_record_free::<GanTrainer>(&other_header, &other, &compact);
    assert!(
        matches!(r, Err(Error::Binding { field: "header" })),
        "{r:?}"
    );
}

#[test]
fn every_truncation_is_refused() {
    let c = chain();
    let block = c.mine([1; 32], MINER, &c.genesis);
    let compact = block.proof.record_free().to_bytes();
    let limits = ProofLimits::of(&c.params);
    for cut in 0..compact.len() {
        let r = RecordFreeProof::from_bytes(&compact[..cut], &limits);
        assert!(
            matches!(r, Err(Error::Truncated { .. })),
            "cut {cut}: {r:?}"
        );
    }
    let mut long = compact.clone();
    long.push(0);
    assert!(matches!(
        RecordFreeProof::from_bytes(&long, &limits),
        Err(Error::TrailingBytes(_))
    ));
}
