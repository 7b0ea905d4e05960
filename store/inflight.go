package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	key, field, token string  // token is "" without a message id, key without a claim
	claimed           bool    // the first read claimed it
	mine              bool    // the in-flight marker is this delivery's
	held              *holder // renews the marker while the step runs
}

// holder keeps a delivery's in-flight marker fresh (see hold): one value
// a step, where a context, a timer's closure and the variables they
// shared were ten allocations.
type holder struct {
	s              *Conversations
	parent         context.Context // the step's, for its values; a renewal is not cancelled with it
	seenKey, field string
	mu             sync.Mutex // held by a renewal, so stop waits for it
	token          string
	stopped        bool
	t              *time.Timer
	// renewal cancels the renewal under way; stopping is set by stop
	// before it looks at renewal, and a renewal that stores its cancel
	// looks at stopping after: one of the two sees the other.
	renewal  atomic.Pointer[context.CancelFunc]
	stopping atomic.Bool
}

// hold keeps c's marker in seenKey fresh while the step runs, from the
// moment it is c's, until letGo. Nearly every step ends well within a
// renewal's period, so nothing runs unless one is due: a timer, not a
// goroutine and a ticker of its own for each message.
func (s *Conversations) hold(ctx context.Context, seenKey string, c *claim) {
	if c.held != nil {
		return
	}
	h := &holder{s: s, parent: ctx, seenKey: seenKey, field: c.field, token: c.token}
	h.mu.Lock() // t is set before a renewal reads it
	h.t = time.AfterFunc(renewEvery, h.renew)
	h.mu.Unlock()
	c.held = h
}

// renew swaps the marker for a fresh one, unless the step let go.
func (h *holder) renew() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stopped {
		return
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(h.parent))
	defer cancel()
	h.renewal.Store(&cancel)
	defer h.renewal.Store(nil)
	if h.stopping.Load() {
		return // stop began, perhaps before the cancel was there to see
	}
	next := inflight(time.Now())
	ok, err := swap.Run(ctx, h.s.R, []string{h.seenKey}, h.field, h.token, next).Int()
	if err == nil && ok == 0 {
		return // committed (the marker is the mark now), or taken over
	}
	if err == nil {
		h.token = next
	} // else Redis was slow or away: try again in a period
	h.t.Reset(renewEvery)
}

// stop ends the renewals (a renewal under way gives up) and gives the
// marker's last token.
func (h *holder) stop() string {
	h.stopping.Store(true)
	if cancel := h.renewal.Load(); cancel != nil {
		(*cancel)()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stopped = true
	h.t.Stop()
	return h.token
}

// letGo stops renewing c's marker.
func (c *claim) letGo() {
	if c.held != nil {
		c.token, c.held = c.held.stop(), nil
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
