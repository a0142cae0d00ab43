//! UnixFS CIDs and DAG reading without a node: layout at every boundary, streamed and in-memory
//! CIDs agree, and a reader that trusts nothing its block source says.

use pouw::ident::unixfs::{
    blocks_of, check_block, cid_of_reader, dag_pb_cid, read_file, BlockSource, CHUNK_SIZE,
};
use pouw::ident::{cid_of, Cid, Link, DAG_PB_CODEC, MAX_LINKS, RAW_CODEC};
use pouw::Error;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;

mod common;

use common::unixfs_golden::{file, GOLDEN};

/// pouw's CIDs are a real node's at every layout boundary (the node's own answers, recorded;
/// `tests/ipfs.rs` asks a live node again).
#[test]
fn pouw_names_every_boundary_size_as_a_node_does() {
    for (n, golden) in GOLDEN {
        assert_eq!(cid_of(&file(n)).to_string(), golden, "size {n}");
    }
}

/// A reader handing out at most `step` bytes a call, to exercise refilling.
struct Dribble<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Dribble<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// A block source over a map, recording what it served.
#[derive(Default)]
struct Blocks {
    map: HashMap<Cid, Vec<u8>>,
    served: Mutex<u64>,
}

impl Blocks {
    fn of(bytes: &[u8]) -> Self {
        Blocks {
            map: blocks_of(bytes).into_iter().collect(),
            served: Mutex::new(0),
        }
    }
}

impl BlockSource for Blocks {
    fn block(&self, cid: &Cid, limit: usize) -> pouw::Result<Vec<u8>> {
        *self.served.lock().unwrap() += 1;
        let b = self.map.get(cid).ok_or_else(|| Error::NotFound {
            cid: cid.to_string(),
        })?;
        if b.len() > limit {
            return Err(Error::BadBlock {
                cid: cid.to_string(),
                detail: "over the limit".into(),
            });
        }
        Ok(b.clone())
    }
}

const SIZES: [usize; 10] = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    2 * CHUNK_SIZE,
    4 * CHUNK_SIZE + 1,
    MAX_LINKS * CHUNK_SIZE,
    MAX_LINKS * CHUNK_SIZE + 1,
    (MAX_LINKS + 1) * CHUNK_SIZE,
];

#[test]
fn one_chunk_is_a_raw_block_and_more_is_a_dag() {
    for n in SIZES {
        let bytes = file(n);
        let cid = cid_of(&bytes);
        let expected = if n <= CHUNK_SIZE {
            RAW_CODEC
        } else {
            DAG_PB_CODEC
        };
        assert_eq!(cid.codec(), expected, "size {n}");
        if n <= CHUNK_SIZE {
            assert_eq!(
                cid,
                pouw::ident::cid_from_sha3(&pouw::hash::sha3_256(&bytes))
            );
        }
    }
}

#[test]
fn streamed_cids_equal_in_memory_ones() {
    for n in SIZES {
        let bytes = file(n);
        for step in [usize::MAX, 100_000, 7919] {
            let mut r = Dribble {
                bytes: &bytes,
                step,
            };
            let (cid, len) = cid_of_reader(&mut r).unwrap();
            assert_eq!(
                (cid, len),
                (cid_of(&bytes), n as u64),
                "size {n} step {step}"
            );
        }
    }
}

#[test]
fn the_layout_is_balanced_with_174_links_a_node() {
    // 175 chunks: two level-1 nodes (174 leaves and 1 leaf) under a root.
    let bytes = file((MAX_LINKS + 1) * CHUNK_SIZE);
    let blocks = blocks_of(&bytes);
    assert_eq!(blocks.len(), MAX_LINKS + 1 + 2 + 1);
    for (cid, block) in &blocks {
        check_block(cid, block).unwrap();
    }
    let (root, root_bytes) = blocks.last().unwrap();
    assert_eq!(*root, cid_of(&bytes));
    let node = pouw::ident::unixfs::decode_node(root_bytes).unwrap();
    assert_eq!(node.children.len(), 2);
    assert_eq!(node.children[0].1, (MAX_LINKS * CHUNK_SIZE) as u64);
    assert_eq!(node.children[1].1, CHUNK_SIZE as u64);
    // Exactly 174 chunks: one node, no level above it.
    let bytes = file(MAX_LINKS * CHUNK_SIZE);
    assert_eq!(blocks_of(&bytes).len(), MAX_LINKS + 1);
}

#[test]
fn files_read_back_from_their_blocks() {
    for n in SIZES {
        let bytes = file(n);
        let source = Blocks::of(&bytes);
        let cid = cid_of(&bytes);
        assert_eq!(
            read_file(&source, &cid, n as u64).unwrap(),
            bytes,
            "size {n}"
        );
        if n > CHUNK_SIZE {
            assert!(matches!(
                read_file(&source, &cid, n as u64 - 1),
                Err(Error::LimitExceeded { .. })
            ));
        }
    }
}

#[test]
fn an_oversized_file_is_refused_before_its_leaves_are_fetched() {
    let bytes = file(MAX_LINKS * CHUNK_SIZE);
    let source = Blocks::of(&bytes);
    let r = read_file(&source, &cid_of(&bytes), CHUNK_SIZE as u64);
    assert!(matches!(r, Err(Error::LimitExceeded { .. })));
    assert_eq!(
        *source.served.lock().unwrap(),
        1,
        "only the root was fetched"
    );
}

#[test]
fn wrong_or_missing_blocks_are_typed() {
    let bytes = file(3 * CHUNK_SIZE + 5);
    let cid = cid_of(&bytes);
    let blocks = blocks_of(&bytes);
    for (victim, _) in &blocks {
        // A flipped byte in any block (leaf or root): the source misbehaves.
        let mut source = Blocks::of(&bytes);
        source.map.get_mut(victim).unwrap()[0] ^= 1;
        let r = read_file(&source, &cid, bytes.len() as u64);
        assert!(matches!(r, Err(Error::BadBlock { .. })), "{victim}: {r:?}");
        // A missing block: not found.
        let mut source = Blocks::of(&bytes);
        source.map.remove(victim);
        let r = read_file(&source, &cid, bytes.len() as u64);
        assert!(matches!(r, Err(Error::NotFound { .. })), "{victim}: {r:?}");
    }
}

#[test]
fn a_dag_of_the_same_bytes_in_another_layout_is_refused() {
    // The same three leaves, but the last one wrapped in a node of its own: every block is
    // honest, the bytes are right, and the CID is not the file's.
    let bytes = file(3 * CHUNK_SIZE);
    let mut source = Blocks::of(&bytes);
    let leaves: Vec<Link> = bytes
        .chunks(CHUNK_SIZE)
        .map(|c| Link {
            cid: cid_of(c),
            file_size: c.len() as u64,
            tsize: c.len() as u64,
        })
        .collect();
    let inner = pouw::ident::unixfs::encode_node(&leaves[2..]);
    let inner_cid = dag_pb_cid(&inner);
    let outer = pouw::ident::unixfs::encode_node(&[
        leaves[0],
        leaves[1],
        Link {
            cid: inner_cid,
            file_size: CHUNK_SIZE as u64,
            tsize: (CHUNK_SIZE + inner.len()) as u64,
        },
    ]);
    let outer_cid = dag_pb_cid(&outer);
    source.map.insert(inner_cid, inner);
    source.map.insert(outer_cid, outer);
    let r = read_file(&source, &outer_cid, bytes.len() as u64);
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "dag-pb node",
                ..
            })
        ),
        "{r:?}"
    );
    // A file fetched to disk (a dataset's records) is held to the same layout.
    #[cfg(feature = "ipfs")]
    {
        let dir = tempfile::tempdir().unwrap();
        let r = pouw::ipfs::fetch_file(
            &source,
            &outer_cid,
            bytes.len() as u64,
            &dir.path().join("f"),
        );
        assert!(
            matches!(
                r,
                Err(Error::InvalidField {
                    what: "dag-pb node",
                    ..
                })
            ),
            "{r:?}"
        );
    }
}

#[test]
fn short_leaves_before_the_last_are_refused() {
    // Two one-chunk-or-less leaves under a root: the same grouping the canonical layout would
    // make of their count, but not the chunking of their bytes.
    let mut source = Blocks::default();
    let parts: [&[u8]; 2] = [b"first", b"second"];
    let links: Vec<Link> = parts
        .iter()
        .map(|p| {
            source.map.insert(cid_of(p), p.to_vec());
            Link {
                cid: cid_of(p),
                file_size: p.len() as u64,
                tsize: p.len() as u64,
            }
        })
        .collect();
    let root_bytes = pouw::ident::unixfs::encode_node(&links);
    let root = dag_pb_cid(&root_bytes);
    source.map.insert(root, root_bytes);
    let r = read_file(&source, &root, 1 << 20);
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "dag-pb node",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn malformed_nodes_are_refused() {
    use pouw::ident::unixfs::{decode_node, encode_node};
    let leaf = Link {
        cid: cid_of(b"leaf"),
        file_size: 4,
        tsize: 4,
    };
    let good = encode_node(&[leaf, leaf]);
    assert_eq!(decode_node(&good).unwrap().file_size, 8);
    // Every truncation fails with a decoding error; every single-bit change fails the same way,
    // or decodes to another node, or to the same one when the bit is in a link's Tsize, which a
    // node does not carry (its canonical encoding is then still `good`; a file whose DAG has
    // such a node is refused by the canonical-layout check, which names another root).
    let original = decode_node(&good).unwrap();
    let decoding_error = |e: &pouw::Error| {
        matches!(
            e,
            pouw::Error::InvalidField { .. }
                | pouw::Error::Truncated { .. }
                | pouw::Error::LimitExceeded { .. }
        )
    };
    for cut in 0..good.len() {
        match decode_node(&good[..cut]) {
            Err(e) => assert!(decoding_error(&e), "cut {cut}: {e:?}"),
            Ok(node) => panic!("cut {cut} decoded: {node:?}"),
        }
    }
    let (mut refused, mut other, mut tsize_only) = (0, 0, 0);
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut b = good.clone();
            b[i] ^= 1 << bit;
            match decode_node(&b) {
                Err(e) => {
                    assert!(decoding_error(&e), "byte {i} bit {bit}: {e:?}");
                    refused += 1;
                }
                Ok(node) if node == original => {
                    let canonical: Vec<Link> = node
                        .children
                        .iter()
                        .map(|&(cid, size)| Link {
                            cid,
                            file_size: size,
                            tsize: size,
                        })
                        .collect();
                    assert_eq!(encode_node(&canonical), good, "byte {i} bit {bit}");
                    // The byte is a one-byte Tsize varint: it follows PBLink's field-3 key.
                    assert_eq!(good[i - 1], 3 << 3, "byte {i} bit {bit}: not a Tsize");
                    tsize_only += 1;
                }
                Ok(_) => other += 1,
            }
        }
    }
    assert!(refused > 0 && refused + other + tsize_only == 8 * good.len());
    // Too many links.
    let many = encode_node(&vec![leaf; MAX_LINKS + 1]);
    assert!(decode_node(&many).is_err());
    // No links.
    assert!(decode_node(&encode_node(&[])).is_err());
}

/// A fetched file resumes: leaves already on disk are hashed and kept, the rest fetched; a file
/// fetched afresh reads nothing back from its empty destination.
#[cfg(feature = "ipfs")]
#[test]
fn a_file_fetch_keeps_what_is_on_disk_and_refuses_a_raw_name_past_one_chunk() {
    use pouw::ipfs::fetch_file;
    let bytes = file(3 * CHUNK_SIZE + 5);
    let blocks = Blocks::of(&bytes);
    let cid = cid_of(&bytes);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("part");
    let size = bytes.len() as u64;
    let first = fetch_file(&blocks, &cid, size, &dest).unwrap();
    assert_eq!((first.fetched_leaves, first.reused_leaves), (4, 0));
    assert!(std::fs::read(&dest).unwrap() == bytes);
    // One leaf damaged: it alone is fetched again.
    let mut damaged = bytes.clone();
    damaged[CHUNK_SIZE + 7] ^= 1;
    std::fs::write(&dest, &damaged).unwrap();
    let again = fetch_file(&blocks, &cid, size, &dest).unwrap();
    assert_eq!((again.fetched_leaves, again.reused_leaves), (1, 3));
    assert!(std::fs::read(&dest).unwrap() == bytes);
    // A raw CID names one block of at most one chunk under UnixFS: a raw name for a larger file
    // (an untrusted manifest claiming 1 TiB) is refused before anything is fetched or allocated.
    let served = *blocks.served.lock().unwrap();
    let big = dir.path().join("big");
    let r = fetch_file(&blocks, &cid_of(b"one block"), 1 << 40, &big);
    assert!(matches!(r, Err(Error::InvalidField { .. })), "{r:?}");
    assert_eq!(*blocks.served.lock().unwrap(), served);
    assert!(!big.exists());
}

/// A dataset fetch that stopped after committing its records but before writing its manifest
/// resumes from those records instead of fetching them again.
#[cfg(feature = "ipfs")]
#[test]
fn a_dataset_fetch_stopped_before_its_manifest_resumes_from_its_records() {
    use pouw::dataset::{MANIFEST_FILE, RECORDS_FILE};
    use pouw::ipfs::fetch_dataset;
    let (_src, ds) = common::digits_dataset();
    let records = std::fs::read(ds.dir().join(RECORDS_FILE)).unwrap();
    let mut blocks = Blocks::of(&records);
    blocks.map.extend(blocks_of(&ds.manifest().to_bytes()));
    let dir = tempfile::tempdir().unwrap();
    let into = dir.path().join("ds");
    let (fetched, first) = fetch_dataset(&blocks, &ds.cid(), &into).unwrap();
    assert_eq!(fetched.root(), ds.root());
    assert!(first.fetched_leaves >= 1 && first.reused_leaves == 0);
    std::fs::remove_file(into.join(MANIFEST_FILE)).unwrap();
    let (again, resumed) = fetch_dataset(&blocks, &ds.cid(), &into).unwrap();
    assert_eq!(again.cid(), ds.cid());
    assert_eq!(
        (resumed.fetched_leaves, resumed.reused_leaves),
        (0, first.fetched_leaves)
    );
}

/// Protocol 3 named a checkpoint by the raw CID of its whole bytes: such a block, up to the
/// 1 MiB a node stores in one block, reads back whole (not refused as over one chunk).
#[test]
fn a_raw_block_over_one_chunk_reads_back_whole() {
    let bytes = file(CHUNK_SIZE + 1000);
    let cid = pouw::ident::CidProfile::WholeFile.cid_of(&bytes);
    let mut source = Blocks::default();
    source.map.insert(cid, bytes.clone());
    assert!(read_file(&source, &cid, 1 << 20).unwrap() == bytes);
}
