//! Golden block proofs checked into `tests/golden/`: they must keep verifying, and re-mining
//! with the same inputs must give the same bytes. When a deliberate change (with a
//! `PROTOCOL_VERSION` bump) breaks them, regenerate with
//! `POUW_REGENERATE_GOLDEN=1 cargo test --test golden`.
#![cfg(feature = "torch")]

mod common;

use common::flat::{audit, audit_segment, verify, verify_fraud_proof};

use pouw::learning::gan::{GanSpec, GanTrainer};
use pouw::learning::DeviceChoice;
use pouw::learning::{BlobStore, DirStore};
use pouw::work::{mine, ConsensusParams, MineInput, MineOptions, Target};
use std::sync::atomic::AtomicBool;

use common::golden::{dir as golden_dir, read, Golden, EXPECTED_STEPS, HEADER, MINER, REGENERATE};

/// The golden setup: a tiny model on the digits.
fn params(ds: &pouw::Dataset) -> ConsensusParams<GanSpec> {
    let mut params = common::work::small_params(ds);
    params.spec.latent = 16;
    params.max_steps = 64;
    params
}

/// Mines the golden block into `store`; returns (params bytes, genesis bytes, proof bytes).
fn mine_golden(ds: &pouw::Dataset, store: &dyn BlobStore) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let params = params(ds);
    let genesis = common::mine::genesis_in::<GanTrainer>(&params.spec, store);
    let input = MineInput {
        header_hash: HEADER,
        miner_id: MINER,
        start: &genesis,
        params: &params,
        target: Target::from_expected_steps(EXPECTED_STEPS),
        dataset: ds,
        store,
    };
    let block = common::mine::mine_found::<GanTrainer>(&input, MineOptions::default());
    store.put(&block.winning_checkpoint).unwrap();
    (params.to_bytes(), genesis, block.proof.to_bytes())
}

#[test]
fn golden_proofs_keep_verifying() {
    if std::env::var_os("POUW_REGENERATE_GOLDEN").is_some() {
        let (_dir, ds) = common::digits_dataset();
        let dir = golden_dir();
        // The current version's files only: older versions' (`v3/`, ...) stay, and verify.
        let _ = std::fs::remove_dir_all(dir.join("store"));
        let store = DirStore::new(dir.join("store")).unwrap();
        let (params, genesis, proof) = mine_golden(&ds, &store);
        std::fs::write(dir.join("params.bin"), params).unwrap();
        std::fs::write(
            dir.join("genesis.cid"),
            pouw::ident::cid_of(&genesis).to_string(),
        )
        .unwrap();
        std::fs::write(dir.join("proof.bin"), proof).unwrap();
        std::fs::write(dir.join("README.md"), GOLDEN_README).unwrap();
    }
    let golden = Golden::load();
    let verdict = verify::<GanTrainer>(&golden.input(), &golden.proof)
        .unwrap_or_else(|e| panic!("golden proof no longer verifies ({e}); if this change is deliberate, bump PROTOCOL_VERSION and run `{REGENERATE}`"));
    assert!(verdict.steps >= 1);
}

/// Blocks of every protocol version this build verifies keep verifying (a node syncing history
/// after an upgrade checks them under the version their parameters state), and their proofs
/// re-encode to the same bytes.
#[test]
fn golden_proofs_of_older_versions_keep_verifying() {
    use pouw::work::{BlockProof, ProofLimits, ProtocolVersion};
    let mut versions = Vec::new();
    for entry in std::fs::read_dir(golden_dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(v) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix('v'))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let golden = Golden::load_from(&path);
        assert_eq!(golden.params.protocol_version.number(), v);
        let verdict = verify::<GanTrainer>(&golden.input(), &golden.proof)
            .unwrap_or_else(|e| panic!("the protocol {v} golden proof no longer verifies: {e}"));
        assert!(verdict.steps >= 1);
        let limits = ProofLimits::of(&golden.params);
        let proof = BlockProof::from_bytes(&golden.proof, &limits).unwrap();
        assert_eq!(proof.version.number(), v);
        assert_eq!(proof.to_bytes(), golden.proof);
        // Under the current version's parameters, an old proof is refused, and the other way
        // round.
        let current = Golden::load();
        let r = BlockProof::from_bytes(&golden.proof, &ProofLimits::of(&current.params));
        assert!(
            matches!(r, Err(pouw::Error::UnsupportedVersion { .. })),
            "{r:?}"
        );
        let r = BlockProof::from_bytes(&current.proof, &limits);
        assert!(
            matches!(r, Err(pouw::Error::UnsupportedVersion { .. })),
            "{r:?}"
        );
        // Blocks of old versions are audited (whole, and as their one segment: their proofs
        // name no segment starts) and fraud-proven like current ones.
        let (_dir, ds) = common::digits_dataset();
        audits_and_fraud_proofs_work(&golden, &ds, v);
        // Blocks of old versions are verified, never mined.
        let input = MineInput {
            header_hash: [1; 32],
            miner_id: b"m",
            start: &[],
            params: &golden.params,
            target: Target::from_expected_steps(1),
            dataset: &ds,
            store: &golden.store,
        };
        let r = mine::<GanTrainer>(
            &input,
            MineOptions::default(),
            &mut |_| {},
            &AtomicBool::new(false),
        );
        assert!(
            matches!(r, Err(pouw::Error::UnsupportedVersion { .. })),
            "{:?}",
            r.err()
        );
        versions.push(v);
    }
    versions.sort();
    let expected: Vec<u32> = (ProtocolVersion::OLDEST.number()..pouw::PROTOCOL_VERSION).collect();
    assert_eq!(versions, expected, "one golden directory per older version");
}

/// Audits the golden block of version `v` whole and segment by segment, and checks that a
/// fraud proof against one of its (honest) steps is refused as no fraud, while the same proof
/// under another block identity is refused as unbound.
fn audits_and_fraud_proofs_work(golden: &Golden, ds: &pouw::Dataset, v: u32) {
    use pouw::work::{
        segment_count, AuditInput, AuditOutcome, BlockProof, FraudCheckInput, FraudProof,
        ProofLimits,
    };
    let genesis = golden.store.get(&golden.start.cid, u64::MAX).unwrap();
    let input = AuditInput {
        header_hash: HEADER,
        miner_id: MINER,
        start: &genesis,
        params: &golden.params,
        target: Target::from_expected_steps(EXPECTED_STEPS),
        dataset: ds,
        store: &golden.store,
        device: DeviceChoice::Cpu,
    };
    let never = AtomicBool::new(false);
    let proof = BlockProof::from_bytes(&golden.proof, &ProofLimits::of(&golden.params)).unwrap();
    let whole = audit::<GanTrainer>(&input, &golden.proof, &mut |_| {}, &never).unwrap();
    assert!(
        matches!(whole, AuditOutcome::Agrees { steps } if steps == proof.steps),
        "protocol {v}: {whole:?}"
    );
    let segments = segment_count(&golden.params, proof.steps).unwrap();
    if v < 5 {
        assert_eq!(segments, 1);
    }
    for m in 0..segments {
        let r = audit_segment::<GanTrainer>(&input, &golden.proof, m, &mut |_| {}, &never).unwrap();
        assert!(
            matches!(r, AuditOutcome::Agrees { .. }),
            "protocol {v} segment {m}: {r:?}"
        );
    }
    // The winning step, "proven" wrong: it is honest. (Its start is published by the block.)
    let winning = proof.openings.last().unwrap().clone();
    let fraud = FraudProof {
        block_id: proof.id(),
        opening: winning.clone(),
    };
    let check = |block_id| FraudCheckInput {
        params: &golden.params,
        block_id,
        start_steps: golden.start.steps,
        store: &golden.store,
        device: DeviceChoice::Cpu,
    };
    let r = verify_fraud_proof::<GanTrainer>(&check(proof.id()), &golden.proof, &fraud.to_bytes());
    assert!(
        matches!(r, Err(pouw::Error::NotFraud { step }) if step == proof.steps),
        "protocol {v}: {r:?}"
    );
    let r = verify_fraud_proof::<GanTrainer>(&check([9; 32]), &golden.proof, &fraud.to_bytes());
    assert!(
        matches!(r, Err(pouw::Error::Binding { .. })),
        "protocol {v}: {r:?}"
    );
}

#[test]
fn the_current_golden_block_audits_and_is_never_proven_wrong() {
    let (_dir, ds) = common::digits_dataset();
    audits_and_fraud_proofs_work(&Golden::load(), &ds, pouw::PROTOCOL_VERSION);
}

#[test]
fn re_mining_the_golden_block_gives_the_same_bytes() {
    if std::env::var_os("POUW_REGENERATE_GOLDEN").is_some() {
        return; // the other test is rewriting the files
    }
    let (_dir, ds) = common::digits_dataset();
    let scratch = tempfile::tempdir().unwrap();
    let (params, _, proof) = mine_golden(&ds, &DirStore::new(scratch.path()).unwrap());
    assert!(
        params == read("params.bin") && proof == read("proof.bin"),
        "golden proofs are stale: regenerate with `{REGENERATE}` (with a PROTOCOL_VERSION bump)"
    );
}

const GOLDEN_README: &str = "# Golden block proofs\n\n\
Made by `tests/golden.rs` (`POUW_REGENERATE_GOLDEN=1 cargo test --test golden`; only together with a\n\
`PROTOCOL_VERSION` bump). The Rust, C and Go tests verify them.\n\n\
- `params.bin`: canonical consensus parameters (tiny GAN: latent 16, filters 16/8, batch 16; 4 opened\n\
  steps, 8 capacity challenges) over the UCI digits (`tests/data/digits.csv.gz`).\n\
- `genesis.cid`: CID of the start checkpoint (GAN from seed 32 zero bytes).\n\
- `proof.bin`: the block proof for header hash 32 bytes of 0x42, miner id `golden-miner`, target\n\
  `Target::from_expected_steps(8)`.\n\
- `store/`: the checkpoints the proof names and the trajectory companion (a `DirStore`: files\n\
  named by their CID; stores written before the `BlobStore` rename name them `<cid>.safetensors`,\n\
  which a `DirStore` still reads).\n\
- `v3/`, ...: the same files for every older protocol version this build verifies, kept as they\n\
  were made; they must keep verifying (`golden_proofs_of_older_versions_keep_verifying`).\n";
