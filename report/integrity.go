package report

import "math"

// Group signals point an inspector at a desk, an officer or a unit, not
// at an answer: a share of answers far above what its peers give, by a
// one-sided binomial test. Answers are never flagged by them.
const (
	// SignalAllTop: a desk's or officer's share of answers all at the
	// top level without a comment, against its agency's.
	SignalAllTop = "all_top_no_comment"
	// SignalQuick: a unit's share of web answers completed within ten
	// minutes of the invitation's creation, against the province's.
	SignalQuick = "quick_after_creation"
)

// GroupSignalMin is the fewest answers a group signal is judged on.
const GroupSignalMin = 30

// GroupSignalLevel is the p-value below which a share is far above the
// expected one: strict, since a province tests hundreds of groups.
const GroupSignalLevel = 0.001

// GroupSignal is one group's share of a kind of answer against the share
// expected of it (its peers'), with the chance of a share at least this
// high if it were the same (PValue); Raised when that chance is below
// GroupSignalLevel on at least GroupSignalMin answers.
type GroupSignal struct {
	Signal   string  `json:"signal"`
	Count    int64   `json:"count"`
	Of       int64   `json:"of"`
	Share    float64 `json:"share"`    // percent
	Expected float64 `json:"expected"` // percent
	PValue   float64 `json:"p_value"`
	Raised   bool    `json:"raised"`
}

// TestShare judges k of n against the share p (0–1) expected.
func TestShare(signal string, k, n int64, p float64) GroupSignal {
	g := GroupSignal{Signal: signal, Count: k, Of: n, Expected: round2(100 * p), PValue: 1}
	if n > 0 {
		g.Share = round2(100 * float64(k) / float64(n))
		g.PValue = BinomialUpper(k, n, p)
	}
	g.Raised = n >= GroupSignalMin && g.PValue < GroupSignalLevel && float64(k) > p*float64(n)
	return g
}

// AllTopSignal is a desk's or officer's all-top share against its
// agency's (the agency's figures include the group's own: a
// conservative test).
func AllTopSignal(group, agency Integrity, groupResponses, agencyResponses int64) GroupSignal {
	p := 0.0
	if agencyResponses > 0 {
		p = float64(agency.AllTopNoComment) / float64(agencyResponses)
	}
	return TestShare(SignalAllTop, group.AllTopNoComment, groupResponses, p)
}

// QuickSignal is a unit's quick web answers against the province's.
func QuickSignal(unit, province Integrity) GroupSignal {
	p := 0.0
	if province.WebTimed > 0 {
		p = float64(province.WebQuick) / float64(province.WebTimed)
	}
	return TestShare(SignalQuick, unit.WebQuick, unit.WebTimed, p)
}

// BinomialUpper is P(X ≥ k) for X ~ Binomial(n, p), summed exactly in
// logarithms (n up to a province-year's answers of one group).
func BinomialUpper(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	case p <= 0:
		return 0
	case p >= 1:
		return 1
	}
	lp, lq := math.Log(p), math.Log1p(-p)
	ln, _ := math.Lgamma(float64(n) + 1)
	sum := 0.0
	for i := k; i <= n; i++ {
		li, _ := math.Lgamma(float64(i) + 1)
		lr, _ := math.Lgamma(float64(n-i) + 1)
		t := math.Exp(ln - li - lr + float64(i)*lp + float64(n-i)*lq)
		sum += t
		if t < sum*1e-17 && float64(i) > float64(n)*p {
			break // the rest of the tail adds nothing a double holds
		}
	}
	return min(sum, 1)
}
