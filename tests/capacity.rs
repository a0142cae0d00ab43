//! Capacity challenges over the real UCI digits: the honest round trip, and every way a response
//! can be tampered with, each rejected with its specific error.

mod common;

use pouw::capacity::{ChallengeFor, ResponseLimits, MAX_CHALLENGES, MAX_MINER_ID};
use pouw::dataset::import::import_digits_csv;
use pouw::{CapacityChallenge, CapacityResponse, Dataset, Digest, Error};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::OnceLock;

// ---- An allocator that records the largest allocation made on the current thread ----

struct PeakAlloc;

thread_local! {
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = PEAK.try_with(|p| p.set(p.get().max(size)));
}

unsafe impl GlobalAlloc for PeakAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Runs `f` and returns its result with the largest single allocation it made on this thread.
fn peak_alloc<T>(f: impl FnOnce() -> T) -> (T, usize) {
    PEAK.with(|p| p.set(0));
    let out = f();
    (out, PEAK.with(|p| p.get()))
}

// ---- The honest scenario, built once ----

const K: u32 = 64;
const HEADER: Digest = [0x11; 32];
const MINER: &[u8] = b"miner-1";
const EPOCH: u64 = 7;

struct Honest {
    challenge: CapacityChallenge,
    response: CapacityResponse,
    bytes: Vec<u8>,
    root: Digest,
    count: u64,
    record_size: u64,
}

fn import(dir: &std::path::Path) -> Dataset {
    import_digits_csv(common::digits_path(), dir, None).expect("import the digits")
}

/// The challenge and honest response (the dataset is imported into a temporary directory that is
/// gone once they are built: a verifier needs no dataset).
fn honest() -> &'static Honest {
    static HONEST: OnceLock<Honest> = OnceLock::new();
    HONEST.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let ds = import(dir.path());
        let challenge = CapacityChallenge::for_dataset(&HEADER, MINER, &ds, EPOCH, K).unwrap();
        let response = challenge.respond(&ds).unwrap();
        for (i, r) in challenge.indices().iter().zip(&response.records) {
            assert_eq!(*r, ds.record(*i).unwrap());
        }
        let bytes = response.to_bytes();
        Honest {
            challenge,
            response,
            bytes,
            root: ds.root(),
            count: ds.len(),
            record_size: ds.record_size() as u64,
        }
    })
}

/// Byte offsets of the fields of the honest encoding.
struct Offsets {
    k: usize,
    rs: usize,
    nodes: usize,
}

impl Offsets {
    fn of(h: &Honest) -> Self {
        let layout = Offsets {
            k: h.response.indices.len(),
            rs: h.record_size as usize,
            nodes: h.response.proof.nodes.len(),
        };
        assert_eq!(h.bytes.len(), layout.node(layout.nodes));
        assert_eq!(read_u32(&h.bytes, 8) as usize, layout.k);
        assert_eq!(read_u32(&h.bytes, layout.record_size()) as usize, layout.rs);
        assert_eq!(
            read_u32(&h.bytes, layout.node_count()) as usize,
            layout.nodes
        );
        layout
    }
    fn index(&self, i: usize) -> usize {
        12 + 8 * i
    }
    fn record_size(&self) -> usize {
        12 + 8 * self.k
    }
    fn record(&self, i: usize) -> usize {
        16 + 8 * self.k + i * self.rs
    }
    fn node_count(&self) -> usize {
        self.record(self.k)
    }
    fn node(&self, i: usize) -> usize {
        self.node_count() + 4 + 32 * i
    }
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

fn put_u64(b: &mut [u8], at: usize, v: u64) {
    b[at..at + 8].copy_from_slice(&v.to_le_bytes());
}

fn verify(bytes: &[u8]) -> pouw::Result<()> {
    honest().challenge.verify_bytes(bytes)
}

// ---- The honest path ----

#[test]
fn honest_response_round_trips_and_verifies() {
    let h = honest();
    assert_eq!(h.count, 1797);
    assert_eq!(h.record_size, 64);
    assert_eq!(h.challenge.indices().len(), K as usize);
    assert_eq!(h.response.indices, h.challenge.indices());
    let decoded = CapacityResponse::from_bytes(&h.bytes, &ResponseLimits::default()).unwrap();
    assert_eq!(decoded, h.response);
    assert_eq!(decoded.to_bytes(), h.bytes);
    h.challenge.verify(&decoded).unwrap();
    h.challenge.verify_bytes(&h.bytes).unwrap();
    // One multiproof for 64 records is far smaller than 64 separate proofs (11 nodes each).
    let nodes = h.response.proof.nodes.len();
    assert!(nodes > 0 && nodes < 64 * 11, "{nodes} nodes");
    Offsets::of(h);
}

#[test]
fn respond_refuses_another_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let small = import_digits_csv(common::digits_path(), dir.path(), Some(100)).unwrap();
    let r = honest().challenge.respond(&small);
    assert!(matches!(r, Err(Error::InvalidParameters(_))), "{r:?}");
}

// ---- Tampered records, indices and proofs ----

#[test]
fn flipped_record_byte_is_root_mismatch() {
    let h = honest();
    let l = Offsets::of(h);
    for (i, off) in [(0, 0), (17, 31), (K as usize - 1, 63)] {
        let mut b = h.bytes.clone();
        b[l.record(i) + off] ^= 0x01;
        assert!(
            matches!(verify(&b), Err(Error::RootMismatch)),
            "record {i} byte {off}"
        );
    }
}

#[test]
fn flipped_proof_node_is_root_mismatch() {
    let h = honest();
    let l = Offsets::of(h);
    for node in [0, l.nodes / 2, l.nodes - 1] {
        for bit in [0, 7, 255] {
            let mut b = h.bytes.clone();
            b[l.node(node) + bit / 8] ^= 1 << (bit % 8);
            assert!(
                matches!(verify(&b), Err(Error::RootMismatch)),
                "node {node} bit {bit}"
            );
        }
    }
}

#[test]
fn swapped_and_duplicated_indices_are_not_ascending() {
    let h = honest();
    let l = Offsets::of(h);
    let idx = h.challenge.indices();
    for p in [0, 10, K as usize - 2] {
        let mut swapped = h.bytes.clone();
        put_u64(&mut swapped, l.index(p), idx[p + 1]);
        put_u64(&mut swapped, l.index(p + 1), idx[p]);
        let r = verify(&swapped);
        assert!(
            matches!(r, Err(Error::IndicesNotAscending { position }) if position == p + 1),
            "{r:?}"
        );

        let mut dup = h.bytes.clone();
        put_u64(&mut dup, l.index(p + 1), idx[p]);
        let r = verify(&dup);
        assert!(
            matches!(r, Err(Error::IndicesNotAscending { position }) if position == p + 1),
            "{r:?}"
        );
    }
    // Swapping records along with their indices is no better.
    let mut both = h.response.clone();
    both.indices.swap(3, 4);
    both.records.swap(3, 4);
    let r = h.challenge.verify_bytes(&both.to_bytes());
    assert!(
        matches!(r, Err(Error::IndicesNotAscending { position: 4 })),
        "{r:?}"
    );
}

#[test]
fn changed_index_is_challenge_index_mismatch() {
    let h = honest();
    let l = Offsets::of(h);
    let idx = h.challenge.indices();
    // The first index that can move up by one and stay strictly ascending.
    let p = (0..idx.len() - 1)
        .find(|&p| idx[p] + 1 < idx[p + 1])
        .expect("a gap");
    let mut b = h.bytes.clone();
    put_u64(&mut b, l.index(p), idx[p] + 1);
    let r = verify(&b);
    assert!(
        matches!(r, Err(Error::ChallengeIndexMismatch { position, found, expected }) if position == p && found == idx[p] + 1 && expected == idx[p]),
        "{r:?}"
    );
    // The last index moved to the end of the dataset.
    let last = idx.len() - 1;
    if idx[last] != h.count - 1 {
        let mut b = h.bytes.clone();
        put_u64(&mut b, l.index(last), h.count - 1);
        let r = verify(&b);
        assert!(
            matches!(r, Err(Error::ChallengeIndexMismatch { position, .. }) if position == last),
            "{r:?}"
        );
    }
}

#[test]
fn fewer_answers_is_challenge_count() {
    let h = honest();
    let mut short = h.response.clone();
    short.indices.pop();
    short.records.pop();
    let r = h.challenge.verify_bytes(&short.to_bytes());
    assert!(
        matches!(
            r,
            Err(Error::ChallengeCount {
                found: 63,
                expected: 64
            })
        ),
        "{r:?}"
    );
    let r = h.challenge.verify(&short);
    assert!(
        matches!(
            r,
            Err(Error::ChallengeCount {
                found: 63,
                expected: 64
            })
        ),
        "{r:?}"
    );
    // A record missing but its index kept.
    let mut unpaired = h.response.clone();
    unpaired.records.pop();
    assert!(matches!(
        h.challenge.verify(&unpaired),
        Err(Error::ChallengeCount { .. })
    ));
}

#[test]
fn record_of_the_wrong_size_is_refused() {
    let h = honest();
    let mut r = h.response.clone();
    r.records[5].pop();
    assert!(matches!(
        h.challenge.verify(&r),
        Err(Error::RecordSize {
            found: 63,
            expected: 64
        })
    ));
    // In the encoding, all records share one size field: a size above the challenge's is over
    // the limit, zero is refused, a smaller one misparses the rest: here record bytes are read
    // as the proof's node count, which is over its limit.
    let l = Offsets::of(h);
    let mut big = h.bytes.clone();
    put_u32(&mut big, l.record_size(), 65);
    let r = verify(&big);
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "record size",
                found: 65,
                limit: 64
            })
        ),
        "{r:?}"
    );
    let mut zero = h.bytes.clone();
    put_u32(&mut zero, l.record_size(), 0);
    assert!(matches!(
        verify(&zero),
        Err(Error::LimitExceeded {
            what: "record size",
            found: 0,
            ..
        })
    ));
    let mut small = h.bytes.clone();
    put_u32(&mut small, l.record_size(), 32);
    let r = verify(&small);
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "proof nodes",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn every_truncation_is_truncated() {
    let h = honest();
    for len in 0..h.bytes.len() {
        let r = verify(&h.bytes[..len]);
        assert!(
            matches!(r, Err(Error::Truncated { .. })),
            "prefix of {len} bytes: {r:?}"
        );
    }
}

#[test]
fn dropped_nodes_with_count_adjusted_are_proof_length() {
    let h = honest();
    let l = Offsets::of(h);
    for drop in [1, 2, l.nodes] {
        let mut b = h.bytes[..h.bytes.len() - 32 * drop].to_vec();
        put_u32(&mut b, l.node_count(), (l.nodes - drop) as u32);
        let r = verify(&b);
        assert!(
            matches!(r, Err(Error::ProofLength { found, expected }) if found == (l.nodes - drop) as u64 && expected == l.nodes as u64),
            "{r:?}"
        );
    }
    // Dropping nodes without adjusting the count is a truncation.
    let r = verify(&h.bytes[..h.bytes.len() - 32]);
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "proof nodes",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn extended_responses_are_refused() {
    let h = honest();
    let l = Offsets::of(h);
    for extra in [1usize, 31, 32, 1000] {
        let mut b = h.bytes.clone();
        b.extend(std::iter::repeat_n(0xAB, extra));
        let r = verify(&b);
        assert!(
            matches!(r, Err(Error::TrailingBytes(n)) if n == extra),
            "{extra}: {r:?}"
        );
    }
    // An extra node with the count bumped: the verifier knows how many nodes the indices need.
    let mut b = h.bytes.clone();
    b.extend_from_slice(&h.response.proof.nodes[0]);
    put_u32(&mut b, l.node_count(), l.nodes as u32 + 1);
    let r = verify(&b);
    assert!(
        matches!(r, Err(Error::ProofLength { found, expected }) if found == l.nodes as u64 + 1 && expected == l.nodes as u64),
        "{r:?}"
    );
    // An extra node inserted first.
    let mut b = h.bytes[..l.node(0)].to_vec();
    b.extend_from_slice(&[0u8; 32]);
    b.extend_from_slice(&h.bytes[l.node(0)..]);
    put_u32(&mut b, l.node_count(), l.nodes as u32 + 1);
    assert!(matches!(verify(&b), Err(Error::ProofLength { .. })));
}

// ---- Responses to another challenge ----

fn other_challenge(
    header: &Digest,
    miner: &[u8],
    root: &Digest,
    count: u64,
    epoch: u64,
) -> CapacityChallenge {
    let h = honest();
    let c = CapacityChallenge::new(&ChallengeFor {
        header_hash: header,
        miner_id: miner,
        dataset_root: root,
        records: count,
        record_size: h.record_size,
        epoch,
        challenges: K,
    })
    .unwrap();
    assert_ne!(c.seed(), h.challenge.seed());
    assert_ne!(
        c.indices(),
        h.challenge.indices(),
        "a different context must derive other indices"
    );
    c
}

fn assert_index_mismatch(c: &CapacityChallenge) {
    let r = c.verify_bytes(&honest().bytes);
    assert!(
        matches!(r, Err(Error::ChallengeIndexMismatch { .. })),
        "{r:?}"
    );
}

#[test]
fn wrong_root_is_challenge_index_mismatch() {
    let h = honest();
    let mut root = h.root;
    root[0] ^= 1;
    assert_index_mismatch(&other_challenge(&HEADER, MINER, &root, h.count, EPOCH));
}

#[test]
fn wrong_header_is_challenge_index_mismatch() {
    let h = honest();
    let mut header = HEADER;
    header[31] ^= 0x80;
    assert_index_mismatch(&other_challenge(&header, MINER, &h.root, h.count, EPOCH));
}

#[test]
fn wrong_miner_is_challenge_index_mismatch() {
    let h = honest();
    assert_index_mismatch(&other_challenge(
        &HEADER, b"miner-2", &h.root, h.count, EPOCH,
    ));
    assert_index_mismatch(&other_challenge(&HEADER, b"", &h.root, h.count, EPOCH));
    assert_index_mismatch(&other_challenge(
        &HEADER,
        b"miner-10",
        &h.root,
        h.count,
        EPOCH,
    ));
}

#[test]
fn wrong_epoch_is_challenge_index_mismatch() {
    let h = honest();
    assert_index_mismatch(&other_challenge(
        &HEADER,
        MINER,
        &h.root,
        h.count,
        EPOCH + 1,
    ));
    assert_index_mismatch(&other_challenge(&HEADER, MINER, &h.root, h.count, 0));
}

#[test]
fn wrong_count_is_refused() {
    // Another count derives other indices (the count is in the seed).
    let h = honest();
    assert_index_mismatch(&other_challenge(
        &HEADER,
        MINER,
        &h.root,
        h.count + 1,
        EPOCH,
    ));
}

// ---- Malformed encodings ----

#[test]
fn bad_magic_and_version() {
    let h = honest();
    for at in 0..4 {
        let mut b = h.bytes.clone();
        b[at] ^= 0x20;
        let r = verify(&b);
        assert!(
            matches!(
                r,
                Err(Error::BadMagic {
                    what: "capacity response"
                })
            ),
            "{r:?}"
        );
    }
    for v in [0u32, 2, u32::MAX] {
        let mut b = h.bytes.clone();
        put_u32(&mut b, 4, v);
        let r = verify(&b);
        assert!(
            matches!(r, Err(Error::UnsupportedVersion { found, supported: 1, .. }) if found == v),
            "{r:?}"
        );
    }
}

#[test]
fn too_many_challenges_in_the_encoding() {
    let h = honest();
    let mut b = h.bytes.clone();
    put_u32(&mut b, 8, K + 1);
    let r = verify(&b);
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "challenge count",
                found: 65,
                limit: 64
            })
        ),
        "{r:?}"
    );
    // Under the default limits: the protocol maximum.
    let mut b = h.bytes.clone();
    put_u32(&mut b, 8, MAX_CHALLENGES + 1);
    let r = CapacityResponse::from_bytes(&b, &ResponseLimits::default());
    assert!(
        matches!(r, Err(Error::LimitExceeded { what: "challenge count", found, limit }) if found == u64::from(MAX_CHALLENGES) + 1 && limit == u64::from(MAX_CHALLENGES)),
        "{r:?}"
    );
    // Too many proof nodes for 64 challenges (over 64 per challenge).
    let l = Offsets::of(h);
    let mut b = h.bytes.clone();
    put_u32(&mut b, l.node_count(), 64 * 64 + 1);
    let r = verify(&b);
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "proof nodes",
                found: 4097,
                limit: 4096
            })
        ),
        "{r:?}"
    );
}

fn header_with(k: u32) -> Vec<u8> {
    let mut b = b"PWCR".to_vec();
    b.extend_from_slice(&1u32.to_le_bytes());
    b.extend_from_slice(&k.to_le_bytes());
    b
}

#[test]
fn huge_declared_counts_on_tiny_inputs_allocate_nothing_big() {
    const SMALL: usize = 64 << 10;
    let loose = ResponseLimits {
        max_challenges: u32::MAX,
        max_record_size: u64::MAX,
        max_proof_nodes: u64::MAX,
    };

    // Challenge count.
    let b = header_with(u32::MAX);
    let (r, peak) = peak_alloc(|| CapacityResponse::from_bytes(&b, &ResponseLimits::default()));
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "challenge count",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(peak < SMALL, "{peak} bytes");
    let (r, peak) = peak_alloc(|| CapacityResponse::from_bytes(&b, &loose));
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "challenge count",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(peak < SMALL, "{peak} bytes");
    let b = header_with(MAX_CHALLENGES);
    let (r, peak) = peak_alloc(|| honest().challenge.verify_bytes(&b));
    assert!(matches!(r, Err(Error::LimitExceeded { .. })), "{r:?}");
    assert!(peak < SMALL, "{peak} bytes");

    // Record size: one index, then a record size of 4 GiB - 1.
    let mut b = header_with(1);
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    let (r, peak) = peak_alloc(|| CapacityResponse::from_bytes(&b, &loose));
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "records",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(peak < SMALL, "{peak} bytes");
    let (r, _) = peak_alloc(|| CapacityResponse::from_bytes(&b, &ResponseLimits::default()));
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "record size",
                ..
            })
        ),
        "{r:?}"
    );

    // Proof nodes: one index, one record of one byte, then 2^32 - 1 nodes.
    let mut b = header_with(1);
    b.extend_from_slice(&0u64.to_le_bytes());
    b.extend_from_slice(&1u32.to_le_bytes());
    b.push(0);
    b.extend_from_slice(&u32::MAX.to_le_bytes());
    let (r, peak) = peak_alloc(|| CapacityResponse::from_bytes(&b, &loose));
    assert!(
        matches!(
            r,
            Err(Error::Truncated {
                what: "proof nodes",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(peak < SMALL, "{peak} bytes");
    let (r, peak) = peak_alloc(|| CapacityResponse::from_bytes(&b, &ResponseLimits::default()));
    assert!(
        matches!(
            r,
            Err(Error::LimitExceeded {
                what: "proof nodes",
                ..
            })
        ),
        "{r:?}"
    );
    assert!(peak < SMALL, "{peak} bytes");
}

#[test]
fn an_empty_response_has_one_encoding() {
    // No records: the record size field must be 0, as `to_bytes` writes it (found by the
    // capacity_decode fuzz target: any size used to decode, so one value had many encodings).
    let empty = CapacityResponse {
        indices: vec![],
        records: vec![],
        proof: Default::default(),
    };
    let bytes = empty.to_bytes();
    assert_eq!(bytes, [header_with(0), vec![0; 8]].concat());
    assert_eq!(
        CapacityResponse::from_bytes(&bytes, &ResponseLimits::default()).unwrap(),
        empty
    );
    let r = honest().challenge.verify_bytes(&bytes);
    assert!(
        matches!(
            r,
            Err(Error::ChallengeCount {
                found: 0,
                expected: 64
            })
        ),
        "{r:?}"
    );
    let mut other = header_with(0);
    other.extend_from_slice(&4u32.to_le_bytes());
    other.extend_from_slice(&0u32.to_le_bytes());
    let r = CapacityResponse::from_bytes(&other, &ResponseLimits::default());
    assert!(
        matches!(
            r,
            Err(Error::InvalidField {
                what: "record size",
                ..
            })
        ),
        "{r:?}"
    );
}

#[test]
fn the_peak_allocation_probe_works() {
    // Guards the test above: the probe must see a large allocation when one happens.
    let (v, peak) = peak_alloc(|| vec![1u8; 1 << 20]);
    assert_eq!(v.len(), 1 << 20);
    assert!(peak >= 1 << 20);
}

// ---- Challenge derivation ----

#[test]
fn challenge_indices_are_sorted_distinct_in_range_and_deterministic() {
    let root = [0x42; 32];
    for (count, k) in [
        (1u64, 1u32),
        (2, 2),
        (10, 1),
        (10, 9),
        (100, 64),
        (1797, 64),
        (5000, 4096),
        (u64::MAX, 256),
    ] {
        let c = CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: MINER,
            dataset_root: &root,
            records: count,
            record_size: 64,
            epoch: EPOCH,
            challenges: k,
        })
        .unwrap();
        let idx = c.indices();
        assert_eq!(idx.len(), k as usize);
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "count {count} k {k}");
        assert!(idx.iter().all(|&i| i < count));
        let again = CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: MINER,
            dataset_root: &root,
            records: count,
            record_size: 64,
            epoch: EPOCH,
            challenges: k,
        })
        .unwrap();
        assert_eq!(c, again);
    }
    // Asking for every record gives every record.
    let c = CapacityChallenge::new(&ChallengeFor {
        header_hash: &HEADER,
        miner_id: MINER,
        dataset_root: &root,
        records: 50,
        record_size: 8,
        epoch: EPOCH,
        challenges: 50,
    })
    .unwrap();
    assert_eq!(c.indices(), (0..50).collect::<Vec<_>>());
    // A smaller k is not a prefix of a larger one's draws in general, but both come from the
    // same stream: the k=1 index is among the k=8 ones.
    let one = CapacityChallenge::new(&ChallengeFor {
        header_hash: &HEADER,
        miner_id: MINER,
        dataset_root: &root,
        records: 1000,
        record_size: 8,
        epoch: EPOCH,
        challenges: 1,
    })
    .unwrap();
    let eight = CapacityChallenge::new(&ChallengeFor {
        header_hash: &HEADER,
        miner_id: MINER,
        dataset_root: &root,
        records: 1000,
        record_size: 8,
        epoch: EPOCH,
        challenges: 8,
    })
    .unwrap();
    assert!(eight.indices().contains(&one.indices()[0]));
}

#[test]
fn bad_challenge_parameters_are_refused() {
    let root = [0x42; 32];
    let new = |count: u64, rs: u64, k: u32, miner: &[u8]| {
        CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: miner,
            dataset_root: &root,
            records: count,
            record_size: rs,
            epoch: EPOCH,
            challenges: k,
        })
    };
    assert!(matches!(
        new(10, 64, 11, MINER),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        new(0, 64, 1, MINER),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        new(10, 64, 0, MINER),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        new(1 << 40, 64, MAX_CHALLENGES + 1, MINER),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        new(10, 0, 1, MINER),
        Err(Error::InvalidParameters(_))
    ));
    assert!(matches!(
        new(10, pouw::dataset::MAX_RECORD_SIZE + 1, 1, MINER),
        Err(Error::InvalidParameters(_))
    ));
    new(10, pouw::dataset::MAX_RECORD_SIZE, 10, MINER).unwrap();
    let long = vec![b'm'; MAX_MINER_ID + 1];
    assert!(matches!(
        new(10, 64, 1, &long),
        Err(Error::LimitExceeded {
            what: "miner id",
            ..
        })
    ));
    new(10, 64, 1, &long[..MAX_MINER_ID]).unwrap();
    // And on a real dataset: more challenges than records.
    let dir = tempfile::tempdir().unwrap();
    let ds = import_digits_csv(common::digits_path(), dir.path(), Some(20)).unwrap();
    assert!(matches!(
        CapacityChallenge::for_dataset(&HEADER, MINER, &ds, EPOCH, 21),
        Err(Error::InvalidParameters(_))
    ));
    let c = CapacityChallenge::for_dataset(&HEADER, MINER, &ds, EPOCH, 20).unwrap();
    c.verify_bytes(&c.respond(&ds).unwrap().to_bytes()).unwrap();
}

/// Pearson's chi-square of `counts` against a uniform expectation.
fn chi_square(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let e = total as f64 / counts.len() as f64;
    counts.iter().map(|&o| (o as f64 - e).powi(2) / e).sum()
}

#[test]
fn index_frequencies_are_roughly_uniform() {
    // Deterministic seeds (epochs 0..N), so the statistic is a fixed number: it cannot flake.
    let root = [0x5A; 32];
    // 100 records, 10 per challenge, 2000 challenges: 99 degrees of freedom (mean 99, sd 14;
    // sampling without replacement within a challenge shrinks it by about 10%).
    let mut counts = vec![0u64; 100];
    for epoch in 0..2000 {
        for &i in CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: MINER,
            dataset_root: &root,
            records: 100,
            record_size: 64,
            epoch,
            challenges: 10,
        })
        .unwrap()
        .indices()
        {
            counts[i as usize] += 1;
        }
    }
    let chi = chi_square(&counts);
    assert!(
        (40.0..170.0).contains(&chi),
        "chi-square {chi} over 99 degrees of freedom: {counts:?}"
    );

    // 3 records (a bound far from a power of two, where modulo bias would show), one index each.
    let mut counts = vec![0u64; 3];
    for epoch in 0..3000 {
        counts[CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: MINER,
            dataset_root: &root,
            records: 3,
            record_size: 64,
            epoch,
            challenges: 1,
        })
        .unwrap()
        .indices()[0] as usize] += 1;
    }
    let chi = chi_square(&counts);
    assert!(
        chi < 16.0,
        "chi-square {chi} over 2 degrees of freedom: {counts:?}"
    );

    // A huge count just above a power of two: draws spread over the whole range, not only the
    // low bits (mean of index / count near 1/2, and every third of the range hit).
    let count = (1u64 << 62) + 12345;
    let mut thirds = vec![0u64; 3];
    let mut sum = 0f64;
    let mut n = 0;
    for epoch in 0..200 {
        for &i in CapacityChallenge::new(&ChallengeFor {
            header_hash: &HEADER,
            miner_id: MINER,
            dataset_root: &root,
            records: count,
            record_size: 64,
            epoch,
            challenges: 16,
        })
        .unwrap()
        .indices()
        {
            let x = i as f64 / count as f64;
            sum += x;
            n += 1;
            thirds[((x * 3.0) as usize).min(2)] += 1;
        }
    }
    let mean = sum / n as f64;
    assert!((0.45..0.55).contains(&mean), "mean {mean}");
    let chi = chi_square(&thirds);
    assert!(chi < 16.0, "chi-square {chi}: {thirds:?}");
}
