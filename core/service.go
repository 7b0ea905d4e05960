package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
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
	Inbox *store.Stream
	// Outbox holds completed responses until MongoDB has them.
	Outbox *store.Outbox
	// Cache keeps opened invitations for when MongoDB is down; may be nil.
	Cache *store.InvitationCache
	// Health remembers that MongoDB just failed, so requests skip it for a
	// few seconds instead of each waiting out a timeout; may be nil.
	Health        *Health
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
	var inv *store.Invitation
	var err error
	if s.Health.Down() && s.Cache != nil {
		inv, err = s.Cache.ByToken(ctx, token)
	}
	if inv == nil {
		inv, err = s.Mongo.Invitations.ByToken(ctx, token)
		s.Health.Note(err)
	}
	switch {
	case err == nil && s.Cache != nil:
		s.Cache.Put(ctx, inv)
	case store.Unavailable(err) && s.Cache != nil:
		// MongoDB is down: a survey already opened goes on from the cache.
		if cached, cerr := s.Cache.ByToken(ctx, token); cerr == nil {
			inv, err = cached, nil
		}
	}
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
	if inv.Status != store.StatusCompleted {
		if done, err := s.Outbox.Done(ctx, inv.ID); err == nil && done {
			inv.Status = store.StatusCompleted // saved, on its way to MongoDB
		}
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
	if ss.Invitation.Status == store.StatusPending && !s.Health.Down() {
		if err := s.Mongo.Invitations.MarkStarted(ctx, ss.Invitation.ID, s.now()); s.Health.Note(err) && err != nil {
			return err // while MongoDB is down the status waits; the answers do not
		}
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
	// Durable in Redis first: from here the answer is accepted, whatever
	// MongoDB is doing. The done mark makes a second completion a no-op.
	id, err := s.Outbox.Put(ctx, r)
	if err != nil {
		return nil, Errorf(Unavailable, "", "answers cannot be saved right now; try again in a minute")
	}
	if id == "" {
		return nil, ErrAlreadyCompleted
	}
	_ = s.Drafts.Clear(ctx, inv.Token)
	if s.Health.Down() {
		return r, nil // MongoDB just failed: the outbox worker writes it
	}
	if err := s.save(ctx, r, id); err != nil {
		s.Health.Note(err)
		if errors.Is(err, ErrAlreadyCompleted) {
			return nil, err
		}
		// MongoDB is down or slow: the outbox worker writes it later.
		return r, nil
	}
	return r, nil
}

// save writes a response to MongoDB and completes its invitation; entry is
// the outbox entry to drop once that is done. A response the
// invitation already has is ErrAlreadyCompleted.
func (s *Service) save(ctx context.Context, r *store.Response, entry string) error {
	if err := s.Mongo.Responses.Insert(ctx, r); err != nil {
		if !errors.Is(err, store.ErrDuplicate) {
			return err
		}
		_ = s.Outbox.Ack(ctx, entry)
		return ErrAlreadyCompleted
	}
	// The response is durable. What follows can be redone: the roll-up writer
	// marks the invitation completed again if this step is cut short.
	if err := s.Mongo.Invitations.MarkCompleted(ctx, r.InvitationID, r.Channel, r.SubmittedAt); err != nil {
		return err
	}
	_ = s.Outbox.Ack(ctx, entry)
	if s.Saved != nil {
		s.Saved()
	}
	return nil
}

// RunOutbox writes responses that could not reach MongoDB at once, until
// ctx ends, backing off while MongoDB is unavailable. A response MongoDB
// refuses outright is kept as a dead letter with the reason.
func (s *Service) RunOutbox(ctx context.Context, consumer string, log *slog.Logger) {
	wait := time.Second
	for ctx.Err() == nil {
		err := s.DrainOutbox(ctx, consumer, 30*time.Second, time.Second)
		if err == nil {
			wait = time.Second
			continue
		}
		if ctx.Err() == nil {
			log.Warn("outbox: MongoDB unavailable; answers wait in Redis", "retry_in", wait.String(), "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
		}
	}
}

// DrainOutbox writes one batch of waiting responses.
func (s *Service) DrainOutbox(ctx context.Context, consumer string, stale, block time.Duration) error {
	entries, err := s.Outbox.Read(ctx, consumer, 100, stale, block)
	if err != nil {
		return err
	}
	for _, e := range entries {
		r, err := s.Outbox.Decode(e)
		if err != nil {
			if err := s.Outbox.Bury(ctx, e, err.Error()); err != nil {
				return err
			}
			continue
		}
		err = s.save(ctx, r, e.ID)
		switch {
		case err == nil, errors.Is(err, ErrAlreadyCompleted):
		case store.Unavailable(err):
			return err // stays in the outbox; retried after a pause
		default:
			if err := s.Outbox.Bury(ctx, e, err.Error()); err != nil {
				return err
			}
		}
	}
	return nil
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

// invitationByID reads an invitation, from the cache while MongoDB is down.
func (s *Service) invitationByID(ctx context.Context, id string) (*store.Invitation, error) {
	inv, err := s.Mongo.Invitations.Invitation(ctx, id)
	if store.Unavailable(err) && s.Cache != nil {
		if cached, cerr := s.Cache.ByID(ctx, id); cerr == nil {
			return cached, nil
		}
	}
	return inv, err
}

// Health is a small circuit breaker for MongoDB.
type Health struct{ until atomic.Int64 }

// Down reports whether MongoDB failed within the last few seconds.
func (h *Health) Down() bool { return h != nil && time.Now().UnixNano() < h.until.Load() }

// Note records the outcome of a MongoDB call; it returns true when err is
// not an outage (nil or a refusal), so callers can go on to handle it.
func (h *Health) Note(err error) bool {
	if h == nil || !store.Unavailable(err) {
		return true
	}
	h.until.Store(time.Now().Add(5 * time.Second).UnixNano())
	return false
}
