//! Proof of capacity: a challenge derived from the block context asks for `k` records of the
//! dataset; the response carries them with one multiproof; a verifier needs only the dataset's
//! root, record count and record size, never the dataset.
//!
//! Seed `= H("pouw/capacity-seed", header hash, len-prefixed miner id, root, count, epoch)`.
//! Indices are drawn from `SHAKE256("pouw/capacity-index", seed)`: 64-bit words, masked to the
//! smallest covering power of two and rejected when out of range (no modulo bias), duplicates
//! skipped, then sorted. A miner holding a fraction `s` of the records answers with probability
//! about `s^k`.
//!
//! Response encoding (version 1, little-endian): magic `PWCR`, version `u32`, `k: u32`,
//! `k` indices `u64`, record size `u32`, `k` records, node count `u32`, nodes (32 bytes each).
//! Every count is bounded by the challenge before anything is allocated; trailing bytes are
//! rejected.

use crate::codec::{Decoder, Encoder};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, TaggedHasher, Xof};
use crate::merkle::{leaf_hash, verify_multiproof, MultiProof};
use std::collections::BTreeSet;

const MAGIC: &[u8; 4] = b"PWCR";
const FORMAT_VERSION: u32 = 1;
/// The most challenges one response may answer.
pub const MAX_CHALLENGES: u32 = 4096;
/// The longest miner id, in bytes.
pub const MAX_MINER_ID: usize = 256;

/// A capacity challenge: the derived seed and the sorted record indices it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapacityChallenge {
    seed: Digest,
    indices: Vec<u64>,
    root: Digest,
    count: u64,
    record_size: u64,
}

/// What a capacity challenge is drawn for: a block's context and a dataset, each by name (the
/// seed hashes several values of one type, so none is positional).
#[derive(Clone, Copy, Debug)]
pub struct ChallengeFor<'a> {
    /// The header the block commits to.
    pub header_hash: &'a Digest,
    /// The miner (at most [`MAX_MINER_ID`] bytes).
    pub miner_id: &'a [u8],
    /// The dataset's Merkle root.
    pub dataset_root: &'a Digest,
    /// Records in the dataset.
    pub records: u64,
    /// Bytes per record.
    pub record_size: u64,
    /// The block's epoch (the first 8 bytes of its trajectory root).
    pub epoch: u64,
    /// Records asked for (1 to [`MAX_CHALLENGES`], at most `records`).
    pub challenges: u32,
}

impl CapacityChallenge {
    /// Derives the challenge `of` a block's context and a dataset.
    pub fn new(of: &ChallengeFor<'_>) -> Result<Self> {
        let &ChallengeFor {
            header_hash,
            miner_id,
            dataset_root: root,
            records: count,
            record_size,
            epoch,
            challenges: k,
        } = of;
        if k == 0 || k > MAX_CHALLENGES || u64::from(k) > count {
            return Err(Error::InvalidParameters(format!(
                "{k} challenges over {count} records (1..={MAX_CHALLENGES}, at most the count)"
            )));
        }
        if miner_id.len() > MAX_MINER_ID {
            return Err(Error::LimitExceeded {
                what: "miner id",
                found: miner_id.len() as u64,
                limit: MAX_MINER_ID as u64,
            });
        }
        if record_size == 0 || record_size > crate::dataset::MAX_RECORD_SIZE {
            return Err(Error::InvalidParameters(format!(
                "record size {record_size}"
            )));
        }
        let mut h = TaggedHasher::new(tag::CAPACITY_SEED);
        h.update(header_hash)
            .update_bytes(miner_id)
            .update(root)
            .update_u64(count)
            .update_u64(epoch);
        let seed = h.finish();
        let mut xof = Xof::new(tag::CAPACITY_INDEX, &seed);
        let mut picked = BTreeSet::new();
        while picked.len() < k as usize {
            picked.insert(xof.uniform_below(count));
        }
        Ok(CapacityChallenge {
            seed,
            indices: picked.into_iter().collect(),
            root: *root,
            count,
            record_size,
        })
    }

    /// The challenge for `dataset`.
    pub fn for_dataset(
        header_hash: &Digest,
        miner_id: &[u8],
        dataset: &Dataset,
        epoch: u64,
        k: u32,
    ) -> Result<Self> {
        Self::new(&ChallengeFor {
            header_hash,
            miner_id,
            dataset_root: &dataset.root(),
            records: dataset.len(),
            record_size: dataset.record_size() as u64,
            epoch,
            challenges: k,
        })
    }

    /// The seed.
    pub fn seed(&self) -> &Digest {
        &self.seed
    }

    /// The challenged record indices, ascending.
    pub fn indices(&self) -> &[u64] {
        &self.indices
    }

    /// Answers the challenge from the dataset on disk.
    pub fn respond(&self, dataset: &Dataset) -> Result<CapacityResponse> {
        if dataset.root() != self.root || dataset.len() != self.count {
            return Err(Error::InvalidParameters(
                "the dataset is not the one challenged".into(),
            ));
        }
        let (records, proof) = dataset.prove(&self.indices)?;
        Ok(CapacityResponse {
            indices: self.indices.clone(),
            records,
            proof,
        })
    }

    /// Verifies a decoded response.
    pub fn verify(&self, response: &CapacityResponse) -> Result<()> {
        let k = self.indices.len();
        if response.indices.len() != k || response.records.len() != k {
            return Err(Error::ChallengeCount {
                found: response.indices.len() as u64,
                expected: k as u64,
            });
        }
        for (position, pair) in response.indices.windows(2).enumerate() {
            if pair[1] <= pair[0] {
                return Err(Error::IndicesNotAscending {
                    position: position + 1,
                });
            }
        }
        for (position, (&found, &expected)) in
            response.indices.iter().zip(&self.indices).enumerate()
        {
            if found != expected {
                return Err(Error::ChallengeIndexMismatch {
                    position,
                    found,
                    expected,
                });
            }
        }
        if let Some(r) = response
            .records
            .iter()
            .find(|r| r.len() as u64 != self.record_size)
        {
            return Err(Error::RecordSize {
                found: r.len() as u64,
                expected: self.record_size,
            });
        }
        let leaves: Vec<Digest> = response.records.iter().map(|r| leaf_hash(r)).collect();
        verify_multiproof(
            &self.root,
            self.count,
            &self.indices,
            &leaves,
            &response.proof,
        )
    }

    /// Decodes untrusted response bytes with bounds taken from this challenge, then verifies.
    pub fn verify_bytes(&self, bytes: &[u8]) -> Result<()> {
        let limits = ResponseLimits {
            max_challenges: self.indices.len() as u32,
            max_record_size: self.record_size,
            max_proof_nodes: self.indices.len() as u64 * 64,
        };
        self.verify(&CapacityResponse::from_bytes(bytes, &limits)?)
    }
}

/// Bounds a decoder applies to a response before allocating.
#[derive(Clone, Copy, Debug)]
pub struct ResponseLimits {
    /// Most challenges answered.
    pub max_challenges: u32,
    /// Largest record size.
    pub max_record_size: u64,
    /// Most multiproof nodes.
    pub max_proof_nodes: u64,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        ResponseLimits {
            max_challenges: MAX_CHALLENGES,
            max_record_size: 1 << 20,
            max_proof_nodes: u64::from(MAX_CHALLENGES) * 64,
        }
    }
}

/// A miner's answer to a [`CapacityChallenge`]: the records, ascending by index, and one
/// multiproof for all of them. Decoded from untrusted bytes: verify it before trusting anything.
/// The default is the empty response (no records).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CapacityResponse {
    /// The answered indices, ascending.
    pub indices: Vec<u64>,
    /// The records, in the order of `indices`.
    pub records: Vec<Vec<u8>>,
    /// The multiproof of the records against the dataset root.
    pub proof: MultiProof,
}

impl CapacityResponse {
    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC).u32(FORMAT_VERSION).len(self.indices.len());
        for i in &self.indices {
            e.u64(*i);
        }
        e.len(self.records.first().map_or(0, |r| r.len()));
        for r in &self.records {
            e.raw(r);
        }
        e.len(self.proof.nodes.len());
        for n in &self.proof.nodes {
            e.digest(n);
        }
        e.finish()
    }

    /// Decodes a response from untrusted bytes under `limits`.
    pub fn from_bytes(bytes: &[u8], limits: &ResponseLimits) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "capacity response")?;
        let version = d.u32("version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "capacity response",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let k = d.count("challenge count", u64::from(limits.max_challenges), 8)?;
        let indices = (0..k).map(|_| d.u64("index")).collect::<Result<Vec<_>>>()?;
        let record_size = u64::from(d.u32("record size")?);
        if record_size > limits.max_record_size || (record_size == 0 && k > 0) {
            return Err(Error::LimitExceeded {
                what: "record size",
                found: record_size,
                limit: limits.max_record_size,
            });
        }
        if record_size != 0 && k == 0 {
            // `to_bytes` writes 0 when there are no records: any other value is a second encoding.
            return Err(Error::InvalidField {
                what: "record size",
                detail: format!("{record_size} with no records"),
            });
        }
        let total = record_size.saturating_mul(k as u64);
        if total > d.remaining() as u64 {
            return Err(Error::Truncated {
                what: "records",
                needed: total,
                available: d.remaining() as u64,
            });
        }
        let records = (0..k)
            .map(|_| d.raw(record_size as usize, "record").map(<[u8]>::to_vec))
            .collect::<Result<Vec<_>>>()?;
        let n = d.count("proof nodes", limits.max_proof_nodes, 32)?;
        let nodes = (0..n)
            .map(|_| d.digest("proof node"))
            .collect::<Result<Vec<_>>>()?;
        d.finish()?;
        Ok(CapacityResponse {
            indices,
            records,
            proof: MultiProof { nodes },
        })
    }
}

/// The digest a record-free proof gives challenged record `index` (`record`, its bytes) of a
/// block: `H("pouw/capacity-record", header hash, len-prefixed miner id, index, record)`. Keyed
/// to the header and the miner, it cannot be computed before the header is known nor reused by
/// another miner; a verifier holding the dataset recomputes it from its own copy.
pub fn record_digest(header_hash: &Digest, miner_id: &[u8], index: u64, record: &[u8]) -> Digest {
    let mut h = TaggedHasher::new(tag::CAPACITY_RECORD);
    h.update(header_hash)
        .update_bytes(miner_id)
        .update_u64(index)
        .update_bytes(record);
    h.finish()
}
