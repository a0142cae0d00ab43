//! Step seeds, batch indices, batches and checkpoint digests: the consensus randomness and
//! hashing shared by every model.

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::{tag, Digest, TaggedHasher, Xof};
use rayon::prelude::*;

/// `s_i = H("pouw/step-seed", anchor, R_i, i)`: the seed of step `i`, bound to the block
/// (`anchor`) and to `R_i`, the Merkle root of the trajectory so far (`d_0 .. d_{i-1}`, see
/// [`super::Trajectory::prefix_root`]). Steps cannot be precomputed, and no committed digest can
/// change without changing the seed of every later step, the winning one included.
pub fn step_seed(anchor: &Digest, prefix_root: &Digest, step: u64) -> Digest {
    let mut h = TaggedHasher::new(tag::STEP_SEED);
    h.update(anchor).update(prefix_root).update_u64(step);
    h.finish()
}

/// The `batch_size` record indices (with replacement, unbiased) a step seed draws from a
/// dataset of `count` records.
pub fn batch_indices(step_seed: &Digest, batch_size: u32, count: u64) -> Result<Vec<u64>> {
    if count == 0 || batch_size == 0 {
        return Err(Error::InvalidParameters(format!(
            "batch of {batch_size} from {count} records"
        )));
    }
    let mut xof = Xof::new(tag::BATCH, step_seed);
    Ok((0..batch_size).map(|_| xof.uniform_below(count)).collect())
}

/// Bytes hashed per parallel chunk of a checkpoint digest.
const DIGEST_CHUNK: usize = 1 << 20;

/// `d = H("pouw/checkpoint", len, H("pouw/checkpoint-chunk", c_0), ...)` over 1 MiB chunks of
/// the checkpoint bytes: the chunks hash in parallel, so digesting keeps up with serialising.
pub fn checkpoint_digest(bytes: &[u8]) -> Digest {
    let chunk_digests: Vec<Digest> = bytes
        .par_chunks(DIGEST_CHUNK)
        .map(|c| crate::hash::tagged_hash(tag::CHECKPOINT_CHUNK, &[c]))
        .collect();
    let mut h = TaggedHasher::new(tag::CHECKPOINT);
    h.update_u64(bytes.len() as u64);
    for d in &chunk_digests {
        h.update(d);
    }
    h.finish()
}

/// A training batch: records (concatenated) and the dataset indices they came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Batch {
    /// Dataset index of each record.
    pub indices: Vec<u64>,
    /// The records, `record_size` bytes each, in the order of `indices`.
    pub records: Vec<u8>,
    /// Bytes per record.
    pub record_size: usize,
}

impl Batch {
    /// Reads the records at `indices` from the dataset, each checked against its Merkle leaf.
    pub fn from_dataset(dataset: &Dataset, indices: &[u64]) -> Result<Self> {
        let record_size = dataset.record_size();
        let mut records = vec![0u8; record_size * indices.len()];
        for (&i, out) in indices.iter().zip(records.chunks_exact_mut(record_size)) {
            out.copy_from_slice(&dataset.record(i)?);
        }
        Ok(Batch {
            indices: indices.to_vec(),
            records,
            record_size,
        })
    }

    /// A batch from records already in memory (e.g. records that came with a proof).
    pub fn from_records(indices: Vec<u64>, records: Vec<u8>, record_size: usize) -> Result<Self> {
        if record_size == 0 || records.len() != indices.len() * record_size {
            return Err(Error::RecordSize {
                found: records.len() as u64,
                expected: (indices.len() * record_size) as u64,
            });
        }
        Ok(Batch {
            indices,
            records,
            record_size,
        })
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.indices.len()
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// Record `i`.
    pub fn record(&self, i: usize) -> &[u8] {
        &self.records[i * self.record_size..(i + 1) * self.record_size]
    }
}
