package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Answer is one scored question in a response; 0 means no opinion.
type Answer struct {
	Question  string `bson:"question" json:"question"`
	Criterion string `bson:"criterion" json:"criterion"`
	Score     int    `bson:"score" json:"score"`
}

// Response is one citizen's completed survey, normalised whatever the channel.
type Response struct {
	ID            string    `bson:"_id"`
	InvitationID  string    `bson:"invitation_id"`
	Survey        string    `bson:"survey"`
	SurveyVersion int       `bson:"survey_version"`
	DossierCode   string    `bson:"dossier_code"`
	AgencyCode    string    `bson:"agency_code"`
	ProcedureCode string    `bson:"procedure_code,omitempty"`
	FieldCode     string    `bson:"field_code,omitempty"`
	Channel       string    `bson:"channel"`
	Answers       []Answer  `bson:"answers"`
	Comment       string    `bson:"comment,omitempty"`
	Locale        string    `bson:"locale"`
	Respondent    string    `bson:"respondent,omitempty"`
	Month         string    `bson:"month"` // YYYY-MM in Vietnam time, the roll-up period
	StartedAt     time.Time `bson:"started_at"`
	SubmittedAt   time.Time `bson:"submitted_at"`
	// Applied is set once the roll-up worker has counted the response.
	Applied bool `bson:"applied"`
}

// Responses is the responses collection.
type Responses struct{ c *mongo.Collection }

func (s *Responses) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c,
		index(bson.D{{Key: "invitation_id", Value: 1}}, true),
		index(bson.D{{Key: "applied", Value: 1}, {Key: "_id", Value: 1}}, false),
		index(bson.D{{Key: "agency_code", Value: 1}, {Key: "submitted_at", Value: 1}}, false),
	)
}

// Insert saves r. ErrDuplicate means the invitation already has a response:
// the unique index keeps exactly one per invitation whatever the channel.
func (s *Responses) Insert(ctx context.Context, r *Response) error {
	if _, err := s.c.InsertOne(ctx, r); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return ErrDuplicate
		}
		return fmt.Errorf("insert response for %s: %w", r.InvitationID, err)
	}
	return nil
}

// ByInvitation returns the response of an invitation.
func (s *Responses) ByInvitation(ctx context.Context, invitationID string) (*Response, error) {
	return findOne[Response](ctx, s.c, bson.D{{Key: "invitation_id", Value: invitationID}})
}

// Unapplied returns up to limit responses not yet counted, oldest id first.
func (s *Responses) Unapplied(ctx context.Context, limit int64) ([]Response, error) {
	opts := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(limit)
	return s.find(ctx, bson.D{{Key: "applied", Value: false}}, opts)
}

// ByIDs returns the responses with the given ids.
func (s *Responses) ByIDs(ctx context.Context, ids []string) ([]Response, error) {
	return s.find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}}, options.Find())
}

func (s *Responses) find(ctx context.Context, filter bson.D, opts *options.FindOptions) ([]Response, error) {
	return findAll[Response](ctx, s.c, filter, opts)
}

// MarkApplied records that the roll-up worker has counted ids.
func (s *Responses) MarkApplied(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.c.UpdateMany(ctx,
		bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "applied", Value: true}}}})
	if err != nil {
		return fmt.Errorf("mark %d responses applied: %w", len(ids), err)
	}
	return nil
}

// Each streams every response to fn in id order, without holding them all in
// memory; fn's error stops the stream.
func (s *Responses) Each(ctx context.Context, fn func(*Response) error) error {
	return s.EachMatching(ctx, ExportFilter{}, fn)
}

// ExportFilter selects responses to export; empty fields match all.
type ExportFilter struct {
	Survey   string
	Agencies []string
	Channel  string
	From, To time.Time // submitted_at, From inclusive, To exclusive
}

func (f ExportFilter) bson() bson.D {
	q := bson.D{}
	if f.Survey != "" {
		q = append(q, bson.E{Key: "survey", Value: f.Survey})
	}
	if len(f.Agencies) > 0 {
		q = append(q, bson.E{Key: "agency_code", Value: bson.D{{Key: "$in", Value: f.Agencies}}})
	}
	if f.Channel != "" {
		q = append(q, bson.E{Key: "channel", Value: f.Channel})
	}
	return between(q, "submitted_at", f.From, f.To)
}

// EachMatching streams the responses f selects, in id order.
func (s *Responses) EachMatching(ctx context.Context, f ExportFilter, fn func(*Response) error) error {
	cur, err := s.c.Find(ctx, f.bson(), options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetBatchSize(500))
	if err != nil {
		return fmt.Errorf("stream responses: %w", err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var r Response
		if err := cur.Decode(&r); err != nil {
			return fmt.Errorf("decode response: %w", err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return cur.Err()
}
