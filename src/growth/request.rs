//! Dataset requests: what the network asks for and the rule every submission is judged by.

use super::flat::{
    fit_flat_patch, fit_near_flat_side, is_ground, near_flat_tolerance, FLAT_GROUND_BYTES,
};
use super::levels::{level_channels, normalise_levels};
use super::near::{differing_within, Nearness};
use super::records::{
    applicable_transforms, copy_transform_sets, for_each_record, transform_record, Geometry,
};
use crate::codec::{Decoder, Encoder};
use crate::dataset::{DType, Dataset, Manifest, MAX_DIMS};
use crate::error::{Error, Result};
use crate::hash::Digest;
use crate::ident::{cid_from_bytes, cid_of, Cid};

const MAGIC: &[u8; 4] = b"PWRQ";
/// 2: the threshold is on the critic's score in inference form (batch norm with the dataset's
/// statistics) and the distance rule is new. 3: the distance rule measures the critic's new
/// features (the GAN's: the per-channel means and standard deviations of the discriminator's
/// first two hidden layers), so a version 2 request's threshold meant other features; versions
/// 1 and 2 are refused. 4: the near-copy rule (`near_copy_per_mille`, `near_copy_tolerance`).
/// 5: the copy transforms (`copy_transforms`: mirrored and inverted copies) and the negative
/// rule (`negative_rule`). 6: the copy transforms include upside-down and quarter-turned
/// copies ([`COPY_FLIPPED`], [`COPY_TURNED`]). 7: the levels rule (`levels_per_mille`,
/// `levels_tolerance`). 8: the near-copy rule's second point, for copies with noise on every
/// element (`noise_copy_per_mille`, `noise_copy_tolerance`). 9: the flat-patch rule
/// (`flat_patch_side`, `flat_patch_grounds`). 10: the flat-patch rule's near point, for blocks
/// with a little texture (`near_flat_side`, `near_flat_tolerance`); earlier versions are
/// refused.
const FORMAT_VERSION: u32 = 10;
/// The longest CID accepted inside a request.
pub(crate) const MAX_CID_BYTES: u64 = 64;
/// The largest number of records one submission may be allowed to carry.
pub const MAX_SUBMISSION_RECORDS: u32 = 1 << 20;
/// The largest number of record bytes one submission may be allowed to carry (1 GiB).
pub const MAX_SUBMISSION_BYTES: u64 = 1 << 30;
/// The largest translation radius of the shifted-copy rule.
pub const MAX_SHIFT: u32 = 8;
/// Records per submission in [`DatasetRequest::for_dataset`].
pub const DEFAULT_MAX_RECORDS: u32 = 1024;
/// Translation radius of the shifted-copy rule in [`DatasetRequest::for_dataset`] (image records).
pub const DEFAULT_MAX_SHIFT: u32 = 2;
/// The share of the dataset's records, in thousandths, the distance rule of
/// [`DatasetRequest::for_dataset`] puts beyond its threshold (out of fold): 2%.
pub const DEFAULT_DISTANCE_REJECT_PER_MILLE: u32 = 20;
/// The near-copy rule of [`DatasetRequest::for_dataset`] at its least: a record differing from
/// a dataset record in at most 15% of its elements is a patched copy of it (a 3x3 block on an
/// 8x8 digit changes 14%; two distinct UCI digits differ in 19% of their pixels or more).
/// Datasets whose records lie further apart get a larger share ([`fit_near_copy_per_mille`]).
pub const DEFAULT_NEAR_COPY_PER_MILLE: u32 = 150;
/// The largest near-copy share [`fit_near_copy_per_mille`] chooses: a record differing from
/// another in more than half its elements is never a copy of it.
pub const MAX_FITTED_NEAR_COPY_PER_MILLE: u32 = 500;
/// The largest near-copy tolerance [`fit_near_copy_tolerance`] chooses, as a divisor of
/// `value_max` (15 levels of 255, 1 of 16).
pub const NEAR_COPY_TOLERANCE_DIVISOR: u32 = 16;
/// The largest tolerance [`fit_noise_copy_rule`] chooses, as a divisor of `value_max` (31
/// levels of 255, 2 of 16): noise, not another brightness (the levels rule's copies).
pub const NOISE_COPY_TOLERANCE_DIVISOR: u32 = 8;
/// The fewest elements in which the closest two records of [`fit_noise_copy_rule`]'s sample
/// must lie more than its tolerance apart (a quarter of it, the allowance, is about one), and
/// at least 4 thousandths of a record's elements (a quarter leaves a share of 1 thousandth).
pub const NOISE_COPY_MIN_APART: usize = 4;
/// The largest share [`fit_noise_copy_rule`] chooses: a noisy copy lies within the tolerance
/// of its record in nine tenths of its elements or more.
pub const MAX_FITTED_NOISE_COPY_PER_MILLE: u32 = 100;
/// The dataset records (the first, in index order) [`fit_near_copy_tolerance`] and
/// [`fit_near_copy_per_mille`] compare.
pub const NEAR_COPY_FIT_RECORDS: u64 = 512;
/// `copy_transforms` bit: the copy rules also look at the record mirrored (each row of each
/// channel reversed; image shapes `[C, H, W]` only).
pub const COPY_MIRRORED: u32 = 1 << 0;
/// `copy_transforms` bit: the copy rules also look at the record inverted (each value `v`
/// replaced by `value_max - v`: the negative image).
pub const COPY_INVERTED: u32 = 1 << 1;
/// `copy_transforms` bit: the copy rules also look at the record upside down (the rows of each
/// channel in reverse order; image shapes `[C, H, W]` only).
pub const COPY_FLIPPED: u32 = 1 << 2;
/// `copy_transforms` bit: the copy rules also look at the record turned a quarter clockwise
/// (square image shapes `[C, H, H]` only, and only with [`COPY_MIRRORED`] and [`COPY_FLIPPED`]:
/// with them the transforms are every turn and reflection of a square, so a copy turned either
/// way is found).
pub const COPY_TURNED: u32 = 1 << 3;
/// Every `copy_transforms` bit.
pub const COPY_TRANSFORMS_ALL: u32 = COPY_MIRRORED | COPY_INVERTED | COPY_FLIPPED | COPY_TURNED;
/// The largest levels tolerance: the normal form's values lie in `0..=255`.
pub const MAX_LEVELS_TOLERANCE: u32 = 255;

/// A dataset request: the network asks for `target_count` new records of a given layout and
/// says how submissions are judged. Its canonical encoding ([`DatasetRequest::to_bytes`]) is
/// what its CID ([`DatasetRequest::cid`]) names; submissions name the request by that CID.
///
/// A record is accepted when it has the record size, no element above `value_max`, an ink
/// count (elements above zero) in `ink_min..=ink_max`, is neither an exact duplicate, nor a
/// translated copy (by up to `max_shift` pixels), nor a near copy (all but a few elements the
/// same) of a dataset record or of an earlier record of its submission, nor any of these once
/// mirrored, upside down, turned or inverted (`copy_transforms`), nor a near copy of any of
/// these once brightness and contrast are taken out (the levels rule), the judge model's
/// features of it lie within the distance rule's threshold and no further from the dataset's
/// than its negative's (the negative rule), and its discriminator logit is at least
/// `threshold` (see [`super::Rejection`] for the order of the checks).
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetRequest {
    /// CID of the manifest of the dataset version the request grows (the base version).
    pub dataset: Cid,
    /// Record shape, as in the [`Manifest`]; images are `[channels, height, width]`.
    pub shape: Vec<u32>,
    /// Element type.
    pub dtype: DType,
    /// The largest element value (as in the manifest).
    pub value_max: u32,
    /// Records the request wants accepted in total.
    pub target_count: u64,
    /// The digest ([`crate::learning::TaskSpec::digest`]) of the judge model's task spec.
    pub spec: Digest,
    /// CID of the judge model's checkpoint bytes.
    pub model: Cid,
    /// Acceptance threshold on the critic's score (for the GAN, the discriminator's raw logit in
    /// inference form, not the sigmoid probability; see [`super::Judge`]): a record is
    /// plausible when its score is `>= threshold`. Finite; encoded as `f32` bits.
    pub threshold: f32,
    /// The distance rule: a record is unlike the dataset when the critic's features of it lie
    /// further from the dataset's own than the threshold every node fits on the dataset so
    /// that this many thousandths of its records lie beyond it out of fold
    /// ([`super::calibrate_distance`]). Below 1000; 0 turns the rule off.
    pub distance_reject_per_mille: u32,
    /// Fewest elements above zero a record may have (rejects blank records); with `ink_min`
    /// 0 and `ink_max` the record's element count the ink rule is off (see
    /// [`dataset_ink_bounds`]).
    pub ink_min: u32,
    /// Most elements above zero a record may have (rejects dense noise).
    pub ink_max: u32,
    /// Translation radius of the shifted-copy rule, in pixels (0 turns the rule off); image
    /// shapes `[C, H, W]` only.
    pub max_shift: u32,
    /// The near-copy rule: a record that differs from a dataset record, or from an earlier
    /// record of its submission, in at most this many thousandths of its elements (rounded
    /// down) is a patched copy of it (a block pasted over a record, a few values changed).
    /// Below 1000; 0 turns the rule off.
    pub near_copy_per_mille: u32,
    /// Two elements differ, for the near-copy rule, when their values lie more than this far
    /// apart (0: when they are not equal). Below `value_max`.
    pub near_copy_tolerance: u32,
    /// The near-copy rule's second point: a record whose elements lie within
    /// `noise_copy_tolerance` of a dataset record's, or of an earlier record's of its
    /// submission, in all but at most this many thousandths of them (rounded down) is a copy of
    /// it with noise on every element (where the first point's tolerance, which must stay
    /// small for the dataset's own records not to be near copies of each other when 15% or
    /// more of their elements may differ, lets such noise through). Checked with the first
    /// point, as the same rule, transforms included. Below 1000; 0 turns the point off.
    pub noise_copy_per_mille: u32,
    /// Two elements differ, for the near-copy rule's second point, when their values lie more
    /// than this far apart. Below `value_max`.
    pub noise_copy_tolerance: u32,
    /// Which transforms of a record the copy rules (exact, shifted and near copies) also
    /// check: [`COPY_MIRRORED`] and [`COPY_FLIPPED`] (image shapes only), [`COPY_TURNED`]
    /// (square images only) and [`COPY_INVERTED`], and every combination of the bits set (with
    /// all four: the 7 other turns and reflections of a square, each also inverted, and the
    /// negative). A mirror image, an upside-down or turned copy or a negative of a dataset
    /// record is the record again, not new data. 0 turns them off.
    pub copy_transforms: u32,
    /// The flat-patch rule: an image holding a square of this side over which every channel
    /// holds one value (a block pasted over it, a region blanked out), not all of them ground
    /// values, is damaged (checked after the levels rule). From 2 to the image's smaller
    /// dimension (image shapes `[C, H, W]` only); 0 turns the rule off.
    pub flat_patch_side: u32,
    /// The flat-patch rule's ground values, one bit per value (bit `v % 8` of byte `v / 8`): a
    /// flat square whose every channel holds a ground value is not damage (the blank ground of
    /// a digit). No value above `value_max`; none when the rule is off.
    pub flat_patch_grounds: [u8; FLAT_GROUND_BYTES],
    /// The flat-patch rule's near point: an image holding a square of this side over which
    /// every channel's values lie within `near_flat_tolerance` of each other (a block with a
    /// little texture pasted over it), not every channel's within the tolerance of one ground
    /// value of `flat_patch_grounds`, is damaged too. From 2 to the image's smaller dimension
    /// (image shapes only); 0 turns the point off.
    pub near_flat_side: u32,
    /// The near point's tolerance: from 1 to below `value_max` with the point on, 0 with it
    /// off.
    pub near_flat_tolerance: u32,
    /// The levels rule: a record that, with its brightness and contrast taken out (each channel
    /// placed by its median and mean absolute deviation: its normal form), differs from a dataset
    /// record or an earlier record of its submission in the same form in at most this many
    /// thousandths of its elements, is that record with its levels changed (brighter, darker,
    /// more or less contrast), itself or transformed as `copy_transforms` says. Below 1000; 0
    /// turns the rule off.
    pub levels_per_mille: u32,
    /// Two elements of normal forms differ, for the levels rule, when they lie more than this
    /// far apart (the normal form places a channel's median at 128 and one mean absolute
    /// deviation from it 16 values away). At most [`MAX_LEVELS_TOLERANCE`].
    pub levels_tolerance: u32,
    /// The negative rule: a record whose negative (each value `v` as `value_max - v`) lies
    /// closer to the dataset's features than the record itself (the judge's squared
    /// distances, [`super::FeatureModel`]) is rejected: the model finds it a negative of a
    /// plausible record rather than a plausible record (an inverted unseen image, which no
    /// copy rule reaches). Off for records whose negatives are as plausible as themselves.
    pub negative_rule: bool,
    /// Most records in one submission.
    pub max_records: u32,
    /// Most record bytes in one submission (all records' lengths summed).
    pub max_bytes: u64,
}

impl DatasetRequest {
    /// A request to grow `dataset` by `target_count` records, judged by the checkpoint `model`
    /// (of the task spec with digest `spec`) at logit `threshold` (see
    /// `growth::calibrate_threshold` with the `torch` feature). Other rules get defaults that
    /// assume nothing about the kind of record: the distance rule at
    /// [`DEFAULT_DISTANCE_REJECT_PER_MILLE`], the near-copy rule with the tolerance
    /// [`fit_near_copy_tolerance`] fits to the dataset at [`DEFAULT_NEAR_COPY_PER_MILLE`], then
    /// the share [`fit_near_copy_per_mille`] fits at that tolerance (both read the first
    /// [`NEAR_COPY_FIT_RECORDS`] records) and its noise point fitted by [`fit_noise_copy_rule`]
    /// on the same records, the copy rules applied to inverted records and, for images,
    /// mirrored and upside-down ones too, and for square images turned ones
    /// ([`COPY_INVERTED`], [`COPY_MIRRORED`], [`COPY_FLIPPED`], [`COPY_TURNED`]), the levels
    /// rule fitted by [`fit_levels_rule`] on the same records, for images the flat-patch rule
    /// fitted by [`fit_flat_patch_rule`] and its near point by [`fit_near_flat_rule`] on the
    /// same records, the negative rule on, the ink rule
    /// off (`0..=` the record's elements; [`dataset_ink_bounds`] gives bounds fitted to the
    /// dataset, for records of sparse strokes such as digits), [`DEFAULT_MAX_SHIFT`] for images,
    /// [`DEFAULT_MAX_RECORDS`] records of the dataset's size per submission.
    pub fn for_dataset(
        dataset: &Dataset,
        spec: Digest,
        model: Cid,
        threshold: f32,
        target_count: u64,
    ) -> Result<Self> {
        let copy_transforms = match dataset.manifest().image_dims() {
            Some((_, h, w)) if h == w => COPY_TRANSFORMS_ALL,
            Some(_) => COPY_TRANSFORMS_ALL & !COPY_TURNED,
            None => COPY_INVERTED,
        };
        Self::for_dataset_with_transforms(
            dataset,
            spec,
            model,
            threshold,
            target_count,
            copy_transforms,
        )
    }

    /// [`for_dataset`](Self::for_dataset) with the copy rules applied to the transforms
    /// `copy_transforms` says rather than the defaults: the near-copy and levels rules are
    /// fitted under those transforms (the fits compare the dataset's records with each other's
    /// transforms, so other transforms can fit other tolerances). Transforms out of their
    /// domain are [`Error::InvalidField`], as [`validate`](Self::validate) says.
    pub fn for_dataset_with_transforms(
        dataset: &Dataset,
        spec: Digest,
        model: Cid,
        threshold: f32,
        target_count: u64,
        copy_transforms: u32,
    ) -> Result<Self> {
        let m = dataset.manifest();
        let elements = elements_of(&m.shape)?;
        let max_shift = match m.image_dims() {
            Some((_, h, w)) => DEFAULT_MAX_SHIFT.min(h.min(w).saturating_sub(1)),
            None => 0,
        };
        // One read of the fit's records for both fits.
        let sample = FitSample::read(dataset, copy_transforms)?;
        let near_copy_tolerance = sample.tolerance(DEFAULT_NEAR_COPY_PER_MILLE);
        let near_copy_per_mille = sample.share(near_copy_tolerance);
        let (noise_copy_per_mille, noise_copy_tolerance) = sample.noise_rule(near_copy_tolerance);
        let (levels_per_mille, levels_tolerance) =
            sample.normalised(level_channels(&m.shape)).levels_rule();
        let (flat_patch_side, flat_patch_grounds) = sample.flat_patch_rule(&m.shape);
        let (near_flat_side, near_flat_tolerance) =
            sample.near_flat_rule(&m.shape, m.value_max, &flat_patch_grounds);
        let request = DatasetRequest {
            dataset: dataset.cid(),
            shape: m.shape.clone(),
            dtype: m.dtype,
            value_max: m.value_max,
            target_count,
            spec,
            model,
            threshold,
            distance_reject_per_mille: DEFAULT_DISTANCE_REJECT_PER_MILLE,
            ink_min: 0,
            ink_max: elements,
            max_shift,
            near_copy_per_mille,
            near_copy_tolerance,
            noise_copy_per_mille,
            noise_copy_tolerance,
            copy_transforms,
            flat_patch_side,
            flat_patch_grounds,
            near_flat_side,
            near_flat_tolerance,
            levels_per_mille,
            levels_tolerance,
            negative_rule: true,
            max_records: DEFAULT_MAX_RECORDS,
            max_bytes: u64::from(DEFAULT_MAX_RECORDS) * m.record_size,
        };
        request.validate()?;
        Ok(request)
    }

    /// Bytes per record.
    pub fn record_size(&self) -> usize {
        Manifest::record_size_of(&self.shape, self.dtype).unwrap_or(0) as usize
    }

    /// Whether `manifest` describes records of this request's layout (shape, dtype, value range).
    pub fn matches(&self, manifest: &Manifest) -> bool {
        manifest.shape == self.shape
            && manifest.dtype == self.dtype
            && manifest.value_max == self.value_max
    }

    /// Checks every field's domain.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &'static str, detail: String| Err(Error::InvalidField { what, detail });
        let record_size = Manifest::record_size_of(&self.shape, self.dtype)?;
        let elements = elements_of(&self.shape)?;
        let dtype_max = match self.dtype {
            DType::U8 => 255,
        };
        if self.value_max == 0 || self.value_max > dtype_max {
            return bad(
                "value max",
                format!("{} outside 1..={dtype_max}", self.value_max),
            );
        }
        if self.target_count == 0 {
            return bad("target count", "zero".into());
        }
        if !self.threshold.is_finite() {
            return bad("threshold", format!("{} is not finite", self.threshold));
        }
        if self.distance_reject_per_mille >= 1000 {
            return bad(
                "distance reject per mille",
                format!("{} not below 1000", self.distance_reject_per_mille),
            );
        }
        if self.ink_min > self.ink_max || self.ink_max > elements {
            return bad(
                "ink bounds",
                format!(
                    "{}..={} for {elements} elements",
                    self.ink_min, self.ink_max
                ),
            );
        }
        if self.max_shift > 0 {
            match self.shape[..] {
                [_, h, w] if self.max_shift <= MAX_SHIFT && self.max_shift < h.min(w) => {}
                _ => {
                    return bad(
                        "max shift",
                        format!("{} for records of shape {:?}", self.max_shift, self.shape),
                    )
                }
            }
        }
        if self.near_copy_per_mille >= 1000 {
            return bad(
                "near copy per mille",
                format!("{} not below 1000", self.near_copy_per_mille),
            );
        }
        if self.near_copy_tolerance >= self.value_max {
            return bad(
                "near copy tolerance",
                format!(
                    "{} not below the largest value {}",
                    self.near_copy_tolerance, self.value_max
                ),
            );
        }
        if self.noise_copy_per_mille >= 1000 {
            return bad(
                "noise copy per mille",
                format!("{} not below 1000", self.noise_copy_per_mille),
            );
        }
        if self.noise_copy_tolerance >= self.value_max {
            return bad(
                "noise copy tolerance",
                format!(
                    "{} not below the largest value {}",
                    self.noise_copy_tolerance, self.value_max
                ),
            );
        }
        let t = self.copy_transforms;
        let both_reflections = COPY_MIRRORED | COPY_FLIPPED;
        if t & !COPY_TRANSFORMS_ALL != 0
            || applicable_transforms(t, Geometry::of(&self.shape)) != t
            || (t & COPY_TURNED != 0 && t & both_reflections != both_reflections)
        {
            return bad(
                "copy transforms",
                format!(
                    "{:#x} for records of shape {:?} (bits {COPY_MIRRORED}: mirrored and \
                     {COPY_FLIPPED}: upside down, images only; {COPY_TURNED}: turned, square \
                     images only, with both of those; {COPY_INVERTED}: inverted)",
                    self.copy_transforms, self.shape
                ),
            );
        }
        let flat_most = match Geometry::of(&self.shape) {
            Some(g) => g.height.min(g.width) as u32,
            None => 0,
        };
        if self.flat_patch_side != 0 && !(2..=flat_most).contains(&self.flat_patch_side) {
            return bad(
                "flat patch side",
                format!(
                    "{} for records of shape {:?} (0, or 2 to an image's smaller dimension)",
                    self.flat_patch_side, self.shape
                ),
            );
        }
        let grounds = self.flat_patch_ground_values();
        if grounds
            .iter()
            .any(|&v| self.flat_patch_side == 0 || u32::from(v) > self.value_max)
        {
            return bad(
                "flat patch grounds",
                format!(
                    "a value above the largest value {} or with the rule off (side {})",
                    self.value_max, self.flat_patch_side
                ),
            );
        }
        if self.near_flat_side != 0 && !(2..=flat_most).contains(&self.near_flat_side) {
            return bad(
                "near flat side",
                format!(
                    "{} for records of shape {:?} (0, or 2 to an image's smaller dimension)",
                    self.near_flat_side, self.shape
                ),
            );
        }
        let tolerance_ok = match self.near_flat_side {
            0 => self.near_flat_tolerance == 0,
            _ => (1..self.value_max).contains(&self.near_flat_tolerance),
        };
        if !tolerance_ok {
            return bad(
                "near flat tolerance",
                format!(
                    "{} with the side {} and the largest value {} (1 to below the largest value \
                     with the point on, 0 with it off)",
                    self.near_flat_tolerance, self.near_flat_side, self.value_max
                ),
            );
        }
        if self.levels_per_mille >= 1000 {
            return bad(
                "levels per mille",
                format!("{} not below 1000", self.levels_per_mille),
            );
        }
        if self.levels_tolerance > MAX_LEVELS_TOLERANCE {
            return bad(
                "levels tolerance",
                format!("{} above {MAX_LEVELS_TOLERANCE}", self.levels_tolerance),
            );
        }
        if self.max_records == 0 || self.max_records > MAX_SUBMISSION_RECORDS {
            return bad(
                "max records",
                format!("{} outside 1..={MAX_SUBMISSION_RECORDS}", self.max_records),
            );
        }
        if self.max_bytes < record_size || self.max_bytes > MAX_SUBMISSION_BYTES {
            return bad(
                "max bytes",
                format!(
                    "{} outside {record_size}..={MAX_SUBMISSION_BYTES}",
                    self.max_bytes
                ),
            );
        }
        Ok(())
    }

    /// The canonical encoding, which the request's CID names.
    ///
    /// Layout (little-endian, [`crate::codec`]): magic `PWRQ`, format version `u32`, dataset CID
    /// (length-prefixed bytes), shape (count, then `u32`s), dtype code `u8`, value max `u32`,
    /// target count `u64`, spec digest (32 bytes), model CID (length-prefixed bytes), threshold
    /// (`f32` bits as `u32`), distance reject per mille `u32`, ink min `u32`, ink max `u32`, max
    /// shift `u32`, near copy per mille `u32`, near copy tolerance `u32`, noise copy per mille
    /// `u32`, noise copy tolerance `u32`, copy transforms `u32`, flat patch side `u32`, flat
    /// patch grounds (32 bytes),
    /// levels per mille `u32`, levels tolerance `u32`, negative rule `u8` (0 or 1), max records
    /// `u32`, max bytes `u64`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.raw(MAGIC)
            .u32(FORMAT_VERSION)
            .bytes(&self.dataset.to_bytes())
            .len(self.shape.len());
        for d in &self.shape {
            e.u32(*d);
        }
        e.u8(self.dtype.code())
            .u32(self.value_max)
            .u64(self.target_count)
            .digest(&self.spec);
        e.bytes(&self.model.to_bytes())
            .u32(self.threshold.to_bits())
            .u32(self.distance_reject_per_mille);
        e.u32(self.ink_min)
            .u32(self.ink_max)
            .u32(self.max_shift)
            .u32(self.near_copy_per_mille)
            .u32(self.near_copy_tolerance)
            .u32(self.noise_copy_per_mille)
            .u32(self.noise_copy_tolerance)
            .u32(self.copy_transforms)
            .u32(self.flat_patch_side)
            .raw(&self.flat_patch_grounds)
            .u32(self.near_flat_side)
            .u32(self.near_flat_tolerance)
            .u32(self.levels_per_mille)
            .u32(self.levels_tolerance)
            .u8(u8::from(self.negative_rule))
            .u32(self.max_records)
            .u64(self.max_bytes);
        e.finish()
    }

    /// Decodes and validates a request from untrusted bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let mut d = Decoder::new(bytes);
        d.magic(MAGIC, "dataset request")?;
        let version = d.u32("request version")?;
        if version != FORMAT_VERSION {
            return Err(Error::UnsupportedVersion {
                what: "dataset request",
                found: version,
                supported: FORMAT_VERSION,
            });
        }
        let dataset = cid_from_bytes(d.bytes("dataset cid", MAX_CID_BYTES)?)?;
        let dims = d.count("shape", MAX_DIMS, 4)?;
        let shape = (0..dims)
            .map(|_| d.u32("shape"))
            .collect::<Result<Vec<_>>>()?;
        let dtype = DType::from_code(d.u8("dtype")?)?;
        let value_max = d.u32("value max")?;
        let target_count = d.u64("target count")?;
        let spec = d.digest("spec digest")?;
        let model = cid_from_bytes(d.bytes("model cid", MAX_CID_BYTES)?)?;
        let threshold = f32::from_bits(d.u32("threshold")?);
        let distance_reject_per_mille = d.u32("distance reject per mille")?;
        let ink_min = d.u32("ink min")?;
        let ink_max = d.u32("ink max")?;
        let max_shift = d.u32("max shift")?;
        let near_copy_per_mille = d.u32("near copy per mille")?;
        let near_copy_tolerance = d.u32("near copy tolerance")?;
        let noise_copy_per_mille = d.u32("noise copy per mille")?;
        let noise_copy_tolerance = d.u32("noise copy tolerance")?;
        let copy_transforms = d.u32("copy transforms")?;
        let flat_patch_side = d.u32("flat patch side")?;
        let flat_patch_grounds = d.array::<FLAT_GROUND_BYTES>("flat patch grounds")?;
        let near_flat_side = d.u32("near flat side")?;
        let near_flat_tolerance = d.u32("near flat tolerance")?;
        let levels_per_mille = d.u32("levels per mille")?;
        let levels_tolerance = d.u32("levels tolerance")?;
        let negative_rule = match d.u8("negative rule")? {
            0 => false,
            1 => true,
            other => {
                return Err(Error::InvalidField {
                    what: "negative rule",
                    detail: format!("{other}, expected 0 or 1"),
                })
            }
        };
        let max_records = d.u32("max records")?;
        let max_bytes = d.u64("max bytes")?;
        d.finish()?;
        let request = DatasetRequest {
            dataset,
            shape,
            dtype,
            value_max,
            target_count,
            spec,
            model,
            threshold,
            distance_reject_per_mille,
            ink_min,
            ink_max,
            max_shift,
            near_copy_per_mille,
            near_copy_tolerance,
            noise_copy_per_mille,
            noise_copy_tolerance,
            copy_transforms,
            flat_patch_side,
            flat_patch_grounds,
            near_flat_side,
            near_flat_tolerance,
            levels_per_mille,
            levels_tolerance,
            negative_rule,
            max_records,
            max_bytes,
        };
        request.validate()?;
        Ok(request)
    }

    /// The CID of the canonical encoding: the request's identifier.
    pub fn cid(&self) -> Cid {
        cid_of(&self.to_bytes())
    }

    /// The flat-patch rule's ground values (those set in `flat_patch_grounds`), ascending.
    pub fn flat_patch_ground_values(&self) -> Vec<u8> {
        (0..=u8::MAX)
            .filter(|&v| is_ground(&self.flat_patch_grounds, v))
            .collect()
    }

    /// The near-copy rule's points that are on (the patched copies' and the noisy copies').
    pub(super) fn near_copy_points(&self) -> Vec<Nearness> {
        Nearness::points(&[
            (self.near_copy_per_mille, self.near_copy_tolerance),
            (self.noise_copy_per_mille, self.noise_copy_tolerance),
        ])
    }

    /// The levels rule's point, when it is on.
    pub(super) fn levels_points(&self) -> Vec<Nearness> {
        Nearness::points(&[(self.levels_per_mille, self.levels_tolerance)])
    }
}

/// The number of elements above zero in a record (its "ink"): the plausibility measure of the
/// ink rule.
pub fn ink_of(record: &[u8]) -> u32 {
    record.iter().filter(|&&v| v != 0).count() as u32
}

/// Elements per record of `shape`.
fn elements_of(shape: &[u32]) -> Result<u32> {
    shape
        .iter()
        .try_fold(1u32, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| Error::InvalidField {
            what: "record shape",
            detail: format!("{shape:?} overflows"),
        })
}

/// The near-copy tolerance fitted to `dataset` for the rule at `per_mille` with the copy
/// transforms `copy_transforms`: the largest, up to `value_max /`
/// [`NEAR_COPY_TOLERANCE_DIVISOR`], at which no record of the dataset's first
/// [`NEAR_COPY_FIT_RECORDS`] is a near copy of another, nor once transformed as
/// `copy_transforms` says (0 when even exact comparison finds such a pair). The rule then
/// catches copies with small changes to every value (noise within the tolerance) where the
/// dataset's own records are further apart, and rejects none of them: on 32x32 LFW faces it is
/// 15 of 255, on the 8x8 digits 0 of 16 (at 1 some distinct digits would be near copies).
/// Deterministic (integer comparisons in index order); at most 512 * 511 / 2 comparisons per
/// transform and tolerance tried, each stopped once the allowance is exceeded.
pub fn fit_near_copy_tolerance(
    dataset: &Dataset,
    per_mille: u32,
    copy_transforms: u32,
) -> Result<u32> {
    Ok(FitSample::read(dataset, copy_transforms)?.tolerance(per_mille))
}

impl FitSample {
    /// [`fit_near_copy_tolerance`] on the sample.
    fn tolerance(&self, per_mille: u32) -> u32 {
        let (records, transformed) = (&self.records, &self.transformed);
        let allowance = self.size * per_mille.min(999) as usize / 1000;
        let has_near_pair = |tolerance: u8| {
            records
                .iter()
                .zip(transformed)
                .enumerate()
                .any(|(j, (b, forms))| {
                    std::iter::once(b).chain(forms).any(|b| {
                        records[..j]
                            .iter()
                            .any(|a| differing_within(a, b, tolerance, allowance).is_some())
                    })
                })
        };
        // Near pairs only grow with the tolerance: the largest without one, by bisection.
        let most = u8::try_from(self.value_max / NEAR_COPY_TOLERANCE_DIVISOR).unwrap_or(u8::MAX);
        let (mut lo, mut hi) = (0u8, most);
        if has_near_pair(0) {
            return 0;
        }
        while lo < hi {
            let mid = hi - (hi - lo) / 2;
            if has_near_pair(mid) {
                hi = mid - 1;
            } else {
                lo = mid;
            }
        }
        u32::from(lo)
    }
}

/// The near-copy share fitted to `dataset` at `tolerance` with the copy transforms
/// `copy_transforms`: three quarters of the share of elements (in thousandths, rounded down)
/// in which the closest two of the dataset's first [`NEAR_COPY_FIT_RECORDS`] records differ
/// by more than `tolerance`, one of them transformed as `copy_transforms` says or not,
/// kept within [`DEFAULT_NEAR_COPY_PER_MILLE`]`..=`[`MAX_FITTED_NEAR_COPY_PER_MILLE`].
///
/// Why: a record much closer to another than any two of the dataset's records are is that
/// record with part of it changed. A fixed share lets one record be paid for many times over,
/// each time with another part of it changed: on 32x32 faces a 12x12 block changes 14% of a
/// face, two copies blocked in different places differ in up to 28%, while the closest two of
/// 80 LFW faces differ in 40%, so the fitted share is 30% and pays one such copy. On the 8x8
/// digits (closest pair 19%) the share stays at the least. Deterministic (integer counts in
/// index order); at most 512 * 511 / 2 comparisons per transform, each stopped once it exceeds
/// the closest pair so far. A dataset of fewer than 2 records gets the least share.
pub fn fit_near_copy_per_mille(
    dataset: &Dataset,
    tolerance: u32,
    copy_transforms: u32,
) -> Result<u32> {
    Ok(FitSample::read(dataset, copy_transforms)?.share(tolerance))
}

impl FitSample {
    /// [`fit_near_copy_per_mille`] on the sample.
    fn share(&self, tolerance: u32) -> u32 {
        if self.records.len() < 2 || self.size == 0 {
            return DEFAULT_NEAR_COPY_PER_MILLE;
        }
        // Pairs further apart than the largest fitted share comes from do not matter.
        let bound = self.size * (MAX_FITTED_NEAR_COPY_PER_MILLE as usize * 4 / 3) / 1000;
        let closest = self.closest(tolerance, bound);
        let share = closest as u64 * 1000 * 3 / 4 / self.size as u64;
        u32::try_from(share)
            .unwrap_or(u32::MAX)
            .clamp(DEFAULT_NEAR_COPY_PER_MILLE, MAX_FITTED_NEAR_COPY_PER_MILLE)
    }

    /// The fewest elements more than `tolerance` apart in any pair of the sample's records (one
    /// of them transformed or not), or `bound` when no pair is that close.
    fn closest(&self, tolerance: u32, bound: usize) -> usize {
        let tolerance = u8::try_from(tolerance).unwrap_or(u8::MAX);
        let mut closest = bound;
        for (j, (b, forms)) in self.records.iter().zip(&self.transformed).enumerate() {
            for b in std::iter::once(b).chain(forms) {
                for a in &self.records[..j] {
                    if let Some(count) = differing_within(a, b, tolerance, closest) {
                        closest = count as usize;
                    }
                }
            }
        }
        closest
    }
}

/// The near-copy rule's second point fitted to `dataset` with the copy transforms
/// `copy_transforms` (`noise_copy_per_mille`, `noise_copy_tolerance` of a [`DatasetRequest`]),
/// above the first point's tolerance `near_tolerance`: the largest tolerance up to `value_max /`
/// [`NOISE_COPY_TOLERANCE_DIVISOR`] at which the closest two of the dataset's first
/// [`NEAR_COPY_FIT_RECORDS`] records (one of them transformed or not) still lie more than it
/// apart in [`NOISE_COPY_MIN_APART`] elements or more (and 4 thousandths of a record's), and
/// the share a quarter of the elements
/// in which they do (rounded down, at most [`MAX_FITTED_NOISE_COPY_PER_MILLE`]); `(0, 0)`, the
/// point off, when no tolerance above `near_tolerance` leaves them that far apart.
///
/// Why: a copy with noise of up to `t` levels on every element lies within `t` of its record
/// everywhere, while two distinct records lie further apart somewhere. Where records are
/// small and close, as the 8x8 digits are (two of them differ by more than 1 in as few as 6
/// elements of 64), the first point's tolerance must stay at 0 and such copies passed; the
/// digits' second point is a tolerance of 2 with a share of 19 thousandths (the closest
/// pair of the sample lies more than 2 apart in 5 elements: a record within 2 of a dataset
/// record in all but one element is a copy). A quarter, where the levels rule takes half: a
/// record the fit never saw can lie closer to the dataset than any pair in its sample, and
/// among all 1797 digits (and their transforms) two lie more than 2 apart in only 2 elements.
pub fn fit_noise_copy_rule(
    dataset: &Dataset,
    near_tolerance: u32,
    copy_transforms: u32,
) -> Result<(u32, u32)> {
    Ok(FitSample::read(dataset, copy_transforms)?.noise_rule(near_tolerance))
}

impl FitSample {
    /// [`fit_noise_copy_rule`] on the sample: `(per_mille, tolerance)`.
    fn noise_rule(&self, near_tolerance: u32) -> (u32, u32) {
        if self.records.len() < 2 || self.size == 0 {
            return (0, 0);
        }
        // Pairs further apart than the largest fitted share comes from do not matter.
        let bound = self.size * (MAX_FITTED_NOISE_COPY_PER_MILLE as usize * 4) / 1000;
        // A quarter of the closest pair's share must leave one element and one thousandth.
        let min_apart = NOISE_COPY_MIN_APART.max((self.size * 4).div_ceil(1000));
        let bound = bound.max(min_apart);
        let most = (self.value_max / NOISE_COPY_TOLERANCE_DIVISOR).min(254);
        let first = near_tolerance.saturating_add(1);
        if first > most {
            return (0, 0);
        }
        // The closest pair only comes closer as the tolerance grows: the largest tolerance
        // leaving it far enough apart, by bisection; the closest pair at a smaller tolerance
        // bounds the scan at a larger one.
        let mut at_lo = self.closest(first, bound);
        if at_lo < min_apart {
            return (0, 0);
        }
        let (mut lo, mut hi) = (first, most);
        while lo < hi {
            let mid = hi - (hi - lo) / 2;
            let at_mid = self.closest(mid, at_lo);
            if at_mid >= min_apart {
                (lo, at_lo) = (mid, at_mid);
            } else {
                hi = mid - 1;
            }
        }
        let share = at_lo as u64 * 1000 / 4 / self.size as u64;
        let share = u32::try_from(share)
            .unwrap_or(u32::MAX)
            .min(MAX_FITTED_NOISE_COPY_PER_MILLE);
        (share, lo)
    }
}

/// The flat-patch rule fitted to `dataset` (`flat_patch_side`, `flat_patch_grounds` of a
/// [`DatasetRequest`]) on its first [`NEAR_COPY_FIT_RECORDS`] records: the smallest side from 2
/// up at which at most [`FLAT_PATCH_FIT_PER_MILLE`](super::FLAT_PATCH_FIT_PER_MILLE)
/// thousandths of them hold a flat square (every channel one value over it) that is not of the
/// ground, the ground values those at least
/// [`FLAT_GROUND_PER_MILLE`](super::FLAT_GROUND_PER_MILLE) thousandths of them hold flat at
/// that side; `(0, none)`, the rule off, for records that are not images or when no side up to
/// the smaller dimension does.
///
/// Why: a block pasted over an image the dataset never held (or a region blanked out) leaves
/// the rest as it was, and the model's features of the whole image hardly move (before the
/// rule, 55% of held-back faces with a 12x12 block of one value were accepted). Photographs
/// hold flat squares only where a region is clipped or blank, and rarely: on the 80 LFW faces
/// at 32x32 the fitted side is 4 with no ground (one of the 20 held-back faces holds a 5x5
/// square of one bright value and is rejected), at 64x64 it is 6; on the first 512 digits it is 2,
/// with the blank ground (0) and full ink (16) exempt.
pub fn fit_flat_patch_rule(dataset: &Dataset) -> Result<(u32, [u8; FLAT_GROUND_BYTES])> {
    Ok(FitSample::read(dataset, 0)?.flat_patch_rule(&dataset.manifest().shape))
}

/// The flat-patch rule's near point fitted to `dataset` (`near_flat_side`,
/// `near_flat_tolerance` of a [`DatasetRequest`]) on its first [`NEAR_COPY_FIT_RECORDS`]
/// records: the tolerance a sixteenth of the value range and at least 2
/// ([`NEAR_FLAT_TOLERANCE_DIVISOR`](super::NEAR_FLAT_TOLERANCE_DIVISOR),
/// [`NEAR_FLAT_MIN_TOLERANCE`](super::NEAR_FLAT_MIN_TOLERANCE)), the side the smallest from 2
/// up at which at most [`FLAT_PATCH_FIT_PER_MILLE`](super::FLAT_PATCH_FIT_PER_MILLE)
/// thousandths of them hold a square within the tolerance that is not near the ground values
/// [`fit_flat_patch_rule`] fits; `(0, 0)`, the point off, for records that are not images, for
/// a value range of 2 or less, or when no side up to the smaller dimension does.
///
/// Why: the rule's exact point takes a block of one value, and a submitter who knows it gives
/// the block a little texture (a level or two of noise on each value: 55% of held-back faces
/// with a 12x12 block of one level with +-2 of noise, and 51% of held-back digits with a 3x3
/// block with +-1, were accepted with the exact point alone). Real images hold large squares
/// within a small range rarely too.
pub fn fit_near_flat_rule(dataset: &Dataset) -> Result<(u32, u32)> {
    let m = dataset.manifest();
    let sample = FitSample::read(dataset, 0)?;
    let (_, grounds) = sample.flat_patch_rule(&m.shape);
    Ok(sample.near_flat_rule(&m.shape, m.value_max, &grounds))
}

impl FitSample {
    /// [`fit_near_flat_rule`] on the sample's records with the exact point's `grounds`.
    fn near_flat_rule(
        &self,
        shape: &[u32],
        value_max: u32,
        grounds: &[u8; FLAT_GROUND_BYTES],
    ) -> (u32, u32) {
        let fitted = Geometry::of(shape)
            .zip(near_flat_tolerance(value_max))
            .map(|(g, t)| (fit_near_flat_side(&self.records, g, t, grounds), t));
        match fitted {
            Some((side, t)) if side > 0 => (side, t),
            _ => (0, 0),
        }
    }

    /// [`fit_flat_patch_rule`] on the sample's records (not their transforms).
    fn flat_patch_rule(&self, shape: &[u32]) -> (u32, [u8; FLAT_GROUND_BYTES]) {
        match Geometry::of(shape) {
            Some(g) => fit_flat_patch(&self.records, g),
            None => (0, [0u8; FLAT_GROUND_BYTES]),
        }
    }
}

/// The levels rule fitted to `dataset` with the copy transforms `copy_transforms`: its share
/// and tolerance (`levels_per_mille`, `levels_tolerance` of a [`DatasetRequest`]), fitted on
/// the normal forms (brightness and contrast taken out) of the dataset's first
/// [`NEAR_COPY_FIT_RECORDS`] records and of their transforms: the tolerance as
/// [`fit_near_copy_tolerance`] fits it (up to 255 / [`NEAR_COPY_TOLERANCE_DIVISOR`]), the share
/// half of that in which the closest two normal forms differ at that tolerance (at most
/// [`MAX_FITTED_NEAR_COPY_PER_MILLE`]; 0, the rule off, when two of them are equal or the
/// dataset has fewer than 2 records).
///
/// Why half, where the near-copy share takes three quarters: normal forms of distinct records
/// lie closer together than the records (a face lit from another side becomes more like its
/// neighbours), and a record the fit never saw can lie closer to the dataset than any pair in
/// the fit's sample. On 80 LFW faces at 32x32 the tolerance is 13 and the closest pair of
/// normal forms differs in about 16.2% of its elements (the fitted share is 8.1%), while one
/// of 20 held-back faces would be a levels copy of a dataset face from a share of 12.3% on
/// (`tests/growth.rs` prints it): three quarters (about 12.1%) would all but reach it. A
/// copy with its levels changed differs from its record's normal form only where values were
/// clipped or rounded.
pub fn fit_levels_rule(dataset: &Dataset, copy_transforms: u32) -> Result<(u32, u32)> {
    let channels = level_channels(&dataset.manifest().shape);
    Ok(FitSample::read(dataset, copy_transforms)?
        .normalised(channels)
        .levels_rule())
}

impl FitSample {
    /// The sample with every record and transform in its normal form (values up to 255).
    fn normalised(&self, channels: usize) -> FitSample {
        let normal = |r: &Vec<u8>| {
            let mut out = vec![0u8; r.len()];
            normalise_levels(r, channels, &mut out);
            out
        };
        FitSample {
            records: self.records.iter().map(normal).collect(),
            transformed: self
                .transformed
                .iter()
                .map(|forms| forms.iter().map(normal).collect())
                .collect(),
            size: self.size,
            value_max: MAX_LEVELS_TOLERANCE,
        }
    }

    /// [`fit_levels_rule`] on a sample of normal forms: `(per_mille, tolerance)`.
    fn levels_rule(&self) -> (u32, u32) {
        if self.records.len() < 2 || self.size == 0 {
            return (0, 0);
        }
        let tolerance = self.tolerance(DEFAULT_NEAR_COPY_PER_MILLE);
        let bound = self.size * (MAX_FITTED_NEAR_COPY_PER_MILLE as usize * 2) / 1000;
        let closest = self.closest(tolerance, bound);
        let share = closest as u64 * 1000 / 2 / self.size as u64;
        let share = u32::try_from(share)
            .unwrap_or(u32::MAX)
            .min(MAX_FITTED_NEAR_COPY_PER_MILLE);
        (share, tolerance)
    }
}

/// The records the near-copy fits compare (the dataset's first [`NEAR_COPY_FIT_RECORDS`]),
/// and each one's copy transforms (`copy_transforms` less those the records cannot take,
/// [`applicable_transforms`]), in [`copy_transform_sets`] order. Every transform keeps
/// elementwise distances and the set holds each one's inverse, so comparing a record and its
/// transforms with the records before it covers both orders of a pair.
struct FitSample {
    records: Vec<Vec<u8>>,
    /// Per record, its transforms' bytes.
    transformed: Vec<Vec<Vec<u8>>>,
    /// Elements per record.
    size: usize,
    value_max: u32,
}

impl FitSample {
    fn read(dataset: &Dataset, copy_transforms: u32) -> Result<Self> {
        let count = dataset.len().min(NEAR_COPY_FIT_RECORDS);
        let records = (0..count)
            .map(|i| dataset.record(i))
            .collect::<Result<Vec<_>>>()?;
        let m = dataset.manifest();
        let value_max = u8::try_from(m.value_max).unwrap_or(u8::MAX);
        let geometry = Geometry::of(&m.shape);
        let transforms = copy_transform_sets(applicable_transforms(copy_transforms, geometry));
        let transformed = records
            .iter()
            .map(|r| {
                transforms
                    .iter()
                    .map(|&t| {
                        let mut v = vec![0u8; r.len()];
                        transform_record(r, t, geometry, value_max, &mut v);
                        v
                    })
                    .collect()
            })
            .collect();
        Ok(FitSample {
            records,
            transformed,
            size: dataset.record_size(),
            value_max: m.value_max,
        })
    }
}

/// Ink bounds (`ink_min`, `ink_max`) fitted to `dataset`: its records' smallest and largest ink
/// widened by an eighth of the record's elements on each side, the lower bound at least 1. A
/// rule for records of sparse strokes on a blank ground, such as digits, where it rejects blank
/// and dense records; photographs have ink almost everywhere, so it says little about them
/// ([`DatasetRequest::for_dataset`] leaves it off). Reads every record once.
pub fn dataset_ink_bounds(dataset: &Dataset) -> Result<(u32, u32)> {
    let elements = elements_of(&dataset.manifest().shape)?;
    let slack = (elements / 8).max(1);
    let (lo, hi) = ink_range(dataset)?;
    Ok((
        lo.saturating_sub(slack).max(1).min(lo),
        hi.saturating_add(slack).min(elements),
    ))
}

/// The smallest and largest ink of the dataset's records.
fn ink_range(dataset: &Dataset) -> Result<(u32, u32)> {
    let (mut lo, mut hi) = (u32::MAX, 0u32);
    for_each_record(dataset, |_, record| {
        let ink = ink_of(record);
        lo = lo.min(ink);
        hi = hi.max(ink);
        Ok(())
    })?;
    if lo > hi {
        return Err(Error::InvalidParameters("dataset has no records".into()));
    }
    Ok((lo, hi))
}
