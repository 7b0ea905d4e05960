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

// SendJob is one invitation to send through one channel.
type SendJob struct {
	ID         string `json:"id"`
	Invitation string `json:"inv"`
	Channel    string `json:"ch"`
	Attempt    int    `json:"n"`
	// Case, when set, sends that follow-up case's answer, not the
	// invitation; Answer is which of its answers (1, 2… after a reopen).
	Case   string `json:"case,omitempty"`
	Answer int    `json:"a,omitempty"`
	// Ticket, when set, sends that feedback ticket's one-time code number
	// Code (see core.CodeToSend), not an invitation.
	Ticket string `json:"fb,omitempty"`
	Code   int    `json:"c,omitempty"`
	// Kind is SendKindReminder for an invitation's reminder.
	Kind   string `json:"k,omitempty"`
	member string
}

// SendQueue is a Redis sorted set of send jobs scored by when they are due.
// Claiming a job pushes its due time forward by a lease instead of removing
// it, so a job whose sender dies is sent again once the lease runs out
// (at least once; a provider message may then go out twice, unless its
// sender marks the job when the provider took it: see Took).
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

// EnqueueNX schedules j for at unless the same job waits already (an
// invitation's one reminder, from whichever of its channels reached the
// citizen first: its job names no channel); false when it did.
func (q *SendQueue) EnqueueNX(ctx context.Context, j SendJob, at time.Time) (bool, error) {
	b, _ := json.Marshal(j)
	n, err := q.R.ZAddNX(ctx, q.key(), redis.Z{Score: float64(at.UnixMilli()), Member: string(b)}).Result()
	if err != nil {
		return false, fmt.Errorf("schedule send job %s: %w", j.ID, err)
	}
	return n == 1, nil
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

// Postpone makes a claimed job due again at, as it is (a job that had to
// wait is not a failed attempt).
func (q *SendQueue) Postpone(ctx context.Context, j SendJob, at time.Time) error {
	return q.R.ZAddXX(ctx, q.key(), redis.Z{Score: float64(at.UnixMilli()), Member: j.member}).Err()
}

// takenTTL is how long a job's mark is kept: longer than any job waits
// or retries.
const takenTTL = 30 * 24 * time.Hour

func (q *SendQueue) takenKey(id string) string { return q.key() + ":taken:" + id }

// Took marks job id's message as taken by its provider, with what the
// sender needs to finish the job (v). Claiming is at least once (see
// SendQueue): a sender that takes the job again after a cut finds the
// mark and finishes the job without sending it again.
func (q *SendQueue) Took(ctx context.Context, id string, v []byte) error {
	if err := q.R.Set(ctx, q.takenKey(id), v, takenTTL).Err(); err != nil {
		return fmt.Errorf("mark send job %s taken: %w", id, err)
	}
	return nil
}

// Taken returns what Took kept for job id, or nil when its message was
// not taken yet.
func (q *SendQueue) Taken(ctx context.Context, id string) ([]byte, error) {
	v, err := q.R.Get(ctx, q.takenKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read send job %s's mark: %w", id, err)
	}
	return v, nil
}

// Len is how many jobs wait or run.
func (q *SendQueue) Len(ctx context.Context) (int64, error) { return q.R.ZCard(ctx, q.key()).Result() }
