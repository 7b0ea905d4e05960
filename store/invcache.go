package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
)

// InvitationCache holds the working copy of every open invitation, from its
// creation until it expires, under its id, and its token leads to the id:
// survey pages and chat steps read it instead of MongoDB, and a survey can
// be answered (into the outbox) while MongoDB is down. The copy is kept
// true where citizens change an invitation (an opt-out writes a closed
// copy; an erasure forgets it, and it is read again from MongoDB);
// completion and starts are never read from it (the outbox's done mark and
// the set of started invitations say them at once). A copy lost with Redis is read again from MongoDB on a miss, and
// Warm rebuilds all of them after Redis lost its data.
type InvitationCache struct {
	R   redis.UniversalClient
	TTL time.Duration // at most; never beyond the invitation's expiry
	ids tokenIDs
}

// tokenIDs remembers, in this process, the invitation ids of the tokens
// read lately. A token is its invitation's for good, so the next view of
// a survey page reads the copy by id at once (with the reads beside it):
// one round trip instead of two. The copy read is still checked against
// the token, and an erased invitation has no copy. Two generations of at
// most tokenIDsMax entries (about 6 MB in all): a full young one becomes
// the old, and an old entry read is young again.
type tokenIDs struct {
	mu         sync.Mutex
	young, old map[string]string
}

const tokenIDsMax = 32 << 10

func (t *tokenIDs) get(token string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.young[token]; ok {
		return id, true
	}
	id, ok := t.old[token]
	if ok {
		t.add(token, id)
	}
	return id, ok
}

// add remembers token's id; t.mu is held.
func (t *tokenIDs) add(token, id string) {
	if len(t.young) >= tokenIDsMax {
		t.old, t.young = t.young, nil
	}
	if t.young == nil {
		t.young = make(map[string]string, 1024)
	}
	t.young[token] = id
}

func (t *tokenIDs) put(token, id string) {
	t.mu.Lock()
	t.add(token, id)
	t.mu.Unlock()
}

func cacheKey(kind, v string) string { return "gw:inv:" + kind + ":{" + v + "}" }

// Put remembers inv under its token and its id until it expires (and at
// most TTL).
func (c *InvitationCache) Put(ctx context.Context, inv *Invitation) {
	_, _ = c.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		c.put(ctx, p, inv)
		return nil
	})
}

func (c *InvitationCache) put(ctx context.Context, p redis.Pipeliner, inv *Invitation) {
	ttl := min(c.TTL, time.Until(inv.ExpiresAt))
	if ttl <= 0 {
		return
	}
	b, err := json.Marshal(cached{Invitation: inv, At: time.Now().UnixMilli()})
	if err != nil {
		return
	}
	p.Set(ctx, cacheKey("token", inv.Token), inv.ID, ttl) // the id, not a second copy: half the memory
	p.Set(ctx, cacheKey("id", inv.ID), b, ttl)
}

// Warm copies every open invitation of m into the cache unless it was done
// since Redis last lost its data (a mark says so). It reads the whole
// invitations collection once; the gateway runs it in the background at
// start, and a miss meanwhile reads MongoDB as usual.
func (c *InvitationCache) Warm(ctx context.Context, m *Invitations, name string) (int, error) {
	mark := "gw:inv:warm:" + name
	if n, err := c.R.Exists(ctx, mark).Result(); err != nil || n > 0 {
		return 0, err
	}
	open := bson.D{{Key: "status", Value: bson.D{{Key: "$in", Value: []Status{StatusPending, StatusInProgress}}}},
		{Key: "expires_at", Value: bson.D{{Key: "$gt", Value: time.Now()}}}}
	var batch []*Invitation
	flush := func() error {
		_, err := c.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, inv := range batch {
				c.put(ctx, p, inv)
			}
			return nil
		})
		batch = batch[:0]
		return err
	}
	n := 0
	err := m.each(ctx, open, func(inv *Invitation) error {
		n++
		if batch = append(batch, inv); len(batch) == 500 {
			return flush()
		}
		return nil
	})
	if err = errors.Join(err, flush()); err != nil {
		return n, fmt.Errorf("warm the invitation cache: %w", err)
	}
	return n, c.R.Set(ctx, mark, time.Now().UTC().Format(time.RFC3339), 0).Err()
}

// cached is an invitation as cached, with when it was read from MongoDB.
type cached struct {
	*Invitation
	At int64 `json:"cached_at"`
}

// Beside are reads a caller makes in the round trips of a cached copy
// instead of after them: Token's with the token's key (keys of the token's
// hash tag, so one slot on a Redis Cluster), Copy's with the copy, given the
// invitation's id. A page then costs two round trips, not four, and one
// once this process has read the token (see tokenIDs).
type Beside struct {
	Token func(p redis.Pipeliner)
	Copy  func(p redis.Pipeliner, id string)
}

// ByToken returns the copy cached under token if it is younger than maxAge
// (any age when maxAge is 0), or ErrNotFound. also may be nil.
func (c *InvitationCache) ByToken(ctx context.Context, token string, maxAge time.Duration, also *Beside) (*Invitation, error) {
	var beside func(p redis.Pipeliner)
	if also != nil {
		beside = also.Token
	}
	if id, ok := c.ids.get(token); ok {
		return c.get(ctx, id, token, maxAge, also, beside)
	}
	p := c.R.Pipeline() // by hand: a closure's captured command is an allocation
	id := p.Get(ctx, cacheKey("token", token))
	if beside != nil {
		beside(p)
	}
	_, _ = p.Exec(ctx) // each command's error is its own
	if err := id.Err(); errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	} else if err != nil {
		return nil, err
	}
	inv, err := c.get(ctx, id.Val(), token, maxAge, also, nil)
	if err == nil {
		c.ids.put(token, inv.ID)
	}
	return inv, err
}

// ByID returns a cached copy by invitation id, as ByToken.
func (c *InvitationCache) ByID(ctx context.Context, id string, maxAge time.Duration, also *Beside) (*Invitation, error) {
	return c.get(ctx, id, "", maxAge, also, nil)
}

// get reads id's copy, with what first and also.Copy queue; with a token,
// only a copy of that token's is returned.
func (c *InvitationCache) get(ctx context.Context, id, token string, maxAge time.Duration, also *Beside, first func(p redis.Pipeliner)) (*Invitation, error) {
	p := c.R.Pipeline() // by hand, as ByToken's
	if first != nil {
		first(p)
	}
	cmd := p.Get(ctx, cacheKey("id", id))
	if also != nil && also.Copy != nil {
		also.Copy(p, id)
	}
	_, _ = p.Exec(ctx) // each command's error is its own
	b, err := cmd.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	v := cached{Invitation: &Invitation{}}
	if err := decodeCached(b, &v); err != nil || v.ID == "" {
		return nil, ErrNotFound
	}
	if maxAge > 0 && time.Since(time.UnixMilli(v.At)) > maxAge {
		return nil, ErrNotFound
	}
	if token != "" && v.Token != token {
		return nil, ErrNotFound // a token key outliving its copy's invitation
	}
	return v.Invitation, nil
}

// Open says which of ids have a working copy that neither opted out nor
// was erased (an erasure forgets the copy): the roll-up writer completes
// those without reading them first (see Marks.Open). One round trip.
func (c *InvitationCache) Open(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, _ = c.R.Pipelined(ctx, func(p redis.Pipeliner) error { // each command's error is its own
		for i, id := range ids {
			cmds[i] = p.Get(ctx, cacheKey("id", id))
		}
		return nil
	})
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read working copies: %w", err)
		}
		v := cached{Invitation: &Invitation{}}
		if decodeCached(b, &v) == nil && v.Status != "" && v.Status != StatusOptedOut {
			out[ids[i]] = true
		}
	}
	return out, nil
}

// Forget drops the copy of invitation id, so the next read asks MongoDB.
func (c *InvitationCache) Forget(ctx context.Context, id string) error {
	inv, err := c.get(ctx, id, "", 0, nil, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = c.R.Pipelined(ctx, func(p redis.Pipeliner) error { // two slots on a Cluster
		p.Del(ctx, cacheKey("id", id))
		p.Del(ctx, cacheKey("token", inv.Token))
		return nil
	})
	return err
}
