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

// Feedback cases are opened by the feedback page's requests, not by the
// roll-up writer, which alone writes the case index documents of the
// responses' cases. So their ids go in index documents of their own
// ("fb:<agency>|<month>", and "fb:*|<month>" for the agencies that had
// some), written under one lock per database: FerretDB applies an update
// by reading the document and writing it back, and two writers of one
// document at once could each drop the other's id. A suggestion box takes
// a few feedback an hour, so one lock costs nothing.
func feedbackIndexID(agency, month string) string { return "fb:" + caseIndexID(agency, month) }

// feedbackIndexWait bounds how long a feedback waits for the index's
// lock (another feedback being indexed takes milliseconds).
const feedbackIndexWait = 5 * time.Second

// OpenFeedback records a feedback case, once: true when this call made
// it, false when a case with its id was there (a form posted again; the
// caller compares Submission). What finds the case is written before the
// case (its month indexes), so a cut between the two leaves an id whose
// case is missing, which readers skip, never a case no list shows.
func (s *Cases) OpenFeedback(ctx context.Context, locks *Locks, c *Case) (bool, error) {
	c.OpenedAt, c.DueAt = Millis(c.OpenedAt), Millis(c.DueAt)
	first := c.DueAt
	c.FirstDueAt = &first
	if c.Notes == nil {
		c.Notes = []CaseNote{}
	}
	month := MonthOf(c.OpenedAt)
	err := s.indexFeedback(ctx, locks, map[string]string{feedbackIndexID(c.Agency, month): c.ID, feedbackIndexID("*", month): c.Agency})
	if err != nil {
		return false, err
	}
	_, err = s.c.InsertOne(ctx, c)
	if mongo.IsDuplicateKeyError(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open feedback case %s: %w", c.ID, err)
	}
	return true, nil
}

// indexFeedback adds each value to its index document, under the
// feedback index's lock.
func (s *Cases) indexFeedback(ctx context.Context, locks *Locks, add map[string]string) error {
	name := "case-index-fb:" + s.c.Database().Name()
	deadline := time.Now().Add(feedbackIndexWait)
	lease, err := locks.Acquire(ctx, name, 30*time.Second)
	for errors.Is(err, ErrLocked) && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		lease, err = locks.Acquire(ctx, name, 30*time.Second)
	}
	if err != nil {
		return fmt.Errorf("index a feedback case: %w", err)
	}
	defer lease.Release(context.WithoutCancel(ctx))
	for id, v := range add {
		_, err := s.index.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}},
			bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: v}}}}, options.Update().SetUpsert(true))
		if err != nil {
			return fmt.Errorf("index a feedback case: %w", err)
		}
	}
	return nil
}

// SetReplyPhone gives feedback case id the phone its citizen confirmed
// (sealed, its keyed hash and its mask) and notes it in the history, in
// one versioned write; the caller holds the case's lock. A case that has
// that phone already is left as it is (a confirmation finished again).
func (s *Cases) SetReplyPhone(ctx context.Context, id string, sealed []byte, hash, mask string, at time.Time) error {
	c, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if c.Respondent == hash && len(c.ReplyPhoneSealed) > 0 {
		return nil
	}
	c.ReplyPhoneSealed, c.Respondent, c.ReplyPhone = sealed, hash, mask
	c.History = append(c.History, CaseEvent{At: Millis(at), By: "citizen", Action: "phone_confirmed", Detail: mask})
	return s.Save(ctx, c)
}

// eraseReplyPhones removes the reply phones of the feedback cases filter
// selects, and moves their versions on, so a change read before cannot
// write the number back.
func (s *Cases) eraseReplyPhones(ctx context.Context, filter bson.D) (int64, error) {
	res, err := s.c.UpdateMany(ctx, filter, bson.D{
		{Key: "$unset", Value: bson.D{{Key: "reply_phone_sealed", Value: ""}, {Key: "reply_phone", Value: ""}, {Key: "respondent", Value: ""}}},
		{Key: "$inc", Value: bson.D{{Key: "v", Value: 1}}},
	})
	if err != nil {
		return 0, fmt.Errorf("erase the reply phones of feedback cases: %w", err)
	}
	return res.ModifiedCount, nil
}
