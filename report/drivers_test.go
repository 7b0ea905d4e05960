package report

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Newcombe (1998), table II, example (a): 56/70 against 48/80, method 10
// gives 0.0524 to 0.3339.
func TestGapNewcombeExample(t *testing.T) {
	g := gapOf(100*56.0/70, 70, 100*48.0/80, 80)
	if g.Points != 20 || g.Interval.Low != 5.24 || g.Interval.High != 33.39 || !g.Significant {
		t.Fatalf("gap %+v, want 20 points in 5.24–33.39", g)
	}
	// Examples (b) 9/10 against 3/10: 0.1705 to 0.8090; (d) 5/56 against
	// 0/29: −0.0381 to 0.1926, which holds 0.
	if g := gapOf(90, 10, 30, 10); g.Interval.Low != 17.05 || g.Interval.High != 80.9 {
		t.Fatalf("example (b): %+v", g)
	}
	if g := gapOf(100*5.0/56, 56, 0, 29); g.Interval.Low != -3.81 || g.Interval.High != 19.26 || g.Significant {
		t.Fatalf("example (d): %+v", g)
	}
}

// planted draws a unit's respondents on the full form: each answers every
// question around a personal level; A1 follows that level closely, C1 is
// noise alone, and A1 is mostly unsatisfied.
func planted(rng *rand.Rand, def *survey.Survey, n int) []*store.Response {
	at := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
	var out []*store.Response
	for range n {
		level := 1 + 4*rng.Float64()
		r := &store.Response{AgencyCode: "U", Month: store.MonthOf(at), SubmittedAt: at, Survey: string(def.ID), Channel: "web"}
		for _, q := range def.Questions {
			var v float64
			switch q.ID {
			case "A1":
				v = level - 1.2 + 0.3*rng.NormFloat64()
			case "C1":
				v = 1 + 4*rng.Float64()
			default:
				v = level + 0.9*rng.NormFloat64()
			}
			score := int(math.Round(max(1, min(5, v))))
			if rng.IntN(20) == 0 {
				score = 0 // no opinion now and then
			}
			r.Answers = append(r.Answers, store.Answer{Question: string(q.ID), Criterion: q.Criterion, Score: score})
		}
		out = append(out, r)
	}
	return out
}

// pearsonRest is the item-rest correlation computed directly.
func pearsonRest(rs []*store.Response, question string) (float64, int) {
	var xs, ms []float64
	for _, r := range rs {
		var x, sum float64
		var others int
		found := false
		for _, a := range r.Answers {
			if a.Score < 1 {
				continue
			}
			if a.Question == question {
				x, found = float64(a.Score), true
			} else {
				sum += float64(a.Score)
				others++
			}
		}
		if found && others > 0 {
			xs, ms = append(xs, x), append(ms, sum/float64(others))
		}
	}
	var mx, mm float64
	for i := range xs {
		mx += xs[i]
		mm += ms[i]
	}
	mx /= float64(len(xs))
	mm /= float64(len(ms))
	var sxm, sxx, smm float64
	for i := range xs {
		sxm += (xs[i] - mx) * (ms[i] - mm)
		sxx += (xs[i] - mx) * (xs[i] - mx)
		smm += (ms[i] - mm) * (ms[i] - mm)
	}
	return sxm / math.Sqrt(sxx*smm), len(xs)
}

// The correlations from the roll-ups' sums are the ones computed from
// the answers themselves, and the planted driver is found.
func TestDriversFromRollupSums(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	rs := planted(rand.New(rand.NewPCG(1, 2)), def, 600)
	cells := store.Cells{}
	for _, r := range rs {
		for k, c := range CellsOf(r, nil) {
			cells.Add(k, c)
		}
	}
	unit, rest := store.Cells{}, store.Cells{}
	for k, c := range cells {
		switch {
		case k.Dim == store.RestDim:
			rest.Add(k, c)
		case k.Dim == "":
			unit.Add(k, c)
		}
	}
	// The province's answers: everyone a little happier on A1.
	compared := store.Cells{}
	for _, r := range planted(rand.New(rand.NewPCG(3, 4)), def, 2000) {
		for i := range r.Answers {
			if r.Answers[i].Question == "A1" && r.Answers[i].Score > 0 {
				r.Answers[i].Score = min(5, r.Answers[i].Score+1)
			}
		}
		for k, c := range CellsOf(r, nil) {
			if k.Dim == "" {
				compared.Add(k, c)
			}
		}
	}
	ds := Drivers(def, unit, rest, compared, 30)
	if len(ds) != len(def.Questions) {
		t.Fatalf("%d drivers for %d questions", len(ds), len(def.Questions))
	}
	by := map[string]Driver{}
	for _, d := range ds {
		by[d.ID] = d
		want, n := pearsonRest(rs, d.ID)
		if d.Importance == nil || math.Abs(d.Importance.Correlation-want) > 0.0015 || d.Importance.Respondents != int64(n) {
			t.Fatalf("%s: importance %+v, want r = %.4f over %d", d.ID, d.Importance, want, n)
		}
		if lo, hi := d.Importance.Interval.Low, d.Importance.Interval.High; !(lo < d.Importance.Correlation && d.Importance.Correlation < hi) {
			t.Fatalf("%s: interval %v does not hold %v", d.ID, d.Importance.Interval, d.Importance.Correlation)
		}
	}
	if ds[0].ID != "A1" || !below(ds[0].Gap) {
		t.Fatalf("the planted gap is not first: %+v", ds[0])
	}
	if by["A1"].Quadrant != ImportantLow {
		t.Fatalf("A1, low and tied to the rest: %s", by["A1"].Quadrant)
	}
	if q := by["C1"].Quadrant; q != MinorLow && q != MinorFine {
		t.Fatalf("C1, noise: %s (r = %v)", q, by["C1"].Importance.Correlation)
	}
	// Too few respondents: nothing is judged.
	for _, d := range Drivers(def, unit, rest, nil, 10_000) {
		if d.Quadrant != TooFewAnswers || d.Gap != nil {
			t.Fatalf("judged on too few answers: %+v", d)
		}
	}
}

// A question above the unit's own mean but clearly behind the province is
// low, never fine.
func TestClassifyNeverFineWhenClearlyBelow(t *testing.T) {
	im := func(r float64) *Importance { return &Importance{Correlation: r, Respondents: 100} }
	ds := []Driver{
		{ID: "A", Unit: Figure{Answers: 100}, Importance: im(0.9), Gap: &Gap{Points: -30, Significant: true}},
		{ID: "B", Unit: Figure{Answers: 100}, Importance: im(0.8)},
		{ID: "C", Unit: Figure{Answers: 100}, Importance: im(0.2)},
		{ID: "D", Unit: Figure{Answers: 100}, Importance: im(0.1), Gap: &Gap{Points: -5, Significant: false}},
	}
	ins := []Indicator{{rate: 60}, {rate: 30}, {rate: 20}, {rate: 70}}
	classify(ds, ins, 30)
	got := []string{ds[0].Quadrant, ds[1].Quadrant, ds[2].Quadrant, ds[3].Quadrant}
	want := []string{ImportantLow, ImportantLow, MinorLow, MinorFine}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("quadrants %v, want %v", got, want)
		}
	}
}
