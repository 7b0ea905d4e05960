package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Channel is an operator-configured way to reach citizens (an SMS provider
// account, a Zalo OA). Secrets are sealed with the Sealer and never leave
// the store unsealed except to the code that calls the provider.
type Channel struct {
	ID       string            `bson:"_id"`
	Type     string            `bson:"type"`
	Enabled  bool              `bson:"enabled"`
	Settings map[string]any    `bson:"settings"`
	Secrets  map[string][]byte `bson:"secrets"`
	Updated  time.Time         `bson:"updated_at"`
	// TokenExpires is when the access token (Zalo) stops working.
	TokenExpires time.Time `bson:"token_expires_at,omitempty"`
	// Prompts names the recordings uploaded for a voice channel's calls,
	// each with its version (Unix ms of the upload): see Mongo.PutPrompt.
	Prompts map[string]int64 `bson:"prompts,omitempty"`
}

// Channels is the channels collection.
type Channels struct{ c *mongo.Collection }

func (s *Channels) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "type", Value: 1}}, false))
}

// Put creates or replaces a channel.
func (s *Channels) Put(ctx context.Context, ch *Channel) error {
	_, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: ch.ID}}, ch, options.Replace().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("save channel %s: %w", ch.ID, err)
	}
	return nil
}

// Channel returns one channel.
func (s *Channels) Channel(ctx context.Context, id string) (*Channel, error) {
	return findOne[Channel](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// All returns every channel, by id.
func (s *Channels) All(ctx context.Context) ([]Channel, error) {
	return findAll[Channel](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}

// SetSecrets replaces some sealed secrets (and the token expiry) in one
// write, so a new single-use refresh token is stored before its access
// token is used.
func (s *Channels) SetSecrets(ctx context.Context, id string, secrets map[string][]byte, expires time.Time) error {
	set := bson.D{{Key: "token_expires_at", Value: Millis(expires)}}
	for k, v := range secrets {
		set = append(set, bson.E{Key: "secrets." + k, Value: v})
	}
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return fmt.Errorf("store secrets of %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// Delete removes a channel; ErrNotFound if there was none.
func (s *Channels) Delete(ctx context.Context, id string) error {
	res, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	if err != nil {
		return fmt.Errorf("delete channel %s: %w", id, err)
	}
	if res.DeletedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// OptOuts records numbers (as keyed hashes) that asked to hear no more.
type OptOuts struct{ c *mongo.Collection }

func (s *OptOuts) ensureIndexes(context.Context) error { return nil } // _id is the hash

// Add records an opt-out; repeating it is harmless.
func (s *OptOuts) Add(ctx context.Context, respondent, channel string, at time.Time) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: respondent}},
		bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "channel", Value: channel}, {Key: "at", Value: Millis(at)}}}},
		options.Update().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("record opt-out: %w", err)
	}
	return nil
}

// Remove forgets an opt-out: the citizen asked for a survey again.
func (s *OptOuts) Remove(ctx context.Context, respondent string) error {
	_, err := s.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: respondent}})
	return err
}

// Has reports whether the respondent opted out.
func (s *OptOuts) Has(ctx context.Context, respondent string) (bool, error) {
	n, err := s.c.CountDocuments(ctx, bson.D{{Key: "_id", Value: respondent}})
	if err != nil {
		return false, fmt.Errorf("check opt-out: %w", err)
	}
	return n > 0, nil
}

// Message is one text the gateway sent, with what it cost.
type Message struct {
	ID         string    `bson:"_id"`
	Channel    string    `bson:"channel"`
	Invitation string    `bson:"invitation_id,omitempty"`
	Respondent string    `bson:"respondent,omitempty"`
	Kind       string    `bson:"kind"` // invite, reply
	Encoding   string    `bson:"encoding"`
	Parts      int       `bson:"parts"`
	ProviderID string    `bson:"provider_id,omitempty"`
	At         time.Time `bson:"at"`
	// Agency, Month and Survey are its invitation's agency, creation month
	// and survey (a feedback case's answer: the case's agency and opening
	// month, no survey): the cost figures count it there, as the response
	// rate counts the invitation. Empty on messages logged before they
	// were kept (the roll-up rebuild reads them from the invitation).
	Agency string `bson:"agency,omitempty"`
	Month  string `bson:"month,omitempty"`
	Survey string `bson:"survey,omitempty"`
	// Text goes to the invitation's transcript, not to this cost log.
	Text string `bson:"-" json:"text,omitempty"`
	// Outcome and Answers, on a call's record (Kind "call"): how it went
	// (answered, busy, no_answer, machine, failed) and how many questions
	// were answered in it, for the report's call figures (CallEvents).
	Outcome string `bson:"outcome,omitempty" json:"outcome,omitempty"`
	Answers int    `bson:"answers,omitempty" json:"answers,omitempty"`
}

// Line is m as a line of its invitation's transcript.
func (m *Message) Line() Line {
	return Line{Key: m.ID, At: m.At, Channel: m.Channel, Kind: m.Kind, Text: m.Text, Encoding: m.Encoding, Parts: m.Parts}
}

// Messages is the log of sent messages, for cost accounting (their texts
// are in Transcripts).
type Messages struct{ c *mongo.Collection }

func (s *Messages) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "provider_id", Value: 1}}, false),
		index(bson.D{{Key: "channel", Value: 1}, {Key: "at", Value: 1}}, false))
}

// Record logs sent messages.
func (s *Messages) Record(ctx context.Context, msgs ...*Message) error {
	if len(msgs) == 0 {
		return nil
	}
	docs := make([]any, len(msgs))
	size := 0
	for _, m := range msgs {
		size += m.bsonSize()
	}
	buf := make([]byte, 0, size) // the records' BSON, one buffer for all
	for i, m := range msgs {
		m.At = Millis(m.At)
		start := len(buf)
		buf = m.appendBSON(buf)
		docs[i] = bson.Raw(buf[start:len(buf):len(buf)])
	}
	_, err := s.c.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if err = writeErrors(err, func(e mongo.BulkWriteError) bool { return e.Code == 11000 }); err != nil {
		return fmt.Errorf("record %d messages: %w", len(msgs), err) // a retry's record already there is fine
	}
	return nil
}

// Each streams every logged message to fn (rebuilds only: it reads the
// whole log); fn's error stops the stream.
func (s *Messages) Each(ctx context.Context, fn func(*Message) error) error {
	return each(ctx, s.c, bson.D{}, options.Find().SetBatchSize(1000), fn)
}

// ProviderMessageID is the _id of the record of a message a provider knows
// by id on a channel, so that its delivery receipt finds it by _id (any
// other filter reads the whole log on FerretDB).
func ProviderMessageID(channel, providerID string) string { return "p:" + channel + ":" + providerID }

// ByProviderID returns the message a provider knows by id on a channel.
func (s *Messages) ByProviderID(ctx context.Context, channel, id string) (*Message, error) {
	return findOne[Message](ctx, s.c, bson.D{{Key: "_id", Value: ProviderMessageID(channel, id)}})
}

// Links ties a chat user (a Zalo follower) to a phone's keyed hash, once the
// user shared the number or started a dossier's survey.
type Links struct{ c *mongo.Collection }

func (s *Links) ensureIndexes(context.Context) error { return nil }

// Link records that user of channel is respondent.
func (s *Links) Link(ctx context.Context, channel, user, respondent string) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: channel + ":" + user}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "respondent", Value: respondent}}}}, options.Update().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("link %s user: %w", channel, err)
	}
	return nil
}

// ReplyTo records the chat user an invitation's conversation was with, so
// an answer to its follow-up case can go back there.
func (s *Links) ReplyTo(ctx context.Context, invitation, channel, user string) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: "inv:" + invitation}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "channel", Value: channel}, {Key: "user", Value: user}}}}, options.Update().SetUpsert(true))
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return fmt.Errorf("note the chat of invitation %s: %w", invitation, err)
	}
	return nil
}

// ChatOf returns the channel and chat user of an invitation's
// conversation, or ErrNotFound.
func (s *Links) ChatOf(ctx context.Context, invitation string) (channel, user string, err error) {
	doc, err := findOne[struct {
		Channel string `bson:"channel"`
		User    string `bson:"user"`
	}](ctx, s.c, bson.D{{Key: "_id", Value: "inv:" + invitation}})
	if err != nil {
		return "", "", err
	}
	return doc.Channel, doc.User, nil
}

// Respondent returns the linked respondent of a chat user, or ErrNotFound.
func (s *Links) Respondent(ctx context.Context, channel, user string) (string, error) {
	doc, err := findOne[struct {
		Respondent string `bson:"respondent"`
	}](ctx, s.c, bson.D{{Key: "_id", Value: channel + ":" + user}})
	if err != nil {
		return "", err
	}
	return doc.Respondent, nil
}

// OptOutView keeps each citizen's latest opt-out answer in Redis, so that
// an opt-out (or a new consent) takes effect at once, while MongoDB gets it
// through the message-log stream (see core.Service.OptOut). The view is
// the truth while it holds an answer; MongoDB answers for the rest.
type OptOutView struct {
	R    redis.UniversalClient
	Name string
}

func (v *OptOutView) key(who string) string { return "gw:optout:" + v.Name + ":{" + who + "}" }

// Queue records who's answer (out: opted out) in p.
func (v *OptOutView) Queue(ctx context.Context, p redis.Pipeliner, who string, out bool) {
	p.Set(ctx, v.key(who), flag(out), 0)
}

// QueueClosed notes in p that an opt-out closed the invitation, until
// MongoDB has it (the mark outlives any invitation).
func (v *OptOutView) QueueClosed(ctx context.Context, p redis.Pipeliner, invitation string) {
	p.Set(ctx, "gw:optout:"+v.Name+":inv:"+invitation, "1", 400*24*time.Hour)
}

// Closed reports whether an opt-out closed the invitation.
func (v *OptOutView) Closed(ctx context.Context, invitation string) bool {
	n, err := v.R.Exists(ctx, "gw:optout:"+v.Name+":inv:"+invitation).Result()
	return err == nil && n == 1
}

// Get returns who's latest answer, and whether the view holds one.
func (v *OptOutView) Get(ctx context.Context, who string) (out, known bool, err error) {
	s, err := v.R.Get(ctx, v.key(who)).Result()
	if errors.Is(err, redis.Nil) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("opt-out view: %w", err)
	}
	return s == "1", true, nil
}

// OptOutEvent is an opt-out (or a consent again) on its way to MongoDB.
type OptOutEvent struct {
	Who        string    `json:"w"`
	Out        bool      `json:"o"`
	Channel    string    `json:"c,omitempty"`
	Invitation string    `json:"i,omitempty"` // closed by the opt-out
	At         time.Time `json:"t"`
}

// ApplyOptOut writes the event to MongoDB; applying it twice is harmless.
func (m *Mongo) ApplyOptOut(ctx context.Context, e OptOutEvent) error {
	if !e.Out {
		return m.OptOuts.Remove(ctx, e.Who)
	}
	if err := m.OptOuts.Add(ctx, e.Who, e.Channel, e.At); err != nil {
		return err
	}
	if e.Invitation != "" {
		return m.Invitations.MarkOptedOut(ctx, e.Invitation)
	}
	return nil
}

// SpendUnits is what message m costs, in its family's units (see
// FunnelSpent): SMS parts; one ZNS template message (a Zalo chat reply is
// free); call minutes (Parts, for a call). 0: nothing to pay.
func SpendUnits(family string, m *Message) int64 {
	switch family {
	case "sms", "voice":
		return int64(m.Parts)
	case "zalo":
		if m.Encoding == EncodingZNS {
			return 1
		}
	}
	return 0
}

// KindCall is the Kind of a call's record: Parts its billed minutes.
const KindCall = "call"

// CallEvents are the call figures' events of message m, a call's record:
// one call of its outcome, and the questions answered in it; none for
// another message, or one that names no agency.
func (m *Message) CallEvents() []FunnelEvent {
	if m.Kind != KindCall || m.Outcome == "" || m.Agency == "" || m.Month == "" || m.Invitation == "" {
		return nil
	}
	e := FunnelEvent{Step: CallStep + m.Outcome, Invitation: m.Invitation, Agency: m.Agency, Month: m.Month,
		Family: "voice", Survey: m.Survey, Units: 1, Key: m.ID}
	out := []FunnelEvent{e}
	if m.Answers > 0 {
		e.Step, e.Units = CallAnswersStep, int64(m.Answers)
		out = append(out, e)
	}
	return out
}

// EncodingZNS is the Encoding of a Zalo template (ZNS) message, sent to a
// phone number and paid per message.
const EncodingZNS = "zns"

// SpentEvent is the cost event of message m sent on a channel of family;
// ok is false when it costs nothing or names no agency.
func (m *Message) SpentEvent(family string) (e FunnelEvent, ok bool) {
	u := SpendUnits(family, m)
	if u == 0 || m.Agency == "" || m.Month == "" {
		return FunnelEvent{}, false
	}
	return FunnelEvent{Step: FunnelSpent, Invitation: m.Invitation, Agency: m.Agency, Month: m.Month,
		Family: family, Survey: m.Survey, Units: u, Key: m.ID}, true
}
