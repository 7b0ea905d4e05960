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
// keyed phone hash or chat user id), remembers which provider messages were
// already applied, and indexes each citizen's invitations (IndexInvitations).
// A step reads the state and the message's dedupe mark in one round trip and
// commits the new state with the mark in one compare-and-set script, so the
// same message delivered twice, or two messages from one citizen at the same
// moment, can neither double nor lose an answer.
type Conversations struct {
	R   redis.UniversalClient
	TTL time.Duration // how long an idle conversation lives
}

// SeenTTL is how long a provider message id is remembered after the
// citizen's last message; providers retry for hours, not weeks.
const SeenTTL = 7 * 24 * time.Hour

// Keys of one citizen share a hash tag, so a script over them works on
// Redis Cluster. The message ids a citizen's messages were applied under
// are fields of one hash (channel:id), not a key each: a key costs some 90
// bytes of overhead in Redis, a small hash's field only its own bytes.
func convKey(who string) string { return "gw:conv:{" + who + "}" }
func seenKey(who string) string { return "gw:conv:{" + who + "}:seen" }
func doneKey(who string) string { return "gw:conv:{" + who + "}:done" }

// DoneTTL is how long a citizen's completed invitations are remembered for
// their conversation (beyond any invitation's life).
const DoneTTL = 60 * 24 * time.Hour

// MarkDone notes that who's invitation has its response (from any channel),
// so the citizen's conversation moves on without asking anything else.
func (s *Conversations) MarkDone(ctx context.Context, who, invitation string) error {
	_, err := s.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.SAdd(ctx, doneKey(who), invitation)
		p.PExpire(ctx, doneKey(who), DoneTTL)
		return nil
	})
	return err
}

// StepIO is what a step reads and writes beside the conversation, in the
// same round trips: a message then costs two, one read and one commit.
type StepIO struct {
	// Before, when set, queues commands with the read (a rate limit) and
	// returns what decides whether the step may go on.
	Before func(p redis.Pipeliner) func() error
	// After, when set, queues commands with each commit (sent-message
	// records). A commit that loses to another message runs them again,
	// so they must be idempotent.
	After func(p redis.Pipeliner)
	// Done is filled by the read: the citizen's invitations that have
	// their response (see MarkDone).
	Done map[string]bool
}

// commitStep writes a step unless its message was applied meanwhile ("dup")
// or the state is no longer the one the step read ("conflict"). The exact
// bytes are compared, so no version key is needed: a state that changed and
// changed back is the very state the step was computed on. KEYS: state,
// seen mark (absent without a message id). ARGV: "1" when a state was read
// (then its bytes), "1" when there is a next state (then its bytes), the
// state's TTL in ms (0: none), the seen marks' TTL in ms, the message's
// field in the seen hash.
var commitStep = redis.NewScript(`
if KEYS[2] and redis.call("HEXISTS", KEYS[2], ARGV[7]) == 1 then return "dup" end
local cur = redis.call("GET", KEYS[1])
if ARGV[1] == "1" then
  if cur ~= ARGV[2] then return "conflict" end
elseif cur then
  return "conflict"
end
if ARGV[3] ~= "1" then
  redis.call("DEL", KEYS[1])
elseif ARGV[5] ~= "0" then
  redis.call("SET", KEYS[1], ARGV[4], "PX", ARGV[5])
else
  redis.call("SET", KEYS[1], ARGV[4])
end
if KEYS[2] then
  redis.call("HSET", KEYS[2], ARGV[7], "1")
  redis.call("PEXPIRE", KEYS[2], ARGV[6])
end
return "ok"`)

// maxAttempts bounds the retries of one step. Each conflict means another
// message of the citizen committed, so n messages at once need at most n
// attempts each.
const maxAttempts = 100

// Step loads who's state into fn and stores what fn returns (nil deletes),
// marking msgID of channel as applied in the same atomic write, which
// happens only if the state is still the one fn was given. A message
// already applied is not given to fn: dup is true. fn may run more than once
// when another message of the same citizen commits first, so its side
// effects must be idempotent. It costs two round trips to Redis (and two
// more per retry), where a WATCH/MULTI transaction cost four.
func (s *Conversations) Step(ctx context.Context, who, channel, msgID string, io *StepIO, fn func(state []byte) ([]byte, error)) (dup bool, err error) {
	if io == nil {
		io = &StepIO{}
	}
	keys, field := []string{convKey(who)}, channel+":"+msgID
	if msgID != "" {
		keys = append(keys, seenKey(who))
	}
	before := io.Before // counted once, whatever the attempts
	for attempt := 0; attempt < maxAttempts; attempt++ {
		cur, dup, err := s.read(ctx, who, keys, field, io, before)
		before = nil
		if err != nil || dup {
			return dup, err
		}
		next, err := fn(cur)
		if err != nil {
			return false, err
		}
		var res string
		args := []any{flag(cur != nil), cur, flag(next != nil), next, s.TTL.Milliseconds(), SeenTTL.Milliseconds(), field}
		if io.After == nil {
			res, err = commitStep.Run(ctx, s.R, keys, args...).Text()
		} else {
			var cmd *redis.Cmd
			_, err = s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
				cmd = commitStep.EvalSha(ctx, p, keys, args...)
				io.After(p)
				return nil
			})
			if err != nil && redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
				// The first step since Redis started: the rest of the
				// pipeline ran; only the script goes again, in full.
				cmd = commitStep.Eval(ctx, s.R, keys, args...)
				err = cmd.Err()
			}
			if err == nil {
				res, err = cmd.Text()
			}
		}
		if err != nil {
			return false, fmt.Errorf("conversation %s: commit step: %w", who, err)
		}
		if res != "conflict" {
			return res == "dup", nil
		}
	}
	return false, fmt.Errorf("conversation %s: too much contention (%d attempts)", who, maxAttempts)
}

// read returns the state (nil if none) and whether the message was applied,
// in one round trip with the done invitations and what before queues.
func (s *Conversations) read(ctx context.Context, who string, keys []string, field string, io *StepIO, before func(redis.Pipeliner) func() error) ([]byte, bool, error) {
	var get *redis.StringCmd
	var seen *redis.BoolCmd
	var done *redis.StringSliceCmd
	var allowed func() error
	_, _ = s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		if before != nil {
			allowed = before(p)
		}
		get = p.Get(ctx, keys[0])
		if len(keys) > 1 {
			seen = p.HExists(ctx, keys[1], field)
		}
		done = p.SMembers(ctx, doneKey(who))
		return nil
	}) // each command carries its own error
	if allowed != nil {
		if err := allowed(); err != nil {
			return nil, false, err
		}
	}
	if seen != nil {
		applied, err := seen.Result()
		if err != nil || applied {
			return nil, applied, wrapRead(err)
		}
	}
	ids, err := done.Result()
	if err != nil {
		return nil, false, wrapRead(err)
	}
	io.Done = make(map[string]bool, len(ids))
	for _, id := range ids {
		io.Done[id] = true
	}
	cur, err := get.Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return cur, false, wrapRead(err)
}

func wrapRead(err error) error {
	if err != nil {
		return fmt.Errorf("read conversation: %w", err)
	}
	return nil
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
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
