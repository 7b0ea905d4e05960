package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter counts requests per key in fixed windows in Redis, so a limit
// holds across every replica.
type Limiter struct {
	R redis.UniversalClient
	// Name separates deployments that share a Redis (the database name).
	Name string
}

var hit = redis.NewScript(`
local n = redis.call("INCR", KEYS[1])
if n == 1 then redis.call("PEXPIRE", KEYS[1], ARGV[1]) end
return {n, redis.call("PTTL", KEYS[1])}`)

// Allow counts one request of key against limit per window. When the limit
// is spent it returns false and how long until the window ends.
func (l *Limiter) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	return verdict(hit.Run(ctx, l.R, []string{l.key(key)}, window.Milliseconds()), limit)
}

// Count counts one request of key in window and says how many the window
// holds now, this one included. It refuses nothing: it is for figures
// that raise an alarm rather than a lock.
func (l *Limiter) Count(ctx context.Context, key string, window time.Duration) (int64, error) {
	res, err := hit.Run(ctx, l.R, []string{l.key(key)}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return res[0], nil
}

// Counted is how many requests key's current window holds (0 when none).
func (l *Limiter) Counted(ctx context.Context, key string) (int64, error) {
	n, err := l.R.Get(ctx, l.key(key)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rate limit: %w", err)
	}
	return n, nil
}

// Queue counts one request of key in p, a pipeline the caller runs (the
// script's body goes along: a pipeline cannot fall back from EVALSHA);
// the returned function then says what Allow would have.
func (l *Limiter) Queue(ctx context.Context, p redis.Pipeliner, key string, limit int, window time.Duration) func() (bool, time.Duration, error) {
	if limit <= 0 {
		return func() (bool, time.Duration, error) { return true, 0, nil }
	}
	cmd := hit.Eval(ctx, p, []string{l.key(key)}, window.Milliseconds())
	return func() (bool, time.Duration, error) { return verdict(cmd, limit) }
}

func (l *Limiter) key(key string) string { return "gw:rl:{" + l.Name + ":" + key + "}" }

func verdict(cmd *redis.Cmd, limit int) (bool, time.Duration, error) {
	res, err := cmd.Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if res[0] > int64(limit) {
		return false, time.Duration(max(res[1], 1)) * time.Millisecond, nil
	}
	return true, 0, nil
}

// Lockout slows down guessing: after Threshold failures of one key (a
// client address, a user name) within Window, each further failure locks
// it for Base, doubling up to Max. A locked key is refused before any
// password is checked. Counts live in Redis, so they hold across replicas.
type Lockout struct {
	R         redis.UniversalClient
	Name      string
	Threshold int
	Base, Max time.Duration
	Window    time.Duration
}

var fail = redis.NewScript(`
local f = redis.call("INCR", KEYS[1])
redis.call("PEXPIRE", KEYS[1], ARGV[4])
if f < tonumber(ARGV[1]) then return 0 end
local d = math.min(tonumber(ARGV[2]) * 2 ^ (f - tonumber(ARGV[1])), tonumber(ARGV[3]))
d = math.floor(d)
redis.call("SET", KEYS[2], "1", "PX", d)
return d`)

func (l *Lockout) keys(key string) []string {
	base := "gw:lock:{" + l.Name + ":" + key + "}"
	return []string{base + ":fails", base}
}

// Locked says how long each key is still locked (0: not).
func (l *Lockout) Locked(ctx context.Context, keys ...string) (time.Duration, error) {
	cmds := make([]*redis.DurationCmd, len(keys))
	_, err := l.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.PTTL(ctx, l.keys(k)[1])
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("lockout: %w", err)
	}
	var wait time.Duration
	for _, c := range cmds {
		wait = max(wait, c.Val())
	}
	return wait, nil
}

// Fail counts a failure of each key and says how long the longest lock it
// started lasts (0: none).
func (l *Lockout) Fail(ctx context.Context, keys ...string) (time.Duration, error) {
	cmds := make([]*redis.Cmd, len(keys))
	_, err := l.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = fail.Eval(ctx, p, l.keys(k), l.Threshold, l.Base.Milliseconds(), l.Max.Milliseconds(), l.Window.Milliseconds())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("lockout: %w", err)
	}
	var wait time.Duration
	for _, c := range cmds {
		ms, _ := c.Int64()
		wait = max(wait, time.Duration(ms)*time.Millisecond)
	}
	return wait, nil
}

// Clear forgets key's failures (a successful sign-in).
func (l *Lockout) Clear(ctx context.Context, key string) error {
	return l.R.Del(ctx, l.keys(key)...).Err()
}
