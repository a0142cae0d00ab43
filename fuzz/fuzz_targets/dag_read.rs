//! Reads a file through a block source whose blocks are the fuzzer's: the input is a list of
//! blocks (`u32` little-endian length, then the bytes), the first one the file's root (a
//! dag-pb node), every block served under its raw and its dag-pb CID. Reading must never panic
//! nor allocate past its limit, and whatever it returns must be the file the root's CID names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pouw::ident::unixfs::{cid_of, dag_pb_cid, read_file, BlockSource};
use pouw::ident::{cid_from_sha3, Cid};
use std::collections::HashMap;

struct Blocks(HashMap<Cid, Vec<u8>>);

impl BlockSource for Blocks {
    fn block(&self, cid: &Cid, limit: usize) -> pouw::Result<Vec<u8>> {
        match self.0.get(cid) {
            Some(b) if b.len() <= limit => Ok(b.clone()),
            Some(_) => Err(pouw::Error::BadBlock {
                cid: cid.to_string(),
                detail: "over the limit".into(),
            }),
            None => Err(pouw::Error::NotFound {
                cid: cid.to_string(),
            }),
        }
    }

    fn parallel_fetches(&self) -> usize {
        1
    }
}

fuzz_target!(|data: &[u8]| {
    let mut blocks = Vec::new();
    let mut rest = data;
    while rest.len() >= 4 {
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let body = &rest[4..];
        let n = n.min(body.len());
        blocks.push(&body[..n]);
        rest = &body[n..];
    }
    let Some(root) = blocks.first() else { return };
    let root = dag_pb_cid(root);
    let mut map = HashMap::new();
    for b in &blocks {
        map.insert(dag_pb_cid(b), b.to_vec());
        map.insert(cid_from_sha3(&pouw::hash::sha3_256(b)), b.to_vec());
    }
    if let Ok(file) = read_file(&Blocks(map), &root, 1 << 22) {
        assert_eq!(cid_of(&file), root, "read a file its CID does not name");
    }
});
