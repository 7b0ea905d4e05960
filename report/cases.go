package report

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// CaseOf is the follow-up case r opens under rule, or nil: a criterion
// (or a one-question survey's question) whose valid answers average at
// most rule.MaxScore, a complaint about one of rule.Topics whatever the
// scores, or a comment with a complaint topic in a response whose mean is
// at most rule.ComplaintMaxMean. Its due time counts
// rule.DueDays working days from the answer.
func CaseOf(r *store.Response, topics []survey.Topic, rule store.CaseRule, cal *survey.Calendar) *store.Case {
	rule = rule.Effective()
	if rule.Off {
		return nil
	}
	type crit struct{ sum, n int }
	per := map[string]*crit{}
	var order []string
	var sum, n int
	for _, a := range r.Answers {
		if a.Score < 1 || a.Score > 5 {
			continue
		}
		key := a.Criterion
		if key == "" {
			key = a.Question
		}
		c := per[key]
		if c == nil {
			c = &crit{}
			per[key] = c
			order = append(order, key)
		}
		c.sum += a.Score
		c.n++
		sum += a.Score
		n++
	}
	low := []string{}
	for _, k := range order {
		if c := per[k]; c.sum <= rule.MaxScore*c.n {
			low = append(low, k)
		}
	}
	complaint, flagged := false, false
	for _, t := range topics {
		if t.Polarity == survey.Complaint {
			complaint = true
			flagged = flagged || slices.Contains(rule.Topics, t.ID)
		}
	}
	reason := ""
	switch {
	case len(low) > 0:
		reason = "low_score"
	case flagged:
		reason = "topic"
	case complaint && rule.ComplaintMaxMean >= 0 && n > 0 && float64(sum) <= rule.ComplaintMaxMean*float64(n):
		reason = "complaint"
	default:
		return nil
	}
	due := store.Millis(cal.Due(r.SubmittedAt, rule.DueDays))
	return &store.Case{ID: r.ID, ResponseID: r.ID, InvitationID: r.InvitationID, Agency: r.AgencyCode, Dossier: r.DossierCode,
		Procedure: r.ProcedureCode, Channel: r.Channel, Survey: r.Survey, Comment: survey.CleanCitizenText(r.Comment),
		Low: low, Topics: topics, Reason: reason, Status: store.CaseOpen, OpenedAt: r.SubmittedAt, DueAt: due, FirstDueAt: &due,
		History: []store.CaseEvent{{At: store.Millis(time.Now()), By: "gateway", Action: "opened", Detail: reason}}}
}

// caseRules finds each agency's case rule: its own, or the nearest
// ancestor's, or the default; agencies are read by _id, once a batch.
type caseRules struct {
	m     *store.Mongo
	seen  map[string]store.CaseRule
	hooks map[string]bool // agencies with a webhook of their own
}

func (r *caseRules) of(ctx context.Context, code string) (store.CaseRule, error) {
	if rule, ok := r.seen[code]; ok {
		return rule, nil
	}
	rule := store.DefaultCaseRule
	for c, hops := code, 0; c != "" && hops < 32; hops++ {
		ag, err := r.m.Agencies.Agency(ctx, c)
		if errors.Is(err, store.ErrNotFound) {
			break // an unregistered code: the default
		}
		if err != nil {
			return rule, err
		}
		if c == code && ag.Webhook != nil {
			r.hooks[code] = true
		}
		if ag.CaseRule != nil {
			rule = *ag.CaseRule
			break
		}
		c = ag.Parent
	}
	r.seen[code] = rule
	return rule, nil
}

// casesFor are the cases the counted responses call for (topics: of each
// one's comment), and the notices of those whose agency has a webhook.
func (a *Applier) casesFor(ctx context.Context, counted []*store.Response, topics [][]survey.Topic) ([]*store.Case, []map[string]string, error) {
	if a.Calendar == nil {
		return nil, nil, nil
	}
	rules := &caseRules{m: a.Mongo, seen: map[string]store.CaseRule{}, hooks: map[string]bool{}}
	var cases []*store.Case
	for i, r := range counted {
		rule, err := rules.of(ctx, r.AgencyCode)
		if err != nil {
			return nil, nil, err
		}
		if c := CaseOf(r, topics[i], rule, a.Calendar); c != nil {
			cases = append(cases, c)
		}
	}
	var notices []map[string]string
	for _, c := range cases {
		if rules.hooks[c.Agency] {
			// Added once by its id (Stream.AddOnce), sent as X-Notice-Id.
			notices = append(notices, store.NoticeEntry("case.opened", c.Agency, c, time.Now()))
		}
	}
	return cases, notices, nil
}
