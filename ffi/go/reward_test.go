//go:build cgo

package pouw

import (
	"errors"
	"testing"
)

// TestRewardRule: the integer rule, bounded and odd in the improvement; bad rules refused.
func TestRewardRule(t *testing.T) {
	rule := RewardRule{MaxAdjustmentPPM: 200000, FullImprovement: 1000}
	for _, c := range []struct {
		start, end QualityPoints
		want       uint64
	}{{5000, 5000, 1000000}, {5000, 4500, 1100000}, {4500, 5000, 900000}, {5000, 0, 1200000}, {0, 5000, 800000}} {
		got, err := Reward(1000000, c.start, c.end, rule)
		if err != nil || got != c.want {
			t.Fatalf("reward %d -> %d: %d (%v), want %d", c.start, c.end, got, err, c.want)
		}
	}
	if _, err := Reward(1, 0, 0, RewardRule{MaxAdjustmentPPM: 1000001, FullImprovement: 1}); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("adjustment above the subsidy: %v", err)
	}
	if _, err := Reward(1, 0, 0, RewardRule{MaxAdjustmentPPM: 1}); !IsCode(err, CodeInvalidParameters) {
		t.Fatalf("zero full improvement: %v", err)
	}
	if p, err := QualityPointsOf(0.5); err != nil || p != 1<<19 {
		t.Fatalf("points of 0.5: %d (%v)", p, err)
	}
	if _, err := QualityPointsOf(-1); !IsCode(err, CodeInvalidField) {
		t.Fatalf("negative score: %v", err)
	}
}

// TestSettleAndBreakTie: a block settled on a later block's records, and a tie broken the same
// way in either order.
func TestSettleAndBreakTie(t *testing.T) {
	c := newChain(t)
	a := c.mine(t, header(11), nil)
	b := c.mine(t, header(12), nil)
	req := c.request(header(11), a.Proof)
	s, err := Settle(req, [][]byte{b.Proof}, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Settle(req, [][]byte{b.Proof}, nil)
	if err != nil || *again != *s {
		t.Fatalf("settled twice: %+v vs %+v (%v)", again, s, err)
	}
	start, err := QualityPointsOf(s.StartQuality)
	if err != nil {
		t.Fatal(err)
	}
	end, err := QualityPointsOf(s.EndQuality)
	if err != nil {
		t.Fatal(err)
	}
	paid, err := Reward(1000000, start, end, RewardRule{MaxAdjustmentPPM: 250000, FullImprovement: 1 << 14})
	if err != nil || paid < 750000 || paid > 1250000 {
		t.Fatalf("reward %d (%v)", paid, err)
	}
	if _, err := Settle(req, nil, nil); !IsCode(err, CodeInvalidArgument) || !errors.Is(err, ErrUndecided) {
		t.Fatalf("no later block: %v", err)
	}
	if _, err := Settle(req, make([][]byte, 65), nil); !IsCode(err, CodeInvalidArgument) {
		t.Fatalf("65 later blocks: %v", err)
	}
	ab, err := BreakTie(req, a.Proof, b.Proof, nil)
	if err != nil {
		t.Fatal(err)
	}
	ba, err := BreakTie(req, b.Proof, a.Proof, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ab.APoints != ba.BPoints || ab.BPoints != ba.APoints || ab.ABlockID != ba.BBlockID || ab.PrefersB == ba.PrefersB {
		t.Fatalf("order matters: %+v vs %+v", ab, ba)
	}
	want := 1
	if !ab.PrefersB {
		want = -1
	}
	if got := Prefer(ab.APoints, ab.ABlockID, ab.BPoints, ab.BBlockID); got != want {
		t.Fatalf("prefer %d, tie-break says %d", got, want)
	}
}
