package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Service holds what the core needs; build it once at start-up.
type Service struct {
	Surveys *survey.Catalog
	// Topics classifies comments (survey.Lexicon); the roll-up writer
	// uses the same one.
	Topics *survey.Lexicon
	// Notices holds case events for agencies' webhooks (see
	// DeliverNotices); nil sends none.
	Notices *store.Stream
	// OpenCases indexes the cases not closed, for the work list and the
	// sweeps; nil reads the cases of the months instead.
	OpenCases *store.OpenCases
	// UnreadIndex counts the open replies not understood by agency, for
	// the console's menu; nil counts none.
	UnreadIndex *store.UnreadIndex
	// Calendar counts the working days follow-up cases are due in.
	Calendar      *survey.Calendar
	Mongo         *store.Mongo
	Drafts        *store.Progress
	Conversations *store.Conversations
	Queue         *store.SendQueue
	// Calls keeps the survey calls' progress (see StartCall).
	Calls   *store.Calls
	Locks   *store.Locks
	Limiter *store.Limiter
	// OptOuts holds citizens' latest opt-out answers until MongoDB has
	// them; nil writes them to MongoDB at once.
	OptOuts *store.OptOutView
	// SignIns locks addresses and user names after failed console
	// sign-ins; nil locks nothing.
	SignIns *SignInLimits
	// Feedback keeps the feedback pages' tickets and phones waiting for
	// their codes.
	Feedback *store.FeedbackTickets
	// FeedbackRate and FeedbackAgencyRate are the feedback a client
	// address and an agency's page take an hour (0 = no limit);
	// FeedbackCodes the one-time codes one number gets a day.
	FeedbackRate, FeedbackAgencyRate, FeedbackCodes int
	// PageRate and PhoneRate are the per-minute page and per-hour SMS limits
	// (0 = none); KioskRate a desk's presentations and its tablets' answers
	// a minute, each (0 = none).
	PageRate, PhoneRate, KioskRate int
	// MaxMonths is the widest period of months one operator request may
	// cover (GATEWAY_MAX_MONTHS; 0 = DefaultMaxMonths): see CheckPeriod.
	MaxMonths int
	// RequireAgencies refuses invitations for agency codes not registered
	// (GATEWAY_REQUIRE_AGENCIES); otherwise they are taken and listed as
	// unregistered.
	RequireAgencies bool
	// AgencyNames keeps agency names a minute (code → cachedName); nil
	// keeps none.
	AgencyNames *sync.Map
	Warnings    *store.Warnings
	// Inbox holds verified webhook events that are acknowledged at once
	// and processed by workers (Zalo).
	Inbox *store.Stream
	// Outbox holds completed responses until MongoDB has them.
	Outbox *store.Outbox
	// MessageLog queues records of sent messages for MongoDB (see
	// RecordSent); nil writes them at once.
	MessageLog *store.Stream
	// Channels caches channels in the process; nil reads MongoDB each time.
	Channels *ChannelCache
	// Funnel holds invitation events (made, sent) until the roll-up writer
	// counts them into the response rates; nil counts none.
	Funnel *store.Funnel
	// FlaggedIndex lists flagged responses for the review queue (kept
	// by the roll-up writer).
	FlaggedIndex *store.FlaggedIndex
	// ScanQueue lists the scanned paper forms waiting for review.
	ScanQueue *store.ScanQueue
	// Started holds invitations begun until the roll-up writer marks them
	// in progress; nil marks them at once.
	Started *store.Started
	// Dossiers indexes invitations by their dossier codes' parts, for
	// the search and the list of invitations; nil indexes nothing.
	Dossiers *store.Dossiers
	// Cache keeps opened invitations for when MongoDB is down; may be nil.
	Cache *store.InvitationCache
	// Health remembers that MongoDB just failed, so requests skip it for a
	// few seconds instead of each waiting out a timeout; may be nil.
	Health        *Health
	Sealer        *store.Sealer
	BaseURL       string
	InvitationTTL time.Duration
	// Reach holds the send hours, the reminder and the limits per phone;
	// nil: none of them.
	Reach *Reach
	// Clock, when set, replaces time.Now (tests).
	Clock func() time.Time
	// Queued, when set, is told that sends were queued (wakes the sender).
	Queued func()
	// Scanned, when set, is told that a citizen's open invitations were
	// looked up with a MongoDB query (a scan on FerretDB) because the index
	// of their invitations in Redis was incomplete.
	Scanned func()
	// PairingAlarm, when set, is told the gateway-wide number of kiosk
	// pairing tries in the window each time it passes another PairAlarm
	// (someone is likely guessing codes).
	PairingAlarm func(tries int64)
	// AckAfterMongo makes Complete wait until MongoDB has the response
	// (batched with concurrent requests' responses), for a Redis that keeps
	// nothing across a crash; otherwise the outbox writer takes it there.
	AckAfterMongo bool
	// Saved, when set, is told that n responses were saved, so the roll-up
	// writer can count them at once instead of at its next tick.
	Saved func(n int)
	// Kiosks holds the desks' kiosks' state (pairing, current dossier,
	// answer keys, wake-ups).
	Kiosks *store.Kiosks
	// Signals counts what the integrity signals compare across answers
	// (the dossiers one browser or phone answered, each form's answering
	// times); nil raises none of those.
	Signals *store.Signals
	// Lists keeps every agency's networks and staff phones a minute in the
	// process (every answer reads them); nil reads MongoDB each time.
	Lists *AgencyLists
	// DossierCodeAnswers is GATEWAY_DOSSIER_CODE_ANSWERS: what "DG <code>"
	// from a phone an invitation never knew does: off, flag ("" too) or on.
	DossierCodeAnswers string
	// SpeederSeconds and KioskFastSeconds are the speeder and kiosk_fast
	// thresholds (GATEWAY_SPEEDER_SECONDS, GATEWAY_KIOSK_FAST_SECONDS; 0 =
	// the defaults).
	SpeederSeconds, KioskFastSeconds float64
}

// Vietnam is the time zone that months and report periods are counted in.
var Vietnam = time.FixedZone("ICT", 7*3600)

// Session is an invitation opened through a channel, with its survey.
type Session struct {
	Invitation *store.Invitation
	Survey     *survey.Survey
	// undrafted is set when OpenWithProgress found no saved answers and
	// none were saved since: completing has no progress to clear.
	undrafted bool
	// FirstView is when the survey page was first seen (OpenWithProgress
	// notes each view; the first stays): a web answer's answering time
	// runs from it. Zero elsewhere.
	FirstView time.Time
}

// Open finds the invitation of a survey token. Its errors say why it cannot
// be answered: not_found (unknown or forged token), gone (expired or opted
// out). A completed invitation opens fine; callers check Completed.
func (s *Service) Open(ctx context.Context, token string) (*Session, error) {
	ss, _, err := s.open(ctx, token, false)
	return ss, err
}

// OpenWithProgress is Open with the answers saved so far (see Progress),
// read in the same round trips: a survey page's reads cost two.
func (s *Service) OpenWithProgress(ctx context.Context, token string) (*Session, map[string]string, error) {
	return s.open(ctx, token, true)
}

func (s *Service) open(ctx context.Context, token string, progress bool) (*Session, map[string]string, error) {
	if _, err := qr.ParseToken(token); err != nil {
		return nil, nil, Errorf(NotFound, "", "unknown survey link")
	}
	var load func() (map[string]string, error)
	var viewed func() (time.Time, error)
	now := store.Millis(s.now())
	also := s.doneBeside(ctx)
	if progress {
		also.Token = func(p redis.Pipeliner) {
			load = s.Drafts.LoadIn(ctx, p, token)
			viewed = s.Drafts.ViewIn(ctx, p, token, now, s.viewTTL())
		}
	}
	inv, err := s.cachedFirst(ctx, func(c *store.InvitationCache) (*store.Invitation, error) {
		return c.ByToken(ctx, token, 0, &also.Beside)
	}, func() (*store.Invitation, error) { return s.Mongo.Invitations.ByToken(ctx, token) })
	if err != nil {
		return nil, nil, notFoundAs(err, "unknown survey link")
	}
	switch inv.StatusAt(s.now()) {
	case store.StatusExpired:
		return nil, nil, Errorf(Gone, "", "this survey link expired on %s", inv.ExpiresAt.In(Vietnam).Format("02/01/2006"))
	case store.StatusOptedOut:
		return nil, nil, Errorf(Gone, "", "this survey was closed at the citizen's request")
	}
	def, ok := s.Surveys.Survey(survey.ID(inv.Survey))
	if !ok {
		return nil, nil, fmt.Errorf("invitation %s names unknown survey %s", inv.ID, inv.Survey)
	}
	also.apply(ctx, s, inv)
	ss := &Session{Invitation: inv, Survey: def}
	if !progress {
		return ss, nil, nil
	}
	if viewed == nil { // no working copy was read: note the view now
		_, _ = s.Drafts.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			viewed = s.Drafts.ViewIn(ctx, p, token, now, s.viewTTL())
			return nil
		})
	}
	ss.FirstView, _ = viewed() // unknown, the answer has no answering time
	if ss.FirstView.Equal(now) && !ss.Completed() {
		s.viewed(ctx, inv, now) // this view was the first
	}
	if load == nil {
		saved, err := s.Progress(ctx, ss)
		return ss, saved, err
	}
	saved, err := load()
	ss.undrafted = err == nil && len(saved) == 0
	return ss, saved, err
}

// viewTTL is how long a survey page's first view is kept: as long as an
// invitation can be answered.
func (s *Service) viewTTL() time.Duration { return cmp.Or(s.InvitationTTL, 30*24*time.Hour) }

// Completed reports whether the invitation already has its response.
func (ss *Session) Completed() bool { return ss.Invitation.Status == store.StatusCompleted }

// Progress returns the answers saved so far (question id → score, and
// "comment").
func (s *Service) Progress(ctx context.Context, ss *Session) (map[string]string, error) {
	return s.Drafts.Load(ctx, ss.Invitation.Token)
}

// SaveProgress keeps partial answers until the invitation expires and,
// unless the same request goes on to complete the survey, marks the
// invitation in progress. (On FerretDB an update rewrites the whole
// document, so a "started" mark racing a double submit's completion could
// undo it; completing sets the status anyway.)
func (s *Service) SaveProgress(ctx context.Context, ss *Session, fields map[string]string, completing bool) error {
	ttl := ss.Invitation.ExpiresAt.Sub(s.now())
	if ttl <= 0 || len(fields) == 0 {
		return nil
	}
	ss.undrafted = false
	if err := s.Drafts.Save(ctx, ss.Invitation.Token, fields, ttl); err != nil {
		return err
	}
	if ss.Invitation.Status == store.StatusPending && !completing && !s.Health.Down() {
		if err := s.noteStarted(ctx, ss.Invitation.ID); s.Health.Note(err) && err != nil {
			return err // while MongoDB is down the status waits; the answers do not
		}
		inv := ss.Invitation
		s.noteStart(ctx, store.FunnelEvent{Invitation: inv.ID, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey}, "web")
		if s.Cache != nil {
			// the working copy keeps when: the response's started_at
			// comes from it, not from the last step's time
			started, at := *ss.Invitation, store.Millis(s.now())
			started.Status, started.StartedAt = store.StatusInProgress, &at
			s.Cache.Put(ctx, &started)
		}
	}
	return nil
}

// noteStarted notes that a citizen began answering an invitation.
func (s *Service) noteStarted(ctx context.Context, id string) error {
	if s.Started != nil {
		if err := s.Started.Add(ctx, id, s.now()); err == nil {
			return nil
		}
	}
	return s.Mongo.Invitations.MarkStarted(ctx, id, s.now())
}

// Completion is a full set of answers from one channel, with what the
// channel knows of how they came (for the response's provenance and
// signals: see provenance).
type Completion struct {
	Answers survey.Answers
	Comment string
	Channel string
	Locale  string
	// EnteredBy and CitizenText: an operator read the scores in the
	// citizen's message (see ResolveUnread).
	EnteredBy, CitizenText string
	// ScannedBy is who uploaded a paper form read without an operator
	// (provenance's by; EnteredBy is for scores an operator read).
	ScannedBy string
	// Spend, for a chat message, is kept with the response (see
	// store.Spend), so a redelivery of the message spends nothing more.
	Spend *store.Spend
	// VerifiedBy is how the respondent was tied to the dossier
	// (store.VerifiedPhone…).
	VerifiedBy string
	// Sender is the keyed hash of the phone (or chat user) that answered,
	// for a chat channel.
	Sender string
	// later, for a chat message, takes the clean-up into its commit.
	later *later
	// Address and Device are the web client's address and device cookie,
	// raw: only their keyed hashes are kept.
	Address, Device string
	// Start is when the dossier was put before the citizen, when that is
	// not the invitation's creation: a kiosk's presentation. Answering,
	// when set, is when the citizen began (a kiosk: the presentation;
	// the web: the session's first view, which Complete reads itself).
	Start, Answering time.Time
}

// ErrAlreadyCompleted means another submit or channel completed it first.
var ErrAlreadyCompleted = errors.New("invitation already completed")

// SpentError means the chat message completing a survey completed one
// before (a delivery racing it, or an earlier one whose conversation was
// not saved): nothing was saved now. It is an ErrAlreadyCompleted.
type SpentError struct{ Spend *store.Spend }

func (e *SpentError) Error() string {
	return "the message already completed invitation " + e.Spend.Invitation
}

// Unwrap makes a SpentError an ErrAlreadyCompleted.
func (e *SpentError) Unwrap() error { return ErrAlreadyCompleted }

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
		Month:         store.MonthOf(now),
		InvitedAt:     inv.CreatedAt,
		InvitedSurvey: inv.Survey,
		StartedAt:     store.Millis(now),
		SubmittedAt:   store.Millis(now),
		EnteredBy:     c.EnteredBy,
		CitizenText:   c.CitizenText,
	}
	if inv.StartedAt != nil {
		r.StartedAt = *inv.StartedAt
	}
	if !ss.FirstView.IsZero() {
		at := ss.FirstView
		r.OpenedAt = &at // its page's first view, counted with it (see viewed)
	}
	if rem, ok := inv.Reminder(); ok && (rem.Status == store.SendSent || rem.Status == store.SendDelivered) && rem.At.Before(now) {
		r.Reminded = true
	}
	if r.Respondent == "" {
		r.Respondent = c.Sender // a phone the invitation never knew ("DG <code>")
	}
	for _, q := range ss.Survey.Questions {
		r.Answers = append(r.Answers, store.Answer{Question: string(q.ID), Criterion: q.Criterion, Score: c.Answers[q.ID]})
	}
	raised := s.raise(ctx, ss, c, r)
	if c.Spend != nil {
		c.Spend.Response, c.Spend.At, c.Spend.Phone = r.ID, r.SubmittedAt.UnixMilli(), raised.phone != ""
	}
	// Durable in Redis first: from here the answer is accepted, whatever
	// MongoDB is doing. The done mark makes a second completion a no-op.
	id, spent, err := s.Outbox.Put(ctx, r, c.Spend)
	if err != nil {
		return nil, Errorf(Unavailable, "", "answers cannot be saved right now; try again in a minute")
	}
	if spent != nil {
		return nil, &SpentError{spent}
	}
	if id == "" {
		return nil, ErrAlreadyCompleted
	}
	s.completed(ctx, ss, r, raised, c.later)
	if !s.AckAfterMongo || s.Health.Down() {
		s.kickOutbox() // the outbox writer takes it to MongoDB in its next batch
		return r, nil
	}
	err = groupOf[pending](s.Outbox).do(ctx, pending{r, id}, func(ctx context.Context, ps []pending) ([]error, error) {
		rs, entries := make([]*store.Response, len(ps)), make([]string, len(ps))
		for i, p := range ps {
			rs[i], entries[i] = p.r, p.entry
		}
		return s.saveAll(ctx, rs, entries)
	})
	if errors.Is(err, ErrAlreadyCompleted) {
		return nil, err
	}
	if !s.Health.Note(err) {
		s.kickOutbox() // MongoDB is down: the outbox writer retries it
	}
	return r, nil // or MongoDB refused it: the writer keeps it as a dead letter
}

// completed clears the saved answers of a completed session, moves the
// citizen's chat on, whatever channel answered, and counts r's signals
// (countIn), in one round trip: its own, or the one that carries later
// (a chat message's commit).
func (s *Service) completed(ctx context.Context, ss *Session, r *store.Response, rs raised, later *later) {
	inv := ss.Invitation
	marks := !ss.undrafted || inv.Respondent != "" || !ss.FirstView.IsZero()
	counts := s.counts(rs)
	if !marks && !counts {
		return
	}
	if later != nil {
		later.queue = func(p redis.Pipeliner) func() { return s.completedIn(ctx, p, ss, r, rs, counts) }
		return
	}
	var counted func()
	_, _ = s.Drafts.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		counted = s.completedIn(ctx, p, ss, r, rs, counts)
		return nil
	})
	counted()
}

// counts says whether a completion raised anything to count (countIn).
func (s *Service) counts(rs raised) bool {
	return s.Signals != nil && (rs.device != "" || rs.phone != "" || rs.moments != "")
}

// completedIn queues completed's commands on p, a pipeline of the drafts'
// Redis. Each stands alone (a DEL or a script), so a plain pipeline does:
// it shares its round trip with other requests' where a transaction would
// take a connection of its own. The func it returns, once p has run,
// flags the repeats it counted (counting them first where the signals
// live in another Redis).
func (s *Service) completedIn(ctx context.Context, p redis.Pipeliner, ss *Session, r *store.Response, rs raised, counts bool) func() {
	inv := ss.Invitation
	if !ss.undrafted {
		s.Drafts.ClearIn(ctx, p, inv.Token)
	}
	if !ss.FirstView.IsZero() {
		s.Drafts.ForgetViewIn(ctx, p, inv.Token)
	}
	if inv.Respondent != "" {
		s.Conversations.MarkDoneIn(ctx, p, inv.Respondent, inv.ID)
	}
	var flag func()
	if counts && s.Signals.R == s.Drafts.R {
		flag = s.countIn(ctx, p, r, rs)
	}
	return func() {
		switch {
		case flag != nil:
			flag()
		case counts: // the signals live in another Redis
			_, _ = s.Signals.R.Pipelined(ctx, func(p redis.Pipeliner) error {
				flag = s.countIn(ctx, p, r, rs)
				return nil
			})
			flag()
		}
	}
}

// later holds a chat completion's clean-up (completed) for the round trip
// the message's step makes anyway, its commit, instead of one of its own.
// The commit's pipeline runs it whether or not the commit wins (the
// response is saved either way), and a run of the step that follows finds
// the invitation completed and holds nothing more.
type later struct {
	queue func(redis.Pipeliner) func() // the clean-up to queue, if any
	done  func()                       // what reads its replies
}

// queueIn queues the held clean-up on p, once.
func (l *later) queueIn(p redis.Pipeliner) {
	if l.queue != nil {
		l.done, l.queue = l.queue(p), nil
	}
}

// settle reads the replies of the clean-up the commit carried, or sends
// one it never carried (the step failed after the completion) on r.
func (l *later) settle(ctx context.Context, r redis.UniversalClient) {
	if l.queue != nil {
		_, _ = r.Pipelined(ctx, func(p redis.Pipeliner) error {
			l.queueIn(p)
			return nil
		})
	}
	if l.done != nil {
		l.done()
		l.done = nil
	}
}

// pending is a completed response and its outbox entry.
type pending struct {
	r     *store.Response
	entry string
}

// kickOutbox wakes this process's outbox writer, if it sleeps.
func (s *Service) kickOutbox() {
	select {
	case s.outboxKicks() <- struct{}{}:
	default:
	}
}

// outboxKicks is the wake-up channel of the outbox's writer in this
// process, shared by copies of the Service.
func (s *Service) outboxKicks() chan struct{} {
	k, _ := kicks.LoadOrStore(s.Outbox, make(chan struct{}, 1))
	return k.(chan struct{})
}

var kicks sync.Map

// saveAll writes responses to MongoDB in one batch, completes their
// invitations and drops their outbox entries. errs[i] says what became of
// rs[i]: nil (stored, now or before), ErrAlreadyCompleted (another response
// has the invitation), or MongoDB's refusal. err means MongoDB could not be
// reached: nothing is known, and the entries stay for the sweeper.
func (s *Service) saveAll(ctx context.Context, rs []*store.Response, entries []string) ([]error, error) {
	errs, err := s.Mongo.Responses.InsertMany(ctx, rs)
	if err != nil {
		return nil, err
	}
	var saved []*store.Response
	var ack, stored []string
	for i, r := range rs {
		if errors.Is(errs[i], store.ErrDuplicate) {
			errs[i] = ErrAlreadyCompleted
			ack = append(ack, entries[i])
		}
		if errs[i] == nil {
			saved = append(saved, r)
			ack, stored = append(ack, entries[i]), append(stored, r.ID)
		}
	}
	// The responses are durable. Their invitations are marked completed by
	// the roll-up writer, in batches, from one process: on FerretDB an
	// update reads the whole invitations collection (50 ms at 5,000), and
	// concurrent updates of one document can undo each other. Until then
	// the outbox's done mark says completed (see noteDone).
	// Noted stored, the roll-up writer counts them without reading them
	// back (see store.Outbox.Stored).
	var release func(redis.Pipeliner)
	if s.Funnel != nil {
		marks := heldMarks(saved)
		release = func(p redis.Pipeliner) { s.Funnel.ReleaseIn(ctx, p, marks...) }
	}
	_ = s.Outbox.Ack(ctx, ack, stored, release)
	if len(saved) > 0 && s.Saved != nil {
		s.Saved(len(saved))
	}
	return errs, nil
}

// outboxIdle is how long the outbox writer sleeps when nothing wakes it:
// an entry another replica wrote waits at most this long.
const outboxIdle = 200 * time.Millisecond

// outboxLinger is how long the outbox writer waits, once woken, before it
// writes: each write costs the same whatever its size (two inserts, each
// a transaction on FerretDB, the writer's lock and the outbox's reads),
// and woken at every answer the SMS bench's writer wrote 11 responses a
// batch. The answers are durable in Redis meanwhile.
const outboxLinger = 100 * time.Millisecond

// RunOutbox writes the outbox's responses to MongoDB until ctx ends, in
// batches (one InsertMany for everything waiting, up to outboxBatch),
// backing off while MongoDB is unavailable. Requests only write Redis and
// wake it; one replica writes at a time. A response MongoDB refuses
// outright is kept as a dead letter with the reason.
func (s *Service) RunOutbox(ctx context.Context, log *slog.Logger) {
	wait := outboxIdle
	for ctx.Err() == nil {
		err := s.sweepOutbox(ctx)
		s.Health.Note(err)
		if err == nil {
			wait = outboxIdle
		} else if ctx.Err() == nil {
			log.Warn("outbox: MongoDB unavailable; answers wait in Redis", "retry_in", wait.String(), "err", err)
			wait = min(2*max(wait, time.Second), 30*time.Second)
		}
		select {
		case <-ctx.Done():
		case <-s.outboxKicks():
			if err != nil {
				<-time.After(wait) // a wake-up does not cut a back-off short
			} else {
				<-time.After(outboxLinger) // the answers after this one join its batch
			}
		case <-time.After(wait):
		}
	}
}

func (s *Service) sweepOutbox(ctx context.Context) error {
	grace := time.Duration(0)
	if s.AckAfterMongo {
		grace = outboxGrace // the requests write their own; take what they left
	}
	return s.Locks.Holding(ctx, "sweep:"+s.Outbox.Key, 6*time.Second, func(ctx context.Context) error {
		return s.flushOutbox(ctx, grace)
	})
}

// outboxGrace is how old an entry must be before the writer takes it when
// requests write their own (AckAfterMongo): by then the request has saved
// it or given up. Taken earlier, it would be written twice.
const outboxGrace = 15 * time.Second

// FlushOutbox writes every response waiting in the outbox to MongoDB now.
// Beside the outbox writer it is safe: a response written twice is refused
// the second time, and its entry dropped.
func (s *Service) FlushOutbox(ctx context.Context) error { return s.flushOutbox(ctx, 0) }

func (s *Service) flushOutbox(ctx context.Context, grace time.Duration) error {
	for {
		n, err := s.DrainOutbox(ctx, grace)
		if err != nil || n < outboxBatch {
			return err
		}
	}
}

// outboxBatch bounds one write to MongoDB.
const outboxBatch = 200

// DrainOutbox writes one batch of the responses that have waited in the
// outbox longer than grace, and says how many it took.
func (s *Service) DrainOutbox(ctx context.Context, grace time.Duration) (int, error) {
	entries, err := s.Outbox.Older(ctx, grace, outboxBatch)
	if err != nil || len(entries) == 0 {
		return 0, err
	}
	var rs []*store.Response
	var ids []string
	var kept []store.Entry
	for _, e := range entries {
		r, err := s.Outbox.Decode(e)
		if err != nil {
			if err := s.Outbox.Bury(ctx, e, err.Error()); err != nil {
				return 0, err
			}
			continue
		}
		rs, ids, kept = append(rs, r), append(ids, e.ID), append(kept, e)
	}
	if len(rs) == 0 {
		return len(entries), nil
	}
	errs, err := s.saveAll(ctx, rs, ids)
	if err != nil {
		return 0, err
	}
	for i, err := range errs {
		if err != nil && !errors.Is(err, ErrAlreadyCompleted) {
			if err := s.Outbox.Bury(ctx, kept[i], err.Error()); err != nil {
				return 0, err
			}
		}
	}
	return len(entries), nil
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
	return s.limited(ctx, scope+":"+who, limit, window, "", "requests")
}

// limited counts a request against key's limit in window: over it, a
// rate_limited error naming field, with Retry-After; what names whose
// requests they are.
func (s *Service) limited(ctx context.Context, key string, limit int, window time.Duration, field, what string) error {
	if s.Limiter == nil || limit <= 0 {
		return nil
	}
	ok, wait, err := s.Limiter.Allow(ctx, key, limit, window)
	if err != nil {
		return err
	}
	if !ok {
		e := Errorf(RateLimited, field, "too many %s; try again in %s", what, wait.Round(time.Second))
		e.RetryAfter = wait
		return e
	}
	return nil
}

// invitationByID reads an invitation as Open does.
func (s *Service) invitationByID(ctx context.Context, id string) (*store.Invitation, error) {
	also := s.doneBeside(ctx)
	inv, err := s.cachedFirst(ctx, func(c *store.InvitationCache) (*store.Invitation, error) {
		return c.ByID(ctx, id, 0, &also.Beside)
	}, func() (*store.Invitation, error) { return s.Mongo.Invitations.Invitation(ctx, id) })
	if err == nil {
		also.apply(ctx, s, inv)
	}
	return inv, err
}

// doneRead reads the outbox's done mark of a cached copy in the copy's
// round trip (see store.Beside); apply then uses it, or asks Redis when
// the invitation came from MongoDB.
type doneRead struct {
	store.Beside
	id  string
	via func() (string, bool, error)
}

func (s *Service) doneBeside(ctx context.Context) *doneRead {
	d := &doneRead{}
	d.Copy = func(p redis.Pipeliner, id string) { d.id, d.via = id, s.Outbox.DoneViaIn(ctx, p, id) }
	return d
}

func (d *doneRead) apply(ctx context.Context, s *Service, inv *store.Invitation) {
	if d.via == nil || d.id != inv.ID {
		s.noteDone(ctx, inv)
		return
	}
	if via, done, err := d.via(); err == nil && done {
		markDone(inv, via)
	}
}

// noteDone marks inv completed when the outbox has its response: the
// cached copy or MongoDB may not know yet.
func (s *Service) noteDone(ctx context.Context, inv *store.Invitation) {
	if inv.Status != store.StatusCompleted && inv.Status != store.StatusOptedOut {
		if via, done, err := s.Outbox.DoneVia(ctx, inv.ID); err == nil && done {
			markDone(inv, via)
		}
	}
}

func markDone(inv *store.Invitation, via string) {
	if inv.Status == store.StatusCompleted || inv.Status == store.StatusOptedOut {
		return
	}
	inv.Status = store.StatusCompleted // saved, on its way to MongoDB
	if inv.CompletedVia == "" {
		inv.CompletedVia = via
	}
}

// current is inv as it stands, though MongoDB may not have it yet: a
// completion in the outbox, a start waiting for the roll-up writer.
func (s *Service) current(ctx context.Context, inv *store.Invitation) {
	s.noteDone(ctx, inv)
	if (inv.Status == store.StatusPending || inv.Status == store.StatusInProgress) && s.OptOuts != nil && s.OptOuts.Closed(ctx, inv.ID) {
		inv.Status = store.StatusOptedOut // an opt-out on its way to MongoDB
	}
	if inv.Status == store.StatusPending && s.Started != nil {
		if at, ok := s.Started.When(ctx, inv.ID); ok {
			inv.Status, inv.StartedAt = store.StatusInProgress, &at
		}
	}
}

// cachedFirst reads an invitation from its working copy in Redis, or from
// MongoDB when it has none (then it is copied): the copy is kept true (see
// store.InvitationCache), so any age will do.
func (s *Service) cachedFirst(ctx context.Context, cached func(*store.InvitationCache) (*store.Invitation, error),
	read func() (*store.Invitation, error)) (*store.Invitation, error) {
	if s.Cache == nil {
		return read()
	}
	if inv, err := cached(s.Cache); err == nil {
		return inv, nil
	}
	inv, err := read()
	s.Health.Note(err)
	if err == nil {
		s.Cache.Put(ctx, inv)
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
