//! Growing datasets (protocol section 7): submissions to dataset requests
//! ([`crate::request`]), consistency proofs of appends, submitter reputation and, with the
//! `torch` feature, the judge that checks submissions ([`judge`]).
//!
//! A record's verdict is a `uint32_t`: [`POUW_RECORD_ACCEPTED`] (0) or the stable number of its
//! rejection reason (`POUW_RECORD_*`, 1 to 9 in the order the checks run, then 10, the
//! distance rule, checked before the logit, 11 and 12, the near copies, checked after the
//! shifted copies, 13 and 14, the transformed copies, checked after the near
//! copies, 15, the negative rule, checked after the distance rule, and 16 and 17, the levels
//! rule, checked after the transformed copies).

use crate::boundary::{
    array, buffer_of, decode_into, digest, digest_of, free_handle, guard, handle, out_ptr, slice,
    write_handle,
};
use crate::buffer::pouw_buffer;
use crate::request::pouw_dataset_request;
use crate::result::PouwResult;
use pouw::growth::{
    AppendProof, Rejection, Reputation, ReputationRule, Standing, Submission, Verdict,
};
use pouw::hash::Digest;
use pouw::merkle::verify_consistency;

/// Record verdict: accepted.
pub const POUW_RECORD_ACCEPTED: u32 = 0;
/// Record rejected: its length is not the request's record size.
pub const POUW_RECORD_WRONG_SIZE: u32 = 1;
/// Record rejected: an element is above the request's largest value.
pub const POUW_RECORD_VALUE_OUT_OF_RANGE: u32 = 2;
/// Record rejected: its ink (elements above zero) is outside the request's bounds (blank or
/// dense noise).
pub const POUW_RECORD_INK_OUT_OF_BOUNDS: u32 = 3;
/// Record rejected: byte for byte a record of the dataset.
pub const POUW_RECORD_DUPLICATE_OF_DATASET: u32 = 4;
/// Record rejected: byte for byte an earlier record of the same submission.
pub const POUW_RECORD_DUPLICATE_IN_SUBMISSION: u32 = 5;
/// Record rejected: a dataset record translated by a few pixels.
pub const POUW_RECORD_SHIFTED_COPY_OF_DATASET: u32 = 6;
/// Record rejected: an earlier record of the same submission translated by a few pixels.
pub const POUW_RECORD_SHIFTED_COPY_IN_SUBMISSION: u32 = 7;
/// Record rejected: the judge's discriminator logit is under the request's threshold.
pub const POUW_RECORD_IMPLAUSIBLE: u32 = 8;
/// Record rejected: plausible, but the request already has all the records it wants (does not
/// count against the submitter).
pub const POUW_RECORD_REQUEST_FILLED: u32 = 9;

/// Record rejected: the critic's features of it lie further from the dataset's than the
/// request's distance rule allows (checked after the duplicates, before the logit).
pub const POUW_RECORD_UNLIKE_DATASET: u32 = 10;
/// Record rejected: differs from a dataset record in at most the request's near-copy share of
/// its elements, or lies within its noise-copy tolerance in all but the noise-copy share
/// (checked after the shifted copies).
pub const POUW_RECORD_NEAR_COPY_OF_DATASET: u32 = 11;
/// Record rejected: differs from an earlier record of the same submission in at most the
/// request's near-copy share of its elements, or lies within its noise-copy tolerance in all
/// but the noise-copy share.
pub const POUW_RECORD_NEAR_COPY_IN_SUBMISSION: u32 = 12;
/// Record rejected: transformed (mirrored, upside down, turned or inverted: the request's copy
/// transforms), an exact, shifted or near copy of a dataset record (checked after the near
/// copies).
pub const POUW_RECORD_TRANSFORMED_COPY_OF_DATASET: u32 = 13;
/// Record rejected: transformed, an exact, shifted or near copy of an earlier record
/// of the same submission.
pub const POUW_RECORD_TRANSFORMED_COPY_IN_SUBMISSION: u32 = 14;
/// Record rejected: its negative (each value `v` as the largest value minus `v`) lies closer to
/// the dataset's critic features than the record (the request's negative rule; checked after
/// the distance rule, before the logit).
pub const POUW_RECORD_NEGATIVE_CLOSER: u32 = 15;
/// Record rejected: with brightness and contrast taken out (each channel placed by its median
/// and mean absolute deviation), the record, itself or transformed, differs from a dataset
/// record in at most the request's levels share of its elements (a copy made brighter, darker
/// or with other contrast; checked after the transformed copies).
pub const POUW_RECORD_LEVELS_COPY_OF_DATASET: u32 = 16;
/// Record rejected: as `POUW_RECORD_LEVELS_COPY_OF_DATASET`, of an earlier record of the same
/// submission.
pub const POUW_RECORD_LEVELS_COPY_IN_SUBMISSION: u32 = 17;
/// Record rejected: the image holds a square of the request's flat-patch side over which every
/// channel holds one value, not all of them ground values (a block pasted over it), or one of
/// the near point's side over which every channel's values lie within its tolerance, not near
/// the ground (a block with a little texture); checked after the levels rule.
pub const POUW_RECORD_FLAT_PATCH: u32 = 18;
/// Submitter standing: neither banned nor promoted.
pub const POUW_STANDING_NORMAL: u32 = 0;
/// Submitter standing: banned (its submissions are refused).
pub const POUW_STANDING_BANNED: u32 = 1;
/// Submitter standing: promoted (a reliable submitter).
pub const POUW_STANDING_PROMOTED: u32 = 2;

/// A verdict standing for `code` (payloads zeroed): what reputation counting needs.
pub(crate) fn verdict_of_code(code: u32) -> Option<Verdict> {
    let r = match code {
        POUW_RECORD_ACCEPTED => return Some(Verdict::Accepted { logit: 0.0 }),
        POUW_RECORD_WRONG_SIZE => Rejection::WrongSize {
            found: 0,
            expected: 0,
        },
        POUW_RECORD_VALUE_OUT_OF_RANGE => Rejection::ValueOutOfRange {
            position: 0,
            value: 0,
        },
        POUW_RECORD_INK_OUT_OF_BOUNDS => Rejection::InkOutOfBounds { ink: 0 },
        POUW_RECORD_DUPLICATE_OF_DATASET => Rejection::DuplicateOfDataset,
        POUW_RECORD_DUPLICATE_IN_SUBMISSION => Rejection::DuplicateInSubmission { first: 0 },
        POUW_RECORD_SHIFTED_COPY_OF_DATASET => Rejection::ShiftedCopyOfDataset { dx: 0, dy: 0 },
        POUW_RECORD_SHIFTED_COPY_IN_SUBMISSION => Rejection::ShiftedCopyInSubmission {
            first: 0,
            dx: 0,
            dy: 0,
        },
        POUW_RECORD_IMPLAUSIBLE => Rejection::Implausible { logit: 0.0 },
        POUW_RECORD_REQUEST_FILLED => Rejection::RequestFilled,
        POUW_RECORD_UNLIKE_DATASET => Rejection::UnlikeDataset { distance: 0.0 },
        POUW_RECORD_NEAR_COPY_OF_DATASET => Rejection::NearCopyOfDataset {
            record: 0,
            differing: 0,
        },
        POUW_RECORD_NEAR_COPY_IN_SUBMISSION => Rejection::NearCopyInSubmission {
            first: 0,
            differing: 0,
        },
        POUW_RECORD_TRANSFORMED_COPY_OF_DATASET => {
            Rejection::TransformedCopyOfDataset { transform: 0 }
        }
        POUW_RECORD_TRANSFORMED_COPY_IN_SUBMISSION => Rejection::TransformedCopyInSubmission {
            first: 0,
            transform: 0,
        },
        POUW_RECORD_NEGATIVE_CLOSER => Rejection::NegativeCloser {
            distance: 0.0,
            negative: 0.0,
        },
        POUW_RECORD_LEVELS_COPY_OF_DATASET => Rejection::LevelsCopyOfDataset {
            record: 0,
            transform: 0,
        },
        POUW_RECORD_LEVELS_COPY_IN_SUBMISSION => Rejection::LevelsCopyInSubmission {
            first: 0,
            transform: 0,
        },
        POUW_RECORD_FLAT_PATCH => Rejection::FlatPatch { row: 0, column: 0 },
        _ => return None,
    };
    debug_assert_eq!(r.code(), code);
    Some(Verdict::Rejected(r))
}

pub(crate) fn standing_code(s: Standing) -> u32 {
    match s {
        Standing::Normal => POUW_STANDING_NORMAL,
        Standing::Banned => POUW_STANDING_BANNED,
        Standing::Promoted => POUW_STANDING_PROMOTED,
    }
}

// ---- Submissions ----

/// Records given as one array of bytes and one array of lengths.
///
/// # Safety
/// As [`slice`] and [`array`].
unsafe fn split_records(
    records: *const u8,
    records_len: usize,
    record_lens: *const usize,
    record_count: usize,
) -> Result<Vec<Vec<u8>>, PouwResult> {
    let bytes = slice(records, records_len)?;
    let lens = array(record_lens, record_count)?;
    let total = lens
        .iter()
        .try_fold(0usize, |acc, &n| acc.checked_add(n))
        .ok_or(PouwResult::InvalidArgument)?;
    if total != bytes.len() {
        return Err(PouwResult::InvalidArgument);
    }
    let mut rest = bytes;
    Ok(lens
        .iter()
        .map(|&n| {
            let (record, tail) = rest.split_at(n);
            rest = tail;
            record.to_vec()
        })
        .collect())
}

/// Encodes a submission to `request` by `submitter` (`submitter_len` bytes, 1 to 64) into its
/// canonical bytes, written to a new buffer `*out` (free it with [`pouw_buffer_free`]). The
/// `record_count` records lie one after the other in `records` (`records_len` bytes), record
/// `i` being `record_lens[i]` bytes long (the lengths must sum to `records_len`; records of the
/// wrong size are allowed: they are rejected one by one when checked). A submission over the
/// request's record or byte limits gives `POUW_RESULT_LIMIT_EXCEEDED`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_submission_encode(
    request: *const pouw_dataset_request,
    submitter: *const u8,
    submitter_len: usize,
    records: *const u8,
    records_len: usize,
    record_lens: *const usize,
    record_count: usize,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    guard(|| {
        let request = &handle(request)?.inner;
        let submitter = slice(submitter, submitter_len)?;
        let records = split_records(records, records_len, record_lens, record_count)?;
        out_ptr(out)?;
        let submission = Submission {
            request: request.cid(),
            submitter: submitter.to_vec(),
            records,
        };
        submission.check_envelope(request)?;
        pouw_buffer::write(out, submission.to_bytes());
        Ok(())
    })
}

// ---- Consistency proofs of appends ----

/// The sizes and roots an append proof relates, written by [`pouw_append_proof_verify`].
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_append_proof_info {
    /// Records before the append.
    pub old_size: u64,
    /// Merkle root before the append.
    pub old_root: [u8; 32],
    /// Records after the append.
    pub new_size: u64,
    /// Merkle root after the append.
    pub new_root: [u8; 32],
}

/// Verifies an RFC 9162 consistency proof: the Merkle tree of `old_size` leaves with root
/// `old_root` (32 bytes) is a prefix of the tree of `new_size` leaves with root `new_root` (32
/// bytes). `proof` holds the proof's nodes, 32 bytes each, one after the other (`proof_len`
/// bytes, a multiple of 32, else `POUW_RESULT_INVALID_ARGUMENT`). Returns `POUW_RESULT_OK` when
/// the proof holds, else `POUW_RESULT_CONSISTENCY_MISMATCH` (also for `old_size` 0 or above
/// `new_size`; equal sizes hold only with equal roots and an empty proof). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_verify_consistency(
    old_size: u64,
    old_root: *const u8,
    new_size: u64,
    new_root: *const u8,
    proof: *const u8,
    proof_len: usize,
) -> PouwResult {
    guard(|| {
        let old_root = digest(old_root)?;
        let new_root = digest(new_root)?;
        let proof = slice(proof, proof_len)?;
        if proof.len() % 32 != 0 {
            return Err(PouwResult::InvalidArgument);
        }
        let nodes: Vec<Digest> = proof
            .chunks_exact(32)
            .map(|c| {
                let mut d = [0u8; 32];
                d.copy_from_slice(c);
                d
            })
            .collect();
        verify_consistency(old_size, &old_root, new_size, &new_root, &nodes)?;
        Ok(())
    })
}

/// Decodes an encoded append proof (`proof`, `proof_len` bytes; untrusted: magic `PWAP`, the
/// sizes and roots before and after, the consistency proof's nodes) and verifies it (the new
/// size must be above the old one). On success writes the sizes and roots it relates to
/// `*out_info`: the caller compares them with the manifests or roots it trusts. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_append_proof_verify(
    proof: *const u8,
    proof_len: usize,
    out_info: *mut pouw_append_proof_info,
) -> PouwResult {
    guard(|| {
        let bytes = slice(proof, proof_len)?;
        out_ptr(out_info)?;
        let proof = AppendProof::from_bytes(bytes)?;
        proof.verify()?;
        out_info.write(pouw_append_proof_info {
            old_size: proof.old_size,
            old_root: proof.old_root,
            new_size: proof.new_size,
            new_root: proof.new_root,
        });
        Ok(())
    })
}

// ---- Reputation ----

/// The ban and promotion rule of a reputation table. With `a` accepted and `r` rejected
/// records (rejections other than `POUW_RECORD_REQUEST_FILLED`), `n = a + r`: banned when
/// `r >= ban_min_rejected` and `1000 r > ban_rejected_per_mille * n`; else promoted when
/// `a >= promote_min_accepted` and `1000 r < promote_rejected_per_mille * n`; else normal.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_reputation_rule {
    /// Fewest rejections before a ban (at least 1).
    pub ban_min_rejected: u64,
    /// Rejection rate, in thousandths, above which a submitter is banned (at most 1000).
    pub ban_rejected_per_mille: u32,
    /// Fewest accepted records before a promotion.
    pub promote_min_accepted: u64,
    /// Rejection rate, in thousandths, below which a submitter is promoted (at most the ban
    /// rate).
    pub promote_rejected_per_mille: u32,
}

impl From<ReputationRule> for pouw_reputation_rule {
    fn from(r: ReputationRule) -> Self {
        pouw_reputation_rule {
            ban_min_rejected: r.ban_min_rejected,
            ban_rejected_per_mille: r.ban_rejected_per_mille,
            promote_min_accepted: r.promote_min_accepted,
            promote_rejected_per_mille: r.promote_rejected_per_mille,
        }
    }
}

impl From<pouw_reputation_rule> for ReputationRule {
    fn from(r: pouw_reputation_rule) -> Self {
        ReputationRule {
            ban_min_rejected: r.ban_min_rejected,
            ban_rejected_per_mille: r.ban_rejected_per_mille,
            promote_min_accepted: r.promote_min_accepted,
            promote_rejected_per_mille: r.promote_rejected_per_mille,
        }
    }
}

/// A submitter's counts and standing, written by [`pouw_reputation_standing`].
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Clone, Copy, Debug)]
pub struct pouw_submitter_standing {
    /// Records accepted.
    pub accepted: u64,
    /// Records rejected (reasons that count against the submitter).
    pub rejected: u64,
    /// `POUW_STANDING_NORMAL`, `POUW_STANDING_BANNED` or `POUW_STANDING_PROMOTED`.
    pub standing: u32,
}

/// A reputation table: the rule and every submitter's counts, as a chain persists it in its
/// state (canonical bytes with [`pouw_reputation_to_bytes`]). Reads may run on any number of
/// threads at once; [`pouw_reputation_record`] changes it and must not run alongside any other
/// call on the same table.
#[allow(non_camel_case_types)]
pub struct pouw_reputation {
    inner: Reputation,
}

/// Writes the library's default rule (banned after 20 rejections at a rejection rate over 50%,
/// promoted after 100 accepted records at a rate under 10%) to `*out_rule`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_rule_default(
    out_rule: *mut pouw_reputation_rule,
) -> PouwResult {
    guard(|| {
        out_ptr(out_rule)?;
        out_rule.write(ReputationRule::default().into());
        Ok(())
    })
}

/// Makes an empty table under `rule` (refused with `POUW_RESULT_INVALID_FIELD` when its fields
/// are out of their domains) and writes it to `*out` (free it with [`pouw_reputation_free`]).
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_new(
    rule: *const pouw_reputation_rule,
    out: *mut *mut pouw_reputation,
) -> PouwResult {
    guard(|| {
        let r = *handle(rule)?;
        out_ptr(out)?;
        let inner = Reputation::new(r.into())?;
        write_handle(out, pouw_reputation { inner });
        Ok(())
    })
}

/// Decodes and validates a table from its canonical bytes (`bytes`, `len`; untrusted) and
/// writes it to `*out` (free it with [`pouw_reputation_free`]). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_from_bytes(
    bytes: *const u8,
    len: usize,
    out: *mut *mut pouw_reputation,
) -> PouwResult {
    decode_into(bytes, len, out, |bytes| {
        Ok(pouw_reputation {
            inner: Reputation::from_bytes(bytes)?,
        })
    })
}

/// Writes the canonical encoding of `reputation` to a new buffer `*out` (free it with
/// [`pouw_buffer_free`]). Safe alongside other reads of the table.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_to_bytes(
    reputation: *const pouw_reputation,
    out: *mut *mut pouw_buffer,
) -> PouwResult {
    buffer_of(reputation, out, |reputation| {
        Ok(reputation.inner.to_bytes())
    })
}

/// Writes the digest a chain commits to for `reputation` (32 bytes) to `out_digest`. Safe
/// alongside other reads of the table.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_digest(
    reputation: *const pouw_reputation,
    out_digest: *mut u8,
) -> PouwResult {
    digest_of(reputation, out_digest, |reputation| {
        Ok(reputation.inner.digest())
    })
}

/// Counts a checked submission's verdicts (`codes`, `code_count` record verdict codes as
/// `pouw_judge_check` writes them) for `submitter` (`submitter_len` bytes, 1 to 64) and
/// writes its new standing (`POUW_STANDING_*`) to `*out_standing`. Accepted records count for
/// the submitter, rejections against it, except `POUW_RECORD_REQUEST_FILLED`. Refused, with the
/// table unchanged, for an unknown code (`POUW_RESULT_INVALID_ARGUMENT`), a submitter identifier
/// of the wrong length (`POUW_RESULT_INVALID_FIELD`) or a banned submitter
/// (`POUW_RESULT_INVALID_PARAMETERS`). Not thread-safe: no other call may use the table
/// meanwhile.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_record(
    reputation: *mut pouw_reputation,
    submitter: *const u8,
    submitter_len: usize,
    codes: *const u32,
    code_count: usize,
    out_standing: *mut u32,
) -> PouwResult {
    guard(|| {
        let reputation = reputation.as_mut().ok_or(PouwResult::NullArgument)?;
        let submitter = slice(submitter, submitter_len)?;
        let codes = array(codes, code_count)?;
        out_ptr(out_standing)?;
        let verdicts = codes
            .iter()
            .map(|&c| verdict_of_code(c))
            .collect::<Option<Vec<_>>>()
            .ok_or(PouwResult::InvalidArgument)?;
        let standing = reputation.inner.record(submitter, &verdicts)?;
        *out_standing = standing_code(standing);
        Ok(())
    })
}

/// Writes `submitter`'s (`submitter_len` bytes) counts and standing to `*out` (zero counts and
/// the standing they give for an unknown submitter). Safe alongside other reads of the table.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_standing(
    reputation: *const pouw_reputation,
    submitter: *const u8,
    submitter_len: usize,
    out: *mut pouw_submitter_standing,
) -> PouwResult {
    guard(|| {
        let reputation = &handle(reputation)?.inner;
        let submitter = slice(submitter, submitter_len)?;
        out_ptr(out)?;
        let counts = reputation.counts(submitter);
        out.write(pouw_submitter_standing {
            accepted: counts.accepted,
            rejected: counts.rejected,
            standing: standing_code(reputation.standing(submitter)),
        });
        Ok(())
    })
}

/// Frees a table; NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn pouw_reputation_free(reputation: *mut pouw_reputation) {
    free_handle(reputation);
}

// ---- The judge (libtorch) ----

/// The judge of a request (feature `torch`): its checkpoint's discriminator scoring submitted
/// records, after the model-free checks against the dataset.
#[cfg(feature = "torch")]
pub mod judge {
    use super::POUW_RECORD_ACCEPTED;
    use crate::boundary::{free_handle, guard, handle, out_ptr, slice, write_handle};
    use crate::dataset::pouw_dataset;
    use crate::params::pouw_params;
    #[allow(unused_imports)] // pouw_dataset_request_*: named by doc links
    use crate::request::{
        pouw_dataset_request, pouw_dataset_request_max_records, pouw_dataset_request_new,
    };
    use crate::result::PouwResult;
    use pouw::growth::{
        calibrate_threshold, DuplicateIndex, Judge, Rejection, Submission, Verdict,
    };
    use pouw::learning::gan::GanTrainer;
    use pouw::learning::DeviceChoice;
    use pouw::learning::ProofOfLearning;

    /// A request's judge: the request, its checkpoint loaded on the CPU, and the duplicate
    /// index of the dataset it was made with. Immutable once made: checks may run on any number
    /// of threads at once.
    #[allow(non_camel_case_types)]
    pub struct pouw_judge {
        judge: Judge<GanTrainer>,
        index: DuplicateIndex,
    }

    /// Writes the discriminator logit that puts `reject_per_mille` thousandths (under 1000) of
    /// `dataset`'s own records under it, for the checkpoint `checkpoint` (`checkpoint_len` bytes)
    /// of the task spec of `params`, to `*out_threshold`: the threshold a requester writes into
    /// a request ([`pouw_dataset_request_new`]). Scores every record on the CPU, in inference
    /// form with `dataset`'s own statistics (as the judge does). Thread-safe.
    #[no_mangle]
    pub unsafe extern "C" fn pouw_judge_calibrate_threshold(
        params: *const pouw_params,
        checkpoint: *const u8,
        checkpoint_len: usize,
        dataset: *const pouw_dataset,
        reject_per_mille: u32,
        out_threshold: *mut f32,
    ) -> PouwResult {
        guard(|| {
            let params = &handle(params)?.inner;
            let checkpoint = slice(checkpoint, checkpoint_len)?;
            let dataset = &handle(dataset)?.inner;
            out_ptr(out_threshold)?;
            let trainer = GanTrainer::from_checkpoint(&params.spec, checkpoint, DeviceChoice::Cpu)?;
            *out_threshold =
                calibrate_threshold(&trainer, &params.spec, dataset, reject_per_mille)?;
            Ok(())
        })
    }

    /// Loads the judge of `request`: the checkpoint `checkpoint` (`checkpoint_len` bytes;
    /// untrusted: its CID must be the request's model, else `POUW_RESULT_INVALID_FIELD`) of the
    /// task spec of `params` (whose digest must be the request's), the statistics its critic
    /// scores with (batch norm in inference form, so a record's verdict does not depend on the
    /// rest of its submission) and the duplicate index, both from `dataset`, which must be the
    /// version the request names (else `POUW_RESULT_DATASET_MISMATCH`). Reads every record of
    /// `dataset` once, and once more per normalisation layer of the critic. Writes the judge to
    /// `*out` (free it with [`pouw_judge_free`]); `request`, `params` and `dataset` may be freed
    /// afterwards. Thread-safe.
    #[no_mangle]
    pub unsafe extern "C" fn pouw_judge_new(
        request: *const pouw_dataset_request,
        params: *const pouw_params,
        checkpoint: *const u8,
        checkpoint_len: usize,
        dataset: *const pouw_dataset,
        out: *mut *mut pouw_judge,
    ) -> PouwResult {
        guard(|| {
            let request = &handle(request)?.inner;
            let params = &handle(params)?.inner;
            let checkpoint = slice(checkpoint, checkpoint_len)?;
            let dataset = &handle(dataset)?.inner;
            out_ptr(out)?;
            let judge = Judge::<GanTrainer>::new(request, &params.spec, checkpoint, dataset)?;
            let index = DuplicateIndex::build(dataset, request)?;
            write_handle(out, pouw_judge { judge, index });
            Ok(())
        })
    }

    /// The `uint32_t` code of a record verdict.
    fn verdict_code(v: &Verdict) -> u32 {
        match v {
            Verdict::Accepted { .. } => POUW_RECORD_ACCEPTED,
            Verdict::Rejected(r) => r.code(),
        }
    }

    /// Writes the verdicts: codes to `out_codes`, logits (when asked for) to `out_logits`.
    unsafe fn write_verdicts(
        verdicts: &[Verdict],
        out_codes: *mut u32,
        out_logits: *mut f32,
        out_count: *mut usize,
    ) {
        for (i, v) in verdicts.iter().enumerate() {
            *out_codes.add(i) = verdict_code(v);
            if !out_logits.is_null() {
                *out_logits.add(i) = match v {
                    Verdict::Accepted { logit }
                    | Verdict::Rejected(Rejection::Implausible { logit }) => *logit,
                    Verdict::Rejected(_) => f32::NAN,
                };
            }
        }
        *out_count = verdicts.len();
    }

    /// Checks the output arrays of a check of `count` records (before any work).
    fn check_outputs(
        count: usize,
        out_codes: *mut u32,
        out_codes_len: usize,
        out_logits: *mut f32,
        out_logits_len: usize,
        out_count: *mut usize,
    ) -> Result<(), PouwResult> {
        out_ptr(out_codes)?;
        out_ptr(out_count)?;
        if count > out_codes_len || (!out_logits.is_null() && count > out_logits_len) {
            return Err(PouwResult::BufferTooSmall);
        }
        Ok(())
    }

    unsafe fn run_check(
        judge: &pouw_judge,
        submission: &Submission,
        accepted_so_far: u64,
        out_codes: *mut u32,
        out_logits: *mut f32,
        out_count: *mut usize,
    ) -> Result<(), PouwResult> {
        let verdicts = judge
            .judge
            .check(&judge.index, submission, accepted_so_far)?;
        if verdicts.len() != submission.records.len() {
            return Err(PouwResult::Other);
        }
        write_verdicts(&verdicts, out_codes, out_logits, out_count);
        Ok(())
    }

    /// Checks a submission by `submitter` (`submitter_len` bytes, 1 to 64) to the judge's
    /// request: the records lie one after the other in `records` (`records_len` bytes, a
    /// multiple of `record_size`, which must not be 0), `records_len / record_size` of them, in
    /// submission order; `accepted_so_far` records were already accepted for the request.
    ///
    /// On success writes one verdict per record, in order, to `out_codes` (`out_codes_len`
    /// entries: `POUW_RECORD_ACCEPTED` or a `POUW_RECORD_*` rejection), the discriminator
    /// logits to `out_logits` when it is not NULL (`out_logits_len` entries: the logit of
    /// accepted and implausible records, NaN for the others), and the record count to
    /// `*out_count`. Arrays shorter than the record count give `POUW_RESULT_BUFFER_TOO_SMALL`
    /// before any work. A submission refused as a whole (an empty or long submitter, over the
    /// request's limits) gives its code and writes nothing.
    ///
    /// Deterministic: the same judge, submission and `accepted_so_far` give the same verdicts on
    /// every node. Thread-safe: any number of checks may share a judge.
    #[no_mangle]
    pub unsafe extern "C" fn pouw_judge_check(
        judge: *const pouw_judge,
        submitter: *const u8,
        submitter_len: usize,
        records: *const u8,
        records_len: usize,
        record_size: usize,
        accepted_so_far: u64,
        out_codes: *mut u32,
        out_codes_len: usize,
        out_logits: *mut f32,
        out_logits_len: usize,
        out_count: *mut usize,
    ) -> PouwResult {
        guard(|| {
            let judge = handle(judge)?;
            let submitter = slice(submitter, submitter_len)?;
            let records = slice(records, records_len)?;
            if record_size == 0 || records.len() % record_size != 0 {
                return Err(PouwResult::InvalidArgument);
            }
            check_outputs(
                records.len() / record_size,
                out_codes,
                out_codes_len,
                out_logits,
                out_logits_len,
                out_count,
            )?;
            let submission = Submission {
                request: judge.judge.request().cid(),
                submitter: submitter.to_vec(),
                records: records
                    .chunks_exact(record_size)
                    .map(<[u8]>::to_vec)
                    .collect(),
            };
            run_check(
                judge,
                &submission,
                accepted_so_far,
                out_codes,
                out_logits,
                out_count,
            )
        })
    }

    /// As [`pouw_judge_check`], for a submission in its canonical encoding (`submission`,
    /// `submission_len` bytes; untrusted: it must name the judge's request, and is refused
    /// before allocation when over the request's limits), whose records may have any length.
    /// Arrays of [`pouw_dataset_request_max_records`]
    /// entries fit any acceptable submission; shorter arrays than its record count give
    /// `POUW_RESULT_BUFFER_TOO_SMALL`. Thread-safe.
    #[no_mangle]
    pub unsafe extern "C" fn pouw_judge_check_encoded(
        judge: *const pouw_judge,
        submission: *const u8,
        submission_len: usize,
        accepted_so_far: u64,
        out_codes: *mut u32,
        out_codes_len: usize,
        out_logits: *mut f32,
        out_logits_len: usize,
        out_count: *mut usize,
    ) -> PouwResult {
        guard(|| {
            let judge = handle(judge)?;
            let bytes = slice(submission, submission_len)?;
            check_outputs(
                0,
                out_codes,
                out_codes_len,
                out_logits,
                out_logits_len,
                out_count,
            )?;
            let submission = Submission::from_bytes(bytes, judge.judge.request())?;
            check_outputs(
                submission.records.len(),
                out_codes,
                out_codes_len,
                out_logits,
                out_logits_len,
                out_count,
            )?;
            run_check(
                judge,
                &submission,
                accepted_so_far,
                out_codes,
                out_logits,
                out_count,
            )
        })
    }

    /// Frees a judge; NULL is a no-op. No other thread may be using it.
    #[no_mangle]
    pub unsafe extern "C" fn pouw_judge_free(judge: *mut pouw_judge) {
        free_handle(judge);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `POUW_RECORD_*` numbers are the library's `Rejection::code`s, and every number in
    /// 0..=18 is one.
    #[test]
    fn record_codes_are_the_rejection_codes() {
        for code in 0..=18 {
            match verdict_of_code(code).expect("known code") {
                Verdict::Accepted { .. } => assert_eq!(code, POUW_RECORD_ACCEPTED),
                Verdict::Rejected(r) => assert_eq!(r.code(), code, "{r:?}"),
            }
        }
        assert!(verdict_of_code(19).is_none());
        assert!(verdict_of_code(u32::MAX).is_none());
        assert!(!verdict_of_code(POUW_RECORD_REQUEST_FILLED)
            .map(|v| matches!(v, Verdict::Rejected(r) if r.counts_against()))
            .unwrap());
    }
}
