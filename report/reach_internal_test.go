package report

import (
	"math"
	"testing"
)

// A step counted above its base (the sends lost with an embedded Redis,
// the answers kept) gives a rate of 100% with a finite interval, never
// more, and never a NaN that would break the report's JSON.
func TestReachRateNeverPassesItsBase(t *testing.T) {
	r := rateOf(5, 3)
	if r.Rate != 100 || math.IsNaN(r.Interval.Low) || r.Interval.High != 100 || r.Interval.Low <= 0 {
		t.Fatalf("5 of 3: %+v", r)
	}
	if r := rateOf(0, 0); r.Rate != 0 || math.IsNaN(r.Interval.Low) || math.IsNaN(r.Interval.High) {
		t.Fatalf("0 of 0: %+v", r)
	}
}
