package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
)

func unset(ctx context.Context, c *mongo.Collection, filter bson.D, fields ...string) (int64, error) {
	u := bson.D{}
	for _, f := range fields {
		u = append(u, bson.E{Key: f, Value: ""})
	}
	res, err := c.UpdateMany(ctx, filter, bson.D{{Key: "$unset", Value: u}})
	if err != nil {
		return 0, fmt.Errorf("erase %v in %s: %w", fields, c.Name(), err)
	}
	return res.ModifiedCount, nil
}

// Erased counts what an erasure changed.
type Erased struct {
	Invitations int64 `json:"invitations"`
	Responses   int64 `json:"responses"`
	Messages    int64 `json:"messages"`
	Transcripts int64 `json:"transcripts"`
	ChatLinks   int64 `json:"chat_links"`
	Cases       int64 `json:"cases" doc:"feedback cases whose reply phone was the number"`
}

// EraseRespondent removes a person's phone number and keyed hash from
// invitations, responses, the message log and feedback cases, the texts
// of their conversations, the lookup that says the phone had
// invitations, and their chat links. The answers and the roll-ups
// stay, so aggregate figures do not change. The opt-out (a hash) is kept, so
// they still hear nothing more.
func (m *Mongo) EraseRespondent(ctx context.Context, respondent string) (Erased, error) {
	var e Erased
	var err error
	by := bson.D{{Key: "respondent", Value: respondent}}
	if e.Invitations, err = unset(ctx, m.Invitations.c, by, "phone_sealed", "respondent"); err != nil {
		return e, err
	}
	if e.Responses, err = unset(ctx, m.Responses.c, by, "respondent"); err != nil {
		return e, err
	}
	if e.Messages, err = unset(ctx, m.Messages.c, by, "respondent"); err != nil {
		return e, err
	}
	if e.Transcripts, err = m.Transcripts.EraseRespondent(ctx, respondent); err != nil { // their texts are theirs, unlike their answers
		return e, err
	}
	if _, err := m.Invitations.keys.DeleteOne(ctx, bson.D{{Key: "_id", Value: "r:" + respondent}}); err != nil {
		return e, fmt.Errorf("erase respondent lookup: %w", err)
	}
	res, err := m.Links.c.DeleteMany(ctx, by)
	if err != nil {
		return e, fmt.Errorf("erase chat links: %w", err)
	}
	e.ChatLinks = res.DeletedCount
	if e.Cases, err = m.Cases.eraseReplyPhones(ctx, by); err != nil {
		return e, err
	}
	return e, nil
}

// ErasePhonesBefore removes the phone numbers of invitations made before t
// (the retention sweep), and the reply phones of feedback cases opened
// before t. Keyed hashes of invitations stay, so opt-outs still hold.
func (m *Mongo) ErasePhonesBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := unset(ctx, m.Invitations.c, bson.D{
		{Key: "created_at", Value: bson.D{{Key: "$lt", Value: t}}},
		{Key: "phone_sealed", Value: bson.D{{Key: "$exists", Value: true}}},
	}, "phone_sealed")
	if err != nil {
		return n, err
	}
	cases, err := m.Cases.eraseReplyPhones(ctx, bson.D{
		{Key: "opened_at", Value: bson.D{{Key: "$lt", Value: t}}},
		{Key: "reply_phone_sealed", Value: bson.D{{Key: "$exists", Value: true}}},
	})
	return n + cases, err
}

// Forget deletes a person's conversation state, the ids of their messages
// and the index of their invitations (which erasure has just unlinked from
// them).
func (s *Conversations) Forget(ctx context.Context, who string) error {
	return s.R.Del(ctx, convKey(who), seenKey(who), invsKey(who), doneKey(who), rateKey(who)).Err()
}
