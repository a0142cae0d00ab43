//go:build cgo

package pouw

// Growing datasets: dataset requests, the judge that checks submissions, consistency proofs of
// appends, and the submitters' reputation.

/*
#include "pouw.h"
*/
import "C"

import (
	"math"
	"runtime"
	"sync"
	"unsafe"
)

// ---- Record verdicts ----

// RecordCode is the verdict on one submitted record: RecordAccepted or the stable number of
// its rejection reason (in the order the checks run).
type RecordCode uint32

// Record verdict codes (the POUW_RECORD_* numbers of include/pouw.h).
const (
	RecordAccepted                RecordCode = C.POUW_RECORD_ACCEPTED
	RecordWrongSize               RecordCode = C.POUW_RECORD_WRONG_SIZE
	RecordValueOutOfRange         RecordCode = C.POUW_RECORD_VALUE_OUT_OF_RANGE
	RecordInkOutOfBounds          RecordCode = C.POUW_RECORD_INK_OUT_OF_BOUNDS
	RecordDuplicateOfDataset      RecordCode = C.POUW_RECORD_DUPLICATE_OF_DATASET
	RecordDuplicateInSubmission   RecordCode = C.POUW_RECORD_DUPLICATE_IN_SUBMISSION
	RecordShiftedCopyOfDataset    RecordCode = C.POUW_RECORD_SHIFTED_COPY_OF_DATASET
	RecordShiftedCopyInSubmission RecordCode = C.POUW_RECORD_SHIFTED_COPY_IN_SUBMISSION
	RecordImplausible             RecordCode = C.POUW_RECORD_IMPLAUSIBLE
	RecordRequestFilled           RecordCode = C.POUW_RECORD_REQUEST_FILLED
	RecordUnlikeDataset           RecordCode = C.POUW_RECORD_UNLIKE_DATASET
	RecordNearCopyOfDataset       RecordCode = C.POUW_RECORD_NEAR_COPY_OF_DATASET
	RecordNearCopyInSubmission    RecordCode = C.POUW_RECORD_NEAR_COPY_IN_SUBMISSION
	// The record, transformed (RequestOptions.CopyTransforms), is an exact, shifted or
	// near copy of a dataset record or of an earlier record of its submission.
	RecordTransformedCopyOfDataset    RecordCode = C.POUW_RECORD_TRANSFORMED_COPY_OF_DATASET
	RecordTransformedCopyInSubmission RecordCode = C.POUW_RECORD_TRANSFORMED_COPY_IN_SUBMISSION
	// The record's negative lies closer to the dataset's critic features than the record
	// (RequestOptions.NegativeRule).
	RecordNegativeCloser RecordCode = C.POUW_RECORD_NEGATIVE_CLOSER
	// With brightness and contrast taken out, the record (itself or transformed) is a near
	// copy of a dataset record or of an earlier record of its submission
	// (RequestOptions.Levels).
	RecordLevelsCopyOfDataset    RecordCode = C.POUW_RECORD_LEVELS_COPY_OF_DATASET
	RecordLevelsCopyInSubmission RecordCode = C.POUW_RECORD_LEVELS_COPY_IN_SUBMISSION
	// The image holds a square of the flat-patch side over which every channel holds one
	// value, not all of them ground values: a block pasted over it (RequestOptions.FlatPatch),
	// or one of the near point's side within its tolerance (RequestOptions.NearFlat).
	RecordFlatPatch RecordCode = C.POUW_RECORD_FLAT_PATCH
)

var recordCodeNames = map[RecordCode]string{
	RecordAccepted:                    "accepted",
	RecordWrongSize:                   "wrong size",
	RecordValueOutOfRange:             "value out of range",
	RecordInkOutOfBounds:              "ink out of bounds",
	RecordDuplicateOfDataset:          "duplicate of a dataset record",
	RecordDuplicateInSubmission:       "duplicate within the submission",
	RecordShiftedCopyOfDataset:        "shifted copy of a dataset record",
	RecordShiftedCopyInSubmission:     "shifted copy within the submission",
	RecordImplausible:                 "implausible (discriminator)",
	RecordRequestFilled:               "request already filled",
	RecordUnlikeDataset:               "unlike the dataset (critic features)",
	RecordNearCopyOfDataset:           "near copy of a dataset record",
	RecordNearCopyInSubmission:        "near copy within the submission",
	RecordTransformedCopyOfDataset:    "transformed copy of a dataset record",
	RecordTransformedCopyInSubmission: "transformed copy within the submission",
	RecordNegativeCloser:              "its negative is closer to the dataset (critic features)",
	RecordLevelsCopyOfDataset:         "copy of a dataset record, levels changed",
	RecordLevelsCopyInSubmission:      "copy within the submission, levels changed",
	RecordFlatPatch:                   "flat patch (a square of one value, or nearly)",
}

// String names the verdict.
func (c RecordCode) String() string {
	if s, ok := recordCodeNames[c]; ok {
		return s
	}
	return "unknown record verdict"
}

// RecordVerdict is the verdict on one submitted record.
type RecordVerdict struct {
	Code RecordCode
	// Logit is the judge's discriminator logit for accepted and implausible records, NaN for
	// records the model-free checks rejected (and for records the filled request turned away).
	Logit float32
}

// Accepted reports whether the record is accepted.
func (v RecordVerdict) Accepted() bool {
	return v.Code == RecordAccepted
}

// ---- Dataset requests ----

// DatasetRequest is what the network asks for and the rule submissions are judged by. Safe for
// concurrent use; Close it when done.
type DatasetRequest struct {
	ptr *C.pouw_dataset_request
}

func (r *DatasetRequest) c() *C.pouw_dataset_request {
	if r == nil {
		return nil
	}
	return r.ptr
}

// RequestOptions changes a dataset request's default rules; a nil or zero field keeps the
// default. The defaults assume nothing about the kind of record: the distance rule at 2% of the
// dataset, the near-copy and levels rules fitted to the dataset, the copy rules applied to
// mirrored, upside-down and turned (images) and inverted records too, the negative rule on, the
// ink rule off, a 2-pixel shifted-copy radius for images, 1024 records per submission.
type RequestOptions struct {
	// DistanceRejectPerMille is the share of the dataset's own records, in thousandths, the
	// distance rule rejects out of fold (nil: 20; 0 turns the rule off).
	DistanceRejectPerMille *uint32
	// Ink bounds the elements above zero a record may have (nil: the rule off; see
	// DatasetInkBounds).
	Ink *InkBounds
	// MaxShift is the shifted-copy rule's radius in pixels (nil: 2 for images; 0 turns it off).
	MaxShift *uint32
	// MaxRecords is the most records in one submission (0: 1024).
	MaxRecords uint32
	// MaxBytes is the most record bytes in one submission (0: MaxRecords records of the
	// dataset's record size, at most 1 GiB).
	MaxBytes uint64
	// NearCopy is the near-copy rule (nil: the tolerance and then the share fitted to the
	// dataset's first 512 records, the share three quarters of the closest two's and at least
	// 15%; PerMille 0 turns it off).
	NearCopy *NearCopyRule
	// CopyTransforms says which transforms of a record the copy rules (exact, shifted and near
	// copies) also check: a set of Copy* bits, every combination of which is checked, or 0
	// (nil: all four for square images, all but CopyTurned for other images, CopyInverted for
	// other shapes).
	CopyTransforms *uint32
	// NegativeRule rejects a record whose negative (each value v as the largest value minus v)
	// lies closer to the dataset's critic features than the record (nil: on).
	NegativeRule *bool
	// Levels is the levels rule: the near-copy comparison on normal forms (each channel placed
	// by its median and mean absolute deviation: brightness and contrast taken out), of the
	// record and of its transforms; Tolerance at most 255 (nil: fitted to the dataset's first
	// 512 records, the share half the closest two normal forms'; PerMille 0 turns it off).
	Levels *NearCopyRule
	// NoiseCopy is the near-copy rule's second point, for copies with noise on every element:
	// a record within Tolerance of a dataset record or an earlier record in all but PerMille
	// thousandths of its elements, itself or transformed (nil: fitted to the dataset's first
	// 512 records, the largest tolerance up to an eighth of the largest value at which the
	// closest two still lie more than it apart in 4 elements and 0.4% of them, the share a
	// quarter of theirs and at most 10%; PerMille 0 turns it off).
	NoiseCopy *NearCopyRule
	// FlatPatch is the flat-patch rule: an image holding a square of Side over which every
	// channel holds one value, not all of them ground values, is rejected (nil: fitted to the
	// dataset's first 512 records, the smallest side at which at most 1% of them hold such a
	// square, the ground the values 10% of them hold flat at that side; off for records that
	// are not images; Side 0 turns it off).
	FlatPatch *FlatPatchRule
	// NearFlat is the flat-patch rule's near point: an image holding a square of Side over
	// which every channel's values lie within Tolerance of each other, not every channel's
	// within it of one ground value, is rejected (nil: fitted to the dataset's first 512
	// records, the tolerance a sixteenth of the largest value and at least 2, the smallest
	// side at which at most 1% of them hold such a square; off for records that are not
	// images; Side 0 with Tolerance 0 turns it off).
	NearFlat *NearFlatRule
}

// NearFlatRule is the flat-patch rule's near point of RequestOptions: Side from 2 to the
// image's smaller dimension and Tolerance from 1 to below the largest value, or both 0 (off).
type NearFlatRule struct {
	Side      uint32
	Tolerance uint32
}

// FlatPatchRule is the flat-patch rule of RequestOptions: Side from 2 to the image's smaller
// dimension, or 0 (off); Grounds one bit per value (bit v%8 of byte v/8), none above the
// largest value, none with the rule off.
type FlatPatchRule struct {
	Side    uint32
	Grounds [32]byte
}

// Copy transform bits of RequestOptions.CopyTransforms.
const (
	// CopyMirrored checks a record's mirror image (each row reversed).
	CopyMirrored uint32 = C.POUW_COPY_MIRRORED
	// CopyInverted checks a record's negative (each value v as the largest value minus v).
	CopyInverted uint32 = C.POUW_COPY_INVERTED
	// CopyFlipped checks a record upside down (the rows in reverse order).
	CopyFlipped uint32 = C.POUW_COPY_FLIPPED
	// CopyTurned checks a record turned a quarter (square images only, and only with
	// CopyMirrored and CopyFlipped: then every turn and reflection of the square).
	CopyTurned uint32 = C.POUW_COPY_TURNED
)

// NearCopyRule rejects a record that differs from a dataset record, or from an earlier record
// of its submission, in at most PerMille thousandths of its elements, two elements differing
// when further apart than Tolerance.
type NearCopyRule struct {
	PerMille, Tolerance uint32
}

// InkBounds are the fewest and most elements above zero a record may have.
type InkBounds struct {
	Min, Max uint32
}

// DatasetInkBounds are ink bounds fitted to d: its records' smallest and largest ink widened by
// an eighth of the record's elements on each side, the lower bound at least 1. For records of
// sparse strokes on a blank ground, such as digits, where they reject blank and dense records.
// Reads every record of d once.
func DatasetInkBounds(d *Dataset) (InkBounds, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var lo, hi C.uint32_t
	err := resultError("dataset ink bounds", C.pouw_dataset_ink_bounds(d.c(), &lo, &hi))
	runtime.KeepAlive(d)
	return InkBounds{uint32(lo), uint32(hi)}, err
}

// NewDatasetRequest asks for targetCount new records for d, judged by the checkpoint of p's task
// spec at discriminator logit threshold (see CalibrateThreshold), its other rules the defaults
// changed by o. Reads the first 512 records of d (to fit the near-copy tolerance). A rule out
// of its domain gives CodeInvalidField.
func NewDatasetRequest(d *Dataset, p *Params, checkpoint []byte, threshold float32, targetCount uint64, o RequestOptions) (*DatasetRequest, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var opts C.pouw_dataset_request_options
	opts.struct_size = C.size_t(unsafe.Sizeof(opts))
	if o.DistanceRejectPerMille != nil {
		opts.set |= C.POUW_REQUEST_OPTION_DISTANCE
		opts.distance_reject_per_mille = C.uint32_t(*o.DistanceRejectPerMille)
	}
	if o.Ink != nil {
		opts.set |= C.POUW_REQUEST_OPTION_INK
		opts.ink_min = C.uint32_t(o.Ink.Min)
		opts.ink_max = C.uint32_t(o.Ink.Max)
	}
	if o.MaxShift != nil {
		opts.set |= C.POUW_REQUEST_OPTION_MAX_SHIFT
		opts.max_shift = C.uint32_t(*o.MaxShift)
	}
	if o.MaxRecords != 0 {
		opts.set |= C.POUW_REQUEST_OPTION_MAX_RECORDS
		opts.max_records = C.uint32_t(o.MaxRecords)
	}
	if o.MaxBytes != 0 {
		opts.set |= C.POUW_REQUEST_OPTION_MAX_BYTES
		opts.max_bytes = C.uint64_t(o.MaxBytes)
	}
	if o.NearCopy != nil {
		opts.set |= C.POUW_REQUEST_OPTION_NEAR_COPY
		opts.near_copy_per_mille = C.uint32_t(o.NearCopy.PerMille)
		opts.near_copy_tolerance = C.uint32_t(o.NearCopy.Tolerance)
	}
	if o.CopyTransforms != nil {
		opts.set |= C.POUW_REQUEST_OPTION_COPY_TRANSFORMS
		opts.copy_transforms = C.uint32_t(*o.CopyTransforms)
	}
	if o.Levels != nil {
		opts.set |= C.POUW_REQUEST_OPTION_LEVELS
		opts.levels_per_mille = C.uint32_t(o.Levels.PerMille)
		opts.levels_tolerance = C.uint32_t(o.Levels.Tolerance)
	}
	if o.NoiseCopy != nil {
		opts.set |= C.POUW_REQUEST_OPTION_NOISE_COPY
		opts.noise_copy_per_mille = C.uint32_t(o.NoiseCopy.PerMille)
		opts.noise_copy_tolerance = C.uint32_t(o.NoiseCopy.Tolerance)
	}
	if o.FlatPatch != nil {
		opts.set |= C.POUW_REQUEST_OPTION_FLAT_PATCH
		opts.flat_patch_side = C.uint32_t(o.FlatPatch.Side)
		for i, b := range o.FlatPatch.Grounds {
			opts.flat_patch_grounds[i] = C.uint8_t(b)
		}
	}
	if o.NearFlat != nil {
		opts.set |= C.POUW_REQUEST_OPTION_NEAR_FLAT
		opts.near_flat_side = C.uint32_t(o.NearFlat.Side)
		opts.near_flat_tolerance = C.uint32_t(o.NearFlat.Tolerance)
	}
	if o.NegativeRule != nil {
		opts.set |= C.POUW_REQUEST_OPTION_NEGATIVE_RULE
		if *o.NegativeRule {
			opts.negative_rule = 1
		}
	}
	cp, cn := bytesPtr(checkpoint)
	var out *C.pouw_dataset_request
	err := resultError("new dataset request", C.pouw_dataset_request_new(d.c(), p.c(), cp, cn, C.float(threshold), C.uint64_t(targetCount), &opts, &out))
	runtime.KeepAlive(d)
	runtime.KeepAlive(p)
	runtime.KeepAlive(checkpoint)
	if err != nil {
		return nil, err
	}
	return &DatasetRequest{ptr: out}, nil
}

// DatasetRequestFromBytes decodes and validates a request's canonical bytes (untrusted).
func DatasetRequestFromBytes(b []byte) (*DatasetRequest, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(b)
	var out *C.pouw_dataset_request
	err := resultError("dataset request from bytes", C.pouw_dataset_request_from_bytes(p, n, &out))
	runtime.KeepAlive(b)
	if err != nil {
		return nil, err
	}
	return &DatasetRequest{ptr: out}, nil
}

// Bytes is the request's canonical encoding (what its CID names).
func (r *DatasetRequest) Bytes() ([]byte, error) {
	return bufferCall("dataset request bytes", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_dataset_request_to_bytes(r.c(), out)
	}, r)
}

// Cid is the request's binary CID, which submissions name.
func (r *DatasetRequest) Cid() ([]byte, error) {
	return bufferCall("dataset request cid", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_dataset_request_cid(r.c(), out)
	}, r)
}

// MaxRecords is the most records one submission to the request may carry.
func (r *DatasetRequest) MaxRecords() (uint32, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var n C.uint32_t
	err := resultError("dataset request max records", C.pouw_dataset_request_max_records(r.c(), &n))
	runtime.KeepAlive(r)
	return uint32(n), err
}

// Close releases the request; no call may be using it. Closing twice or a nil request is a no-op.
func (r *DatasetRequest) Close() {
	if r != nil && r.ptr != nil {
		C.pouw_dataset_request_free(r.ptr)
		r.ptr = nil
	}
}

// flatten lays records one after the other and lists their lengths.
func flatten(records [][]byte) ([]byte, []C.size_t) {
	total := 0
	for _, rec := range records {
		total += len(rec)
	}
	flat := make([]byte, 0, total)
	lens := make([]C.size_t, len(records))
	for i, rec := range records {
		flat = append(flat, rec...)
		lens[i] = C.size_t(len(rec))
	}
	return flat, lens
}

// EncodeSubmission is the canonical encoding of submitter's records for r (records of any
// length; over the request's limits gives CodeLimitExceeded).
func EncodeSubmission(r *DatasetRequest, submitter []byte, records [][]byte) ([]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	flat, lens := flatten(records)
	sp, sn := bytesPtr(submitter)
	fp, fn := bytesPtr(flat)
	lp, ln := sizesPtr(lens)
	var buf *C.pouw_buffer
	err := resultError("encode submission", C.pouw_submission_encode(r.c(), sp, sn, fp, fn, lp, ln, &buf))
	runtime.KeepAlive(r)
	runtime.KeepAlive(submitter)
	runtime.KeepAlive(flat)
	runtime.KeepAlive(lens)
	if err != nil {
		return nil, err
	}
	return takeBuffer(buf), nil
}

// ---- The judge ----

// CalibrateThreshold is the discriminator logit that puts rejectPerMille thousandths of d's own
// records under it, for checkpoint (of p's task spec): the threshold a requester writes into a
// request. Scores every record on the CPU.
func CalibrateThreshold(p *Params, checkpoint []byte, d *Dataset, rejectPerMille uint32) (float32, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cp, cn := bytesPtr(checkpoint)
	var t C.float
	err := resultError("calibrate threshold", C.pouw_judge_calibrate_threshold(p.c(), cp, cn, d.c(), C.uint32_t(rejectPerMille), &t))
	runtime.KeepAlive(p)
	runtime.KeepAlive(checkpoint)
	runtime.KeepAlive(d)
	return float32(t), err
}

// Judge checks submissions to one request: the request's checkpoint on the CPU and the
// duplicate index of a dataset version. Safe for concurrent use; Close it when done.
type Judge struct {
	ptr        *C.pouw_judge
	request    *DatasetRequest // a copy, for encoding submissions of records of several sizes
	maxRecords uint32
}

func (j *Judge) c() *C.pouw_judge {
	if j == nil {
		return nil
	}
	return j.ptr
}

// NewJudge loads the judge of r: checkpoint (untrusted: its CID must be r's model) of p's task
// spec (whose digest must be r's), with the statistics its critic scores with (batch norm in
// inference form: a record's verdict does not depend on the rest of its submission) and the
// duplicate index, both from d, which must be the dataset version r names
// (CodeDatasetMismatch otherwise). r, p and d may be closed afterwards.
func NewJudge(r *DatasetRequest, p *Params, checkpoint []byte, d *Dataset) (*Judge, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cp, cn := bytesPtr(checkpoint)
	var out *C.pouw_judge
	err := resultError("new judge", C.pouw_judge_new(r.c(), p.c(), cp, cn, d.c(), &out))
	runtime.KeepAlive(p)
	runtime.KeepAlive(checkpoint)
	runtime.KeepAlive(d)
	if err != nil {
		return nil, err
	}
	j := &Judge{ptr: out}
	b, err := r.Bytes()
	if err == nil {
		j.request, err = DatasetRequestFromBytes(b)
	}
	if err == nil {
		j.maxRecords, err = j.request.MaxRecords()
	}
	if err != nil {
		j.Close()
		return nil, err
	}
	return j, nil
}

// verdicts turns the first n entries of the C output arrays into Go verdicts.
func verdicts(codes []C.uint32_t, logits []C.float, n int) []RecordVerdict {
	out := make([]RecordVerdict, n)
	for i := range out {
		out[i] = RecordVerdict{Code: RecordCode(codes[i]), Logit: float32(logits[i])}
		if out[i].Code != RecordAccepted && out[i].Code != RecordImplausible {
			out[i].Logit = float32(math.NaN())
		}
	}
	return out
}

// CheckSubmission gives the verdict on each of submitter's records (in order), when
// acceptedSoFar records were already accepted for the request. Records may have any length (a
// record of the wrong size is rejected on its own). A submission refused as a whole (an empty
// or long submitter, over the request's limits) is an error. Deterministic: every node reaches
// the same verdicts.
func (j *Judge) CheckSubmission(submitter []byte, records [][]byte, acceptedSoFar uint64) ([]RecordVerdict, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	size := 0
	for i, rec := range records {
		if i == 0 {
			size = len(rec)
		} else if len(rec) != size {
			size = 0
			break
		}
	}
	if len(records) > 0 && size == 0 {
		// Records of several sizes (or all empty): through the canonical encoding.
		if j == nil {
			return nil, resultError("check submission", C.POUW_RESULT_NULL_ARGUMENT)
		}
		encoded, err := EncodeSubmission(j.request, submitter, records)
		if err != nil {
			return nil, err
		}
		return j.CheckEncodedSubmission(encoded, acceptedSoFar)
	}
	if size == 0 {
		size = 1 // no records: any size
	}
	flat, _ := flatten(records)
	n := len(records)
	// One spare entry: the arrays are never empty, so &codes[0] is always valid.
	codes, logits := make([]C.uint32_t, n+1), make([]C.float, n+1)
	sp, sn := bytesPtr(submitter)
	fp, fn := bytesPtr(flat)
	var count C.size_t
	r := C.pouw_judge_check(j.c(), sp, sn, fp, fn, C.size_t(size), C.uint64_t(acceptedSoFar),
		&codes[0], C.size_t(n), &logits[0], C.size_t(n), &count)
	runtime.KeepAlive(j)
	runtime.KeepAlive(submitter)
	runtime.KeepAlive(flat)
	if err := resultError("check submission", r); err != nil {
		return nil, err
	}
	return verdicts(codes, logits, int(count)), nil
}

// CheckEncodedSubmission is CheckSubmission for a submission in its canonical encoding as
// received from the network (untrusted: it must name the judge's request, and is refused
// before allocation when over the request's limits).
func (j *Judge) CheckEncodedSubmission(submission []byte, acceptedSoFar uint64) ([]RecordVerdict, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if j == nil {
		return nil, resultError("check encoded submission", C.POUW_RESULT_NULL_ARGUMENT)
	}
	n := int(j.maxRecords)
	codes, logits := make([]C.uint32_t, n+1), make([]C.float, n+1)
	p, l := bytesPtr(submission)
	var count C.size_t
	r := C.pouw_judge_check_encoded(j.c(), p, l, C.uint64_t(acceptedSoFar), &codes[0], C.size_t(n), &logits[0], C.size_t(n), &count)
	runtime.KeepAlive(j)
	runtime.KeepAlive(submission)
	if err := resultError("check encoded submission", r); err != nil {
		return nil, err
	}
	return verdicts(codes, logits, int(count)), nil
}

// Close releases the judge; no call may be using it. Closing twice or a nil Judge is a no-op.
func (j *Judge) Close() {
	if j != nil && j.ptr != nil {
		C.pouw_judge_free(j.ptr)
		j.ptr = nil
		j.request.Close()
	}
}

// ---- Consistency proofs of appends ----

// VerifyConsistency checks an RFC 9162 consistency proof: the Merkle tree of oldSize leaves
// with root oldRoot is a prefix of the tree of newSize leaves with root newRoot. A failing
// proof is an *Error with CodeConsistencyMismatch.
func VerifyConsistency(oldSize uint64, oldRoot [32]byte, newSize uint64, newRoot [32]byte, proof [][32]byte) error {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	flat := make([]byte, 0, 32*len(proof))
	for i := range proof {
		flat = append(flat, proof[i][:]...)
	}
	p, n := bytesPtr(flat)
	r := C.pouw_verify_consistency(C.uint64_t(oldSize), digestPtr(&oldRoot), C.uint64_t(newSize), digestPtr(&newRoot), p, n)
	runtime.KeepAlive(flat)
	return resultError("verify consistency", r)
}

// AppendProofInfo is what a verified append proof relates: compare it with the roots you trust.
type AppendProofInfo struct {
	OldSize uint64
	OldRoot [32]byte
	NewSize uint64
	NewRoot [32]byte
}

// VerifyAppendProof decodes an encoded append proof (untrusted) and verifies it.
func VerifyAppendProof(proof []byte) (*AppendProofInfo, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(proof)
	var info C.pouw_append_proof_info
	err := resultError("verify append proof", C.pouw_append_proof_verify(p, n, &info))
	runtime.KeepAlive(proof)
	if err != nil {
		return nil, err
	}
	out := &AppendProofInfo{OldSize: uint64(info.old_size), NewSize: uint64(info.new_size)}
	for i := range out.OldRoot {
		out.OldRoot[i] = byte(info.old_root[i])
		out.NewRoot[i] = byte(info.new_root[i])
	}
	return out, nil
}

// ---- Reputation ----

// Standing is where a submitter stands under a reputation rule.
type Standing uint32

// Standings.
const (
	StandingNormal   Standing = C.POUW_STANDING_NORMAL
	StandingBanned   Standing = C.POUW_STANDING_BANNED
	StandingPromoted Standing = C.POUW_STANDING_PROMOTED
)

// String names the standing.
func (s Standing) String() string {
	switch s {
	case StandingNormal:
		return "normal"
	case StandingBanned:
		return "banned"
	case StandingPromoted:
		return "promoted"
	}
	return "unknown standing"
}

// ReputationRule bans and promotes submitters: with a accepted and r rejected records (every
// rejection but RecordRequestFilled), banned when r >= BanMinRejected and the rejection rate is
// over BanRejectedPerMille thousandths; else promoted when a >= PromoteMinAccepted and the rate
// is under PromoteRejectedPerMille thousandths.
type ReputationRule struct {
	BanMinRejected          uint64
	BanRejectedPerMille     uint32
	PromoteMinAccepted      uint64
	PromoteRejectedPerMille uint32
}

// DefaultReputationRule is the library's default rule.
func DefaultReputationRule() (ReputationRule, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var r C.pouw_reputation_rule
	if err := resultError("default reputation rule", C.pouw_reputation_rule_default(&r)); err != nil {
		return ReputationRule{}, err
	}
	return ReputationRule{
		BanMinRejected:          uint64(r.ban_min_rejected),
		BanRejectedPerMille:     uint32(r.ban_rejected_per_mille),
		PromoteMinAccepted:      uint64(r.promote_min_accepted),
		PromoteRejectedPerMille: uint32(r.promote_rejected_per_mille),
	}, nil
}

// SubmitterStanding is a submitter's counts and standing.
type SubmitterStanding struct {
	Accepted uint64
	Rejected uint64
	Standing Standing
}

// Reputation is a table of submitters' counts under a rule, as a chain persists it (Bytes).
// Safe for concurrent use (Record is serialised with every other call); Close it when done.
type Reputation struct {
	mu  sync.RWMutex
	ptr *C.pouw_reputation
}

func (r *Reputation) c() *C.pouw_reputation {
	if r == nil {
		return nil
	}
	return r.ptr
}

// NewReputation is an empty table under rule (an invalid rule gives CodeInvalidField).
func NewReputation(rule ReputationRule) (*Reputation, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cr := C.pouw_reputation_rule{
		ban_min_rejected:           C.uint64_t(rule.BanMinRejected),
		ban_rejected_per_mille:     C.uint32_t(rule.BanRejectedPerMille),
		promote_min_accepted:       C.uint64_t(rule.PromoteMinAccepted),
		promote_rejected_per_mille: C.uint32_t(rule.PromoteRejectedPerMille),
	}
	var out *C.pouw_reputation
	if err := resultError("new reputation", C.pouw_reputation_new(&cr, &out)); err != nil {
		return nil, err
	}
	return &Reputation{ptr: out}, nil
}

// ReputationFromBytes decodes and validates a table's canonical bytes (untrusted).
func ReputationFromBytes(b []byte) (*Reputation, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(b)
	var out *C.pouw_reputation
	err := resultError("reputation from bytes", C.pouw_reputation_from_bytes(p, n, &out))
	runtime.KeepAlive(b)
	if err != nil {
		return nil, err
	}
	return &Reputation{ptr: out}, nil
}

// Bytes is the table's canonical encoding.
func (r *Reputation) Bytes() ([]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if r == nil {
		return nil, resultError("reputation bytes", C.POUW_RESULT_NULL_ARGUMENT)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	var buf *C.pouw_buffer
	if err := resultError("reputation bytes", C.pouw_reputation_to_bytes(r.c(), &buf)); err != nil {
		return nil, err
	}
	return takeBuffer(buf), nil
}

// Digest is the digest a chain commits to for the table.
func (r *Reputation) Digest() ([32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var d [32]byte
	if r == nil {
		return d, resultError("reputation digest", C.POUW_RESULT_NULL_ARGUMENT)
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	err := resultError("reputation digest", C.pouw_reputation_digest(r.c(), digestPtr(&d)))
	return d, err
}

// Record counts a checked submission's verdicts for submitter and returns its new standing.
// Refused, the table unchanged, for a banned submitter (CodeInvalidParameters), an identifier
// of the wrong length (CodeInvalidField) or an unknown code (CodeInvalidArgument).
func (r *Reputation) Record(submitter []byte, verdicts []RecordVerdict) (Standing, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if r == nil {
		return 0, resultError("reputation record", C.POUW_RESULT_NULL_ARGUMENT)
	}
	codes := make([]C.uint32_t, len(verdicts)+1)
	for i, v := range verdicts {
		codes[i] = C.uint32_t(v.Code)
	}
	sp, sn := bytesPtr(submitter)
	r.mu.Lock()
	defer r.mu.Unlock()
	var s C.uint32_t
	err := resultError("reputation record", C.pouw_reputation_record(r.c(), sp, sn, &codes[0], C.size_t(len(verdicts)), &s))
	runtime.KeepAlive(submitter)
	return Standing(s), err
}

// Standing is submitter's counts and standing (zero counts for an unknown submitter).
func (r *Reputation) Standing(submitter []byte) (SubmitterStanding, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if r == nil {
		return SubmitterStanding{}, resultError("reputation standing", C.POUW_RESULT_NULL_ARGUMENT)
	}
	sp, sn := bytesPtr(submitter)
	r.mu.RLock()
	defer r.mu.RUnlock()
	var s C.pouw_submitter_standing
	err := resultError("reputation standing", C.pouw_reputation_standing(r.c(), sp, sn, &s))
	runtime.KeepAlive(submitter)
	return SubmitterStanding{Accepted: uint64(s.accepted), Rejected: uint64(s.rejected), Standing: Standing(s.standing)}, err
}

// Close releases the table. Closing twice or a nil table is a no-op.
func (r *Reputation) Close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ptr != nil {
		C.pouw_reputation_free(r.ptr)
		r.ptr = nil
	}
}
