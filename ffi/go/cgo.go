//go:build cgo

package pouw

// The thin layer: the cgo build flags, slice and buffer conversions, result codes to errors.

/*
#cgo CFLAGS: -I${SRCDIR}/../../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lpouw_ffi
#include <stdlib.h>
#include "pouw.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// placeholder is what an empty slice points at: C never reads it (the length is 0), but the
// pointer is valid and not NULL.
var placeholder [1]byte

// bytesPtr is a C view of b for the duration of one call (no Go pointers inside, not retained).
func bytesPtr(b []byte) (*C.uint8_t, C.size_t) {
	if len(b) == 0 {
		return (*C.uint8_t)(unsafe.Pointer(&placeholder[0])), 0
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0])), C.size_t(len(b))
}

// placeholderSizes is what an empty array of lengths points at.
var placeholderSizes [1]C.size_t

// sizesPtr is a C view of an array of lengths for the duration of one call.
func sizesPtr(s []C.size_t) (*C.size_t, C.size_t) {
	if len(s) == 0 {
		return &placeholderSizes[0], 0
	}
	return &s[0], C.size_t(len(s))
}

// digestPtr is a C view of a 32-byte array.
func digestPtr(d *[32]byte) *C.uint8_t {
	return (*C.uint8_t)(unsafe.Pointer(&d[0]))
}

// takeBuffer copies a library buffer into Go memory and frees it.
func takeBuffer(b *C.pouw_buffer) []byte {
	defer C.pouw_buffer_free(b)
	n := C.pouw_buffer_len(b)
	out := C.GoBytes(unsafe.Pointer(C.pouw_buffer_data(b)), C.int(n))
	return out
}

// bufferCall runs call (a C call writing one buffer) on a locked OS thread (see resultError),
// keeps keep alive until it returns, and returns the buffer copied into Go memory.
func bufferCall(op string, call func(out **C.pouw_buffer) C.pouw_result, keep ...any) ([]byte, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var buf *C.pouw_buffer
	r := call(&buf)
	runtime.KeepAlive(keep)
	if err := resultError(op, r); err != nil {
		return nil, err
	}
	return takeBuffer(buf), nil
}

// resultError turns a C result into nil or an *Error.
//
// The detail comes from pouw_last_error_message, which the library keeps per OS thread: callers
// hold runtime.LockOSThread from before the C call until this returns, so that the goroutine
// cannot move to another thread (and read another call's message) in between.
func resultError(op string, r C.pouw_result) error {
	if r == C.POUW_RESULT_OK {
		return nil
	}
	detail := lastErrorMessage()
	return &Error{Code: Code(r), Message: message(Code(r)), Op: op, Detail: detail}
}

// lastErrorMessage is the detailed message of the calling thread's last failed call.
func lastErrorMessage() string {
	buf := make([]C.char, 1024)
	var n C.size_t
	r := C.pouw_last_error_message(&buf[0], C.size_t(len(buf)), &n)
	if r == C.POUW_RESULT_BUFFER_TOO_SMALL {
		// n is the length the message needs (without its NUL).
		buf = make([]C.char, n+1)
		r = C.pouw_last_error_message(&buf[0], C.size_t(len(buf)), &n)
	}
	if r != C.POUW_RESULT_OK {
		return ""
	}
	return C.GoStringN(&buf[0], C.int(n))
}

// message is the library's description of a code.
func message(code Code) string {
	var buf [256]C.char
	var n C.size_t
	if C.pouw_result_message(C.uint32_t(code), &buf[0], C.size_t(len(buf)), &n) != C.POUW_RESULT_OK {
		return "unknown result code"
	}
	return C.GoStringN(&buf[0], C.int(n))
}
