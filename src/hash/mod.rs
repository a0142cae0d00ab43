//! Domain-separated SHA3-256 hashing and the SHAKE256 stream used to derive indices and noise.
//!
//! Every hash input starts with a tag: one length byte, then the ASCII tag (`pouw/leaf`,
//! `pouw/node`, ...). The length byte makes the set of tags prefix-free, so no input under one
//! tag can collide with an input under another.

mod x4;

use rayon::prelude::*;
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::{Digest as _, Sha3_256, Shake256};

/// A SHA3-256 output.
pub type Digest = [u8; 32];

/// The domain tags of the protocol, one per kind of hash input.
pub mod tag {
    /// A Merkle leaf: the bytes of one record (or one checkpoint digest).
    pub const LEAF: &str = "pouw/leaf";
    /// A Merkle interior node: the left and right child digests.
    pub const NODE: &str = "pouw/node";
    /// The seed of a capacity challenge.
    pub const CAPACITY_SEED: &str = "pouw/capacity-seed";
    /// A challenged record's digest in a record-free proof, keyed to the header and the miner.
    pub const CAPACITY_RECORD: &str = "pouw/capacity-record";
    /// The index stream of a capacity challenge.
    pub const CAPACITY_INDEX: &str = "pouw/capacity-index";
    /// The integrity checksum of a persisted tree file.
    pub const TREE_FILE: &str = "pouw/tree-file";
    /// The digest of a task spec.
    pub const TASK_SPEC: &str = "pouw/task-spec";
    /// The seed of a training step.
    pub const STEP_SEED: &str = "pouw/step-seed";
    /// The batch-index stream of a step.
    pub const BATCH: &str = "pouw/batch";
    /// The latent-noise stream of a step.
    pub const NOISE: &str = "pouw/noise";
    /// The weight-initialisation stream.
    pub const INIT: &str = "pouw/init";
    /// The digest of a checkpoint.
    pub const CHECKPOINT: &str = "pouw/checkpoint";
    /// One chunk of a checkpoint digest.
    pub const CHECKPOINT_CHUNK: &str = "pouw/checkpoint-chunk";
    /// A block's ticket at one step.
    pub const TICKET: &str = "pouw/ticket";
    /// The anchor binding header, miner and parameters.
    pub const ANCHOR: &str = "pouw/anchor";
    /// A block's identity (protocol 5 on), which fraud proofs bind.
    pub const BLOCK_ID: &str = "pouw/block-id";
    /// The digest of the consensus parameters.
    pub const PARAMS: &str = "pouw/params";
    /// The Fiat-Shamir stream choosing opened steps.
    pub const OPENINGS: &str = "pouw/openings";
    /// The sample stream of a quality score.
    pub const QUALITY: &str = "pouw/quality";
    /// The sample seed of a block's quality settled on later blocks' records.
    pub const SETTLE: &str = "pouw/settle";
    /// The sample seed of a tie-break between two blocks at one height.
    pub const TIE: &str = "pouw/tie";
    /// The digest of a submitter reputation table.
    pub const REPUTATION: &str = "pouw/reputation";
    /// The digest of a growth ledger.
    pub const LEDGER: &str = "pouw/ledger";
}

/// An incremental tagged SHA3-256 hasher.
#[derive(Clone)]
pub struct TaggedHasher(Sha3_256);

impl TaggedHasher {
    /// Starts a hash under `tag`.
    pub fn new(tag: &str) -> Self {
        let mut h = Sha3_256::new();
        sha3::Digest::update(&mut h, frame(tag));
        sha3::Digest::update(&mut h, tag.as_bytes());
        TaggedHasher(h)
    }

    /// Appends bytes.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        sha3::Digest::update(&mut self.0, bytes);
        self
    }

    /// Appends a `u64` in little-endian order.
    pub fn update_u64(&mut self, v: u64) -> &mut Self {
        self.update(&v.to_le_bytes())
    }

    /// Appends a length-prefixed (u32 little-endian) byte string.
    pub fn update_bytes(&mut self, bytes: &[u8]) -> &mut Self {
        // Hashed fields are digests, encodings and records, all bounded far below 4 GiB by their
        // decoders; a longer field would be a programming error, not an input.
        #[allow(clippy::expect_used)]
        let len = u32::try_from(bytes.len()).expect("hash input field over 4 GiB");
        self.update(&len.to_le_bytes()).update(bytes)
    }

    /// Finishes the hash.
    pub fn finish(self) -> Digest {
        self.0.finalize().into()
    }
}

fn frame(tag: &str) -> [u8; 1] {
    // Domain tags are this crate's own short constants.
    #[allow(clippy::expect_used)]
    [u8::try_from(tag.len()).expect("domain tag longer than 255 bytes")]
}

/// SHA3-256 of `parts` concatenated, under `tag`.
pub fn tagged_hash(tag: &str, parts: &[&[u8]]) -> Digest {
    let mut h = TaggedHasher::new(tag);
    for p in parts {
        h.update(p);
    }
    h.finish()
}

/// The bytes [`tagged_hash`] hashes before its parts under `tag`: its length byte and the tag.
pub fn tag_prefix(tag: &str) -> Vec<u8> {
    let mut prefix = frame(tag).to_vec();
    prefix.extend_from_slice(tag.as_bytes());
    prefix
}

/// SHA3-256 of `prefix || inputs[i]` for four equally long inputs, computed side by side where
/// the CPU has AVX2 (the same digests as one at a time, faster).
pub fn sha3_256_x4(prefix: &[u8], inputs: [&[u8]; 4]) -> [Digest; 4] {
    x4::sha3_256_x4(prefix, inputs)
}

/// SHA3-256 of `prefix || inputs[i]` for each input, in order: four at a time
/// ([`sha3_256_x4`]) where four neighbours are equally long, one at a time otherwise.
pub fn sha3_256_many(prefix: &[u8], inputs: &[&[u8]]) -> Vec<Digest> {
    let groups = inputs.chunks_exact(4);
    let rest = groups.remainder();
    groups
        .flat_map(|g| sha3_256_x4(prefix, [g[0], g[1], g[2], g[3]]))
        .chain(rest.iter().map(|i| sha3_256_parts(&[prefix, i])))
        .collect()
}

/// SHA3-256 of `prefix ||` each `chunk`-byte piece of `bytes` (the last may be shorter), in
/// order: groups of four pieces hash in parallel ([`sha3_256_many`]).
pub fn sha3_256_chunks(prefix: &[u8], bytes: &[u8], chunk: usize) -> Vec<Digest> {
    let chunk = chunk.max(1);
    bytes
        .par_chunks(4 * chunk)
        .flat_map_iter(|group| sha3_256_many(prefix, &group.chunks(chunk).collect::<Vec<_>>()))
        .collect()
}

/// Plain SHA3-256 of `parts` concatenated.
pub(crate) fn sha3_256_parts(parts: &[&[u8]]) -> Digest {
    let mut h = Sha3_256::new();
    for p in parts {
        sha3::Digest::update(&mut h, p);
    }
    h.finalize().into()
}

/// Plain (untagged) SHA3-256, as used inside content identifiers.
pub fn sha3_256(bytes: &[u8]) -> Digest {
    Sha3_256::digest(bytes).into()
}

/// A SHAKE256 output stream under a domain tag, for deriving indices and noise from a seed.
pub struct Xof(<Shake256 as ExtendableOutput>::Reader);

impl Xof {
    /// Starts the stream of `tag` and `seed`.
    pub fn new(tag: &str, seed: &[u8]) -> Self {
        let mut h = Shake256::default();
        h.update(&frame(tag));
        h.update(tag.as_bytes());
        h.update(seed);
        Xof(h.finalize_xof())
    }

    /// Fills `out` with the next bytes of the stream.
    pub fn fill(&mut self, out: &mut [u8]) {
        self.0.read(out);
    }

    /// The next `u64` of the stream (little-endian).
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// A uniform integer in `0..bound` by rejection sampling (no modulo bias).
    ///
    /// `bound` must be non-zero.
    pub fn uniform_below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "uniform_below(0)");
        if bound == 1 {
            return 0;
        }
        // The smallest all-ones mask covering bound - 1: at most half of the draws are rejected.
        let mask = u64::MAX >> (bound - 1).leading_zeros();
        loop {
            let v = self.next_u64() & mask;
            if v < bound {
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_framed() {
        // "pouw/leaf" + "x..." must not equal "pouw/leafx" + "...".
        assert_ne!(
            tagged_hash("pouw/leaf", &[b"xy"]),
            tagged_hash("pouw/leafx", &[b"y"])
        );
    }

    #[test]
    fn uniform_below_stays_in_range_and_covers() {
        let mut x = Xof::new("pouw/test", b"seed");
        let mut seen = [false; 7];
        for _ in 0..1000 {
            let v = x.uniform_below(7);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        assert_eq!(x.uniform_below(1), 0);
        let big = (1u64 << 63) + 5;
        assert!(x.uniform_below(big) < big);
        assert!(x.uniform_below(u64::MAX) < u64::MAX);
    }
}
