package store

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Signals keeps in Redis what the integrity signals count across answers
// (see core's signals): the responses each browser and each phone
// answered within a sliding window, and each form's moments of the
// logarithm of answering times. Losing them (a Redis without
// persistence) only lets a signal start counting again.
type Signals struct {
	R    redis.UniversalClient
	Name string
}

// NewSignals returns the deployment's signal counts.
func NewSignals(r redis.UniversalClient, name string) *Signals {
	return &Signals{R: r, Name: name}
}

// key names one count: kind (device, phone, durations) of id, each in
// its own slot.
func (s *Signals) key(kind, id string) string {
	return "gw:sig:" + kind + ":" + s.Name + ":{" + id + "}"
}

// RecentIn queues on p the read of the responses kind who answered since
// since; the func gives their ids once p has run.
func (s *Signals) RecentIn(ctx context.Context, p redis.Pipeliner, kind, who string, since time.Time) func() ([]string, error) {
	cmd := p.ZRangeByScore(ctx, s.key(kind, who), &redis.ZRangeBy{Min: strconv.FormatInt(since.UnixMilli(), 10), Max: "+inf"})
	return func() ([]string, error) {
		ids, err := cmd.Result()
		if errors.Is(err, redis.Nil) {
			err = nil
		}
		return ids, err
	}
}

// repeat adds a response (ARGV[1]) at ARGV[2] ms to a window of ARGV[3]
// ms, drops those older and returns the window's responses, oldest first,
// in one step: two answers at once each see the other.
var repeat = redis.NewScript(`
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. (tonumber(ARGV[2]) - tonumber(ARGV[3])))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('ZRANGE', KEYS[1], 0, -1)`)

// RepeatIn queues on p the note that kind who answered response at at,
// kept for window; the func gives the responses who answered within
// window of at, this one included, once p has run.
func (s *Signals) RepeatIn(ctx context.Context, p redis.Pipeliner, kind, who, response string, at time.Time, window time.Duration) func() ([]string, error) {
	cmd := repeat.Eval(ctx, p, []string{s.key(kind, who)}, response, at.UnixMilli(), window.Milliseconds())
	return func() ([]string, error) { return cmd.StringSlice() }
}

// Forget drops what is counted of kind who (an erased citizen's phone).
func (s *Signals) Forget(ctx context.Context, kind, who string) error {
	return s.R.Del(ctx, s.key(kind, who)).Err()
}

// Moments are the count, sum and sum of squares of values (the
// logarithms of a form's answering times).
type Moments struct {
	N          int64
	Sum, SumSq float64
}

// MomentsIn queues on p the read of the moments named id; the func gives
// them (zero when none) once p has run.
func (s *Signals) MomentsIn(ctx context.Context, p redis.Pipeliner, id string) func() (Moments, error) {
	cmd := p.HMGet(ctx, s.key("durations", id), "n", "s1", "s2")
	return func() (Moments, error) {
		v, err := cmd.Result()
		if err != nil || len(v) != 3 {
			return Moments{}, err
		}
		var m Moments
		if n, ok := v[0].(string); ok { // none yet: nil, and no parse (whose error allocates)
			m.N, _ = strconv.ParseInt(n, 10, 64)
		}
		if s1, ok := v[1].(string); ok {
			m.Sum, _ = strconv.ParseFloat(s1, 64)
		}
		if s2, ok := v[2].(string); ok {
			m.SumSq, _ = strconv.ParseFloat(s2, 64)
		}
		return m, nil
	}
}

// addMoment adds ARGV[1], response ARGV[2]'s, to the moments of KEYS[1]
// in one step, unless that response was the last added: the script sent
// again by go-redis after a lost reply, or a completion's clean-up
// queued again for a redelivered message, adds nothing more.
var addMoment = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'last') == ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'last', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HINCRBYFLOAT', KEYS[1], 's1', ARGV[1])
redis.call('HINCRBYFLOAT', KEYS[1], 's2', tonumber(ARGV[1]) * tonumber(ARGV[1]))
return 1`)

// AddMomentIn queues on p adding x, response's, to the moments named id.
func (s *Signals) AddMomentIn(ctx context.Context, p redis.Pipeliner, id, response string, x float64) {
	addMoment.Eval(ctx, p, []string{s.key("durations", id)}, strconv.FormatFloat(x, 'g', -1, 64), response)
}
