package server

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// PlanView is an improvement plan as the API shows it.
type PlanView struct {
	store.Plan
	AgencyName     string `json:"agency_name"`
	Overdue        bool   `json:"overdue" doc:"the plan is active and an action not done is past its due day (Vietnam time)"`
	OverdueActions int    `json:"overdue_actions" doc:"the actions of an active plan not done and past their due day"`
	// Effect compares the plan's indicators, criteria and topics the same
	// number of days before and after its start (docs/improvement.md).
	Effect *report.Effect `json:"effect,omitempty" doc:"absent for a draft"`
}

// PlanList is a page of plans, newest updated first.
type PlanList struct {
	Plans      []PlanView `json:"plans"`
	NextCursor string     `json:"next_cursor,omitempty" doc:"pass as cursor= for the next page; absent on the last page"`
}

// ViewPlan shows a plan, its agency named (name: code → name), with its
// effect unless it is a draft.
func (a *API) ViewPlan(ctx context.Context, p *store.Plan, name func(string) string) (PlanView, error) {
	n := p.OverdueActions(a.Core.Today())
	v := PlanView{Plan: *p, AgencyName: name(p.Agency), Overdue: n > 0, OverdueActions: n}
	if p.Status == store.PlanDraft {
		return v, nil
	}
	start, err := time.Parse("2006-01-02", p.Start)
	if err != nil {
		return v, nil // never stored: PutPlan checks the date
	}
	var targets []report.Target
	for _, c := range p.Causes {
		switch c.Kind {
		case report.TargetIndicator, report.TargetCriterion, report.TargetTopic:
			targets = append(targets, report.Target{Kind: c.Kind, ID: c.ID})
		}
	}
	e, err := a.Effect(ctx, p.Agency, targets, start)
	if err != nil {
		return v, err
	}
	v.Effect = &e
	return v, nil
}

// agencyNames names agencies by code (the code itself when not registered).
func (a *API) agencyNames(ctx context.Context) (func(string) string, error) {
	all, err := a.Core.Mongo.Agencies.All(ctx)
	if err != nil {
		return nil, err
	}
	return namer(all), nil
}

// putPlan is PUT /api/v1/agencies/{code}/plans/{id}: 201 when it made the
// plan, 200 when it replaced it.
func (a *API) putPlan(c *fiber.Ctx) error {
	var in core.PlanInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	p, created, err := a.Core.PutPlan(c.UserContext(), Principal(c), c.Params("code"), c.Params("id"), in)
	if err != nil {
		return err
	}
	name, err := a.agencyNames(c.UserContext())
	if err != nil {
		return err
	}
	if created {
		c.Status(fiber.StatusCreated)
		c.Location("/api/v1/agencies/" + p.Agency + "/plans/" + p.ID)
	}
	v, err := a.ViewPlan(c.UserContext(), p, name)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// plan is GET /api/v1/agencies/{code}/plans/{id}.
func (a *API) plan(c *fiber.Ctx) error {
	p, err := a.Core.Plan(c.UserContext(), Principal(c), c.Params("code"), c.Params("id"))
	if err != nil {
		return err
	}
	name, err := a.agencyNames(c.UserContext())
	if err != nil {
		return err
	}
	v, err := a.ViewPlan(c.UserContext(), p, name)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// PlanQueryOf reads GET /api/v1/plans' query: agency, status,
// overdue=true|false, cursor, limit.
func PlanQueryOf(c *fiber.Ctx) (core.PlanQuery, error) {
	q := core.PlanQuery{Agency: c.Query("agency"), Status: c.Query("status"), Cursor: c.Query("cursor")}
	switch v := c.Query("sort"); v {
	case "", "updated":
	case "effect":
		q.ByEffect = true
	default:
		return q, core.Errorf(core.Invalid, "sort", "%q: use updated (newest first, the default) or effect (the page ranked by effect, best first)", v)
	}
	switch v := c.Query("overdue"); v {
	case "":
	case "true", "false":
		b := v == "true"
		q.Overdue = &b
	default:
		return q, core.Errorf(core.Invalid, "overdue", "%q: use true (only plans with actions past due) or false (only those without)", v)
	}
	if c.Context().QueryArgs().Has("limit") {
		if q.Limit = c.QueryInt("limit", -1); q.Limit == 0 {
			q.Limit = -1
		}
	}
	return q, nil
}

// ListPlans answers a query of plans as the list shows them.
func (a *API) ListPlans(c *fiber.Ctx, q core.PlanQuery) (PlanList, error) {
	page, err := a.Core.Plans(c.UserContext(), Principal(c), q)
	if err != nil {
		return PlanList{}, err
	}
	name, err := a.agencyNames(c.UserContext())
	if err != nil {
		return PlanList{}, err
	}
	out := PlanList{Plans: make([]PlanView, len(page.Plans)), NextCursor: page.Next}
	for i := range page.Plans {
		if out.Plans[i], err = a.ViewPlan(c.UserContext(), &page.Plans[i], name); err != nil {
			return PlanList{}, err
		}
	}
	if q.ByEffect { // the page ranked by effect, the best first; drafts and plans too new to tell last
		slices.SortStableFunc(out.Plans, func(x, y PlanView) int { return cmp.Compare(effectRank(y), effectRank(x)) })
	}
	return out, nil
}

// effectRank orders plans by effect: measured ones by score, then those
// with too few answers, then drafts.
func effectRank(v PlanView) float64 {
	switch {
	case v.Effect == nil:
		return -2e9
	case v.Effect.Verdict == report.TooFew:
		return -1e9
	}
	return v.Effect.Score
}

// plans is GET /api/v1/plans?agency=&status=&overdue=&cursor=&limit=.
func (a *API) plans(c *fiber.Ctx) error {
	q, err := PlanQueryOf(c)
	if err != nil {
		return err
	}
	out, err := a.ListPlans(c, q)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// Why a unit is listed as needing a plan.
const (
	BelowThreshold = "below_threshold"
	LowestTenth    = "lowest_tenth"
)

// MissingPlans lists the units that need an improvement plan and have
// none in draft or under way.
type MissingPlans struct {
	Period       period        `json:"period"`
	Threshold    float64       `json:"threshold" doc:"GATEWAY_PLAN_THRESHOLD: a unit whose share satisfied is below it needs a plan"`
	MinResponses int           `json:"min_responses" doc:"GATEWAY_RANK_MIN_RESPONSES: a unit with fewer answers in the period is not judged"`
	Ranked       int           `json:"ranked" doc:"the province's units with enough answers, among which the lowest tenth is taken"`
	Tenth        int           `json:"lowest_tenth_size" doc:"how many units the lowest tenth holds: a tenth of ranked, rounded up (ties with the last included)"`
	Units        []MissingUnit `json:"units" doc:"lowest index first"`
}

// MissingUnit is a unit without a plan that needs one.
type MissingUnit struct {
	AgencyCode string          `json:"agency_code"`
	AgencyName string          `json:"agency_name"`
	Responses  int64           `json:"responses"`
	Index      float64         `json:"index" doc:"share satisfied, percent: the SIPAS index as GET /api/v1/reports/sipas computes it"`
	Interval   report.Interval `json:"interval" doc:"the index's 95% interval"`
	Reasons    []string        `json:"reasons" doc:"below_threshold, lowest_tenth, or both"`
}

// MissingPlans reads GET /api/v1/plans/missing's query (agency, from, to;
// default the principal's subtree and the last three full months) and
// lists the units of the subtree whose SIPAS index, from the roll-ups,
// is below the threshold or among the province's lowest tenth, with
// enough answers and no active or draft plan.
func (a *API) MissingPlans(c *fiber.Ctx) (MissingPlans, error) {
	ctx, p := c.UserContext(), Principal(c)
	out := MissingPlans{Threshold: a.PlanThreshold, MinResponses: a.RankMin, Units: []MissingUnit{}}
	q, agencies, err := a.missingQuery(c, p)
	if err != nil {
		return out, err
	}
	out.Period = period{From: q.FromMonth, To: q.ToMonth}
	def, _ := a.Core.Surveys.Survey(survey.SIPAS)
	cells, _, err := a.ReadCells(ctx, q) // every unit's: the lowest tenth is the province's
	if err != nil {
		return out, err
	}
	groups, err := report.Groups(ctx, a.Computer(q, def), cells, "agency")
	if err != nil {
		return out, err
	}
	groups = slices.DeleteFunc(groups, func(g report.Group) bool { return g.Responses < int64(a.RankMin) })
	slices.SortStableFunc(groups, func(x, y report.Group) int { return cmpRate(x.Overall.SatisfactionRate, y.Overall.SatisfactionRate) })
	out.Ranked, out.Tenth = len(groups), (len(groups)+9)/10
	cutoff := -1.0
	if out.Tenth > 0 {
		cutoff = groups[out.Tenth-1].Overall.SatisfactionRate
	}
	planned, err := a.Core.PlannedAgencies(ctx, agencies)
	if err != nil {
		return out, err
	}
	name, err := a.agencyNames(ctx)
	if err != nil {
		return out, err
	}
	for _, g := range groups {
		if (agencies != nil && !slices.Contains(agencies, g.Group)) || planned[g.Group] {
			continue
		}
		var why []string
		if g.Overall.SatisfactionRate < a.PlanThreshold {
			why = append(why, BelowThreshold)
		}
		if g.Overall.SatisfactionRate <= cutoff {
			why = append(why, LowestTenth)
		}
		if len(why) > 0 {
			out.Units = append(out.Units, MissingUnit{AgencyCode: g.Group, AgencyName: name(g.Group), Responses: g.Responses,
				Index: g.Overall.SatisfactionRate, Interval: g.Overall.Interval, Reasons: why})
		}
	}
	return out, nil
}

func cmpRate(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// missingQuery reads the missing list's agency (its subtree within the
// principal's; nil: every agency) and months (default the last three
// full months, Vietnam time, or the three ending with to), and the filter of every unit's SIPAS cells.
func (a *API) missingQuery(c *fiber.Ctx, p *core.Principal) (store.Filter, []string, error) {
	q := store.Filter{Survey: string(survey.SIPAS), FoldMonths: true, Standing: true}
	var agencies []string
	if ag := c.Query("agency", p.Agency); ag != "" {
		if !core.ValidAgencyCode(ag) {
			return q, nil, core.Errorf(core.Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", ag)
		}
		if err := a.Scope(c.UserContext(), p, ag); err != nil {
			return q, nil, core.Errorf(core.Denied, "agency", "agency %s is outside this key's agency %s", ag, p.Agency)
		}
		var err error
		if agencies, err = a.Core.Subtree(c.UserContext(), ag); err != nil {
			return q, nil, err
		}
	}
	var err error
	if q.FromMonth, err = month(c.Query("from"), "from"); err != nil {
		return q, nil, err
	}
	if q.ToMonth, err = month(c.Query("to"), "to"); err != nil {
		return q, nil, err
	}
	first := time.Now()
	if a.Core.Clock != nil {
		first = a.Core.Clock()
	}
	first = first.In(core.Vietnam)
	first = time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, core.Vietnam)
	if q.ToMonth == "" {
		q.ToMonth = first.AddDate(0, -1, 0).Format("2006-01")
	}
	if q.FromMonth == "" { // three months ending with to
		to, _ := time.Parse("2006-01", q.ToMonth)
		q.FromMonth = to.AddDate(0, -2, 0).Format("2006-01")
	}
	if q.FromMonth > q.ToMonth {
		return q, nil, core.Errorf(core.Invalid, "from", "from %s is after to %s", q.FromMonth, q.ToMonth)
	}
	return q, agencies, a.Core.CheckPeriod(q.FromMonth, q.ToMonth)
}

// missingPlans is GET /api/v1/plans/missing?agency=&from=&to=.
func (a *API) missingPlans(c *fiber.Ctx) error {
	out, err := a.MissingPlans(c)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
