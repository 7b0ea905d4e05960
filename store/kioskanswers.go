package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// claimTTL bounds a claim whose request died before settling it.
const claimTTL = time.Minute

// ClaimAnswer claims an idempotency key for a desk's answer. It returns a
// claim to settle when this request holds the key now, or else the
// outcome stored for the key ("pending" while another request holds it).
func (k *Kiosks) ClaimAnswer(ctx context.Context, desk, key string) (claim, outcome string, err error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	claim = "pending:" + hex.EncodeToString(b[:])
	for range 3 {
		ok, err := k.R.SetNX(ctx, k.key("ans", desk+":"+key), claim, claimTTL).Result()
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
