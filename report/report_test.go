package report

import (
	"math"
	"testing"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// cellsWithRates gives every indicator of a criterion the criterion's rate,
// from 10,000 answers each (rate in hundredths of a percent = count of 5s).
func cellsWithRates(def *survey.Survey, rates map[string]float64) store.Cells {
	cells := store.Cells{}
	for _, q := range def.Questions {
		sat := int64(math.Round(rates[q.Criterion] * 100))
		k := store.CellKey{Agency: "000.00.00.H22", Month: "2020-06", Survey: string(def.ID), Channel: "web", Question: string(q.ID), Criterion: q.Criterion}
		cells.Add(k, store.Counts{Levels: [6]int64{7, 0, 0, 10000 - sat, 0, sat}})
	}
	return cells
}

// Quảng Ninh 2020: criteria A 95.92, B 98.34, C 95.27, D 96.29, E 92.69 give
// the published overall 95.76 when weighted by indicator count (4/5/6/3/4);
// the plain mean of the five would be 95.70.
func TestOverallWeighsCriteriaByIndicatorCount(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS)
	rates := map[string]float64{"A": 95.92, "B": 98.34, "C": 95.27, "D": 96.29, "E": 92.69}
	r := Compute(def, cellsWithRates(def, rates))
	if r.Overall.SatisfactionRate != 95.76 {
		t.Fatalf("overall %.2f, want 95.76", r.Overall.SatisfactionRate)
	}
	for _, c := range r.Criteria {
		if c.SatisfactionRate != rates[c.Code] {
			t.Errorf("criterion %s: %.2f, want %.2f", c.Code, c.SatisfactionRate, rates[c.Code])
		}
	}
	if r.Criteria[0].Distribution["0"] != 4*7 || r.Criteria[0].Answers != 4*10000 {
		t.Errorf("no-opinion answers must be counted in the distribution, never in answers: %+v", r.Criteria[0])
	}
}

func TestIndicatorFigures(t *testing.T) {
	def, _ := survey.Builtin().Survey(survey.SIPAS5)
	cells := store.Cells{}
	k := store.CellKey{Survey: "sipas-5", Question: "A", Criterion: "A"}
	// levels 1..5: 1, 1, 2, 3, 3 (and 5 no-opinion answers, ignored)
	cells.Add(k, store.Counts{Levels: [6]int64{5, 1, 1, 2, 3, 3}})
	cells.Add(store.CellKey{Survey: "sipas-5", Question: store.AllQuestions}, store.Counts{Responses: 15})
	r := Compute(def, cells)
	a := r.Indicators[0]
	if a.Answers != 10 || a.SatisfactionRate != 60 || a.MeanScore != 3.6 {
		t.Fatalf("indicator A: %+v", a)
	}
	if r.Responses != 15 {
		t.Fatalf("responses %d", r.Responses)
	}
	// B..E have no answers: left out of the overall mean, not counted as 0.
	if r.Overall.SatisfactionRate != 60 || r.Overall.MeanScore != 3.6 {
		t.Fatalf("overall %+v", r.Overall)
	}
}

func TestCellsOf(t *testing.T) {
	r := &store.Response{AgencyCode: "X", Month: "2026-11", Survey: "sipas-5", InvitedSurvey: "sipas", Channel: "sms",
		Answers: []store.Answer{{Question: "A", Criterion: "A", Score: 5}, {Question: "B", Criterion: "B", Score: 0}}}
	cells := CellsOf(r, nil)
	if len(cells) != 6 { // with the all-top cell of the group signals
		t.Fatalf("cells %v", cells)
	}
	// A's criterion cell weighs the response once: share 1, mean 5; B, all
	// "no opinion", has none.
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms", Question: store.CriterionCell + "A", Criterion: "A"}]; c.Responses != 1 || c.Satisfied != store.CriterionScale || c.Score != 5*store.CriterionScale {
		t.Fatalf("criterion cell %v", c)
	}
	// Its invitation's completion, in the month the invitation was made,
	// under the survey the invitation named (an SMS answer to a sipas
	// invitation answers its short form).
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: store.FunnelSurveyOf("sipas"), Channel: "sms", Question: store.FunnelCompleted}]; c.Responses != 1 {
		t.Fatalf("completion not counted: %v", cells)
	}
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms", Question: "B", Criterion: "B"}]; c.Levels[0] != 1 {
		t.Fatalf("no opinion not counted at level 0: %v", c)
	}
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms", Question: store.AllQuestions}]; c.Responses != 1 {
		t.Fatalf("response count %v", c)
	}
}

// The cross-form view by hand. Three responses:
//   - full form, A answered 5,3,4,0 (2 of 3 valid at 4–5: A share 2/3, mean 4),
//     C answered 1 on C1 only (share 0, mean 1);
//   - full form, A all 4 (share 1, mean 4);
//   - short form, A 2 (share 0, mean 2), E 5 (share 1, mean 5).
//
// A: (2/3 + 1 + 0) / 3 = 55.56%, mean (4 + 4 + 2) / 3 = 3.33; C: 0%, mean 1,
// one response; E: 100%, mean 5. Overall weighs A, C, E by 4, 6, 4 (B and D
// unanswered): (4·55.56 + 6·0 + 4·100) / 14 = 44.44%, mean
// (4·3.333 + 6·1 + 4·5) / 14 = 2.81. A one-question rating is not a form of
// the view.
func TestCrossFormViewByHand(t *testing.T) {
	cat := survey.Builtin()
	def, _ := cat.Survey(survey.SIPAS)
	forms := Forms(cat, def)
	if !forms["sipas"] || !forms["sipas-5"] || forms["overall"] || len(forms) != 2 {
		t.Fatalf("forms %v", forms)
	}
	ans := func(pairs ...any) []store.Answer {
		var out []store.Answer
		for i := 0; i < len(pairs); i += 2 {
			q := pairs[i].(string)
			out = append(out, store.Answer{Question: q, Criterion: q[:1], Score: pairs[i+1].(int)})
		}
		return out
	}
	resps := []store.Response{
		{Survey: "sipas", Channel: "web", AgencyCode: "X", Month: "2026-11", Answers: ans("A1", 5, "A2", 3, "A3", 4, "A4", 0, "C1", 1)},
		{Survey: "sipas", Channel: "web", AgencyCode: "X", Month: "2026-11", Answers: ans("A1", 4, "A2", 4, "A3", 4, "A4", 4)},
		{Survey: "sipas-5", Channel: "sms.x", AgencyCode: "X", Month: "2026-11", Answers: ans("A", 2, "E", 5)},
		{Survey: "overall", Channel: "web", AgencyCode: "X", Month: "2026-11", Answers: []store.Answer{{Question: "O", Criterion: "O", Score: 1}}},
	}
	cells := store.Cells{}
	for i := range resps {
		for k, c := range CellsOf(&resps[i], nil) {
			if k.Dim == "" { // the main family, as a report reads it
				cells.Add(k, c)
			}
		}
	}
	r := ComputeAll(def, forms, cells)
	if r.Survey != "all" || r.Responses != 3 || len(r.Indicators) != 0 {
		t.Fatalf("survey %s, responses %d, %d indicators", r.Survey, r.Responses, len(r.Indicators))
	}
	want := map[string][3]float64{"A": {55.56, 3.33, 3}, "B": {0, 0, 0}, "C": {0, 1, 1}, "D": {0, 0, 0}, "E": {100, 5, 1}}
	for _, c := range r.Criteria {
		w := want[c.Code]
		if c.SatisfactionRate != w[0] || c.MeanScore != w[1] || c.Answers != int64(w[2]) {
			t.Errorf("criterion %s: %.2f%% mean %.2f n=%d, want %v", c.Code, c.SatisfactionRate, c.MeanScore, c.Answers, w)
		}
	}
	if r.Criteria[0].Distribution["5"] != 1 || r.Criteria[0].Distribution["4"] != 5 || r.Criteria[0].Distribution["0"] != 1 {
		t.Errorf("A's distribution of answers over both forms: %v", r.Criteria[0].Distribution)
	}
	if r.Overall.SatisfactionRate != 44.44 || r.Overall.MeanScore != 2.81 {
		t.Fatalf("overall %.2f%% mean %.2f, want 44.44%% and 2.81", r.Overall.SatisfactionRate, r.Overall.MeanScore)
	}
}

// Wilson intervals against values computed by hand (z = 1.96): 8 of 10 gives
// 49.02–94.33%, 0 of 5 gives 0–43.45%, and no answers give the whole range.
func TestWilson(t *testing.T) {
	for _, c := range []struct {
		rate      float64
		n         int64
		low, high float64
	}{{80, 10, 49.02, 94.33}, {0, 5, 0, 43.45}, {100, 30, 88.65, 100}, {50, 0, 0, 100}} {
		if got := Wilson(c.rate, c.n); got.Low != c.low || got.High != c.high {
			t.Errorf("Wilson(%v, %d) = %+v, want %v–%v", c.rate, c.n, got, c.low, c.high)
		}
	}
}

// The binomial tail against values computed independently (exact sums of
// binomial terms in Python's arbitrary precision).
func TestBinomialUpper(t *testing.T) {
	for _, c := range []struct {
		k, n int64
		p    float64
		want float64
	}{
		{5, 10, 0.5, 0.623046875},
		{8, 10, 0.5, 0.0546875},
		{25, 30, 0.4, 1.424572869522314e-06},
		{0, 30, 0.4, 1},
		{31, 30, 0.4, 0},
	} {
		got := BinomialUpper(c.k, c.n, c.p)
		if math.Abs(got-c.want) > 1e-4*max(c.want, 1e-6) {
			t.Errorf("P(X ≥ %d | %d, %v) = %g, want %g", c.k, c.n, c.p, got, c.want)
		}
	}
	if s := TestShare(SignalAllTop, 29, 40, 0.3); !s.Raised {
		t.Errorf("29 of 40 against 30%% is not raised: %+v", s)
	}
	if s := TestShare(SignalAllTop, 20, 29, 0.3); s.Raised {
		t.Errorf("raised on fewer than %d answers: %+v", GroupSignalMin, s)
	}
	if s := TestShare(SignalAllTop, 14, 40, 0.3); s.Raised {
		t.Errorf("an ordinary share raised: %+v", s)
	}
}
