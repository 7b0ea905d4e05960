package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Session is a signed-in console user, kept in Redis so every replica
// knows it.
type Session struct {
	KeyID  string `json:"k,omitempty"` // API key id, "user:<name>", or "" for the bootstrap admin
	Name   string `json:"n"`
	Role   Role   `json:"r"`
	Agency string `json:"a,omitempty"`
	CSRF   string `json:"c"`
	// Admin is a fingerprint of the bootstrap admin key the session was
	// opened with; a changed GATEWAY_ADMIN_KEY ends such sessions.
	Admin string `json:"x,omitempty"`
}

// Sessions stores console sessions with a TTL.
type Sessions struct {
	R   redis.UniversalClient
	TTL time.Duration
}

// sessionKey names a session by a hash of its id, so that whoever can list
// Redis keys (a MONITOR, a dump, a local user of the embedded server) finds
// no cookie there to sign in with.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "gw:session:" + hex.EncodeToString(sum[:])
}

// RandomToken is 24 random bytes, URL-safe.
func RandomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Create stores s and returns its id.
func (st *Sessions) Create(ctx context.Context, s *Session) (string, error) {
	id := RandomToken()
	s.CSRF = RandomToken()
	b, _ := json.Marshal(s)
	if err := st.R.Set(ctx, sessionKey(id), b, st.TTL).Err(); err != nil {
		return "", fmt.Errorf("create session: %w", err)
	}
	return id, nil
}

// Get returns a live session; ErrNotFound if none. A session lives TTL from
// sign-in, however busy: a stolen cookie does not last forever.
func (st *Sessions) Get(ctx context.Context, id string) (*Session, error) {
	if id == "" {
		return nil, ErrNotFound
	}
	b, err := st.R.Get(ctx, sessionKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var s Session
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, ErrNotFound
	}
	return &s, nil
}

// Delete ends a session.
func (st *Sessions) Delete(ctx context.Context, id string) error {
	return st.R.Del(ctx, sessionKey(id)).Err()
}

// User is a console user who signs in with a password (bcrypt hash).
type User struct {
	Username string    `bson:"_id" json:"username"`
	Hash     []byte    `bson:"hash" json:"-"`
	Role     Role      `bson:"role" json:"role"`
	Agency   string    `bson:"agency,omitempty" json:"agency,omitempty"`
	Created  time.Time `bson:"created_at" json:"created_at"`
	Disabled bool      `bson:"disabled" json:"disabled"`
}

// Users is the console users collection.
type Users struct{ c *mongo.Collection }

func (s *Users) ensureIndexes(context.Context) error { return nil }

// Put creates or replaces a user.
func (s *Users) Put(ctx context.Context, u *User) error {
	u.Created = Millis(u.Created)
	_, err := s.c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: u.Username}}, u, options.Replace().SetUpsert(true))
	return err
}

// User returns one user.
func (s *Users) User(ctx context.Context, name string) (*User, error) {
	return findOne[User](ctx, s.c, bson.D{{Key: "_id", Value: name}})
}

// All lists users by name.
func (s *Users) All(ctx context.Context) ([]User, error) {
	return findAll[User](ctx, s.c, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
}
