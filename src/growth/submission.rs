//! Submissions and the model-free part of their check: sizes, value range, ink, exact
//! duplicates, translated copies, near copies, the same copies transformed (mirrored, upside
//! down, turned, inverted), and near copies once brightness and contrast are taken out (the
//! levels rule). The judge (`growth::Judge`, feature `torch`) adds the discriminator score.

use super::flat::flat_patch;
use super::levels::{level_channels, normalise_levels, LevelTables};
use super::near::{near_in_dataset, near_in_earlier, Earlier, Heads, NearCopies};
use super::records::{copy_transform_sets, for_each_record, transform_record, Geometry};
use super::request::{ink_of, DatasetRequest, COPY_INVERTED, MAX_CID_BYTES};
use crate::codec::{Decoder, Encoder};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::{cid_from_bytes, Cid};
use crate::merkle::{leaf_hash, leaf_hashes};
use std::collections::{HashMap, HashSet};

const MAGIC: &[u8; 4] = b"PWSU";
const FORMAT_VERSION: u32 = 1;
/// The longest submitter identifier, in bytes (a public key or an address).
pub const MAX_SUBMITTER_ID: u64 = 64;

/// A batch of records one submitter offers for a request. Untrusted: records may have any
/// length; the check gives each one a [`Verdict`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Submission {
    /// CID of the [`DatasetRequest`] the records answer.
    pub request: Cid,
    /// The submitter's identifier (1 to [`MAX_SUBMITTER_ID`] bytes), the key of its
    /// [`super::Reputation`].
    pub submitter: Vec<u8>,
    /// The records, in submission order.
    pub records: Vec<Vec<u8>>,
}

impl Submission {
    /// The canonical encoding. Layout: magic `PWSU`, format version `u32`, request CID
    /// (length-prefixed bytes), submitter (length-prefixed bytes), record count `u32`, then each
    /// record as length-prefixed bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC)
            .u32(FORMAT_VERSION)
            .bytes(&self.request.to_bytes())
            .bytes(&self.submitter)
            .len(self.records.len());
        for r in &self.records {
            e.bytes(r);
        }
        e.finish()
    }

    /// Decodes a submission to `request` from untrusted bytes, refusing (before allocating)
    /// more records or record bytes than the request allows, or a submission to another request.
    pub fn from_bytes(bytes: &[u8], request: &DatasetRequest) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "submission")?;
        let version = d.u32("submission version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "submission",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let cid = cid_from_bytes(d.bytes("request cid", MAX_CID_BYTES)?)?;
        let submitter = d.bytes("submitter", MAX_SUBMITTER_ID)?.to_vec();
        let n = d.count("submitted records", u64::from(request.max_records), 4)?;
        let mut budget = request.max_bytes;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let r = d.bytes("submitted record", budget)?;
            budget -= r.len() as u64;
            records.push(r.to_vec());
        }
        d.finish()?;
        let s = Submission {
            request: cid,
            submitter,
            records,
        };
        s.check_envelope(request)?;
        Ok(s)
    }

    /// Checks what makes the whole submission unacceptable (rather than single records): the
    /// request it names, the submitter identifier, the record count and the total bytes.
    pub fn check_envelope(&self, request: &DatasetRequest) -> Result<()> {
        if self.request != request.cid() {
            return Err(Error::InvalidField {
                what: "submission request",
                detail: format!("submission answers {}, not {}", self.request, request.cid()),
            });
        }
        if self.submitter.is_empty() || self.submitter.len() as u64 > MAX_SUBMITTER_ID {
            return Err(Error::InvalidField {
                what: "submitter",
                detail: format!(
                    "{} bytes, expected 1..={MAX_SUBMITTER_ID}",
                    self.submitter.len()
                ),
            });
        }
        let limit = u64::from(request.max_records);
        if self.records.len() as u64 > limit {
            return Err(Error::LimitExceeded {
                what: "submitted records",
                found: self.records.len() as u64,
                limit,
            });
        }
        let bytes: u64 = self.records.iter().map(|r| r.len() as u64).sum();
        if bytes > request.max_bytes {
            return Err(Error::LimitExceeded {
                what: "submitted bytes",
                found: bytes,
                limit: request.max_bytes,
            });
        }
        Ok(())
    }
}

/// Why a record is rejected. The checks run in this order and the first failing one is
/// reported; [`Rejection::code`] gives each reason a stable number.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rejection {
    /// The record's length is not the request's record size.
    WrongSize {
        /// Bytes submitted.
        found: u64,
        /// The record size.
        expected: u64,
    },
    /// An element is above the request's `value_max`.
    ValueOutOfRange {
        /// Position of the first such element.
        position: u32,
        /// Its value.
        value: u8,
    },
    /// The record's ink (elements above zero) is outside `ink_min..=ink_max`: blank, nearly
    /// blank or dense noise.
    InkOutOfBounds {
        /// The record's ink.
        ink: u32,
    },
    /// The record is byte for byte a record of the dataset (its leaf hash is a leaf of the tree).
    DuplicateOfDataset,
    /// The record is byte for byte an earlier record of the same submission.
    DuplicateInSubmission {
        /// Position of the earlier record.
        first: u32,
    },
    /// The record is a dataset record translated by `(dx, dy)` pixels (vacated pixels zero).
    ShiftedCopyOfDataset {
        /// Columns to the right.
        dx: i8,
        /// Rows down.
        dy: i8,
    },
    /// The record is an earlier record of the same submission translated by `(dx, dy)`.
    ShiftedCopyInSubmission {
        /// Position of the earlier record.
        first: u32,
        /// Columns to the right.
        dx: i8,
        /// Rows down.
        dy: i8,
    },
    /// The record differs from a dataset record in at most the request's near-copy share of
    /// its elements, or lies within the noise-copy tolerance of it in all but the noise-copy
    /// share (checked after the shifted copies).
    NearCopyOfDataset {
        /// The dataset record's index (the first such record in index order).
        record: u64,
        /// Elements that differ (beyond the tolerance of the first of the two points the
        /// record is near at).
        differing: u32,
    },
    /// The record differs from an earlier record of the same submission in at most the
    /// request's near-copy share of its elements, or lies within the noise-copy tolerance of it
    /// in all but the noise-copy share.
    NearCopyInSubmission {
        /// Position of the earlier record.
        first: u32,
        /// Elements that differ (as for [`Rejection::NearCopyOfDataset`]).
        differing: u32,
    },
    /// The record, transformed (mirrored, upside down, turned or inverted: a transform of the
    /// request's `copy_transforms`), is an exact, shifted or near copy of a dataset record
    /// (checked after the near copies).
    TransformedCopyOfDataset {
        /// The transform (a set of `COPY_*` bits) that makes it a copy.
        transform: u32,
    },
    /// The record, transformed, is an exact, shifted or near copy of an earlier record of the
    /// same submission.
    TransformedCopyInSubmission {
        /// Position of the earlier record.
        first: u32,
        /// The transform (a set of `COPY_*` bits) that makes it a copy.
        transform: u32,
    },
    /// The request's levels rule: with brightness and contrast taken out, the record (itself,
    /// or transformed) is a near copy of a dataset record (checked after the transformed
    /// copies).
    LevelsCopyOfDataset {
        /// The dataset record's index (the first such record in index order).
        record: u64,
        /// The transform (a set of `COPY_*` bits; 0 for the record itself).
        transform: u32,
    },
    /// The request's levels rule: with brightness and contrast taken out, the record (itself,
    /// or transformed) is a near copy of an earlier record of the same submission.
    LevelsCopyInSubmission {
        /// Position of the earlier record.
        first: u32,
        /// The transform (a set of `COPY_*` bits; 0 for the record itself).
        transform: u32,
    },
    /// The request's negative rule: the record's negative lies closer to the dataset's
    /// features than the record (checked after the distance rule, before the logit).
    NegativeCloser {
        /// The record's squared Mahalanobis distance.
        distance: f32,
        /// Its negative's.
        negative: f32,
    },
    /// The judge's discriminator logit is under the request's threshold (or not finite).
    Implausible {
        /// The logit.
        logit: f32,
    },
    /// The record passed every check but the request already has its target count.
    RequestFilled,
    /// The critic's features of the record lie further from the dataset's than the request's
    /// distance rule allows (checked after the duplicates, before the logit).
    UnlikeDataset {
        /// The squared Mahalanobis distance.
        distance: f32,
    },
    /// The request's flat-patch rule: the image holds a square of the rule's side over which
    /// every channel holds one value, not all ground values (a block pasted over it), or one of
    /// its near point's side over which every channel's values lie within the point's
    /// tolerance, not near the ground (a block with a little texture); checked after the levels
    /// rule.
    FlatPatch {
        /// The square's top row (the exact point's first such square, by its bottom-right
        /// corner in row order, else the near point's first, by its top-left corner).
        row: u32,
        /// Its left column.
        column: u32,
    },
}

impl Rejection {
    /// A stable number per reason (1 to 9 in check order, then 10: [`Rejection::UnlikeDataset`],
    /// checked before the logit, 11 and 12: the near copies, checked after the shifted copies,
    /// 13 and 14: the transformed copies, checked after the near copies, 15: the negative
    /// rule, checked after the distance rule, 16 and 17: the levels rule, checked after
    /// the transformed copies, and 18: the flat-patch rule, checked after the levels rule), for
    /// C callers and logs.
    pub fn code(&self) -> u32 {
        match self {
            Rejection::WrongSize { .. } => 1,
            Rejection::ValueOutOfRange { .. } => 2,
            Rejection::InkOutOfBounds { .. } => 3,
            Rejection::DuplicateOfDataset => 4,
            Rejection::DuplicateInSubmission { .. } => 5,
            Rejection::ShiftedCopyOfDataset { .. } => 6,
            Rejection::ShiftedCopyInSubmission { .. } => 7,
            Rejection::Implausible { .. } => 8,
            Rejection::RequestFilled => 9,
            Rejection::UnlikeDataset { .. } => 10,
            Rejection::NearCopyOfDataset { .. } => 11,
            Rejection::NearCopyInSubmission { .. } => 12,
            Rejection::TransformedCopyOfDataset { .. } => 13,
            Rejection::TransformedCopyInSubmission { .. } => 14,
            Rejection::NegativeCloser { .. } => 15,
            Rejection::LevelsCopyOfDataset { .. } => 16,
            Rejection::LevelsCopyInSubmission { .. } => 17,
            Rejection::FlatPatch { .. } => 18,
        }
    }

    /// A short name of the reason.
    pub fn name(&self) -> &'static str {
        match self {
            Rejection::WrongSize { .. } => "wrong size",
            Rejection::ValueOutOfRange { .. } => "value out of range",
            Rejection::InkOutOfBounds { .. } => "ink out of bounds",
            Rejection::DuplicateOfDataset => "duplicate of a dataset record",
            Rejection::DuplicateInSubmission { .. } => "duplicate within the submission",
            Rejection::ShiftedCopyOfDataset { .. } => "shifted copy of a dataset record",
            Rejection::ShiftedCopyInSubmission { .. } => "shifted copy within the submission",
            Rejection::Implausible { .. } => "implausible (discriminator)",
            Rejection::RequestFilled => "request already filled",
            Rejection::UnlikeDataset { .. } => "unlike the dataset (critic features)",
            Rejection::NearCopyOfDataset { .. } => "near copy of a dataset record",
            Rejection::NearCopyInSubmission { .. } => "near copy within the submission",
            Rejection::TransformedCopyOfDataset { .. } => "transformed copy of a dataset record",
            Rejection::TransformedCopyInSubmission { .. } => {
                "transformed copy within the submission"
            }
            Rejection::NegativeCloser { .. } => {
                "its negative is closer to the dataset (critic features)"
            }
            Rejection::LevelsCopyOfDataset { .. } => "copy of a dataset record, levels changed",
            Rejection::LevelsCopyInSubmission { .. } => {
                "copy within the submission, levels changed"
            }
            Rejection::FlatPatch { .. } => "flat patch (a square of one value, or nearly)",
        }
    }

    /// Whether the rejection counts against the submitter's reputation (every reason but
    /// [`Rejection::RequestFilled`], which is no fault of the record).
    pub fn counts_against(&self) -> bool {
        !matches!(self, Rejection::RequestFilled)
    }
}

/// The verdict on one submitted record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Verdict {
    /// Accepted, with the discriminator logit it scored.
    Accepted {
        /// The logit.
        logit: f32,
    },
    /// Rejected, with the reason.
    Rejected(Rejection),
}

impl Verdict {
    /// Whether the record is accepted.
    pub fn is_accepted(&self) -> bool {
        matches!(self, Verdict::Accepted { .. })
    }
}

/// The accepted records of a submission, in submission order (what gets appended).
pub fn accepted_records<'a>(submission: &'a Submission, verdicts: &[Verdict]) -> Vec<&'a [u8]> {
    submission
        .records
        .iter()
        .zip(verdicts)
        .filter(|(_, v)| v.is_accepted())
        .map(|(r, _)| r.as_slice())
        .collect()
}

/// The dataset side of the duplicate checks: the leaf hash of every record, with the
/// shifted-copy rule the leaf hash of every translation of every record, with the near-copy
/// rule the records themselves, and with the levels rule their normal forms.
///
/// Built once per dataset version and reused across checks ([`DuplicateIndex::insert`] keeps it
/// current across appends). Cost: 32 bytes per record (the exact-duplicate set, read from the
/// persisted tree without touching the records), plus with `max_shift = s` one record read and
/// `(2s + 1)^2 - 1` hashes per record at build time and about 40 bytes per translation in memory
/// (24 translations a record for `s = 2`: about 2 KB a record, fine for the digits, a
/// consideration for millions of records), plus with the near-copy rule the dataset's bytes in
/// memory (the seed's 64x64 RGB: 12 KB a record) and, per checked record, a comparison with
/// every dataset record that stops once the allowance is exceeded (on the rayon pool, from
/// 1 MiB of records); with the levels rule as much again for the records' normal forms.
#[derive(Clone, Debug)]
pub struct DuplicateIndex {
    shape: Vec<u32>,
    record_size: usize,
    max_shift: u32,
    leaves: HashSet<Digest>,
    /// Leaf hash of a translated record -> the first translation (canonical order) giving it.
    shifted: HashMap<Digest, (i8, i8)>,
    /// The near-copy rule's share and tolerance, and with the rule on every record's bytes in
    /// index order.
    near: NearCopies,
    /// The levels rule's share and tolerance, and with the rule on every record's normal form
    /// in index order.
    levels: NearCopies,
    /// Channels a record is normalised in, for the levels rule.
    channels: usize,
    records: u64,
}

impl DuplicateIndex {
    /// Indexes `dataset` for `request` (whose layout it must have). With the shifted-copy or
    /// the near-copy rule on, every record is read and checked against its leaf
    /// ([`Error::RecordCorrupt`]).
    pub fn build(dataset: &Dataset, request: &DatasetRequest) -> Result<Self> {
        if !request.matches(dataset.manifest()) {
            return Err(Error::InvalidParameters(format!(
                "dataset {} does not have the request's record layout",
                dataset.cid()
            )));
        }
        let tree = dataset.tree().load()?;
        let leaves = tree.leaves();
        let mut index = DuplicateIndex {
            shape: request.shape.clone(),
            record_size: request.record_size(),
            max_shift: request.max_shift,
            leaves: leaves.iter().copied().collect(),
            shifted: HashMap::new(),
            near: NearCopies {
                points: request.near_copy_points(),
                order: Vec::new(),
                records: Vec::new(),
                heads: Heads::default(),
            },
            levels: NearCopies {
                points: request.levels_points(),
                order: Vec::new(),
                records: Vec::new(),
                heads: Heads::default(),
            },
            channels: level_channels(&request.shape),
            records: dataset.len(),
        };
        let near = index.near.is_on();
        let levels = index.levels.is_on();
        if index.max_shift > 0 || near || levels {
            // Sized by the dataset's records the loop below reads and keeps.
            let bytes = dataset.len().saturating_mul(index.record_size as u64);
            let bytes = usize::try_from(bytes).map_err(|_| {
                Error::InvalidParameters(format!("{bytes} bytes of records do not fit"))
            })?;
            for (on, kept) in [(near, &mut index.near), (levels, &mut index.levels)] {
                if on {
                    kept.records.reserve_exact(bytes);
                }
            }
            let mut scratch = Translations::new(index.max_shift, index.record_size);
            let mut normal = vec![0u8; index.record_size];
            for_each_record(dataset, |i, record| {
                if leaf_hash(record) != leaves[i as usize] {
                    return Err(Error::RecordCorrupt { index: i });
                }
                if index.max_shift > 0 {
                    index.insert_shifts(record, &mut scratch);
                }
                if near {
                    index.near.records.extend_from_slice(record);
                }
                if levels {
                    normalise_levels(record, index.channels, &mut normal);
                    index.levels.records.extend_from_slice(&normal);
                }
                Ok(())
            })?;
            if near {
                index.near.order_by_variance(index.record_size);
            }
            if levels {
                index.levels.order_by_variance(index.record_size);
            }
        }
        Ok(index)
    }

    /// Adds a record appended to the dataset (in append order, so that every node's index
    /// reports the same translation).
    pub fn insert(&mut self, record: &[u8]) -> Result<()> {
        if record.len() != self.record_size {
            return Err(Error::RecordSize {
                found: record.len() as u64,
                expected: self.record_size as u64,
            });
        }
        self.leaves.insert(leaf_hash(record));
        if self.max_shift > 0 {
            let mut scratch = Translations::new(self.max_shift, self.record_size);
            self.insert_shifts(record, &mut scratch);
        }
        if self.near.is_on() {
            self.near.push(record);
        }
        if self.levels.is_on() {
            let mut normal = vec![0u8; record.len()];
            normalise_levels(record, self.channels, &mut normal);
            self.levels.push(&normal);
        }
        self.records += 1;
        Ok(())
    }

    fn insert_shifts(&mut self, record: &[u8], scratch: &mut Translations) {
        let Some(g) = Geometry::of(&self.shape) else {
            return;
        };
        for (&shift, leaf) in scratch.of(g, record) {
            self.shifted.entry(*leaf).or_insert(shift);
        }
    }

    /// Records indexed.
    pub fn len(&self) -> u64 {
        self.records
    }

    /// Whether no record is indexed.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Whether the dataset holds a record with this leaf hash.
    pub fn contains_leaf(&self, leaf: &Digest) -> bool {
        self.leaves.contains(leaf)
    }
}

/// The model-free checks of a submission: per record, `None` when it passes the size, value,
/// ink and duplicate checks (the judge then scores it), or the first rejection. Errors refuse
/// the whole submission (another request, over the limits, an index of another layout).
///
/// Deterministic: the checks depend only on the request, the indexed dataset records (in
/// index order) and the submission (in submission order). Within-submission duplicates,
/// translations and near copies are against earlier records of the right size, whatever their
/// own verdict. Cost: one leaf hash per record, plus `(2s + 1)^2 - 1` hashes per record with
/// `max_shift = s`, plus with the near-copy rule a comparison with every dataset record and
/// every earlier record, each stopped once the allowance is exceeded; each copy transform
/// (up to 15: the square's 7 other turns and reflections, each also inverted, and the
/// negative) adds a leaf hash and, with the near-copy rule, the comparisons
/// again for a record that passed the rules before it; the levels rule compares the normal
/// forms of the record and of each transform with every dataset record's and every earlier
/// record's in the same way, and keeps the normal forms of the submission's records (as many
/// bytes as the records: at most the request's `max_bytes`).
pub fn precheck(
    request: &DatasetRequest,
    index: &DuplicateIndex,
    submission: &Submission,
) -> Result<Vec<Option<Rejection>>> {
    submission.check_envelope(request)?;
    if index.shape != request.shape
        || index.max_shift != request.max_shift
        || index.near.points != request.near_copy_points()
        || index.levels.points != request.levels_points()
    {
        return Err(Error::InvalidParameters(
            "duplicate index built for another record layout, shift, near-copy or levels rule"
                .into(),
        ));
    }
    let size = request.record_size();
    let geometry = if request.max_shift > 0 {
        Geometry::of(&request.shape)
    } else {
        None
    };
    let transforms = Transforms {
        sets: copy_transform_sets(request.copy_transforms),
        geometry: Geometry::of(&request.shape),
        value_max: u8::try_from(request.value_max).unwrap_or(u8::MAX),
    };
    let mut ordered = vec![0u8; size];
    let mut earlier = Earlier::new(&submission.records);
    // The levels rule compares normal forms: the earlier records' are kept.
    let normal_records: Vec<Vec<u8>> = if request.levels_per_mille > 0 {
        submission
            .records
            .iter()
            .map(|r| {
                let mut normal = vec![0u8; r.len()];
                normalise_levels(r, index.channels, &mut normal);
                normal
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut earlier_levels = Earlier::new(&normal_records);
    let mut seen: HashMap<Digest, u32> = HashMap::with_capacity(submission.records.len());
    let mut seen_shifted: HashMap<Digest, (u32, i8, i8)> = HashMap::new();
    let mut translations = Translations::new(request.max_shift, size);
    let mut forms = TransformedForms {
        records: vec![0u8; transforms.sets.len() * size],
        leaves: vec![[0u8; 32]; transforms.sets.len()],
        ordered: vec![0u8; size],
        normal: vec![0u8; size],
    };
    let mut normal_ordered = vec![0u8; size];
    let mut out = Vec::with_capacity(submission.records.len());
    for (j, record) in submission.records.iter().enumerate() {
        let j = j as u32;
        if record.len() != size {
            out.push(Some(Rejection::WrongSize {
                found: record.len() as u64,
                expected: size as u64,
            }));
            earlier.push_head(&[]);
            earlier_levels.push_head(&[]);
            continue;
        }
        let leaf = leaf_hash(record);
        index.near.put_in_order(record, &mut ordered);
        if let Some(normal) = normal_records.get(j as usize) {
            index.levels.put_in_order(normal, &mut normal_ordered);
        }
        let verdict = check_record(request, index, record, &leaf, &seen, &seen_shifted)
            .or_else(|| near_copy(index, &earlier, record, &ordered))
            .or_else(|| {
                let copies = Copies {
                    index,
                    earlier: &earlier,
                    seen: &seen,
                    seen_shifted: &seen_shifted,
                };
                forms.fill(&transforms, record);
                transformed_copy(&transforms, &copies, &mut forms).or_else(|| {
                    let normal = normal_records
                        .get(j as usize)
                        .map_or(&[][..], Vec::as_slice);
                    let identity = (normal, &normal_ordered[..]);
                    levels_copy(
                        &transforms,
                        index,
                        &earlier_levels,
                        record,
                        identity,
                        &mut forms,
                    )
                })
            })
            .or_else(|| flat_patch_of(request, record));
        out.push(verdict);
        earlier.push_head(&ordered);
        earlier_levels.push_head(&normal_ordered);
        seen.entry(leaf).or_insert(j);
        if let Some(g) = geometry {
            for (&(dx, dy), leaf) in translations.of(g, record) {
                seen_shifted.entry(*leaf).or_insert((j, dx, dy));
            }
        }
    }
    Ok(out)
}

/// A record's translations by the shifted-copy rule's radius and their leaf hashes, computed
/// four at a time (for the index and for a submission's earlier records alike).
struct Translations {
    shifts: Vec<(i8, i8)>,
    size: usize,
    records: Vec<u8>,
    leaves: Vec<Digest>,
}

impl Translations {
    fn new(max_shift: u32, size: usize) -> Self {
        let shifts = Geometry::shifts(max_shift);
        Translations {
            records: vec![0u8; shifts.len() * size],
            leaves: vec![[0u8; 32]; shifts.len()],
            shifts,
            size,
        }
    }

    /// Each translation of `record` (in [`Geometry::shifts`] order) with its leaf hash.
    fn of(&mut self, g: Geometry, record: &[u8]) -> impl Iterator<Item = (&(i8, i8), &Digest)> {
        for (&(dx, dy), out) in self
            .shifts
            .iter()
            .zip(self.records.chunks_exact_mut(self.size.max(1)))
        {
            g.translate(record, dx, dy, out);
        }
        leaf_hashes(&self.records, self.size, &mut self.leaves);
        self.shifts.iter().zip(&self.leaves)
    }
}

/// The flat-patch rule for `record`, its exact point then its near point, each when on.
fn flat_patch_of(request: &DatasetRequest, record: &[u8]) -> Option<Rejection> {
    let g = Geometry::of(&request.shape)?;
    let grounds = &request.flat_patch_grounds;
    let exact = || match request.flat_patch_side {
        0 => None,
        side => flat_patch(record, g, side as usize, 0, grounds),
    };
    let near = || match request.near_flat_side {
        0 => None,
        side => flat_patch(
            record,
            g,
            side as usize,
            request.near_flat_tolerance,
            grounds,
        ),
    };
    exact()
        .or_else(near)
        .map(|(row, column)| Rejection::FlatPatch { row, column })
}

fn check_record(
    request: &DatasetRequest,
    index: &DuplicateIndex,
    record: &[u8],
    leaf: &Digest,
    seen: &HashMap<Digest, u32>,
    seen_shifted: &HashMap<Digest, (u32, i8, i8)>,
) -> Option<Rejection> {
    if let Some(position) = record
        .iter()
        .position(|&v| u32::from(v) > request.value_max)
    {
        return Some(Rejection::ValueOutOfRange {
            position: position as u32,
            value: record[position],
        });
    }
    let ink = ink_of(record);
    if ink < request.ink_min || ink > request.ink_max {
        return Some(Rejection::InkOutOfBounds { ink });
    }
    if index.leaves.contains(leaf) {
        return Some(Rejection::DuplicateOfDataset);
    }
    if let Some(&first) = seen.get(leaf) {
        return Some(Rejection::DuplicateInSubmission { first });
    }
    if let Some(&(dx, dy)) = index.shifted.get(leaf) {
        return Some(Rejection::ShiftedCopyOfDataset { dx, dy });
    }
    if let Some(&(first, dx, dy)) = seen_shifted.get(leaf) {
        return Some(Rejection::ShiftedCopyInSubmission { first, dx, dy });
    }
    None
}

/// The near-copy rule for `record` (`ordered`: the same in the index's near-copy order): the
/// first dataset record (in index order), then the first earlier record of the submission of
/// the record's size, that it differs from in at most the rule's allowance of elements.
fn near_copy(
    index: &DuplicateIndex,
    earlier: &Earlier,
    record: &[u8],
    ordered: &[u8],
) -> Option<Rejection> {
    if let Some((record, differing)) = near_in_dataset(&index.near, ordered) {
        return Some(Rejection::NearCopyOfDataset { record, differing });
    }
    let (first, differing) = near_in_earlier(&index.near, earlier, record, ordered)?;
    Some(Rejection::NearCopyInSubmission { first, differing })
}

/// The request's copy transforms, ready to apply to records of its layout.
struct Transforms {
    /// The transforms in canonical order ([`copy_transform_sets`]).
    sets: Vec<u32>,
    geometry: Option<Geometry>,
    value_max: u8,
}

/// What a record may be a copy of: the dataset (its index) and the earlier records of its
/// submission (their bytes and heads, leaf hashes and translations' leaf hashes).
struct Copies<'a> {
    index: &'a DuplicateIndex,
    earlier: &'a Earlier<'a>,
    seen: &'a HashMap<Digest, u32>,
    seen_shifted: &'a HashMap<Digest, (u32, i8, i8)>,
}

/// Buffers for a record's transforms: each transform's bytes and leaf hash, in canonical order,
/// and one of them in the near-copy order and in its normal form.
struct TransformedForms {
    records: Vec<u8>,
    leaves: Vec<Digest>,
    ordered: Vec<u8>,
    normal: Vec<u8>,
}

impl TransformedForms {
    /// Computes `record`'s transforms and their leaf hashes (four at a time).
    fn fill(&mut self, transforms: &Transforms, record: &[u8]) {
        let size = record.len();
        for (&transform, out) in transforms
            .sets
            .iter()
            .zip(self.records.chunks_exact_mut(size.max(1)))
        {
            transform_record(
                record,
                transform,
                transforms.geometry,
                transforms.value_max,
                out,
            );
        }
        leaf_hashes(&self.records, size, &mut self.leaves);
    }
}

/// The copy rules for the record's transforms (`forms`, filled for it): for each transform in
/// canonical order, the transformed record is checked as an exact, shifted and near copy of
/// the dataset, then of an earlier record of the submission; the first hit is the rejection.
fn transformed_copy(
    transforms: &Transforms,
    copies: &Copies,
    forms: &mut TransformedForms,
) -> Option<Rejection> {
    let index = copies.index;
    let size = forms.ordered.len();
    let ordered = &mut forms.ordered[..];
    for ((&transform, transformed), &leaf) in transforms
        .sets
        .iter()
        .zip(forms.records.chunks_exact(size.max(1)))
        .zip(&forms.leaves)
    {
        index.near.put_in_order(transformed, ordered);
        if index.leaves.contains(&leaf)
            || index.shifted.contains_key(&leaf)
            || near_in_dataset(&index.near, ordered).is_some()
        {
            return Some(Rejection::TransformedCopyOfDataset { transform });
        }
        let first = copies
            .seen
            .get(&leaf)
            .copied()
            .or_else(|| copies.seen_shifted.get(&leaf).map(|&(first, _, _)| first))
            .or_else(|| {
                near_in_earlier(&index.near, copies.earlier, transformed, ordered)
                    .map(|(first, _)| first)
            });
        if let Some(first) = first {
            return Some(Rejection::TransformedCopyInSubmission { first, transform });
        }
    }
    None
}

/// The levels rule for the record (`normal`: its normal form, `normal_ordered`: the same in
/// the levels order, both computed once by [`precheck`]), then each of its transforms
/// (`forms`, filled for it) in canonical order: a normal form is checked as a near copy of a
/// dataset record's normal form, then of an earlier record's of the submission (`earlier`:
/// their normal forms); the first hit is the rejection. The transforms' value maps are
/// computed twice, not once per form: a transform that does not invert only reorders values
/// within channels.
fn levels_copy(
    transforms: &Transforms,
    index: &DuplicateIndex,
    earlier: &Earlier,
    record: &[u8],
    (normal, normal_ordered): (&[u8], &[u8]),
    forms: &mut TransformedForms,
) -> Option<Rejection> {
    if !index.levels.is_on() {
        return None;
    }
    if let Some(hit) = levels_hit(index, earlier, normal, normal_ordered, 0) {
        return Some(hit);
    }
    let plain = LevelTables::of(record, index.channels);
    let mut inverted: Option<LevelTables> = None;
    for (&transform, form) in transforms
        .sets
        .iter()
        .zip(forms.records.chunks_exact(record.len().max(1)))
    {
        let tables = if transform & COPY_INVERTED == 0 {
            &plain
        } else {
            inverted.get_or_insert_with(|| LevelTables::of(form, index.channels))
        };
        tables.apply(form, &mut forms.normal);
        index.levels.put_in_order(&forms.normal, &mut forms.ordered);
        if let Some(hit) = levels_hit(index, earlier, &forms.normal, &forms.ordered, transform) {
            return Some(hit);
        }
    }
    None
}

/// The levels rule for one normal form (`ordered`: the same in the levels order) of the record
/// under `transform`: a near copy of a dataset record's, then of an earlier record's.
fn levels_hit(
    index: &DuplicateIndex,
    earlier: &Earlier,
    normal: &[u8],
    ordered: &[u8],
    transform: u32,
) -> Option<Rejection> {
    if let Some((record, _)) = near_in_dataset(&index.levels, ordered) {
        return Some(Rejection::LevelsCopyOfDataset { record, transform });
    }
    let (first, _) = near_in_earlier(&index.levels, earlier, normal, ordered)?;
    Some(Rejection::LevelsCopyInSubmission { first, transform })
}

/// Completes the verdicts: records that passed [`precheck`] are accepted when their logit (in
/// the order of the passing records) is finite and `>= request.threshold`, then accepted
/// records beyond what the request still wants (`target_count - accepted_so_far`, in
/// submission order) become [`Rejection::RequestFilled`].
pub fn finish_verdicts(
    request: &DatasetRequest,
    prechecked: Vec<Option<Rejection>>,
    logits: &[f32],
    accepted_so_far: u64,
) -> Result<Vec<Verdict>> {
    let passing = prechecked.iter().filter(|p| p.is_none()).count();
    if logits.len() != passing {
        return Err(Error::InvalidParameters(format!(
            "{} logits for {passing} records",
            logits.len()
        )));
    }
    let mut remaining = request.target_count.saturating_sub(accepted_so_far);
    let mut logits = logits.iter();
    Ok(prechecked
        .into_iter()
        .map(|p| match p {
            Some(r) => Verdict::Rejected(r),
            None => {
                // Counted above: one logit per passing record. A missing one would read as NaN,
                // which rejects the record.
                let logit = logits.next().copied().unwrap_or(f32::NAN);
                if !(logit.is_finite() && logit >= request.threshold) {
                    Verdict::Rejected(Rejection::Implausible { logit })
                } else if remaining == 0 {
                    Verdict::Rejected(Rejection::RequestFilled)
                } else {
                    remaining -= 1;
                    Verdict::Accepted { logit }
                }
            }
        })
        .collect())
}
