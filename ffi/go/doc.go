// Package pouw is the Go binding of pouw, a proof-of-useful-work library: mining trains a shared
// GAN on a dataset the miner holds (proof of learning plus proof of capacity), and verifying
// re-executes a few sampled training steps.
//
// The package is a thin cgo layer over the C API (include/pouw.h, the library libpouw_ffi
// built by `cargo build -p pouw-ffi --release`) and an idiomatic layer on top of it: functions return
// (T, error); errors are *Error values carrying the C result code and its message; bytes the
// library returns are copied into Go memory at once and the C buffers freed.
//
// Handles (Dataset, Params, Store, DatasetRequest, Judge, Reputation) wrap C handles: release
// them with Close once no call uses them. They are immutable after creation (a Reputation
// serialises its Record calls with a lock), so one handle may serve many goroutines at once.
//
// Build: cgo must be enabled. By default the package links the release build, target/release of
// the repository (the #cgo directives: `cargo build -p pouw-ffi --release` first); to use
// another build pass it first in CGO_LDFLAGS, e.g. the debug one:
//
//	CGO_LDFLAGS="-L$PWD/target/debug -Wl,-rpath,$PWD/target/debug" go test ./...
//
// scripts/test-ffi.sh builds the library and runs these tests (against the debug build, which
// the rest of the test suite builds anyway; POUW_FFI_PROFILE=release for the release one).
package pouw
