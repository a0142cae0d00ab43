//! Verifies arbitrary bytes against a fixed capacity challenge over 100 synthetic records: it must
//! never panic, and must accept exactly the honest encoding and nothing else.
//!
//! Input modes (first byte, even or odd):
//! - even: the rest of the input is the response, as is;
//! - odd: the honest response, patched: the rest of the input is read as (u16 offset, xor byte)
//!   triples applied to it, then a final byte (if any) truncates or extends it. This keeps the
//!   fuzzer near the valid encoding, where the interesting rejections are.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pouw::capacity::{CapacityChallenge, CapacityResponse, ChallengeFor};
use pouw::merkle::{leaf_hash, prove_many, MerkleTree};
use std::sync::OnceLock;

const COUNT: u64 = 100;
const RECORD_SIZE: usize = 16;
const K: u32 = 8;

struct Scenario {
    challenge: CapacityChallenge,
    honest: Vec<u8>,
}

fn record(i: u64) -> Vec<u8> {
    let mut r = vec![0u8; RECORD_SIZE];
    r[..8].copy_from_slice(&i.to_le_bytes());
    r[8..].copy_from_slice(&(i * 0x9E37_79B9).to_le_bytes());
    r
}

fn scenario() -> &'static Scenario {
    static S: OnceLock<Scenario> = OnceLock::new();
    S.get_or_init(|| {
        let tree = MerkleTree::from_leaves((0..COUNT).map(|i| leaf_hash(&record(i))).collect());
        let challenge = CapacityChallenge::new(&ChallengeFor {
            header_hash: &[7u8; 32],
            miner_id: b"fuzz-miner",
            dataset_root: &tree.root(),
            records: COUNT,
            record_size: RECORD_SIZE as u64,
            epoch: 1,
            challenges: K,
        })
        .unwrap();
        let indices = challenge.indices().to_vec();
        let response = CapacityResponse {
            records: indices.iter().map(|&i| record(i)).collect(),
            proof: prove_many(&tree, &indices).unwrap(),
            indices,
        };
        let honest = response.to_bytes();
        challenge
            .verify_bytes(&honest)
            .expect("the honest response verifies");
        Scenario { challenge, honest }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = scenario();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut b = s.honest.clone();
        let mut patches = rest.chunks_exact(3);
        for p in &mut patches {
            let at = u16::from_le_bytes([p[0], p[1]]) as usize;
            if let Some(byte) = b.get_mut(at) {
                *byte ^= p[2];
            }
        }
        if let Some(&resize) = patches.remainder().first() {
            let delta = (resize & 0x7f) as usize;
            if resize & 0x80 == 0 {
                b.truncate(b.len().saturating_sub(delta));
            } else {
                b.resize(b.len() + delta, 0);
            }
        }
        b
    };
    let result = s.challenge.verify_bytes(&bytes);
    assert_eq!(
        result.is_ok(),
        bytes == s.honest,
        "accepted a response that is not the honest one: {result:?}"
    );
});
