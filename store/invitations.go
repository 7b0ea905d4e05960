package store

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Status is where an invitation stands.
type Status string

// Invitation statuses (API.md).
const (
	StatusPending    Status = "pending"
	StatusInProgress Status = "in_progress"
	StatusCompleted  Status = "completed"
	StatusExpired    Status = "expired"
	StatusOptedOut   Status = "opted_out"
)

// SendState is where sending an invitation through one channel stands.
type SendState string

// Send states.
const (
	SendQueued    SendState = "queued"
	SendSent      SendState = "sent"
	SendDelivered SendState = "delivered"
	SendFailed    SendState = "failed"
	SendSkipped   SendState = "skipped"
	SendRetrying  SendState = "retrying" // failed for now; taken again after a back-off
	SendFallback  SendState = "fallback" // refused by a chat channel; sent by SMS instead
)

// Invitation is one dossier's survey invitation.
type Invitation struct {
	ID          string `bson:"_id"`
	Token       string `bson:"token"`
	DossierCode string `bson:"dossier_code"`
	AgencyCode  string `bson:"agency_code"`
	// AgencyName is the agency's registered name when the invitation was
	// made, shown to the citizen (empty for an unregistered code).
	AgencyName string `bson:"agency_name,omitempty"`
	// AgencyShort is the agency's short name then, for texts where the
	// full name does not fit (see core.Service.InviteText).
	AgencyShort   string    `bson:"agency_short,omitempty"`
	ProcedureCode string    `bson:"procedure_code,omitempty"`
	FieldCode     string    `bson:"field_code,omitempty"`
	PhoneSealed   []byte    `bson:"phone_sealed,omitempty"` // AES-GCM, see Sealer
	Respondent    string    `bson:"respondent,omitempty"`   // keyed hash of the phone
	Survey        string    `bson:"survey"`
	Locale        string    `bson:"locale"`
	Status        Status    `bson:"status"`
	CompletedVia  string    `bson:"completed_via,omitempty"`
	CreatedAt     time.Time `bson:"created_at"`
	// CreatedFrom is the keyed hash of the address of the API client
	// that made it (none when that is a registered dossier server): a
	// web answer from there within a day is flagged creator_address.
	CreatedFrom string     `bson:"created_from,omitempty"`
	ExpiresAt   time.Time  `bson:"expires_at"`
	StartedAt   *time.Time `bson:"started_at,omitempty"`
	CompletedAt *time.Time `bson:"completed_at,omitempty"`
	// Sends tracks each channel the invitation was sent through, by channel
	// id, and its reminder under ReminderKey(channel id).
	Sends map[string]SendStatus `bson:"sends,omitempty"`
	// Opened is when the citizen first opened it, by channel family (web:
	// the survey page; zalo: the chat); StartedVia the family its first
	// answer came on. The roll-up writer sets both when it counts the
	// FunnelOpened and FunnelStarted events, so a rebuild counts the same.
	Opened     map[string]time.Time `bson:"opened,omitempty"`
	StartedVia string               `bson:"started_via,omitempty"`
}

// Reasons a send was skipped or waits (SendStatus.Reason).
const (
	ReasonContactLimit = "contact_limit" // another invitation reached the phone within GATEWAY_CONTACT_EVERY
	ReasonDailyLimit   = "daily_limit"   // the phone had GATEWAY_DAILY_MESSAGES today: waits for tomorrow's window
	ReasonSendHours    = "send_hours"    // outside the send hours: waits for their opening
	ReasonOptedOut     = "opted_out"
	ReasonClosed       = "closed" // the invitation was answered, expired or closed
)

// SendKindReminder is the Kind of a reminder's SendStatus.
const SendKindReminder = "reminder"

// ReminderKey is where Sends keeps the reminder sent on channel ch.
func ReminderKey(ch string) string { return SendKindReminder + ":" + ch }

// Reminder returns the invitation's reminder and its channel, if one was
// sent (or is being sent).
func (inv *Invitation) Reminder() (SendStatus, bool) {
	for _, st := range inv.Sends {
		if st.Kind == SendKindReminder {
			return st, true
		}
	}
	return SendStatus{}, false
}

// SendStatus is how sending an invitation through one channel went.
type SendStatus struct {
	// Kind is empty for the invitation itself, SendKindReminder for its
	// reminder; Channel names the channel of a reminder (its key does not).
	Kind    string    `bson:"kind,omitempty" json:"kind,omitempty"`
	Channel string    `bson:"channel,omitempty" json:"channel,omitempty"`
	Status  SendState `bson:"status" json:"status"`
	// Reason is a machine-readable why for a skip or a wait:
	// contact_limit, daily_limit, send_hours, opted_out, closed.
	Reason   string    `bson:"reason,omitempty" json:"reason,omitempty"`
	Attempts int       `bson:"attempts" json:"attempts"`
	Parts    int       `bson:"parts,omitempty" json:"parts,omitempty"`
	Error    string    `bson:"error,omitempty" json:"error,omitempty"`
	At       time.Time `bson:"at" json:"at"`
}

// StatusAt is the status as seen at now: an open invitation past its expiry
// is expired even before anything writes that down.
func (inv *Invitation) StatusAt(now time.Time) Status {
	open := inv.Status == StatusPending || inv.Status == StatusInProgress
	if open && !now.Before(inv.ExpiresAt) {
		return StatusExpired
	}
	return inv.Status
}

// Invitations is the invitations collection, with a lookup collection that
// maps tokens and dossier codes to invitation ids: FerretDB's SQLite backend
// only uses an index for _id, so a lookup by token would otherwise scan
// every invitation. Invitations made before lookups existed get theirs
// once per database (backfillLookups); one cut short by a crash between its
// two writes is found by a query when its creation is retried.
type Invitations struct {
	c    *mongo.Collection
	keys *mongo.Collection
	// complete says every invitation has its token and dossier lookups
	// (see backfillLookups): a missing lookup then means no such
	// invitation, with no query that would read the whole collection.
	complete bool
}

type lookup struct {
	ID  string `bson:"_id"` // "t:<token>", "d:<dossier code>" or "r:<respondent>"
	Inv string `bson:"inv"`
}

// writeLookups writes inv's lookups, and one for its respondent, which
// exists as soon as a phone has had an invitation. It reports whether that
// one was new: inv is the first invitation of its phone, so no other can be
// open (see Create).
func (s *Invitations) writeLookups(ctx context.Context, inv *Invitation) (first bool) {
	docs := []any{lookup{"t:" + inv.Token, inv.ID}, lookup{"d:" + inv.DossierCode, inv.ID}}
	if inv.Respondent != "" {
		docs = append(docs, lookup{"r:" + inv.Respondent, inv.ID})
	}
	had, err := insertSkippingDuplicates(ctx, s.keys, docs) // duplicates: already there
	return inv.Respondent != "" && err == nil && !had[2]
}

// backfillRespondents writes the respondent lookups of invitations made
// before there were any, once per database: without them a phone's next
// invitation would pass for its first while an older one is open.
func (s *Invitations) backfillRespondents(ctx context.Context) error {
	const done = "m:respondents"
	if _, err := findOne[lookup](ctx, s.keys, bson.D{{Key: "_id", Value: done}}); !errors.Is(err, ErrNotFound) {
		return err
	}
	type respondent struct {
		Who string `bson:"respondent"`
	}
	open, err := findAll[respondent](ctx, s.c, bson.D{ // not distinct: FerretDB refuses its maxTimeMS
		{Key: "respondent", Value: bson.D{{Key: "$gt", Value: ""}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{StatusPending, StatusInProgress}}}},
	}, options.Find().SetProjection(bson.D{{Key: "respondent", Value: 1}}))
	if err != nil {
		return fmt.Errorf("backfill respondent lookups: %w", err)
	}
	var docs []any
	seen := map[string]bool{}
	for _, r := range open {
		if !seen[r.Who] {
			seen[r.Who] = true
			docs = append(docs, lookup{ID: "r:" + r.Who})
		}
	}
	if len(docs) > 0 {
		_, err = s.keys.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil && !mongo.IsDuplicateKeyError(err) {
			return fmt.Errorf("backfill respondent lookups: %w", err)
		}
	}
	if _, err := s.keys.InsertOne(ctx, lookup{ID: done}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("backfill respondent lookups: %w", err)
	}
	return nil
}

// byLookup finds an invitation through the lookup collection, falling back
// to a query on field = value; check says the found invitation matches.
func (s *Invitations) byLookup(ctx context.Context, key, field, value string, check func(*Invitation) bool) (*Invitation, error) {
	return s.lookupOrScan(ctx, key, field, value, check, !s.complete)
}

// lookupOrScan is byLookup; scan says whether a missing lookup is looked
// for with a query (reading the whole collection on FerretDB).
func (s *Invitations) lookupOrScan(ctx context.Context, key, field, value string, check func(*Invitation) bool, scan bool) (*Invitation, error) {
	l, err := findOne[lookup](ctx, s.keys, bson.D{{Key: "_id", Value: key}})
	if err == nil {
		inv, err := s.Invitation(ctx, l.Inv)
		if err == nil && check(inv) {
			return inv, nil
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if !scan {
		return nil, ErrNotFound
	}
	inv, err := s.one(ctx, bson.D{{Key: field, Value: value}})
	if err == nil {
		s.writeLookups(ctx, inv)
	}
	return inv, err
}

// backfillLookups writes the token and dossier lookups of invitations made
// before there were any, once per database, so that an unknown token (a
// forged link, a typo) is answered from the lookups alone instead of a
// query that reads every invitation.
func (s *Invitations) backfillLookups(ctx context.Context) error {
	const done = "m:lookups"
	if _, err := findOne[lookup](ctx, s.keys, bson.D{{Key: "_id", Value: done}}); !errors.Is(err, ErrNotFound) {
		s.complete = err == nil
		return err
	}
	type keys struct {
		ID      string `bson:"_id"`
		Token   string `bson:"token"`
		Dossier string `bson:"dossier_code"`
	}
	cur, err := s.c.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "token", Value: 1}, {Key: "dossier_code", Value: 1}}).SetBatchSize(1000))
	if err != nil {
		return fmt.Errorf("backfill invitation lookups: %w", err)
	}
	defer cur.Close(ctx)
	var docs []any
	flush := func() error {
		if len(docs) == 0 {
			return nil
		}
		_, err := s.keys.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		docs = docs[:0]
		return writeErrors(err, func(e mongo.BulkWriteError) bool { return e.Code == 11000 })
	}
	for cur.Next(ctx) {
		var k keys
		if err := cur.Decode(&k); err != nil {
			return fmt.Errorf("backfill invitation lookups: %w", err)
		}
		docs = append(docs, lookup{"t:" + k.Token, k.ID}, lookup{"d:" + k.Dossier, k.ID})
		if len(docs) >= 1000 {
			if err := flush(); err != nil {
				return fmt.Errorf("backfill invitation lookups: %w", err)
			}
		}
	}
	if err := errors.Join(cur.Err(), flush()); err != nil {
		return fmt.Errorf("backfill invitation lookups: %w", err)
	}
	if _, err := s.keys.InsertOne(ctx, lookup{ID: done}); err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("backfill invitation lookups: %w", err)
	}
	s.complete = true
	return nil
}

func (s *Invitations) ensureIndexes(ctx context.Context) error {
	err := createIndexes(ctx, s.c,
		index(bson.D{{Key: "dossier_code", Value: 1}}, true),
		index(bson.D{{Key: "token", Value: 1}}, true),
		index(bson.D{{Key: "agency_code", Value: 1}, {Key: "created_at", Value: 1}}, false),
		index(bson.D{{Key: "respondent", Value: 1}, {Key: "created_at", Value: 1}}, false),
		index(bson.D{{Key: "created_at", Value: 1}}, false), // the retention sweep
	)
	if err != nil {
		return err
	}
	if err := s.backfillLookups(ctx); err != nil {
		return err
	}
	return s.backfillRespondents(ctx)
}

// Create inserts inv. When the dossier already has an invitation it returns
// that one and created=false: the unique index decides, so concurrent
// requests for one dossier make exactly one invitation. first reports that
// inv is the first invitation ever made for its phone (false when unsure),
// so no other invitation of that phone can be open.
func (s *Invitations) Create(ctx context.Context, inv *Invitation) (got *Invitation, created, first bool, err error) {
	rs, err := s.CreateMany(ctx, []*Invitation{inv})
	if err != nil {
		return nil, false, false, err
	}
	r := rs[0]
	return r.Invitation, r.Created, r.First, r.Err
}

func (s *Invitations) one(ctx context.Context, filter bson.D) (*Invitation, error) {
	return findOne[Invitation](ctx, s.c, filter)
}

// Invitation returns the invitation with id.
func (s *Invitations) Invitation(ctx context.Context, id string) (*Invitation, error) {
	return s.one(ctx, bson.D{{Key: "_id", Value: id}})
}

// Surveys returns the survey each of the invitations ids named (those
// that exist), read by _id.
func (s *Invitations) Surveys(ctx context.Context, ids []string) (map[string]string, error) {
	found, err := byIDs[Invitation](ctx, s.c, ids, options.FindOne().SetProjection(bson.D{{Key: "survey", Value: 1}}))
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(found))
	for _, inv := range found {
		out[inv.ID] = inv.Survey
	}
	return out, nil
}

// ByToken returns the invitation a survey token belongs to.
func (s *Invitations) ByToken(ctx context.Context, token string) (*Invitation, error) {
	return s.byLookup(ctx, "t:"+token, "token", token, func(inv *Invitation) bool { return inv.Token == token })
}

// ByDossier returns the invitation of a dossier code.
func (s *Invitations) ByDossier(ctx context.Context, code string) (*Invitation, error) {
	return s.byLookup(ctx, "d:"+code, "dossier_code", code, func(inv *Invitation) bool { return inv.DossierCode == code })
}

// MarkStarted moves a pending invitation to in_progress; other states stay.
func (s *Invitations) MarkStarted(ctx context.Context, id string, at time.Time) error {
	return s.MarkStartedAt(ctx, map[string]time.Time{id: at})
}

// statusOf is the part of an invitation the roll-up writer reads before it
// changes a status.
type statusOf struct {
	ID     string `bson:"_id"`
	Status Status `bson:"status"`
}

// setStatuses reads the invitations of ids by _id and writes set(id) to
// those whose status is one of from, in one unordered bulk write of updates
// by _id alone: FerretDB looks up no other filter by index, so
// {_id: {$in: …}, status: …} would read the whole collection.
func (s *Invitations) setStatuses(ctx context.Context, ids []string, from []Status, set func(id string) bson.D) error {
	invs, err := byIDs[statusOf](ctx, s.c, ids, options.FindOne().SetProjection(bson.D{{Key: "status", Value: 1}}))
	if err != nil {
		return err
	}
	var models []mongo.WriteModel
	for _, inv := range invs {
		if slices.Contains(from, inv.Status) {
			models = append(models, mongo.NewUpdateOneModel().
				SetFilter(bson.D{{Key: "_id", Value: inv.ID}}).
				SetUpdate(bson.D{{Key: "$set", Value: set(inv.ID)}}))
		}
	}
	if len(models) == 0 {
		return nil
	}
	return bulkWrite(ctx, s.c, models)
}

// MarkStartedAt moves the pending invitations among starts (id → when)
// to in_progress.
func (s *Invitations) MarkStartedAt(ctx context.Context, starts map[string]time.Time) error {
	ids := make([]string, 0, len(starts))
	for id := range starts {
		ids = append(ids, id)
	}
	err := Write(ctx, "invitations.started", func(ctx context.Context) error {
		return s.setStatuses(ctx, ids, []Status{StatusPending}, func(id string) bson.D {
			return bson.D{{Key: "status", Value: StatusInProgress}, {Key: "started_at", Value: Millis(starts[id])}}
		})
	})
	if err != nil {
		return fmt.Errorf("mark %d invitations started: %w", len(ids), err)
	}
	return nil
}

// markedOf is the part of an invitation Mark reads before it writes.
type markedOf struct {
	ID         string               `bson:"_id"`
	Status     Status               `bson:"status"`
	Opened     map[string]time.Time `bson:"opened"`
	StartedVia string               `bson:"started_via"`
	StartedAt  *time.Time           `bson:"started_at"`
}

// Marks is what one roll-up batch records on its invitations: the first
// time each was opened on a family (Opened: id → family → when), the
// family it was started on (Started: id → family), and the responses that
// completed them (Completed).
type Marks struct {
	Opened    map[string]map[string]time.Time
	Started   map[string]string
	Completed []*Response
	// Open holds invitations known to be neither opted out nor erased
	// (their working copies say so: InvitationCache.Open). Those are
	// written without being read first: their completion by the one
	// response they can have, their openings with $min (the first opening
	// stays), their start's family as given (Started holds only the
	// first start an invitation ever counted: its counted mark is one per
	// invitation, so a later batch never brings another).
	Open map[string]bool
}

// IDs are the invitations m records something on, each once.
func (m Marks) IDs() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(id string) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, r := range m.Completed {
		add(r.InvitationID)
	}
	for _, id := range slices.Sorted(maps.Keys(m.Opened)) {
		add(id)
	}
	for _, id := range slices.Sorted(maps.Keys(m.Started)) {
		add(id)
	}
	return ids
}

// Mark writes m, each invitation read once and written once by _id
// (FerretDB looks up no other filter by index, and a single read and
// write per invitation costs it a third of one per mark). It sets only
// what is missing, so a replay changes nothing: an opening or a start
// already recorded stays; the first response to complete an invitation
// wins, and only a pending, in-progress or expired one is completed (an
// opted-out invitation stays opted out); a completion records the
// response's start as the invitation's where none was recorded (the
// writer does not mark started an invitation answered already).
func (s *Invitations) Mark(ctx context.Context, m Marks) error {
	completed := make(map[string]*Response, len(m.Completed))
	for _, r := range m.Completed {
		if completed[r.InvitationID] == nil {
			completed[r.InvitationID] = r
		}
	}
	ids := m.IDs()
	if len(ids) == 0 {
		return nil
	}
	var read []string
	var models []mongo.WriteModel
	for _, id := range ids {
		if !m.Open[id] {
			read = append(read, id)
			continue
		}
		var set, least bson.D
		if r := completed[id]; r != nil {
			set = bson.D{{Key: "status", Value: StatusCompleted}, {Key: "completed_via", Value: r.Channel}, {Key: "completed_at", Value: Millis(r.SubmittedAt)}}
			least = bson.D{{Key: "started_at", Value: Millis(r.StartedAt)}}
		}
		if f := m.Started[id]; f != "" {
			set = append(set, bson.E{Key: "started_via", Value: f})
		}
		for _, f := range slices.Sorted(maps.Keys(m.Opened[id])) {
			least = append(least, bson.E{Key: "opened." + f, Value: Millis(m.Opened[id][f])})
		}
		var update bson.D
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		if len(least) > 0 {
			update = append(update, bson.E{Key: "$min", Value: least})
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}).SetUpdate(update))
	}
	err := Write(ctx, "invitations.marks", func(ctx context.Context) error {
		invs, err := byIDs[markedOf](ctx, s.c, read, options.FindOne().SetProjection(bson.D{{Key: "status", Value: 1}, {Key: "opened", Value: 1}, {Key: "started_via", Value: 1}, {Key: "started_at", Value: 1}}))
		if err != nil {
			return err
		}
		models := slices.Clip(models) // a retry starts from the blind writes again
		for _, inv := range invs {
			var set bson.D
			for _, f := range slices.Sorted(maps.Keys(m.Opened[inv.ID])) {
				if _, ok := inv.Opened[f]; !ok {
					set = append(set, bson.E{Key: "opened." + f, Value: Millis(m.Opened[inv.ID][f])})
				}
			}
			if f := m.Started[inv.ID]; f != "" && inv.StartedVia == "" {
				set = append(set, bson.E{Key: "started_via", Value: f})
			}
			if r := completed[inv.ID]; r != nil && slices.Contains([]Status{StatusPending, StatusInProgress, StatusExpired}, inv.Status) {
				set = append(set, bson.E{Key: "status", Value: StatusCompleted}, bson.E{Key: "completed_via", Value: r.Channel},
					bson.E{Key: "completed_at", Value: Millis(r.SubmittedAt)})
				if inv.StartedAt == nil {
					set = append(set, bson.E{Key: "started_at", Value: Millis(r.StartedAt)})
				}
			}
			if len(set) > 0 {
				models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: inv.ID}}).
					SetUpdate(bson.D{{Key: "$set", Value: set}}))
			}
		}
		if len(models) == 0 {
			return nil
		}
		return bulkWrite(ctx, s.c, models)
	})
	if err != nil {
		return fmt.Errorf("record the opening, start and completion of %d invitations: %w", len(ids), err)
	}
	return nil
}

// OpenOf returns every invitation of a phone (by its keyed hash) that can
// still be answered at now, newest first. FerretDB scans the collection for
// it, so replies find invitations through Conversations' index instead, and
// only an incomplete index comes here.
func (s *Invitations) OpenOf(ctx context.Context, respondent string, now time.Time) ([]*Invitation, error) {
	return findAll[*Invitation](ctx, s.c, bson.D{
		{Key: "respondent", Value: respondent},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{StatusPending, StatusInProgress}}}},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}},
	}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}))
}

// EachOpenWithPhone streams the invitations with a phone that can still be
// answered at now (start-up only: a scan on FerretDB).
func (s *Invitations) EachOpenWithPhone(ctx context.Context, now time.Time, fn func(*Invitation) error) error {
	return s.each(ctx, bson.D{
		{Key: "respondent", Value: bson.D{{Key: "$gt", Value: ""}}},
		{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{StatusPending, StatusInProgress}}}},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: now}}},
	}, fn)
}

// Each streams every invitation to fn (rebuilds only: it reads the whole
// collection); fn's error stops the stream.
func (s *Invitations) Each(ctx context.Context, fn func(*Invitation) error) error {
	return s.each(ctx, bson.D{}, fn)
}

func (s *Invitations) each(ctx context.Context, filter bson.D, fn func(*Invitation) error) error {
	return each(ctx, s.c, filter, options.Find().SetBatchSize(1000), fn)
}

// MarkOptedOut closes an open invitation at the citizen's request.
func (s *Invitations) MarkOptedOut(ctx context.Context, id string) error {
	err := s.setStatuses(ctx, []string{id}, []Status{StatusPending, StatusInProgress}, func(string) bson.D {
		return bson.D{{Key: "status", Value: StatusOptedOut}}
	})
	if err != nil {
		return fmt.Errorf("mark invitation %s opted out: %w", id, err)
	}
	return nil
}

// SetSend records how sending through a channel went.
func (s *Invitations) SetSend(ctx context.Context, id, channel string, st SendStatus) error {
	st.At = Millis(st.At)
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "sends." + channel, Value: st}}}})
	if err != nil {
		return fmt.Errorf("record send of %s via %s: %w", id, channel, err)
	}
	return nil
}

// InvitationFilter selects invitations to count.
type InvitationFilter struct {
	Agencies     []string
	From, To     time.Time // created_at, To exclusive
	SentOn       []string  // channel ids: sent or delivered on one of them
	CompletedVia string
}

// Count counts the invitations f selects.
func (s *Invitations) Count(ctx context.Context, f InvitationFilter) (int64, error) {
	q := bson.D{}
	if len(f.Agencies) > 0 {
		q = append(q, bson.E{Key: "agency_code", Value: bson.D{{Key: "$in", Value: f.Agencies}}})
	}
	q = between(q, "created_at", f.From, f.To)
	if len(f.SentOn) > 0 {
		var or bson.A
		for _, ch := range f.SentOn {
			or = append(or, bson.D{{Key: "sends." + ch + ".status", Value: bson.D{{Key: "$in", Value: bson.A{SendSent, SendDelivered}}}}})
		}
		q = append(q, bson.E{Key: "$or", Value: or})
	}
	if f.CompletedVia != "" {
		q = append(q, bson.E{Key: "status", Value: StatusCompleted}, bson.E{Key: "completed_via", Value: f.CompletedVia})
	}
	n, err := s.c.CountDocuments(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("count invitations: %w", err)
	}
	return n, nil
}

// ByIDs returns the invitations of ids that exist, by id (one _id read
// each, a few at a time).
func (s *Invitations) ByIDs(ctx context.Context, ids []string) (map[string]*Invitation, error) {
	return mapByIDs(ctx, s.c, ids, func(inv *Invitation) string { return inv.ID })
}

// EachStored streams every invitation to fn in the collection's stored
// order, skipping the first skip without decoding more than their ids
// (a resumed backfill); fn's error stops the stream.
func (s *Invitations) EachStored(ctx context.Context, skip int64, fn func(*Invitation) error) error {
	return each(ctx, s.c, bson.D{}, options.Find().SetBatchSize(1000).SetSkip(skip), fn)
}

// StoredAt is the id of the invitation at pos (from 0) in stored order,
// or "" past the end: a resumed backfill checks it is where it stopped.
func (s *Invitations) StoredAt(ctx context.Context, pos int64) (string, error) {
	type id struct {
		ID string `bson:"_id"`
	}
	v, err := findOne[id](ctx, s.c, bson.D{}, options.FindOne().SetSkip(pos).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if errors.Is(err, ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return v.ID, nil
}
