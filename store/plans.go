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

// PlanStatus is where an improvement plan stands.
type PlanStatus string

// Plan statuses: a draft is being written, an active plan is under way,
// done is finished, dropped was given up. Draft and active plans count
// as a unit having a plan.
const (
	PlanDraft   PlanStatus = "draft"
	PlanActive  PlanStatus = "active"
	PlanDone    PlanStatus = "done"
	PlanDropped PlanStatus = "dropped"
)

// PlanStatuses are the statuses a plan may have, in the order shown.
var PlanStatuses = []PlanStatus{PlanDraft, PlanActive, PlanDone, PlanDropped}

// Plan is a unit's improvement plan (kế hoạch khắc phục): what it thinks
// lowers its index and what it will do about it, by when.
type Plan struct {
	Key       string       `bson:"_id" json:"-"` // <agency>|<id>
	Agency    string       `bson:"agency" json:"agency_code"`
	ID        string       `bson:"id" json:"id"`
	Title     string       `bson:"title" json:"title"`
	Causes    []PlanCause  `bson:"causes" json:"causes"`
	Actions   []PlanAction `bson:"actions" json:"actions"`
	Start     string       `bson:"start" json:"start" doc:"YYYY-MM-DD, Vietnam time"`
	Status    PlanStatus   `bson:"status" json:"status"`
	CreatedAt time.Time    `bson:"created_at" json:"created_at"`
	UpdatedAt time.Time    `bson:"updated_at" json:"updated_at"`
	UpdatedBy string       `bson:"updated_by" json:"updated_by"`
	Version   int64        `bson:"v" json:"version" doc:"send it back with the next PUT; a stale one is a 409"`
}

// PlanCause is one thing a plan says lowers the index: an indicator
// (A1…E4), a criterion (A…E), a comment topic, a procedure code or a desk.
type PlanCause struct {
	Kind string `bson:"kind" json:"kind" doc:"indicator, criterion, topic, procedure or desk"`
	ID   string `bson:"id" json:"id"`
}

// PlanAction is one step of a plan, due on a day.
type PlanAction struct {
	Text  string `bson:"text" json:"text" doc:"at most 500 characters"`
	Owner string `bson:"owner,omitempty" json:"owner" doc:"who does it, at most 100 characters"`
	Due   string `bson:"due" json:"due" doc:"YYYY-MM-DD, Vietnam time"`
	Done  bool   `bson:"done" json:"done"`
}

// PlanKey is the _id of agency's plan id.
func PlanKey(agency, id string) string { return agency + "|" + id }

// OverdueActions counts the actions not done whose due day is before
// today (YYYY-MM-DD); only an active plan has any.
func (p *Plan) OverdueActions(today string) int {
	if p.Status != PlanActive {
		return 0
	}
	n := 0
	for _, a := range p.Actions {
		if !a.Done && a.Due < today {
			n++
		}
	}
	return n
}

// Plans keeps improvement plans, read by _id only: an index document per
// agency lists its plans' ids, and the document "*" the agencies with
// plans (FerretDB's SQLite backend looks up nothing else by index).
type Plans struct {
	c, index *mongo.Collection
}

type planIndex struct {
	ID  string   `bson:"_id"` // an agency code, or "*"
	IDs []string `bson:"ids"` // plan ids, or agency codes for "*"
}

// allAgencies is the index document listing the agencies with plans.
const allAgencies = "*"

func (s *Plans) ensureIndexes(ctx context.Context) error {
	// Reads are by _id; these create the collections at start, so the
	// embedded store's _id lookup index exists from the first plan.
	if err := createIndexes(ctx, s.index, index(bson.D{{Key: "ids", Value: 1}}, false)); err != nil {
		return err
	}
	return createIndexes(ctx, s.c, index(bson.D{{Key: "agency", Value: 1}}, false))
}

// Plan returns agency's plan id.
func (s *Plans) Plan(ctx context.Context, agency, id string) (*Plan, error) {
	return findOne[Plan](ctx, s.c, bson.D{{Key: "_id", Value: PlanKey(agency, id)}})
}

// ErrPlanChanged means the plan changed since it was read.
var ErrPlanChanged = errors.New("the plan changed meanwhile")

// Create stores a new plan at version 1; ErrDuplicate if it exists. The
// index lists it first, each by one $addToSet on a document read by _id
// (atomic on both stores, so two plans made at once are both listed); a
// plan cut short after that is an id readers skip.
func (s *Plans) Create(ctx context.Context, p *Plan) error {
	p.Key, p.Version = PlanKey(p.Agency, p.ID), 1
	p.CreatedAt, p.UpdatedAt = Millis(p.CreatedAt), Millis(p.UpdatedAt)
	for _, ix := range []struct{ id, member string }{{allAgencies, p.Agency}, {p.Agency, p.ID}} {
		if err := Write(ctx, "plans.index", func(ctx context.Context) error {
			_, err := s.index.UpdateOne(ctx, bson.D{{Key: "_id", Value: ix.id}},
				bson.D{{Key: "$addToSet", Value: bson.D{{Key: "ids", Value: ix.member}}}}, options.Update().SetUpsert(true))
			return err
		}); err != nil {
			return fmt.Errorf("index plan %s: %w", p.Key, err)
		}
	}
	_, err := s.c.InsertOne(ctx, p)
	if mongo.IsDuplicateKeyError(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("create plan %s: %w", p.Key, err)
	}
	return nil
}

// Replace writes p over the plan if it is still at version prev, and
// moves p to prev+1; ErrPlanChanged if it is not. Callers hold the plan's
// lock (FerretDB applies a conditional write by reading and writing back).
func (s *Plans) Replace(ctx context.Context, p *Plan, prev int64) error {
	p.Key, p.Version, p.UpdatedAt = PlanKey(p.Agency, p.ID), prev+1, Millis(p.UpdatedAt)
	if err := replaceVersion(ctx, s.c, p.Key, prev, p, ErrPlanChanged); err != nil {
		p.Version = prev
		return fmt.Errorf("save plan %s: %w", p.Key, err)
	}
	return nil
}

// Of returns the plans of the agencies (nil: every agency), by id lookups
// only: the agencies' index documents, then their plans; an id whose plan
// is missing (a create cut short) is skipped.
func (s *Plans) Of(ctx context.Context, agencies []string) ([]Plan, error) {
	if agencies == nil {
		all, err := byIDs[planIndex](ctx, s.index, []string{allAgencies})
		if err != nil {
			return nil, fmt.Errorf("read plan index: %w", err)
		}
		for _, ix := range all {
			agencies = ix.IDs
		}
	}
	indexes, err := byIDs[planIndex](ctx, s.index, agencies)
	if err != nil {
		return nil, fmt.Errorf("read plan index: %w", err)
	}
	var keys []string
	for _, ix := range indexes {
		for _, id := range ix.IDs {
			keys = append(keys, PlanKey(ix.ID, id))
		}
	}
	return byIDs[Plan](ctx, s.c, keys)
}
