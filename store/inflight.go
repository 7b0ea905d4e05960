package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// inflightLease is how long a delivery's in-flight marker keeps another
// delivery of its message waiting (see Step) without being renewed. A live
// delivery renews it as long as its step takes (hold), so the lease needs
// no room for a slow step: a delivery whose process died is taken over
// about a second after its last renewal. (A fixed lease of 10 s made every
// provider retry after a crash wait that long.)
const inflightLease = time.Second

// renewEvery is how often a live delivery renews its marker: several times
// a lease, so one slow round trip to Redis does not let it lapse.
const renewEvery = inflightLease / 4

// release drops a delivery's in-flight marker if it is still there.
var release = redis.NewScript(`
if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then redis.call("HDEL", KEYS[1], ARGV[1]) end
return 0`)

// swap replaces a delivery's marker with another (a renewal, or a dead
// delivery's marker taken over) if it is still the one named; 1 if done.
var swap = redis.NewScript(`
if redis.call("HGET", KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call("HSET", KEYS[1], ARGV[1], ARGV[3])
return 1`)

// claim is what a step holds of its message.
type claim struct {
	key, field, token string        // token is "" without a message id, key without a claim
	claimed           bool          // the first read claimed it
	mine              bool          // the in-flight marker is this delivery's
	renewing          func() string // stops renewing the marker; gives its last token
}

// hold keeps c's marker in seenKey fresh while the step runs, from the
// moment it is c's, until letGo. Nearly every step ends well within a
// renewal's period, so nothing runs unless one is due: a timer, not a
// goroutine and a ticker of its own for each message.
func (s *Conversations) hold(ctx context.Context, seenKey string, c *claim) {
	if c.renewing != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var mu sync.Mutex // held by a renewal, so letGo waits for it
	token, stopped := c.token, false
	var t *time.Timer
	mu.Lock() // t is set before a renewal reads it
	defer mu.Unlock()
	t = time.AfterFunc(renewEvery, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		next := inflight(time.Now())
		ok, err := swap.Run(ctx, s.R, []string{seenKey}, c.field, token, next).Int()
		if err == nil && ok == 0 {
			return // committed (the marker is the mark now), or taken over
		}
		if err == nil {
			token = next
		} // else Redis was slow or away: try again in a period
		t.Reset(renewEvery)
	})
	c.renewing = func() string {
		cancel() // a renewal under way gives up
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
		return token
	}
}

// letGo stops renewing c's marker.
func (c *claim) letGo() {
	if c.renewing != nil {
		c.token, c.renewing = c.renewing(), nil
	}
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
		return wait, nil // await takes it over if its delivery died
	}
	io.Seen = mark
	return applied, nil
}

// await waits for the delivery in flight to commit (then the message is
// a duplicate with its mark), to give up or to go stale (then this one
// takes it, with a marker of its own, so a third delivery waits for it).
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
			ok, err := swap.Run(ctx, s.R, []string{seenKey}, c.field, mark, c.token).Int()
			if c.mine = ok == 1; err != nil || c.mine {
				return apply, wrapRead(err)
			}
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
