//go:build cgo

package pouw

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"testing"
)

// A request opened with a budget, an honest and a junk submitter, the junk one banned and its
// later block refused whole, then revert and re-apply giving the same bytes.
func TestLedgerCreditsBansAndReverts(t *testing.T) {
	s := newGrowthSetup(t)
	rule := ReputationRule{BanMinRejected: 3, BanRejectedPerMille: 500, PromoteMinAccepted: 4, PromoteRejectedPerMille: 100}
	id := func(h int, branch string) [32]byte { return sha256.Sum256([]byte(fmt.Sprint(branch, h))) }
	ledger, err := NewLedger(rule, id(0, "main"))
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	v := func(codes ...RecordCode) []RecordVerdict {
		out := make([]RecordVerdict, len(codes))
		for i, c := range codes {
			out[i] = RecordVerdict{Code: c}
		}
		return out
	}
	acc, bad := RecordAccepted, RecordImplausible
	blocks := []LedgerBlock{
		{Height: 1, Entries: []LedgerEntry{{Request: s.request, Open: true, Price: 5, Cap: 50}}},
		{Height: 2, Entries: []LedgerEntry{
			{Request: s.request, Submitter: []byte("honest"), Verdicts: v(acc, acc, acc, acc)},
			{Request: s.request, Submitter: []byte("junk"), Verdicts: v(bad, bad, bad, acc)},
		}},
		{Height: 3, Entries: []LedgerEntry{{Request: s.request, Submitter: []byte("honest"), Verdicts: v(acc, acc)}}},
	}
	var encoded [][]byte
	var states [][]byte
	for i := range blocks {
		b := &blocks[i]
		b.ID, b.Parent = id(int(b.Height), "main"), id(int(b.Height)-1, "main")
		raw, err := b.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := ledger.Apply(raw); err != nil {
			t.Fatalf("block %d: %v", b.Height, err)
		}
		encoded = append(encoded, raw)
		st, _ := ledger.Bytes()
		states = append(states, st)
	}
	cid, _ := s.request.Cid()
	account, err := ledger.Request(cid)
	if err != nil || !account.Open || account.Limit != 10 || account.Accepted != 7 || account.AcceptedForJudge != 1000-3 {
		t.Fatalf("account %+v, %v", account, err)
	}
	if c, _ := ledger.Credits([]byte("honest")); c != 30 {
		t.Fatalf("honest credits %d", c)
	}
	if st, _ := ledger.Standing([]byte("junk")); st.Standing != StandingBanned {
		t.Fatalf("junk %+v", st)
	}
	// The banned submitter's next settlement: the whole block is refused.
	refused := LedgerBlock{Height: 4, ID: id(4, "main"), Parent: id(3, "main"), Entries: []LedgerEntry{
		{Request: s.request, Submitter: []byte("honest"), Verdicts: v(acc)},
		{Request: s.request, Submitter: []byte("junk"), Verdicts: v(acc)},
	}}
	raw, _ := refused.Bytes()
	if err := ledger.Apply(raw); !IsCode(err, CodeLedgerRefused) {
		t.Fatalf("banned submitter's block: %v", err)
	}
	// More than the budget still pays for (3 left).
	over := LedgerBlock{Height: 4, ID: id(4, "main"), Parent: id(3, "main"), Entries: []LedgerEntry{
		{Request: s.request, Submitter: []byte("honest"), Verdicts: v(acc, acc, acc, acc)},
	}}
	raw, _ = over.Bytes()
	if err := ledger.Apply(raw); !IsCode(err, CodeLedgerRefused) {
		t.Fatalf("over budget: %v", err)
	}
	if now, _ := ledger.Bytes(); !bytes.Equal(now, states[2]) {
		t.Fatal("a refused block changed the ledger")
	}
	// Revert to height 1, then re-apply: the same bytes at every height.
	if err := ledger.Revert(encoded[1]); !IsCode(err, CodeLedgerRefused) {
		t.Fatalf("revert below the tip: %v", err)
	}
	for i := 2; i >= 1; i-- {
		if err := ledger.Revert(encoded[i]); err != nil {
			t.Fatal(err)
		}
		if now, _ := ledger.Bytes(); !bytes.Equal(now, states[i-1]) {
			t.Fatalf("revert of block %d", i+1)
		}
	}
	for i := 1; i <= 2; i++ {
		if err := ledger.Apply(encoded[i]); err != nil {
			t.Fatal(err)
		}
	}
	final, _ := ledger.Bytes()
	if !bytes.Equal(final, states[2]) {
		t.Fatal("re-applied ledger differs")
	}
	if h, tip, err := ledger.Tip(); err != nil || h != 3 || tip != id(3, "main") {
		t.Fatalf("tip %d %x %v", h, tip, err)
	}
	copy, err := LedgerFromBytes(final)
	if err != nil {
		t.Fatal(err)
	}
	defer copy.Close()
	d1, _ := ledger.Digest()
	d2, _ := copy.Digest()
	if d1 != d2 {
		t.Fatal("decoded ledger has another digest")
	}
	if _, err := LedgerFromBytes(final[:len(final)-1]); err == nil {
		t.Fatal("truncated ledger decoded")
	}
}
