//! The judge: the request's model checkpoint scoring submitted records through the
//! [`Critic`] seam (the GAN's discriminator, for the GAN task), in inference form: the
//! critic's normalisation layers use statistics computed from the request's dataset
//! ([`reference_norms`]), so a record's score, hence its verdict, does not depend on the other
//! records submitted with it.

use super::features::{calibrate_distance, FeatureModel};
use super::records::{for_each_record, transform_record};
use super::request::{DatasetRequest, COPY_INVERTED};
use super::submission::{
    finish_verdicts, precheck, DuplicateIndex, Rejection, Submission, Verdict,
};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::ident::cid_of;
use crate::learning::{Batch, ChannelMoments, ChannelSums, Critic, DeviceChoice, TaskSpec};

/// Records per critic forward pass when scoring or computing statistics (memory only: in
/// inference form a record's score does not depend on how records are batched).
pub const SCORE_CHUNK: usize = 256;

/// The share of the dataset's own records, in thousandths, that [`calibrate_threshold`] puts
/// under the threshold by default (2%: about 98% of real records of the dataset's
/// distribution pass the critic).
pub const DEFAULT_REJECT_PER_MILLE: u32 = 20;

/// Calls `f` with the records of `dataset` in order, [`SCORE_CHUNK`] at a time.
fn for_each_chunk(dataset: &Dataset, mut f: impl FnMut(&[&[u8]]) -> Result<()>) -> Result<()> {
    let mut pending: Vec<Vec<u8>> = Vec::with_capacity(SCORE_CHUNK);
    let mut flush = |pending: &mut Vec<Vec<u8>>| -> Result<()> {
        let records: Vec<&[u8]> = pending.iter().map(Vec::as_slice).collect();
        f(&records)?;
        pending.clear();
        Ok(())
    };
    for_each_record(dataset, |_, record| {
        pending.push(record.to_vec());
        if pending.len() == SCORE_CHUNK {
            flush(&mut pending)?;
        }
        Ok(())
    })?;
    if !pending.is_empty() {
        flush(&mut pending)?;
    }
    Ok(())
}

fn batch_of(records: &[&[u8]], size: usize) -> Result<Batch> {
    Batch::from_records(vec![0; records.len()], records.concat(), size)
}

/// The inference-form statistics of the critic's normalisation layers over `dataset`'s
/// records: layer by layer, each layer's per-channel mean and variance over every record (and
/// position) with the layers before it already in inference form. Sums are float64 added in
/// dataset order, so every node computes the same bits. One pass over the dataset per layer
/// (none for a critic without normalisation).
pub fn reference_norms<C: Critic>(
    critic: &C,
    spec: &C::Spec,
    dataset: &Dataset,
) -> Result<Vec<ChannelMoments>> {
    let size = spec.record_size();
    let mut norms = Vec::with_capacity(critic.norm_layers());
    for _ in 0..critic.norm_layers() {
        let mut sums = ChannelSums::default();
        for_each_chunk(dataset, |chunk| {
            sums.add(&critic.norm_sums(&batch_of(chunk, size)?, &norms)?)
        })?;
        norms.push(sums.moments()?);
    }
    Ok(norms)
}

/// The critic's scores of `records` (each of `spec`'s record size) in inference form under
/// `norms` (see [`reference_norms`]): each score depends on its record alone.
pub fn score_records<C: Critic>(
    critic: &C,
    spec: &C::Spec,
    norms: &[ChannelMoments],
    records: &[&[u8]],
) -> Result<Vec<f32>> {
    per_record(spec, records, "scores", |batch| critic.scores(batch, norms))
}

/// The critic's feature vectors of `records` (each of `spec`'s record size) in inference form
/// under `norms`: each depends on its record alone.
pub fn record_features<C: Critic>(
    critic: &C,
    spec: &C::Spec,
    norms: &[ChannelMoments],
    records: &[&[u8]],
) -> Result<Vec<Vec<f64>>> {
    per_record(spec, records, "feature vectors", |batch| {
        critic.features(batch, norms)
    })
}

/// One `what` per record of `records` (each of `spec`'s record size), from `pass` run on
/// [`SCORE_CHUNK`] records at a time.
fn per_record<S: TaskSpec, T>(
    spec: &S,
    records: &[&[u8]],
    what: &str,
    pass: impl Fn(&Batch) -> Result<Vec<T>>,
) -> Result<Vec<T>> {
    let size = spec.record_size();
    if let Some(r) = records.iter().find(|r| r.len() != size) {
        return Err(Error::RecordSize {
            found: r.len() as u64,
            expected: size as u64,
        });
    }
    let mut out = Vec::with_capacity(records.len());
    for chunk in records.chunks(SCORE_CHUNK) {
        let values = pass(&batch_of(chunk, size)?)?;
        if values.len() != chunk.len() {
            return Err(Error::Torch(format!(
                "{} {what} for {} records",
                values.len(),
                chunk.len()
            )));
        }
        out.extend(values);
    }
    Ok(out)
}

/// A threshold that puts `reject_per_mille` thousandths of `dataset`'s own records under it:
/// the score of the record at rank `floor(n * reject_per_mille / 1000)` of the dataset's scores
/// (in inference form under the dataset's own statistics, [`reference_norms`]) sorted
/// ascending (IEEE total order). The requester runs this once and writes the result into the
/// request; nodes only compare against the stored value. One pass over the dataset per
/// normalisation layer, and one to score.
pub fn calibrate_threshold<C: Critic>(
    critic: &C,
    spec: &C::Spec,
    dataset: &Dataset,
    reject_per_mille: u32,
) -> Result<f32> {
    if reject_per_mille >= 1000 {
        return Err(Error::InvalidParameters(format!(
            "reject {reject_per_mille} per mille of the dataset"
        )));
    }
    let norms = reference_norms(critic, spec, dataset)?;
    let mut scores = Vec::with_capacity(dataset.len() as usize);
    for_each_chunk(dataset, |chunk| {
        scores.extend(score_records(critic, spec, &norms, chunk)?);
        Ok(())
    })?;
    if scores.is_empty() {
        return Err(Error::InvalidParameters("dataset has no records".into()));
    }
    scores.sort_by(f32::total_cmp);
    let rank = (scores.len() as u64 * u64::from(reject_per_mille) / 1000) as usize;
    let t = scores[rank.min(scores.len() - 1)];
    if !t.is_finite() {
        return Err(Error::InvalidParameters(format!(
            "calibrated threshold {t} is not finite"
        )));
    }
    Ok(t)
}

/// A request's judge: its checkpoint loaded on the CPU, checked against the request, with the
/// inference-form statistics of the request's dataset ([`reference_norms`]).
///
/// Verdicts follow the exactness of training: the critic runs on exact arithmetic and the
/// statistics are summed in a fixed order, so the same request, dataset, submission and
/// checkpoint give bit-identical scores, hence identical verdicts, on every node and device,
/// even for a score next to the threshold; and a record's verdict is the same whatever else
/// its submission holds. The judge runs on the CPU.
pub struct Judge<C: Critic> {
    request: DatasetRequest,
    spec: C::Spec,
    model: C,
    norms: Vec<ChannelMoments>,
    features: FeatureModel,
    max_distance: Option<f64>,
}

impl<C: Critic> std::fmt::Debug for Judge<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Judge")
            .field("request", &self.request.cid())
            .finish_non_exhaustive()
    }
}

impl<C: Critic> Judge<C> {
    /// Loads the judge of `request` from its task spec and checkpoint bytes (untrusted: the
    /// CID and spec digest must be the request's, the layout the request's, every tensor valid)
    /// and fits, on `dataset`, which must be the version the request names (`request.dataset`):
    /// the statistics ([`reference_norms`]), the feature model of the dataset's records
    /// ([`FeatureModel`]) and, unless the request turns the distance rule off, its threshold
    /// ([`calibrate_distance`]). One pass over the dataset per normalisation layer, one for the
    /// features, and `O(n d^2)` arithmetic for `n` records of `d` features.
    pub fn new(
        request: &DatasetRequest,
        spec: &C::Spec,
        checkpoint: &[u8],
        dataset: &Dataset,
    ) -> Result<Self> {
        request.validate()?;
        if dataset.cid() != request.dataset {
            return Err(Error::DatasetMismatch {
                path: dataset.dir().to_path_buf(),
                detail: format!(
                    "the judge's statistics come from the request's dataset {}, this is {}",
                    request.dataset,
                    dataset.cid()
                ),
            });
        }
        if cid_of(checkpoint) != request.model {
            return Err(Error::InvalidField {
                what: "judge checkpoint",
                detail: format!(
                    "bytes are {}, the request names {}",
                    cid_of(checkpoint),
                    request.model
                ),
            });
        }
        if spec.digest() != request.spec {
            return Err(Error::InvalidField {
                what: "judge spec",
                detail: "digest differs from the request's".into(),
            });
        }
        let (shape, value_max) = C::record_format(spec);
        if request.shape != shape || request.value_max != value_max {
            return Err(Error::InvalidParameters(format!(
                "the judge's records ({shape:?}, values 0..={value_max}) are not the request's ({:?}, 0..={})",
                request.shape, request.value_max
            )));
        }
        let model = C::from_checkpoint(spec, checkpoint, DeviceChoice::Cpu)?;
        let norms = reference_norms(&model, spec, dataset)?;
        let mut own = Vec::with_capacity(dataset.len() as usize);
        for_each_chunk(dataset, |chunk| {
            own.extend(record_features(&model, spec, &norms, chunk)?);
            Ok(())
        })?;
        let rows: Vec<&[f64]> = own.iter().map(Vec::as_slice).collect();
        let features = FeatureModel::fit(&rows)?;
        let max_distance = match request.distance_reject_per_mille {
            0 => None,
            r => Some(calibrate_distance(&rows, r)?),
        };
        Ok(Judge {
            request: request.clone(),
            spec: spec.clone(),
            model,
            norms,
            features,
            max_distance,
        })
    }

    /// The request.
    pub fn request(&self) -> &DatasetRequest {
        &self.request
    }

    /// The judge model.
    pub fn model(&self) -> &C {
        &self.model
    }

    /// The inference-form statistics of the request's dataset ([`reference_norms`]).
    pub fn norms(&self) -> &[ChannelMoments] {
        &self.norms
    }

    /// The largest squared distance the distance rule accepts (None when the request turns the
    /// rule off).
    pub fn max_distance(&self) -> Option<f64> {
        self.max_distance
    }

    /// The number of features the distance rule measures.
    pub fn feature_count(&self) -> usize {
        self.features.dim()
    }

    /// The squared Mahalanobis distances of records of the request's size to the dataset's
    /// features ([`FeatureModel::distance`]).
    pub fn distances(&self, records: &[&[u8]]) -> Result<Vec<f64>> {
        Ok(
            record_features(&self.model, &self.spec, &self.norms, records)?
                .iter()
                .map(|f| self.features.distance(f))
                .collect(),
        )
    }

    /// The distance rule and the negative rule on `records` (each passed [`precheck`], so every
    /// value is at most `value_max`): per record, `None` or the first rule it fails.
    fn feature_rules(&self, records: &[&[u8]]) -> Result<Vec<Option<Rejection>>> {
        let distances = self.distances(records)?;
        let mut verdicts: Vec<Option<Rejection>> = distances
            .iter()
            .map(|&d| {
                let max = self.max_distance?;
                // NaN (not finite features) is unlike too.
                (!d.partial_cmp(&max).is_some_and(|o| o.is_le()))
                    .then_some(Rejection::UnlikeDataset { distance: d as f32 })
            })
            .collect();
        if self.request.negative_rule {
            // The negatives of the records the distance rule let through.
            let value_max = u8::try_from(self.request.value_max).unwrap_or(u8::MAX);
            let within: Vec<usize> = (0..records.len())
                .filter(|&k| verdicts[k].is_none())
                .collect();
            let negatives: Vec<Vec<u8>> = within
                .iter()
                .map(|&k| {
                    let mut negative = vec![0; records[k].len()];
                    transform_record(records[k], COPY_INVERTED, None, value_max, &mut negative);
                    negative
                })
                .collect();
            let slices: Vec<&[u8]> = negatives.iter().map(Vec::as_slice).collect();
            for (&k, negative) in within.iter().zip(self.distances(&slices)?) {
                // A NaN either side compares false: the logit decides.
                if negative < distances[k] {
                    verdicts[k] = Some(Rejection::NegativeCloser {
                        distance: distances[k] as f32,
                        negative: negative as f32,
                    });
                }
            }
        }
        Ok(verdicts)
    }

    /// The critic's scores of records of the request's size ([`score_records`]).
    pub fn scores(&self, records: &[&[u8]]) -> Result<Vec<f32>> {
        score_records(&self.model, &self.spec, &self.norms, records)
    }

    /// The verdict on every record of `submission` against the dataset `index`, when
    /// `accepted_so_far` records were already accepted for the request: [`precheck`], then
    /// the distance rule on the records that pass it ([`Rejection::UnlikeDataset`]), then the
    /// negative rule ([`Rejection::NegativeCloser`]), then the remaining records scored (each
    /// on its own: see [`Judge`]), then [`finish_verdicts`]. An error refuses the whole
    /// submission.
    pub fn check(
        &self,
        index: &DuplicateIndex,
        submission: &Submission,
        accepted_so_far: u64,
    ) -> Result<Vec<Verdict>> {
        let mut prechecked = precheck(&self.request, index, submission)?;
        if self.max_distance.is_some() || self.request.negative_rule {
            let passing: Vec<usize> = (0..prechecked.len())
                .filter(|&i| prechecked[i].is_none())
                .collect();
            let records: Vec<&[u8]> = passing
                .iter()
                .map(|&i| submission.records[i].as_slice())
                .collect();
            for (&i, verdict) in passing.iter().zip(self.feature_rules(&records)?) {
                prechecked[i] = verdict;
            }
        }
        let passing: Vec<&[u8]> = submission
            .records
            .iter()
            .zip(&prechecked)
            .filter(|(_, p)| p.is_none())
            .map(|(r, _)| r.as_slice())
            .collect();
        let logits = self.scores(&passing)?;
        finish_verdicts(&self.request, prechecked, &logits, accepted_so_far)
    }
}
