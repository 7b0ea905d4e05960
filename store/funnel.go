package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/mongo"
)

// FunnelSurvey is the survey of the roll-up cells that count invitations
// rather than answers: made, sent per channel family and completed per
// channel family, by agency and month of creation. Reports read response
// rates from these cells instead of counting the invitations collection.
// (Not by procedure: with a province's hundreds of procedures that family
// would outgrow every other roll-up, and reports read roll-ups whole.)
//
// The invitation steps (made, sent, completed) are kept by the survey the
// invitation named, under FunnelSurveyOf(survey) ("#invitations:sipas"),
// so a report of one survey reads the response rate of its own
// invitations; the case steps stay under FunnelSurvey itself. A filter of
// Survey FunnelSurvey reads both (see Filter).
const FunnelSurvey = "#invitations"

// FunnelSurveyOf is the survey of the response-rate cells of the
// invitations that named survey s.
func FunnelSurveyOf(s string) string { return FunnelSurvey + ":" + s }

// InvitedSurvey is the survey the invitations of a response-rate cell
// named, from the cell's survey; ok is false for any other cell (case
// steps, answers).
func InvitedSurvey(cellSurvey string) (s string, ok bool) {
	return strings.CutPrefix(cellSurvey, FunnelSurvey+":")
}

// IsFunnel reports whether a cell's survey is one of the funnel's: an
// invitation step's or a case step's.
func IsFunnel(cellSurvey string) bool {
	_, ok := InvitedSurvey(cellSurvey)
	return ok || cellSurvey == FunnelSurvey
}

// Funnel steps, the Question of a funnel cell.
const (
	FunnelCreated   = "created"
	FunnelSent      = "sent"
	FunnelCompleted = "completed"
	// The reach steps (GET /api/v1/reports/sipas groups' reach): asked to
	// go out on a family (queued), reminded on a family, opened (web: the
	// survey page seen; zalo: the citizen opened the chat for it), started
	// (a first answer saved on a family), and completed after a reminder
	// (from the response's Reminded, Family its channel's).
	FunnelQueued        = "queued"
	FunnelReminded      = "reminded"
	FunnelOpened        = "opened"
	FunnelStarted       = "started"
	FunnelAfterReminder = "completed_after_reminder"
	// FunnelSpent is one message's cost units (Units) on its family: SMS
	// parts, ZNS template messages, call minutes. Key is the message's id
	// in the cost log (Messages), its counted mark.
	FunnelSpent = "spent"
	// CallStep + an outcome (answered, busy, no_answer, machine, failed)
	// counts a survey call that went so, on family voice; CallAnswersStep
	// the questions answered in the calls (Units). Key is the call's id
	// in the cost log.
	CallStep        = "call_"
	CallAnswersStep = "call_answers"
)

// callStep says whether a step is one of the call figures'.
func callStep(step string) bool { return strings.HasPrefix(step, CallStep) }

// Follow-up case steps, counted in funnel cells of the case's agency and
// opening month: opened; first answered, with Channel in_time or late,
// and again with Channel d0–d5, the working days it took (d5: 5 or more);
// due (answered, or past its first due time unanswered: Case.DueBy);
// rated, with Channel r1–r5.
const (
	CaseDueStep        = "case_due"
	CaseOpenedStep     = "case_opened"
	CaseAnsweredStep   = "case_answered"
	CaseAnswerDaysStep = "case_answer_days"
	CaseRatedStep      = "case_rated"
)

// FunnelEvent is one step of one invitation, counted once by the roll-up
// writer whatever the number of times it is noted.
type FunnelEvent struct {
	Step       string // FunnelCreated or FunnelSent (completions come from responses)
	Invitation string
	Agency     string
	Month      string // the invitation's creation month, YYYY-MM in Vietnam time
	Family     string // for FunnelSent: sms, zalo
	// Survey is the survey the invitation named (FunnelCreated and
	// FunnelSent); empty on the case steps, and on events noted before
	// it was kept (the writer reads it from the invitation).
	Survey string
	// Units and Key: a FunnelSpent event's cost units and message id.
	Units int64
	Key   string
	// At is when an opening happened, for one noted later than it (see
	// Funnel.Hold); zero: when it was noted (its stream id's time).
	At time.Time
}

// InvitationStep reports whether the event is an invitation's step (made,
// sent, a reach step or a message's spend), kept by the invitation's
// survey, rather than a case's.
func (e FunnelEvent) InvitationStep() bool {
	switch e.Step {
	case FunnelCreated, FunnelSent, FunnelQueued, FunnelReminded, FunnelOpened, FunnelStarted:
		return true
	case FunnelSpent: // a feedback case's answer has no invitation
		return e.Invitation != ""
	}
	return callStep(e.Step)
}

// Mark is the id of the event's counted mark: one per invitation and step
// (and family for sends, queues and opens; one start and one reminder an
// invitation, whatever its family), one per message for spends.
func (e FunnelEvent) Mark() string {
	switch e.Step {
	case FunnelSent:
		return "s:" + e.Invitation + ":" + e.Family
	case FunnelQueued:
		return "q:" + e.Invitation + ":" + e.Family
	case FunnelOpened:
		return "o:" + e.Invitation + ":" + e.Family
	case FunnelReminded:
		return "r:" + e.Invitation
	case FunnelStarted:
		return "st:" + e.Invitation
	case FunnelSpent:
		return "p:" + e.Key
	}
	if callStep(e.Step) {
		return "k:" + e.Step + ":" + e.Key
	}
	return "c:" + e.Invitation
}

// Cell returns the cell the event adds to and what it adds.
func (e FunnelEvent) Cell() (CellKey, Counts) {
	survey := FunnelSurvey
	if e.InvitationStep() {
		survey = FunnelSurveyOf(e.Survey)
	}
	c := Counts{Responses: 1}
	if e.Step == FunnelSpent || callStep(e.Step) {
		c = Counts{Responses: e.Units}
	}
	return funnelKey(e.Agency, e.Month, survey, e.Step, e.Family), c
}

// InvitationCell is the cell one step of an invitation of survey adds
// to (one response).
func InvitationCell(agency, month, survey, step, family string) CellKey {
	return funnelKey(agency, month, FunnelSurveyOf(survey), step, family)
}

func funnelKey(agency, month, survey, step, family string) CellKey {
	if family == "" {
		family = AnyChannel
	}
	return CellKey{Agency: agency, Month: month, Survey: survey, Channel: family, Question: step}
}

// Funnel is the Redis stream of funnel events waiting for the roll-up
// writer, and the marks of those it counted. Noting an event costs the
// request one XADD; the writer reads them in batches with the responses,
// journals the range it took, and deletes them once the batch is applied.
type Funnel struct {
	R   redis.UniversalClient
	Key string
	db  *mongo.Database
}

// counted holds generation g's marks of counted events (FunnelEvent.Mark).
func (f *Funnel) counted(g int) *mongo.Collection {
	return f.db.Collection(GenName("counted_events", g))
}

// NewFunnel returns the deployment's funnel stream over m's database.
func NewFunnel(r redis.UniversalClient, m *Mongo) *Funnel {
	return &Funnel{R: r, Key: "gw:funnel:" + m.DB.Name(), db: m.DB}
}

// Note appends events.
func (f *Funnel) Note(ctx context.Context, events ...FunnelEvent) error {
	pipe := f.R.Pipeline()
	for _, e := range events {
		values := []any{"s", e.Step, "i", e.Invitation, "a", e.Agency, "m", e.Month, "f", e.Family, "v", e.Survey,
			"u", strconv.FormatInt(e.Units, 10), "k", e.Key}
		if !e.At.IsZero() {
			values = append(values, "t", strconv.FormatInt(e.At.UnixMilli(), 10))
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: f.Key, Values: values})
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("note %d invitation events: %w", len(events), err)
	}
	return nil
}

// Held openings and starts: a survey page's first view, or a survey's
// first answers saved before its completion, is held here, not noted,
// until the invitation's response is stored (it carries the opening, as
// Response.OpenedAt, and implies the start, so the roll-up writer counts
// them in one batch and records them on the invitation in one update) or
// the event is OpenedAfter old (NoteDue). Held, an event is neither
// counted nor on its invitation, so a rebuild meanwhile agrees with the
// live figures. Each is kept under its counted mark, with its time.
func (f *Funnel) heldKey() string   { return f.Key + ":held" }
func (f *Funnel) heldAtKey() string { return f.Key + ":held-at" }

// OpenedAfter is how long an opening or a start is held at most.
const OpenedAfter = 5 * time.Minute

// Hold keeps opening or start e (its At set) until it is answered or
// due; the first hold of a mark stays.
func (f *Funnel) Hold(ctx context.Context, e FunnelEvent) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = f.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSetNX(ctx, f.heldKey(), e.Mark(), b)
		p.ZAddNX(ctx, f.heldAtKey(), redis.Z{Score: float64(e.At.UnixMilli()), Member: e.Mark()})
		return nil
	})
	if err != nil {
		return fmt.Errorf("hold an opening: %w", err)
	}
	return nil
}

// Release forgets the held events of marks (their openings stored with
// their responses).
func (f *Funnel) Release(ctx context.Context, marks ...string) error {
	if len(marks) == 0 {
		return nil
	}
	_, err := f.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		f.ReleaseIn(ctx, p, marks...)
		return nil
	})
	return wrapHeld(err)
}

// ReleaseIn queues Release's commands in p (none without marks).
func (f *Funnel) ReleaseIn(ctx context.Context, p redis.Pipeliner, marks ...string) {
	if len(marks) == 0 {
		return
	}
	p.HDel(ctx, f.heldKey(), marks...)
	p.ZRem(ctx, f.heldAtKey(), anys(marks)...)
}

// NoteDue notes up to n held events held since before and forgets them,
// returning how many.
func (f *Funnel) NoteDue(ctx context.Context, before time.Time, n int64) (int, error) {
	marks, err := f.R.ZRangeByScore(ctx, f.heldAtKey(), &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(before.UnixMilli(), 10), Count: n}).Result()
	if err != nil || len(marks) == 0 {
		return 0, wrapHeld(err)
	}
	return len(marks), f.noteHeld(ctx, marks)
}

// noteHeld notes the events held under marks and forgets every mark,
// those whose event is gone or unreadable too (else NoteDue would find
// them due again at every call). A process that dies between the two
// notes them again: their counted marks count each once.
func (f *Funnel) noteHeld(ctx context.Context, marks []string) error {
	vals, err := f.R.HMGet(ctx, f.heldKey(), marks...).Result()
	if err != nil {
		return wrapHeld(err)
	}
	var events []FunnelEvent
	for _, v := range vals {
		var e FunnelEvent
		if s, ok := v.(string); ok && json.Unmarshal([]byte(s), &e) == nil && e.Step != "" {
			events = append(events, e)
		}
	}
	if len(events) > 0 {
		if err := f.Note(ctx, events...); err != nil {
			return err
		}
	}
	return f.Release(ctx, marks...) // after the notes: a failure between notes them twice, never loses them
}

func wrapHeld(err error) error {
	if err != nil {
		return fmt.Errorf("note held openings: %w", err)
	}
	return nil
}

// Range returns up to count events (all when count is 0) from id from on
// (inclusive; "-" for the first) to to ("+" for the last), with their
// stream ids.
func (f *Funnel) Range(ctx context.Context, from, to string, count int64) ([]string, []FunnelEvent, error) {
	var msgs []redis.XMessage
	var err error
	if count > 0 {
		msgs, err = f.R.XRangeN(ctx, f.Key, from, to, count).Result()
	} else {
		msgs, err = f.R.XRange(ctx, f.Key, from, to).Result()
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, fmt.Errorf("read invitation events: %w", err)
	}
	ids := make([]string, len(msgs))
	events := make([]FunnelEvent, len(msgs))
	for i, m := range msgs {
		s := func(k string) string { v, _ := m.Values[k].(string); return v }
		ids[i] = m.ID
		units, _ := strconv.ParseInt(s("u"), 10, 64)
		events[i] = FunnelEvent{Step: s("s"), Invitation: s("i"), Agency: s("a"), Month: s("m"), Family: s("f"), Survey: s("v"),
			Units: units, Key: s("k")}
		if at, err := strconv.ParseInt(s("t"), 10, 64); err == nil {
			events[i].At = time.UnixMilli(at)
		}
	}
	return ids, events, nil
}

// Pending is how many noted events wait for the roll-up writer.
func (f *Funnel) Pending(ctx context.Context) (int64, error) { return f.R.XLen(ctx, f.Key).Result() }

// Drop deletes events the writer applied.
func (f *Funnel) Drop(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	if err := Write(ctx, "funnel.drop", func(ctx context.Context) error { return f.R.XDel(ctx, f.Key, ids...).Err() }); err != nil {
		return fmt.Errorf("drop %d invitation events: %w", len(ids), err)
	}
	return nil
}

// MarkCounted records that batch counts the events with these marks in
// generation gen and returns those it may count (see
// Responses.MarkCounted).
func (f *Funnel) MarkCounted(ctx context.Context, gen int, batch int64, marks []string) (map[string]bool, error) {
	return markCounted(ctx, f.counted(gen), batch, marks, nil)
}
