package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Stream is a Redis stream with one consumer group: webhooks append what
// they verified and answer at once; workers in every replica read, apply
// and acknowledge. An entry read but never acknowledged (its worker died)
// is claimed again after a while, so nothing acknowledged to a provider is
// left unprocessed.
type Stream struct {
	R     redis.UniversalClient
	Key   string
	Group string
}

// Entry is one stream entry.
type Entry struct {
	ID     string
	Fields map[string]string
}

// Add appends one entry per fields, in one round trip.
func (s *Stream) Add(ctx context.Context, entries ...map[string]string) error {
	_, err := s.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		s.Queue(ctx, p, entries...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("append to %s: %w", s.Key, err)
	}
	return nil
}

// Queue appends entries in p, a pipeline the caller runs.
func (s *Stream) Queue(ctx context.Context, p redis.Pipeliner, entries ...map[string]string) {
	for _, fields := range entries {
		vals := make([]any, 0, 2*len(fields))
		for k, v := range fields {
			vals = append(vals, k, v)
		}
		p.XAdd(ctx, &redis.XAddArgs{Stream: s.Key, Values: vals})
	}
}

// ensureGroup creates the consumer group once.
func (s *Stream) ensureGroup(ctx context.Context) error {
	err := s.R.XGroupCreateMkStream(ctx, s.Key, s.Group, "0").Err()
	if err != nil && !strings.Contains(err.Error(), "BUSYGROUP") {
		return fmt.Errorf("create group on %s: %w", s.Key, err)
	}
	return nil
}

// Read returns up to count entries for consumer: first its own entries
// that were never acknowledged (after a restart), then others' entries idle
// longer than stale, then new ones, waiting up to block for new ones.
func (s *Stream) Read(ctx context.Context, consumer string, count int64, stale, block time.Duration) ([]Entry, error) {
	if err := s.ensureGroup(ctx); err != nil {
		return nil, err
	}
	own, err := s.R.XReadGroup(ctx, &redis.XReadGroupArgs{Group: s.Group, Consumer: consumer, Streams: []string{s.Key, "0"}, Count: count}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read own pending of %s: %w", s.Key, err)
	}
	if out := entries(own); len(out) > 0 {
		return out, nil
	}
	claimed, _, err := s.R.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: s.Key, Group: s.Group, Consumer: consumer, MinIdle: stale, Start: "0", Count: count}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("claim stale of %s: %w", s.Key, err)
	}
	if len(claimed) > 0 {
		return entries([]redis.XStream{{Messages: claimed}}), nil
	}
	fresh, err := s.R.XReadGroup(ctx, &redis.XReadGroupArgs{Group: s.Group, Consumer: consumer, Streams: []string{s.Key, ">"}, Count: count, Block: block}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read %s: %w", s.Key, err)
	}
	return entries(fresh), nil
}

func entries(streams []redis.XStream) []Entry {
	n := 0
	for _, st := range streams {
		n += len(st.Messages)
	}
	out := make([]Entry, 0, n)
	for _, st := range streams {
		for _, m := range st.Messages {
			e := Entry{ID: m.ID, Fields: make(map[string]string, len(m.Values))}
			for k, v := range m.Values {
				e.Fields[k], _ = v.(string)
			}
			out = append(out, e)
		}
	}
	return out
}

// Ack marks entries processed and removes them.
func (s *Stream) Ack(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := s.R.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.XAck(ctx, s.Key, s.Group, ids...)
		p.XDel(ctx, s.Key, ids...)
		return nil
	})
	return err
}

// Pending is how many entries wait or are being processed.
func (s *Stream) Pending(ctx context.Context) (int64, error) {
	n, err := s.R.XLen(ctx, s.Key).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return n, err
}

// Failed counts a failed attempt at an entry and reports how many there were.
func (s *Stream) Failed(ctx context.Context, id string) (int64, error) {
	k := s.Key + ":attempts"
	n, err := s.R.HIncrBy(ctx, k, id, 1).Result()
	if err == nil {
		s.R.Expire(ctx, k, 7*24*time.Hour)
	}
	return n, err
}

// Bury moves an entry that cannot be processed to the dead-letter list
// (Key + ":dead", newest first, with the reason) and acknowledges it.
func (s *Stream) Bury(ctx context.Context, e Entry, reason string) error {
	b, _ := json.Marshal(map[string]any{"id": e.ID, "fields": e.Fields, "reason": reason, "at": time.Now().UTC()})
	if err := s.R.LPush(ctx, s.Key+":dead", b).Err(); err != nil {
		return err
	}
	s.R.HDel(ctx, s.Key+":attempts", e.ID)
	return s.Ack(ctx, e.ID)
}

// Dead returns up to n dead letters, newest first.
func (s *Stream) Dead(ctx context.Context, n int64) ([]string, error) {
	return s.R.LRange(ctx, s.Key+":dead", 0, n-1).Result()
}

// addOnce appends an entry unless its once-key is set, and sets it, in one
// step: a batch replayed after a crash tells nobody twice, and one cut
// between the two cannot lose the entry.
var addOnce = redis.NewScript(`
if redis.call("SET", KEYS[2], "1", "NX", "PX", ARGV[1]) then
  return redis.call("XADD", KEYS[1], "*", unpack(ARGV, 2))
end
return false`)

// onceTTL is how long an entry's once-key is kept: far longer than any
// replay of the batch that added it.
const onceTTL = 7 * 24 * time.Hour

// AddOnce appends each entry whose "id" field was not appended before
// (within onceTTL). The once-keys carry the stream's name as their hash
// tag, so on Redis Cluster they live in the stream's slot.
func (s *Stream) AddOnce(ctx context.Context, entries ...map[string]string) error {
	return Write(ctx, "stream.add."+s.Key, func(ctx context.Context) error {
		p := s.R.Pipeline()
		cmds := make([]*redis.Cmd, len(entries))
		for i, fields := range entries {
			args := []any{onceTTL.Milliseconds()}
			for k, v := range fields {
				args = append(args, k, v)
			}
			cmds[i] = addOnce.Eval(ctx, p, []string{s.Key, "{" + s.Key + "}:once:" + fields["id"]}, args...)
		}
		_, _ = p.Exec(ctx)
		for _, c := range cmds {
			if err := c.Err(); err != nil && !errors.Is(err, redis.Nil) { // Nil: there already
				return fmt.Errorf("append once to %s: %w", s.Key, err)
			}
		}
		return nil
	})
}
