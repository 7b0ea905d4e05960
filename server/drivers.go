package server

import (
	"cmp"
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Drivers is GET /api/v1/reports/sipas/drivers: why a unit is low.
type Drivers struct {
	Agency    string        `json:"agency"`
	Survey    string        `json:"survey"`
	Period    period        `json:"period"`
	Responses int64         `json:"responses"`
	Overall   report.Figure `json:"overall"`
	// ComparedWith is the rest of the province (the agency's tree's top,
	// without the agency's own subtree); nil for the province itself.
	ComparedWith *DriversComparison `json:"compared_with,omitempty"`
	// Questions are the form's questions (indicators on the full form,
	// criteria on the short one), significant gaps below the comparison
	// first, the largest first.
	Questions  []report.Driver `json:"questions"`
	Topics     []TopicTrend    `json:"topics"`
	Desks      []LowGroup      `json:"desks"`
	Officers   []LowGroup      `json:"officers"`
	Channels   []LowGroup      `json:"channels"`
	Procedures []LowGroup      `json:"procedures"`
	// MinResponses is the sample a group needs to be ranked.
	MinResponses int `json:"min_responses"`
}

// DriversComparison names what a unit is compared with.
type DriversComparison struct {
	Agency    string        `json:"agency"`
	Responses int64         `json:"responses"`
	Overall   report.Figure `json:"overall"`
}

// TopicTrend is a complaint topic over the period, by month.
type TopicTrend struct {
	Topic      string       `json:"topic"`
	Complaints int64        `json:"complaints"`
	Per100     float64      `json:"per_100_responses"`
	Months     []TopicMonth `json:"months"`
}

// TopicMonth is a topic's complaints in one month, beside the month's
// responses.
type TopicMonth struct {
	Month      string `json:"month"`
	Complaints int64  `json:"complaints"`
	Responses  int64  `json:"responses"`
}

// LowGroup is a desk, officer, channel or procedure, lowest first; those
// under the minimum sample come last, Ranked false.
type LowGroup struct {
	Group     string        `json:"group"`
	Responses int64         `json:"responses"`
	Overall   report.Figure `json:"overall"`
	Ranked    bool          `json:"ranked"`
}

func (a *API) drivers(c *fiber.Ctx) error {
	q, def, err := a.ReportQuery(c)
	if err != nil {
		return err
	}
	if q.Survey == "" {
		return core.Errorf(core.Invalid, "survey", "drivers are read on one form: survey=%s (by indicator) or a short form such as sipas-5 (by criterion)", survey.SIPAS)
	}
	d, err := a.Drivers(c.UserContext(), q, def, c.Query("agency", Principal(c).Agency))
	if err != nil {
		return err
	}
	return c.JSON(d)
}

// Drivers computes a unit's drivers (agency "" for the whole store) over
// q's filters and months, from roll-ups alone.
func (a *API) Drivers(ctx context.Context, q store.Filter, def *survey.Survey, agency string) (*Drivers, error) {
	q.Standing, q.WithFunnel = false, false // the index as published: flagged answers in, confirmed out
	main := q
	main.FoldAgencies = true
	cells, err := a.Core.Mongo.Rollups.Query(ctx, main)
	if err != nil {
		return nil, err
	}
	restQ := store.Filter{Survey: q.Survey, Agencies: q.Agencies, FromMonth: q.FromMonth, ToMonth: q.ToMonth, Rest: true, FoldAgencies: true, FoldMonths: true}
	rest, err := a.Core.Mongo.Rollups.Query(ctx, restQ)
	if err != nil {
		return nil, err
	}
	d := &Drivers{Agency: agency, Survey: q.Survey, Period: period{From: q.FromMonth, To: q.ToMonth}, MinResponses: a.RankMin}
	var compared store.Cells
	if agency != "" {
		root, err := a.Core.Root(ctx, agency)
		if err != nil {
			return nil, err
		}
		if root != agency {
			all, err := a.Core.Subtree(ctx, root)
			if err != nil {
				return nil, err
			}
			others := slices.DeleteFunc(all, func(code string) bool { return slices.Contains(q.Agencies, code) })
			cq := q
			cq.Agencies, cq.FoldAgencies, cq.FoldMonths = others, true, true
			if len(others) > 0 {
				if compared, err = a.Core.Mongo.Rollups.Query(ctx, cq); err != nil {
					return nil, err
				}
				r := report.Compute(def, compared)
				d.ComparedWith = &DriversComparison{Agency: root, Responses: r.Responses, Overall: r.Overall}
			}
		}
	}
	compute := func(cs store.Cells) report.Report { return report.Compute(def, cs) }
	r := compute(cells)
	d.Responses, d.Overall = r.Responses, r.Overall
	d.Questions = report.Drivers(def, cells, rest, compared, int64(a.RankMin))
	d.Topics = topicTrends(cells, string(def.ID))
	for by, out := range map[string]*[]LowGroup{"desk": &d.Desks, "officer": &d.Officers, "channel": &d.Channels} {
		if q.Procedure != "" || q.Field != "" {
			*out = []LowGroup{} // those families keep no channel
			continue
		}
		if *out, err = a.lowGroups(ctx, compute, cells, by); err != nil {
			return nil, err
		}
	}
	// Procedures are ranked on their summaries (the cross-form view,
	// criterion by criterion): their per-question pages, the largest
	// family, are read from the store every time and took 160 ms of a
	// year's drivers (BenchmarkDriversYear).
	pq := store.Filter{Agencies: q.Agencies, FromMonth: q.FromMonth, ToMonth: q.ToMonth, ProcedureFamily: true, FoldAgencies: true, FoldMonths: true}
	if q.Procedure != "" || q.Field != "" || q.Channel != "" {
		d.Procedures = []LowGroup{} // a procedure's cells cover every channel
	} else if procs, err := a.Core.Mongo.Rollups.Query(ctx, pq); err != nil {
		return nil, err
	} else if d.Procedures, err = a.lowGroups(ctx, a.Computer(store.Filter{}, a.sipas()), procs, "procedure"); err != nil {
		return nil, err
	}
	return d, nil
}

// lowGroups ranks the groups of cells, lowest first, those under the
// minimum sample after them.
func (a *API) lowGroups(ctx context.Context, compute func(store.Cells) report.Report, cells store.Cells, by string) ([]LowGroup, error) {
	groups, err := report.Groups(ctx, compute, cells, by)
	if err != nil {
		return nil, err
	}
	out := []LowGroup{}
	for _, g := range groups {
		if g.Group == "" {
			continue // answers that have none of this: not kiosk answers for desks
		}
		out = append(out, LowGroup{Group: g.Group, Responses: g.Responses, Overall: g.Overall, Ranked: g.Responses >= int64(a.RankMin)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ranked != out[j].Ranked {
			return out[i].Ranked
		}
		return cmp.Or(cmp.Compare(out[i].Overall.SatisfactionRate, out[j].Overall.SatisfactionRate), cmp.Compare(out[i].Group, out[j].Group)) < 0
	})
	return out, nil
}

// topicTrends are the complaint topics of the cells (of survey), most
// complained of first, each by month beside the month's responses.
func topicTrends(cells store.Cells, surveyID string) []TopicTrend {
	responses := map[string]int64{}
	per := map[string]map[string]int64{}
	for k, c := range cells {
		if k.Survey != surveyID {
			continue
		}
		if k.Question == store.AllQuestions {
			responses[k.Month] += c.Responses
			continue
		}
		rest, ok := strings.CutPrefix(k.Question, store.TopicCell)
		if !ok {
			continue
		}
		topic, ok := strings.CutSuffix(rest, ":complaint")
		if !ok {
			continue
		}
		if per[topic] == nil {
			per[topic] = map[string]int64{}
		}
		per[topic][k.Month] += c.Responses
	}
	months := make([]string, 0, len(responses))
	var total int64
	for m, n := range responses {
		months = append(months, m)
		total += n
	}
	sort.Strings(months)
	out := []TopicTrend{}
	for topic, byMonth := range per {
		t := TopicTrend{Topic: topic, Months: []TopicMonth{}}
		for _, m := range months {
			t.Complaints += byMonth[m]
			t.Months = append(t.Months, TopicMonth{Month: m, Complaints: byMonth[m], Responses: responses[m]})
		}
		if total > 0 {
			t.Per100 = float64(int64(10000*float64(t.Complaints)/float64(total)+0.5)) / 100
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		return cmp.Or(cmp.Compare(out[j].Complaints, out[i].Complaints), cmp.Compare(out[i].Topic, out[j].Topic)) < 0
	})
	return out
}

// Effect measures a unit's (agency's subtree's) targets the days before
// and after start (a date, YYYY-MM-DD read as UTC midnight), up to
// yesterday in Vietnam time, from the days' roll-up family.
func (a *API) Effect(ctx context.Context, agency string, targets []report.Target, start time.Time) (report.Effect, error) {
	today, _ := time.Parse("2006-01-02", a.Core.Today())
	_, before, after := report.EffectWindows(start, today)
	from, to := report.EffectMonths(before, after)
	agencies, err := a.Core.Subtree(ctx, agency)
	if err != nil {
		return report.Effect{}, err
	}
	days, err := a.Core.Mongo.Rollups.Query(ctx, store.Filter{Days: true, Agencies: agencies, FromMonth: from, ToMonth: to, FoldAgencies: true})
	if err != nil {
		return report.Effect{}, err
	}
	sipas, _ := a.Core.Surveys.Survey(survey.SIPAS)
	return report.Measure(targets, start, today, days, report.Forms(a.Core.Surveys, sipas)), nil
}

// sipas is the full SIPAS form, whose criteria the cross-form view uses.
func (a *API) sipas() *survey.Survey {
	def, _ := a.Core.Surveys.Survey(survey.SIPAS)
	return def
}
