//! Growing datasets (protocol section 7): the network asks for new records, nodes submit them,
//! the network accepts the plausible ones, appends them with a consistency proof and keeps
//! count of who submitted what.
//!
//! - [`DatasetRequest`]: what is asked for (record layout, target count, judge checkpoint, the
//!   acceptance threshold, the distance rule's rate, ink bounds, the shifted-copy radius, the
//!   near-copy rule, the copy transforms, the levels rule, the flat-patch rule, submission
//!   limits), with a
//!   canonical encoding and a CID.
//! - [`Submission`]: one submitter's records for a request; [`precheck`] (model-free: size,
//!   value range, ink, exact duplicates, translated copies and near copies, of the record and of
//!   its mirror image, upside-down and turned copies and negative, and near copies once
//!   brightness and contrast are taken out, against a [`DuplicateIndex`] of the dataset and
//!   within the submission, and squares of one value, or nearly, pasted over an image) and,
//!   with the `torch` feature, `Judge::check`, which adds the discriminator score and gives a
//!   [`Verdict`] per record.
//! - [`GrowingDataset`]: the crash-safe append (new generation behind an atomic pointer) and its
//!   [`AppendProof`] (RFC 9162 consistency proof from the old root); [`GenerationPointer`] is
//!   the encoding of its `CURRENT` file.
//! - [`Reputation`]: per-submitter counts, the ban and promotion rule, a canonical encoding.
//! - [`RequestVote`]: whether a request becomes active, decided by the miners' signals in their
//!   blocks (BIP9's version-bits state machine with heights, [`VoteState`]).
//! - [`Ledger`]: the credits accepted records earn under each request's [`Budget`], with the
//!   reputation table, applied and reverted block by block ([`LedgerBlock`]).
//!
//! ## Determinism
//! Every node reaches the same verdicts from the same request, dataset version, submission and
//! checkpoint: the model-free checks are exact integer and hash comparisons in submission
//! order, and the discriminator runs on exact arithmetic in inference form: its batch-norm
//! layers use statistics of the request's dataset ([`reference_norms`], float64 sums in
//! dataset order), so a record's score depends on the record alone, not on what else its
//! submission holds (before, batch norm ran over the 256-record scoring chunk, and junk could
//! shift the scores of the good records submitted with it).
//!
//! ## What the model can and cannot judge
//! Two views of the network's model decide, after the rules about the record's format and
//! copies (size, values, exact duplicates, copies shifted by up to `max_shift`, near copies
//! that keep all but a few of a record's elements, and each of these copies mirrored, upside
//! down, turned or inverted; the ink bounds
//! too where a requester sets them, a rule for strokes on a blank ground such as digits):
//! the distance of the critic's features to the dataset's ([`FeatureModel`], fitted by every
//! node on the request's dataset, threshold out of fold) and the critic's logit (threshold
//! calibrated by the requester). `benches/judge.rs` prints what each accepts on faces and on
//! digits (README "Dataset growth" has the table): the distance accepts held-back records and
//! rejects noise, blank images, other kinds of image and noisy copies; a discriminator that
//! memorised a small dataset rejects many unseen records by its logit. Neither catches local
//! damage (a block pasted over a face or a digit) or, reliably, an inverted face: over a
//! dataset record the copy rules catch the block, the mirror image, the turns, the negative
//! and a brighter, darker or weaker copy; over an unseen record the negative rule catches the
//! inversion (the record's negative lies closer to the dataset's features than the record)
//! and the flat-patch rule a block of one value (fitted to the dataset: the smallest square
//! its records hardly ever hold flat, their common flat values exempt) or, at its near point,
//! of values within a small range (a block with a little texture), not a block with a texture
//! wider than that range.

mod append;
mod features;
mod flat;
mod judge;
mod ledger;
mod levels;
mod near;
mod records;
mod reputation;
mod request;
mod submission;
mod vote;

pub use append::{
    AppendProof, AppendStep, GenerationPointer, GrowingDataset, CURRENT_FILE, LOCK_FILE,
};
pub use features::{calibrate_distance, FeatureModel, CALIBRATION_FOLDS};
pub use flat::{
    FLAT_GROUND_BYTES, FLAT_GROUND_PER_MILLE, FLAT_PATCH_FIT_PER_MILLE, NEAR_FLAT_MIN_TOLERANCE,
    NEAR_FLAT_TOLERANCE_DIVISOR,
};
pub use judge::{
    calibrate_threshold, record_features, reference_norms, score_records, Judge,
    DEFAULT_REJECT_PER_MILLE, SCORE_CHUNK,
};
pub use ledger::{
    Budget, Ledger, LedgerBlock, LedgerEntry, RequestAccount, MAX_BLOCK_ENTRIES, MAX_OPEN_REQUESTS,
};
pub use reputation::{Reputation, ReputationRule, Standing, SubmitterCounts, MAX_SUBMITTERS};
pub use request::{
    dataset_ink_bounds, fit_flat_patch_rule, fit_levels_rule, fit_near_copy_per_mille,
    fit_near_copy_tolerance, fit_near_flat_rule, fit_noise_copy_rule, ink_of, DatasetRequest,
    COPY_FLIPPED, COPY_INVERTED, COPY_MIRRORED, COPY_TRANSFORMS_ALL, COPY_TURNED,
    DEFAULT_DISTANCE_REJECT_PER_MILLE, DEFAULT_MAX_RECORDS, DEFAULT_MAX_SHIFT,
    DEFAULT_NEAR_COPY_PER_MILLE, MAX_FITTED_NEAR_COPY_PER_MILLE, MAX_FITTED_NOISE_COPY_PER_MILLE,
    MAX_LEVELS_TOLERANCE, MAX_SHIFT, MAX_SUBMISSION_BYTES, MAX_SUBMISSION_RECORDS,
    NEAR_COPY_FIT_RECORDS, NEAR_COPY_TOLERANCE_DIVISOR, NOISE_COPY_MIN_APART,
    NOISE_COPY_TOLERANCE_DIVISOR,
};
pub use submission::{
    accepted_records, finish_verdicts, precheck, DuplicateIndex, Rejection, Submission, Verdict,
    MAX_SUBMITTER_ID,
};
pub use vote::{
    check_disjoint, signal_word, signal_word_for, signalled_bits, RequestVote, VoteState,
    VoteStatus, MAX_VOTE_WINDOW, SIGNAL_BITS, SIGNAL_TOP_BITS, SIGNAL_TOP_MASK,
};
