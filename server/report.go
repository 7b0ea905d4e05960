package server

import (
	"context"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

type period struct {
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
}

type reportView struct {
	report.Report
	Agency      string          `json:"agency,omitempty"`
	Channel     string          `json:"channel,omitempty"`
	Procedure   string          `json:"procedure,omitempty"`
	Field       string          `json:"field,omitempty"`
	Period      period          `json:"period"`
	Invitations *InvitationRate `json:"invitations,omitempty"`
	Reach       *report.Reach   `json:"reach,omitempty" doc:"how far the invitations of the period got, overall and by channel, and what their messages cost (docs/reports.md, Reach and cost)"`
	Cases       *CaseFigures    `json:"cases,omitempty" doc:"follow-up of unhappy responses, by the month the cases opened"`
	Previous    *Comparison     `json:"previous,omitempty"`
	GroupBy     string          `json:"group_by,omitempty"`
	Groups      []report.Group  `json:"groups,omitempty"`
}

// Comparison is the period of the same length just before the report's,
// and how each rate moved: a change counts as beyond chance when the two
// 95% intervals do not overlap.
type Comparison struct {
	Period    period        `json:"period"`
	Responses int64         `json:"responses"`
	Overall   change        `json:"overall"`
	Criteria  []namedChange `json:"criteria"`
}

type change struct {
	report.Figure
	Change float64 `json:"change"` // this period's rate minus the previous one's, in points
	Beyond bool    `json:"beyond_intervals"`
}

type namedChange struct {
	Code string `json:"code"`
	change
}

func changeOf(now, before report.Figure) change {
	beyond := before.Answers > 0 && now.Answers > 0 && (now.Interval.Low > before.Interval.High || now.Interval.High < before.Interval.Low)
	return change{Figure: before, Change: math.Round(100*(now.SatisfactionRate-before.SatisfactionRate)) / 100, Beyond: beyond}
}

// previousPeriod is the months just before from..to, as many as it spans.
func previousPeriod(from, to string) (string, string, bool) {
	f, err1 := time.Parse("2006-01", from)
	t, err2 := time.Parse("2006-01", to)
	if err1 != nil || err2 != nil {
		return "", "", false
	}
	n := (t.Year()-f.Year())*12 + int(t.Month()-f.Month()) + 1
	return f.AddDate(0, -n, 0).Format("2006-01"), f.AddDate(0, -1, 0).Format("2006-01"), true
}

// Compare computes the previous period's figures for q (from and to both
// set) with compute, from the roll-ups.
func (a *API) Compare(ctx context.Context, q store.Filter, compute func(store.Cells) report.Report, now report.Report) (*Comparison, error) {
	from, to, ok := previousPeriod(q.FromMonth, q.ToMonth)
	if !ok {
		return nil, nil
	}
	pq := q
	pq.FromMonth, pq.ToMonth, pq.WithFunnel, pq.FoldAgencies, pq.FoldMonths = from, to, false, true, true
	cells, err := a.Core.Mongo.Rollups.Query(ctx, pq)
	if err != nil {
		return nil, err
	}
	before := compute(cells)
	out := &Comparison{Period: period{From: from, To: to}, Responses: before.Responses, Overall: changeOf(now.Overall, before.Overall), Criteria: []namedChange{}}
	for i, c := range before.Criteria {
		if i < len(now.Criteria) {
			out.Criteria = append(out.Criteria, namedChange{Code: c.Code, change: changeOf(now.Criteria[i].Figure, c.Figure)})
		}
	}
	return out, nil
}

// channelRate compares invitations sent on a channel with those completed
// through it.
type channelRate struct {
	Sent         int64   `json:"sent"`
	Completed    int64   `json:"completed"`
	ResponseRate float64 `json:"response_rate"`
}

// InvitationRate is the response rate: invitations completed over those
// made, and per channel family over those sent through it.
type InvitationRate struct {
	Survey       string                 `json:"survey" doc:"the survey the invitations counted named (all: every invitation)"`
	Created      int64                  `json:"created"`
	Completed    int64                  `json:"completed"`
	ResponseRate float64                `json:"response_rate"`
	ByChannel    map[string]channelRate `json:"by_channel"`
}

// CaseFigures count follow-up cases: opened (and of those, the feedback
// pages'), due, first answered (and in time: the on-time rate is over the
// cases due), the median working days to a first answer, and the
// citizens' ratings of the answers.
type CaseFigures struct {
	Opened         int64            `json:"opened"`
	Feedback       int64            `json:"feedback" doc:"of opened, the cases citizens opened on feedback pages (no response behind them, not in the index)"`
	Answered       int64            `json:"answered"`
	Due            int64            `json:"due" doc:"of opened, the cases due: answered, or left unanswered past their first due time (a case not yet due, or closed unanswered before it, is not)"`
	AnsweredInTime int64            `json:"answered_in_time"`
	InTimeRate     float64          `json:"in_time_rate" doc:"answered in time, percent of due"`
	MedianDays     *int             `json:"median_days_to_answer,omitempty" doc:"working days to the first answer (5: five or more)"`
	Ratings        int64            `json:"ratings"`
	RatingMean     float64          `json:"rating_mean"`
	ByRating       map[string]int64 `json:"by_rating"`
	Agency         string           `json:"agency,omitempty"`
	ByAgency       []CaseFigures    `json:"by_agency,omitempty" doc:"with group_by=agency"`
}

// CaseFigures reads the case figures from the funnel cells (read again
// when the report did not read them with its own cells).
func (a *API) CaseFigures(ctx context.Context, q store.Filter, cells store.Cells, byAgency bool) (*CaseFigures, error) {
	if cells == nil {
		f := store.Filter{Survey: store.FunnelSurvey, Agencies: q.Agencies, FromMonth: q.FromMonth, ToMonth: q.ToMonth, FoldAgencies: !byAgency, FoldMonths: true}
		var err error
		if cells, err = a.Core.Mongo.Rollups.Query(ctx, f); err != nil {
			return nil, err
		}
	}
	out := caseFiguresOf(cells, func(store.CellKey) bool { return true })
	if byAgency {
		agencies := map[string]bool{}
		for k := range cells {
			if strings.HasPrefix(k.Question, "case_") {
				agencies[k.Agency] = true
			}
		}
		for ag := range agencies {
			f := caseFiguresOf(cells, func(k store.CellKey) bool { return k.Agency == ag })
			f.Agency = ag
			out.ByAgency = append(out.ByAgency, *f)
		}
		sort.Slice(out.ByAgency, func(i, j int) bool { return out.ByAgency[i].Agency < out.ByAgency[j].Agency })
	}
	return out, nil
}

func caseFiguresOf(cells store.Cells, keep func(store.CellKey) bool) *CaseFigures {
	f := &CaseFigures{ByRating: map[string]int64{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}}
	var days [6]int64
	var ratingSum int64
	for k, c := range cells {
		if !keep(k) {
			continue
		}
		switch k.Question {
		case store.CaseOpenedStep:
			f.Opened += c.Responses
			if k.Channel == store.CaseFeedback {
				f.Feedback += c.Responses
			}
		case store.CaseAnsweredStep:
			f.Answered += c.Responses
			if k.Channel == "in_time" {
				f.AnsweredInTime += c.Responses
			}
		case store.CaseDueStep:
			f.Due += c.Responses
		case store.CaseAnswerDaysStep:
			if d, err := strconv.Atoi(strings.TrimPrefix(k.Channel, "d")); err == nil && d >= 0 && d <= 5 {
				days[d] += c.Responses
			}
		case store.CaseRatedStep:
			if r, err := strconv.Atoi(strings.TrimPrefix(k.Channel, "r")); err == nil && r >= 1 && r <= 5 {
				f.ByRating[strconv.Itoa(r)] += c.Responses
				f.Ratings += c.Responses
				ratingSum += int64(r) * c.Responses
			}
		}
	}
	f.InTimeRate = rate(f.AnsweredInTime, f.Due) // a case not yet due does not count against the agency
	if f.Ratings > 0 {
		f.RatingMean = math.Round(100*float64(ratingSum)/float64(f.Ratings)) / 100
	}
	var total, seen int64
	for _, n := range days {
		total += n
	}
	for d, n := range days {
		seen += n
		if total > 0 && 2*seen >= total {
			f.MedianDays = &d
			break
		}
	}
	return f
}

func rate(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(10000*float64(part)/float64(whole)) / 100
}

// report answers GET /api/v1/reports/sipas from the roll-ups: JSON, CSV
// (format=csv) or a workbook (format=xlsx, see ReportFile).
func (a *API) report(c *fiber.Ctx) error {
	rq, err := a.reportRequest(c, "")
	if err != nil {
		return err
	}
	if rq.format == "xlsx" {
		return a.sendReportFile(c, rq)
	}
	q, def, groupBy := rq.Filter, rq.def, rq.groupBy
	q.FoldAgencies, q.FoldMonths = groupBy != "agency", groupBy != "month"
	cells, funnel, err := a.ReadCells(c.UserContext(), q)
	if err != nil {
		return err
	}
	compute := a.Computer(q, def)
	v := reportView{Report: compute(cells), Period: period{From: q.FromMonth, To: q.ToMonth}, Channel: q.Channel, Procedure: q.Procedure, Field: q.Field}
	if len(q.Agencies) > 0 {
		v.Agency = q.Agencies[0]
	}
	if groupBy != "" {
		if v.Groups, err = report.Groups(c.UserContext(), compute, cells, groupBy); err != nil {
			return err
		}
		v.GroupBy = groupBy
	}
	if v.Cases, err = a.CaseFigures(c.UserContext(), q, funnel, groupBy == "agency"); err != nil {
		return err
	}
	if rq.format == "csv" {
		return reportCSV(c, v.Report, groupBy, v.Groups, v.Cases)
	}
	if v.Previous, err = a.Compare(c.UserContext(), q, compute, v.Report); err != nil {
		return err
	}
	if v.Invitations, err = a.InvitationRates(c.UserContext(), q, funnel); err != nil {
		return err
	}
	if v.Reach, err = a.Reach(c.UserContext(), q, funnel); err != nil {
		return err
	}
	if err := a.groupReach(c.UserContext(), q, funnel, groupBy, v.Groups); err != nil {
		return err
	}
	return c.JSON(v)
}

// groupByOf reads group_by before any cell is read: one dimension at a
// time, since a report by two (agency by month) would read every cell of
// each unfolded, a province's agencies times the months; ask for one
// agency's months with agency= and group_by=month instead.
func groupByOf(c *fiber.Ctx) (string, error) {
	by := c.Query("group_by")
	if len(c.Context().QueryArgs().PeekMulti("group_by")) > 1 || strings.Contains(by, ",") {
		return "", core.Errorf(core.Invalid, "group_by", "one dimension at a time (agency, month, channel, procedure, desk or officer); for an agency's months ask agency=…&group_by=month")
	}
	if by == "" {
		return "", nil
	}
	if _, err := report.GroupKey(by); err != nil {
		return "", core.Errorf(core.Invalid, "group_by", "%v", err)
	}
	return by, nil
}

// ReadCells reads the roll-up cells q selects and, in the same query when q
// allows it (FerretDB reads the whole collection for each query), the
// response-rate cells of its agencies and months; funnel is nil when they
// were not read.
func (a *API) ReadCells(ctx context.Context, q store.Filter) (cells, funnel store.Cells, err error) {
	q.WithFunnel = q.Channel == "" && q.Procedure == "" && q.Field == "" && !q.ProcedureFamily
	if cells, err = a.Core.Mongo.Rollups.Query(ctx, q); err != nil || !q.WithFunnel {
		return cells, nil, err
	}
	funnel = store.Cells{}
	for k, n := range cells {
		if store.IsFunnel(k.Survey) {
			funnel[k] = n
			delete(cells, k)
		}
	}
	return cells, funnel, nil
}

// InvitationRates compares invitations made in the period (by month of
// creation, in Vietnam time) with those completed, overall and per channel
// family, from the response-rate roll-up cells: counting the invitations
// themselves would read a collection that grows with every dossier. With
// a survey (q.Survey), only the invitations that named it count, on both
// sides of the rate, whichever form answered them (an SMS answer to a
// sipas invitation answers sipas-5); the cross-form view (q.Survey empty)
// counts every invitation. cells are those cells when the caller read
// them already (nil: read them).
func (a *API) InvitationRates(ctx context.Context, q store.Filter, cells store.Cells) (*InvitationRate, error) {
	cells, err := a.funnelCells(ctx, q, cells, "")
	if err != nil {
		return nil, err
	}
	out := &InvitationRate{Survey: SurveyName(q), ByChannel: map[string]channelRate{}}
	byFamily := map[string]*channelRate{"web": {}, "sms": {}, "zalo": {}}
	for k, c := range cells {
		invited, ok := store.InvitedSurvey(k.Survey)
		if !ok || q.Survey != "" && invited != q.Survey {
			continue // the case figures (caseFiguresOf), or another survey's invitations
		}
		if k.Channel == store.AnyChannel && k.Question != store.FunnelCreated && k.Question != store.FunnelCompleted {
			continue // the reach's steps on any channel (sent and opened once an invitation)
		}
		r := byFamily[k.Channel]
		if r == nil && k.Channel != store.AnyChannel {
			r = &channelRate{}
			byFamily[k.Channel] = r
		}
		switch k.Question {
		case store.FunnelCreated:
			out.Created += c.Responses
		case store.FunnelSent:
			r.Sent += c.Responses
		case store.FunnelCompleted:
			r.Completed += c.Responses
			out.Completed += c.Responses
		}
	}
	for fam, r := range byFamily {
		if fam == "web" {
			r.Sent = out.Created // every invitation carries the survey link and QR code
		}
		r.ResponseRate = rate(r.Completed, r.Sent)
		out.ByChannel[fam] = *r
	}
	out.ResponseRate = rate(out.Completed, out.Created)
	return out, nil
}

// funnelCells are the funnel cells of q's agencies and months: cells when
// the caller read them already (not nil), else read, every agency and
// month folded but the dimension by (agency or month) groups them by.
func (a *API) funnelCells(ctx context.Context, q store.Filter, cells store.Cells, by string) (store.Cells, error) {
	if cells != nil {
		return cells, nil
	}
	f := store.Filter{Survey: store.FunnelSurvey, Agencies: q.Agencies, FromMonth: q.FromMonth, ToMonth: q.ToMonth,
		FoldAgencies: by != "agency", FoldMonths: by != "month"}
	return a.Core.Mongo.Rollups.Query(ctx, f)
}

// reachOf is the reach of the invitations q counts among cells (its
// survey's; the cross-form view: every invitation's, and the feedback
// cases' answers' cost).
func (a *API) reachOf(q store.Filter, cells store.Cells) *report.Reach {
	keep := func(s string) bool { return q.Survey == "" || s == q.Survey }
	return report.ReachOf(cells, keep, q.Survey == "", a.Prices)
}

// Reach is how far the invitations made in q's period got, by the month
// they were made in (the response rate's cohort), overall and by
// channel, with their messages' cost, from the funnel cells (cells when
// read already; nil: read them). Like the response rate it leaves the
// channel, procedure and field filters aside: the funnel cells have
// none of them.
func (a *API) Reach(ctx context.Context, q store.Filter, cells store.Cells) (*report.Reach, error) {
	cells, err := a.funnelCells(ctx, q, cells, "")
	if err != nil {
		return nil, err
	}
	return a.reachOf(q, cells), nil
}

// groupReach gives each group of a report grouped by agency or month the
// reach of its invitations (funnel cells as Reach reads them, unfolded
// by that dimension).
func (a *API) groupReach(ctx context.Context, q store.Filter, cells store.Cells, by string, groups []report.Group) error {
	if by != "agency" && by != "month" || len(groups) == 0 {
		return nil
	}
	cells, err := a.funnelCells(ctx, q, cells, by)
	if err != nil {
		return err
	}
	key, _ := report.GroupKey(by)
	parts := map[string]store.Cells{}
	for k, c := range cells {
		g := key(k)
		if parts[g] == nil {
			parts[g] = store.Cells{}
		}
		parts[g].Add(k, c)
	}
	for i := range groups {
		if cs := parts[groups[i].Group]; cs != nil {
			groups[i].Reach = a.reachOf(q, cs)
		}
	}
	return nil
}
