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
	// Claim is an operator's resolve under way: until it ends, or its
	// time runs out, no one else resolves or dismisses the reply.
	Claim *UnreadClaim `bson:"claim,omitempty" json:"-"`
}

// UnreadClaim holds an open reply for one operator's resolve, which
// stores a response before it settles the reply: the claim comes first,
// so no dismiss or second resolve can land in between.
type UnreadClaim struct {
	Token string    `bson:"token"`
	By    string    `bson:"by"`
	Until time.Time `bson:"until"` // a resolve cut short frees the reply then
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

// ErrClaimed means an operator's resolve holds the reply now.
var ErrClaimed = errors.New("an operator is resolving this reply now")

// unclaimed matches an open reply no live claim holds, or the one token
// names ("" names none).
func unclaimed(id, token string, now time.Time) bson.D {
	free := bson.A{
		bson.D{{Key: "claim", Value: nil}}, // absent or null
		bson.D{{Key: "claim.until", Value: bson.D{{Key: "$lte", Value: now}}}},
	}
	if token != "" {
		free = append(free, bson.D{{Key: "claim.token", Value: token}})
	}
	return bson.D{{Key: "_id", Value: id}, {Key: "status", Value: UnreadOpen}, {Key: "$or", Value: free}}
}

// Claim holds an open reply for a resolve, in one conditional write: of
// two at once, one gets it. ErrSettled when it is no longer open,
// ErrClaimed when another claim holds it.
func (s *Unread) Claim(ctx context.Context, id string, c UnreadClaim, now time.Time) error {
	c.Until = Millis(c.Until)
	r, err := s.c.UpdateOne(ctx, unclaimed(id, "", Millis(now)), bson.D{{Key: "$set", Value: bson.D{{Key: "claim", Value: c}}}})
	if err != nil {
		return fmt.Errorf("claim unread reply %s: %w", id, err)
	}
	if r.MatchedCount == 0 {
		return s.whyNot(ctx, id)
	}
	return nil
}

// Release frees a reply its claim (token) holds, when the resolve did
// not go through.
func (s *Unread) Release(ctx context.Context, id, token string) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "claim.token", Value: token}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "claim", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("release unread reply %s: %w", id, err)
	}
	return nil
}

// Settle records an operator's resolution of an open reply, once: a
// dismiss (token "") only when no claim holds it, a resolve with the
// token of its claim. ErrSettled or ErrClaimed say why it did not.
func (s *Unread) Settle(ctx context.Context, id, status string, res Resolution, token string, now time.Time) error {
	res.At = Millis(res.At)
	r, err := s.c.UpdateOne(ctx, unclaimed(id, token, Millis(now)),
		bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: status}, {Key: "resolution", Value: res}}}, {Key: "$unset", Value: bson.D{{Key: "claim", Value: ""}}}})
	if err != nil {
		return fmt.Errorf("settle unread reply %s: %w", id, err)
	}
	if r.MatchedCount == 0 {
		return s.whyNot(ctx, id)
	}
	return nil
}

// whyNot says why a conditional write of reply id matched nothing.
func (s *Unread) whyNot(ctx context.Context, id string) error {
	u, err := s.ByID(ctx, id)
	switch {
	case err != nil:
		return err
	case u.Status != UnreadOpen:
		return ErrSettled
	}
	return ErrClaimed
}

// ByIDs returns the replies with the given ids (those that exist), by
// _id lookups.
func (s *Unread) ByIDs(ctx context.Context, ids []string) ([]UnreadReply, error) {
	return byIDs[UnreadReply](ctx, s.c, ids)
}

// EachOpen streams the open replies to fn (a start-time pass: a query on
// status, which FerretDB answers with a scan).
func (s *Unread) EachOpen(ctx context.Context, fn func(*UnreadReply) error) error {
	return each(ctx, s.c, bson.D{{Key: "status", Value: UnreadOpen}}, options.Find().SetBatchSize(500), fn)
}
