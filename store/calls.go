package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Calls keeps the voice survey's calls in Redis: each invitation's
// progress (kept across calls, so a call cut halfway resumes at the next
// question), which invitation a provider's call id is about, the phones
// being called now, and the status callbacks already applied.
type Calls struct {
	R redis.UniversalClient
	// Name separates deployments that share a Redis (the database name).
	Name string
}

// CallProgress is an invitation's survey by phone so far.
type CallProgress struct {
	Survey string `json:"s"`
	Locale string `json:"l,omitempty"`
	// Answers are the scores given (0 = no opinion, or no key after the
	// repeats), in question order: the next question is len(Answers).
	Answers []int `json:"a,omitempty"`
	// Misses counts silences and wrong keys on the current question.
	Misses int `json:"m,omitempty"`
	// Done: the answers were handed to the core (or the invitation was
	// closed): the next call only thanks.
	Done bool `json:"d,omitempty"`
	// Started: the invitation was marked in progress.
	Started bool `json:"t,omitempty"`
}

// CallRef is what a provider's call id is about.
type CallRef struct {
	Invitation string `json:"i,omitempty"`
	Channel    string `json:"c"`
	// Outbound: the gateway placed the call (a send attempt).
	Outbound bool `json:"o,omitempty"`
	// From is how many of the invitation's questions were answered when
	// the call began (the answers in this call are the ones after).
	From int `json:"f,omitempty"`
}

// CallTTL is how long a call's progress and id live after their last
// change: longer than any invitation waits between two tries.
const CallTTL = 30 * 24 * time.Hour

func (c *Calls) progressKey(inv string) string { return "gw:call:" + c.Name + ":{" + inv + "}" }
func (c *Calls) refKey(id string) string       { return "gw:callid:" + c.Name + ":{" + id + "}" }
func (c *Calls) phoneKey(who string) string    { return "gw:calling:" + c.Name + ":{" + who + "}" }
func (c *Calls) eventKey(id string) string     { return "gw:callev:" + c.Name + ":{" + id + "}" }

// Progress returns an invitation's progress and its step number (the
// number of steps applied); a zero progress and step 0 when none.
func (c *Calls) Progress(ctx context.Context, inv string) (*CallProgress, int, error) {
	vs, err := c.R.HMGet(ctx, c.progressKey(inv), "q", "s").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("read call progress of %s: %w", inv, err)
	}
	p := &CallProgress{}
	if vs[0] == nil {
		return p, 0, nil
	}
	step, _ := strconv.Atoi(vs[0].(string))
	if s, ok := vs[1].(string); ok {
		_ = json.Unmarshal([]byte(s), p) // a state we cannot read is a fresh start
	}
	return p, step, nil
}

// setProgress writes the progress as step+1 only if the stored step is
// still step: the step number is the event id of a keypress webhook, so
// a webhook retried (or racing another) applies once. The write keeps
// its writer's nonce, so the script sent again by go-redis (its reply
// lost) answers 1 as the first time. KEYS: the progress. ARGV: the step,
// the state, the TTL in ms, the nonce.
var setProgress = redis.NewScript(`
local cur = redis.call("HGET", KEYS[1], "q") or "0"
if cur ~= ARGV[1] then
  if cur == tostring(tonumber(ARGV[1]) + 1) and redis.call("HGET", KEYS[1], "n") == ARGV[4] then return 1 end
  return 0
end
redis.call("HSET", KEYS[1], "q", tostring(tonumber(ARGV[1]) + 1), "s", ARGV[2], "n", ARGV[4])
redis.call("PEXPIRE", KEYS[1], ARGV[3])
return 1`)

// ErrStale means a step was applied already (a retried webhook, or one
// that raced it): nothing changed.
var ErrStale = errors.New("the call moved on since")

// Step applies fn to an invitation's progress if its step number is still
// step (-1: whatever it is) and returns the progress and its new step
// number; ErrStale with the current ones when it is not.
func (c *Calls) Step(ctx context.Context, inv string, step int, fn func(p *CallProgress) error) (*CallProgress, int, error) {
	p, cur, err := c.Progress(ctx, inv)
	if err != nil {
		return nil, 0, err
	}
	if step >= 0 && step != cur {
		return p, cur, ErrStale
	}
	if err := fn(p); err != nil {
		return nil, 0, err
	}
	b, _ := json.Marshal(p)
	ok, err := setProgress.Run(ctx, c.R, []string{c.progressKey(inv)}, strconv.Itoa(cur), string(b), CallTTL.Milliseconds(), nonce()).Int()
	if err != nil {
		return nil, 0, fmt.Errorf("save call progress of %s: %w", inv, err)
	}
	if ok == 0 { // another step came between the read and the write
		p, cur, err = c.Progress(ctx, inv)
		if err == nil {
			err = ErrStale
		}
		return p, cur, err
	}
	return p, cur + 1, nil
}

// Bind records what call id is about.
func (c *Calls) Bind(ctx context.Context, id string, r CallRef) error {
	b, _ := json.Marshal(r)
	if err := c.R.Set(ctx, c.refKey(id), b, CallTTL).Err(); err != nil {
		return fmt.Errorf("bind call %s: %w", id, err)
	}
	return nil
}

// Ref returns what call id is about, or ErrNotFound.
func (c *Calls) Ref(ctx context.Context, id string) (CallRef, error) {
	var r CallRef
	b, err := c.R.Get(ctx, c.refKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("read call %s: %w", id, err)
	}
	return r, json.Unmarshal(b, &r)
}

// LockPhone makes holder the one call to phone who (a keyed hash) for
// ttl; false when another call holds it.
func (c *Calls) LockPhone(ctx context.Context, who, holder string, ttl time.Duration) (bool, error) {
	ok, err := takeKey(ctx, c.R, c.phoneKey(who), holder, ttl) // the holder itself again: a send retried after a cut
	if err != nil {
		return false, fmt.Errorf("lock a phone for a call: %w", err)
	}
	return ok, nil
}

var unlockPhone = redis.NewScript(`
if redis.call("GET", KEYS[1]) == ARGV[1] then redis.call("DEL", KEYS[1]) end
return 1`)

// UnlockPhone frees phone who if holder holds it.
func (c *Calls) UnlockPhone(ctx context.Context, who, holder string) error {
	return unlockPhone.Run(ctx, c.R, []string{c.phoneKey(who)}, holder).Err()
}

// ClaimEvent marks a provider's event (a call's final status) applied;
// false when it was already.
func (c *Calls) ClaimEvent(ctx context.Context, id string) (bool, error) {
	ok, err := takeKey(ctx, c.R, c.eventKey(id), nonce(), ClaimTTL)
	if err != nil {
		return false, fmt.Errorf("claim call event: %w", err)
	}
	return ok, nil
}

// ReleaseEvent forgets a claimed event whose effect could not be written,
// so the provider's retry applies it.
func (c *Calls) ReleaseEvent(ctx context.Context, id string) {
	_ = c.R.Del(ctx, c.eventKey(id)).Err()
}
