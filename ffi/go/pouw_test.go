//go:build cgo

package pouw

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// digitsPath: $POUW_DIGITS, else ../shared/data beside the repository, else tests/data.
func digitsPath(t *testing.T) string {
	if p := os.Getenv("POUW_DIGITS"); p != "" {
		return p
	}
	shared := filepath.Join("..", "..", "..", "shared", "data", "digits.csv.gz")
	if _, err := os.Stat(shared); err == nil {
		return shared
	}
	return filepath.Join("..", "..", "tests", "data", "digits.csv.gz")
}

// chain is the small test setup: the digits, filters 16/8, batch 16, 4 opened steps, 8
// capacity challenges, about 6 steps a block, on the CPU, an in-memory store.
type chain struct {
	dataset *Dataset
	params  *Params
	store   *Store
	genesis []byte
	start   Start
	target  Target
}

var miner = []byte("miner-1")

func newChain(t *testing.T) *chain {
	t.Helper()
	ds, err := ImportDigits(digitsPath(t), filepath.Join(t.TempDir(), "digits"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Close)
	params, err := NewGanParams(ds, ParamsOptions{GFilters: 16, DFilters: 8, BatchSize: 16, OpenedSteps: Uint32(4), CapacityChallenges: 8, MaxSteps: 200, Device: DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(params.Close)
	store, err := NewMemoryStore()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	genesis, err := GenesisCheckpoint(params, [32]byte{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Put(genesis); err != nil {
		t.Fatal(err)
	}
	start, err := StartOfCheckpoint(params, genesis)
	if err != nil {
		t.Fatal(err)
	}
	target, err := TargetFromExpectedSteps(6)
	if err != nil {
		t.Fatal(err)
	}
	return &chain{ds, params, store, genesis, start, target}
}

func header(b byte) (h [32]byte) {
	for i := range h {
		h[i] = b
	}
	return h
}

func (c *chain) mine(t *testing.T, h [32]byte, progress func(uint64)) *Block {
	t.Helper()
	block, err := Mine(context.Background(), MineRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: h, MinerID: miner,
		Start: c.genesis, Target: c.target, Progress: progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	return block
}

func (c *chain) request(h [32]byte, proof []byte) VerifyRequest {
	return VerifyRequest{Params: c.params, Store: c.store, HeaderHash: h, MinerID: miner, Start: c.start, Target: c.target, Proof: proof}
}

func TestMineAndVerifyATinyBlock(t *testing.T) {
	c := newChain(t)
	var last uint64
	block := c.mine(t, header(3), func(step uint64) { last = step })
	v, err := Verify(c.request(header(3), block.Proof))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verdict: steps %d, opened %d, work %x", v.Steps, v.OpenedCount, v.Work)
	a, err := Assess(c.request(header(3), block.Proof), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("quality %.6f -> %.6f", a.StartQuality, a.EndQuality)
	if math.IsNaN(a.StartQuality) || math.IsInf(a.StartQuality, 0) || math.IsNaN(a.EndQuality) || math.IsInf(a.EndQuality, 0) {
		t.Fatalf("scores %+v", a)
	}
	if v.Steps == 0 || v.Steps != last {
		t.Fatalf("verdict steps %d, progress reported %d", v.Steps, last)
	}
	cid, err := CidOf(block.WinningCheckpoint)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(cid, v.Next.Cid) {
		t.Fatal("the verdict names another winning checkpoint")
	}
	next, err := StartOfCheckpoint(c.params, block.WinningCheckpoint)
	if err != nil || next.Digest != v.Next.Digest || next.Steps != v.Next.Steps || next.Steps != c.start.Steps+v.Steps {
		t.Fatalf("next start %+v, verdict %+v (%v)", next, v.Next, err)
	}
	work, err := WorkOfTarget(c.target)
	if err != nil || work != v.Work {
		t.Fatalf("work %x, verdict %x (%v)", work, v.Work, err)
	}
	twice, err := v.Work.Add(v.Work)
	if err != nil || v.Work[31] != 6 || twice[31] != 12 {
		t.Fatalf("work %x doubled %x (%v): 6 expected steps", v.Work, twice, err)
	}
	var full Work
	for i := range full {
		full[i] = 0xff
	}
	if _, err := full.Add(v.Work); !IsCode(err, CodeLimitExceeded) {
		t.Fatalf("overflowing work: %v", err)
	}
	root, _ := c.dataset.Root()
	if root != v.DatasetRoot {
		t.Fatal("the verdict names another dataset")
	}
	// The next block starts from the winning checkpoint, published with the proof.
	fetched, err := c.store.Get(v.Next.Cid)
	if err != nil || !bytes.Equal(fetched, block.WinningCheckpoint) {
		t.Fatalf("winning checkpoint not in the store: %v", err)
	}
	// Parameters round-trip through their canonical bytes.
	b, err := c.params.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParamsFromBytes(b, DeviceCPU, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	d1, _ := c.params.Digest()
	d2, _ := back.Digest()
	if d1 != d2 {
		t.Fatal("params digest changed through bytes")
	}
	text, err := CidString(c.start.Cid)
	if err != nil || !strings.HasPrefix(text, "b") {
		t.Fatalf("cid string %q: %v", text, err)
	}
	parsed, err := ParseCid(text)
	if err != nil || !bytes.Equal(parsed, c.start.Cid) {
		t.Fatalf("parse cid: %v", err)
	}
}

func TestRejectionsCarryTypedCodes(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(3), nil)
	cases := []struct {
		name string
		req  VerifyRequest
		code Code
	}{
		{"empty proof", c.request(header(3), nil), CodeTruncated},
		{"garbage proof", c.request(header(3), []byte("not a block proof at all")), CodeBadMagic},
		{"trailing byte", c.request(header(3), append(append([]byte{}, block.Proof...), 0)), CodeTrailingBytes},
		{"other header", c.request(header(4), block.Proof), CodeBinding},
		{"nil params", VerifyRequest{Store: c.store, Start: c.start, Proof: block.Proof}, CodeNullArgument},
		{"empty start cid", VerifyRequest{Params: c.params, Store: c.store, MinerID: miner, Proof: block.Proof}, CodeInvalidField},
		{"start cid too long", VerifyRequest{Params: c.params, Store: c.store, MinerID: miner, Start: Start{Cid: make([]byte, 65)}, Proof: block.Proof}, CodeInvalidArgument},
	}
	for _, tc := range cases {
		v, err := Verify(tc.req)
		var e *Error
		if v != nil || !errors.As(err, &e) || e.Code != tc.code {
			t.Fatalf("%s: got %v, %v; want code %d", tc.name, v, err, tc.code)
		}
		if !IsCode(err, tc.code) || !errors.Is(err, &Error{Code: tc.code}) || e.Message == "" {
			t.Fatalf("%s: error matching", tc.name)
		}
	}
	if _, err := NewGanParams(nil, ParamsOptions{}); !IsCode(err, CodeNullArgument) {
		t.Fatalf("nil dataset: %v", err)
	}
	if _, err := NewGanParams(c.dataset, ParamsOptions{Device: 42}); !IsCode(err, CodeInvalidArgument) {
		t.Fatalf("bad device: %v", err)
	}
	// Unset is not zero: OpenedSteps nil is the default (16); a pointer to 0 opens the winning
	// step alone.
	digest := func(o ParamsOptions) [32]byte {
		p, err := NewGanParams(c.dataset, o)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		d, err := p.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	small := ParamsOptions{GFilters: 16, DFilters: 8, BatchSize: 16, Device: DeviceCPU}
	unset := digest(small)
	small.OpenedSteps = Uint32(16)
	if digest(small) != unset {
		t.Fatal("OpenedSteps nil is not the default 16")
	}
	small.OpenedSteps = Uint32(0)
	if digest(small) == unset {
		t.Fatal("OpenedSteps 0 did not reach the library")
	}
	if _, err := OpenDataset(""); !IsCode(err, CodeInvalidArgument) {
		t.Fatalf("empty path: %v", err)
	}
	if _, err := OpenDataset("/nonexistent/pouw"); !IsCode(err, CodeIo) {
		t.Fatalf("missing dataset: %v", err)
	}
	if _, err := ParamsFromBytes(nil, DeviceCPU, 0); !IsCode(err, CodeTruncated) {
		t.Fatalf("empty params: %v", err)
	}
	var nilDataset *Dataset
	nilDataset.Close() // no-op
	if _, err := nilDataset.Len(); !IsCode(err, CodeNullArgument) {
		t.Fatalf("nil dataset len: %v", err)
	}
}

func TestCancelAndStepLimit(t *testing.T) {
	c := newChain(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var steps uint64
	_, err := Mine(ctx, MineRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(3), MinerID: miner,
		Start: c.genesis, Target: Target{}, // no ticket is below zero
		Progress: func(step uint64) {
			steps = step
			if step == 2 {
				cancel() // the watcher goroutine cancels the token from another thread
			}
		},
	})
	if !IsCode(err, CodeCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled mining: %v", err)
	}
	if steps < 2 || steps > 50 {
		t.Fatalf("cancellation seen after %d steps", steps)
	}
	_, err = Mine(context.Background(), MineRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(3), MinerID: miner,
		Start: c.genesis, Target: Target{}, StepLimit: 2,
	})
	if !IsCode(err, CodeStepLimit) {
		t.Fatalf("step limit: %v", err)
	}
}

func TestVerifyAlongsideMining(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(3), nil)
	alone, err := Verify(c.request(header(3), block.Proof))
	if err != nil {
		t.Fatal(err)
	}
	minedAlone := c.mine(t, header(9), nil)
	var wg sync.WaitGroup
	verdicts := make([]*Verdict, 2)
	errs := make([]error, 2)
	var mined *Block
	var mineErr error
	wg.Add(3)
	go func() {
		defer wg.Done()
		mined, mineErr = Mine(context.Background(), MineRequest{
			Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(9), MinerID: miner, Start: c.genesis, Target: c.target,
		})
	}()
	for i := range verdicts {
		go func(i int) {
			defer wg.Done()
			verdicts[i], errs[i] = Verify(c.request(header(3), block.Proof))
		}(i)
	}
	wg.Wait()
	if mineErr != nil || !bytes.Equal(mined.Proof, minedAlone.Proof) {
		t.Fatalf("mining alongside verifiers changed: %v", mineErr)
	}
	for i, v := range verdicts {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if v.Steps != alone.Steps || !bytes.Equal(v.Next.Cid, alone.Next.Cid) || v.Work != alone.Work {
			t.Fatalf("verdict %d differs from the one made alone", i)
		}
	}
}

// golden is the landed golden block (tests/golden): its parameters, proof and genesis.
type golden struct {
	dir         string
	params      *Params
	proof       []byte
	genesisText string
	genesis     []byte
}

// loadGolden reads the golden block; its parameters are closed when the test ends.
func loadGolden(t *testing.T) *golden {
	t.Helper()
	g := &golden{dir: filepath.Join("..", "..", "tests", "golden")}
	for _, name := range []string{"params.bin", "genesis.cid", "proof.bin", "store"} {
		if _, err := os.Stat(filepath.Join(g.dir, name)); err != nil {
			t.Fatalf("no golden proofs (%s missing; tests/golden/README.md names the files)", name)
		}
	}
	params, err := ParamsFromBytes(g.read(t, "params.bin"), DeviceCPU, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(params.Close)
	g.params, g.proof = params, g.read(t, "proof.bin")
	g.genesisText = strings.TrimSpace(string(g.read(t, "genesis.cid")))
	g.genesis = g.stored(t, g.genesisText)
	return g
}

// read is the golden file name.
func (g *golden) read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stored is the object the golden store holds under the CID text cid.
func (g *golden) stored(t *testing.T, cid string) []byte {
	return g.read(t, filepath.Join("store", cid+".safetensors"))
}

// request verifies the golden proof through store.
func (g *golden) request(t *testing.T, store *Store) VerifyRequest {
	t.Helper()
	start, err := StartOfCheckpoint(g.params, g.genesis)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := TargetFromExpectedSteps(8)
	return VerifyRequest{
		Params: g.params, Store: store, HeaderHash: header(0x42), MinerID: []byte("golden-miner"),
		Start: start, Target: target, Proof: g.proof,
	}
}

// TestGoldenProof verifies the golden block proof of tests/golden/ (see its README.md): the
// same bytes the Rust and C tests verify.
func TestGoldenProof(t *testing.T) {
	g := loadGolden(t)
	store, err := OpenDirStore(filepath.Join(g.dir, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cid, err := ParseCid(g.genesisText)
	if err != nil {
		t.Fatal(err)
	}
	if genesis, err := store.Get(cid); err != nil || !bytes.Equal(genesis, g.genesis) {
		t.Fatalf("genesis through the store: %v", err)
	}
	v, err := Verify(g.request(t, store))
	if err != nil {
		t.Fatalf("golden proof rejected: %v", err)
	}
	t.Logf("golden verdict: steps %d, work %x", v.Steps, v.Work)
}

// TestAuditOfAnHonestBlock replays a mined block, whole and one random segment: every step
// agrees; a forged fraud proof is refused, and so is any fraud proof under another identity.
func TestAuditOfAnHonestBlock(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(5), nil)
	var replayed uint64
	res, err := Audit(context.Background(), AuditRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(5), MinerID: miner,
		Start: c.genesis, Target: c.target, Proof: block.Proof, Segment: SegmentAll,
		Progress: func(step, steps uint64) { replayed = step; panic("recovered") },
	})
	if err != nil || res.Fraud != nil || res.Segment != SegmentAll {
		t.Fatalf("audit of an honest block: %+v, %v", res, err)
	}
	v, err := Verify(c.request(header(5), block.Proof))
	if err != nil || replayed != v.Steps {
		t.Fatalf("replayed %d steps of %d (%v)", replayed, v.Steps, err)
	}
	count, err := SegmentCount(c.params, block.Proof)
	if err != nil || count < 1 {
		t.Fatalf("segment count %d: %v", count, err)
	}
	res, err = Audit(context.Background(), AuditRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(5), MinerID: miner,
		Start: c.genesis, Target: c.target, Proof: block.Proof, Segment: SegmentRandom,
	})
	if err != nil || res.Fraud != nil || res.Segment >= count {
		t.Fatalf("audit of a random segment: %+v, %v", res, err)
	}
	id, err := BlockID(c.params, block.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyFraudProof(c.params, c.store, id, c.start.Steps, block.Proof, []byte("not a fraud proof")); !IsCode(err, CodeBadMagic) || !errors.Is(err, ErrInvalid) || errors.Is(err, ErrUndecided) {
		t.Fatalf("a garbage fraud proof: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Audit(ctx, AuditRequest{Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(5), MinerID: miner, Start: c.genesis, Target: c.target, Proof: block.Proof, Segment: SegmentAll}); !IsCode(err, CodeCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled audit: %v", err)
	}
}

func TestVersions(t *testing.T) {
	if Version() == "" || ProtocolVersion() == 0 {
		t.Fatal("versions")
	}
	if CodeBinding.String() == "" || CodeOK != 0 || CodeCancelled != 6 || CodeStepLimit != 7 {
		t.Fatal("codes")
	}
}

// TestRecordFreeProof: a mined block's record-free form is smaller and verifies from the dataset
// to the same verdict; a forged capacity digest is refused.
func TestRecordFreeProof(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(6), nil)
	compact, err := RecordFreeProof(c.params, block.Proof)
	if err != nil {
		t.Fatal(err)
	}
	if len(compact)*2 >= len(block.Proof) {
		t.Fatalf("record-free %d bytes, self-contained %d", len(compact), len(block.Proof))
	}
	full, err := Verify(c.request(header(6), block.Proof))
	if err != nil {
		t.Fatal(err)
	}
	v, err := VerifyRecordFree(c.request(header(6), compact), c.dataset)
	if err != nil {
		t.Fatal(err)
	}
	if v.Steps != full.Steps || v.Work != full.Work || v.Next.Digest != full.Next.Digest {
		t.Fatalf("verdicts differ: %+v vs %+v", v, full)
	}
	// Both forms score alike.
	fullScores, err := Assess(c.request(header(6), block.Proof), nil)
	if err != nil {
		t.Fatal(err)
	}
	compactScores, err := Assess(c.request(header(6), compact), c.dataset)
	if err != nil || *compactScores != *fullScores {
		t.Fatalf("scores differ: %+v vs %+v (%v)", compactScores, fullScores, err)
	}
	forged := append([]byte(nil), compact...)
	forged[len(forged)-1] ^= 1
	if _, err := VerifyRecordFree(c.request(header(6), forged), c.dataset); !IsCode(err, CodeInvalidField) {
		t.Fatalf("forged capacity digest: %v", err)
	}
	if _, err := VerifyRecordFree(c.request(header(6), compact), nil); !IsCode(err, CodeNullArgument) || !errors.Is(err, ErrUndecided) || errors.Is(err, ErrInvalid) {
		t.Fatalf("no dataset: %v", err)
	}
}

// TestVerifyContext: progress through every phase; a cancelled context stops verification.
func TestVerifyContext(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(7), nil)
	var phases []VerifyPhase
	var fetched uint64
	v, err := VerifyContext(context.Background(), c.request(header(7), block.Proof), func(p VerifyProgress) {
		phases = append(phases, p.Phase)
		fetched = p.FetchedBytes
		if p.Phase == VerifyCompanion {
			panic("recovered")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	segments, err := SegmentCount(c.params, block.Proof)
	if err != nil {
		t.Fatal(err)
	}
	// Checks, a step per opening, the companion; and at most a segment start per segment but
	// the first (one an opened step already started from is not fetched again).
	starts := 0
	for _, p := range phases {
		if p == VerifySegments {
			starts++
		}
	}
	if len(phases)-starts != int(v.OpenedCount)+2 || starts >= int(segments) || phases[0] != VerifyChecks || fetched == 0 {
		t.Fatalf("phases %v (opened %d, %d segments), fetched %d", phases, v.OpenedCount, segments, fetched)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := VerifyContext(ctx, c.request(header(7), block.Proof), nil); !IsCode(err, CodeCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled verification: %v", err)
	}
}

// TestErrorDetail: a failure carries the library's detailed message, and goroutines failing at
// once each get their own (the detail is per OS thread; calls hold theirs).
func TestErrorDetail(t *testing.T) {
	c := newChain(t)
	block := c.mine(t, header(8), nil)
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := c.request(header(8), block.Proof)
			if i%2 == 0 {
				req.HeaderHash = header(9)
			} else {
				req.MinerID = []byte("someone else")
			}
			_, errs[i] = Verify(req)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBinding {
			t.Fatalf("%d: %v", i, err)
		}
		want := map[bool]string{true: "header", false: "miner id"}[i%2 == 0]
		if !strings.Contains(e.Detail, want) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%d: detail %q lacks %q", i, e.Detail, want)
		}
	}
}

// TestLongErrorDetail: a detail longer than the first buffer (a 2 000-byte path) arrives whole.
func TestLongErrorDetail(t *testing.T) {
	path := "/nonexistent" + strings.Repeat("/abcdefghi", 200)
	_, err := OpenDataset(path)
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeIo || !strings.Contains(e.Detail, path) {
		t.Fatalf("missing dataset at a long path: %v", err)
	}
}

// TestMineOptions: options reach the library (a spill directory, zero kept memory: every kept
// checkpoint spilled).
func TestMineOptions(t *testing.T) {
	c := newChain(t)
	zero := uint64(0)
	req := MineRequest{
		Params: c.params, Dataset: c.dataset, Store: c.store, HeaderHash: header(10), MinerID: miner,
		Start: c.genesis, Target: c.target,
	}
	req.CheckpointInterval, req.MaxKept, req.KeptMemory, req.SpillDir = 2, 3, &zero, t.TempDir()
	block, err := Mine(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(c.request(header(10), block.Proof)); err != nil {
		t.Fatal(err)
	}
	// The spill directory reaches the library: a file in its place fails the spill.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	req.SpillDir = notADir
	if _, err := Mine(context.Background(), req); !IsCode(err, CodeIo) {
		t.Fatalf("spill directory that is a file: %v", err)
	}
}
