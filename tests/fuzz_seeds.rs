//! The fuzz targets' seed corpora, `fuzz/seeds/<target>/`: valid inputs of every target built
//! from the golden block (`tests/golden/`: its proof, parameters, checkpoints written by the GAN
//! trainer, trajectory) and from real datasets (the UCI digits, a growing dataset after one
//! append), so that fuzzing starts past the magic bytes and the CIDs. This test builds them,
//! checks each is valid for its target, and checks the committed files are exactly what it
//! builds (a format change makes it fail until they are regenerated with
//! `POUW_REGENERATE_FUZZ_SEEDS=1 cargo test --test fuzz_seeds`).
//!
//! Input conventions (see the targets): the patch targets read a first byte, odd for "the
//! target's own valid template, patched by the rest", even for "the rest as it is";
//! `determinism`'s first byte chooses the parser; `block_mutate` reads a list of field edits.

#[path = "../fuzz/shared/chain.rs"]
mod chain;
#[path = "../fuzz/shared/golden.rs"]
mod golden;
#[path = "../fuzz/shared/mock.rs"]
mod mock;

use pouw::capacity::{CapacityResponse, ResponseLimits};
use pouw::dataset::import::import_digits_csv;
use pouw::growth::{
    AppendProof, DatasetRequest, GenerationPointer, GrowingDataset, Ledger, Reputation,
    ReputationRule, RequestVote, CURRENT_FILE,
};
use pouw::learning::{BlobStore, DirStore, Trajectory};
use pouw::work::{ConsensusParams, FraudProof};
use pouw::Manifest;
use std::collections::BTreeMap;
use std::path::PathBuf;

const REGENERATE: &str = "POUW_REGENERATE_FUZZ_SEEDS";

/// Seeds by target, then by file name.
type Seeds = BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// The committed digits (not `POUW_DIGITS`: the seeds must not depend on the machine).
fn digits_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits.csv.gz")
}

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds")
}

/// `byte` followed by `rest`.
fn tagged(byte: u8, rest: &[u8]) -> Vec<u8> {
    [&[byte], rest].concat()
}

/// Real inputs from the golden files and the digits, each checked valid where it is built.
struct Real {
    proof: Vec<u8>,
    params: Vec<u8>,
    capacity: Vec<u8>,
    checkpoints: Vec<Vec<u8>>,
    trajectory: Vec<u8>,
    fraud: Vec<u8>,
    manifest: Vec<u8>,
    request: Vec<u8>,
    reputation: Vec<u8>,
    append: Vec<u8>,
    pointer: Vec<u8>,
}

fn real() -> Real {
    let proof = golden::proof();
    let params = golden::params();
    assert_eq!(ConsensusParams::to_bytes(params), golden::PARAMS);

    let capacity = proof.capacity.to_bytes();
    CapacityResponse::from_bytes(&capacity, &ResponseLimits::default()).unwrap();

    // The golden store: the checkpoints the GAN trainer wrote, and the trajectory companion.
    let store = DirStore::new(golden_dir().join("store")).unwrap();
    let format = golden::checkpoint_format();
    let mut checkpoints = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(golden_dir().join("store"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for path in names {
        let bytes = std::fs::read(&path).unwrap();
        if bytes.len() == format.size() {
            // The torch-free decoder reads what libtorch wrote, and re-encodes it exactly.
            let decoded = format.decode(&bytes).unwrap();
            assert_eq!(format.encode(&decoded).unwrap(), bytes, "{path:?}");
            checkpoints.push(bytes);
        }
    }
    assert!(checkpoints.len() >= 2, "the golden store holds checkpoints");
    let trajectory = store.get(&proof.trajectory_cid, 1 << 20).unwrap();
    Trajectory::from_bytes(&trajectory, proof.steps + 1).unwrap();

    // A fraud proof's encoding (a well-formed one; it proves nothing, the golden block is honest).
    let fraud = FraudProof {
        block_id: proof.id(),
        opening: proof.openings[0].clone(),
    }
    .to_bytes();
    FraudProof::from_bytes(&fraud, params).unwrap();

    // The digits, a request to grow them, and one append to them.
    let dir = tempfile::tempdir().unwrap();
    let digits = import_digits_csv(digits_path(), dir.path().join("digits"), None).unwrap();
    let manifest = digits.manifest().to_bytes();
    Manifest::from_bytes(&manifest).unwrap();
    let genesis: pouw::ident::Cid = String::from_utf8(golden::GENESIS.to_vec())
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let request = DatasetRequest::for_dataset(
        &digits,
        pouw::hash::sha3_256(&pouw::learning::TaskSpec::to_bytes(&params.spec)),
        genesis,
        0.0,
        2000,
    )
    .unwrap()
    .to_bytes();
    DatasetRequest::from_bytes(&request).unwrap();
    let mut reputation = Reputation::new(ReputationRule::default()).unwrap();
    reputation.add(b"alice", 120, 3).unwrap();
    reputation.add(b"mallory", 2, 40).unwrap();
    let reputation = reputation.to_bytes();
    Reputation::from_bytes(&reputation).unwrap();
    let mut grown = GrowingDataset::create(dir.path().join("home"), digits.dir()).unwrap();
    let added: Vec<&[u8]> = vec![&[3; 64], &[5; 64]];
    let append = grown.append(&added).unwrap();
    append.verify().unwrap();
    let append = append.to_bytes();
    AppendProof::from_bytes(&append).unwrap();
    let pointer = std::fs::read(grown.home().join(CURRENT_FILE)).unwrap();
    GenerationPointer::from_bytes(&pointer).unwrap();

    Real {
        proof: golden::PROOF.to_vec(),
        params: golden::PARAMS.to_vec(),
        capacity,
        checkpoints,
        trajectory,
        fraud,
        manifest,
        request,
        reputation,
        append,
        pointer,
    }
}

/// `block_mutate`'s edit lists: none (the honest block), then one edit of each field kind
/// (opcode, then the operand bytes, zeros by default) and of each opening field.
fn edit_lists() -> BTreeMap<String, Vec<u8>> {
    let mut lists = BTreeMap::new();
    lists.insert("honest".to_owned(), Vec::new());
    for op in 0u8..13 {
        lists.insert(format!("edit-{op:02}"), tagged(op, &[0; 12]));
    }
    for field in 0u8..9 {
        // Opcode 8, opening 0 (u16), the opening's field.
        lists.insert(
            format!("edit-08-opening-{field}"),
            [&[8, 0, 0, field][..], &[0; 12]].concat(),
        );
    }
    lists
}

/// A root node over two small raw leaves, then the leaves, as `dag_read` reads blocks (`u32`
/// length, bytes). Small leaves make it a DAG no importer writes, which the reader refuses at
/// its last check, after walking it.
fn dag_of_two_leaves() -> Vec<u8> {
    use pouw::ident::{cid_of, unixfs::encode_node, Link};
    let leaves: [&[u8]; 2] = [b"pouw", b"dag"];
    let links: Vec<Link> = leaves
        .iter()
        .map(|l| Link {
            cid: cid_of(l),
            file_size: l.len() as u64,
            tsize: l.len() as u64,
        })
        .collect();
    let mut out = Vec::new();
    for block in [encode_node(&links).as_slice(), leaves[0], leaves[1]] {
        out.extend_from_slice(&(block.len() as u32).to_le_bytes());
        out.extend_from_slice(block);
    }
    out
}

fn build() -> Seeds {
    let r = real();
    let chain = chain::chain();
    pouw::work::verify::<mock::Mock>(&chain.input(&chain.store), &chain.honest).unwrap();
    let mut seeds = Seeds::new();
    let mut put = |target: &'static str, name: &str, bytes: Vec<u8>| {
        seeds
            .entry(target)
            .or_default()
            .insert(name.to_owned(), bytes);
    };
    // The patch targets' own template, unpatched.
    for target in [
        "append_proof_decode",
        "block_verify",
        "capacity_verify",
        "checkpoint_decode",
        "pointer_decode",
        "ledger_block",
        "reputation_decode",
        "request_decode",
        "submission_decode",
    ] {
        put(target, "template", vec![1]);
    }
    put("block_decode", "golden-proof", r.proof.clone());
    put(
        "record_free_decode",
        "golden-proof",
        golden::proof().record_free().to_bytes(),
    );
    put("block_verify", "honest", tagged(0, &chain.honest));
    put("block_verify", "golden-proof", tagged(0, &r.proof));
    put("capacity_decode", "golden-response", r.capacity.clone());
    for (i, c) in r.checkpoints.iter().enumerate() {
        put("checkpoint_decode", &format!("golden-{i}"), tagged(0, c));
    }
    put("manifest_decode", "digits", r.manifest.clone());
    put("dag_read", "two-leaves", dag_of_two_leaves());
    put("request_decode", "digits", tagged(0, &r.request));
    put(
        "reputation_decode",
        "two-submitters",
        tagged(0, &r.reputation),
    );
    put("append_proof_decode", "digits-append", tagged(0, &r.append));
    let vote = RequestVote {
        request: DatasetRequest::from_bytes(&r.request).unwrap().cid(),
        bit: 3,
        window: 4,
        threshold: 3,
        start_height: 4,
        timeout_height: 16,
        min_activation_height: 0,
    };
    put("ledger_block", "vote", tagged(0, &vote.to_bytes()));
    let ledger = Ledger::new(ReputationRule::default(), [0; 32]).unwrap();
    put(
        "ledger_block",
        "empty-ledger",
        tagged(0, &ledger.to_bytes()),
    );
    put("pointer_decode", "digits-append", tagged(0, &r.pointer));
    for (name, list) in edit_lists() {
        put("block_mutate", &name, list);
    }
    // `determinism`: the parser's number, then a valid input of it.
    let parsers: [(&str, &[u8]); 12] = [
        ("block-proof", &r.proof),
        ("mock-verify", &chain.honest),
        ("checkpoint", &r.checkpoints[0]),
        ("manifest", &r.manifest),
        ("capacity-response", &r.capacity),
        ("request", &r.request),
        ("reputation", &r.reputation),
        ("append-proof", &r.append),
        ("pointer", &r.pointer),
        ("params", &r.params),
        ("trajectory", &r.trajectory),
        ("fraud-proof", &r.fraud),
    ];
    for (i, (name, bytes)) in parsers.into_iter().enumerate() {
        put(
            "determinism",
            &format!("{i:02}-{name}"),
            tagged(i as u8, bytes),
        );
    }
    seeds
}

fn committed() -> Seeds {
    let mut seeds = Seeds::new();
    let Ok(targets) = std::fs::read_dir(seeds_dir()) else {
        return seeds;
    };
    for target in targets {
        let target = target.unwrap();
        let name: &'static str = target.file_name().to_string_lossy().into_owned().leak();
        let files = seeds.entry(name).or_default();
        for file in std::fs::read_dir(target.path()).unwrap() {
            let file = file.unwrap();
            files.insert(
                file.file_name().to_string_lossy().into_owned(),
                std::fs::read(file.path()).unwrap(),
            );
        }
    }
    seeds
}

#[test]
fn committed_seeds_are_the_valid_inputs_built_from_the_golden_files() {
    let built = build();
    if std::env::var_os(REGENERATE).is_some() {
        let _ = std::fs::remove_dir_all(seeds_dir());
        for (target, files) in &built {
            let dir = seeds_dir().join(target);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, bytes) in files {
                std::fs::write(dir.join(name), bytes).unwrap();
            }
        }
    }
    // Every fuzz target has seeds (a new target gets some).
    let manifest =
        std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/Cargo.toml"))
            .unwrap();
    // The name of each `[[bin]]` (not the package's, nor its library's).
    let targets: Vec<&str> = manifest
        .split("[[bin]]")
        .skip(1)
        .filter_map(|section| section.lines().find_map(|l| l.strip_prefix("name = \"")))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    assert!(targets.len() >= 13, "{targets:?}");
    for t in targets {
        assert!(built.contains_key(t), "fuzz target {t} has no seeds");
    }
    let committed = committed();
    let summary = |s: &Seeds| -> Vec<(String, usize)> {
        s.iter()
            .flat_map(|(t, f)| f.iter().map(move |(n, b)| (format!("{t}/{n}"), b.len())))
            .collect()
    };
    assert_eq!(
        summary(&committed),
        summary(&built),
        "fuzz/seeds differs from what the golden files give; regenerate with \
         `{REGENERATE}=1 cargo test --test fuzz_seeds`"
    );
    assert!(
        committed == built,
        "a seed's bytes differ; regenerate with `{REGENERATE}=1 cargo test --test fuzz_seeds`"
    );
}
