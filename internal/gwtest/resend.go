package gwtest

import (
	"context"
	"slices"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Resend makes every round trip to Redis run twice from then on, the
// caller seeing the second run's replies: what go-redis does when a reply
// is lost after the server ran the commands (a read timeout, a dropped
// connection), for single commands, pipelines and transactions alike. A
// write that is not safe to run again shows as a count doubled, a queue
// entry made twice or a second answer unlike the first. Reads that block
// on the server (a stream consumer's XREADGROUP) run once: sent again,
// their first entries would wait for the pending sweep, not be lost. It
// returns how many round trips ran twice.
func Resend(r redis.UniversalClient) *atomic.Int64 {
	h := &resend{}
	r.AddHook(h)
	return &h.n
}

type resend struct{ n atomic.Int64 }

func (h *resend) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *resend) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if blocks(cmd) {
			return next(ctx, cmd)
		}
		h.n.Add(1)
		_ = next(ctx, cmd)
		cmd.SetErr(nil)
		return next(ctx, cmd)
	}
}

func (h *resend) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, blocks) {
			return next(ctx, cmds)
		}
		h.n.Add(1)
		_ = next(ctx, cmds)
		for _, c := range cmds {
			c.SetErr(nil)
		}
		return next(ctx, cmds)
	}
}

func blocks(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "xread", "xreadgroup", "blpop", "brpop", "blmove", "bzpopmin", "bzpopmax", "subscribe", "psubscribe":
		return true
	}
	return false
}
