package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// A kiosk's answers carry idempotency keys: each is claimed in Redis by
// the request that takes it, then settled with the answer's outcome, so
// a tablet that sends an answer again gets the first outcome.

// answerKeyTTL is how long an answer's idempotency key is remembered:
// longer than a kiosk stays offline.
const answerKeyTTL = 30 * 24 * time.Hour

// claimLease is how long a claim keeps a retry of its key waiting (the
// tablet hears 409) without being renewed. The request renews it while
// it runs (HoldAnswer), so the lease needs no room for a slow request: a
// retry after the process died takes the key about 2 s after the last
// renewal. (A fixed minute made every tablet's retry after a crash wait
// that long.)
const claimLease = 2 * time.Second

// ClaimAnswer claims an idempotency key for a desk's answer. It returns a
// claim to settle when this request holds the key now, or else the
// outcome stored for the key ("pending" while another request holds it).
func (k *Kiosks) ClaimAnswer(ctx context.Context, desk, key string) (claim, outcome string, err error) {
	claim = "pending:" + nonce()
	for range 3 {
		ok, err := takeKey(ctx, k.R, k.key("ans", desk+":"+key), claim, claimLease) // ours again when sent again
		if err != nil || ok {
			return claim, "", err
		}
		v, err := k.R.Get(ctx, k.key("ans", desk+":"+key)).Result()
		if errors.Is(err, redis.Nil) {
			continue // expired in between
		}
		if err != nil {
			return "", "", err
		}
		if strings.HasPrefix(v, "pending:") {
			return "", "pending", nil
		}
		return "", v, nil
	}
	return "", "pending", nil
}

// renew extends a claim's lease if the claim still holds its key.
var renew = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`)

// HoldAnswer renews claim's lease until the returned stop is called:
// several times a lease, so one slow round trip to Redis does not let it
// lapse under a live request.
func (k *Kiosks) HoldAnswer(ctx context.Context, desk, key, claim string) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(claimLease / 4)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			n, err := renew.Run(ctx, k.R, []string{k.key("ans", desk+":"+key)}, claim, claimLease.Milliseconds()).Int()
			if err == nil && n == 0 {
				return // settled, or taken over
			} // an error: Redis was slow or away; try again at the next tick
		}
	}()
	return func() { cancel(); <-done }
}

// settle stores an answer's outcome (or frees the key, for "") only if the
// claim still holds it.
var settle = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1`)

// SettleAnswer ends a claim: outcome is kept under the key, or "" frees
// the key for a retry. It runs even when the request was cancelled.
func (k *Kiosks) SettleAnswer(ctx context.Context, desk, key, claim, outcome string) error {
	return settle.Run(context.WithoutCancel(ctx), k.R, []string{k.key("ans", desk+":"+key)}, claim, outcome, answerKeyTTL.Milliseconds()).Err()
}
