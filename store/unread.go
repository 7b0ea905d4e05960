package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Statuses of a reply the gateway did not understand.
const (
	UnreadOpen      = "open"      // waiting for an operator
	UnreadResolved  = "resolved"  // an operator entered the scores it meant
	UnreadDismissed = "dismissed" // it held no scores ("cảm ơn", a question)
)

// UnreadReply is a citizen's chat or SMS reply the reader could not read,
// kept whole so that an operator can read it. It holds the phone number
// masked only.
type UnreadReply struct {
	ID         string      `bson:"_id" json:"id"`
	Invitation string      `bson:"invitation_id" json:"invitation_id"`
	Survey     string      `bson:"survey" json:"survey"`
	Agency     string      `bson:"agency_code" json:"agency_code"`
	Channel    string      `bson:"channel" json:"channel"` // the channel's id
	Family     string      `bson:"family" json:"family"`   // sms, zalo
	Phone      string      `bson:"phone_masked,omitempty" json:"phone_masked,omitempty"`
	Text       string      `bson:"text" json:"text"`
	Answered   []int       `bson:"answered,omitempty" json:"answered,omitempty"` // scores the conversation had then, -1 unanswered
	At         time.Time   `bson:"at" json:"at"`
	Status     string      `bson:"status" json:"status"`
	Resolution *Resolution `bson:"resolution,omitempty" json:"resolution,omitempty"`
}

// Resolution is what an operator made of an unread reply.
type Resolution struct {
	Scores    map[string]int `bson:"scores,omitempty" json:"scores,omitempty"`
	Comment   string         `bson:"comment,omitempty" json:"comment,omitempty"`
	Note      string         `bson:"note,omitempty" json:"note,omitempty"`
	EnteredBy string         `bson:"entered_by" json:"entered_by"`
	At        time.Time      `bson:"at" json:"at"`
	Response  string         `bson:"response_id,omitempty" json:"response_id,omitempty"`
}

// Unread is the list of replies not understood.
type Unread struct{ c *mongo.Collection }

func (s *Unread) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "status", Value: 1}, {Key: "agency_code", Value: 1}, {Key: "at", Value: -1}}, false))
}

// Record adds replies; one recorded before (a retried delivery) is kept.
func (s *Unread) Record(ctx context.Context, rs ...*UnreadReply) error {
	if len(rs) == 0 {
		return nil
	}
	docs := make([]any, len(rs))
	for i, r := range rs {
		r.At = Millis(r.At)
		if r.Status == "" {
			r.Status = UnreadOpen
		}
		docs[i] = r
	}
	if _, err := insertSkippingDuplicates(ctx, s.c, docs); err != nil {
		return fmt.Errorf("record %d unread replies: %w", len(rs), err)
	}
	return nil
}

// ByID returns one reply or ErrNotFound.
func (s *Unread) ByID(ctx context.Context, id string) (*UnreadReply, error) {
	return findOne[UnreadReply](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// List returns up to limit replies of status (any when empty) in agencies
// (any when nil), newest first, older than before when it is set. The
// list is a few percent of chat replies; on MongoDB it reads its index.
func (s *Unread) List(ctx context.Context, status string, agencies []string, before time.Time, limit int64) ([]UnreadReply, error) {
	f := bson.D{}
	if status != "" {
		f = append(f, bson.E{Key: "status", Value: status})
	}
	if agencies != nil {
		f = append(f, bson.E{Key: "agency_code", Value: bson.D{{Key: "$in", Value: agencies}}})
	}
	if !before.IsZero() {
		f = append(f, bson.E{Key: "at", Value: bson.D{{Key: "$lt", Value: before}}})
	}
	return findAll[UnreadReply](ctx, s.c, f, options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: 1}}).SetLimit(limit))
}

// ErrSettled means a reply was resolved or dismissed already.
var ErrSettled = errors.New("this reply was already settled")

// Settle records an operator's resolution of an open reply, once.
func (s *Unread) Settle(ctx context.Context, id, status string, res Resolution) error {
	res.At = Millis(res.At)
	r, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: UnreadOpen}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "resolution", Value: res}}}})
	if err != nil {
		return fmt.Errorf("settle unread reply %s: %w", id, err)
	}
	if r.MatchedCount == 0 {
		return ErrSettled
	}
	return nil
}
