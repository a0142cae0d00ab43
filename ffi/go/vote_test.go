//go:build cgo

package pouw

import (
	"testing"
)

// Bitcoin Core's "locked in at the last window" version-bits case in heights: windows of 1000,
// threshold 900, start 2000, timeout 3000.
func TestRequestVoteLocksInAndActivates(t *testing.T) {
	v, err := NewRequestVote(testCid(t), VoteParams{Bit: 8, Window: 1000, Threshold: 900, StartHeight: 2000, TimeoutHeight: 3000})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	yes, _ := SignalWordFor(8)
	other, _ := SignalWordFor(9)
	var words []uint32
	mine := func(h int, w uint32) {
		for len(words) < h {
			words = append(words, w)
		}
	}
	expect := func(state VoteState, since uint64) {
		t.Helper()
		s, err := v.Status(words)
		if err != nil || s != (VoteStatus{state, since}) {
			t.Fatalf("at %d: %v since %d, %v; want %v since %d", len(words), s.State, s.Since, err, state, since)
		}
	}
	expect(VoteDefined, 0)
	mine(2000, yes)
	expect(VoteStarted, 2000)
	mine(2050, other)
	mine(2950, yes)
	mine(3000, other)
	expect(VoteLockedIn, 3000)
	mine(4000, 0)
	expect(VoteActive, 4000)
	// Another branch from height 2500 without the signal fails instead.
	branch := append([]uint32(nil), words[:2500]...)
	for len(branch) < 3000 {
		branch = append(branch, other)
	}
	if s, err := v.Status(branch); err != nil || s.State != VoteFailed {
		t.Fatalf("branch: %v, %v", s, err)
	}
	b, err := v.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	again, err := RequestVoteFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if p, err := again.Params(); err != nil || p.Threshold != 900 || p.TimeoutHeight != 3000 {
		t.Fatalf("params %+v, %v", p, err)
	}
	if _, err := RequestVoteFromBytes(b[:len(b)-1]); err == nil {
		t.Fatal("truncated vote decoded")
	}
	c := append([]byte(nil), b...)
	c[0] ^= 1
	if _, err := RequestVoteFromBytes(c); !IsCode(err, CodeBadMagic) {
		t.Fatalf("bad magic: %v", err)
	}
}

func TestRequestVoteRefusesBadParamsAndWords(t *testing.T) {
	for _, p := range []VoteParams{
		{Bit: 29, Window: 10, Threshold: 5, StartHeight: 10, TimeoutHeight: 20},
		{Bit: 1, Window: 10, Threshold: 11, StartHeight: 10, TimeoutHeight: 20},
		{Bit: 1, Window: 10, Threshold: 5, StartHeight: 15, TimeoutHeight: 20},
		{Bit: 1, Window: 10, Threshold: 5, StartHeight: 20, TimeoutHeight: 20},
	} {
		if _, err := NewRequestVote(testCid(t), p); !IsCode(err, CodeInvalidField) {
			t.Fatalf("%+v: %v", p, err)
		}
	}
	if _, err := NewRequestVote([]byte("not a cid"), VoteParams{Bit: 1, Window: 10, Threshold: 5, StartHeight: 10, TimeoutHeight: 20}); err == nil {
		t.Fatal("a non-CID request was taken")
	}
	if w, err := SignalWord([]byte{0x00, 0x01, 0x00, 0x20}); err != nil || w != 0x20000100 {
		t.Fatalf("signal word %#x, %v", w, err)
	}
	if _, err := SignalWord([]byte{1, 2, 3}); !IsCode(err, CodeInvalidField) {
		t.Fatalf("3-byte word: %v", err)
	}
	if SignalledBits(0x20000101) != 0x101 || SignalledBits(0x60000101) != 0 {
		t.Fatal("signalled bits")
	}
	if _, err := SignalWordFor(29); !IsCode(err, CodeInvalidField) {
		t.Fatalf("bit 29: %v", err)
	}
}

// testCid is a valid binary CID (a raw-codec CIDv1 over SHA3-256 of a fixed string).
func testCid(t *testing.T) []byte {
	t.Helper()
	return []byte{0x01, 0x55, 0x16, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
}
