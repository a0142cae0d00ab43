//go:build cgo

package pouw

// The growth ledger: credits for accepted records under each request's budget, with the
// submitters' reputation, applied and reverted block by block.

/*
#include "pouw.h"
*/
import "C"

import (
	"runtime"
	"sync"
)

// RequestAccount is an open request's account: its Target, the Price of an accepted record,
// the Limit of records it pays for (the target cut to what its cap pays for), the records
// Accepted so far, and AcceptedForJudge, the acceptedSoFar to give Judge.CheckSubmission so
// that it accepts no more records than the budget still pays for.
type RequestAccount struct {
	Open             bool
	Target           uint64
	Price            uint64
	Limit            uint64
	Accepted         uint64
	AcceptedForJudge uint64
}

// Ledger holds the open requests' accounts, the submitters' credits and their reputation, as
// of the last chain block it applied. Safe for concurrent use (Apply and Revert are serialised
// with every other call); Close it when done.
type Ledger struct {
	mu  sync.RWMutex
	ptr *C.pouw_ledger
}

func (l *Ledger) c() *C.pouw_ledger {
	if l == nil {
		return nil
	}
	return l.ptr
}

// NewLedger is an empty ledger at the chain's genesis block (height 0) under the reputation
// rule.
func NewLedger(rule ReputationRule, genesis [32]byte) (*Ledger, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cr := C.pouw_reputation_rule{
		ban_min_rejected:           C.uint64_t(rule.BanMinRejected),
		ban_rejected_per_mille:     C.uint32_t(rule.BanRejectedPerMille),
		promote_min_accepted:       C.uint64_t(rule.PromoteMinAccepted),
		promote_rejected_per_mille: C.uint32_t(rule.PromoteRejectedPerMille),
	}
	var out *C.pouw_ledger
	if err := resultError("new ledger", C.pouw_ledger_new(&cr, digestPtr(&genesis), &out)); err != nil {
		return nil, err
	}
	return &Ledger{ptr: out}, nil
}

// LedgerFromBytes decodes and validates a ledger's canonical bytes (untrusted).
func LedgerFromBytes(b []byte) (*Ledger, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(b)
	var out *C.pouw_ledger
	err := resultError("ledger from bytes", C.pouw_ledger_from_bytes(p, n, &out))
	runtime.KeepAlive(b)
	if err != nil {
		return nil, err
	}
	return &Ledger{ptr: out}, nil
}

// Bytes is the ledger's canonical encoding.
func (l *Ledger) Bytes() ([]byte, error) {
	if l == nil {
		return nil, nullError("ledger bytes")
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return bufferCall("ledger bytes", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_ledger_to_bytes(l.c(), out)
	}, l)
}

// Digest is the digest a chain commits to for the ledger.
func (l *Ledger) Digest() ([32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var d [32]byte
	if l == nil {
		return d, nullError("ledger digest")
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return d, resultError("ledger digest", C.pouw_ledger_digest(l.c(), digestPtr(&d)))
}

// Tip is the height and identifier of the last block the ledger applied.
func (l *Ledger) Tip() (uint64, [32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var tip [32]byte
	if l == nil {
		return 0, tip, nullError("ledger tip")
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	var h C.uint64_t
	err := resultError("ledger tip", C.pouw_ledger_tip(l.c(), &h, digestPtr(&tip)))
	return uint64(h), tip, err
}

// Apply applies a block's canonical bytes (LedgerBlock.Bytes; untrusted) on top of the tip:
// every entry, or none (CodeLedgerRefused when one is refused).
func (l *Ledger) Apply(block []byte) error {
	return l.change("ledger apply", block, func(p *C.uint8_t, n C.size_t) C.pouw_result {
		return C.pouw_ledger_apply(l.c(), p, n)
	})
}

// Revert undoes the tip block, given the same bytes that were applied; its parent becomes the
// tip (CodeLedgerRefused, the ledger unchanged, for any other block).
func (l *Ledger) Revert(block []byte) error {
	return l.change("ledger revert", block, func(p *C.uint8_t, n C.size_t) C.pouw_result {
		return C.pouw_ledger_revert(l.c(), p, n)
	})
}

func (l *Ledger) change(op string, block []byte, call func(*C.uint8_t, C.size_t) C.pouw_result) error {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if l == nil {
		return nullError(op)
	}
	p, n := bytesPtr(block)
	l.mu.Lock()
	defer l.mu.Unlock()
	err := resultError(op, call(p, n))
	runtime.KeepAlive(block)
	return err
}

// Credits is what submitter has earned (0 when unknown).
func (l *Ledger) Credits(submitter []byte) (uint64, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if l == nil {
		return 0, nullError("ledger credits")
	}
	p, n := bytesPtr(submitter)
	l.mu.RLock()
	defer l.mu.RUnlock()
	var c C.uint64_t
	err := resultError("ledger credits", C.pouw_ledger_credits(l.c(), p, n, &c))
	runtime.KeepAlive(submitter)
	return uint64(c), err
}

// Request is the account of the request whose binary CID is requestCid (Open false when it is
// not open).
func (l *Ledger) Request(requestCid []byte) (RequestAccount, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if l == nil {
		return RequestAccount{}, nullError("ledger request")
	}
	p, n := bytesPtr(requestCid)
	l.mu.RLock()
	defer l.mu.RUnlock()
	var a C.pouw_request_account
	err := resultError("ledger request", C.pouw_ledger_request(l.c(), p, n, &a))
	runtime.KeepAlive(requestCid)
	return RequestAccount{
		Open:             bool(a.open),
		Target:           uint64(a.target),
		Price:            uint64(a.price),
		Limit:            uint64(a.limit),
		Accepted:         uint64(a.accepted),
		AcceptedForJudge: uint64(a.accepted_for_judge),
	}, err
}

// Standing is submitter's counts and standing in the ledger's reputation table.
func (l *Ledger) Standing(submitter []byte) (SubmitterStanding, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	if l == nil {
		return SubmitterStanding{}, nullError("ledger standing")
	}
	p, n := bytesPtr(submitter)
	l.mu.RLock()
	defer l.mu.RUnlock()
	var s C.pouw_submitter_standing
	err := resultError("ledger standing", C.pouw_ledger_standing(l.c(), p, n, &s))
	runtime.KeepAlive(submitter)
	return SubmitterStanding{Accepted: uint64(s.accepted), Rejected: uint64(s.rejected), Standing: Standing(s.standing)}, err
}

// Close releases the ledger. Closing twice or a nil ledger is a no-op.
func (l *Ledger) Close() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ptr != nil {
		C.pouw_ledger_free(l.ptr)
		l.ptr = nil
	}
}

// LedgerEntry is one change a block makes: opening a request (Open true: Price credits per
// accepted record, Cap in all) or settling Submitter's submission from its Verdicts.
type LedgerEntry struct {
	Request   *DatasetRequest
	Open      bool
	Price     uint64
	Cap       uint64
	Submitter []byte
	Verdicts  []RecordVerdict
}

// LedgerBlock is what one chain block did to the ledger: its Height, its ID and its Parent's
// (the chain's block hashes) and its Entries in order.
type LedgerBlock struct {
	Height  uint64
	ID      [32]byte
	Parent  [32]byte
	Entries []LedgerEntry
}

// Bytes is the block's canonical encoding, what Ledger.Apply and Ledger.Revert take.
func (b *LedgerBlock) Bytes() ([]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var block *C.pouw_ledger_block
	if err := resultError("ledger block", C.pouw_ledger_block_new(C.uint64_t(b.Height), digestPtr(&b.ID), digestPtr(&b.Parent), &block)); err != nil {
		return nil, err
	}
	defer C.pouw_ledger_block_free(block)
	for _, e := range b.Entries {
		var r C.pouw_result
		if e.Open {
			r = C.pouw_ledger_block_open(block, e.Request.c(), C.uint64_t(e.Price), C.uint64_t(e.Cap))
		} else {
			codes := make([]C.uint32_t, len(e.Verdicts)+1)
			for i, v := range e.Verdicts {
				codes[i] = C.uint32_t(v.Code)
			}
			sp, sn := bytesPtr(e.Submitter)
			r = C.pouw_ledger_block_settle(block, e.Request.c(), sp, sn, &codes[0], C.size_t(len(e.Verdicts)))
			runtime.KeepAlive(e.Submitter)
		}
		runtime.KeepAlive(e.Request)
		if err := resultError("ledger block entry", r); err != nil {
			return nil, err
		}
	}
	var buf *C.pouw_buffer
	if err := resultError("ledger block bytes", C.pouw_ledger_block_to_bytes(block, &buf)); err != nil {
		return nil, err
	}
	return takeBuffer(buf), nil
}

func nullError(op string) error {
	return resultError(op, C.POUW_RESULT_NULL_ARGUMENT)
}
