//! Step seeds, batch indices, batches and checkpoint digests: the consensus randomness and
//! hashing shared by every model.

use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::{sha3_256_chunks, sha3_256_many, tag, tag_prefix, Digest, TaggedHasher, Xof};
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

thread_local! {
    /// Where [`digest_of_pieces`] gathers chunks that span pieces: four chunks, kept per thread.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Bytes hashed per parallel chunk of a checkpoint digest.
const DIGEST_CHUNK: usize = 1 << 20;

/// `d = H("pouw/checkpoint", len, H("pouw/checkpoint-chunk", c_0), ...)` over 1 MiB chunks of
/// the checkpoint bytes: the chunks hash in parallel, so digesting keeps up with serialising.
pub fn checkpoint_digest(bytes: &[u8]) -> Digest {
    let chunk_digests = sha3_256_chunks(&tag_prefix(tag::CHECKPOINT_CHUNK), bytes, DIGEST_CHUNK);
    digest_of_chunks(bytes.len(), &chunk_digests)
}

/// Where each of `pieces` starts in their concatenation, and its length.
fn piece_starts(pieces: &[&[u8]]) -> (Vec<usize>, usize) {
    let mut starts = Vec::with_capacity(pieces.len());
    let mut len = 0usize;
    for p in pieces {
        starts.push(len);
        len += p.len();
    }
    (starts, len)
}

/// Copies bytes `begin .. begin + out.len()` of the concatenation of `pieces` (starting at
/// `starts`) into `out`.
fn gather(pieces: &[&[u8]], starts: &[usize], begin: usize, out: &mut [u8]) {
    let end = begin + out.len();
    // The last piece starting at or before `begin`, then every piece starting before `end`.
    let mut i = starts.partition_point(|&s| s <= begin).saturating_sub(1);
    while i < pieces.len() && starts[i] < end {
        let (from, to) = (starts[i].max(begin), (starts[i] + pieces[i].len()).min(end));
        if from < to {
            out[from - begin..to - begin]
                .copy_from_slice(&pieces[i][from - starts[i]..to - starts[i]]);
        }
        i += 1;
    }
}

/// The concatenation of `pieces` and its [`checkpoint_digest`], in one parallel pass: each
/// chunk is copied into place and hashed while it is in cache, so serialising costs no pass of
/// its own. The same bytes and digest as concatenating, then digesting.
pub fn concat_with_digest(pieces: &[&[u8]]) -> (Vec<u8>, Digest) {
    let (starts, len) = piece_starts(pieces);
    let prefix = tag_prefix(tag::CHECKPOINT_CHUNK);
    // Zeroed pages come lazily from the allocator; each group's are touched by its own task.
    let mut out = vec![0u8; len];
    let chunk_digests: Vec<Digest> = out
        .par_chunks_mut(4 * DIGEST_CHUNK)
        .enumerate()
        .flat_map_iter(|(g, group)| {
            gather(pieces, &starts, g * 4 * DIGEST_CHUNK, group);
            sha3_256_many(&prefix, &group.chunks(DIGEST_CHUNK).collect::<Vec<_>>())
        })
        .collect();
    (out, digest_of_chunks(len, &chunk_digests))
}

/// The [`checkpoint_digest`] of the concatenation of `pieces`, without writing it: a chunk
/// inside one piece is hashed in place, one that spans pieces is gathered into a buffer of the
/// thread first.
pub fn digest_of_pieces(pieces: &[&[u8]]) -> Digest {
    let (starts, len) = piece_starts(pieces);
    let prefix = tag_prefix(tag::CHECKPOINT_CHUNK);
    let chunks = len.div_ceil(DIGEST_CHUNK);
    let chunk_digests: Vec<Digest> = (0..chunks.div_ceil(4))
        .into_par_iter()
        .flat_map_iter(|g| {
            let first = 4 * g;
            let last = (first + 4).min(chunks);
            let range = |c: usize| c * DIGEST_CHUNK..((c + 1) * DIGEST_CHUNK).min(len);
            // Each chunk inside one piece, by reference, else `None`: gathered into this
            // thread's buffer (kept between calls: no allocation per digest).
            let inside: Vec<Option<&[u8]>> = (first..last)
                .map(|c| {
                    let r = range(c);
                    let i = starts.partition_point(|&s| s <= r.start).checked_sub(1)?;
                    pieces[i].get(r.start - starts[i]..r.end - starts[i])
                })
                .collect();
            SCRATCH.with_borrow_mut(|scratch| {
                if inside.contains(&None) && scratch.len() < 4 * DIGEST_CHUNK {
                    scratch.resize(4 * DIGEST_CHUNK, 0);
                }
                for (k, c) in (first..last).enumerate() {
                    if inside[k].is_none() {
                        let r = range(c);
                        let begin = k * DIGEST_CHUNK;
                        gather(
                            pieces,
                            &starts,
                            r.start,
                            &mut scratch[begin..begin + r.len()],
                        );
                    }
                }
                let chunks: Vec<&[u8]> = (first..last)
                    .zip(&inside)
                    .enumerate()
                    .map(|(k, (c, place))| {
                        place.unwrap_or_else(|| {
                            let begin = k * DIGEST_CHUNK;
                            &scratch[begin..begin + range(c).len()]
                        })
                    })
                    .collect();
                sha3_256_many(&prefix, &chunks)
            })
        })
        .collect();
    digest_of_chunks(len, &chunk_digests)
}

/// The checkpoint digest from the length and the chunk digests.
fn digest_of_chunks(len: usize, chunk_digests: &[Digest]) -> Digest {
    let mut h = TaggedHasher::new(tag::CHECKPOINT);
    h.update_u64(len as u64);
    for d in chunk_digests {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Pieces of every size around the chunk boundaries (empty ones included) give the bytes of
    /// their concatenation and its digest.
    #[test]
    fn concat_with_digest_is_concat_then_digest() {
        let chunk = DIGEST_CHUNK;
        let sizes = [
            vec![],
            vec![0],
            vec![5],
            vec![chunk],
            vec![chunk - 1, 1],
            vec![3, 0, chunk, 0, 7],
            vec![chunk + 1, chunk - 2, 2 * chunk + 3, 0],
            vec![10, 2 * chunk, 1],
            vec![3 * chunk + 5, 0, 5 * chunk, 7],
        ];
        for (n, sizes) in sizes.iter().enumerate() {
            let pieces: Vec<Vec<u8>> = sizes
                .iter()
                .enumerate()
                .map(|(i, &len)| {
                    let mut v = vec![0u8; len];
                    Xof::new("test", &[(n * 16 + i) as u8]).fill(&mut v);
                    v
                })
                .collect();
            let refs: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let (bytes, digest) = concat_with_digest(&refs);
            let whole = pieces.concat();
            assert_eq!(bytes, whole, "{sizes:?}");
            assert_eq!(digest, checkpoint_digest(&whole), "{sizes:?}");
            assert_eq!(digest_of_pieces(&refs), digest, "{sizes:?}");
        }
    }
}
