//go:build cgo

package pouw

// The progress trampolines: C calls them with user_data pointing at C memory that holds a
// cgo.Handle of the Go callback (no Go pointer crosses into C). A panic in a callback must not
// unwind through the Rust frames below: each trampoline recovers it (the call goes on).

/*
#include <stdint.h>
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

//export goPouwProgress
func goPouwProgress(step C.uint64_t, userData unsafe.Pointer) {
	defer func() { _ = recover() }()
	h := *(*cgo.Handle)(userData)
	if f, ok := h.Value().(func(uint64)); ok && f != nil {
		f(uint64(step))
	}
}

//export goPouwVerifyProgress
func goPouwVerifyProgress(phase C.uint32_t, step C.uint64_t, done, total C.uint32_t, fetched C.uint64_t, userData unsafe.Pointer) {
	defer func() { _ = recover() }()
	h := *(*cgo.Handle)(userData)
	if f, ok := h.Value().(func(VerifyProgress)); ok && f != nil {
		f(VerifyProgress{Phase: VerifyPhase(phase), Step: uint64(step), Done: uint32(done), Total: uint32(total), FetchedBytes: uint64(fetched)})
	}
}

//export goPouwAuditProgress
func goPouwAuditProgress(step, steps C.uint64_t, userData unsafe.Pointer) {
	defer func() { _ = recover() }()
	h := *(*cgo.Handle)(userData)
	if f, ok := h.Value().(func(uint64, uint64)); ok && f != nil {
		f(uint64(step), uint64(steps))
	}
}
