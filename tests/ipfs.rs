//! Against real IPFS nodes (js-ipfs on loopback, started by `scripts/ipfs-node.sh`; the test
//! suite exports their RPC addresses as `POUW_IPFS_A` and `POUW_IPFS_B`, B connected to A):
//! the CIDs pouw computes are the ones a node gives; files round-trip at every boundary size;
//! a block mined with its checkpoints on node A verifies from node B, which starts empty and
//! gets them by bitswap; a node that flips a byte, a missing object, a silent node and a dead
//! one each give their own error; a dataset travels by its CID.
#![cfg(feature = "ipfs")]

mod common;

use common::flat::verify;

use common::unixfs_golden::{file, GOLDEN};
use pouw::ident::unixfs::CHUNK_SIZE;
use pouw::ident::{cid_of, Cid, MAX_LINKS};
use pouw::ipfs::{fetch_dataset, publish_dataset, IpfsOptions, IpfsStore};
use pouw::learning::BlobStore;
use pouw::learning::DeviceChoice;
use pouw::Error;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A file that no node holds.
fn unpublished(n: usize) -> Vec<u8> {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    (0..n)
        .map(|i| pouw::hash::sha3_256(&(seed + i as u128 / 32).to_le_bytes())[i % 32])
        .collect()
}

fn endpoint(var: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| {
        panic!(
            "{var} is not set: these tests need the loopback IPFS nodes that scripts/test.sh \
             starts (scripts/ipfs-node.sh start-pair prints the variables)"
        )
    })
}

fn node_a() -> IpfsStore {
    IpfsStore::new(&endpoint("POUW_IPFS_A")).unwrap()
}

fn node_b() -> IpfsStore {
    IpfsStore::new(&endpoint("POUW_IPFS_B")).unwrap()
}

#[test]
fn the_node_names_every_boundary_size_as_pouw_does() {
    let a = node_a();
    for (n, golden) in GOLDEN {
        let bytes = file(n);
        assert_eq!(cid_of(&bytes).to_string(), golden, "pouw, size {n}");
        // `put` fails unless the node's CID is pouw's.
        let cid = a.put(&bytes).unwrap();
        assert_eq!(cid.to_string(), golden, "node, size {n}");
        let back = a.get(&cid, n as u64).unwrap();
        assert!(back == bytes, "size {n} read back differs");
    }
    assert_eq!(MAX_LINKS * CHUNK_SIZE, 45_613_056, "a full one-level tree");
}

#[test]
fn files_travel_from_node_to_node_by_bitswap() {
    let (a, b) = (node_a(), node_b());
    for n in [1, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 17] {
        let bytes = unpublished(n);
        let cid = a.put(&bytes).unwrap();
        assert!(b.get(&cid, n as u64).unwrap() == bytes, "size {n}");
    }
}

#[test]
fn a_block_mined_on_one_node_verifies_from_another() {
    use pouw::learning::gan::GanTrainer;
    use pouw::learning::ProofOfLearning;
    use pouw::work::{MineInput, MineOptions, Start, VerifyInput};

    let c = common::work::chain();
    // Wider nets than the other work tests: checkpoints of several blocks each.
    let mut params = c.params.clone();
    params.spec.g_filters = 48;
    params.spec.d_filters = 24;
    let genesis = GanTrainer::from_seed(
        &params.spec,
        &unpublished(32).try_into().unwrap(),
        DeviceChoice::Cpu,
    )
    .unwrap()
    .checkpoint()
    .unwrap();
    assert!(genesis.len() > 2 * CHUNK_SIZE, "{} bytes", genesis.len());
    let (a, b) = (node_a(), node_b());
    let genesis_cid = a.put(&genesis).unwrap();
    let input = MineInput {
        header_hash: [7; 32],
        miner_id: b"ipfs-miner",
        start: &genesis,
        params: &params,
        target: c.target,
        dataset: &c.dataset,
        store: &a,
    };
    let block = common::mine::mine_found::<GanTrainer>(&input, MineOptions::default());
    let start = Start::of_checkpoint::<GanTrainer>(&params.spec, &genesis).unwrap();
    assert_eq!(start.cid, genesis_cid);
    // Node B has none of it: every checkpoint comes from A over bitswap.
    for cid in block.proof.required_cids() {
        assert!(cid.codec() == pouw::ident::DAG_PB_CODEC || cid == block.proof.trajectory_cid);
    }
    let verify_input = VerifyInput {
        header_hash: [7; 32],
        miner_id: b"ipfs-miner",
        start: &start,
        params: &params,
        target: c.target,
        store: &b,
        device: DeviceChoice::Cpu,
    };
    let verdict = verify::<GanTrainer>(&verify_input, &block.proof.to_bytes()).unwrap();
    assert_eq!(verdict.steps, block.proof.steps);
    assert_eq!(
        verdict.next.cid,
        cid_of(&block.winning_checkpoint),
        "the next block starts from the winner"
    );
}

/// What a [`proxy`] answered: each request's path and the length of its answer's body.
type Answered = Arc<Mutex<Vec<(String, usize)>>>;

/// An HTTP server standing in for a node: it forwards each request to `upstream` and flips one
/// byte of every `block/get` answer.
fn tampering_proxy(upstream: String) -> String {
    proxy(upstream, true).0
}

/// An HTTP server standing in for a node: it forwards each request to `upstream`, flips one byte
/// of every `block/get` answer if `tamper`, and logs what it answered.
fn proxy(upstream: String, tamper: bool) -> (String, Answered) {
    let answered = Answered::default();
    let log = answered.clone();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let (agent, upstream, log) = (agent.clone(), upstream.clone(), log.clone());
            std::thread::spawn(move || {
                let _ = serve(conn, &agent, &upstream, tamper, &log);
            });
        }
    });
    (addr, answered)
}

fn serve(
    conn: TcpStream,
    agent: &ureq::Agent,
    upstream: &str,
    tamper: bool,
    log: &Answered,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut conn = conn;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            if h.trim().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let mut answer = agent
            .post(&format!("{upstream}{path}"))
            .send(&body[..])
            .map_err(std::io::Error::other)?;
        let status = answer.status().as_u16();
        let mut bytes = answer
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_vec()
            .map_err(std::io::Error::other)?;
        log.lock().unwrap().push((path.clone(), bytes.len()));
        if tamper && path.starts_with("/api/v0/block/get") && !bytes.is_empty() {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
        }
        write!(
            conn,
            "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
            bytes.len()
        )?;
        conn.write_all(&bytes)?;
    }
}

#[test]
fn a_node_that_flips_a_byte_is_caught_and_named() {
    let a = node_a();
    let proxy = IpfsStore::new(&tampering_proxy(endpoint("POUW_IPFS_A"))).unwrap();
    for n in [100, 2 * CHUNK_SIZE + 1] {
        let bytes = unpublished(n);
        let cid = a.put(&bytes).unwrap();
        let r = proxy.get(&cid, n as u64);
        assert!(matches!(r, Err(Error::BadBlock { .. })), "size {n}: {r:?}");
    }
}

/// The multihashes of the blocks node `endpoint` holds (`refs/local`).
fn held_blocks(endpoint: &str) -> Vec<Vec<u8>> {
    let mut answer = ureq::post(&format!("{endpoint}/api/v0/refs/local"))
        .send_empty()
        .unwrap();
    let text = answer.body_mut().read_to_string().unwrap();
    text.lines()
        .filter_map(|line| line.split('"').nth(3))
        .map(|r| r.parse::<Cid>().unwrap().hash().to_bytes())
        .collect()
}

#[test]
fn a_prefetch_has_the_node_fetch_every_block_and_sends_none_here() {
    let a = node_a();
    let files: Vec<Vec<u8>> = [3 * CHUNK_SIZE + 5, 2 * CHUNK_SIZE, 100]
        .map(unpublished)
        .into();
    let cids: Vec<Cid> = files.iter().map(|f| a.put(f).unwrap()).collect();
    let leaves: Vec<Cid> = files
        .iter()
        .flat_map(|f| pouw::ident::unixfs::blocks_of(f))
        .map(|(cid, _)| cid)
        .filter(|cid| cid.codec() == pouw::ident::RAW_CODEC)
        .collect();
    assert_eq!(leaves.len(), 4 + 2 + 1);
    let (address, answered) = proxy(endpoint("POUW_IPFS_B"), false);
    let b = IpfsStore::new(&address).unwrap();
    // A prefetch already stopped (its verification failed) asks the node nothing.
    b.prefetch(&cids, 1 << 20, &AtomicBool::new(true));
    assert_eq!(answered.lock().unwrap().len(), 0);
    b.prefetch(&cids, 1 << 20, &AtomicBool::new(false));
    // Node B fetched every leaf from A and holds it.
    let held = held_blocks(&endpoint("POUW_IPFS_B"));
    for leaf in &leaves {
        assert!(held.contains(&leaf.hash().to_bytes()), "B lacks {leaf}");
    }
    // Only the two interior nodes came here, and one size per leaf.
    let answered = std::mem::take(&mut *answered.lock().unwrap());
    let count = |command: &str| {
        answered
            .iter()
            .filter(|(path, _)| path.starts_with(&format!("/api/v0/{command}?")))
            .count()
    };
    assert_eq!(
        (count("block/get"), count("block/stat")),
        (2, leaves.len()),
        "{answered:?}"
    );
    let sent: usize = answered.iter().map(|(_, n)| n).sum();
    assert!(sent < 2048, "{sent} bytes answered: {answered:?}");
    // The gets that follow are the files.
    for (f, cid) in files.iter().zip(&cids) {
        assert_eq!(&b.get(cid, 1 << 20).unwrap(), f);
    }
}

#[test]
fn a_missing_object_a_silent_node_and_a_dead_one_are_told_apart() {
    let missing = cid_of(&unpublished(64));
    // The node searches the network for the block until its deadline, then says it has not
    // found it.
    let mut options = IpfsOptions::new(endpoint("POUW_IPFS_A"));
    options.block_timeout = Duration::from_secs(2);
    let started = std::time::Instant::now();
    let r = IpfsStore::with_options(options)
        .unwrap()
        .get(&missing, 1 << 20);
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // A node that accepts the connection and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut options = IpfsOptions::new(format!("http://{}", silent.local_addr().unwrap()));
    options.block_timeout = Duration::from_millis(500);
    options.answer_grace = Duration::from_millis(500);
    let r = IpfsStore::with_options(options)
        .unwrap()
        .get(&missing, 1 << 20);
    assert!(matches!(r, Err(Error::Timeout { .. })), "{r:?}");
    drop(silent);
    // A port nobody listens on.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let r = IpfsStore::new(&dead).unwrap().get(&missing, 1 << 20);
    assert!(matches!(r, Err(Error::Store { .. })), "{r:?}");
}

#[test]
fn a_dataset_travels_by_its_cid_and_a_fetch_resumes() {
    let (_src, dataset) = common::digits_dataset();
    // Large enough for a multi-block records file: the digits repeated.
    let dir = tempfile::tempdir().unwrap();
    let mut w = pouw::dataset::DatasetWriter::create(
        dir.path().join("big"),
        dataset.manifest().shape.clone(),
        dataset.manifest().dtype,
        dataset.manifest().value_max,
        "digits, repeated",
        "CC BY 4.0",
    )
    .unwrap();
    for i in 0..(4 * CHUNK_SIZE as u64 / dataset.record_size() as u64 + 3) {
        w.push(&dataset.record(i % dataset.len()).unwrap()).unwrap();
    }
    let big = w.finish().unwrap();
    assert!(big.manifest().records.codec() == pouw::ident::DAG_PB_CODEC);
    let (a, b) = (node_a(), node_b());
    let cid: Cid = publish_dataset(&a, &big).unwrap();
    assert_eq!(cid, big.cid());

    // Fetched from the other node by the CID alone.
    let into = dir.path().join("fetched");
    let (fetched, report) = fetch_dataset(&b, &cid, &into).unwrap();
    assert_eq!(fetched.cid(), cid);
    assert_eq!(fetched.root(), big.root());
    assert_eq!(report.reused_leaves, 0);
    assert_eq!(report.fetched_bytes, big.len() * big.record_size() as u64);
    fetched.scrub().unwrap();
    // Fetching again opens what is there.
    let (_, again) = fetch_dataset(&b, &cid, &into).unwrap();
    assert_eq!(again.fetched_leaves, 0);

    // An interrupted fetch: half the records on disk, one leaf of them damaged.
    let resumed = dir.path().join("resumed");
    std::fs::create_dir_all(&resumed).unwrap();
    let mut records = std::fs::read(big.dir().join("records.bin")).unwrap();
    records.truncate(records.len() / 2);
    records[CHUNK_SIZE + 5] ^= 0xff;
    std::fs::write(resumed.join("records.bin.part"), &records).unwrap();
    let (ds, report) = fetch_dataset(&b, &cid, &resumed).unwrap();
    assert_eq!(ds.cid(), cid);
    assert!(report.reused_leaves >= 1, "{report:?}");
    assert!(
        report.fetched_leaves >= 2,
        "the damaged leaf and the rest: {report:?}"
    );
    ds.scrub().unwrap();
}
