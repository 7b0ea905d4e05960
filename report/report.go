// Package report owns the SIPAS index: it turns responses into roll-up cells,
// computes rates and means from cells as DOMAIN.md defines them, and runs the
// one writer that keeps the stored roll-ups current.
package report

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// CellsOf returns the roll-up counts one response adds: the main family by
// channel, the procedure and field families when the response has them,
// and its invitation's completion in the response-rate cells.
func CellsOf(r *store.Response) store.Cells {
	family, _, _ := strings.Cut(r.Channel, ".")
	cells := store.FunnelCells(r.AgencyCode, r.InvitedMonth(), store.FunnelCompleted, family)
	main := store.CellKey{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: r.Channel}
	addCells(cells, main, r)
	if r.ProcedureCode != "" {
		addCells(cells, store.CellKey{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: store.AnyChannel, Dim: "procedure:" + r.ProcedureCode}, r)
	}
	if r.FieldCode != "" {
		addCells(cells, store.CellKey{Agency: r.AgencyCode, Month: r.Month, Survey: r.Survey, Channel: store.AnyChannel, Dim: "field:" + r.FieldCode}, r)
	}
	return cells
}

func addCells(cells store.Cells, base store.CellKey, r *store.Response) {
	for _, a := range r.Answers {
		if a.Score < 0 || a.Score > 5 {
			continue // never stored by the gateway; ignore rather than count wrong
		}
		k := base
		k.Question, k.Criterion = a.Question, a.Criterion
		var c store.Counts
		c.Levels[a.Score] = 1
		cells.Add(k, c)
	}
	if r.EnteredBy != "" {
		k := base
		k.Question = store.OperatorRead
		cells.Add(k, store.Counts{Responses: 1})
	}
	k := base
	k.Question = store.AllQuestions
	cells.Add(k, store.Counts{Responses: 1})
}

// Figure is a rate and a mean over valid answers (1–5).
type Figure struct {
	SatisfactionRate float64 `json:"satisfaction_rate"`
	MeanScore        float64 `json:"mean_score"`
}

// Indicator is one question's figures.
type Indicator struct {
	ID        string `json:"id"`
	Criterion string `json:"criterion"`
	Figure
	Answers      int64            `json:"answers"`
	Distribution map[string]int64 `json:"distribution"`
	rate, mean   float64
}

// Criterion is one criterion's figures: the mean of its indicators'.
type Criterion struct {
	Code string `json:"code"`
	Figure
	Answers      int64            `json:"answers"`
	Distribution map[string]int64 `json:"distribution"`
}

// Report is the index over a set of cells.
type Report struct {
	Survey    string `json:"survey"`
	Responses int64  `json:"responses"`
	// ReadByOperators counts the responses an operator read from a
	// citizen's message the gateway could not understand.
	ReadByOperators int64       `json:"read_by_operators"`
	Overall         Figure      `json:"overall"`
	Criteria        []Criterion `json:"criteria"`
	Indicators      []Indicator `json:"indicators"`
}

// round2 rounds to two decimals for display; sums use full precision.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// indicator computes one question's figures from its level counts.
func indicator(q survey.Question, c store.Counts) Indicator {
	in := Indicator{ID: string(q.ID), Criterion: q.Criterion, Distribution: distribution(c)}
	var sum int64
	for level := 1; level <= 5; level++ {
		in.Answers += c.Levels[level]
		sum += int64(level) * c.Levels[level]
	}
	if in.Answers > 0 {
		in.rate = 100 * float64(c.Levels[4]+c.Levels[5]) / float64(in.Answers)
		in.mean = float64(sum) / float64(in.Answers)
	}
	in.Figure = Figure{SatisfactionRate: round2(in.rate), MeanScore: round2(in.mean)}
	return in
}

func distribution(c store.Counts) map[string]int64 {
	return map[string]int64{"0": c.Levels[0], "1": c.Levels[1], "2": c.Levels[2], "3": c.Levels[3], "4": c.Levels[4], "5": c.Levels[5]}
}

// meanOf averages the rates and means of indicators that have answers:
// an indicator nobody could rate is left out rather than counted as 0.
func meanOf(ins []Indicator) Figure {
	var rate, mean float64
	var n int
	for _, in := range ins {
		if in.Answers > 0 {
			rate += in.rate
			mean += in.mean
			n++
		}
	}
	if n == 0 {
		return Figure{}
	}
	return Figure{SatisfactionRate: round2(rate / float64(n)), MeanScore: round2(mean / float64(n))}
}

// Compute builds the report of def from cells: indicator figures from their
// counts, each criterion the mean of its indicators, and the overall index the
// mean over all indicators (so a criterion weighs by its indicator count).
func Compute(def *survey.Survey, cells store.Cells) Report {
	byQ := map[string]store.Counts{}
	rep := Report{Survey: string(def.ID), Criteria: []Criterion{}, Indicators: []Indicator{}}
	for k, c := range cells {
		if k.Survey != string(def.ID) {
			continue
		}
		if k.Question == store.AllQuestions {
			rep.Responses += c.Responses
			continue
		}
		if k.Question == store.OperatorRead {
			rep.ReadByOperators += c.Responses
			continue
		}
		cur := byQ[k.Question]
		cur.Add(c)
		byQ[k.Question] = cur
	}
	for _, q := range def.Questions {
		rep.Indicators = append(rep.Indicators, indicator(q, byQ[string(q.ID)]))
	}
	for _, cr := range def.Criteria {
		var ins []Indicator
		var total store.Counts
		for _, in := range rep.Indicators {
			if in.Criterion == cr.Code {
				ins = append(ins, in)
				total.Add(byQ[in.ID])
			}
		}
		c := Criterion{Code: cr.Code, Figure: meanOf(ins), Distribution: distribution(total)}
		for _, in := range ins {
			c.Answers += in.Answers
		}
		rep.Criteria = append(rep.Criteria, c)
	}
	rep.Overall = meanOf(rep.Indicators)
	sort.SliceStable(rep.Criteria, func(i, j int) bool { return rep.Criteria[i].Code < rep.Criteria[j].Code })
	return rep
}

// Group is one group of a grouped report.
type Group struct {
	Group           string      `json:"group"`
	Responses       int64       `json:"responses"`
	ReadByOperators int64       `json:"read_by_operators"`
	Overall         Figure      `json:"overall"`
	Criteria        []Criterion `json:"criteria"`
}

// Groups splits cells by agency, month, channel or procedure and computes
// each group's figures; groups without responses are left out.
func Groups(def *survey.Survey, cells store.Cells, by string) ([]Group, error) {
	var key func(store.CellKey) string
	switch by {
	case "agency":
		key = func(k store.CellKey) string { return k.Agency }
	case "month":
		key = func(k store.CellKey) string { return k.Month }
	case "channel":
		key = func(k store.CellKey) string { return k.Channel }
	case "procedure":
		key = func(k store.CellKey) string { return strings.TrimPrefix(k.Dim, "procedure:") }
	default:
		return nil, fmt.Errorf("%q: use agency, month, channel or procedure", by)
	}
	parts := map[string]store.Cells{}
	for k, c := range cells {
		g := key(k)
		if parts[g] == nil {
			parts[g] = store.Cells{}
		}
		parts[g].Add(k, c)
	}
	rows := make([]Group, 0, len(parts))
	for g, cs := range parts {
		r := Compute(def, cs)
		if r.Responses > 0 {
			rows = append(rows, Group{Group: g, Responses: r.Responses, ReadByOperators: r.ReadByOperators, Overall: r.Overall, Criteria: r.Criteria})
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Group < rows[j].Group })
	return rows, nil
}
