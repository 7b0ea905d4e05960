package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

// Line is one text of an invitation's conversation: sent by the gateway
// (an invitation, a reply) or received from the citizen.
type Line struct {
	Key      string    `bson:"k" json:"-"` // the message record's id: a line written twice is kept once
	At       time.Time `bson:"at" json:"at"`
	Channel  string    `bson:"ch" json:"channel"`
	Kind     string    `bson:"kind" json:"kind"` // invite, reply, received
	Text     string    `bson:"text" json:"text"`
	Encoding string    `bson:"enc,omitempty" json:"encoding,omitempty"`
	Parts    int       `bson:"parts,omitempty" json:"parts"`
}

// Received is the kind of a line the citizen sent.
const Received = "received"

// Transcript is the conversation of one invitation, one document whose
// _id is the invitation's, so reading it costs one lookup by _id.
type Transcript struct {
	ID         string    `bson:"_id"`
	Respondent string    `bson:"respondent,omitempty"`
	Created    time.Time `bson:"created_at"` // its first line's time: the retention sweep counts from it
	Lines      []Line    `bson:"m"`
}

// Transcripts keeps each invitation's conversation.
type Transcripts struct {
	c  *mongo.Collection
	mu sync.Mutex // one append at a time in a process
}

func (s *Transcripts) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "created_at", Value: 1}}, false), // the retention sweep
		index(bson.D{{Key: "respondent", Value: 1}}, false)) // erasure
}

// Appended is lines to add to an invitation's transcript.
type Appended struct {
	Invitation, Respondent string
	Lines                  []Line
}

// Append adds lines to invitations' transcripts, one update each in one
// round trip; a line already there is kept once (a batch written again
// after a failure adds nothing). Appends in a process take turns: FerretDB
// applies an update by reading and writing the document back, so two at
// once on one invitation could lose a line (on MongoDB each is atomic).
func (s *Transcripts) Append(ctx context.Context, batch ...Appended) error {
	models := make([]mongo.WriteModel, 0, len(batch))
	for _, a := range batch {
		if len(a.Lines) == 0 {
			continue
		}
		first := Millis(a.Lines[0].At)
		for i := range a.Lines {
			a.Lines[i].At = Millis(a.Lines[i].At)
			if a.Lines[i].At.Before(first) {
				first = a.Lines[i].At
			}
		}
		u := bson.D{
			{Key: "$addToSet", Value: bson.D{{Key: "m", Value: bson.D{{Key: "$each", Value: a.Lines}}}}},
			{Key: "$setOnInsert", Value: bson.D{{Key: "created_at", Value: first}}},
		}
		if a.Respondent != "" {
			u = append(u, bson.E{Key: "$set", Value: bson.D{{Key: "respondent", Value: a.Respondent}}})
		}
		models = append(models, mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: a.Invitation}}).SetUpdate(u).SetUpsert(true))
	}
	if len(models) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.c.BulkWrite(ctx, models); err != nil {
		return fmt.Errorf("append to %d transcripts: %w", len(models), err)
	}
	return nil
}

// Get returns an invitation's transcript, its lines in time order; an
// invitation without one has an empty transcript.
func (s *Transcripts) Get(ctx context.Context, invitation string) (*Transcript, error) {
	t, err := findOne[Transcript](ctx, s.c, bson.D{{Key: "_id", Value: invitation}})
	if errors.Is(err, ErrNotFound) {
		return &Transcript{ID: invitation}, nil
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(t.Lines, func(a, b Line) int { return a.At.Compare(b.At) })
	return t, nil
}

// DeleteBefore deletes the transcripts that began before t (the retention
// sweep: a periodic pass, which reads the whole collection on FerretDB).
func (s *Transcripts) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.c.DeleteMany(ctx, bson.D{{Key: "created_at", Value: bson.D{{Key: "$lt", Value: Millis(t)}}}})
	if err != nil {
		return 0, fmt.Errorf("delete transcripts: %w", err)
	}
	return res.DeletedCount, nil
}
