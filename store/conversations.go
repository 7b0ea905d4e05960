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

// Conversations keeps chat survey state in Redis, one key per citizen (by
// keyed phone hash or chat user id), and remembers which provider messages
// were already applied. A step and its dedupe mark commit together in one
// WATCH/MULTI transaction, so the same message delivered twice, or two
// messages from one citizen at the same moment, can neither double nor lose
// an answer.
type Conversations struct {
	R   redis.UniversalClient
	TTL time.Duration // how long an idle conversation lives
}

// SeenTTL is how long a provider message id is remembered; providers retry
// for hours, not weeks.
const SeenTTL = 7 * 24 * time.Hour

// Keys of one citizen share a hash tag, so a transaction over them works on
// Redis Cluster.
func convKey(who string) string { return "gw:conv:{" + who + "}" }
func seenKey(who, channel, msgID string) string {
	return "gw:conv:{" + who + "}:seen:" + channel + ":" + msgID
}

// Step loads who's state into fn and stores what fn returns (nil deletes),
// marking msgID of channel as applied in the same transaction. A message
// already applied is not given to fn: dup is true. fn may run more than once
// when another message of the same citizen commits first, so its side
// effects must be idempotent.
func (s *Conversations) Step(ctx context.Context, who, channel, msgID string, fn func(state []byte) ([]byte, error)) (dup bool, err error) {
	keys := []string{convKey(who)}
	if msgID != "" {
		keys = append(keys, seenKey(who, channel, msgID))
	}
	for attempt := 0; attempt < 50; attempt++ {
		dup = false
		err = s.R.Watch(ctx, func(tx *redis.Tx) error {
			if msgID != "" {
				n, err := tx.Exists(ctx, keys[1]).Result()
				if err != nil {
					return err
				}
				if n > 0 {
					dup = true
					return nil
				}
			}
			cur, err := tx.Get(ctx, keys[0]).Bytes()
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			next, err := fn(cur)
			if err != nil {
				return err
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if next == nil {
					p.Del(ctx, keys[0])
				} else {
					p.Set(ctx, keys[0], next, s.TTL)
				}
				if msgID != "" {
					p.Set(ctx, keys[1], 1, SeenTTL)
				}
				return nil
			})
			return err
		}, keys...)
		if !errors.Is(err, redis.TxFailedErr) {
			return dup, err
		}
	}
	return false, fmt.Errorf("conversation %s: too much contention: %w", who, err)
}

// State returns who's raw state, nil if none.
func (s *Conversations) State(ctx context.Context, who string) ([]byte, error) {
	b, err := s.R.Get(ctx, convKey(who)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	return b, err
}

// SendJob is one invitation to send through one channel.
type SendJob struct {
	ID         string `json:"id"`
	Invitation string `json:"inv"`
	Channel    string `json:"ch"`
	Attempt    int    `json:"n"`
	member     string
}

// SendQueue is a Redis sorted set of send jobs scored by when they are due.
// Claiming a job pushes its due time forward by a lease instead of removing
// it, so a job whose sender dies is sent again once the lease runs out
// (at least once; a provider message may then go out twice).
type SendQueue struct {
	R redis.UniversalClient
	// Name separates deployments that share a Redis (the database name).
	Name string
}

func (q *SendQueue) key() string { return "gw:sendq:" + q.Name }

// Enqueue schedules a job for at.
func (q *SendQueue) Enqueue(ctx context.Context, j SendJob, at time.Time) error {
	b, _ := json.Marshal(j)
	return q.R.ZAdd(ctx, q.key(), redis.Z{Score: float64(at.UnixMilli()), Member: string(b)}).Err()
}

var claimJobs = redis.NewScript(`
local due = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", ARGV[1], "LIMIT", 0, ARGV[3])
for _, m in ipairs(due) do redis.call("ZADD", KEYS[1], "XX", ARGV[2], m) end
return due`)

// Claim takes up to max due jobs for lease.
func (q *SendQueue) Claim(ctx context.Context, now time.Time, lease time.Duration, max int) ([]SendJob, error) {
	res, err := claimJobs.Run(ctx, q.R, []string{q.key()},
		now.UnixMilli(), now.Add(lease).UnixMilli(), strconv.Itoa(max)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("claim send jobs: %w", err)
	}
	jobs := make([]SendJob, 0, len(res))
	for _, m := range res {
		var j SendJob
		if json.Unmarshal([]byte(m), &j) == nil {
			j.member = m
			jobs = append(jobs, j)
		}
	}
	return jobs, nil
}

// Done removes a finished job.
func (q *SendQueue) Done(ctx context.Context, j SendJob) error {
	return q.R.ZRem(ctx, q.key(), j.member).Err()
}

// Retry replaces the job with its next attempt, due at.
func (q *SendQueue) Retry(ctx context.Context, j SendJob, at time.Time) error {
	old := j.member
	j.Attempt++
	b, _ := json.Marshal(j)
	_, err := q.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, q.key(), old)
		p.ZAdd(ctx, q.key(), redis.Z{Score: float64(at.UnixMilli()), Member: string(b)})
		return nil
	})
	return err
}

// Len is how many jobs wait or run.
func (q *SendQueue) Len(ctx context.Context) (int64, error) { return q.R.ZCard(ctx, q.key()).Result() }
