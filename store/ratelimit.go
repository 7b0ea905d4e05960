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
	res, err := hit.Run(ctx, l.R, []string{"gw:rl:{" + l.Name + ":" + key + "}"}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", err)
	}
	if res[0] > int64(limit) {
		return false, time.Duration(max(res[1], 1)) * time.Millisecond, nil
	}
	return true, 0, nil
}
