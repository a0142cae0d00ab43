//! The judge: the request's model checkpoint scoring submitted records through the
//! [`Critic`] seam (the GAN's discriminator, for the GAN task).

use super::records::for_each_record;
use super::request::DatasetRequest;
use super::submission::{finish_verdicts, precheck, DuplicateIndex, Submission, Verdict};
use crate::dataset::Dataset;
use crate::error::{Error, Result};
use crate::ident::cid_of;
use crate::learning::{Batch, Critic, DeviceChoice, TaskSpec};

/// Records per discriminator forward pass. Scoring runs in chunks of exactly this many records
/// in submission order, the last chunk padded with all-zero records, so every forward pass has
/// the same shape whatever the submission's size and a record's logit is a function of the
/// chunk it lands in (fixed by the submission), never of how a node chose to batch. With batch
/// norm in the discriminator (images of 16 pixels and more) a logit depends on its chunk's
/// records; the 8x8 discriminator has none.
pub const SCORE_CHUNK: usize = 256;

/// The share of the dataset's own records, in thousandths, that [`calibrate_threshold`] puts
/// under the threshold by default (2%: about 98% of real records of the dataset's
/// distribution pass the discriminator).
pub const DEFAULT_REJECT_PER_MILLE: u32 = 20;

/// The critic's scores of `records` (each of `spec`'s record size) in canonical chunks of
/// [`SCORE_CHUNK`].
pub fn score_records<C: Critic>(critic: &C, spec: &C::Spec, records: &[&[u8]]) -> Result<Vec<f32>> {
    let size = spec.record_size();
    if let Some(r) = records.iter().find(|r| r.len() != size) {
        return Err(Error::RecordSize {
            found: r.len() as u64,
            expected: size as u64,
        });
    }
    let mut out = Vec::with_capacity(records.len());
    let mut buf = Vec::with_capacity(SCORE_CHUNK * size);
    for chunk in records.chunks(SCORE_CHUNK) {
        buf.clear();
        for r in chunk {
            buf.extend_from_slice(r);
        }
        buf.resize(SCORE_CHUNK * size, 0);
        let batch = Batch::from_records(vec![0; SCORE_CHUNK], std::mem::take(&mut buf), size)?;
        let logits = critic.scores(&batch)?;
        if logits.len() != SCORE_CHUNK {
            return Err(Error::Torch(format!(
                "{} logits for a chunk of {SCORE_CHUNK}",
                logits.len()
            )));
        }
        out.extend_from_slice(&logits[..chunk.len()]);
        buf = batch.records;
    }
    Ok(out)
}

/// A threshold that puts `reject_per_mille` thousandths of `dataset`'s own records under it:
/// the logit of the record at rank `floor(n * reject_per_mille / 1000)` of the dataset's logits
/// sorted ascending (IEEE total order). The requester runs this once and writes the result into
/// the request; nodes only compare against the stored value. Scores every record (O(n)
/// forward passes in chunks).
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
    let mut logits = Vec::with_capacity(dataset.len() as usize);
    let mut pending: Vec<Vec<u8>> = Vec::with_capacity(SCORE_CHUNK);
    for_each_record(dataset, |_, record| {
        pending.push(record.to_vec());
        if pending.len() == SCORE_CHUNK {
            logits.extend(score_records(
                critic,
                spec,
                &pending.iter().map(Vec::as_slice).collect::<Vec<_>>(),
            )?);
            pending.clear();
        }
        Ok(())
    })?;
    logits.extend(score_records(
        critic,
        spec,
        &pending.iter().map(Vec::as_slice).collect::<Vec<_>>(),
    )?);
    if logits.is_empty() {
        return Err(Error::InvalidParameters("dataset has no records".into()));
    }
    logits.sort_by(f32::total_cmp);
    let rank = (logits.len() as u64 * u64::from(reject_per_mille) / 1000) as usize;
    let t = logits[rank.min(logits.len() - 1)];
    if !t.is_finite() {
        return Err(Error::InvalidParameters(format!(
            "calibrated threshold {t} is not finite"
        )));
    }
    Ok(t)
}

/// A request's judge: its checkpoint loaded on the CPU, checked against the request.
///
/// Verdicts follow the exactness of training: the discriminator runs on exact arithmetic, so
/// the same request, dataset version, submission and checkpoint give bit-identical logits,
/// hence identical verdicts, on every node and device, even for a logit next to the
/// threshold. The judge runs on the CPU (scoring is light).
pub struct Judge<C: Critic> {
    request: DatasetRequest,
    spec: C::Spec,
    model: C,
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
    /// CID and spec digest must be the request's, the layout the request's, every tensor valid).
    pub fn new(request: &DatasetRequest, spec: &C::Spec, checkpoint: &[u8]) -> Result<Self> {
        request.validate()?;
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
        Ok(Judge {
            request: request.clone(),
            spec: spec.clone(),
            model,
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

    /// The critic's scores of records of the request's size ([`score_records`]).
    pub fn scores(&self, records: &[&[u8]]) -> Result<Vec<f32>> {
        score_records(&self.model, &self.spec, records)
    }

    /// The verdict on every record of `submission` against the dataset `index`, when
    /// `accepted_so_far` records were already accepted for the request: [`precheck`], then
    /// the records that pass it scored in canonical chunks (in submission order), then
    /// [`finish_verdicts`]. An error refuses the whole submission.
    pub fn check(
        &self,
        index: &DuplicateIndex,
        submission: &Submission,
        accepted_so_far: u64,
    ) -> Result<Vec<Verdict>> {
        let prechecked = precheck(&self.request, index, submission)?;
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
