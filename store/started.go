package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Started holds the invitations citizens began answering until the roll-up
// writer marks them in progress in MongoDB, many at a time and a few
// minutes later (report.StartedAfter), so an invitation answered meanwhile
// is written once; an update from a request could also undo a completion
// written at the same moment.
type Started struct {
	R   redis.UniversalClient
	Key string
}

// NewStarted returns the deployment's set of started invitations.
func NewStarted(r redis.UniversalClient, name string) *Started {
	return &Started{R: r, Key: "gw:started:" + name}
}

// Add notes that invitation id was started at at; the first time stays.
func (s *Started) Add(ctx context.Context, id string, at time.Time) error {
	return s.R.ZAddNX(ctx, s.Key, redis.Z{Score: float64(at.UnixMilli()), Member: id}).Err()
}

// When says when invitation id was started, if it waits here.
func (s *Started) When(ctx context.Context, id string) (time.Time, bool) {
	score, err := s.R.ZScore(ctx, s.Key, id).Result()
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(score)), true
}

// Take returns up to n invitations started before before, with their
// start times.
func (s *Started) Take(ctx context.Context, n int64, before time.Time) (map[string]time.Time, error) {
	zs, err := s.R.ZRangeByScoreWithScores(ctx, s.Key, &redis.ZRangeBy{Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: n}).Result()
	if err != nil {
		return nil, fmt.Errorf("read started invitations: %w", err)
	}
	out := make(map[string]time.Time, len(zs))
	for _, z := range zs {
		out[z.Member.(string)] = time.UnixMilli(int64(z.Score))
	}
	return out, nil
}

// Done forgets ids, which MongoDB now has as started.
func (s *Started) Done(ctx context.Context, ids map[string]time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	members := make([]any, 0, len(ids))
	for id := range ids {
		members = append(members, id)
	}
	return Write(ctx, "started.done", func(ctx context.Context) error { return s.R.ZRem(ctx, s.Key, members...).Err() })
}
