package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/sipasvn/gateway/survey"
)

// CaseStatus is where a follow-up case stands.
type CaseStatus string

// Case statuses: open → in_progress → answered → closed, and reopened
// when the citizen is not satisfied with the answer.
const (
	CaseOpen       CaseStatus = "open"
	CaseInProgress CaseStatus = "in_progress"
	CaseAnswered   CaseStatus = "answered"
	CaseClosed     CaseStatus = "closed"
	CaseReopened   CaseStatus = "reopened"
)

// Case is the follow-up of one unhappy response, or of a citizen's
// feedback: someone at the agency looks into it and answers the citizen.
// A response's case never holds the phone number (the answer reaches the
// citizen through the invitation); a feedback case holds the number its
// citizen confirmed, sealed.
type Case struct {
	ID           string         `bson:"_id" json:"id" doc:"the response's id (one case per response), or a feedback's reference number (GY…, PA…, KN…)"`
	ResponseID   string         `bson:"response_id" json:"response_id"`
	InvitationID string         `bson:"invitation_id" json:"invitation_id"`
	Agency       string         `bson:"agency" json:"agency_code"`
	Dossier      string         `bson:"dossier" json:"dossier_code"`
	Procedure    string         `bson:"procedure,omitempty" json:"procedure_code,omitempty"`
	Channel      string         `bson:"channel" json:"channel"`
	Survey       string         `bson:"survey" json:"survey"`
	Comment      string         `bson:"comment,omitempty" json:"comment,omitempty" doc:"phone numbers redacted"`
	Low          []string       `bson:"low" json:"low_criteria" doc:"criteria (or the overall question) scored 1 or 2"`
	Topics       []survey.Topic `bson:"topics,omitempty" json:"topics"`
	Reason       string         `bson:"reason" json:"reason" doc:"low_score, topic (a complaint about a topic the rule watches) or complaint"`
	Status       CaseStatus     `bson:"status" json:"status"`
	Assignee     string         `bson:"assignee,omitempty" json:"assignee,omitempty"`
	OpenedAt     time.Time      `bson:"opened_at" json:"opened_at"`
	DueAt        time.Time      `bson:"due_at" json:"due_at" doc:"when the agency owes the answer now: a reopen by a parent agency, an admin or the citizen's low rating moves it"`
	// FirstDueAt is the due time the case opened with, which the
	// complaint figures and escalation keep to whoever moves DueAt (nil
	// on cases stored before it was kept: their DueAt was the first).
	FirstDueAt *time.Time `bson:"first_due_at,omitempty" json:"first_due_at,omitempty" doc:"the due time the case opened with: answered in time and escalation are held to it"`
	AnsweredAt *time.Time `bson:"answered_at,omitempty" json:"answered_at,omitempty" doc:"the first answer"`
	// AnsweredInTime says the first answer came by the first due time.
	AnsweredInTime bool       `bson:"answered_in_time,omitempty" json:"answered_in_time"`
	ClosedAt       *time.Time `bson:"closed_at,omitempty" json:"closed_at,omitempty"`
	Answer         string     `bson:"answer,omitempty" json:"answer,omitempty"`
	AnswerSend     SendState  `bson:"answer_send,omitempty" json:"answer_send,omitempty" doc:"how sending the answer to the citizen went"`
	Rating         int        `bson:"rating,omitempty" json:"rating,omitempty" doc:"the citizen's rating of the answer, 1–5"`
	EscalatedTo    string     `bson:"escalated_to,omitempty" json:"escalated_to,omitempty" doc:"the parent agency told when it became overdue"`
	RemindedAt     *time.Time `bson:"reminded_at,omitempty" json:"reminded_at,omitempty" doc:"when the agency was reminded that the case is due within a day"`
	// DueNoted says the case sweep noted it due, past its first due time
	// unanswered (DueEvent), so later sweeps pass it by.
	DueNoted bool        `bson:"due_noted,omitempty" json:"-"`
	Notes    []CaseNote  `bson:"notes" json:"notes"`
	History  []CaseEvent `bson:"history" json:"history"`
	Version  int64       `bson:"v" json:"-"`
	// AnswerNo numbers the answers (1, 2… after a reopen): the send of
	// each is keyed by it, so a late job of an earlier one sends nothing.
	AnswerNo int `bson:"answer_no,omitempty" json:"-"`
	// AnswersSent are when answers were queued to the citizen within the
	// last day, which the case's limit on answers counts.
	AnswersSent []time.Time `bson:"answers_sent,omitempty" json:"-"`
	// Kind is "feedback" for a case a citizen opened on their agency's
	// feedback page (see OpenFeedback): no response or invitation is
	// behind it, so it never counts in the index. Empty for a case of an
	// unhappy response.
	Kind string `bson:"kind,omitempty" json:"kind,omitempty" doc:"feedback: opened from the agency's feedback page (no response or invitation behind it; never counted in the index); absent for a case of an unhappy response"`
	// FeedbackType is a feedback case's type (see core.FeedbackTypes).
	FeedbackType string `bson:"feedback_type,omitempty" json:"feedback_type,omitempty" doc:"a feedback case's type: suggestion (góp ý), complaint (phản ánh) or recommendation (kiến nghị)"`
	// GivenDossier is the dossier code a citizen typed with their
	// feedback, as typed: nothing checks it against the invitations, so
	// it is kept apart from Dossier.
	GivenDossier string `bson:"given_dossier,omitempty" json:"given_dossier_code,omitempty" doc:"the dossier code the citizen typed on the feedback page, as typed: not checked against any invitation"`
	// ReplyPhone is a feedback case's confirmed phone, masked; the number
	// itself is sealed in ReplyPhoneSealed and never shown.
	ReplyPhone       string `bson:"reply_phone,omitempty" json:"reply_phone,omitempty" doc:"the phone a feedback's citizen confirmed with a one-time code, masked (84******678): the answer goes to it by SMS; without one the case is answered in the console only"`
	ReplyPhoneSealed []byte `bson:"reply_phone_sealed,omitempty" json:"-"`
	// Respondent is the keyed hash of ReplyPhone's number: opt-outs,
	// erasure and a rating by SMS reply find the case by it.
	Respondent string `bson:"respondent,omitempty" json:"-"`
	// Locale is the language of a feedback page's citizen (vi, en).
	Locale string `bson:"locale,omitempty" json:"locale,omitempty" doc:"the language the feedback's citizen used (vi or en)"`
	// Submission is the keyed hash of a feedback form's one-time field:
	// a form posted twice is the same feedback, not a second case.
	Submission string `bson:"submission,omitempty" json:"-"`
}

// CaseFeedback is the Kind of a case opened from a feedback page, and
// its Reason.
const CaseFeedback = "feedback"

// Feedback reports whether a citizen's feedback opened the case.
func (c *Case) Feedback() bool { return c.Kind == CaseFeedback }

// CaseNote is an internal note on a case (never sent to the citizen).
type CaseNote struct {
	At   time.Time `bson:"at" json:"at"`
	By   string    `bson:"by" json:"by"`
	Text string    `bson:"text" json:"text"`
}

// CaseEvent is one change of a case, for its history.
type CaseEvent struct {
	At     time.Time `bson:"at" json:"at"`
	By     string    `bson:"by" json:"by"`
	Action string    `bson:"action" json:"action"`
	Detail string    `bson:"detail,omitempty" json:"detail,omitempty"`
	// Flags are the integrity signals a citizen's rating from the web
	// raised (office_network, creator_address): the rating stands, and
	// the case's history shows where it came from.
	Flags []string `bson:"flags,omitempty" json:"flags,omitempty" doc:"integrity signals of a rating given on the web: office_network, creator_address"`
}

// CaseNotice is what an agency's webhook receives about one of its cases.
type CaseNotice struct {
	Event string    `json:"event"` // case.opened, case.due_soon, case.escalated
	At    time.Time `json:"at"`
	Case  Case      `json:"case"`
}

// NoticeEntry is a notice as the notices stream carries it, for agency.
// Its id, <event>:<case id>, is the same for every copy of one notice
// (a batch replayed adds it again with another time), so receivers drop
// copies by it (see NoticeID).
func NoticeEntry(event, agency string, c *Case, at time.Time) map[string]string {
	b, _ := json.Marshal(CaseNotice{Event: event, At: Millis(at), Case: *c}) // a Case always marshals
	return map[string]string{"id": NoticeID(event, c.ID), "agency": agency, "notice": string(b)}
}

// NoticeID names one notice of a case: each event happens once per case.
func NoticeID(event, caseID string) string { return event + ":" + caseID }

// Open reports whether the case still waits for the agency.
func (c *Case) Open() bool {
	return c.Status == CaseOpen || c.Status == CaseInProgress || c.Status == CaseReopened
}

// Overdue reports whether the case waits past its due time at now.
func (c *Case) Overdue(now time.Time) bool { return c.Open() && now.After(c.DueAt) }

// FirstDue is the due time the case opened with.
func (c *Case) FirstDue() time.Time {
	if c.FirstDueAt != nil {
		return *c.FirstDueAt
	}
	return c.DueAt
}

// PastFirstDue reports whether the case waits past its first due time at
// now: a later due time, however given, does not put off escalation.
func (c *Case) PastFirstDue(now time.Time) bool { return c.Open() && now.After(c.FirstDue()) }

// MoveDue gives the case a new due time, keeping the first (a case
// stored before FirstDueAt was kept takes its DueAt as the first).
func (c *Case) MoveDue(to time.Time) {
	if c.FirstDueAt == nil {
		first := c.DueAt
		c.FirstDueAt = &first
	}
	c.DueAt = Millis(to)
}

// Cases keeps follow-up cases, read by _id only: an index document per
// agency and month lists the ids of the cases opened there.
type Cases struct {
	c, index *mongo.Collection
}

type caseIndex struct {
	ID  string   `bson:"_id"` // agency|month
	IDs []string `bson:"ids"`
}

func caseIndexID(agency, month string) string { return agency + "|" + month }

func (s *Cases) ensureIndexes(ctx context.Context) error {
	// Reads are by _id; these create the collections at start, so the
	// embedded store's _id lookup index exists from the first case.
	if err := createIndexes(ctx, s.index, index(bson.D{{Key: "ids", Value: 1}}, false)); err != nil {
		return err
	}
	return createIndexes(ctx, s.c, index(bson.D{{Key: "status", Value: 1}}, false))
}

// Open records new cases, each once: a case already there (a response
// counted again after a crash) is left as it is. Their index documents
// are updated by one writer at a time (the roll-up writer).
func (s *Cases) Open(ctx context.Context, cases ...*Case) error {
	if len(cases) == 0 {
		return nil
	}
	docs := make([]any, len(cases))
	byIndex := map[string][]string{}
	for i, c := range cases {
		c.OpenedAt, c.DueAt = Millis(c.OpenedAt), Millis(c.DueAt)
		first := c.DueAt // a case opens at its first due time
		if c.FirstDueAt != nil {
			first = Millis(*c.FirstDueAt)
		}
		c.FirstDueAt = &first
		if c.Notes == nil {
			c.Notes = []CaseNote{}
		}
		docs[i] = c
		month := MonthOf(c.OpenedAt)
		id := caseIndexID(c.Agency, month)
		byIndex[id] = append(byIndex[id], c.ID)
		// "*|month" lists the agencies with cases that month.
		byIndex[caseIndexID("*", month)] = append(byIndex[caseIndexID("*", month)], c.Agency)
	}
	if err := Write(ctx, "cases.open", func(ctx context.Context) error {
		_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		return writeErrors(err, func(e mongo.BulkWriteError) bool { return e.Code == 11000 })
	}); err != nil {
		return fmt.Errorf("open %d cases: %w", len(cases), err)
	}
	for id, ids := range byIndex {
		if err := Write(ctx, "cases.index", func(ctx context.Context) error {
			_, err := s.index.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
				bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: bson.D{{Key: "$each", Value: ids}}}}}},
				options.Update().SetUpsert(true))
			return err
		}); err != nil {
			return fmt.Errorf("index cases: %w", err)
		}
	}
	return nil
}

// Events are the funnel events a case's record accounts for: opened,
// its first answer (in time or late, and the working days it took, from
// days), due (see DueBy; at now), and each rating in its history. Live, the roll-up writer and
// core note them as they happen; a rebuild derives them from here.
func (c *Case) Events(days func(from, to time.Time) int, now time.Time) []FunnelEvent {
	out := []FunnelEvent{c.OpenedEvent()}
	if c.AnsweredAt != nil {
		out = append(out, c.AnswerEvents(days)...)
	} else if c.DueBy(now) {
		out = append(out, c.DueEvent())
	}
	n := 0
	for _, e := range c.History {
		if e.Action == "rated" {
			n++
			out = append(out, c.RatingEvent(n, e.Detail))
		}
	}
	return out
}

// OpenedEvent counts the case opened.
// A feedback case's is counted apart too (Family "feedback"), so the
// figures can say how many of the cases opened came from feedback pages.
func (c *Case) OpenedEvent() FunnelEvent {
	e := FunnelEvent{Step: CaseOpenedStep, Invitation: "case:" + c.ID + ":opened", Agency: c.Agency, Month: MonthOf(c.OpenedAt)}
	if c.Feedback() {
		e.Family = CaseFeedback
	}
	return e
}

// AnswerEvents count a case's first answer.
func (c *Case) AnswerEvents(days func(from, to time.Time) int) []FunnelEvent {
	month := MonthOf(c.OpenedAt)
	timely := "late"
	if c.AnsweredInTime {
		timely = "in_time"
	}
	d := min(days(c.OpenedAt, *c.AnsweredAt), 5)
	return []FunnelEvent{
		{Step: CaseAnsweredStep, Invitation: "case:" + c.ID + ":answered", Agency: c.Agency, Month: month, Family: timely},
		{Step: CaseAnswerDaysStep, Invitation: "case:" + c.ID + ":days", Agency: c.Agency, Month: month, Family: fmt.Sprintf("d%d", d)},
		c.DueEvent(), // counted once: already, if the answer came after the due time
	}
}

// DueBy reports whether the case is due at now, in the on-time figures'
// sense: answered, or left unanswered past its first due time (open, or
// closed only after it). A case not yet due, or closed unanswered before
// its due time, does not count against the agency.
func (c *Case) DueBy(now time.Time) bool {
	if c.AnsweredAt != nil {
		return true
	}
	first := c.FirstDue()
	return now.After(first) && (c.ClosedAt == nil || c.ClosedAt.After(first))
}

// DueEvent counts the case among those due, once whichever way it became
// due (its first answer, or its first due time passing unanswered).
func (c *Case) DueEvent() FunnelEvent {
	return FunnelEvent{Step: CaseDueStep, Invitation: "case:" + c.ID + ":due", Agency: c.Agency, Month: MonthOf(c.OpenedAt)}
}

// RatingEvent counts the n-th rating of a case's answers ("1"–"5").
func (c *Case) RatingEvent(n int, rating string) FunnelEvent {
	return FunnelEvent{Step: CaseRatedStep, Invitation: fmt.Sprintf("case:%s:rated:%d", c.ID, n), Agency: c.Agency, Month: MonthOf(c.OpenedAt), Family: "r" + rating}
}

// Each calls fn with every case (a rebuild's pass: a scan).
func (s *Cases) Each(ctx context.Context, fn func(*Case) error) error {
	cur, err := s.c.Find(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("read cases: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var c Case
		if err := cur.Decode(&c); err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	return cur.Err()
}

// Get returns one case.
func (s *Cases) Get(ctx context.Context, id string) (*Case, error) {
	return findOne[Case](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// ErrCaseChanged means the case changed since it was read.
var ErrCaseChanged = errors.New("the case changed meanwhile")

// Save writes c back if it is still at the version it was read at, and
// moves its version on; callers hold the case's lock (FerretDB applies
// an update by reading and writing the document back).
func (s *Cases) Save(ctx context.Context, c *Case) error {
	prev := c.Version
	c.Version++
	if err := replaceVersion(ctx, s.c, c.ID, prev, c, ErrCaseChanged); err != nil {
		c.Version = prev
		return fmt.Errorf("save case %s: %w", c.ID, err)
	}
	return nil
}

// replaceVersion replaces the document id with doc if it is still at
// version prev (field v): changed when it is not, or is gone.
func replaceVersion(ctx context.Context, c *mongo.Collection, id string, prev int64, doc any, changed error) error {
	res, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "v", Value: prev}}, doc)
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return changed
	}
	return nil
}

// In returns the cases opened in the given agencies (nil: every agency)
// and months, by id lookups only (the months' index documents, then the
// cases).
func (s *Cases) In(ctx context.Context, agencies, months []string) ([]Case, error) {
	if agencies == nil {
		ids := make([]string, 0, 2*len(months))
		for _, m := range months {
			ids = append(ids, caseIndexID("*", m), feedbackIndexID("*", m))
		}
		all, err := byIDs[caseIndex](ctx, s.index, ids)
		if err != nil {
			return nil, fmt.Errorf("read case index: %w", err)
		}
		seen := map[string]bool{}
		for _, ix := range all {
			for _, a := range ix.IDs {
				if !seen[a] {
					seen[a] = true
					agencies = append(agencies, a)
				}
			}
		}
	}
	var ids []string
	for _, a := range agencies {
		for _, m := range months {
			ids = append(ids, caseIndexID(a, m), feedbackIndexID(a, m))
		}
	}
	indexes, err := byIDs[caseIndex](ctx, s.index, ids)
	if err != nil {
		return nil, fmt.Errorf("read case index: %w", err)
	}
	var caseIDs []string
	for _, ix := range indexes {
		caseIDs = append(caseIDs, ix.IDs...)
	}
	return byIDs[Case](ctx, s.c, caseIDs)
}

// Read returns cases by id (those that exist).
func (s *Cases) Read(ctx context.Context, ids []string) ([]Case, error) {
	return byIDs[Case](ctx, s.c, ids)
}
