package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// InvitationCache keeps a copy of invitations that citizens have opened, so
// a survey already under way can still be answered (into the outbox) while
// MongoDB is down, and so that the pages and messages of one survey do not
// each read MongoDB: a copy younger than a minute is used as it is
// (FerretDB's SQLite backend reads a whole collection even for an _id
// lookup). Completion is never read from the copy: the outbox's done mark
// says it at once.
type InvitationCache struct {
	R   redis.UniversalClient
	TTL time.Duration // at most; never beyond the invitation's expiry
}

func cacheKey(kind, v string) string { return "gw:inv:" + kind + ":{" + v + "}" }

// Put remembers inv under its token and its id.
func (c *InvitationCache) Put(ctx context.Context, inv *Invitation) {
	ttl := min(c.TTL, time.Until(inv.ExpiresAt))
	if ttl <= 0 {
		return
	}
	b, err := json.Marshal(cached{Invitation: inv, At: time.Now().UnixMilli()})
	if err != nil {
		return
	}
	_, _ = c.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, cacheKey("token", inv.Token), b, ttl)
		p.Set(ctx, cacheKey("id", inv.ID), b, ttl)
		return nil
	})
}

// cached is an invitation as cached, with when it was read from MongoDB.
type cached struct {
	*Invitation
	At int64 `json:"cached_at"`
}

// ByToken returns the copy cached under token if it is younger than maxAge
// (any age when maxAge is 0), or ErrNotFound.
func (c *InvitationCache) ByToken(ctx context.Context, token string, maxAge time.Duration) (*Invitation, error) {
	return c.get(ctx, cacheKey("token", token), maxAge)
}

// ByID returns a cached copy by invitation id, as ByToken.
func (c *InvitationCache) ByID(ctx context.Context, id string, maxAge time.Duration) (*Invitation, error) {
	return c.get(ctx, cacheKey("id", id), maxAge)
}

func (c *InvitationCache) get(ctx context.Context, key string, maxAge time.Duration) (*Invitation, error) {
	b, err := c.R.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v := cached{Invitation: &Invitation{}}
	if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
		return nil, ErrNotFound
	}
	if maxAge > 0 && time.Since(time.UnixMilli(v.At)) > maxAge {
		return nil, ErrNotFound
	}
	return v.Invitation, nil
}
