//! Structure-aware fuzzing of the verifier: the input is a list of edits to the fields of an
//! honest block proof (and faults of the store the verifier fetches from), so every mutated
//! proof is well-formed and the verifier gets past decoding into its bindings, the trajectory
//! and capacity checks, the checkpoint fetches and the mock re-execution.
//!
//! Oracle: verification never panics, and succeeds only when the re-encoded proof is the honest
//! one and the store returned what it holds.
//!
//! Each edit is an opcode byte followed by the bytes it reads (missing bytes read as zero):
//! which field, which element, and the new value or the change.
#![no_main]

use pouw_fuzz::chain;
use pouw_fuzz::mock;

use libfuzzer_sys::fuzz_target;
use mock::Mock;
use pouw::hash::{sha3_256, Digest};
use pouw::ident::{cid_from_sha3, Cid};
use pouw::learning::{BlobStore, StepOpening};
use pouw::merkle::MultiProof;
use pouw::work::{verify, BlockProof, VerifyError};
use pouw::Result;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The fuzzer's bytes, read field by field; zeros once they run out.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn done(&self) -> bool {
        self.0.is_empty()
    }
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(std::array::from_fn(|_| self.u8()))
    }
    fn pick(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            usize::from(self.u16()) % n
        }
    }
}

/// Changes a digest: flips one byte, or replaces it (with zeros, or a hash of the input).
fn digest(r: &mut Reader, d: &mut Digest) {
    match r.u8() % 3 {
        0 => {
            let at = r.pick(32);
            d[at] ^= r.u8() | 1;
        }
        1 => *d = [0; 32],
        _ => *d = sha3_256(&r.u64().to_le_bytes()),
    }
}

/// Changes a list of digests: edits, removes, duplicates or adds one.
fn digests(r: &mut Reader, v: &mut Vec<Digest>) {
    match r.u8() % 4 {
        0 if !v.is_empty() => {
            let i = r.pick(v.len());
            digest(r, &mut v[i]);
        }
        1 if !v.is_empty() => {
            let i = r.pick(v.len());
            v.remove(i);
        }
        2 if !v.is_empty() => {
            let i = r.pick(v.len());
            let d = v[i];
            v.insert(r.pick(v.len() + 1), d);
        }
        _ => {
            let mut d = [0; 32];
            digest(r, &mut d);
            v.insert(r.pick(v.len() + 1), d);
        }
    }
}

fn multiproof(r: &mut Reader, p: &mut MultiProof) {
    digests(r, &mut p.nodes);
}

/// Changes a byte string: flips a byte, truncates, extends or empties it.
fn bytes(r: &mut Reader, b: &mut Vec<u8>) {
    match r.u8() % 4 {
        0 if !b.is_empty() => {
            let at = r.pick(b.len());
            b[at] ^= r.u8() | 1;
        }
        1 => b.truncate(r.pick(b.len() + 1)),
        2 => b.extend(std::iter::repeat_n(r.u8(), 1 + r.pick(64))),
        _ => b.clear(),
    }
}

/// Changes a count: a small step either way, or an arbitrary value.
fn number(r: &mut Reader, n: &mut u64) {
    match r.u8() % 3 {
        0 => *n = n.wrapping_add(1 + u64::from(r.u8() % 8)),
        1 => *n = n.wrapping_sub(1 + u64::from(r.u8() % 8)),
        _ => *n = r.u64(),
    }
}

/// Another CID: one the store holds (a real object of another role) or one it does not.
fn cid(r: &mut Reader, c: &mut Cid) {
    let cids = &chain::chain().cids;
    *c = match r.u8() % 2 {
        0 => cids[r.pick(cids.len())],
        _ => cid_from_sha3(&sha3_256(&r.u64().to_le_bytes())),
    };
}

fn opening(r: &mut Reader, o: &mut StepOpening) {
    match r.u8() % 9 {
        0 => number(r, &mut o.trajectory.step),
        1 => digest(r, &mut o.trajectory.prev),
        2 => digest(r, &mut o.trajectory.next),
        3 => multiproof(r, &mut o.trajectory.proof),
        4 => digest(r, &mut o.trajectory.prefix_root),
        5 => digests(r, &mut o.trajectory.prefix_proof),
        6 => cid(r, &mut o.start),
        7 => match &mut o.end {
            Some(end) if r.u8() % 2 == 0 => cid(r, end),
            Some(_) => o.end = None,
            None => {
                let mut c = o.start;
                cid(r, &mut c);
                o.end = Some(c);
            }
        },
        _ => match r.u8() % 2 {
            0 => bytes(r, &mut o.records),
            _ => multiproof(r, &mut o.records_proof),
        },
    }
}

fn edit(r: &mut Reader, p: &mut BlockProof, fault: &mut Option<(u64, usize, u8)>) {
    match r.u8() % 14 {
        0 => digest(r, &mut p.params_digest),
        1 => digest(r, &mut p.header_hash),
        2 => bytes(r, &mut p.miner_id),
        3 => multiproof(r, &mut p.start_proof),
        4 => number(r, &mut p.steps),
        5 => digest(r, &mut p.trajectory_root),
        6 => cid(r, &mut p.trajectory_cid),
        7 => {
            // The openings as a list: drop, duplicate or swap.
            let n = p.openings.len();
            match r.u8() % 3 {
                0 if n > 0 => {
                    p.openings.remove(r.pick(n));
                }
                1 if n > 0 => {
                    let o = p.openings[r.pick(n)].clone();
                    p.openings.insert(r.pick(n + 1), o);
                }
                _ if n > 1 => {
                    let (a, b) = (r.pick(n), r.pick(n));
                    p.openings.swap(a, b);
                }
                _ => {}
            }
        }
        8 if !p.openings.is_empty() => {
            let k = r.pick(p.openings.len());
            opening(r, &mut p.openings[k]);
        }
        9 => {
            let v = &mut p.capacity.indices;
            match r.u8() % 3 {
                0 if !v.is_empty() => {
                    let i = r.pick(v.len());
                    number(r, &mut v[i]);
                }
                1 if !v.is_empty() => {
                    v.remove(r.pick(v.len()));
                }
                _ => v.insert(r.pick(v.len() + 1), u64::from(r.u16())),
            }
        }
        10 if !p.capacity.records.is_empty() => {
            let i = r.pick(p.capacity.records.len());
            bytes(r, &mut p.capacity.records[i]);
        }
        11 => multiproof(r, &mut p.capacity.proof),
        12 => {
            // The segment starts: one renamed, dropped or added.
            let n = p.segments.len();
            match r.u8() % 3 {
                0 if n > 0 => {
                    let i = r.pick(n);
                    cid(r, &mut p.segments[i]);
                }
                1 if n > 0 => {
                    p.segments.remove(r.pick(n));
                }
                _ => p.segments.insert(r.pick(n + 1), p.trajectory_cid),
            }
        }
        _ => {
            // The store corrupts the n-th object it returns.
            *fault = Some((u64::from(r.u8() % 8), usize::from(r.u16()), r.u8() | 1));
        }
    }
}

/// The chain's store, corrupting (flipping one byte of) the `n`-th object it returns.
struct FaultyStore {
    fault: Option<(u64, usize, u8)>,
    gets: AtomicU64,
    corrupted: AtomicBool,
}

impl BlobStore for FaultyStore {
    fn put(&self, bytes: &[u8]) -> Result<Cid> {
        chain::chain().store.put(bytes)
    }

    fn get_unchecked(&self, cid: &Cid, limit: u64) -> Result<Vec<u8>> {
        let mut bytes = chain::chain().store.get_unchecked(cid, limit)?;
        let n = self.gets.fetch_add(1, Ordering::Relaxed);
        if let Some((at_get, at, xor)) = self.fault {
            if at_get == n && !bytes.is_empty() {
                let i = at % bytes.len();
                bytes[i] ^= xor;
                self.corrupted.store(true, Ordering::Relaxed);
            }
        }
        Ok(bytes)
    }
}

fuzz_target!(|data: &[u8]| {
    let c = chain::chain();
    let mut proof = c.proof.clone();
    let mut fault = None;
    let mut r = Reader(data);
    while !r.done() {
        edit(&mut r, &mut proof, &mut fault);
    }
    let bytes = proof.to_bytes();
    let store = FaultyStore {
        fault,
        gets: AtomicU64::new(0),
        corrupted: AtomicBool::new(false),
    };
    let verdict = verify::<Mock>(&c.input(&store), &bytes);
    if verdict.is_ok() {
        assert!(
            bytes == c.honest,
            "a proof with changed fields verified: {verdict:?}"
        );
        assert!(
            !store.corrupted.load(Ordering::Relaxed),
            "verified with a corrupted object"
        );
    } else if bytes == c.honest {
        assert!(
            store.corrupted.load(Ordering::Relaxed),
            "the honest proof was refused: {verdict:?}"
        );
        // A store's corrupted answer says nothing about the block.
        assert!(
            matches!(verdict, Err(VerifyError::Undecided(_))),
            "a corrupted store answer made the honest block invalid: {verdict:?}"
        );
    }
});
