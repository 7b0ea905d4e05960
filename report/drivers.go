package report

import (
	"math"
	"sort"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Why a unit is low: each question's gap to a comparison (the rest of the
// province) with its interval, and how much each question goes with the
// unit's respondents' satisfaction with the rest of the survey.
//
// The importance of a question is its item-rest correlation: over the
// unit's respondents who answered it and at least one other question, the
// Pearson correlation of their answer with the mean of their other
// answers. It needs no extra "overall satisfaction" question (SIPAS has
// none), is what survey practice uses to weigh items of one scale, and is
// exact from the sums the roll-ups keep (store.RestSums). A question is
// "important" when its correlation is at least the median of the
// questions with enough respondents, "low" when its share satisfied is
// below the unit's own mean share over those questions
// (importance-performance analysis, which ranks a unit's questions
// against each other) or significantly below the comparison: a question
// clearly behind the province is never called fine.

// Gap is a unit's share satisfied minus the comparison's, in points, with
// the 95% interval of that difference (Newcombe's hybrid score method,
// from the two Wilson intervals); Significant when the interval leaves out
// 0.
type Gap struct {
	Points      float64  `json:"points"`
	Interval    Interval `json:"interval"`
	Significant bool     `json:"significant"`
}

// Importance is a question's item-rest correlation over Respondents, with
// its 95% interval (Fisher's z).
type Importance struct {
	Correlation float64  `json:"correlation"`
	Interval    Interval `json:"interval"`
	Respondents int64    `json:"respondents"`
}

// Driver quadrants.
const (
	ImportantLow  = "important_low"
	ImportantFine = "important_fine"
	MinorLow      = "minor_low"
	MinorFine     = "minor_fine"
	TooFewAnswers = "too_few_answers"
)

// Driver is one question's figures for a unit.
type Driver struct {
	ID         string      `json:"id"`
	Criterion  string      `json:"criterion"`
	Unit       Figure      `json:"unit"`
	Compared   *Figure     `json:"compared,omitempty"`
	Gap        *Gap        `json:"gap,omitempty"`
	Importance *Importance `json:"importance,omitempty"`
	Quadrant   string      `json:"quadrant"`
}

// Drivers computes def's questions' drivers for a unit from its cells
// (main family), its rest cells (store.RestDim) and, when compared is
// not nil, the comparison's cells (main family). minAnswers is the least
// number of answers (and respondents) a question needs to be judged.
// Questions with a significant gap below the comparison come first, the
// largest first, then by gap.
func Drivers(def *survey.Survey, unit, rest, compared store.Cells, minAnswers int64) []Driver {
	u := Compute(def, unit)
	var c *Report
	if compared != nil {
		r := Compute(def, compared)
		c = &r
	}
	sums := map[string]store.RestSums{}
	for k, n := range rest {
		if k.Survey != string(def.ID) || k.Dim != store.RestDim {
			continue
		}
		s, add := sums[k.Question], n.Rest()
		sums[k.Question] = store.RestSums{N: s.N + add.N, X: s.X + add.X, XX: s.XX + add.XX, M: s.M + add.M, MM: s.MM + add.MM, XM: s.XM + add.XM}
	}
	out := make([]Driver, 0, len(u.Indicators))
	for i, in := range u.Indicators {
		d := Driver{ID: in.ID, Criterion: in.Criterion, Unit: in.Figure}
		if c != nil {
			cf := c.Indicators[i]
			d.Compared = &cf.Figure
			if in.Answers > 0 && cf.Answers > 0 {
				g := gapOf(in.rate, in.Answers, cf.rate, cf.Answers)
				d.Gap = &g
			}
		}
		if s := sums[in.ID]; s.N > 0 {
			if im, ok := importanceOf(s); ok {
				d.Importance = &im
			}
		}
		out = append(out, d)
	}
	classify(out, u.Indicators, minAnswers)
	sort.SliceStable(out, func(i, j int) bool {
		si, sj := below(out[i].Gap), below(out[j].Gap)
		if si != sj {
			return si
		}
		return gapPoints(out[i].Gap) < gapPoints(out[j].Gap)
	})
	return out
}

// below says a gap is significantly below the comparison.
func below(g *Gap) bool { return g != nil && g.Significant && g.Points < 0 }

func gapPoints(g *Gap) float64 {
	if g == nil {
		return math.Inf(1)
	}
	return g.Points
}

// classify sets each driver's quadrant: among the questions with enough
// answers and respondents, important at or above the median correlation,
// low below the mean share satisfied or significantly below the
// comparison.
func classify(ds []Driver, ins []Indicator, minAnswers int64) {
	var rs, rates []float64
	judged := make([]bool, len(ds))
	for i, d := range ds {
		if d.Unit.Answers >= minAnswers && d.Importance != nil && d.Importance.Respondents >= minAnswers {
			judged[i] = true
			rs = append(rs, d.Importance.Correlation)
			rates = append(rates, ins[i].rate)
		}
	}
	if len(rs) == 0 {
		for i := range ds {
			ds[i].Quadrant = TooFewAnswers
		}
		return
	}
	sort.Float64s(rs)
	median := rs[len(rs)/2]
	if len(rs)%2 == 0 {
		median = (rs[len(rs)/2-1] + rs[len(rs)/2]) / 2
	}
	var mean float64
	for _, r := range rates {
		mean += r
	}
	mean /= float64(len(rates))
	for i := range ds {
		low := ins[i].rate < mean || below(ds[i].Gap) // never "fine" while clearly below the province
		switch {
		case !judged[i]:
			ds[i].Quadrant = TooFewAnswers
		case ds[i].Importance.Correlation >= median && low:
			ds[i].Quadrant = ImportantLow
		case ds[i].Importance.Correlation >= median:
			ds[i].Quadrant = ImportantFine
		case low:
			ds[i].Quadrant = MinorLow
		default:
			ds[i].Quadrant = MinorFine
		}
	}
}

// gapOf is the difference of two shares (percent) over n1 and n2 answers
// with Newcombe's hybrid score interval.
func gapOf(rate1 float64, n1 int64, rate2 float64, n2 int64) Gap {
	lo, hi := diffInterval(rate1/100, n1, rate2/100, n2, z95)
	return Gap{Points: round2(rate1 - rate2), Interval: Interval{Low: round2(100 * lo), High: round2(100 * hi)}, Significant: lo > 0 || hi < 0}
}

const z95 = 1.959964

// diffInterval is Newcombe's (1998, method 10) interval of p1 − p2 at
// the normal quantile z: from the Wilson intervals of each share, it
// keeps its level for small samples and shares near 0 or 1, where the
// plain Wald interval does not.
func diffInterval(p1 float64, n1 int64, p2 float64, n2 int64, z float64) (lo, hi float64) {
	l1, u1 := wilsonAt(p1, n1, z)
	l2, u2 := wilsonAt(p2, n2, z)
	d := p1 - p2
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u2-p2)*(u2-p2))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p2-l2)*(p2-l2))
	return lo, hi
}

// wilsonAt is the Wilson score interval of a share p over n at quantile z.
func wilsonAt(p float64, n int64, z float64) (lo, hi float64) {
	if n <= 0 {
		return 0, 1
	}
	nf := float64(n)
	den := 1 + z*z/nf
	mid := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	return max(0, mid-half), min(1, mid+half)
}

// importanceOf is the item-rest correlation the sums hold; false when it
// is undefined (fewer than 4 respondents, or every answer alike).
func importanceOf(s store.RestSums) (Importance, bool) {
	n := float64(s.N)
	vx := n*float64(s.XX) - float64(s.X)*float64(s.X)
	vm := n*float64(s.MM) - float64(s.M)*float64(s.M)
	if s.N < 4 || vx <= 0 || vm <= 0 {
		return Importance{}, false
	}
	r := (n*float64(s.XM) - float64(s.X)*float64(s.M)) / math.Sqrt(vx*vm)
	r = max(-1, min(1, r))
	z, half := math.Atanh(max(-0.999999, min(0.999999, r))), z95/math.Sqrt(n-3)
	return Importance{Correlation: math.Round(r*1000) / 1000, Respondents: s.N,
		Interval: Interval{Low: math.Round(math.Tanh(z-half)*1000) / 1000, High: math.Round(math.Tanh(z+half)*1000) / 1000}}, true
}
