//go:build cgo

package pouw

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ---- Consistency proofs: the golden proof of a real append ----

type consistencyGolden struct {
	oldSize, newSize uint64
	oldRoot, newRoot [32]byte
	nodes            [][32]byte
	encoded          []byte
}

// readConsistencyGolden reads testdata/consistency.txt (written by the Rust test
// ffi/tests/growth_api.rs from a real append; its header names the command that regenerates it).
func readConsistencyGolden(t *testing.T) consistencyGolden {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "consistency.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var g consistencyGolden
	digest := func(s string) (d [32]byte) {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) != 32 {
			t.Fatalf("bad digest %q", s)
		}
		copy(d[:], b)
		return d
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		switch key {
		case "old_size", "new_size":
			n, err := strconv.ParseUint(value, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			if key == "old_size" {
				g.oldSize = n
			} else {
				g.newSize = n
			}
		case "old_root":
			g.oldRoot = digest(value)
		case "new_root":
			g.newRoot = digest(value)
		case "node":
			g.nodes = append(g.nodes, digest(value))
		case "encoded":
			if g.encoded, err = hex.DecodeString(value); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unknown key %q", key)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if g.oldSize == 0 || g.newSize <= g.oldSize || len(g.nodes) == 0 || len(g.encoded) == 0 {
		t.Fatalf("incomplete golden file: %+v", g)
	}
	return g
}

func TestConsistencyProofOfARealAppend(t *testing.T) {
	g := readConsistencyGolden(t)
	if err := VerifyConsistency(g.oldSize, g.oldRoot, g.newSize, g.newRoot, g.nodes); err != nil {
		t.Fatalf("golden proof fails: %v", err)
	}
	mismatch := func(name string, err error) {
		t.Helper()
		if !IsCode(err, CodeConsistencyMismatch) {
			t.Fatalf("%s: %v, want a consistency mismatch", name, err)
		}
	}
	for i := range g.nodes {
		nodes := append([][32]byte(nil), g.nodes...)
		nodes[i][7] ^= 0x10
		mismatch("tampered node", VerifyConsistency(g.oldSize, g.oldRoot, g.newSize, g.newRoot, nodes))
	}
	badRoot := g.oldRoot
	badRoot[0] ^= 1
	mismatch("tampered old root", VerifyConsistency(g.oldSize, badRoot, g.newSize, g.newRoot, g.nodes))
	mismatch("tampered new root", VerifyConsistency(g.oldSize, g.oldRoot, g.newSize, badRoot, g.nodes))
	mismatch("node missing", VerifyConsistency(g.oldSize, g.oldRoot, g.newSize, g.newRoot, g.nodes[1:]))
	mismatch("no nodes", VerifyConsistency(g.oldSize, g.oldRoot, g.newSize, g.newRoot, nil))
	mismatch("old size 0", VerifyConsistency(0, g.oldRoot, g.newSize, g.newRoot, g.nodes))
	mismatch("sizes swapped", VerifyConsistency(g.newSize, g.newRoot, g.oldSize, g.oldRoot, g.nodes))
	if err := VerifyConsistency(g.newSize, g.newRoot, g.newSize, g.newRoot, nil); err != nil {
		t.Fatalf("a tree is consistent with itself: %v", err)
	}

	info, err := VerifyAppendProof(g.encoded)
	if err != nil {
		t.Fatal(err)
	}
	want := AppendProofInfo{OldSize: g.oldSize, OldRoot: g.oldRoot, NewSize: g.newSize, NewRoot: g.newRoot}
	if *info != want {
		t.Fatalf("append proof info %+v, want %+v", *info, want)
	}
	if _, err := VerifyAppendProof(g.encoded[:len(g.encoded)-1]); !IsCode(err, CodeTruncated) {
		t.Fatalf("truncated append proof: %v", err)
	}
	if _, err := VerifyAppendProof(nil); !IsCode(err, CodeTruncated) {
		t.Fatalf("empty append proof: %v", err)
	}
	tampered := append([]byte(nil), g.encoded...)
	tampered[len(tampered)-1] ^= 1
	if _, err := VerifyAppendProof(tampered); !IsCode(err, CodeConsistencyMismatch) {
		t.Fatalf("tampered append proof: %v", err)
	}
}

// ---- Submissions ----

// digitsRows reads every row of the digits CSV (plain or gzip): the CSV lines and the 64 pixels
// of each.
func digitsRows(t *testing.T) ([]string, [][]byte) {
	t.Helper()
	raw, err := os.ReadFile(digitsPath(t))
	if err != nil {
		t.Fatal(err)
	}
	var r io.Reader = bytes.NewReader(raw)
	if len(raw) > 2 && raw[0] == 0x1f && raw[1] == 0x8b {
		if r, err = gzip.NewReader(r); err != nil {
			t.Fatal(err)
		}
	}
	var lines []string
	var rows [][]byte
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		fields := strings.Split(line, ",")
		if len(fields) != 65 {
			t.Fatalf("digits row with %d fields", len(fields))
		}
		row := make([]byte, 64)
		for i := range row {
			v, err := strconv.Atoi(fields[i])
			if err != nil {
				t.Fatal(err)
			}
			row[i] = byte(v)
		}
		lines = append(lines, line)
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines, rows
}

// growthSetup: a dataset of the first 1500 digits (the others are fresh records), small
// parameters, the genesis checkpoint as the judge, the threshold at the dataset's median logit.
type growthSetup struct {
	rows       [][]byte
	dataset    *Dataset
	params     *Params
	checkpoint []byte
	threshold  float32
	request    *DatasetRequest
	judge      *Judge
}

func newGrowthSetup(t *testing.T) *growthSetup {
	t.Helper()
	lines, rows := digitsRows(t)
	dir := t.TempDir()
	csv := filepath.Join(dir, "digits-1500.csv")
	if err := os.WriteFile(csv, []byte(strings.Join(lines[:1500], "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ds, err := ImportDigits(csv, filepath.Join(dir, "digits"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ds.Close)
	params, err := NewGanParams(ds, ParamsOptions{GFilters: 16, DFilters: 8, BatchSize: 16, Device: DeviceCPU})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(params.Close)
	checkpoint, err := GenesisCheckpoint(params, [32]byte{1})
	if err != nil {
		t.Fatal(err)
	}
	threshold, err := CalibrateThreshold(params, checkpoint, ds, 500)
	if err != nil {
		t.Fatal(err)
	}
	ink, err := DatasetInkBounds(ds)
	if err != nil {
		t.Fatal(err)
	}
	if ink.Min < 1 || ink.Min >= ink.Max || ink.Max > 64 {
		t.Fatalf("ink bounds %v", ink)
	}
	request, err := NewDatasetRequest(ds, params, checkpoint, threshold, 1000, RequestOptions{Ink: &ink})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(request.Close)
	judge, err := NewJudge(request, params, checkpoint, ds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(judge.Close)
	return &growthSetup{rows, ds, params, checkpoint, threshold, request, judge}
}

func TestCheckSubmission(t *testing.T) {
	s := newGrowthSetup(t)
	fresh := s.rows[1500:1560]
	blank := make([]byte, 64)
	outOfRange := append([]byte(nil), s.rows[1600]...)
	outOfRange[9] = 99
	records := append([][]byte(nil), fresh...)
	nearCopy := append([]byte(nil), s.rows[7]...)
	nearCopy[30] = (nearCopy[30] + 5) % 17 // one value changed
	mirrored := make([]byte, 64)           // dataset record 8, each row reversed
	for i := range mirrored {
		mirrored[i] = s.rows[8][i/8*8+7-i%8]
	}
	records = append(records, blank, outOfRange, s.rows[4], fresh[0], nearCopy, mirrored)
	verdicts, err := s.judge.CheckSubmission([]byte("carol"), records, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) != len(records) {
		t.Fatalf("%d verdicts for %d records", len(verdicts), len(records))
	}
	accepted, implausible := 0, 0
	for _, v := range verdicts[:len(fresh)] {
		switch v.Code {
		case RecordAccepted:
			accepted++
			if !(v.Logit >= s.threshold) {
				t.Fatalf("accepted at logit %v under the threshold %v", v.Logit, s.threshold)
			}
		case RecordImplausible:
			implausible++
			if !(v.Logit < s.threshold) {
				t.Fatalf("implausible at logit %v over the threshold %v", v.Logit, s.threshold)
			}
		}
	}
	t.Logf("%d fresh digits: %d accepted, %d implausible (threshold %v)", len(fresh), accepted, implausible, s.threshold)
	if accepted == 0 || implausible == 0 {
		t.Fatalf("the median threshold should split the fresh digits: %v", verdicts)
	}
	junk := verdicts[len(fresh):]
	wantJunk := []RecordCode{RecordInkOutOfBounds, RecordValueOutOfRange, RecordDuplicateOfDataset, RecordDuplicateInSubmission, RecordNearCopyOfDataset, RecordTransformedCopyOfDataset}
	for i, want := range wantJunk {
		if junk[i].Code != want || !math.IsNaN(float64(junk[i].Logit)) || junk[i].Accepted() {
			t.Fatalf("junk record %d: %v (%v), want %v", i, junk[i].Code, junk[i].Logit, want)
		}
	}

	// The same records through the canonical encoding, and with a record of the wrong size
	// (records of several sizes go through the encoding too).
	encoded, err := EncodeSubmission(s.request, []byte("carol"), records)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.judge.CheckEncodedSubmission(encoded, 0)
	if err != nil {
		t.Fatal(err)
	}
	same := func(a, b []RecordVerdict) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if a[i].Code != b[i].Code || math.Float32bits(a[i].Logit) != math.Float32bits(b[i].Logit) {
				return false
			}
		}
		return true
	}
	if !same(again, verdicts) {
		t.Fatal("the encoded submission gets other verdicts")
	}
	mixed := append(append([][]byte(nil), records...), []byte{1, 2, 3})
	mixedVerdicts, err := s.judge.CheckSubmission([]byte("carol"), mixed, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !same(mixedVerdicts[:len(records)], verdicts) || mixedVerdicts[len(records)].Code != RecordWrongSize {
		t.Fatalf("mixed sizes: %v", mixedVerdicts[len(records):])
	}
	// The target caps acceptances.
	capped, err := s.judge.CheckSubmission([]byte("carol"), records, 999)
	if err != nil {
		t.Fatal(err)
	}
	filled := 0
	for _, v := range capped {
		if v.Code == RecordRequestFilled {
			filled++
		}
	}
	if filled != accepted-1 {
		t.Fatalf("%d request-filled verdicts, want %d", filled, accepted-1)
	}
	// No records: no verdicts.
	if none, err := s.judge.CheckSubmission([]byte("carol"), nil, 0); err != nil || len(none) != 0 {
		t.Fatalf("empty submission: %v, %v", none, err)
	}

	// Submissions refused as a whole.
	if _, err := s.judge.CheckSubmission(nil, records, 0); !IsCode(err, CodeInvalidField) {
		t.Fatalf("no submitter: %v", err)
	}
	if _, err := s.judge.CheckEncodedSubmission(encoded[:len(encoded)-1], 0); !IsCode(err, CodeTruncated) {
		t.Fatalf("truncated submission: %v", err)
	}
	tooMany := make([][]byte, 1025)
	for i := range tooMany {
		tooMany[i] = fresh[0]
	}
	if _, err := s.judge.CheckSubmission([]byte("carol"), tooMany, 0); !IsCode(err, CodeLimitExceeded) {
		t.Fatalf("too many records: %v", err)
	}
	if _, err := EncodeSubmission(s.request, []byte("carol"), tooMany); !IsCode(err, CodeLimitExceeded) {
		t.Fatalf("encoding too many records: %v", err)
	}
	var closed *Judge
	if _, err := closed.CheckSubmission([]byte("carol"), records, 0); !IsCode(err, CodeNullArgument) {
		t.Fatalf("nil judge: %v", err)
	}

	// Reputation counts the verdicts.
	rule, err := DefaultReputationRule()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := NewReputation(rule)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	if _, err := rep.Record([]byte("carol"), verdicts); err != nil {
		t.Fatal(err)
	}
	st, err := rep.Standing([]byte("carol"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Accepted != uint64(accepted) || st.Rejected != uint64(len(verdicts)-accepted) {
		t.Fatalf("counts %+v, want %d accepted", st, accepted)
	}
}

func TestDatasetRequestsAndJudges(t *testing.T) {
	s := newGrowthSetup(t)
	b, err := s.request.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	back, err := DatasetRequestFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	b2, err := back.Bytes()
	if err != nil || !bytes.Equal(b, b2) {
		t.Fatalf("request bytes changed through decoding: %v", err)
	}
	cid, err := s.request.Cid()
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := CidOf(b); !bytes.Equal(cid, want) {
		t.Fatal("the request's CID is not the CID of its bytes")
	}
	if max, err := s.request.MaxRecords(); err != nil || max != 1024 {
		t.Fatalf("max records %d: %v", max, err)
	}
	for name, c := range map[string]struct {
		bytes []byte
		code  Code
	}{
		"empty":     {nil, CodeTruncated},
		"truncated": {b[:len(b)-1], CodeTruncated},
		"trailing":  {append(append([]byte(nil), b...), 0), CodeTrailingBytes},
	} {
		if _, err := DatasetRequestFromBytes(c.bytes); !IsCode(err, c.code) {
			t.Fatalf("%s request: %v, want %v", name, err, c.code)
		}
	}
	for name, o := range map[string]RequestOptions{
		"infinite threshold":       {},
		"ink bounds crossed":       {Ink: &InkBounds{Min: 9, Max: 8}},
		"distance at 100%":         {DistanceRejectPerMille: Uint32(1000)},
		"radius over 8":            {MaxShift: Uint32(9)},
		"bytes under one record":   {MaxBytes: 63},
		"near copies at 100%":      {NearCopy: &NearCopyRule{PerMille: 1000}},
		"tolerance at the top":     {NearCopy: &NearCopyRule{PerMille: 150, Tolerance: 16}},
		"unknown copy transform":   {CopyTransforms: Uint32(16)},
		"turned alone":             {CopyTransforms: Uint32(CopyTurned)},
		"levels at 100%":           {Levels: &NearCopyRule{PerMille: 1000}},
		"levels tolerance 256":     {Levels: &NearCopyRule{PerMille: 50, Tolerance: 256}},
		"noise copies at 100%":     {NoiseCopy: &NearCopyRule{PerMille: 1000}},
		"noise at the top":         {NoiseCopy: &NearCopyRule{PerMille: 20, Tolerance: 16}},
		"flat squares of 1":        {FlatPatch: &FlatPatchRule{Side: 1}},
		"flat squares past 8":      {FlatPatch: &FlatPatchRule{Side: 9}},
		"ground above 16":          {FlatPatch: &FlatPatchRule{Side: 3, Grounds: [32]byte{2: 0b10}}},
		"ground with the rule off": {FlatPatch: &FlatPatchRule{Grounds: [32]byte{0: 1}}},
		"near squares of 1":        {NearFlat: &NearFlatRule{Side: 1, Tolerance: 2}},
		"near tolerance of 0":      {NearFlat: &NearFlatRule{Side: 3}},
		"near tolerance of 16":     {NearFlat: &NearFlatRule{Side: 3, Tolerance: 16}},
		"tolerance with it off":    {NearFlat: &NearFlatRule{Tolerance: 2}},
	} {
		threshold := s.threshold
		if name == "infinite threshold" {
			threshold = float32(math.Inf(1))
		}
		if _, err := NewDatasetRequest(s.dataset, s.params, s.checkpoint, threshold, 10, o); !IsCode(err, CodeInvalidField) {
			t.Fatalf("%s: %v", name, err)
		}
	}
	// Options change the rules: a smaller submission limit; the ink rule is off unless set.
	plain, err := NewDatasetRequest(s.dataset, s.params, s.checkpoint, s.threshold, 10, RequestOptions{MaxRecords: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if max, err := plain.MaxRecords(); err != nil || max != 4 {
		t.Fatalf("max records %d: %v", max, err)
	}
	if _, err := EncodeSubmission(plain, []byte("x"), make([][]byte, 5)); !IsCode(err, CodeLimitExceeded) {
		t.Fatalf("5 records for a limit of 4: %v", err)
	}
	pj, err := NewJudge(plain, s.params, s.checkpoint, s.dataset)
	if err != nil {
		t.Fatal(err)
	}
	defer pj.Close()
	if v, err := pj.CheckSubmission([]byte("x"), [][]byte{make([]byte, 64)}, 0); err != nil || v[0].Code == RecordInkOutOfBounds || v[0].Accepted() {
		t.Fatalf("a blank record without the ink rule: %v, %v", v, err)
	}
	// The negative rule is on by default; the option turns it off (other request bytes).
	ruleBytes := func(o RequestOptions) []byte {
		r, err := NewDatasetRequest(s.dataset, s.params, s.checkpoint, s.threshold, 10, o)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		b, err := r.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	on, off := true, false
	if def := ruleBytes(RequestOptions{}); !bytes.Equal(def, ruleBytes(RequestOptions{NegativeRule: &on})) || bytes.Equal(def, ruleBytes(RequestOptions{NegativeRule: &off})) {
		t.Fatal("the negative rule option does not reach the request")
	}
	if bytes.Equal(ruleBytes(RequestOptions{}), ruleBytes(RequestOptions{Levels: &NearCopyRule{}})) {
		t.Fatal("the levels option does not reach the request")
	}
	if bytes.Equal(ruleBytes(RequestOptions{}), ruleBytes(RequestOptions{NoiseCopy: &NearCopyRule{PerMille: 7, Tolerance: 3}})) {
		t.Fatal("the noise copy option does not reach the request")
	}
	if bytes.Equal(ruleBytes(RequestOptions{}), ruleBytes(RequestOptions{FlatPatch: &FlatPatchRule{Side: 4, Grounds: [32]byte{0: 1}}})) {
		t.Fatal("the flat patch option does not reach the request")
	}
	if bytes.Equal(ruleBytes(RequestOptions{}), ruleBytes(RequestOptions{NearFlat: &NearFlatRule{Side: 5, Tolerance: 3}})) {
		t.Fatal("the near flat option does not reach the request")
	}
	// The judge refuses another checkpoint than the request's; closing is idempotent.
	other := append([]byte(nil), s.checkpoint...)
	other[len(other)-1] ^= 1
	if _, err := NewJudge(s.request, s.params, other, s.dataset); !IsCode(err, CodeInvalidField) {
		t.Fatalf("judge of another checkpoint: %v", err)
	}
	var nilRequest *DatasetRequest
	if _, err := NewJudge(nilRequest, s.params, s.checkpoint, s.dataset); !IsCode(err, CodeNullArgument) {
		t.Fatalf("judge of no request: %v", err)
	}
	j, err := NewJudge(back, s.params, s.checkpoint, s.dataset)
	if err != nil {
		t.Fatal(err)
	}
	back.Close() // the judge keeps what it needs
	if v, err := j.CheckSubmission([]byte("x"), [][]byte{s.rows[1700], {1}}, 0); err != nil || len(v) != 2 || v[1].Code != RecordWrongSize {
		t.Fatalf("check after the request was closed: %v, %v", v, err)
	}
	j.Close()
	j.Close()
}

func TestReputation(t *testing.T) {
	rule := ReputationRule{BanMinRejected: 2, BanRejectedPerMille: 500, PromoteMinAccepted: 3, PromoteRejectedPerMille: 100}
	rep, err := NewReputation(rule)
	if err != nil {
		t.Fatal(err)
	}
	defer rep.Close()
	v := func(codes ...RecordCode) []RecordVerdict {
		out := make([]RecordVerdict, len(codes))
		for i, c := range codes {
			out[i] = RecordVerdict{Code: c}
		}
		return out
	}
	if st, err := rep.Record([]byte("good"), v(RecordAccepted, RecordAccepted, RecordAccepted, RecordRequestFilled)); err != nil || st != StandingPromoted {
		t.Fatalf("good: %v, %v", st, err)
	}
	if st, err := rep.Record([]byte("bad"), v(RecordWrongSize, RecordImplausible, RecordAccepted)); err != nil || st != StandingBanned {
		t.Fatalf("bad: %v, %v", st, err)
	}
	before, err := rep.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Record([]byte("bad"), v(RecordAccepted)); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("banned submitter recorded: %v", err)
	}
	if _, err := rep.Record([]byte("new"), v(RecordCode(42))); !IsCode(err, CodeInvalidArgument) {
		t.Fatalf("unknown code recorded: %v", err)
	}
	if _, err := rep.Record(nil, v(RecordAccepted)); !IsCode(err, CodeInvalidField) {
		t.Fatalf("empty submitter recorded: %v", err)
	}
	after, err := rep.Bytes()
	if err != nil || !bytes.Equal(before, after) {
		t.Fatalf("refused records changed the table: %v", err)
	}
	st, err := rep.Standing([]byte("bad"))
	if err != nil || st != (SubmitterStanding{Accepted: 1, Rejected: 2, Standing: StandingBanned}) {
		t.Fatalf("bad standing %+v: %v", st, err)
	}
	if st, err := rep.Standing([]byte("nobody")); err != nil || st != (SubmitterStanding{Standing: StandingNormal}) {
		t.Fatalf("unknown submitter %+v: %v", st, err)
	}
	back, err := ReputationFromBytes(after)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	d1, _ := rep.Digest()
	d2, err := back.Digest()
	if err != nil || d1 != d2 {
		t.Fatalf("digest changed through bytes: %v", err)
	}
	if _, err := ReputationFromBytes(after[:len(after)-1]); !IsCode(err, CodeTruncated) {
		t.Fatalf("truncated table: %v", err)
	}
	if _, err := NewReputation(ReputationRule{}); !IsCode(err, CodeInvalidField) {
		t.Fatalf("zero rule: %v", err)
	}
	def, err := DefaultReputationRule()
	if err != nil || def.BanMinRejected == 0 || def.PromoteRejectedPerMille > def.BanRejectedPerMille {
		t.Fatalf("default rule %+v: %v", def, err)
	}
	if StandingBanned.String() != "banned" || RecordImplausible.String() != "implausible (discriminator)" {
		t.Fatal("names")
	}
	var none *Reputation
	none.Close()
	if _, err := none.Bytes(); !IsCode(err, CodeNullArgument) {
		t.Fatalf("nil table: %v", err)
	}
}
