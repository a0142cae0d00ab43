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

/// Byte `i` of a test file is `i % 251` (the golden vectors' content).
fn file(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
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
    // Every truncation and every single-byte change either fails or decodes to another node
    // (never panics).
    for cut in 0..good.len() {
        assert!(decode_node(&good[..cut]).is_err(), "cut {cut}");
    }
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut b = good.clone();
            b[i] ^= 1 << bit;
            let _ = decode_node(&b);
        }
    }
    // Too many links.
    let many = encode_node(&vec![leaf; MAX_LINKS + 1]);
    assert!(decode_node(&many).is_err());
    // No links.
    assert!(decode_node(&encode_node(&[])).is_err());
}
