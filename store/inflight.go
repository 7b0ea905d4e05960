package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// inflightLease is how long a delivery that is applying a message keeps
// another delivery of it waiting for its answer (see Step); a delivery
// whose process died is taken over after it.
const inflightLease = 10 * time.Second

// release drops a delivery's in-flight marker if it is still there.
var release = redis.NewScript(`
if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then redis.call("HDEL", KEYS[1], ARGV[1]) end
return 0`)

// claim is what a step holds of its message.
type claim struct {
	key, field, token string // token is "" without a message id, key without a claim
	claimed           bool   // the first read claimed it
	mine              bool   // the in-flight marker is this delivery's
}

// outcome is what a read says of a step's message.
type outcome int

const (
	apply   outcome = iota // run the step
	applied                // a duplicate: do not
	wait                   // another delivery is applying it
)

// verdict reads the claims: the channel's owner of the id, then the
// citizen's seen field (this delivery's marker, another's, or a mark).
func (c *claim) verdict(owner, seen *redis.StringCmd, io *StepIO) (outcome, error) {
	if owner != nil {
		who, err := owner.Result()
		if err != nil {
			return apply, wrapRead(err)
		}
		if who != io.Owner {
			io.Foreign = true
			return applied, nil
		}
	}
	mark, err := seen.Result()
	switch {
	case err != nil:
		return apply, wrapRead(err)
	case mark == c.token:
		return apply, nil
	case strings.HasPrefix(mark, "~"):
		if stale(mark) {
			return apply, nil // its delivery died: the commit script takes over any marker
		}
		return wait, nil
	}
	io.Seen = mark
	return applied, nil
}

// await waits for the delivery in flight to commit (then the message is
// a duplicate with its mark), to give up (then this one takes it) or to
// go stale.
func (s *Conversations) await(ctx context.Context, seenKey string, c *claim, io *StepIO) (outcome, error) {
	for pause := 5 * time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		select {
		case <-ctx.Done():
			return apply, ctx.Err()
		case <-time.After(pause):
		}
		mark, err := s.R.HGet(ctx, seenKey, c.field).Result()
		switch {
		case errors.Is(err, redis.Nil):
			if c.mine, err = s.R.HSetNX(ctx, seenKey, c.field, c.token).Result(); err != nil || c.mine {
				return apply, wrapRead(err)
			}
		case err != nil:
			return apply, wrapRead(err)
		case !strings.HasPrefix(mark, "~"):
			io.Seen = mark
			return applied, nil
		case stale(mark):
			return apply, nil
		}
	}
}

// inflight is a delivery's marker: "~", when it began (Unix ms), a nonce.
func inflight(now time.Time) string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return "~" + strconv.FormatInt(now.UnixMilli(), 10) + ":" + hex.EncodeToString(b)
}

// stale says whether an in-flight marker is past its lease.
func stale(marker string) bool {
	at, _, _ := strings.Cut(strings.TrimPrefix(marker, "~"), ":")
	ms, err := strconv.ParseInt(at, 10, 64)
	return err != nil || time.Since(time.UnixMilli(ms)) > inflightLease
}
