//go:build cgo

package pouw

// The callback store's trampolines: C calls them with user_data pointing at C memory that holds
// a cgo.Handle of the BlobStore (no Go pointer crosses into C). They run on whatever thread the
// library fetches on, several at once. A panic must not unwind through the Rust frames below:
// each trampoline recovers it and returns POUW_RESULT_STORE.

/*
#include "pouw.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// blobStoreOf is the BlobStore behind user_data.
func blobStoreOf(userData unsafe.Pointer) (BlobStore, bool) {
	s, ok := (*(*cgo.Handle)(userData)).Value().(BlobStore)
	return s, ok
}

//export goPouwStoreGet
func goPouwStoreGet(userData unsafe.Pointer, cid *C.uint8_t, cidLen C.size_t, limit C.uint64_t, sink *C.pouw_sink) (code C.uint32_t) {
	// A panic, panic(nil) included, leaves code at CodeStore: no return statement ran.
	code = C.uint32_t(CodeStore)
	defer func() { _ = recover() }()
	s, ok := blobStoreOf(userData)
	if !ok {
		return C.uint32_t(CodeStore)
	}
	data, err := s.Get(C.GoBytes(unsafe.Pointer(cid), C.int(cidLen)), uint64(limit))
	if err != nil {
		return C.uint32_t(blobErrorCode(err))
	}
	// The sink refuses (LIMIT_EXCEEDED) past limit; C copies data and keeps no pointer to it.
	p, n := bytesPtr(data)
	return C.uint32_t(C.pouw_sink_write(sink, p, n))
}

//export goPouwStorePut
func goPouwStorePut(userData unsafe.Pointer, cid *C.uint8_t, cidLen C.size_t, data *C.uint8_t, dataLen C.size_t) (code C.uint32_t) {
	// A panic, panic(nil) included, leaves code at CodeStore: no return statement ran.
	code = C.uint32_t(CodeStore)
	defer func() { _ = recover() }()
	s, ok := blobStoreOf(userData)
	if !ok {
		return C.uint32_t(CodeStore)
	}
	c := C.GoBytes(unsafe.Pointer(cid), C.int(cidLen))
	d := C.GoBytes(unsafe.Pointer(data), C.int(dataLen))
	if err := s.Put(c, d); err != nil {
		return C.uint32_t(CodeStore)
	}
	return C.uint32_t(CodeOK)
}
