//go:build cgo

package pouw

// #include <stdlib.h>
// #include "pouw.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// QualityPoints is a quality score as an integer (the score times 2^20, rounded; lower is
// better): what consensus arithmetic uses.
type QualityPoints uint64

// QualityPointsOf converts a score from Assess or Settle; an error for a score that is not
// finite, negative or above 2^43.
func QualityPointsOf(score float64) (QualityPoints, error) {
	var out C.uint64_t
	if err := resultError("quality points", C.pouw_quality_points(C.double(score), &out)); err != nil {
		return 0, err
	}
	return QualityPoints(out), nil
}

// RewardRule is the reference reward rule's parameters, consensus parameters of a chain that
// adopts it.
type RewardRule struct {
	// MaxAdjustmentPPM is the largest share of the subsidy added or withheld, in millionths
	// (at most 1 000 000).
	MaxAdjustmentPPM uint32
	// FullImprovement is the improvement, in points, that earns the whole adjustment (at least 1).
	FullImprovement QualityPoints
}

// Reward is a block's reward: subsidy scaled by the rule's adjustment for a model taken from
// start to end points (settled scores, Settle), rounded down; integer arithmetic only.
func Reward(subsidy uint64, start, end QualityPoints, rule RewardRule) (uint64, error) {
	r := C.pouw_reward_rule{max_adjustment_ppm: C.uint32_t(rule.MaxAdjustmentPPM), full_improvement: C.uint64_t(rule.FullImprovement)}
	var out C.uint64_t
	if err := resultError("reward", C.pouw_reward(C.uint64_t(subsidy), C.uint64_t(start), C.uint64_t(end), &r, &out)); err != nil {
		return 0, err
	}
	return uint64(out), nil
}

// Settle scores the block req.Proof (accepted from req.Start) on the capacity records of the
// blocks accepted on top of it (later, in chain order, 1 to 64; other counts are
// CodeInvalidArgument), which its miner could not choose. Proofs are record-free when ds is not
// nil. Every error is this node's (ErrUndecided).
func Settle(req VerifyRequest, later [][]byte, ds *Dataset) (*Assessment, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	start, err := req.Start.c()
	if err != nil {
		return nil, err
	}
	if len(later) == 0 || len(later) > C.POUW_MAX_SETTLE_BLOCKS {
		return nil, &Error{Op: "settle", Code: CodeInvalidArgument, Message: message(CodeInvalidArgument)}
	}
	// The array of proofs lives in C memory (cgo passes no Go pointers to Go pointers).
	n := len(later)
	ptrs := (*[C.POUW_MAX_SETTLE_BLOCKS]*C.uint8_t)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof((*C.uint8_t)(nil)))))
	lens := (*[C.POUW_MAX_SETTLE_BLOCKS]C.size_t)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.size_t(0)))))
	defer C.free(unsafe.Pointer(ptrs))
	defer C.free(unsafe.Pointer(lens))
	for i, p := range later {
		ptrs[i] = (*C.uint8_t)(C.CBytes(p))
		lens[i] = C.size_t(len(p))
		defer C.free(unsafe.Pointer(ptrs[i]))
	}
	pp, pn := bytesPtr(req.Proof)
	var a C.pouw_assessment
	r := C.pouw_settle(req.Params.c(), ds.c(), req.Store.c(), &start, pp, pn, &ptrs[0], &lens[0], C.size_t(n), &a)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.Proof)
	runtime.KeepAlive(ds)
	if err := resultError("settle", r); err != nil {
		return nil, err
	}
	return &Assessment{StartQuality: float64(a.start_quality), EndQuality: float64(a.end_quality)}, nil
}

// TieBreak is two blocks at one height scored on the records both drew.
type TieBreak struct {
	APoints, BPoints   QualityPoints
	ABlockID, BBlockID [32]byte
	// PrefersB says whether a chain holding the first block switches to the second.
	PrefersB bool
}

// BreakTie scores two valid blocks on the same start (req's Params, Store and Start; a and b
// record-free when ds is not nil) on the capacity records of both: the same answer in either
// order. Every error is this node's (ErrUndecided).
func BreakTie(req VerifyRequest, a, b []byte, ds *Dataset) (*TieBreak, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	start, err := req.Start.c()
	if err != nil {
		return nil, err
	}
	ap, an := bytesPtr(a)
	bp, bn := bytesPtr(b)
	var t C.pouw_tie_break
	r := C.pouw_break_tie(req.Params.c(), ds.c(), req.Store.c(), &start, ap, an, bp, bn, &t)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(ds)
	if err := resultError("break tie", r); err != nil {
		return nil, err
	}
	out := &TieBreak{APoints: QualityPoints(t.a_points), BPoints: QualityPoints(t.b_points), PrefersB: bool(t.prefers_b)}
	for i := range out.ABlockID {
		out.ABlockID[i] = byte(t.a_block_id[i])
		out.BBlockID[i] = byte(t.b_block_id[i])
	}
	return out, nil
}

// Prefer says which of two scored contenders a chain keeps: -1 the first, 1 the second, 0 the
// same block. Fewer points win; equal points go to the smaller block identity.
func Prefer(aPoints QualityPoints, aID [32]byte, bPoints QualityPoints, bID [32]byte) int {
	var out C.int32_t
	if C.pouw_prefer(C.uint64_t(aPoints), (*C.uint8_t)(unsafe.Pointer(&aID[0])), C.uint64_t(bPoints), (*C.uint8_t)(unsafe.Pointer(&bID[0])), &out) != C.POUW_RESULT_OK {
		return 0 // unreachable: every argument is valid
	}
	return int(out)
}
