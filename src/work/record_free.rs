//! The record-free form of a block proof, for nodes that hold the dataset: the openings without
//! their batches, and the capacity response as one keyed digest per challenged record instead of
//! the records and their Merkle proof. Records are public data every full node holds (it must,
//! to mine), so a verifier reads the batches and the challenged records from its own copy
//! ([`RecordFreeProof::expand`]) and verifies the self-contained proof that results: both forms
//! reach the same verdict, and the self-contained one stays for light verifiers.
//!
//! The capacity digests ([`record_digest`]) bind each challenged record to the header and the
//! miner: as with the records themselves, the miner must hold them once the header is known. A
//! verifier checks each against the digest of its own copy of the record, which it has checked
//! against the dataset's Merkle root.
//!
//! Layout: magic `PWBR`, then as a block proof up to its openings (version, bindings, start
//! proof, steps, trajectory root and companion CID, segment starts, opening count), each opening's head (no
//! batch, see [`encode_opening_head`]), then `u32` count and the 32-byte capacity digests.

use super::params::ConsensusParams;
use super::proof::{
    decode_opening_head, encode_opening_head, BlockProof, ProofLimits, MIN_OPENING_HEAD_BYTES,
};
use crate::capacity::record_digest;
use crate::codec::{Decoder, Encoder};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::learning::{distinct_sorted, TaskSpec};

const MAGIC: &[u8; 4] = b"PWBR";

/// A block proof without records. Decoded from untrusted bytes: only verification (of its
/// expansion) makes it trustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordFreeProof {
    /// The block proof, every opening's batch and the capacity response left empty.
    pub proof: BlockProof,
    /// One digest per challenged record, in challenge order ([`record_digest`]).
    pub capacity_digests: Vec<Digest>,
}

impl BlockProof {
    /// This proof's record-free form.
    pub fn record_free(&self) -> RecordFreeProof {
        let mut proof = self.clone();
        for o in &mut proof.openings {
            o.records = Vec::new();
            o.records_proof.nodes = Vec::new();
        }
        let capacity = std::mem::take(&mut proof.capacity);
        let capacity_digests = capacity
            .indices
            .iter()
            .zip(&capacity.records)
            .map(|(i, r)| record_digest(&self.header_hash, &self.miner_id, *i, r))
            .collect();
        RecordFreeProof {
            proof,
            capacity_digests,
        }
    }
}

impl RecordFreeProof {
    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.proof.encode_head(&mut e, MAGIC);
        for o in &self.proof.openings {
            encode_opening_head(&mut e, o);
        }
        e.len(self.capacity_digests.len());
        for d in &self.capacity_digests {
            e.digest(d);
        }
        e.finish()
    }

    /// Decodes untrusted bytes under `limits`: sizes and encodings only, no verification.
    pub fn from_bytes(bytes: &[u8], limits: &ProofLimits) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let (mut proof, count) = BlockProof::decode_head(
            &mut d,
            MAGIC,
            "record-free block proof",
            limits,
            MIN_OPENING_HEAD_BYTES,
        )?;
        for _ in 0..count {
            proof.openings.push(decode_opening_head(&mut d)?);
        }
        let n = d.count("capacity digests", u64::from(limits.max_challenges), 32)?;
        let capacity_digests = (0..n)
            .map(|_| d.digest("capacity digest"))
            .collect::<Result<Vec<_>>>()?;
        d.finish()?;
        Ok(RecordFreeProof {
            proof,
            capacity_digests,
        })
    }

    /// The self-contained proof, its batches and challenged records read from `dataset` (which
    /// must be the one `params` commit to: else [`Error::DatasetMismatch`]) with their Merkle
    /// proofs, after checking every
    /// capacity digest against the digest of the dataset's record.
    pub fn expand<S: TaskSpec>(
        &self,
        params: &ConsensusParams<S>,
        dataset: &Dataset,
    ) -> Result<BlockProof> {
        if dataset.root() != params.dataset_root || dataset.len() != params.dataset_len {
            // The verifier's copy, not the block, is wrong.
            return Err(Error::DatasetMismatch {
                path: dataset.dir().to_path_buf(),
                detail: "not the dataset the consensus parameters commit to".into(),
            });
        }
        let p = &self.proof;
        let schedule = params.schedule(&p.header_hash, &p.miner_id);
        let mut full = p.clone();
        for o in &mut full.openings {
            let indices = schedule
                .step(&o.trajectory.prefix_root, o.trajectory.step)?
                .indices;
            let (records, proof) = dataset.prove(&distinct_sorted(&indices))?;
            o.records = records.concat();
            o.records_proof = proof;
        }
        let challenge =
            params.capacity_challenge(&p.header_hash, &p.miner_id, &p.trajectory_root)?;
        let response = challenge.respond(dataset)?;
        if self.capacity_digests.len() != response.indices.len() {
            return Err(Error::ChallengeCount {
                found: self.capacity_digests.len() as u64,
                expected: response.indices.len() as u64,
            });
        }
        for ((index, record), digest) in response
            .indices
            .iter()
            .zip(&response.records)
            .zip(&self.capacity_digests)
        {
            if record_digest(&p.header_hash, &p.miner_id, *index, record) != *digest {
                return Err(Error::InvalidField {
                    what: "capacity digest",
                    detail: format!("record {index}: not the digest of the dataset's record"),
                });
            }
        }
        full.capacity = response;
        Ok(full)
    }
}
