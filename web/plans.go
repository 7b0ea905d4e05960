package web

import (
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// planStatusLabels name plan statuses (in Vietnamese, translated when shown).
var planStatusLabels = map[store.PlanStatus]string{
	store.PlanDraft: "Bản nháp", store.PlanActive: "Đang thực hiện", store.PlanDone: "Đã hoàn thành", store.PlanDropped: "Đã dừng",
}

// missingReasons say why a unit needs a plan.
var missingReasons = map[string]string{server.BelowThreshold: "Dưới ngưỡng", server.LowestTenth: "Thuộc nhóm một phần mười thấp nhất tỉnh"}

// planRow is a plan as the console's list shows it.
type planRow struct {
	server.PlanView
	Link, Status, Start, NextDue, Updated string
	Done                                  int
	Verdict, VerdictCode, Score           string // the effect's, "" for a draft
}

// missingRow is a unit without a plan, as the console lists it.
type missingRow struct {
	server.MissingUnit
	Index, Interval, Responses, Reasons, Link string
}

// plansPage lists the units that need a plan and have none, then the
// plans of the scope: GET /console/plans?agency=&status=&overdue=&from=&to=.
func (cs *console) plansPage(c *fiber.Ctx) error {
	a, lang := cs.api, langOf(c)
	missing, err := a.MissingPlans(c)
	if err != nil {
		return err
	}
	q, err := server.PlanQueryOf(c)
	if err != nil {
		return err
	}
	list, err := a.ListPlans(c, q)
	if err != nil {
		return err
	}
	agencies, _, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	units := make([]missingRow, len(missing.Units))
	for i, u := range missing.Units {
		var why []string
		for _, r := range u.Reasons {
			why = append(why, translate(lang, missingReasons[r]))
		}
		units[i] = missingRow{MissingUnit: u, Index: locale.Percent(lang, u.Index, 2), Interval: interval(lang, u.Interval),
			Responses: locale.Int(lang, u.Responses), Reasons: strings.Join(why, "; "), Link: "/console/plans/new?agency=" + url.QueryEscape(u.AgencyCode)}
	}
	rows := make([]planRow, len(list.Plans))
	for i, p := range list.Plans {
		rows[i] = cs.planRow(lang, p)
	}
	next := ""
	if list.NextCursor != "" {
		v := url.Values{"cursor": {list.NextCursor}}
		for _, k := range []string{"agency", "status", "overdue", "from", "to", "sort"} {
			if s := c.Query(k); s != "" {
				v.Set(k, s)
			}
		}
		next = "/console/plans?" + v.Encode()
	}
	v := cs.view(c, "Kế hoạch khắc phục")
	v.Data = map[string]any{"Missing": missing, "Units": units, "Rows": rows, "Next": next, "Agencies": agencies, "Statuses": planStatuses(lang),
		"Threshold": locale.Percent(lang, missing.Threshold, 0), "Period": locale.Months(lang, missing.Period.From, missing.Period.To),
		"Q": map[string]string{"Agency": c.Query("agency"), "Status": q.Status, "Overdue": c.Query("overdue"), "Sort": c.Query("sort")}}
	return cs.render(c, 200, "plans", v)
}

func (cs *console) planRow(lang string, p server.PlanView) planRow {
	r := planRow{PlanView: p, Link: "/console/plans/" + p.Agency + "/" + p.ID, Status: translate(lang, planStatusLabels[p.Status]),
		Start: dayOf(lang, p.Start), Updated: locale.DateTime(lang, p.UpdatedAt.In(cs.api.Zone))}
	for _, act := range p.Actions {
		if act.Done {
			r.Done++
		} else if r.NextDue == "" || act.Due < r.NextDue {
			r.NextDue = act.Due
		}
	}
	r.NextDue = dayOf(lang, r.NextDue)
	if e := p.Effect; e != nil {
		r.Verdict, r.VerdictCode = translate(lang, verdictLabels[e.Verdict]), e.Verdict
		if e.Verdict != report.TooFew {
			r.Score = translate(lang, "%s điểm", locale.Signed(lang, e.Score, 1))
		}
	}
	return r
}

// dayOf writes a YYYY-MM-DD day as lang does ("" stays "").
func dayOf(lang, day string) string {
	t, err := time.Parse("2006-01-02", day)
	if err != nil {
		return day
	}
	return locale.Date(lang, t)
}

func planStatuses(lang string) []struct{ Code, Label string } {
	out := make([]struct{ Code, Label string }, len(store.PlanStatuses))
	for i, s := range store.PlanStatuses {
		out[i] = struct{ Code, Label string }{string(s), translate(lang, planStatusLabels[s])}
	}
	return out
}

// choice is one checkbox of the plan form's causes.
type choice struct {
	Value, Label string
	Checked      bool
}

// planForm is what the plan page's form shows: the plan as stored, or as
// typed when a save was refused.
type planForm struct {
	New                       bool
	Agency, ID, Title         string
	Start, Status, Procedures string
	Version                   int64
	Actions                   []store.PlanAction
	Ticked                    map[string]bool // "kind:id" of the causes held
	Criteria, Topics, Desks   []choice
	Indicators                []indicatorGroup
	AgencyName, Updated       string
	OverdueActions            int
	Effect                    *effectView // nil for a new plan or a draft
}

// indicatorGroup is a criterion's indicators, as a fieldset of the form.
type indicatorGroup struct {
	Criterion string
	Items     []choice
}

// emptyActions is how many blank action rows the form adds for new ones.
const emptyActions = 3

// planPage shows a plan to edit (or read, for a viewer), or an empty one
// to make: GET /console/plans/:agency/:id, GET /console/plans/new?agency=.
func (cs *console) planPage(c *fiber.Ctx) error {
	form, _ := c.Locals("plan_form").(*planForm)
	if form == nil {
		var err error
		if form, err = cs.storedPlan(c); err != nil {
			return err
		}
	}
	if err := cs.fillChoices(c, form); err != nil {
		return err
	}
	title := cs.view(c, "Kế hoạch: %s", form.Title)
	if form.New {
		title = cs.view(c, "Lập kế hoạch khắc phục")
	}
	v := cs.withFormError(title, c)
	agencies, _, err := cs.api.AgencyNamer(c)
	if err != nil {
		return err
	}
	v.Data = map[string]any{"Plan": form, "Agencies": agencies, "Statuses": planStatuses(v.Lang)}
	return cs.show(c, "plan", v)
}

// storedPlan is the form of the plan the path names, or of a new one.
func (cs *console) storedPlan(c *fiber.Ctx) (*planForm, error) {
	a, lang := cs.api, langOf(c)
	if c.Params("agency") == "" { // /console/plans/new
		return &planForm{New: true, Agency: c.Query("agency"), Start: a.Core.Today(), Status: string(store.PlanActive)}, nil
	}
	p, err := a.Core.Plan(c.UserContext(), server.Principal(c), c.Params("agency"), c.Params("id"))
	if err != nil {
		return nil, err
	}
	_, name, err := a.AgencyNamer(c)
	if err != nil {
		return nil, err
	}
	view, err := a.ViewPlan(c.UserContext(), p, name)
	if err != nil {
		return nil, err
	}
	f := &planForm{Agency: p.Agency, ID: p.ID, Title: p.Title, Start: p.Start, Status: string(p.Status), Version: p.Version,
		Actions: p.Actions, AgencyName: view.AgencyName, Updated: locale.DateTime(lang, p.UpdatedAt.In(a.Zone)) + " · " + p.UpdatedBy, OverdueActions: view.OverdueActions, Effect: effectOf(a, lang, view.Effect)}
	f.Ticked = map[string]bool{}
	var procs []string
	for _, cause := range p.Causes {
		f.Ticked[cause.Kind+":"+cause.ID] = true
		if cause.Kind == core.CauseProcedure {
			procs = append(procs, cause.ID)
		}
	}
	f.Procedures = strings.Join(procs, ", ")
	return f, nil
}

// fillChoices lists every cause the form offers, keeping ticked those
// the form holds: the SIPAS criteria and indicators by name, the comment
// topics by name, the desks of the plan's agency and the units under it.
func (cs *console) fillChoices(c *fiber.Ctx, f *planForm) error {
	a, lang := cs.api, langOf(c)
	tick := func(kind, id string) bool { return f.Ticked[kind+":"+id] }
	def, _ := a.Core.Surveys.Survey(survey.SIPAS)
	for _, k := range def.Criteria {
		f.Criteria = append(f.Criteria, choice{k.Code, k.Code + " · " + k.Title.In(lang), tick(core.CauseCriterion, k.Code)})
		g := indicatorGroup{Criterion: k.Code + " · " + k.Title.In(lang)}
		for _, q := range def.Questions {
			if q.Criterion == k.Code {
				g.Items = append(g.Items, choice{string(q.ID), string(q.ID) + " · " + q.Text.In(lang), tick(core.CauseIndicator, string(q.ID))})
			}
		}
		f.Indicators = append(f.Indicators, g)
	}
	for _, id := range a.TopicIDs() {
		f.Topics = append(f.Topics, choice{id, topicName(a, lang, id), tick(core.CauseTopic, id)})
	}
	list, err := a.Core.Desks(c.UserContext(), server.Principal(c))
	if err != nil {
		return err
	}
	var within []string
	if f.Agency != "" && core.ValidAgencyCode(f.Agency) {
		if within, err = a.Core.Subtree(c.UserContext(), f.Agency); err != nil {
			return err
		}
	}
	for _, d := range list {
		if within == nil || slices.Contains(within, d.Agency) {
			f.Desks = append(f.Desks, choice{d.ID, d.Name + " (" + d.ID + ")", tick(core.CauseDesk, d.ID)})
		}
	}
	for range emptyActions { // blank rows for new actions
		f.Actions = append(f.Actions, store.PlanAction{})
	}
	return nil
}

// maxFormActions bounds the action rows a posted form is read for.
const maxFormActions = 60

// savePlan saves the plan form: POST /console/plans. A refused save shows
// the form again as typed, with the reason.
func (cs *console) savePlan(c *fiber.Ctx) error {
	f, in := planFormOf(c)
	_, _, err := cs.api.Core.PutPlan(c.UserContext(), server.Principal(c), f.Agency, f.ID, in)
	var ce *core.Error
	if errors.As(err, &ce) {
		c.Locals("plan_form", f)
		return cs.redo(c, cs.planPage, err)
	}
	if err != nil {
		return err
	}
	return cs.flash(c, "/console/plans/"+f.Agency+"/"+f.ID, "Đã lưu kế hoạch “%s”.", in.Title)
}

// planFormOf reads the posted form, as the form shows it and as the API
// takes it.
func planFormOf(c *fiber.Ctx) (*planForm, core.PlanInput) {
	args := c.Request().PostArgs()
	multi := func(name string) []string {
		var out []string
		for _, v := range args.PeekMulti(name) {
			out = append(out, string(v))
		}
		return out
	}
	version, _ := strconv.ParseInt(c.FormValue("version"), 10, 64)
	f := &planForm{New: c.FormValue("new") != "", Agency: strings.TrimSpace(c.FormValue("agency")), ID: strings.TrimSpace(c.FormValue("id")),
		Title: c.FormValue("title"), Start: c.FormValue("start"), Status: c.FormValue("status"), Version: version, Procedures: c.FormValue("procedures")}
	in := core.PlanInput{Title: f.Title, Start: f.Start, Status: f.Status, Version: version}
	f.Ticked = map[string]bool{}
	for _, kind := range []string{core.CauseCriterion, core.CauseIndicator, core.CauseTopic, core.CauseDesk} {
		for _, v := range multi(kind) {
			in.Causes = append(in.Causes, store.PlanCause{Kind: kind, ID: v})
			f.Ticked[kind+":"+v] = true
		}
	}
	for _, code := range strings.FieldsFunc(f.Procedures, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		in.Causes = append(in.Causes, store.PlanCause{Kind: core.CauseProcedure, ID: code})
	}
	for i := range maxFormActions {
		n := strconv.Itoa(i)
		if !args.Has("action_text_" + n) {
			break
		}
		act := store.PlanAction{Text: c.FormValue("action_text_" + n), Owner: c.FormValue("action_owner_" + n), Due: c.FormValue("action_due_" + n), Done: c.FormValue("action_done_"+n) != ""}
		if strings.TrimSpace(act.Text+act.Owner+act.Due) == "" && !act.Done {
			continue // a blank row
		}
		f.Actions = append(f.Actions, act)
		in.Actions = append(in.Actions, act)
	}
	return f, in
}
