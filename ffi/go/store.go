//go:build cgo

package pouw

// Stores beyond a directory and memory: an IPFS node, and the embedder's own (BlobStore) through
// C callbacks; and the CIDs a block proof's verification fetches, for prefetching.

/*
#include <stdlib.h>
#include "pouw.h"

// Implemented in Go (storecallbacks.go); declared for their function pointers.
extern uint32_t goPouwStoreGet(void *user_data, const uint8_t *cid, size_t cid_len, uint64_t limit, pouw_sink *sink);
extern uint32_t goPouwStorePut(void *user_data, const uint8_t *cid, size_t cid_len, const uint8_t *bytes, size_t len);
*/
import "C"

import (
	"context"
	"errors"
	"runtime"
	"time"
	"unsafe"
)

// IPFSOptions configure a store over an IPFS node (OpenIPFSStore). A zero field keeps the
// library's default; a negative one is CodeInvalidArgument, and one out of the library's domain
// (a timeout over a day, more than 64 parallel fetches) CodeInvalidParameters. Durations are
// rounded up to whole milliseconds.
type IPFSOptions struct {
	// ConnectTimeout bounds connecting to the node (default 5 s).
	ConnectTimeout time.Duration
	// BlockTimeout is how long the node may search the network for a block it lacks before a
	// get fails with CodeNotFound (default 60 s).
	BlockTimeout time.Duration
	// AnswerGrace is how much longer than BlockTimeout the node has to answer at all before a
	// get fails with CodeTimeout (default 10 s).
	AnswerGrace time.Duration
	// AddTimeoutPerMiB bounds a put: this much per MiB of the object, plus one BlockTimeout
	// (default 2 s).
	AddTimeoutPerMiB time.Duration
	// ParallelFetches is how many blocks are fetched at once (default 8).
	ParallelFetches int
	// LocalOnly asks the node only for blocks it holds (Kubo's offline): a missing object is
	// CodeNotFound at once instead of after a network search.
	LocalOnly bool
}

// c converts the options to the C struct, the fields that are not zero set.
func (o IPFSOptions) c() (C.pouw_ipfs_options, bool) {
	var c C.pouw_ipfs_options
	c.struct_size = C.size_t(unsafe.Sizeof(c))
	durations := []struct {
		value time.Duration
		bit   C.uint32_t
		field *C.uint64_t
	}{
		{o.ConnectTimeout, C.POUW_IPFS_OPTION_CONNECT_TIMEOUT, &c.connect_timeout_ms},
		{o.BlockTimeout, C.POUW_IPFS_OPTION_BLOCK_TIMEOUT, &c.block_timeout_ms},
		{o.AnswerGrace, C.POUW_IPFS_OPTION_ANSWER_GRACE, &c.answer_grace_ms},
		{o.AddTimeoutPerMiB, C.POUW_IPFS_OPTION_ADD_TIMEOUT_PER_MIB, &c.add_timeout_per_mib_ms},
	}
	for _, d := range durations {
		switch {
		case d.value < 0:
			return c, false
		case d.value > 0:
			c.set |= d.bit
			*d.field = C.uint64_t((d.value + time.Millisecond - 1) / time.Millisecond)
		}
	}
	switch {
	case o.ParallelFetches < 0:
		return c, false
	case o.ParallelFetches > 0:
		c.set |= C.POUW_IPFS_OPTION_PARALLEL_FETCHES
		c.parallel_fetches = C.uint64_t(o.ParallelFetches)
	}
	if o.LocalOnly {
		c.set |= C.POUW_IPFS_OPTION_LOCAL_ONLY
		c.local_only = 1
	}
	return c, true
}

// OpenIPFSStore opens a store over the IPFS node whose HTTP RPC API is at endpoint (an http://
// address, e.g. "http://127.0.0.1:5001"), with opts (the zero value: every default). Every
// fetched block and object is checked against its CID (CodeBadBlock otherwise: ban the node); a
// missing object is CodeNotFound, a node that does not answer CodeTimeout, an unreachable one
// CodeStore. An endpoint that is not http:// is CodeInvalidParameters.
func OpenIPFSStore(endpoint string, opts IPFSOptions) (*Store, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	const op = "open ipfs store"
	c, ok := opts.c()
	if !ok {
		return nil, &Error{Code: CodeInvalidArgument, Message: message(CodeInvalidArgument), Op: op}
	}
	p, n := bytesPtr([]byte(endpoint))
	var out *C.pouw_store
	if err := resultError(op, C.pouw_store_open_ipfs(p, n, &c, &out)); err != nil {
		return nil, err
	}
	return &Store{ptr: out}, nil
}

// BlobStore is an embedder's content-addressed storage behind NewCallbackStore (a peer-to-peer
// network, a database, a cache). Its methods are called from several goroutines (and C threads)
// at once: they must be safe for concurrent use.
type BlobStore interface {
	// Get returns the object named by the binary CID cid, at most limit bytes (more fails the
	// get with CodeLimitExceeded). An error wrapping ErrNotFound is CodeNotFound, one wrapping
	// ErrTimeout or context.DeadlineExceeded is CodeTimeout, any other (or a panic) is
	// CodeStore. The library checks the bytes against cid (CodeBadBlock when they differ).
	Get(cid []byte, limit uint64) ([]byte, error)
	// Put stores data under its binary CID cid (computed by the library); an error (or a
	// panic) fails the put with CodeStore. A read-only store returns an error.
	Put(cid, data []byte) error
}

// ErrNotFound is what a BlobStore's Get wraps when it holds nothing under the CID. A library
// error with CodeNotFound matches it too (errors.Is).
var ErrNotFound = errors.New("pouw: not found")

// ErrTimeout is what a BlobStore's Get wraps when it gave up waiting. A library error with
// CodeTimeout matches it too (errors.Is).
var ErrTimeout = errors.New("pouw: timed out")

// blobErrorCode is the C code a BlobStore error stands for.
func blobErrorCode(err error) Code {
	switch {
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return CodeTimeout
	default:
		return CodeStore
	}
}

// NewCallbackStore makes a Store over s: the library calls s.Get for every object it fetches
// (in parallel, from several threads) and s.Put for every object it publishes. Close the store
// when done; s is kept reachable until then.
func NewCallbackStore(s BlobStore) (*Store, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	const op = "new callback store"
	if s == nil {
		return nil, &Error{Code: CodeNullArgument, Message: message(CodeNullArgument), Op: op}
	}
	slot, free := handleSlot(s)
	var out *C.pouw_store
	r := C.pouw_store_new_callbacks(C.pouw_store_get_callback(C.goPouwStoreGet),
		C.pouw_store_put_callback(C.goPouwStorePut), slot, &out)
	if err := resultError(op, r); err != nil {
		free()
		return nil, err
	}
	return &Store{ptr: out, release: free}, nil
}

// RequiredCIDs lists the binary CIDs of every object Verify fetches for proof (untrusted;
// decoded under p's limits, not verified), in the order it fetches them, without repeats: what
// a node can prefetch. The block's start checkpoint is listed only when an opening starts from
// it. A malformed proof is an *Error with its decoding code.
func RequiredCIDs(p *Params, proof []byte) ([][]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	pp, pn := bytesPtr(proof)
	var count C.size_t
	var buf *C.pouw_buffer
	r := C.pouw_block_proof_required_cids(p.c(), pp, pn, &count, &buf)
	runtime.KeepAlive(p)
	runtime.KeepAlive(proof)
	if err := resultError("required cids", r); err != nil {
		return nil, err
	}
	b := takeBuffer(buf)
	cids := make([][]byte, 0, int(count))
	for len(b) > 0 {
		n := int(b[0])
		if 1+n > len(b) {
			return nil, &Error{Code: CodeOther, Message: message(CodeOther), Op: "required cids"}
		}
		cids = append(cids, b[1:1+n:1+n])
		b = b[1+n:]
	}
	if len(cids) != int(count) {
		return nil, &Error{Code: CodeOther, Message: message(CodeOther), Op: "required cids"}
	}
	return cids, nil
}
