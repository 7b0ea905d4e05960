package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Service holds what the core needs; build it once at start-up.
type Service struct {
	Surveys       *survey.Catalog
	Mongo         *store.Mongo
	Drafts        *store.Progress
	Conversations *store.Conversations
	Queue         *store.SendQueue
	Locks         *store.Locks
	Limiter       *store.Limiter
	// PageRate and PhoneRate are the per-minute page and per-hour SMS limits
	// (0 = none).
	PageRate, PhoneRate int
	Warnings            *store.Warnings
	// Inbox holds verified webhook events that are acknowledged at once
	// and processed by workers (Zalo).
	Inbox         *store.Stream
	Sealer        *store.Sealer
	BaseURL       string
	InvitationTTL time.Duration
	// Clock, when set, replaces time.Now (tests).
	Clock func() time.Time
	// Queued, when set, is told that sends were queued (wakes the sender).
	Queued func()
	// Saved, when set, is told that a response was saved, so the roll-up
	// writer can count it at once instead of at its next tick.
	Saved func()
}

// Vietnam is the time zone that months and report periods are counted in.
var Vietnam = time.FixedZone("ICT", 7*3600)

// Session is an invitation opened through a channel, with its survey.
type Session struct {
	Invitation *store.Invitation
	Survey     *survey.Survey
}

// Open finds the invitation of a survey token. Its errors say why it cannot
// be answered: not_found (unknown or forged token), gone (expired or opted
// out). A completed invitation opens fine; callers check Completed.
func (s *Service) Open(ctx context.Context, token string) (*Session, error) {
	if _, err := qr.ParseToken(token); err != nil {
		return nil, Errorf(NotFound, "", "unknown survey link")
	}
	inv, err := s.Mongo.Invitations.ByToken(ctx, token)
	if err != nil {
		return nil, notFoundAs(err, "unknown survey link")
	}
	switch inv.StatusAt(s.now()) {
	case store.StatusExpired:
		return nil, Errorf(Gone, "", "this survey link expired on %s", inv.ExpiresAt.In(Vietnam).Format("02/01/2006"))
	case store.StatusOptedOut:
		return nil, Errorf(Gone, "", "this survey was closed at the citizen's request")
	}
	def, ok := s.Surveys.Survey(survey.ID(inv.Survey))
	if !ok {
		return nil, fmt.Errorf("invitation %s names unknown survey %s", inv.ID, inv.Survey)
	}
	return &Session{Invitation: inv, Survey: def}, nil
}

// Completed reports whether the invitation already has its response.
func (ss *Session) Completed() bool { return ss.Invitation.Status == store.StatusCompleted }

// Progress returns the answers saved so far (question id → score, and
// "comment").
func (s *Service) Progress(ctx context.Context, ss *Session) (map[string]string, error) {
	return s.Drafts.Load(ctx, ss.Invitation.Token)
}

// SaveProgress keeps partial answers until the invitation expires and marks
// the invitation in progress.
func (s *Service) SaveProgress(ctx context.Context, ss *Session, fields map[string]string) error {
	ttl := ss.Invitation.ExpiresAt.Sub(s.now())
	if ttl <= 0 || len(fields) == 0 {
		return nil
	}
	if err := s.Drafts.Save(ctx, ss.Invitation.Token, fields, ttl); err != nil {
		return err
	}
	if ss.Invitation.Status == store.StatusPending {
		return s.Mongo.Invitations.MarkStarted(ctx, ss.Invitation.ID, s.now())
	}
	return nil
}

// Completion is a full set of answers from one channel.
type Completion struct {
	Answers survey.Answers
	Comment string
	Channel string
	Locale  string
}

// ErrAlreadyCompleted means another submit or channel completed it first.
var ErrAlreadyCompleted = errors.New("invitation already completed")

// Complete saves the response of ss exactly once. A second completion, from
// any channel or a race, returns ErrAlreadyCompleted and changes nothing.
func (s *Service) Complete(ctx context.Context, ss *Session, c Completion) (*store.Response, error) {
	if missing := ss.Survey.Missing(c.Answers); len(missing) > 0 {
		return nil, Errorf(Invalid, string(missing[0]), "%d questions are not answered", len(missing))
	}
	inv, now := ss.Invitation, s.now()
	r := &store.Response{
		ID:            newID(),
		InvitationID:  inv.ID,
		Survey:        string(ss.Survey.ID),
		SurveyVersion: ss.Survey.Version,
		DossierCode:   inv.DossierCode,
		AgencyCode:    inv.AgencyCode,
		ProcedureCode: inv.ProcedureCode,
		FieldCode:     inv.FieldCode,
		Channel:       c.Channel,
		Comment:       c.Comment,
		Locale:        c.Locale,
		Respondent:    inv.Respondent,
		Month:         now.In(Vietnam).Format("2006-01"),
		StartedAt:     store.Millis(now),
		SubmittedAt:   store.Millis(now),
	}
	if inv.StartedAt != nil {
		r.StartedAt = *inv.StartedAt
	}
	for _, q := range ss.Survey.Questions {
		r.Answers = append(r.Answers, store.Answer{Question: string(q.ID), Criterion: q.Criterion, Score: c.Answers[q.ID]})
	}
	if err := s.Mongo.Responses.Insert(ctx, r); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return nil, ErrAlreadyCompleted
		}
		return nil, err
	}
	// The response is durable. What follows can be redone: the roll-up writer
	// marks the invitation completed again if this step is cut short.
	if err := s.Mongo.Invitations.MarkCompleted(ctx, inv.ID, c.Channel, now); err != nil {
		return r, err
	}
	_ = s.Drafts.Clear(ctx, inv.Token)
	if s.Saved != nil {
		s.Saved()
	}
	return r, nil
}

func newID() string { return primitive.NewObjectID().Hex() }

// Allow spends one request of a client against its limit: "page" per IP
// per minute, "phone" per number (hash) per hour. Over the limit it returns
// a rate_limited error saying when to retry.
func (s *Service) Allow(ctx context.Context, scope, who string) error {
	limit, window := s.PageRate, time.Minute
	if scope == "phone" {
		limit, window = s.PhoneRate, time.Hour
	}
	if s.Limiter == nil || limit == 0 {
		return nil
	}
	ok, wait, err := s.Limiter.Allow(ctx, scope+":"+who, limit, window)
	if err != nil {
		return err
	}
	if !ok {
		e := Errorf(RateLimited, "", "too many requests; try again in %s", wait.Round(time.Second))
		e.RetryAfter = wait
		return e
	}
	return nil
}
