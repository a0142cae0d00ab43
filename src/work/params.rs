//! Every consensus parameter in one versioned struct with a canonical encoding and a digest
//! that a chain pins in its genesis. A verifier refuses proofs made under other parameters.

use super::protocol::ProtocolVersion;
use super::{anchor, capacity_epoch};
use crate::capacity::{CapacityChallenge, ChallengeFor};
use crate::codec::{Decoder, Encoder};
use crate::error::{Error, Result};
use crate::hash::{tag, tagged_hash, Digest};
use crate::learning::{Schedule, TaskSpec};

const MAGIC: &[u8; 4] = b"PWCP";
/// The largest encoded task spec, in bytes.
const MAX_SPEC_BYTES: u64 = 4096;
/// The largest canonical encoding of consensus parameters, in bytes (magic, version, the
/// length-prefixed spec of at most 4 KiB, root, count, four limits): what a reader of a
/// parameters file may read before decoding it.
pub const MAX_PARAMS_BYTES: u64 = 4 + 4 + (4 + MAX_SPEC_BYTES) + 32 + 8 + 4 + 4 + 8 + 8;
/// The most steps a block proof may open.
pub const MAX_OPENED_STEPS: u32 = 256;

/// The consensus parameters of a chain using `pouw` with task spec `S`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsensusParams<S: TaskSpec> {
    /// The protocol version the parameters are for: [`ProtocolVersion::CURRENT`] for new chains; blocks
    /// of an older version this build still verifies are checked under it.
    pub protocol_version: ProtocolVersion,
    /// The learning task (model, optimiser, batch size, backend profile, dataset CID).
    pub spec: S,
    /// Merkle root of the dataset the task trains on.
    pub dataset_root: Digest,
    /// Records in the dataset.
    pub dataset_len: u64,
    /// Records asked for by the explicit capacity challenge of a block.
    pub capacity_challenges: u32,
    /// Steps opened by Fiat-Shamir besides the winning one.
    pub opened_steps: u32,
    /// The most steps one block proof may claim.
    pub max_steps: u64,
    /// The fewest steps a block holds: tickets count from this step on, so every block advances
    /// the model by at least this many steps, however many lanes miners run (see README,
    /// "Parallel lanes").
    pub min_steps: u64,
}

impl<S: TaskSpec> ConsensusParams<S> {
    /// Parameters with the defaults: 32 capacity challenges, 16 opened steps, at least 1 and
    /// at most 100 000 steps a block.
    pub fn new(spec: S, dataset_root: Digest, dataset_len: u64) -> Self {
        ConsensusParams {
            protocol_version: ProtocolVersion::CURRENT,
            spec,
            dataset_root,
            dataset_len,
            capacity_challenges: 32,
            opened_steps: 16,
            max_steps: 100_000,
            min_steps: 1,
        }
    }

    /// The protocol version the parameters state.
    pub fn version(&self) -> ProtocolVersion {
        self.protocol_version
    }

    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidParameters(m.to_owned()));
        if self.dataset_len == 0
            || u64::from(self.capacity_challenges) > self.dataset_len
            || self.capacity_challenges == 0
        {
            return bad("capacity challenges must be between 1 and the dataset size");
        }
        if self.capacity_challenges > crate::capacity::MAX_CHALLENGES
            || self.opened_steps > MAX_OPENED_STEPS
        {
            return bad("too many capacity challenges or opened steps");
        }
        if self.max_steps == 0 || self.max_steps > 1 << 40 {
            return bad("max steps out of range");
        }
        if self.min_steps == 0 || self.min_steps > self.max_steps {
            return bad("min steps must be between 1 and max steps");
        }
        Ok(())
    }

    /// The canonical encoding.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC)
            .u32(self.protocol_version.number())
            .bytes(&self.spec.to_bytes());
        e.digest(&self.dataset_root).u64(self.dataset_len);
        e.u32(self.capacity_challenges)
            .u32(self.opened_steps)
            .u64(self.max_steps)
            .u64(self.min_steps);
        e.finish()
    }

    /// Decodes and validates untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "consensus parameters")?;
        let protocol_version =
            ProtocolVersion::from_number(d.u32("protocol version")?, "consensus parameters")?;
        let spec = S::from_bytes(d.bytes("task spec", MAX_SPEC_BYTES)?)?;
        let dataset_root = d.digest("dataset root")?;
        let dataset_len = d.u64("dataset size")?;
        let capacity_challenges = d.u32("capacity challenges")?;
        let opened_steps = d.u32("opened steps")?;
        let max_steps = d.u64("max steps")?;
        let min_steps = d.u64("min steps")?;
        d.finish()?;
        let params = ConsensusParams {
            protocol_version,
            spec,
            dataset_root,
            dataset_len,
            capacity_challenges,
            opened_steps,
            max_steps,
            min_steps,
        };
        params.validate()?;
        Ok(params)
    }

    /// The digest a chain pins: `H("pouw/params", encoding)`.
    pub fn digest(&self) -> Digest {
        tagged_hash(tag::PARAMS, &[&self.to_bytes()])
    }

    /// The schedule of the block for `header_hash` mined by `miner_id` under these parameters:
    /// what each of its steps trains on.
    pub fn schedule(&self, header_hash: &Digest, miner_id: &[u8]) -> Schedule {
        Schedule::new(
            anchor(&self.digest(), header_hash, miner_id),
            self.spec.batch_size(),
            self.dataset_len,
        )
    }

    /// The capacity challenge of the block for `header_hash` mined by `miner_id` whose trajectory
    /// root is `trajectory_root` (its epoch is the root's first 8 bytes): the one challenge
    /// mining answers and verification checks.
    pub fn capacity_challenge(
        &self,
        header_hash: &Digest,
        miner_id: &[u8],
        trajectory_root: &Digest,
    ) -> Result<CapacityChallenge> {
        CapacityChallenge::new(&ChallengeFor {
            header_hash,
            miner_id,
            dataset_root: &self.dataset_root,
            records: self.dataset_len,
            record_size: self.spec.record_size() as u64,
            epoch: capacity_epoch(trajectory_root),
            challenges: self.capacity_challenges,
        })
    }
}
