//go:build cgo

package pouw

/*
#include <stdlib.h>
#include "pouw.h"

// Implemented in Go (progress.go); declared for their function pointers.
extern void goPouwProgress(uint64_t step, void *user_data);
extern void goPouwAuditProgress(uint64_t step, uint64_t steps, void *user_data);
extern void goPouwVerifyProgress(uint32_t phase, uint64_t step, uint32_t done, uint32_t total, uint64_t fetched, void *user_data);
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Version is the library's version.
func Version() string {
	return C.GoString(C.pouw_version())
}

// ProtocolVersion is the consensus protocol version the library proves and verifies.
func ProtocolVersion() uint32 {
	return uint32(C.pouw_protocol_version())
}

// ---- Datasets ----

// Dataset is an opened dataset on disk. Safe for concurrent use; Close it when done.
type Dataset struct {
	ptr *C.pouw_dataset
}

func (d *Dataset) c() *C.pouw_dataset {
	if d == nil {
		return nil
	}
	return d.ptr
}

// OpenDataset opens the dataset in directory dir.
func OpenDataset(dir string) (*Dataset, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr([]byte(dir))
	var out *C.pouw_dataset
	if err := resultError("open dataset", C.pouw_dataset_open(p, n, &out)); err != nil {
		return nil, err
	}
	return &Dataset{ptr: out}, nil
}

// ImportDigits imports the UCI digits CSV at src (plain or gzip) into a new dataset in dest.
func ImportDigits(src, dest string) (*Dataset, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	sp, sn := bytesPtr([]byte(src))
	dp, dn := bytesPtr([]byte(dest))
	var out *C.pouw_dataset
	if err := resultError("import digits", C.pouw_dataset_import_digits(sp, sn, dp, dn, &out)); err != nil {
		return nil, err
	}
	return &Dataset{ptr: out}, nil
}

// Root is the dataset's Merkle root.
func (d *Dataset) Root() ([32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var root [32]byte
	err := resultError("dataset root", C.pouw_dataset_root(d.c(), digestPtr(&root)))
	runtime.KeepAlive(d)
	return root, err
}

// Len is the dataset's record count.
func (d *Dataset) Len() (uint64, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var n C.uint64_t
	err := resultError("dataset len", C.pouw_dataset_len(d.c(), &n))
	runtime.KeepAlive(d)
	return uint64(n), err
}

// Close releases the dataset; no call may be using it. Closing twice or a nil Dataset is a no-op.
func (d *Dataset) Close() {
	if d != nil && d.ptr != nil {
		C.pouw_dataset_free(d.ptr)
		d.ptr = nil
	}
}

// ---- Parameters ----

// Device is where this process trains (a local choice, not a consensus parameter).
type Device uint32

// Devices.
const (
	DeviceAuto Device = C.POUW_DEVICE_AUTO // CUDA device 0 when available, else the CPU.
	DeviceCPU  Device = C.POUW_DEVICE_CPU  // The CPU.
	DeviceCUDA Device = C.POUW_DEVICE_CUDA // The CUDA device ParamsOptions.CudaIndex.
)

// ParamsOptions changes the default GAN parameters; zero fields keep the defaults, and
// OpenedSteps is a pointer so that 0 (the winning step alone) can be asked for.
type ParamsOptions struct {
	GFilters, DFilters, Latent, BatchSize uint32
	// OpenedSteps is how many steps a block proof opens besides the winning one (nil: the
	// default, 16).
	OpenedSteps        *uint32
	CapacityChallenges uint32
	MaxSteps           uint64
	MinSteps           uint64 // tickets count from this step on (0: 1)
	// Device is where this process trains: a local choice, as every device computes the same
	// bits.
	Device    Device
	CudaIndex uint32
}

// Uint32 returns a pointer to v, for ParamsOptions.OpenedSteps.
func Uint32(v uint32) *uint32 { return &v }

// Params are consensus parameters of the GAN task. Safe for concurrent use; Close them when done.
type Params struct {
	ptr *C.pouw_params
}

func (p *Params) c() *C.pouw_params {
	if p == nil {
		return nil
	}
	return p.ptr
}

// NewGanParams makes the default GAN parameters for d, changed by o's non-zero fields.
func NewGanParams(d *Dataset, o ParamsOptions) (*Params, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var opts C.pouw_params_options
	opts.struct_size = C.size_t(unsafe.Sizeof(opts))
	u32 := []struct {
		value uint32
		bit   C.uint32_t
		field *C.uint32_t
	}{
		{o.GFilters, C.POUW_PARAMS_OPTION_G_FILTERS, &opts.g_filters},
		{o.DFilters, C.POUW_PARAMS_OPTION_D_FILTERS, &opts.d_filters},
		{o.Latent, C.POUW_PARAMS_OPTION_LATENT, &opts.latent},
		{o.BatchSize, C.POUW_PARAMS_OPTION_BATCH_SIZE, &opts.batch_size},
		{o.CapacityChallenges, C.POUW_PARAMS_OPTION_CAPACITY_CHALLENGES, &opts.capacity_challenges},
	}
	for _, f := range u32 {
		if f.value != 0 {
			opts.set |= f.bit
			*f.field = C.uint32_t(f.value)
		}
	}
	if o.OpenedSteps != nil {
		opts.set |= C.POUW_PARAMS_OPTION_OPENED_STEPS
		opts.opened_steps = C.uint32_t(*o.OpenedSteps)
	}
	if o.MaxSteps != 0 {
		opts.set |= C.POUW_PARAMS_OPTION_MAX_STEPS
		opts.max_steps = C.uint64_t(o.MaxSteps)
	}
	if o.MinSteps != 0 {
		opts.set |= C.POUW_PARAMS_OPTION_MIN_STEPS
		opts.min_steps = C.uint64_t(o.MinSteps)
	}
	if o.Device != DeviceAuto || o.CudaIndex != 0 {
		opts.set |= C.POUW_PARAMS_OPTION_DEVICE
		opts.device = C.uint32_t(o.Device)
		opts.cuda_index = C.uint32_t(o.CudaIndex)
	}
	var out *C.pouw_params
	err := resultError("new params", C.pouw_params_new_gan(d.c(), &opts, &out))
	runtime.KeepAlive(d)
	if err != nil {
		return nil, err
	}
	return &Params{ptr: out}, nil
}

// ParamsFromBytes decodes canonical parameter bytes (untrusted), training on device.
func ParamsFromBytes(b []byte, device Device, cudaIndex uint32) (*Params, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(b)
	var out *C.pouw_params
	if err := resultError("params from bytes", C.pouw_params_from_bytes(p, n, C.uint32_t(device), C.uint32_t(cudaIndex), &out)); err != nil {
		return nil, err
	}
	return &Params{ptr: out}, nil
}

// Bytes is the canonical encoding a chain pins.
func (p *Params) Bytes() ([]byte, error) {
	return bufferCall("params bytes", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_params_to_bytes(p.c(), out)
	}, p)
}

// Digest is the parameters' digest.
func (p *Params) Digest() ([32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var d [32]byte
	err := resultError("params digest", C.pouw_params_digest(p.c(), digestPtr(&d)))
	runtime.KeepAlive(p)
	return d, err
}

// Close releases the parameters; no call may be using them.
func (p *Params) Close() {
	if p != nil && p.ptr != nil {
		C.pouw_params_free(p.ptr)
		p.ptr = nil
	}
}

// ---- Stores and CIDs ----

// Store is a content-addressed checkpoint store. Safe for concurrent use; Close it when done.
type Store struct {
	ptr *C.pouw_store
	// release frees what the C store refers to (a callback store's handle), after it.
	release func()
}

func (s *Store) c() *C.pouw_store {
	if s == nil {
		return nil
	}
	return s.ptr
}

// OpenDirStore opens (creating it) a store in directory dir.
func OpenDirStore(dir string) (*Store, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr([]byte(dir))
	var out *C.pouw_store
	if err := resultError("open store", C.pouw_store_open_dir(p, n, &out)); err != nil {
		return nil, err
	}
	return &Store{ptr: out}, nil
}

// NewMemoryStore makes an empty in-memory store.
func NewMemoryStore() (*Store, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var out *C.pouw_store
	if err := resultError("new memory store", C.pouw_store_new_memory(&out)); err != nil {
		return nil, err
	}
	return &Store{ptr: out}, nil
}

// Put stores b and returns its binary CID.
func (s *Store) Put(b []byte) ([]byte, error) {
	p, n := bytesPtr(b)
	return bufferCall("store put", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_store_put(s.c(), p, n, out)
	}, s, b)
}

// Get fetches the bytes named by the binary CID cid, checked against it.
func (s *Store) Get(cid []byte) ([]byte, error) {
	p, n := bytesPtr(cid)
	return bufferCall("store get", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_store_get(s.c(), p, n, out)
	}, s, cid)
}

// Close releases the store handle (a directory store's files stay; a callback store's
// BlobStore is no longer referenced). No call may be using the store.
func (s *Store) Close() {
	if s != nil && s.ptr != nil {
		C.pouw_store_free(s.ptr)
		s.ptr = nil
		if s.release != nil {
			s.release()
			s.release = nil
		}
	}
}

// CidOf is the binary CID of b.
func CidOf(b []byte) ([]byte, error) {
	p, n := bytesPtr(b)
	return bufferCall("cid of", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_cid_of(p, n, out)
	}, b)
}

// ParseCid parses the text form of a CID into its binary form.
func ParseCid(text string) ([]byte, error) {
	p, n := bytesPtr([]byte(text))
	return bufferCall("parse cid", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_cid_parse(p, n, out)
	})
}

// CidString is the text form of the binary CID cid.
func CidString(cid []byte) (string, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	p, n := bytesPtr(cid)
	var buf *C.pouw_buffer
	if err := resultError("cid string", C.pouw_cid_to_string(p, n, &buf)); err != nil {
		return "", err
	}
	return string(takeBuffer(buf)), nil
}

// ---- Targets ----

// Target is a 256-bit big-endian difficulty target.
type Target [32]byte

// TargetFromExpectedSteps is the target at which a block takes steps training steps on average.
func TargetFromExpectedSteps(steps uint64) (Target, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var t Target
	err := resultError("target", C.pouw_target_from_expected_steps(C.uint64_t(steps), (*C.uint8_t)(unsafe.Pointer(&t[0]))))
	return t, err
}

// ExpectedSteps is the average number of steps per block at t.
func (t Target) ExpectedSteps() (float64, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var out C.double
	err := resultError("expected steps", C.pouw_target_expected_steps((*C.uint8_t)(unsafe.Pointer(&t[0])), &out))
	return float64(out), err
}

// ---- Work ----

// GenesisCheckpoint is the start checkpoint of a chain: every weight drawn from seed.
func GenesisCheckpoint(p *Params, seed [32]byte) ([]byte, error) {
	return bufferCall("genesis checkpoint", func(out **C.pouw_buffer) C.pouw_result {
		return C.pouw_genesis_checkpoint(p.c(), digestPtr(&seed), out)
	}, p)
}

// cancelToken makes a C cancellation token set when ctx is done; release (call it once the C
// call has returned) stops watching ctx and frees the token.
func cancelToken(ctx context.Context) (*C.pouw_cancel_token, func(), error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var token *C.pouw_cancel_token
	if err := resultError("cancel token", C.pouw_cancel_token_new(&token)); err != nil {
		return nil, nil, err
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			C.pouw_cancel_token_cancel(token)
		case <-done:
		}
	}()
	return token, func() {
		close(done)
		wg.Wait()
		C.pouw_cancel_token_free(token)
	}, nil
}

// handleSlot puts a cgo.Handle of v in C memory (no Go pointer crosses into C); free deletes
// both once the C call has returned.
func handleSlot(v any) (unsafe.Pointer, func()) {
	h := cgo.NewHandle(v)
	slot := (*cgo.Handle)(C.malloc(C.size_t(unsafe.Sizeof(h))))
	*slot = h
	return unsafe.Pointer(slot), func() {
		h.Delete()
		C.free(unsafe.Pointer(slot))
	}
}

// MineRequest is what Mine mines on.
type MineRequest struct {
	Params     *Params
	Dataset    *Dataset
	Store      *Store // where the opened steps' checkpoints are published
	HeaderHash [32]byte
	MinerID    []byte
	Start      []byte // the start checkpoint's bytes
	Target     Target
	StepLimit  uint64 // 0: no limit but the parameters' max steps
	// CheckpointInterval keeps every this-many-th checkpoint for the openings' replays to start
	// with (0: the default, every one).
	CheckpointInterval uint64
	// MaxKept bounds the kept checkpoints (0: the default, 64; at least 2).
	MaxKept uint64
	// KeptMemory bounds the bytes of kept checkpoints held in memory before spilling to disk
	// (nil: the default, 256 MiB; a pointer to 0 spills every one).
	KeptMemory *uint64
	// SpillDir is where spilled checkpoints go ("": the system's temporary directory).
	SpillDir string
	// Progress, if not nil, is called after every step on the mining goroutine (from a cgo
	// callback: it must return and not panic).
	Progress func(step uint64)
}

// Block is a mined block.
type Block struct {
	// Proof is the encoded block proof.
	Proof []byte
	// WinningCheckpoint is the next block's start checkpoint.
	WinningCheckpoint []byte
}

// Mine trains until a step's ticket beats the target. Cancelling ctx stops it before the next
// step with an error that has CodeCancelled and wraps ctx.Err(); running out of steps gives
// CodeStepLimit. Any number of Mine and Verify calls may run at once.
func Mine(ctx context.Context, req MineRequest) (*Block, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	token, release, err := cancelToken(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var callback C.pouw_progress_callback
	var userData unsafe.Pointer
	if req.Progress != nil {
		slot, free := handleSlot(req.Progress)
		defer free()
		userData = slot
		callback = C.pouw_progress_callback(C.goPouwProgress)
	}
	// The options struct is C memory: it holds a pointer (the spill directory), which cgo does not
	// let Go memory pass.
	opts := (*C.pouw_mine_options)(C.calloc(1, C.size_t(unsafe.Sizeof(C.pouw_mine_options{}))))
	defer C.free(unsafe.Pointer(opts))
	opts.struct_size = C.size_t(unsafe.Sizeof(C.pouw_mine_options{}))
	if req.StepLimit != 0 {
		opts.set |= C.POUW_MINE_OPTION_STEP_LIMIT
		opts.step_limit = C.uint64_t(req.StepLimit)
	}
	if req.CheckpointInterval != 0 {
		opts.set |= C.POUW_MINE_OPTION_CHECKPOINT_INTERVAL
		opts.checkpoint_interval = C.uint64_t(req.CheckpointInterval)
	}
	if req.MaxKept != 0 {
		opts.set |= C.POUW_MINE_OPTION_MAX_KEPT
		opts.max_kept = C.uint64_t(req.MaxKept)
	}
	if req.KeptMemory != nil {
		opts.set |= C.POUW_MINE_OPTION_KEPT_MEMORY
		opts.kept_memory = C.uint64_t(*req.KeptMemory)
	}
	if req.SpillDir != "" {
		dir := C.CString(req.SpillDir)
		defer C.free(unsafe.Pointer(dir))
		opts.set |= C.POUW_MINE_OPTION_SPILL_DIR
		opts.spill_dir = (*C.uint8_t)(unsafe.Pointer(dir))
		opts.spill_dir_len = C.size_t(len(req.SpillDir))
	}
	mp, mn := bytesPtr(req.MinerID)
	sp, sn := bytesPtr(req.Start)
	header, target := req.HeaderHash, req.Target
	var proof, winning *C.pouw_buffer
	r := C.pouw_mine_with_options(req.Params.c(), req.Dataset.c(), req.Store.c(), digestPtr(&header), mp, mn, sp, sn,
		(*C.uint8_t)(unsafe.Pointer(&target[0])), opts, callback, userData, token, &proof, &winning)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Dataset)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.MinerID)
	runtime.KeepAlive(req.Start)
	if err := resultError("mine", r); err != nil {
		if e := err.(*Error); e.Code == CodeCancelled {
			e.cause = ctx.Err()
		}
		return nil, err
	}
	return &Block{Proof: takeBuffer(proof), WinningCheckpoint: takeBuffer(winning)}, nil
}

// Start is where a block starts, as the chain keeps it: the previous verdict's Next, or
// StartOfCheckpoint of the genesis checkpoint.
type Start struct {
	Cid    []byte   // binary CID of the checkpoint
	Digest [32]byte // its digest
	Steps  uint64   // its step counter
}

func (s Start) c() (C.pouw_start, error) {
	var out C.pouw_start
	if len(s.Cid) > len(out.cid) {
		return out, &Error{Op: "start", Code: CodeInvalidArgument, Message: message(CodeInvalidArgument)}
	}
	for i, b := range s.Cid {
		out.cid[i] = C.uint8_t(b)
	}
	out.cid_len = C.size_t(len(s.Cid))
	for i, b := range s.Digest {
		out.digest[i] = C.uint8_t(b)
	}
	out.steps = C.uint64_t(s.Steps)
	return out, nil
}

func startFromC(s *C.pouw_start) Start {
	out := Start{Cid: C.GoBytes(unsafe.Pointer(&s.cid[0]), C.int(s.cid_len)), Steps: uint64(s.steps)}
	for i := range out.Digest {
		out.Digest[i] = byte(s.digest[i])
	}
	return out
}

// StartOfCheckpoint is the start a checkpoint gives (the genesis checkpoint, typically).
func StartOfCheckpoint(p *Params, checkpoint []byte) (Start, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	cp, cn := bytesPtr(checkpoint)
	var out C.pouw_start
	err := resultError("start of checkpoint", C.pouw_start_of_checkpoint(p.c(), cp, cn, &out))
	runtime.KeepAlive(p)
	runtime.KeepAlive(checkpoint)
	if err != nil {
		return Start{}, err
	}
	return startFromC(&out), nil
}

// Work is the work of a block: the expected steps at its target, a 256-bit big-endian integer.
type Work [32]byte

// WorkOfTarget is the work of a block at target t.
func WorkOfTarget(t Target) (Work, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var w Work
	err := resultError("work of target", C.pouw_work_of_target((*C.uint8_t)(unsafe.Pointer(&t[0])), (*C.uint8_t)(unsafe.Pointer(&w[0]))))
	return w, err
}

// Add is w + o; an error with CodeLimitExceeded past 2^256 - 1.
func (w Work) Add(o Work) (Work, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	var sum Work
	err := resultError("work add", C.pouw_work_add((*C.uint8_t)(unsafe.Pointer(&w[0])), (*C.uint8_t)(unsafe.Pointer(&o[0])), (*C.uint8_t)(unsafe.Pointer(&sum[0]))))
	return sum, err
}

// VerifyRequest is the chain's view a proof is checked against.
type VerifyRequest struct {
	Params     *Params
	Store      *Store // where the opened checkpoints are fetched from
	HeaderHash [32]byte
	MinerID    []byte
	Start      Start // the block's start (from the chain, not from the proof)
	Target     Target
	Proof      []byte // untrusted
}

// Verdict is an accepted block's facts.
type Verdict struct {
	Steps       uint64
	OpenedCount uint64
	DatasetRoot [32]byte
	Work        Work  // sum a chain's with Work.Add
	Next        Start // the next block's start: the winning checkpoint
}

// Assessment is the quality scores of a block's training (lower is better).
type Assessment struct {
	StartQuality float64
	EndQuality   float64
}

// Assess scores the training of a block Verify accepted (req's Params, Store, Start and Proof;
// the proof is record-free when ds is not nil): two checkpoint fetches and two quality
// evaluations, no re-execution. It decides nothing of validity: every error is this node's
// (ErrUndecided).
func Assess(req VerifyRequest, ds *Dataset) (*Assessment, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	start, err := req.Start.c()
	if err != nil {
		return nil, err
	}
	pp, pn := bytesPtr(req.Proof)
	var a C.pouw_assessment
	r := C.pouw_assess(req.Params.c(), ds.c(), req.Store.c(), &start, pp, pn, &a)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.Proof)
	runtime.KeepAlive(ds)
	if err := resultError("assess", r); err != nil {
		return nil, err
	}
	return &Assessment{StartQuality: float64(a.start_quality), EndQuality: float64(a.end_quality)}, nil
}

// Verify checks a block proof; a rejection is an *Error with the reason's code.
func Verify(req VerifyRequest) (*Verdict, error) {
	return verify(req, nil)
}

// VerifyPhase is what a verification is doing.
type VerifyPhase uint32

// The phases of a verification, in order (Step once per opened step).
const (
	VerifyChecks    VerifyPhase = C.POUW_VERIFY_PHASE_CHECKS    // decoding and the cheap checks
	VerifyStep      VerifyPhase = C.POUW_VERIFY_PHASE_STEP      // fetching a start checkpoint, re-executing its step
	VerifyCompanion VerifyPhase = C.POUW_VERIFY_PHASE_COMPANION // fetching the trajectory companion
	VerifySegments  VerifyPhase = C.POUW_VERIFY_PHASE_SEGMENTS  // fetching the segment starts, checking their digests
)

// VerifyProgress is a verification's progress.
type VerifyProgress struct {
	Phase        VerifyPhase
	Step         uint64 // the step re-executed (VerifyStep) or whose segment start is fetched (VerifySegments), else 0
	Done, Total  uint32 // opened steps re-executed so far, and in all
	FetchedBytes uint64 // bytes fetched from the store so far
}

// VerifyContext is Verify with cancellation (ctx, checked before each fetch and step: the error
// then has CodeCancelled and wraps ctx.Err()) and progress (may be nil; called from a cgo
// callback on the calling goroutine's thread: it must return; a panic in it is recovered).
func VerifyContext(ctx context.Context, req VerifyRequest, progress func(VerifyProgress)) (*Verdict, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	token, release, err := cancelToken(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	var callback C.pouw_verify_callback
	var userData unsafe.Pointer
	if progress != nil {
		slot, free := handleSlot(progress)
		defer free()
		userData = slot
		callback = C.pouw_verify_callback(C.goPouwVerifyProgress)
	}
	start, err := req.Start.c()
	if err != nil {
		return nil, err
	}
	mp, mn := bytesPtr(req.MinerID)
	pp, pn := bytesPtr(req.Proof)
	header, target := req.HeaderHash, req.Target
	var v C.pouw_verdict
	r := C.pouw_verify_with_progress(req.Params.c(), req.Store.c(), digestPtr(&header), mp, mn, &start,
		digestPtr((*[32]byte)(&target)), pp, pn, callback, userData, token, &v)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.MinerID)
	runtime.KeepAlive(req.Proof)
	if err := resultError("verify", r); err != nil {
		if e := err.(*Error); e.Code == CodeCancelled {
			e.cause = ctx.Err()
		}
		return nil, err
	}
	return verdictFromC(&v), nil
}

// VerifyRecordFree verifies a block proof in its record-free form (req.Proof; see
// RecordFreeProof), reading the batches and the challenged records from ds, the dataset the
// parameters commit to. The verdict is the self-contained form's.
func VerifyRecordFree(req VerifyRequest, ds *Dataset) (*Verdict, error) {
	if ds == nil {
		return nil, &Error{Code: CodeNullArgument, Message: message(CodeNullArgument), Op: "verify record-free"}
	}
	return verify(req, ds)
}

// RecordFreeProof is the record-free form of a self-contained block proof: the openings
// without their batches, one keyed digest per challenged record (for verifiers holding the
// dataset; a fraction of the size).
func RecordFreeProof(p *Params, proof []byte) ([]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	pp, pn := bytesPtr(proof)
	var out *C.pouw_buffer
	r := C.pouw_block_proof_record_free(p.c(), pp, pn, &out)
	runtime.KeepAlive(p)
	runtime.KeepAlive(proof)
	if err := resultError("record-free proof", r); err != nil {
		return nil, err
	}
	return takeBuffer(out), nil
}

func verify(req VerifyRequest, ds *Dataset) (*Verdict, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	start, err := req.Start.c()
	if err != nil {
		return nil, err
	}
	mp, mn := bytesPtr(req.MinerID)
	pp, pn := bytesPtr(req.Proof)
	header, target := req.HeaderHash, req.Target
	var v C.pouw_verdict
	var r C.pouw_result
	if ds == nil {
		r = C.pouw_verify(req.Params.c(), req.Store.c(), digestPtr(&header), mp, mn, &start,
			digestPtr((*[32]byte)(&target)), pp, pn, &v)
	} else {
		r = C.pouw_verify_record_free(req.Params.c(), ds.c(), req.Store.c(), digestPtr(&header), mp, mn,
			&start, digestPtr((*[32]byte)(&target)), pp, pn, &v)
	}
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.MinerID)
	runtime.KeepAlive(req.Proof)
	runtime.KeepAlive(ds)
	if err := resultError("verify", r); err != nil {
		return nil, err
	}
	return verdictFromC(&v), nil
}

func verdictFromC(v *C.pouw_verdict) *Verdict {
	out := &Verdict{
		Steps:       uint64(v.steps),
		OpenedCount: uint64(v.opened_count),
		Next:        startFromC(&v.next),
	}
	for i := range out.DatasetRoot {
		out.DatasetRoot[i] = byte(v.dataset_root[i])
		out.Work[i] = byte(v.work[i])
	}
	return out
}

// Segment values for AuditRequest.Segment besides a segment index.
const (
	// SegmentAll replays every step of the block.
	SegmentAll uint64 = C.POUW_SEGMENT_ALL
	// SegmentRandom replays one segment drawn from the library's own randomness: what every
	// node should do for every block it accepts (README "Security argument").
	SegmentRandom uint64 = C.POUW_SEGMENT_RANDOM
)

// AuditRequest is a block to replay step by step.
type AuditRequest struct {
	Params     *Params
	Dataset    *Dataset
	Store      *Store // holds the companion and segment starts; a fraud proof's checkpoint is put there
	HeaderHash [32]byte
	MinerID    []byte
	Start      []byte // the block's start checkpoint's bytes
	Target     Target // the block's target: no ticket before the winning one may beat it
	Proof      []byte
	// Segment is SegmentAll, SegmentRandom or a segment index below SegmentCount.
	Segment uint64
	// Progress, if not nil, is called after every replayed step (from a cgo callback: it must
	// return; a panic in it is recovered and ignored).
	Progress func(step, steps uint64)
}

// AuditResult is what an audit found.
type AuditResult struct {
	// Segment is the segment replayed (SegmentAll for the whole block).
	Segment uint64
	// Fraud is the fraud proof of the first wrong step, nil when every replayed step agrees.
	Fraud []byte
}

// Audit replays a block, whole or one segment. Cancelling ctx stops it before the next step
// with CodeCancelled.
func Audit(ctx context.Context, req AuditRequest) (AuditResult, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	token, release, err := cancelToken(ctx)
	if err != nil {
		return AuditResult{}, err
	}
	defer release()
	var callback C.pouw_audit_callback
	var userData unsafe.Pointer
	if req.Progress != nil {
		slot, free := handleSlot(req.Progress)
		defer free()
		userData = slot
		callback = C.pouw_audit_callback(C.goPouwAuditProgress)
	}
	mp, mn := bytesPtr(req.MinerID)
	sp, sn := bytesPtr(req.Start)
	pp, pn := bytesPtr(req.Proof)
	header, target := req.HeaderHash, req.Target
	var fraud *C.pouw_buffer
	var segment C.uint64_t
	r := C.pouw_audit(req.Params.c(), req.Dataset.c(), req.Store.c(), digestPtr(&header), mp, mn, sp, sn,
		digestPtr((*[32]byte)(&target)), pp, pn, C.uint64_t(req.Segment), callback, userData, token,
		&segment, &fraud)
	runtime.KeepAlive(req.Params)
	runtime.KeepAlive(req.Dataset)
	runtime.KeepAlive(req.Store)
	runtime.KeepAlive(req.MinerID)
	runtime.KeepAlive(req.Start)
	runtime.KeepAlive(req.Proof)
	if err := resultError("audit", r); err != nil {
		if e := err.(*Error); e.Code == CodeCancelled {
			e.cause = ctx.Err()
		}
		return AuditResult{}, err
	}
	out := AuditResult{Segment: uint64(segment)}
	if fraud != nil {
		out.Fraud = takeBuffer(fraud)
	}
	return out, nil
}

// SegmentCount is the number of segments of the block proof (under p's limits).
func SegmentCount(p *Params, proof []byte) (uint64, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	pp, pn := bytesPtr(proof)
	var count C.uint64_t
	err := resultError("segment count", C.pouw_segment_count(p.c(), pp, pn, &count))
	runtime.KeepAlive(p)
	runtime.KeepAlive(proof)
	return uint64(count), err
}

// BlockID is the identity of a self-contained block proof: what a chain records for an
// accepted block and gives VerifyFraudProof.
func BlockID(p *Params, proof []byte) ([32]byte, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	pp, pn := bytesPtr(proof)
	var id [32]byte
	err := resultError("block id", C.pouw_block_proof_id(p.c(), pp, pn, digestPtr(&id)))
	runtime.KeepAlive(p)
	runtime.KeepAlive(proof)
	return id, err
}

// VerifyFraudProof checks that fraud proves a step of the block blockProof wrong, the block the
// chain accepted under identity blockID (BlockID) whose start checkpoint has step counter
// startSteps, re-executing that one step. It returns the step; an honest step gives an error
// with CodeNotFraud, and block bytes or a fraud proof of another identity one with CodeBinding.
func VerifyFraudProof(p *Params, s *Store, blockID [32]byte, startSteps uint64, blockProof, fraud []byte) (uint64, error) {
	runtime.LockOSThread() // the failure's detail is kept per OS thread (see resultError)
	defer runtime.UnlockOSThread()
	bp, bn := bytesPtr(blockProof)
	fp, fn := bytesPtr(fraud)
	var step C.uint64_t
	err := resultError("verify fraud proof", C.pouw_fraud_proof_verify(p.c(), s.c(), digestPtr(&blockID),
		C.uint64_t(startSteps), bp, bn, fp, fn, &step))
	runtime.KeepAlive(p)
	runtime.KeepAlive(s)
	runtime.KeepAlive(blockProof)
	runtime.KeepAlive(fraud)
	return uint64(step), err
}
