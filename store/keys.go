package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Role is what a key or a console user may do.
type Role string

// Roles of keys and users.
const (
	RoleAdmin  Role = "admin"  // everything
	RoleAgency Role = "agency" // invitations and reports of one agency subtree
	RoleViewer Role = "viewer" // reports only
)

// APIKey is an operator key, stored only as a hash of its value.
type APIKey struct {
	ID       string     `bson:"_id" json:"id"`
	Hash     string     `bson:"hash" json:"-"`
	Prefix   string     `bson:"prefix" json:"prefix"`
	Name     string     `bson:"name" json:"name"`
	Role     Role       `bson:"role" json:"role"`
	Agency   string     `bson:"agency,omitempty" json:"agency,omitempty"`
	Created  time.Time  `bson:"created_at" json:"created_at"`
	LastUsed *time.Time `bson:"last_used_at,omitempty" json:"last_used_at,omitempty"`
	Revoked  *time.Time `bson:"revoked_at,omitempty" json:"revoked_at,omitempty"`
}

// Keys is the API keys collection.
type Keys struct{ c *mongo.Collection }

func (s *Keys) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "hash", Value: 1}}, true))
}

// Create stores a new key.
func (s *Keys) Create(ctx context.Context, k *APIKey) error {
	if _, err := s.c.InsertOne(ctx, k); err != nil {
		return fmt.Errorf("create key: %w", err)
	}
	return nil
}

// ByHash finds a key by the hash of its value.
func (s *Keys) ByHash(ctx context.Context, hash string) (*APIKey, error) {
	return findOne[APIKey](ctx, s.c, bson.D{{Key: "hash", Value: hash}})
}

// Key returns a key by id.
func (s *Keys) Key(ctx context.Context, id string) (*APIKey, error) {
	return findOne[APIKey](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// All lists keys, newest first.
func (s *Keys) All(ctx context.Context) ([]APIKey, error) {
	return findAll[APIKey](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "created_at", Value: -1}}))
}

// Revoke marks a key revoked; ErrNotFound if it does not exist.
func (s *Keys) Revoke(ctx context.Context, id string, at time.Time) (*APIKey, error) {
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "revoked_at", Value: Millis(at)}}}})
	if err != nil {
		return nil, fmt.Errorf("revoke key %s: %w", id, err)
	}
	if res.MatchedCount == 0 {
		return nil, ErrNotFound
	}
	return findOne[APIKey](ctx, s.c, bson.D{{Key: "_id", Value: id}})
}

// Touch records a use, at most once a minute per key.
func (s *Keys) Touch(ctx context.Context, id string, at time.Time) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "$or", Value: bson.A{
		bson.D{{Key: "last_used_at", Value: bson.D{{Key: "$exists", Value: false}}}},
		bson.D{{Key: "last_used_at", Value: bson.D{{Key: "$lt", Value: at.Add(-time.Minute)}}}},
	}}}, bson.D{{Key: "$set", Value: bson.D{{Key: "last_used_at", Value: Millis(at)}}}})
	return err
}

// AuditEntry is one change an operator made. Secrets are never in Detail.
type AuditEntry struct {
	ID     string         `bson:"_id" json:"id"`
	At     time.Time      `bson:"at" json:"at"`
	Who    string         `bson:"who" json:"who"` // key id and name, or "admin (GATEWAY_ADMIN_KEY)"
	Action string         `bson:"action" json:"action"`
	Target string         `bson:"target" json:"target"`
	Detail map[string]any `bson:"detail,omitempty" json:"detail,omitempty"`
}

// Audit is the audit log.
type Audit struct{ c *mongo.Collection }

func (s *Audit) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "at", Value: -1}}, false))
}

// Add writes an entry.
func (s *Audit) Add(ctx context.Context, e *AuditEntry) error {
	e.At = Millis(e.At)
	if _, err := s.c.InsertOne(ctx, e); err != nil {
		return fmt.Errorf("write audit entry: %w", err)
	}
	return nil
}

// Recent returns up to limit entries, newest first.
func (s *Audit) Recent(ctx context.Context, limit int64) ([]AuditEntry, error) {
	return findAll[AuditEntry](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "at", Value: -1}}).SetLimit(limit))
}
