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
// MongoDB is down. MongoDB stays the source of truth whenever it answers.
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
	b, err := json.Marshal(inv)
	if err != nil {
		return
	}
	_, _ = c.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, cacheKey("token", inv.Token), b, ttl)
		p.Set(ctx, cacheKey("id", inv.ID), b, ttl)
		return nil
	})
}

// ByToken and ByID return a cached copy, or ErrNotFound.
func (c *InvitationCache) ByToken(ctx context.Context, token string) (*Invitation, error) {
	return c.get(ctx, cacheKey("token", token))
}

// ByID returns a cached copy by invitation id.
func (c *InvitationCache) ByID(ctx context.Context, id string) (*Invitation, error) {
	return c.get(ctx, cacheKey("id", id))
}

func (c *InvitationCache) get(ctx context.Context, key string) (*Invitation, error) {
	b, err := c.R.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var inv Invitation
	if err := json.Unmarshal(b, &inv); err != nil {
		return nil, ErrNotFound
	}
	return &inv, nil
}
