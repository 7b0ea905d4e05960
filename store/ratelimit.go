package store

import (
	"context"
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
