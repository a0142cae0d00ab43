//! The block proof and its canonical, versioned binary encoding.
//!
//! Layout (little-endian; `nodes` = `u32` count then 32-byte digests; `bytes` = `u32` length then
//! bytes): magic `PWBP`, protocol version `u32`, params digest, header hash, miner id `bytes`,
//! the proof of `d_0` as leaf 0 `nodes` (`d_0` itself is the chain's start digest), steps
//! `u64`, trajectory root, the trajectory companion's CID `bytes`, from protocol 5 on the
//! segment-start count `u32` and each segment start's CID `bytes`, opening count `u32`, each
//! opening (see [`encode_opening`]), then the capacity response as `bytes`. Every count is
//! bounded by the consensus parameters before allocation, the trailing-bytes check is strict,
//! and every value has one encoding.

use super::params::ConsensusParams;
use super::protocol::ProtocolVersion;
use crate::capacity::{CapacityResponse, ResponseLimits, MAX_MINER_ID};
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, TaggedHasher};
use crate::ident::{cid_from_bytes, Cid};
use crate::learning::{StepOpening, TaskSpec, TrajectoryOpening, MAX_CONSISTENCY_NODES};
use crate::merkle::MultiProof;

const MAGIC: &[u8; 4] = b"PWBP";
/// Most nodes in one trajectory or record proof per leaf (tree depth bound).
pub(crate) const MAX_DEPTH: u64 = 64;
/// The longest binary CID accepted.
const MAX_CID: u64 = 64;
/// The smallest encoding of a CID field (its length and a few bytes), for bounding counts.
const MIN_CID_FIELD: usize = 8;

/// The segment-start checkpoints a block of `steps` steps names at spacing `segment_steps`:
/// `W_c, W_2c, ..` before step `steps`.
pub fn segment_starts(steps: u64, segment_steps: u64) -> u64 {
    steps.saturating_sub(1) / segment_steps.max(1)
}

/// A block's proof of useful work. Decoded from untrusted bytes: only
/// [`verify`](super::verify) makes it trustworthy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockProof {
    /// The protocol version it was made under (its parameters').
    pub version: ProtocolVersion,
    /// Digest of the consensus parameters it was made under.
    pub params_digest: Digest,
    /// The header it is bound to.
    pub header_hash: Digest,
    /// The miner it is bound to.
    pub miner_id: Vec<u8>,
    /// Proof of `d_0` (the chain's start digest) as leaf 0 of the trajectory.
    pub start_proof: MultiProof,
    /// Steps trained (`n`); step `n` is the winning one.
    pub steps: u64,
    /// Merkle root over `d_0 .. d_n`.
    pub trajectory_root: Digest,
    /// CID of the trajectory companion (every digest `d_0 .. d_n`, see
    /// [`Trajectory::to_bytes`](crate::learning::Trajectory::to_bytes)) the miner publishes, so
    /// that any node can audit every step.
    pub trajectory_cid: Cid,
    /// CIDs of the segment-start checkpoints `W_c, W_2c, ..` (every `c = opened_steps + 1`-th
    /// checkpoint before step `n`; protocol 5 on, empty before), from which any node replays
    /// one segment of `c` steps chosen by its own randomness ([`audit_segment`](super::audit_segment)).
    pub segments: Vec<Cid>,
    /// Opened steps, ascending; the last is step `n`.
    pub openings: Vec<StepOpening>,
    /// The explicit capacity response bound to the header.
    pub capacity: CapacityResponse,
}

/// Bounds the decoder takes from the parameters.
#[derive(Clone, Copy, Debug)]
pub struct ProofLimits {
    version: ProtocolVersion,
    segment_steps: Option<u64>,
    max_openings: u64,
    pub(crate) max_challenges: u32,
    pub(crate) opening: OpeningLimits,
    capacity: ResponseLimits,
    max_capacity_bytes: u64,
    max_steps: u64,
}

/// Bounds of one encoded opening.
#[derive(Clone, Copy, Debug)]
pub(crate) struct OpeningLimits {
    max_batch_bytes: u64,
    max_batch_nodes: u64,
}

impl ProofLimits {
    /// The limits of proofs under `params`.
    pub fn of<S: TaskSpec>(params: &ConsensusParams<S>) -> Self {
        let batch = u64::from(params.spec.batch_size());
        let record = params.spec.record_size() as u64;
        let k = params.capacity_challenges;
        let capacity = ResponseLimits {
            max_challenges: k,
            max_record_size: record,
            max_proof_nodes: u64::from(k) * MAX_DEPTH,
        };
        ProofLimits {
            version: params.protocol_version,
            segment_steps: params.protocol_version.segment_steps(params.opened_steps),
            max_challenges: k,
            max_openings: u64::from(params.opened_steps) + 1,
            opening: OpeningLimits {
                max_batch_bytes: batch * record,
                max_batch_nodes: batch * MAX_DEPTH,
            },
            max_capacity_bytes: 64 + u64::from(k) * (8 + record + 32 * MAX_DEPTH),
            capacity,
            max_steps: params.max_steps,
        }
    }

    /// An upper bound on the encoded size of any proof these limits accept, in either form
    /// (self-contained or record-free): what a reader of a proof file may read before decoding.
    pub fn max_encoded_len(&self) -> u64 {
        const LEN: u64 = 4; // a length or count prefix
        let cid = LEN + MAX_CID;
        let segments = match self.segment_steps {
            Some(c) => LEN + self.max_steps / c.max(1) * cid,
            None => 0,
        };
        let head = 4
            + 4
            + 32
            + 32
            + (LEN + MAX_MINER_ID as u64)
            + (LEN + 32 * MAX_DEPTH)
            + 8
            + 32
            + cid
            + segments
            + LEN;
        let records = self.opening.max_batch_nodes / MAX_DEPTH;
        let opening = 8 + 32 + 32 + (LEN + 32 * 2 * MAX_DEPTH) + 32
            + (LEN + 32 * MAX_CONSISTENCY_NODES) + cid + 1 + cid
            + (LEN + self.opening.max_batch_bytes) + (LEN + 32 * self.opening.max_batch_nodes)
            // the record-free form's keyed digest of each record
            + LEN + 32 * records;
        let capacity = LEN + self.max_capacity_bytes + LEN + 32 * u64::from(self.max_challenges);
        head.saturating_add(self.max_openings.saturating_mul(opening))
            .saturating_add(capacity)
    }
}

fn nodes(e: &mut Encoder, proof: &[Digest]) {
    e.len(proof.len());
    for n in proof {
        e.digest(n);
    }
}

fn read_nodes(d: &mut Decoder<'_>, what: &'static str, limit: u64) -> Result<Vec<Digest>> {
    let n = d.count(what, limit, 32)?;
    (0..n).map(|_| d.digest(what)).collect()
}

/// Encodes an opening's head (all but its batch): step `u64`, `d_{j-1}`, `d_j`, trajectory
/// `nodes`, prefix root, prefix consistency `nodes`, start CID `bytes`, end CID flag `u8` (and
/// `bytes`).
pub(crate) fn encode_opening_head(e: &mut Encoder, o: &StepOpening) {
    let t = &o.trajectory;
    e.u64(t.step).digest(&t.prev).digest(&t.next);
    nodes(e, &t.proof.nodes);
    e.digest(&t.prefix_root);
    nodes(e, &t.prefix_proof);
    e.bytes(&o.start.to_bytes());
    match &o.end {
        None => e.u8(0),
        Some(cid) => e.u8(1).bytes(&cid.to_bytes()),
    };
}

/// Encodes one opening: its head ([`encode_opening_head`]), then batch records `bytes` and
/// records proof `nodes`.
pub(crate) fn encode_opening(e: &mut Encoder, o: &StepOpening) {
    encode_opening_head(e, o);
    e.bytes(&o.records);
    nodes(e, &o.records_proof.nodes);
}

/// The smallest encoding of an opening's head ([`encode_opening_head`]), in bytes (for bounding
/// counts).
pub(crate) const MIN_OPENING_HEAD_BYTES: usize = 8 + 32 + 32 + 4 + 32 + 4 + 4 + 1;
/// The smallest encoding of an opening: its head, then two empty length-prefixed fields.
pub(crate) const MIN_OPENING_BYTES: usize = MIN_OPENING_HEAD_BYTES + 4 + 4;

/// Decodes one opening under `limits`.
pub(crate) fn decode_opening(d: &mut Decoder<'_>, limits: &OpeningLimits) -> Result<StepOpening> {
    let mut opening = decode_opening_head(d)?;
    opening.records = d.bytes("batch records", limits.max_batch_bytes)?.to_vec();
    opening.records_proof = MultiProof {
        nodes: read_nodes(d, "records proof", limits.max_batch_nodes)?,
    };
    Ok(opening)
}

/// Decodes an opening's head; its batch records and their proof are left empty.
pub(crate) fn decode_opening_head(d: &mut Decoder<'_>) -> Result<StepOpening> {
    let step = d.u64("opened step")?;
    let prev = d.digest("opened prev digest")?;
    let next = d.digest("opened next digest")?;
    let proof = read_nodes(d, "trajectory proof", 2 * MAX_DEPTH)?;
    let prefix_root = d.digest("prefix root")?;
    let prefix_proof = read_nodes(d, "prefix consistency proof", MAX_CONSISTENCY_NODES)?;
    let start = cid_from_bytes(d.bytes("start cid", MAX_CID)?)?;
    let end = match d.u8("end cid flag")? {
        0 => None,
        1 => Some(cid_from_bytes(d.bytes("end cid", MAX_CID)?)?),
        f => {
            return Err(Error::InvalidField {
                what: "end cid flag",
                detail: format!("{f}"),
            })
        }
    };
    Ok(StepOpening {
        trajectory: TrajectoryOpening {
            step,
            prev,
            next,
            proof: MultiProof { nodes: proof },
            prefix_root,
            prefix_proof,
        },
        start,
        end,
        records: Vec::new(),
        records_proof: MultiProof { nodes: Vec::new() },
    })
}

impl BlockProof {
    /// Every object [`verify`](super::verify) fetches from the store, in the order it fetches
    /// them (the winning opening's start checkpoint first, then the trajectory companion, then
    /// the other openings' start checkpoints, then the segment starts), without repeats: what a
    /// node can prefetch. The chain's start checkpoint (scored for quality) is the verifier's
    /// own and not listed unless an opening starts from it.
    pub fn required_cids(&self) -> Vec<Cid> {
        let mut out: Vec<Cid> = Vec::with_capacity(self.openings.len() + self.segments.len() + 1);
        let winning = self.openings.last().map(|o| o.start);
        let others = self.openings.iter().rev().skip(1).rev().map(|o| o.start);
        for cid in winning
            .into_iter()
            .chain(std::iter::once(self.trajectory_cid))
            .chain(others)
            .chain(self.segments.iter().copied())
        {
            if !out.contains(&cid) {
                out.push(cid);
            }
        }
        out
    }

    /// Everything before the openings: `magic`, the version, the bindings, the start proof, the
    /// steps, the trajectory root and companion CID, then the opening count.
    pub(crate) fn encode_head(&self, e: &mut Encoder, magic: &[u8; 4]) {
        e.raw(magic)
            .u32(self.version.number())
            .digest(&self.params_digest)
            .digest(&self.header_hash)
            .bytes(&self.miner_id);
        nodes(e, &self.start_proof.nodes);
        e.u64(self.steps)
            .digest(&self.trajectory_root)
            .bytes(&self.trajectory_cid.to_bytes());
        if self.version.names_segment_starts() {
            e.len(self.segments.len());
            for cid in &self.segments {
                e.bytes(&cid.to_bytes());
            }
        }
        e.len(self.openings.len());
    }

    /// The block's identity, `H("pouw/block-id", version, params digest, header hash, miner id,
    /// steps, trajectory root, companion CID, segment-start CIDs)`: the same for the
    /// self-contained and the record-free form. With one valid block per parameters, start,
    /// header and miner (the first winning ticket), a chain names an accepted block by it and a
    /// fraud proof binds it.
    pub fn id(&self) -> Digest {
        let mut h = TaggedHasher::new(tag::BLOCK_ID);
        h.update_u64(u64::from(self.version.number()))
            .update(&self.params_digest)
            .update(&self.header_hash)
            .update_bytes(&self.miner_id)
            .update_u64(self.steps)
            .update(&self.trajectory_root)
            .update_bytes(&self.trajectory_cid.to_bytes())
            .update_u64(self.segments.len() as u64);
        for cid in &self.segments {
            h.update_bytes(&cid.to_bytes());
        }
        h.finish()
    }

    /// Decodes what [`encode_head`](Self::encode_head) writes: a proof without openings nor
    /// capacity response, and the opening count (bounded by `limits`).
    pub(crate) fn decode_head(
        d: &mut Decoder<'_>,
        magic: &[u8; 4],
        what: &'static str,
        limits: &ProofLimits,
        min_opening_bytes: usize,
    ) -> Result<(Self, usize)> {
        d.magic(magic, what)?;
        let version = ProtocolVersion::from_number(d.u32("protocol version")?, what)?;
        if version != limits.version {
            return Err(Error::UnsupportedVersion {
                what: "block proof under these parameters",
                found: version.number(),
                supported: limits.version.number(),
            });
        }
        let params_digest = d.digest("params digest")?;
        let header_hash = d.digest("header hash")?;
        let miner_id = d.bytes("miner id", MAX_MINER_ID as u64)?.to_vec();
        let start_proof = MultiProof {
            nodes: read_nodes(d, "start proof", MAX_DEPTH)?,
        };
        let steps = d.u64("steps")?;
        let trajectory_root = d.digest("trajectory root")?;
        let trajectory_cid = cid_from_bytes(d.bytes("trajectory cid", MAX_CID)?)?;
        let segments = match limits.segment_steps {
            None => Vec::new(),
            Some(c) => {
                let expected = segment_starts(steps, c);
                let n = d.count("segment starts", expected, MIN_CID_FIELD)?;
                if n as u64 != expected {
                    return Err(Error::InvalidField {
                        what: "segment starts",
                        detail: format!("{n} for {steps} steps, which name {expected}"),
                    });
                }
                (0..n)
                    .map(|_| cid_from_bytes(d.bytes("segment start cid", MAX_CID)?))
                    .collect::<Result<Vec<_>>>()?
            }
        };
        let count = d.count("openings", limits.max_openings, min_opening_bytes)?;
        let proof = BlockProof {
            version,
            params_digest,
            header_hash,
            miner_id,
            start_proof,
            steps,
            trajectory_root,
            trajectory_cid,
            segments,
            openings: Vec::with_capacity(count),
            capacity: CapacityResponse::default(),
        };
        Ok((proof, count))
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        self.encode_head(&mut e, MAGIC);
        for o in &self.openings {
            encode_opening(&mut e, o);
        }
        e.bytes(&self.capacity.to_bytes());
        e.finish()
    }

    /// Decodes untrusted bytes under `limits`: sizes and encodings only, no verification.
    pub fn from_bytes(bytes: &[u8], limits: &ProofLimits) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        let (mut proof, count) =
            Self::decode_head(&mut d, MAGIC, "block proof", limits, MIN_OPENING_BYTES)?;
        for _ in 0..count {
            proof
                .openings
                .push(decode_opening(&mut d, &limits.opening)?);
        }
        proof.capacity = CapacityResponse::from_bytes(
            d.bytes("capacity response", limits.max_capacity_bytes)?,
            &limits.capacity,
        )?;
        d.finish()?;
        Ok(proof)
    }

    /// The CID of the winning checkpoint `W_n` (the next block's start), when the proof carries it.
    pub fn winning_checkpoint(&self) -> Option<&Cid> {
        self.openings.last().and_then(|o| o.end.as_ref())
    }

    /// `d_n`: the digest of the winning checkpoint.
    pub fn winning_digest(&self) -> Option<&Digest> {
        self.openings.last().map(|o| &o.trajectory.next)
    }
}
