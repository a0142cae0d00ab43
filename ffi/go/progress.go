//go:build cgo

package pouw

// The progress trampoline: C calls goPouwProgress with user_data pointing at C memory that
// holds a cgo.Handle of the Go callback (no Go pointer crosses into C).

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
	h := *(*cgo.Handle)(userData)
	if f, ok := h.Value().(func(uint64)); ok && f != nil {
		f(uint64(step))
	}
}
