//go:build cgo

package pouw

/*
#include "pouw.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// ErrInvalid is what a failed verification (Verify, VerifyRecordFree, Audit, VerifyFraudProof)
// matches with errors.Is when it found the block, or the fraud proof, invalid: the same on
// every honest node; reject it and remember it. Any other failure of those calls means this
// node could not decide (a store miss or timeout, a peer's wrong bytes, I/O, cancellation, its
// device or dataset): it matches ErrUndecided; retry or fetch elsewhere, and never mark the
// block bad for it.
var ErrInvalid = errors.New("pouw: invalid")

// ErrUndecided is what a failed verification matches when this node could not decide (see
// ErrInvalid).
var ErrUndecided = errors.New("pouw: could not decide")

// Code is a C result code (pouw_result). Numbers are stable and never reused.
type Code uint32

// The result codes of the C API (see include/pouw.h for each one's meaning).
const (
	CodeOK                     Code = C.POUW_RESULT_OK
	CodeNullArgument           Code = C.POUW_RESULT_NULL_ARGUMENT
	CodeInvalidArgument        Code = C.POUW_RESULT_INVALID_ARGUMENT
	CodePanic                  Code = C.POUW_RESULT_PANIC
	CodeIo                     Code = C.POUW_RESULT_IO
	CodeBufferTooSmall         Code = C.POUW_RESULT_BUFFER_TOO_SMALL
	CodeCancelled              Code = C.POUW_RESULT_CANCELLED
	CodeStepLimit              Code = C.POUW_RESULT_STEP_LIMIT
	CodeTruncated              Code = C.POUW_RESULT_TRUNCATED
	CodeTrailingBytes          Code = C.POUW_RESULT_TRAILING_BYTES
	CodeBadMagic               Code = C.POUW_RESULT_BAD_MAGIC
	CodeUnsupportedVersion     Code = C.POUW_RESULT_UNSUPPORTED_VERSION
	CodeLimitExceeded          Code = C.POUW_RESULT_LIMIT_EXCEEDED
	CodeInvalidField           Code = C.POUW_RESULT_INVALID_FIELD
	CodeIndexOutOfRange        Code = C.POUW_RESULT_INDEX_OUT_OF_RANGE
	CodeProofLength            Code = C.POUW_RESULT_PROOF_LENGTH
	CodeRootMismatch           Code = C.POUW_RESULT_ROOT_MISMATCH
	CodeIndicesNotAscending    Code = C.POUW_RESULT_INDICES_NOT_ASCENDING
	CodeConsistencyMismatch    Code = C.POUW_RESULT_CONSISTENCY_MISMATCH
	CodeRecordCorrupt          Code = C.POUW_RESULT_RECORD_CORRUPT
	CodeTreeCorrupt            Code = C.POUW_RESULT_TREE_CORRUPT
	CodeDatasetMismatch        Code = C.POUW_RESULT_DATASET_MISMATCH
	CodeImport                 Code = C.POUW_RESULT_IMPORT
	CodeLocked                 Code = C.POUW_RESULT_LOCKED
	CodeLedgerRefused          Code = C.POUW_RESULT_LEDGER_REFUSED
	CodeChallengeIndexMismatch Code = C.POUW_RESULT_CHALLENGE_INDEX_MISMATCH
	CodeChallengeCount         Code = C.POUW_RESULT_CHALLENGE_COUNT
	CodeRecordSize             Code = C.POUW_RESULT_RECORD_SIZE
	CodeInvalidParameters      Code = C.POUW_RESULT_INVALID_PARAMETERS
	CodeCheckpointTensor       Code = C.POUW_RESULT_CHECKPOINT_TENSOR
	CodeCheckpointDigest       Code = C.POUW_RESULT_CHECKPOINT_DIGEST
	CodeStepMismatch           Code = C.POUW_RESULT_STEP_MISMATCH
	CodeWrongBatch             Code = C.POUW_RESULT_WRONG_BATCH
	CodeTorch                  Code = C.POUW_RESULT_TORCH
	CodeBinding                Code = C.POUW_RESULT_BINDING
	CodeTicketAboveTarget      Code = C.POUW_RESULT_TICKET_ABOVE_TARGET
	CodeNonFinite              Code = C.POUW_RESULT_NON_FINITE
	CodeDeviceArithmetic       Code = C.POUW_RESULT_DEVICE_ARITHMETIC
	CodeStepCounter            Code = C.POUW_RESULT_STEP_COUNTER
	CodeNotFraud               Code = C.POUW_RESULT_NOT_FRAUD
	CodeEarlierWinningTicket   Code = C.POUW_RESULT_EARLIER_WINNING_TICKET
	CodeDegenerateState        Code = C.POUW_RESULT_DEGENERATE_STATE
	CodeNotFound               Code = C.POUW_RESULT_NOT_FOUND
	CodeBadBlock               Code = C.POUW_RESULT_BAD_BLOCK
	CodeTimeout                Code = C.POUW_RESULT_TIMEOUT
	CodeStore                  Code = C.POUW_RESULT_STORE
	CodeOther                  Code = C.POUW_RESULT_OTHER
)

// String is the library's message for the code.
func (c Code) String() string {
	return message(c)
}

// Error is a failed call: the C result code, its message and the operation.
type Error struct {
	// Code is the C result code.
	Code Code
	// Message is the library's description of Code.
	Message string
	// Op names the call that failed, e.g. "verify".
	Op string
	// Detail is the failure with its context (which field, which step, which file), as the
	// library reports it; empty when the failure arose outside the library.
	Detail string
	// cause is what led to it, when known outside the library (a context's error).
	cause error
}

// Error formats the failure.
func (e *Error) Error() string {
	if e.Detail != "" && e.Detail != e.Message {
		return fmt.Sprintf("pouw: %s: %s (code %d)", e.Op, e.Detail, uint32(e.Code))
	}
	return fmt.Sprintf("pouw: %s: %s (code %d)", e.Op, e.Message, uint32(e.Code))
}

// Unwrap returns the cause (the context's error for a cancelled Mine), if any.
func (e *Error) Unwrap() error {
	return e.cause
}

// Is matches another *Error by code, so errors.Is(err, &pouw.Error{Code: pouw.CodeBinding})
// works (see also IsCode); ErrNotFound and ErrTimeout match CodeNotFound and CodeTimeout;
// ErrInvalid matches the codes of an invalid block (pouw_result_is_rejection), ErrUndecided
// every other failure.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Code == CodeNotFound
	case ErrTimeout:
		return e.Code == CodeTimeout
	case ErrInvalid:
		return e.Rejection()
	case ErrUndecided:
		return e.Code != CodeOK && !e.Rejection()
	}
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Rejection reports whether the failure is a verification's finding that the block (or fraud
// proof) is invalid (see ErrInvalid).
func (e *Error) Rejection() bool {
	return bool(C.pouw_result_is_rejection(C.uint32_t(e.Code)))
}

// IsCode reports whether err is (or wraps) an *Error with code c.
func IsCode(err error, c Code) bool {
	for err != nil {
		if e, ok := err.(*Error); ok {
			return e.Code == c
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}
