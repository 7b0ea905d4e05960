package store

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// Warnings are per-channel problems an operator must see (a token refresh
// that failed), shown by /readyz until cleared. One hash per deployment.
type Warnings struct {
	R    redis.UniversalClient
	Name string
}

func (w *Warnings) key() string { return "gw:warnings:" + w.Name }

// Set records a warning for a channel.
func (w *Warnings) Set(ctx context.Context, channel, msg string) error {
	return w.R.HSet(ctx, w.key(), channel, msg).Err()
}

// Clear removes a channel's warning.
func (w *Warnings) Clear(ctx context.Context, channel string) error {
	return w.R.HDel(ctx, w.key(), channel).Err()
}

// All returns the warnings by channel.
func (w *Warnings) All(ctx context.Context) (map[string]string, error) {
	return w.R.HGetAll(ctx, w.key()).Result()
}
