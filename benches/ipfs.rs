//! IPFS benches, each printing its ratio against its peer measured in the same run:
//! - the UnixFS CID of a 1 GiB file (in memory, and streamed from a file in the page cache)
//!   against `cores x` the single-core SHA3-256 rate over the same 256 KiB chunks (target:
//!   at least 0.85);
//! - put and get of a 100 MB checkpoint through a local node (`POUW_IPFS_A`, e.g. from
//!   `scripts/ipfs-node.sh start-pair`), against the node's own `add` and `cat` of the same file;
//! - a verifier's prefetch of four 25 MB files into node B (`POUW_IPFS_B`, connected to A):
//!   node-side against fetching the files' blocks through the RPC.
//!
//! `cargo bench --bench ipfs`

use pouw::hash::sha3_256;
use pouw::ident::unixfs::{cid_of, cid_of_file, CHUNK_SIZE};
use pouw::ipfs::IpfsStore;
use pouw::learning::BlobStore;
use std::hint::black_box;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// Best-of-`runs` wall time of `f`.
fn best(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or(Duration::MAX)
}

fn mb_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64() / 1e6
}

fn pseudo_random(n: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n + 32);
    let mut block = sha3_256(b"pouw ipfs bench");
    while out.len() < n {
        block = sha3_256(&block);
        out.extend_from_slice(&block);
    }
    out.truncate(n);
    out
}

fn cid_ratio() {
    let cores = rayon::current_num_threads();
    let bytes = pseudo_random(1 << 30);
    let sample = &bytes[..64 << 20];
    let single = best(3, || {
        for c in sample.chunks(CHUNK_SIZE) {
            black_box(sha3_256(c));
        }
    });
    let single = mb_s(sample.len(), single);
    let in_memory = mb_s(
        bytes.len(),
        best(3, || {
            black_box(cid_of(&bytes));
        }),
    );
    let path = std::env::temp_dir().join(format!("pouw-cid-bench-{}.bin", std::process::id()));
    std::fs::write(&path, &bytes).unwrap();
    let _ = cid_of_file(&path).unwrap(); // page cache
    let streamed = mb_s(
        bytes.len(),
        best(3, || {
            black_box(cid_of_file(&path).unwrap());
        }),
    );
    std::fs::remove_file(&path).unwrap();
    println!("UnixFS CID of 1 GiB, {cores} rayon threads:");
    println!("  single-core SHA3-256 over 256 KiB chunks: {single:.0} MB/s");
    for (what, rate) in [("in memory", in_memory), ("streamed from a file", streamed)] {
        println!(
            "  {what}: {rate:.0} MB/s, ratio to {cores} x single = {:.3} (target >= 0.85)",
            rate / (cores as f64 * single)
        );
    }
}

fn node_ratio(endpoint: &str) {
    const SIZE: usize = 100_000_000;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(600)))
        .build()
        .into();
    let store = IpfsStore::new(endpoint).unwrap();
    println!("100 MB checkpoint through the node at {endpoint} (best of 3, fresh bytes each put):");
    let mut node_add = Duration::MAX;
    let mut pouw_put = Duration::MAX;
    let mut cids = Vec::new();
    for run in 0..3u8 {
        let mut bytes = pseudo_random(SIZE);
        bytes[0] = run;
        bytes[1] = 0;
        // The node's own add: the same options, a plain multipart upload.
        let boundary = "pouw-bench-boundary";
        let body = [
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"f\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .into_bytes(),
            bytes.clone(),
            format!("\r\n--{boundary}--\r\n").into_bytes(),
        ]
        .concat();
        let t = Instant::now();
        agent
            .post(format!(
                "{endpoint}/api/v0/add?cid-version=1&raw-leaves=true&hash=sha3-256\
                 &chunker=size-262144&pin=true&quieter=true"
            ))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..])
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        node_add = node_add.min(t.elapsed());
        // pouw's put of other bytes (so the node cannot deduplicate): CID here, add, compare.
        bytes[1] = 1;
        let t = Instant::now();
        cids.push(store.put(&bytes).unwrap());
        pouw_put = pouw_put.min(t.elapsed());
    }
    let cid = cids[0];
    let node_cat = best(3, || {
        let mut r = agent
            .post(format!("{endpoint}/api/v0/cat?arg={cid}"))
            .send_empty()
            .unwrap();
        black_box(
            r.body_mut()
                .with_config()
                .limit(SIZE as u64 + 1)
                .read_to_vec()
                .unwrap(),
        );
    });
    let pouw_get = best(3, || {
        black_box(store.get(&cid, SIZE as u64).unwrap());
    });
    println!(
        "  put: pouw {:.0} MB/s, node add {:.0} MB/s, pouw/node time ratio {:.2}",
        mb_s(SIZE, pouw_put),
        mb_s(SIZE, node_add),
        pouw_put.as_secs_f64() / node_add.as_secs_f64()
    );
    println!(
        "  get: pouw {:.0} MB/s (block by block, every block checked), node cat {:.0} MB/s, \
         pouw/node time ratio {:.2}",
        mb_s(SIZE, pouw_get),
        mb_s(SIZE, node_cat),
        pouw_get.as_secs_f64() / node_cat.as_secs_f64()
    );
}

/// A verifier's prefetch of `FILES` checkpoints of `SIZE` bytes that node B lacks and A holds:
/// node-side (`IpfsStore::prefetch`: B fetches every block from A and keeps it; one size per
/// leaf answered here, eight in flight) against fetching them here block by block, every block
/// checked (the files' `get`s side by side, eight blocks in flight each: what a prefetch that
/// reads the files costs).
fn prefetch_ratio(a_endpoint: &str, b_endpoint: &str) {
    const FILES: usize = 4;
    const SIZE: usize = 25_000_000;
    let a = IpfsStore::new(a_endpoint).unwrap();
    let b = IpfsStore::new(b_endpoint).unwrap();
    let fresh = |tag: u8| -> Vec<pouw::ident::Cid> {
        (0..FILES)
            .map(|i| {
                let mut bytes = pseudo_random(SIZE);
                bytes[0] = tag;
                bytes[1] = i as u8;
                bytes[2] = std::process::id() as u8;
                a.put(&bytes).unwrap()
            })
            .collect()
    };
    let (first, second) = (fresh(1), fresh(2));
    let t = Instant::now();
    b.prefetch(&first, SIZE as u64, &AtomicBool::new(false));
    let node_side = t.elapsed();
    let t = Instant::now();
    std::thread::scope(|s| {
        for cid in &second {
            let b = &b;
            s.spawn(move || black_box(b.get(cid, SIZE as u64).unwrap()));
        }
    });
    let here = t.elapsed();
    println!(
        "prefetch of {FILES} x {} MB from node A into node B: node-side {:.2} s, fetched here \
         block by block {:.2} s, ratio {:.2}",
        SIZE / 1_000_000,
        node_side.as_secs_f64(),
        here.as_secs_f64(),
        node_side.as_secs_f64() / here.as_secs_f64()
    );
}

fn main() {
    // `cargo test --benches` runs bench binaries with `--bench` absent: do nothing then.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    cid_ratio();
    match std::env::var("POUW_IPFS_A") {
        Ok(endpoint) => {
            node_ratio(&endpoint);
            match std::env::var("POUW_IPFS_B") {
                Ok(b) => prefetch_ratio(&endpoint, &b),
                Err(_) => println!("prefetch not measured: POUW_IPFS_B is unset"),
            }
        }
        Err(_) => println!(
            "node put/get not measured: POUW_IPFS_A is unset (start one with \
             `bash scripts/ipfs-node.sh start-pair`)"
        ),
    }
}
