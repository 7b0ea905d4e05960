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
	r := &store.Response{AgencyCode: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms",
		Answers: []store.Answer{{Question: "A", Criterion: "A", Score: 5}, {Question: "B", Criterion: "B", Score: 0}}}
	cells := CellsOf(r)
	if len(cells) != 4 {
		t.Fatalf("cells %v", cells)
	}
	// Its invitation's completion, in the month the invitation was made.
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: store.FunnelSurvey, Channel: "sms", Question: store.FunnelCompleted}]; c.Responses != 1 {
		t.Fatalf("completion not counted: %v", cells)
	}
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms", Question: "B", Criterion: "B"}]; c.Levels[0] != 1 {
		t.Fatalf("no opinion not counted at level 0: %v", c)
	}
	if c := cells[store.CellKey{Agency: "X", Month: "2026-11", Survey: "sipas-5", Channel: "sms", Question: store.AllQuestions}]; c.Responses != 1 {
		t.Fatalf("response count %v", c)
	}
}
