package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// CaseQuery selects follow-up cases: an agency subtree (within the
// principal's), a status, only overdue ones, a low criterion, what
// opened them (Kind: response or feedback), and the months they opened
// in (default: the last three). Q (words of the text), Dossier (a part
// of the dossier code) and Assignee (words of the name) search the case
// index instead (see SearchCases).
type CaseQuery struct {
	Agency, Status, Criterion, Kind string
	Overdue                         bool
	FromMonth, ToMonth              string
	Limit                           int
	Q, Dossier, Assignee            string
}

// Cases lists the cases q selects that p may see, overdue first, then by
// due time. Without months or status=closed it is the work list: every
// case not closed, whenever it opened (from the open-case index).
func (s *Service) Cases(ctx context.Context, p *Principal, q CaseQuery) ([]store.Case, error) {
	if err := checkCaseQuery(q); err != nil {
		return nil, err
	}
	if q.Searching() {
		list, _, err := s.SearchCases(ctx, p, q)
		return list, err
	}
	now := s.now()
	months, err := caseMonths(q.FromMonth, q.ToMonth, now, s.MonthLimit())
	if err != nil {
		return nil, err
	}
	agencies, err := s.scopeAgencies(ctx, p, q.Agency) // nil: every agency
	if err != nil {
		return nil, err
	}
	// The work list (no months asked, not the closed ones) reads the open
	// cases alone; otherwise every case of the months.
	work := q.FromMonth == "" && q.ToMonth == "" && q.Status != string(store.CaseClosed)
	all, err := s.casesOf(ctx, agencies, work, months)
	if err != nil {
		return nil, err
	}
	return s.filterCases(q, all)
}

// filterCases keeps the cases q's status, overdue, criterion, kind and
// (for a search) months select, overdue first, then by due time, at most
// q.Limit.
func (s *Service) filterCases(q CaseQuery, all []store.Case) ([]store.Case, error) {
	now := s.now()
	var months []string
	if q.Searching() && (q.FromMonth != "" || q.ToMonth != "") {
		var err error
		if months, err = caseMonths(q.FromMonth, q.ToMonth, now, s.MonthLimit()); err != nil {
			return nil, err
		}
	}
	out := all[:0]
	for _, c := range all {
		switch {
		case q.Status != "" && string(c.Status) != q.Status:
		case q.Overdue && !c.Overdue(now):
		case q.Criterion != "" && !slices.Contains(c.Low, q.Criterion):
		case q.Kind != "" && (q.Kind == store.CaseFeedback) != c.Feedback():
		case months != nil && !slices.Contains(months, store.MonthOf(c.OpenedAt)):
		default:
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if oi, oj := out[i].Overdue(now), out[j].Overdue(now); oi != oj {
			return oi
		}
		if oi, oj := out[i].Open(), out[j].Open(); oi != oj {
			return oi
		}
		return out[i].DueAt.Before(out[j].DueAt)
	})
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// checkCaseQuery checks q's status and kind.
func checkCaseQuery(q CaseQuery) error {
	if q.Status != "" && !slices.Contains(caseStatuses, store.CaseStatus(q.Status)) {
		return Errorf(Invalid, "status", "%q: use open, in_progress, answered, closed or reopened", q.Status)
	}
	if q.Kind != "" && q.Kind != "response" && q.Kind != store.CaseFeedback {
		return Errorf(Invalid, "kind", "%q: use response (an unhappy answer's cases) or feedback (the feedback pages')", q.Kind)
	}
	return nil
}

// saveCase writes a changed case and keeps the open-case index: a closed
// case leaves it, any other is (again) in it.
func (s *Service) saveCase(ctx context.Context, c *store.Case) error {
	if err := s.Mongo.Cases.Save(ctx, c); err != nil {
		return err
	}
	return s.indexCase(ctx, c)
}

// indexCase puts c in the open-case index as its status says: a closed
// case leaves it, any other is (again) in it, with its due time while it
// waits for the agency.
func (s *Service) indexCase(ctx context.Context, c *store.Case) error {
	if s.OpenCases == nil {
		return nil
	}
	if c.Status == store.CaseClosed {
		return s.OpenCases.Closed(ctx, c)
	}
	return s.OpenCases.Add(ctx, c)
}

// casesOf are the agencies' cases (nil: every agency's): with work, the
// ones not closed from the open-case index once it is whole; otherwise, or
// until then, every case opened in the months.
func (s *Service) casesOf(ctx context.Context, agencies []string, work bool, months []string) ([]store.Case, error) {
	if work {
		if all, ok, err := s.openCases(ctx, agencies); err != nil || ok {
			return all, err
		}
	}
	return s.Mongo.Cases.In(ctx, agencies, months)
}

// openCases are the cases not closed of the agencies (nil: all), or
// false when the index is not whole yet.
func (s *Service) openCases(ctx context.Context, agencies []string) ([]store.Case, bool, error) {
	if s.OpenCases == nil {
		return nil, false, nil
	}
	if whole, err := s.OpenCases.Whole(ctx); err != nil || !whole {
		return nil, false, err
	}
	ids, err := s.OpenCases.IDs(ctx, agencies)
	if err != nil {
		return nil, false, err
	}
	all, err := s.Mongo.Cases.Read(ctx, ids)
	if err != nil {
		return nil, false, err
	}
	out := all[:0]
	for _, c := range all {
		if c.Status != store.CaseClosed {
			out = append(out, c)
		}
	}
	return out, true, nil
}

// AnsweredCase is the answered follow-up case of an invitation, or nil:
// Redis says whether there is one, so the survey's done page reads
// MongoDB (by _id) only for the few that have an answer to show, and not
// while MongoDB is known to be down.
func (s *Service) AnsweredCase(ctx context.Context, invitation string) (*store.Case, error) {
	if s.OpenCases == nil || s.Health.Down() {
		return nil, nil
	}
	id, err := s.OpenCases.AnsweredCase(ctx, invitation)
	if err != nil || id == "" {
		return nil, err
	}
	c, err := s.Mongo.Cases.Get(ctx, id)
	s.Health.Note(err)
	return c, err
}

// IndexOpenCases puts every case not closed in the open-case index, with
// the due times of those waiting for their agency (and notes the answered
// ones for their survey pages), then marks it whole (run at start, in the
// background: a scan of the cases; a Redis that kept both marks skips it,
// one kept from before due times were indexed runs it once more).
func (s *Service) IndexOpenCases(ctx context.Context) (int, error) {
	if s.OpenCases == nil {
		return 0, nil
	}
	if done, err := s.OpenCases.Indexed(ctx); err != nil || done {
		return 0, err
	}
	n := 0
	err := s.Mongo.Cases.Each(ctx, func(c *store.Case) error {
		if c.Status == store.CaseClosed {
			return nil
		}
		n++
		if c.Answer != "" {
			if err := s.OpenCases.Answered(ctx, c); err != nil {
				return err
			}
		}
		return s.OpenCases.Add(ctx, c)
	})
	if err != nil {
		return n, err
	}
	return n, s.OpenCases.MarkWhole(ctx)
}

var caseStatuses = []store.CaseStatus{store.CaseOpen, store.CaseInProgress, store.CaseAnswered, store.CaseClosed, store.CaseReopened}

// caseMonths are the months from..to (YYYY-MM), at most limit (see
// CheckPeriod); by default the last three.
func caseMonths(from, to string, now time.Time, limit int) ([]string, error) {
	end := now.In(Vietnam)
	if to != "" {
		t, err := time.Parse("2006-01", to)
		if err != nil {
			return nil, Errorf(Invalid, "to", "%q: write the month as YYYY-MM", to)
		}
		end = t
	}
	start := end.AddDate(0, -(min(3, limit) - 1), 0)
	if from != "" {
		t, err := time.Parse("2006-01", from)
		if err != nil {
			return nil, Errorf(Invalid, "from", "%q: write the month as YYYY-MM", from)
		}
		start = t
	}
	if from != "" && from > end.Format("2006-01") {
		return nil, Errorf(Invalid, "from", "%s is after %s", from, end.Format("2006-01"))
	}
	if err := checkPeriod(from, to, now, limit); err != nil {
		return nil, err
	}
	start = time.Date(start.Year(), start.Month(), 1, 0, 0, 0, 0, time.UTC)
	end = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	var out []string
	for m := start; !m.After(end) && len(out) < limit; m = m.AddDate(0, 1, 0) {
		out = append(out, m.Format("2006-01"))
	}
	return out, nil
}

// Case returns one case p may see: one of its subtree's, or one escalated
// to an agency of its subtree.
func (s *Service) Case(ctx context.Context, p *Principal, id string) (*store.Case, error) {
	c, err := s.Mongo.Cases.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(NotFound, "", "no case %s", id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.caseScope(ctx, p, c); err != nil {
		return nil, err
	}
	return c, nil
}

func (s *Service) caseScope(ctx context.Context, p *Principal, c *store.Case) error {
	if p.Agency == "" {
		return nil
	}
	for _, a := range []string{c.Agency, c.EscalatedTo} {
		if a == "" {
			continue
		}
		if ok, err := s.InSubtree(ctx, p.Agency, a); err != nil || ok {
			return err
		}
	}
	return Errorf(Denied, "agency_code", "case %s is outside this key's agency %s", c.ID, p.Agency) // its agency is not this key's to learn
}

// CaseInput is the body of the case actions.
type CaseInput struct {
	Text     string `json:"text"`     // note, answer
	Assignee string `json:"assignee"` // assign
	Status   string `json:"status"`   // status: in_progress
}

// Case actions.
const (
	CaseAssign = "assign"
	CaseNote   = "note"
	CaseStart  = "status"
	CaseAnswer = "answer"
	CaseClose  = "close"
	CaseReopen = "reopen"
)

// maxCaseText bounds notes and answers (an answer goes out by SMS in a
// few parts).
const maxCaseText = 1000

// ChangeCase applies one action of p to a case, under the case's lock,
// records it in the case's history and the audit log, and for an answer
// queues it to the citizen on the channel they used.
func (s *Service) ChangeCase(ctx context.Context, p *Principal, id, action string, in CaseInput) (*store.Case, error) {
	text, err := checkCaseInput(p, action, in)
	if err != nil {
		return nil, err
	}
	var c *store.Case
	err = s.HoldCase(ctx, id, func(ctx context.Context) error {
		var err error
		c, err = s.changeCase(ctx, p, id, action, in, text)
		return err
	})
	if errors.Is(err, store.ErrLocked) {
		return nil, Errorf(Conflict, "", "someone is changing this case now; try again in a moment")
	}
	if err == nil && c.AnswerSend == store.SendQueued && action == CaseAnswer && s.Queued != nil {
		s.Queued() // now that the lock is free, or the sender would only find it taken
	}
	return c, err
}

// checkCaseInput checks an action's input and returns its text, cleaned.
func checkCaseInput(p *Principal, action string, in CaseInput) (string, error) {
	if p.Role == RoleViewer {
		return "", Errorf(Denied, "", "a viewer key cannot change cases")
	}
	text := survey.CleanText(in.Text) // an operator's: a number in it is meant (the office's hotline)
	switch action {
	case CaseNote, CaseAnswer:
		if text == "" || utf8.RuneCountInString(text) > maxCaseText {
			return "", Errorf(Invalid, "text", "required, at most %d characters", maxCaseText)
		}
	case CaseAssign:
		if a := survey.CleanText(in.Assignee); a == "" || utf8.RuneCountInString(a) > 100 {
			return "", Errorf(Invalid, "assignee", "required, at most 100 characters: the name of who handles the case")
		}
	case CaseStart:
		if in.Status != string(store.CaseInProgress) {
			return "", Errorf(Invalid, "status", "%q: the status set by hand is in_progress; answer, close and reopen have their own actions", in.Status)
		}
	case CaseClose, CaseReopen:
	default:
		return "", Errorf(NotFound, "", "no case action %q", action)
	}
	return text, nil
}

// changeCase is ChangeCase under the case's lock. An answer is saved
// with its send queued in the same write (see queueAnswer).
func (s *Service) changeCase(ctx context.Context, p *Principal, id, action string, in CaseInput, text string) (*store.Case, error) {
	c, err := s.Case(ctx, p, id)
	if err != nil {
		return nil, err
	}
	now := store.Millis(s.now())
	first := action == CaseAnswer && c.AnsweredAt == nil // the first answer, for the figures
	after, err := s.applyCaseAction(ctx, c, p, action, in, text, now)
	if err != nil {
		return nil, err
	}
	c.History = append(c.History, after...)
	if err := s.saveCase(ctx, c); err != nil {
		if errors.Is(err, store.ErrCaseChanged) {
			return nil, Errorf(Conflict, "", "the case changed meanwhile; reload it and try again")
		}
		return nil, err
	}
	if first {
		if err := s.noteCase(ctx, c.AnswerEvents(s.workingDays)...); err != nil {
			return c, err
		}
	}
	if action == CaseClose && c.AnsweredAt == nil && c.DueBy(now) {
		// Closed unanswered after its due time, maybe before a sweep
		// noted it: counted due once either way.
		if err := s.noteCase(ctx, c.DueEvent()); err != nil {
			return c, err
		}
	}
	if action == CaseAnswer && s.OpenCases != nil {
		if err := s.OpenCases.Answered(ctx, c); err != nil {
			return c, err
		}
	}
	return c, s.Audit(ctx, p, "case."+action, c.ID, map[string]any{"status": c.Status})
}

// applyCaseAction changes c by one action and returns the history
// events it makes.
func (s *Service) applyCaseAction(ctx context.Context, c *store.Case, p *Principal, action string, in CaseInput, text string, now time.Time) ([]store.CaseEvent, error) {
	event := store.CaseEvent{At: now, By: p.Who(), Action: action}
	switch action {
	case CaseNote:
		c.Notes = append(c.Notes, store.CaseNote{At: now, By: p.Who(), Text: text})
	case CaseAssign:
		if c.Status == store.CaseClosed {
			return nil, Errorf(Conflict, "", "the case is closed; reopen it first")
		}
		c.Assignee = survey.CleanText(in.Assignee)
		event.Detail = c.Assignee
	case CaseStart:
		if !c.Open() {
			return nil, Errorf(Conflict, "status", "the case is %s; only an open or reopened case goes in progress", c.Status)
		}
		c.Status = store.CaseInProgress
	case CaseAnswer:
		return s.answerCase(ctx, c, event, text, now)
	case CaseClose:
		if c.Status == store.CaseClosed {
			return nil, Errorf(Conflict, "", "the case is already closed")
		}
		c.Status, c.ClosedAt = store.CaseClosed, &now
	case CaseReopen:
		if c.Open() {
			return nil, Errorf(Conflict, "", "the case is %s, not answered or closed", c.Status)
		}
		above, err := s.above(ctx, p, c.Agency)
		if err != nil {
			return nil, err
		}
		c.Status, c.ClosedAt = store.CaseReopened, nil
		event.Detail = s.reopenDue(c, above, now)
	}
	return []store.CaseEvent{event}, nil
}

// above says whether p's key stands above agency: an admin's, or a
// parent's or the province's (an agency above it in the tree), not the
// agency's own.
func (s *Service) above(ctx context.Context, p *Principal, agency string) (bool, error) {
	if p.Agency == "" {
		return true, nil
	}
	if p.Agency == agency {
		return false, nil
	}
	return s.InSubtree(ctx, p.Agency, agency)
}

// reopenDue gives a reopened case a new due time when move says so (a
// reopen from above the agency, or the citizen's low rating) and keeps
// it otherwise: an agency that reopens its own case cannot put off its
// due time. It returns the history's note of which it was.
func (s *Service) reopenDue(c *store.Case, move bool, now time.Time) string {
	if move && s.Calendar != nil {
		c.MoveDue(s.Calendar.Due(now, store.DefaultCaseRule.DueDays))
		return "due moved to " + c.DueAt.In(Vietnam).Format("2006-01-02 15:04")
	}
	return "due kept " + c.DueAt.In(Vietnam).Format("2006-01-02 15:04")
}

// answerCase records text as c's next answer, its send queued.
func (s *Service) answerCase(ctx context.Context, c *store.Case, event store.CaseEvent, text string, now time.Time) ([]store.CaseEvent, error) {
	if !c.Open() {
		return nil, Errorf(Conflict, "", "the case is %s; reopen it to answer again", c.Status)
	}
	after, err := s.queueAnswer(ctx, c, text, now)
	if err != nil {
		return nil, err
	}
	if c.AnsweredAt == nil {
		// Held to the first due time: a due time moved since (however)
		// does not make a late first answer timely in the figures.
		c.AnsweredAt, c.AnsweredInTime = &now, !now.After(c.FirstDue())
	}
	event.Detail = text
	return append([]store.CaseEvent{event}, after...), nil
}

// noteCase hands case events to the roll-up writer, which counts them
// into the case figures once each.
func (s *Service) noteCase(ctx context.Context, events ...store.FunnelEvent) error {
	if s.Funnel == nil {
		return nil
	}
	if err := s.Funnel.Note(ctx, events...); err != nil {
		return fmt.Errorf("count the case in the figures: %w", err)
	}
	return nil
}

// workingDays counts the working days between two times (0 without a
// calendar).
func (s *Service) workingDays(from, to time.Time) int {
	if s.Calendar == nil {
		return 0
	}
	return s.Calendar.Between(from, to)
}

// sweepCases runs act on every open case (or, until the open-case index is
// whole, every case of the last three months) that pick takes at now, and
// counts those act changed.
func (s *Service) sweepCases(ctx context.Context, pick func(c *store.Case, now time.Time) bool, act func(c *store.Case) (bool, error)) (int, error) {
	now := s.now()
	months, err := caseMonths("", "", now, s.MonthLimit())
	if err != nil {
		return 0, err
	}
	all, err := s.casesOf(ctx, nil, true, months)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range all {
		if !pick(&all[i], now) {
			continue
		}
		ok, err := act(&all[i])
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// EscalateOverdue tells the parent agency of each case still waiting past
// its first due time (a due time moved since does not put it off): the
// case is escalated to it (its keys see the case from then on), once, in
// its history and the audit log; it returns how many it escalated.
func (s *Service) EscalateOverdue(ctx context.Context) (int, error) {
	return s.sweepCases(ctx, func(c *store.Case, now time.Time) bool { return c.PastFirstDue(now) && c.EscalatedTo == "" },
		func(c *store.Case) (bool, error) {
			ag, err := s.Mongo.Agencies.Agency(ctx, c.Agency)
			if errors.Is(err, store.ErrNotFound) || (err == nil && ag.Parent == "") {
				return false, nil // no parent to tell: the province's own operators see it overdue
			}
			if err != nil {
				return false, err
			}
			ok, err := s.escalate(ctx, c.ID, ag.Parent)
			if ok && err == nil {
				c.EscalatedTo = ag.Parent
				err = s.notice(ctx, "case.escalated", ag.Parent, c)
			}
			return ok, err
		})
}

// RemindDue reminds the agency of each open case due within the next
// 24 hours, once (a "reminder" in its history; the console marks it),
// and returns how many it reminded.
func (s *Service) RemindDue(ctx context.Context) (int, error) {
	return s.sweepCases(ctx, func(c *store.Case, now time.Time) bool {
		return c.Open() && c.RemindedAt == nil && !c.Overdue(now) && c.DueAt.Sub(now) <= 24*time.Hour
	}, func(c *store.Case) (bool, error) {
		ok, err := s.withCase(ctx, c.ID, func(c *store.Case) bool {
			if !c.Open() || c.RemindedAt != nil {
				return false
			}
			at := store.Millis(s.now())
			c.RemindedAt = &at
			c.History = append(c.History, store.CaseEvent{At: at, By: "gateway", Action: "reminder", Detail: "due " + c.DueAt.In(Vietnam).Format("2006-01-02 15:04")})
			return true
		})
		if ok && err == nil {
			err = s.notice(ctx, "case.due_soon", c.Agency, c)
		}
		return ok, err
	})
}

// NoteDue counts among the cases due, for the on-time figures, each case
// left unanswered past its first due time, once (a first answer counts
// its case due itself); it returns how many it noted.
func (s *Service) NoteDue(ctx context.Context) (int, error) {
	return s.sweepCases(ctx, func(c *store.Case, now time.Time) bool { return !c.DueNoted && c.AnsweredAt == nil && c.DueBy(now) },
		func(c *store.Case) (bool, error) {
			var noted error
			ok, err := s.withCase(ctx, c.ID, func(c *store.Case) bool {
				if c.DueNoted || !c.DueBy(s.now()) {
					return false
				}
				// Noted before the mark is saved: a save that fails notes
				// it again at the next sweep, and the writer counts it once.
				if noted = s.noteCase(ctx, c.DueEvent()); noted != nil {
					return false
				}
				c.DueNoted = true
				return true
			})
			return ok, cmp.Or(err, noted)
		})
}

// withCase changes a case under its lock when change says so; a case
// someone else is changing is left for the next pass.
func (s *Service) withCase(ctx context.Context, id string, change func(*store.Case) bool) (bool, error) {
	lease, err := s.Locks.Acquire(ctx, "case:"+id, 15*time.Second)
	if errors.Is(err, store.ErrLocked) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	c, err := s.Mongo.Cases.Get(ctx, id)
	if err != nil || !change(c) {
		return false, err
	}
	return true, s.saveCase(ctx, c)
}

func (s *Service) escalate(ctx context.Context, id, parent string) (bool, error) {
	ok, err := s.withCase(ctx, id, func(c *store.Case) bool {
		if !c.PastFirstDue(s.now()) || c.EscalatedTo != "" {
			return false
		}
		c.EscalatedTo = parent
		c.History = append(c.History, store.CaseEvent{At: store.Millis(s.now()), By: "gateway", Action: "escalated", Detail: parent})
		return true
	})
	if err != nil || !ok {
		return ok, err
	}
	return true, s.Audit(ctx, &Principal{KeyID: "gateway", Name: "case sweep", Role: RoleAdmin}, "case.escalated", id, map[string]any{"to": parent})
}

// RunCaseSweeper reminds agencies of cases due soon, counts the cases
// past due unanswered (NoteDue), escalates them and puts right the overdue
// count's due times every interval until
// ctx ends, one replica at a time.
func (s *Service) RunCaseSweeper(ctx context.Context, every time.Duration, log interface {
	Info(string, ...any)
	Error(string, ...any)
}) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := s.Locks.Holding(ctx, "cases:"+s.Mongo.DB.Name(), time.Minute, func(ctx context.Context) error {
			r, err := s.RemindDue(ctx)
			if r > 0 {
				log.Info("agencies reminded of cases due within a day", "cases", r)
			}
			if err != nil {
				return err
			}
			if _, err := s.NoteDue(ctx); err != nil {
				return err
			}
			n, err := s.EscalateOverdue(ctx)
			if n > 0 {
				log.Info("overdue cases escalated to the parent agency", "cases", n)
			}
			if err != nil {
				return err
			}
			f, err := s.FixDueTimes(ctx)
			if f > 0 {
				log.Info("due times of cases put right in the overdue count", "cases", f)
			}
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Error("case sweep failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
