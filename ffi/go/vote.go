//go:build cgo

package pouw

// Request votes: the version-bits state machine (BIP9's states, heights for start and timeout)
// that decides whether a dataset request becomes active, and the signal words blocks carry.

/*
#include "pouw.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// VoteState is where a request's vote stands for a block.
type VoteState uint32

// Vote states.
const (
	VoteDefined  VoteState = C.POUW_VOTE_DEFINED
	VoteStarted  VoteState = C.POUW_VOTE_STARTED
	VoteLockedIn VoteState = C.POUW_VOTE_LOCKED_IN
	VoteActive   VoteState = C.POUW_VOTE_ACTIVE
	VoteFailed   VoteState = C.POUW_VOTE_FAILED
)

// String names the state.
func (s VoteState) String() string {
	switch s {
	case VoteDefined:
		return "defined"
	case VoteStarted:
		return "started"
	case VoteLockedIn:
		return "locked in"
	case VoteActive:
		return "active"
	case VoteFailed:
		return "failed"
	}
	return "unknown vote state"
}

// VoteParams are a request vote's parameters: the signal Bit (0 to 28), windows of Window
// blocks, Threshold signalling blocks in a window to lock in, the StartHeight and
// TimeoutHeight (multiples of Window, start below timeout) and the MinActivationHeight.
type VoteParams struct {
	Bit                 uint8
	Window              uint32
	Threshold           uint32
	StartHeight         uint64
	TimeoutHeight       uint64
	MinActivationHeight uint64
}

// VoteStatus is a vote's state for a block and the first height of its run of windows in it.
type VoteStatus struct {
	State VoteState
	Since uint64
}

// RequestVote is the vote on one dataset request. Immutable; safe for concurrent use; Close it
// when done.
type RequestVote struct {
	ptr *C.pouw_request_vote
}

// NewRequestVote is the vote on the request whose binary CID is requestCid
// (DatasetRequest.Cid) under params (CodeInvalidField when out of their domains).
func NewRequestVote(requestCid []byte, params VoteParams) (*RequestVote, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cp := C.pouw_vote_params{
		bit:                   C.uint8_t(params.Bit),
		window:                C.uint32_t(params.Window),
		threshold:             C.uint32_t(params.Threshold),
		start_height:          C.uint64_t(params.StartHeight),
		timeout_height:        C.uint64_t(params.TimeoutHeight),
		min_activation_height: C.uint64_t(params.MinActivationHeight),
	}
	p, n := bytesPtr(requestCid)
	var out *C.pouw_request_vote
	err := resultError("new request vote", C.pouw_request_vote_new(p, n, &cp, &out))
	runtime.KeepAlive(requestCid)
	if err != nil {
		return nil, err
	}
	return &RequestVote{ptr: out}, nil
}

// RequestVoteFromBytes decodes and validates a vote's canonical bytes (untrusted).
func RequestVoteFromBytes(b []byte) (*RequestVote, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(b)
	var out *C.pouw_request_vote
	err := resultError("request vote from bytes", C.pouw_request_vote_from_bytes(p, n, &out))
	runtime.KeepAlive(b)
	if err != nil {
		return nil, err
	}
	return &RequestVote{ptr: out}, nil
}

// Bytes is the vote's canonical encoding.
func (v *RequestVote) Bytes() ([]byte, error) {
	return bufferCall("request vote bytes", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_request_vote_to_bytes(v.c(), out)
	}, v)
}

// Params are the vote's parameters.
func (v *RequestVote) Params() (VoteParams, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var p C.pouw_vote_params
	err := resultError("request vote params", C.pouw_request_vote_params(v.c(), &p))
	runtime.KeepAlive(v)
	return VoteParams{
		Bit:                 uint8(p.bit),
		Window:              uint32(p.window),
		Threshold:           uint32(p.threshold),
		StartHeight:         uint64(p.start_height),
		TimeoutHeight:       uint64(p.timeout_height),
		MinActivationHeight: uint64(p.min_activation_height),
	}, err
}

// Status is the vote's state for the block at height len(words), where words[h] is the signal
// word of the chain's block at height h (every ancestor, in order; after a reorganisation, the
// words of the branch now followed).
func (v *RequestVote) Status(words []uint32) (VoteStatus, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var p *C.uint32_t
	if len(words) > 0 {
		p = (*C.uint32_t)(unsafe.Pointer(&words[0]))
	}
	var s C.pouw_vote_status
	err := resultError("request vote status", C.pouw_request_vote_status(v.c(), p, C.size_t(len(words)), &s))
	runtime.KeepAlive(words)
	runtime.KeepAlive(v)
	return VoteStatus{State: VoteState(s.state), Since: uint64(s.since)}, err
}

// Close releases the vote; no call may be using it. Closing twice or a nil vote is a no-op.
func (v *RequestVote) Close() {
	if v != nil && v.ptr != nil {
		C.pouw_request_vote_free(v.ptr)
		v.ptr = nil
	}
}

func (v *RequestVote) c() *C.pouw_request_vote {
	if v == nil {
		return nil
	}
	return v.ptr
}

// SignalWord reads a block's signal word from the 4 bytes its header carries for it
// (little-endian; another length is CodeInvalidField).
func SignalWord(field []byte) (uint32, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(field)
	var w C.uint32_t
	err := resultError("signal word", C.pouw_signal_word(p, n, &w))
	runtime.KeepAlive(field)
	return uint32(w), err
}

// SignalledBits is the mask of the bits (0 to 28) word votes for: zero when its top three bits
// are not 001.
func SignalledBits(word uint32) uint32 {
	var bits C.uint32_t
	C.pouw_signalled_bits(C.uint32_t(word), &bits)
	return uint32(bits)
}

// SignalWordFor is the signal word voting for exactly bits (each 0 to 28, else
// CodeInvalidField): what a miner puts in its header.
func SignalWordFor(bits ...uint8) (uint32, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(bits)
	var w C.uint32_t
	err := resultError("signal word for", C.pouw_signal_word_for(p, n, &w))
	runtime.KeepAlive(bits)
	return uint32(w), err
}
