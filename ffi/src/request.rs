//! Dataset requests: what the network asks for and the rules submissions are judged by, made
//! from a dataset with options or decoded from their canonical bytes.

use crate::boundary::{
    buffer_of, decode_into, free_handle, guard, handle, out_ptr, slice, write_handle,
};
use crate::buffer::pouw_buffer;
use crate::dataset::pouw_dataset;
use crate::params::pouw_params;
use crate::result::PouwResult;
use crate::sized::{read_sized, Field};
use pouw::growth::{dataset_ink_bounds, DatasetRequest, MAX_SUBMISSION_BYTES};
use pouw::ident::cid_of;
use pouw::learning::TaskSpec;

/// `pouw_dataset_request_options::set` bit: `distance_reject_per_mille` is set.
pub const POUW_REQUEST_OPTION_DISTANCE: u32 = 1 << 0;
/// `pouw_dataset_request_options::set` bit: `ink_min` and `ink_max` are set.
pub const POUW_REQUEST_OPTION_INK: u32 = 1 << 1;
/// `pouw_dataset_request_options::set` bit: `max_shift` is set.
pub const POUW_REQUEST_OPTION_MAX_SHIFT: u32 = 1 << 2;
/// `pouw_dataset_request_options::set` bit: `max_records` is set.
pub const POUW_REQUEST_OPTION_MAX_RECORDS: u32 = 1 << 3;
/// `pouw_dataset_request_options::set` bit: `max_bytes` is set.
pub const POUW_REQUEST_OPTION_MAX_BYTES: u32 = 1 << 4;
/// `pouw_dataset_request_options::set` bit: `near_copy_per_mille` and `near_copy_tolerance` are
/// set.
pub const POUW_REQUEST_OPTION_NEAR_COPY: u32 = 1 << 5;
/// `pouw_dataset_request_options::set` bit: `copy_transforms` is set.
pub const POUW_REQUEST_OPTION_COPY_TRANSFORMS: u32 = 1 << 6;
/// `pouw_dataset_request_options::set` bit: `negative_rule` is set.
pub const POUW_REQUEST_OPTION_NEGATIVE_RULE: u32 = 1 << 7;
/// `pouw_dataset_request_options::set` bit: `levels_per_mille` and `levels_tolerance` are set.
pub const POUW_REQUEST_OPTION_LEVELS: u32 = 1 << 8;
/// `pouw_dataset_request_options::set` bit: `noise_copy_per_mille` and `noise_copy_tolerance`
/// are set.
pub const POUW_REQUEST_OPTION_NOISE_COPY: u32 = 1 << 9;
/// `pouw_dataset_request_options::set` bit: `flat_patch_side` and `flat_patch_grounds` are
/// set.
pub const POUW_REQUEST_OPTION_FLAT_PATCH: u32 = 1 << 10;
/// `pouw_dataset_request_options::set` bit: `near_flat_side` and `near_flat_tolerance` are
/// set.
pub const POUW_REQUEST_OPTION_NEAR_FLAT: u32 = 1 << 11;
/// `copy_transforms` bit: the copy rules also check a record's mirror image (images only).
pub const POUW_COPY_MIRRORED: u32 = 1 << 0;
/// `copy_transforms` bit: the copy rules also check a record's negative (`value_max - v`).
pub const POUW_COPY_INVERTED: u32 = 1 << 1;
/// `copy_transforms` bit: the copy rules also check a record upside down (images only).
pub const POUW_COPY_FLIPPED: u32 = 1 << 2;
/// `copy_transforms` bit: the copy rules also check a record turned a quarter (square images
/// only, and only with `POUW_COPY_MIRRORED` and `POUW_COPY_FLIPPED`: then every turn and
/// reflection of the square is checked).
pub const POUW_COPY_TURNED: u32 = 1 << 3;
const _: () = assert!(pouw::growth::FLAT_GROUND_BYTES == 32);
const _: () = assert!(
    POUW_COPY_MIRRORED == pouw::growth::COPY_MIRRORED
        && POUW_COPY_INVERTED == pouw::growth::COPY_INVERTED
        && POUW_COPY_FLIPPED == pouw::growth::COPY_FLIPPED
        && POUW_COPY_TURNED == pouw::growth::COPY_TURNED
);

/// Options of [`pouw_dataset_request_new`], sized like `pouw_params_options`: a caller sets
/// `struct_size` to `sizeof(pouw_dataset_request_options)` as its header declares it, and a
/// field counts only when its bit is in `set` (`POUW_REQUEST_OPTION_*`), so "unset" (the
/// default) is not "0": `distance_reject_per_mille` or `max_shift` set to 0 turns that rule off.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug, Default)]
pub struct pouw_dataset_request_options {
    /// `sizeof(pouw_dataset_request_options)` where the caller was compiled.
    pub struct_size: usize,
    /// Which fields are set (`POUW_REQUEST_OPTION_*` bits); the others take their defaults.
    pub set: u32,
    /// The distance rule's share of the dataset's own records rejected out of fold, in
    /// thousandths, below 1000; 0 turns the rule off (default 20).
    pub distance_reject_per_mille: u32,
    /// Fewest elements above zero a record may have (default 0: the ink rule off; see
    /// [`pouw_dataset_ink_bounds`]).
    pub ink_min: u32,
    /// Most elements above zero a record may have (default: the record's element count).
    pub ink_max: u32,
    /// Translation radius of the shifted-copy rule in pixels, at most 8 and under the image's
    /// side; 0 turns the rule off (default 2 for images).
    pub max_shift: u32,
    /// Most records in one submission (default 1024).
    pub max_records: u32,
    /// Most record bytes in one submission (default: `max_records` records of the dataset's
    /// record size, at most 1 GiB).
    pub max_bytes: u64,
    /// The near-copy rule: a record differing from a dataset record or an earlier record of
    /// its submission in at most this many thousandths of its elements is rejected; below
    /// 1000, 0 turns the rule off (default: fitted to the dataset at the fitted tolerance,
    /// `growth::fit_near_copy_per_mille`: three quarters of the share in which the closest two
    /// of its first 512 records differ, at least 150 and at most 500).
    pub near_copy_per_mille: u32,
    /// Two elements differ, for the near-copy rule, when further apart than this; below the
    /// largest value (default: fitted to the dataset, `growth::fit_near_copy_tolerance`: the
    /// largest, up to the largest value / 16, at which no two of its first 512 records are
    /// near copies at 150 thousandths).
    pub near_copy_tolerance: u32,
    /// Which transforms of a record the copy rules (exact, shifted and near copies) also check:
    /// a set of `POUW_COPY_*` bits, every combination of which is checked, or 0 (default: all
    /// four for square images, all but `POUW_COPY_TURNED` for other images, inverted for other
    /// shapes).
    pub copy_transforms: u32,
    /// The negative rule, 1 (on, the default) or 0 (off): a record whose negative (each value
    /// `v` as the largest value minus `v`) lies closer to the dataset's critic features than
    /// the record is rejected (`POUW_RECORD_NEGATIVE_CLOSER`). Off for records whose negatives
    /// are as plausible as themselves.
    pub negative_rule: u32,
    /// The levels rule: a record whose normal form (each channel placed by its median and mean
    /// absolute deviation: brightness and contrast taken out) differs from a dataset record's
    /// or an earlier record's in at most this many thousandths of its elements, itself or
    /// transformed by `copy_transforms`, is rejected (`POUW_RECORD_LEVELS_COPY_*`); below
    /// 1000, 0 turns the rule off (default: fitted to the dataset, `growth::fit_levels_rule`:
    /// half the share in which the closest two normal forms of its first 512 records differ,
    /// at most 500).
    pub levels_per_mille: u32,
    /// Two elements of normal forms differ, for the levels rule, when further apart than this;
    /// at most 255 (default: fitted with the share, as `near_copy_tolerance` is but on normal
    /// forms, at most 15).
    pub levels_tolerance: u32,
    /// The near-copy rule's second point, for copies with noise on every element: a record
    /// within `noise_copy_tolerance` of a dataset record or an earlier record in all but at
    /// most this many thousandths of its elements, itself or transformed by
    /// `copy_transforms`, is rejected (`POUW_RECORD_NEAR_COPY_*`); below 1000, 0 turns the
    /// point off (default: fitted to the dataset, `growth::fit_noise_copy_rule`: a quarter of
    /// the share in which the closest two of its first 512 records lie more than the tolerance
    /// apart, at most 100).
    pub noise_copy_per_mille: u32,
    /// Two elements differ, for the near-copy rule's second point, when further apart than
    /// this; below the largest value (default: fitted, the largest up to the largest value / 8
    /// at which the closest two of those records still lie more than it apart in 4 elements
    /// or more, and in 0.4% of them).
    pub noise_copy_tolerance: u32,
    /// The flat-patch rule: an image holding a square of this side over which every channel
    /// holds one value, not all of them ground values (a block pasted over it), is rejected
    /// (`POUW_RECORD_FLAT_PATCH`); from 2 to the image's smaller dimension, 0 turns the rule
    /// off (default: fitted to the dataset, `growth::fit_flat_patch_rule`: the smallest side
    /// at which at most 1% of its first 512 records hold such a square; off for records that
    /// are not images).
    pub flat_patch_side: u32,
    /// The flat-patch rule's ground values, one bit per value (bit `v % 8` of byte `v / 8`):
    /// a flat square whose every channel holds one of them is not damage (the blank ground of
    /// a digit); none above the largest value, none with the rule off (default: fitted with
    /// the side, the values at least 10% of those records hold flat at that side).
    pub flat_patch_grounds: [u8; 32],
    /// The flat-patch rule's near point: an image holding a square of this side over which
    /// every channel's values lie within `near_flat_tolerance` of each other (a block with a
    /// little texture), not every channel's within it of one ground value, is rejected
    /// (`POUW_RECORD_FLAT_PATCH`); from 2 to the image's smaller dimension, 0 turns the point
    /// off (default: fitted to the dataset, `growth::fit_near_flat_rule`: at the tolerance,
    /// the smallest side at which at most 1% of its first 512 records hold such a square; off
    /// for records that are not images).
    pub near_flat_side: u32,
    /// The near point's tolerance: from 1 to below the largest value with the point on, 0
    /// with it off (default: a sixteenth of the largest value, at least 2).
    pub near_flat_tolerance: u32,
}

/// Reads a caller's request options (NULL: every default) under the sized-struct rules of
/// [`pouw_dataset_request_options`].
unsafe fn read_request_options(
    p: *const pouw_dataset_request_options,
) -> Result<Option<pouw_dataset_request_options>, PouwResult> {
    use std::mem::offset_of;
    type O = pouw_dataset_request_options;
    let field = |bit, offset, len| Field { bit, offset, len };
    let fields = [
        field(
            POUW_REQUEST_OPTION_DISTANCE,
            offset_of!(O, distance_reject_per_mille),
            4,
        ),
        field(POUW_REQUEST_OPTION_INK, offset_of!(O, ink_min), 4),
        field(POUW_REQUEST_OPTION_INK, offset_of!(O, ink_max), 4),
        field(POUW_REQUEST_OPTION_MAX_SHIFT, offset_of!(O, max_shift), 4),
        field(
            POUW_REQUEST_OPTION_MAX_RECORDS,
            offset_of!(O, max_records),
            4,
        ),
        field(POUW_REQUEST_OPTION_MAX_BYTES, offset_of!(O, max_bytes), 8),
        field(
            POUW_REQUEST_OPTION_NEAR_COPY,
            offset_of!(O, near_copy_per_mille),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_NEAR_COPY,
            offset_of!(O, near_copy_tolerance),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_COPY_TRANSFORMS,
            offset_of!(O, copy_transforms),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_LEVELS,
            offset_of!(O, levels_per_mille),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_LEVELS,
            offset_of!(O, levels_tolerance),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_NEGATIVE_RULE,
            offset_of!(O, negative_rule),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_NOISE_COPY,
            offset_of!(O, noise_copy_per_mille),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_NOISE_COPY,
            offset_of!(O, noise_copy_tolerance),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_FLAT_PATCH,
            offset_of!(O, flat_patch_side),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_FLAT_PATCH,
            offset_of!(O, flat_patch_grounds),
            32,
        ),
        field(
            POUW_REQUEST_OPTION_NEAR_FLAT,
            offset_of!(O, near_flat_side),
            4,
        ),
        field(
            POUW_REQUEST_OPTION_NEAR_FLAT,
            offset_of!(O, near_flat_tolerance),
            4,
        ),
    ];
    read_sized(p, offset_of!(O, set), &fields)
}

/// A dataset request: what the network asks for and the rules submissions are judged by.
/// Immutable once made, so usable from any number of threads at once.
#[allow(non_camel_case_types)]
pub struct pouw_dataset_request {
    pub(crate) inner: DatasetRequest,
}

/// Makes a request to grow `dataset` by `target_count` records, judged by the checkpoint
/// `checkpoint` (`checkpoint_len` bytes; only its CID is taken, with the digest of the task
/// spec of `params`) at discriminator logit `threshold` (finite; see
/// `pouw_judge_calibrate_threshold` with the `torch` feature), its other rules the library's
/// defaults changed by the fields `options` sets (NULL: every default; see
/// [`pouw_dataset_request_options`]). The defaults assume nothing about the kind of record:
/// the distance rule at 2% of the dataset, the near-copy and levels rules fitted to the
/// dataset's first 512 records and their transforms (those `options` sets, where it sets
/// `copy_transforms`), the copy rules applied to mirrored
/// (images) and inverted records too, the negative rule on, the ink rule off, a 2-pixel
/// shifted-copy radius for images, 1024 records per submission. Reads the dataset's first 512
/// records. A rule out of its domain gives
/// `POUW_RESULT_INVALID_FIELD`, a malformed options struct `POUW_RESULT_INVALID_ARGUMENT`.
/// Writes the request to `*out` (free it with [`pouw_dataset_request_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_new(
    dataset: *const pouw_dataset,
    params: *const pouw_params,
    checkpoint: *const u8,
    checkpoint_len: usize,
    threshold: f32,
    target_count: u64,
    options: *const pouw_dataset_request_options,
    out: *mut *mut pouw_dataset_request,
) -> PouwResult {
    guard(|| {
        let dataset = &handle(dataset)?.inner;
        let params = &handle(params)?.inner;
        let checkpoint = slice(checkpoint, checkpoint_len)?;
        let o = read_request_options(options)?.unwrap_or_default();
        out_ptr(out)?;
        let is = |bit: u32| o.set & bit != 0;
        // The near-copy and levels rules are fitted under the transforms the request will use.
        let mut inner = if is(POUW_REQUEST_OPTION_COPY_TRANSFORMS) {
            DatasetRequest::for_dataset_with_transforms(
                dataset,
                params.spec.digest(),
                cid_of(checkpoint),
                threshold,
                target_count,
                o.copy_transforms,
            )?
        } else {
            DatasetRequest::for_dataset(
                dataset,
                params.spec.digest(),
                cid_of(checkpoint),
                threshold,
                target_count,
            )?
        };
        if is(POUW_REQUEST_OPTION_DISTANCE) {
            inner.distance_reject_per_mille = o.distance_reject_per_mille;
        }
        if is(POUW_REQUEST_OPTION_INK) {
            (inner.ink_min, inner.ink_max) = (o.ink_min, o.ink_max);
        }
        if is(POUW_REQUEST_OPTION_MAX_SHIFT) {
            inner.max_shift = o.max_shift;
        }
        if is(POUW_REQUEST_OPTION_MAX_RECORDS) {
            inner.max_records = o.max_records;
            if !is(POUW_REQUEST_OPTION_MAX_BYTES) {
                let record = dataset.manifest().record_size;
                inner.max_bytes = u64::from(o.max_records)
                    .saturating_mul(record)
                    .min(MAX_SUBMISSION_BYTES);
            }
        }
        if is(POUW_REQUEST_OPTION_MAX_BYTES) {
            inner.max_bytes = o.max_bytes;
        }
        if is(POUW_REQUEST_OPTION_NEAR_COPY) {
            inner.near_copy_per_mille = o.near_copy_per_mille;
            inner.near_copy_tolerance = o.near_copy_tolerance;
        }
        if is(POUW_REQUEST_OPTION_LEVELS) {
            inner.levels_per_mille = o.levels_per_mille;
            inner.levels_tolerance = o.levels_tolerance;
        }
        if is(POUW_REQUEST_OPTION_NOISE_COPY) {
            inner.noise_copy_per_mille = o.noise_copy_per_mille;
            inner.noise_copy_tolerance = o.noise_copy_tolerance;
        }
        if is(POUW_REQUEST_OPTION_FLAT_PATCH) {
            inner.flat_patch_side = o.flat_patch_side;
            inner.flat_patch_grounds = o.flat_patch_grounds;
        }
        if is(POUW_REQUEST_OPTION_NEAR_FLAT) {
            inner.near_flat_side = o.near_flat_side;
            inner.near_flat_tolerance = o.near_flat_tolerance;
        }
        if is(POUW_REQUEST_OPTION_NEGATIVE_RULE) {
            inner.negative_rule = match o.negative_rule {
                0 => false,
                1 => true,
                other => {
                    return Err(pouw::Error::InvalidField {
                        what: "negative rule",
                        detail: format!("{other}, expected 0 or 1"),
                    }
                    .into())
                }
            };
        }
        inner.validate()?;
        write_handle(out, pouw_dataset_request { inner });
        Ok(())
    })
}

/// Writes ink bounds fitted to `dataset` to `*out_min` and `*out_max`: its records' smallest
/// and largest ink (elements above zero) widened by an eighth of the record's elements on each
/// side, the lower bound at least 1. For records of sparse strokes on a blank ground, such as
/// digits, where the ink rule (`POUW_REQUEST_OPTION_INK`) rejects blank and dense records.
/// Reads every record once. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_ink_bounds(
    dataset: *const pouw_dataset,
    out_min: *mut u32,
    out_max: *mut u32,
) -> PouwResult {
    guard(|| {
        let dataset = &handle(dataset)?.inner;
        out_ptr(out_min)?;
        out_ptr(out_max)?;
        let (lo, hi) = dataset_ink_bounds(dataset)?;
        *out_min = lo;
        *out_max = hi;
        Ok(())
    })
}

/// Decodes and validates a request from its canonical bytes (`bytes`, `len`; untrusted) and
/// writes it to `*out` (free it with [`pouw_dataset_request_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_dataset_request,
) -> PouwResult {
    decode_into(bytes, len, out, |bytes| {
        Ok(pouw_dataset_request {
            inner: DatasetRequest::from_bytes(bytes)?,
        })
    })
}

/// Writes the canonical encoding of `request` (what its CID names) to a new buffer `*out` (free
/// it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_to_bytes(
    request: *const pouw_dataset_request,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(request, out, |request| Ok(request.inner.to_bytes()))
}

/// Writes the binary CID of `request` (its identifier; submissions name it) to a new buffer
/// `*out` (free it with [`pouw_buffer_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_cid(
    request: *const pouw_dataset_request,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(request, out, |request| Ok(request.inner.cid().to_bytes()))
}

/// Writes the most records one submission to `request` may carry (the length of a verdict
/// array that fits any acceptable submission) to `*out_max_records`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_max_records(
    request: *const pouw_dataset_request,
    out_max_records: *mut u32,
) -> PouwResult {
    guard(|| {
        let request = &handle(request)?.inner;
        out_ptr(out_max_records)?;
        *out_max_records = request.max_records;
        Ok(())
    })
}

/// Frees a request; NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_dataset_request_free(request: *mut pouw_dataset_request) {
    free_handle(request);
}
