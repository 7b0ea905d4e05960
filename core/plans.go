package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// PlanInput is the body of PUT /api/v1/agencies/{code}/plans/{id}.
type PlanInput struct {
	Title   string             `json:"title" doc:"at most 200 characters"`
	Causes  []store.PlanCause  `json:"causes" doc:"at least one"`
	Actions []store.PlanAction `json:"actions" doc:"at least one"`
	Start   string             `json:"start" doc:"YYYY-MM-DD, Vietnam time; default today"`
	Status  string             `json:"status" doc:"draft, active (the default), done or dropped"`
	Version int64              `json:"version" doc:"the version read: a stale one is a 409; leave it out (or 0) to create the plan"`
}

// The kinds of a plan's causes.
const (
	CauseIndicator = "indicator"
	CauseCriterion = "criterion"
	CauseTopic     = "topic"
	CauseProcedure = "procedure"
	CauseDesk      = "desk"
)

// CauseKinds are the kinds a plan's cause may have.
var CauseKinds = []string{CauseIndicator, CauseCriterion, CauseTopic, CauseProcedure, CauseDesk}

// A plan's limits: enough for any real plan, small enough that one PUT
// stays cheap to check (a desk cause is one read).
const (
	maxPlanTitle   = 200
	maxPlanCauses  = 30
	maxPlanActions = 50
	maxActionText  = 500
	maxActionOwner = 100
)

// PutPlan creates or replaces agency's plan id. The agency's own keys and
// users, those of an agency above it, and admins may; a replace names the
// version it read (a stale one is a 409 naming version). It returns the
// plan and whether it was created.
func (s *Service) PutPlan(ctx context.Context, p *Principal, agency, id string, in PlanInput) (*store.Plan, bool, error) {
	if p.Role == RoleViewer {
		return nil, false, Errorf(Denied, "", "a viewer key cannot change plans")
	}
	if _, err := s.planAgency(ctx, p, agency, id); err != nil {
		return nil, false, err
	}
	if err := s.checkPlan(ctx, agency, &in); err != nil {
		return nil, false, err
	}
	unlock, err := s.lockPlan(ctx, store.PlanKey(agency, id))
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	old, err := s.Mongo.Plans.Plan(ctx, agency, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	now := s.now()
	plan := &store.Plan{Agency: agency, ID: id, Title: in.Title, Causes: in.Causes, Actions: in.Actions, Start: in.Start,
		Status: store.PlanStatus(in.Status), CreatedAt: now, UpdatedAt: now, UpdatedBy: p.Who()}
	switch {
	case old == nil && in.Version != 0:
		return nil, false, Errorf(Conflict, "version", "plan %s of %s does not exist (any more); leave version out to create it", id, agency)
	case old == nil:
		err = s.createPlan(ctx, plan)
		if errors.Is(err, store.ErrDuplicate) {
			err = Errorf(Conflict, "version", "plan %s of %s was just created by someone else; read it and send its version", id, agency)
		}
	case in.Version != old.Version:
		return nil, false, Errorf(Conflict, "version", "%d is not the plan's version: %s saved version %d at %s; read it again, redo your change and send version %d",
			in.Version, old.UpdatedBy, old.Version, old.UpdatedAt.In(Vietnam).Format("2006-01-02 15:04"), old.Version)
	default:
		plan.CreatedAt = old.CreatedAt
		err = s.Mongo.Plans.Replace(ctx, plan, old.Version)
		if errors.Is(err, store.ErrPlanChanged) {
			err = Errorf(Conflict, "version", "the plan changed while it was saved; read it again and send its version")
		}
	}
	if err != nil {
		return nil, false, err
	}
	detail := map[string]any{"version": plan.Version, "changes": planChanges(old, plan)}
	return plan, old == nil, s.Audit(ctx, p, "plan.put", plan.Key, detail)
}

// Plan returns agency's plan id, if p may see it.
func (s *Service) Plan(ctx context.Context, p *Principal, agency, id string) (*store.Plan, error) {
	if _, err := s.planAgency(ctx, p, agency, id); err != nil {
		return nil, err
	}
	plan, err := s.Mongo.Plans.Plan(ctx, agency, id)
	if err != nil {
		return nil, notFoundAs(err, "agency %s has no plan %s; make it with PUT /api/v1/agencies/%s/plans/%s", agency, id, agency, id)
	}
	return plan, nil
}

// planAgency checks the path of a plan: the agency's code, within p's
// subtree and registered, and the plan's id.
func (s *Service) planAgency(ctx context.Context, p *Principal, agency, id string) (*store.Agency, error) {
	switch {
	case !ValidAgencyCode(agency):
		return nil, Errorf(Invalid, "code", "%q: use at most 35 characters of digits, capital letters and dots, e.g. 000.00.12.H49", agency)
	case !deskIDRe.MatchString(id):
		return nil, Errorf(Invalid, "id", "%q: use 1–32 lower-case letters, digits, - and _, starting with a letter or digit, e.g. cho-lau-2026", id)
	}
	if err := s.HeldScope(ctx, p, agency, "code", "agency "+agency); err != nil {
		return nil, err
	}
	ag, err := s.Mongo.Agencies.Agency(ctx, agency)
	if err != nil {
		return nil, notFoundAs(err, "agency %s is not registered; register it with PUT /api/v1/agencies/%s first", agency, agency)
	}
	return ag, nil
}

// createPlan stores a new plan under the plan index's lock: FerretDB
// applies an update by reading the document and writing it back, so two
// $addToSet on one index document at once could lose a plan.
func (s *Service) createPlan(ctx context.Context, plan *store.Plan) error {
	unlock, err := s.lockPlan(ctx, "index")
	if err != nil {
		return err
	}
	defer unlock()
	return s.Mongo.Plans.Create(ctx, plan)
}

// lockPlan holds a plan's lock (or the plan index's) while it is read and
// written, so two PUTs of one version cannot both pass the version check.
func (s *Service) lockPlan(ctx context.Context, key string) (func(), error) {
	if s.Locks == nil {
		return func() {}, nil
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := s.Locks.Acquire(ctx, "plan:"+s.Mongo.DB.Name()+":"+key, 15*time.Second)
		if err == nil {
			return func() { _ = l.Release(context.WithoutCancel(ctx)) }, nil
		}
		if !errors.Is(err, store.ErrLocked) || time.Now().After(deadline) {
			return nil, Errorf(Conflict, "version", "someone else is saving this plan now; read it again and send its version")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkPlan checks and cleans a plan's body, naming the field at fault.
func (s *Service) checkPlan(ctx context.Context, agency string, in *PlanInput) error {
	in.Title, in.Start, in.Status = survey.CleanText(in.Title), strings.TrimSpace(in.Start), strings.TrimSpace(in.Status)
	if in.Status == "" {
		in.Status = string(store.PlanActive)
	}
	if in.Start == "" {
		in.Start = s.Today()
	}
	switch {
	case in.Title == "" || utf8.RuneCountInString(in.Title) > maxPlanTitle:
		return Errorf(Invalid, "title", "required, at most %d characters: what the plan is to improve, e.g. Giảm thời gian chờ ở bộ phận một cửa", maxPlanTitle)
	case !slices.Contains(store.PlanStatuses, store.PlanStatus(in.Status)):
		return Errorf(Invalid, "status", "%q: use draft, active, done or dropped", in.Status)
	case !isDay(in.Start):
		return Errorf(Invalid, "start", "%q: write the day the plan starts as YYYY-MM-DD, e.g. 2026-06-01", in.Start)
	case len(in.Causes) == 0:
		return Errorf(Invalid, "causes", `name at least one cause, e.g. {"kind": "indicator", "id": "B5"}; kinds: %s`, strings.Join(CauseKinds, ", "))
	case len(in.Causes) > maxPlanCauses:
		return Errorf(Invalid, "causes", "%d causes: name at most %d", len(in.Causes), maxPlanCauses)
	case len(in.Actions) == 0:
		return Errorf(Invalid, "actions", `name at least one action, e.g. {"text": "Thêm ghế chờ", "owner": "Văn phòng", "due": "2026-06-30"}`)
	case len(in.Actions) > maxPlanActions:
		return Errorf(Invalid, "actions", "%d actions: list at most %d", len(in.Actions), maxPlanActions)
	}
	seen := map[store.PlanCause]int{}
	for i := range in.Causes {
		c := &in.Causes[i]
		if err := s.checkCause(ctx, agency, fmt.Sprintf("causes[%d]", i), c); err != nil {
			return err
		}
		if j, dup := seen[*c]; dup {
			return Errorf(Invalid, fmt.Sprintf("causes[%d].id", i), "%s %s is causes[%d] already; name each cause once", c.Kind, c.ID, j)
		}
		seen[*c] = i
	}
	for i := range in.Actions {
		if err := checkAction(fmt.Sprintf("actions[%d]", i), &in.Actions[i], in.Start); err != nil {
			return err
		}
	}
	return nil
}

func checkAction(field string, a *store.PlanAction, start string) error {
	a.Text, a.Owner, a.Due = survey.CleanText(a.Text), survey.CleanText(a.Owner), strings.TrimSpace(a.Due)
	switch {
	case a.Text == "" || utf8.RuneCountInString(a.Text) > maxActionText:
		return Errorf(Invalid, field+".text", "required, at most %d characters: what will be done", maxActionText)
	case utf8.RuneCountInString(a.Owner) > maxActionOwner:
		return Errorf(Invalid, field+".owner", "at most %d characters: who does it", maxActionOwner)
	case !isDay(a.Due):
		return Errorf(Invalid, field+".due", "%q: write the day it is due as YYYY-MM-DD, e.g. 2026-06-30", a.Due)
	case a.Due < start:
		return Errorf(Invalid, field+".due", "%s is before the plan's start %s; give a later day or an earlier start", a.Due, start)
	}
	return nil
}

// checkCause checks one cause: an indicator or criterion of the SIPAS
// form, a comment topic, a procedure code, or a desk of the agency's
// subtree.
func (s *Service) checkCause(ctx context.Context, agency, field string, c *store.PlanCause) error {
	c.Kind, c.ID = strings.TrimSpace(c.Kind), strings.TrimSpace(c.ID)
	def, _ := s.Surveys.Survey(survey.SIPAS)
	switch c.Kind {
	case CauseIndicator:
		c.ID = strings.ToUpper(c.ID)
		if _, ok := def.Question(survey.QuestionID(c.ID)); !ok {
			return Errorf(Invalid, field+".id", "%q is not a SIPAS indicator; use A1–A4, B1–B5, C1–C6, D1–D3 or E1–E4", c.ID)
		}
	case CauseCriterion:
		c.ID = strings.ToUpper(c.ID)
		if !slices.ContainsFunc(def.Criteria, func(k survey.Criterion) bool { return k.Code == c.ID }) {
			return Errorf(Invalid, field+".id", "%q is not a SIPAS criterion; use A, B, C, D or E", c.ID)
		}
	case CauseTopic:
		if s.Topics == nil || !slices.ContainsFunc(s.Topics.Topics, func(d survey.TopicDef) bool { return d.ID == c.ID }) {
			return Errorf(Invalid, field+".id", "%q is not a comment topic; use one of the lexicon's (waiting, attitude, fees, …: GET /api/v1/comments lists them by topic)", c.ID)
		}
	case CauseProcedure:
		if !procedureRe.MatchString(c.ID) {
			return Errorf(Invalid, field+".id", "%q: a procedure code is at most 64 characters of letters, digits and . - _, e.g. 1.011442.000.00.00.H49", c.ID)
		}
	case CauseDesk:
		return s.checkDeskCause(ctx, agency, field, c.ID)
	default:
		return Errorf(Invalid, field+".kind", "%q: use %s", c.Kind, strings.Join(CauseKinds, ", "))
	}
	return nil
}

// checkDeskCause refuses a desk that does not exist or serves an agency
// outside the plan's agency's subtree, in the same words (an agency key
// learns nothing of other branches' desks).
func (s *Service) checkDeskCause(ctx context.Context, agency, field, id string) error {
	d, err := s.Mongo.Desks.Desk(ctx, id)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	in := false
	if d != nil {
		if in, err = s.InSubtree(ctx, agency, d.Agency); err != nil {
			return err
		}
	}
	if !in {
		return Errorf(Invalid, field+".id", "%q is not a desk of %s or of a unit under it; GET /api/v1/desks lists the desks", id, agency)
	}
	return nil
}

// isDay says v is a day written YYYY-MM-DD.
func isDay(v string) bool {
	_, err := time.Parse("2006-01-02", v)
	return err == nil
}

// Today is the day it is in Vietnam, YYYY-MM-DD: plans' days are
// Vietnam's.
func (s *Service) Today() string { return s.now().In(Vietnam).Format("2006-01-02") }

// planChanges sums up what a PUT changed, for the audit log.
func planChanges(old, now *store.Plan) []string {
	if old == nil {
		return []string{fmt.Sprintf("created: %s, %d causes, %d actions", now.Status, len(now.Causes), len(now.Actions))}
	}
	out := []string{}
	for _, f := range []struct{ name, was, is string }{{"title", old.Title, now.Title}, {"status", string(old.Status), string(now.Status)}, {"start", old.Start, now.Start}} {
		if f.was != f.is {
			out = append(out, fmt.Sprintf("%s: %s → %s", f.name, f.was, f.is))
		}
	}
	for _, c := range now.Causes {
		if !slices.Contains(old.Causes, c) {
			out = append(out, "cause added: "+c.Kind+" "+c.ID)
		}
	}
	for _, c := range old.Causes {
		if !slices.Contains(now.Causes, c) {
			out = append(out, "cause removed: "+c.Kind+" "+c.ID)
		}
	}
	for i := range max(len(old.Actions), len(now.Actions)) {
		n := strconv.Itoa(i + 1)
		switch {
		case i >= len(old.Actions):
			out = append(out, "action "+n+" added")
		case i >= len(now.Actions):
			out = append(out, "action "+n+" removed")
		case old.Actions[i] == now.Actions[i]:
		case !old.Actions[i].Done && now.Actions[i].Done:
			out = append(out, "action "+n+" done")
		default:
			out = append(out, "action "+n+" changed")
		}
	}
	return out
}
