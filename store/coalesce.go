package store

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// coalesce sends the commands of concurrent requests to Redis together.
// While `limit` round trips are in flight, a command (or a pipeline) waits
// in a queue instead of taking a connection of its own; when a round trip
// ends, the queue goes as one pipeline on one connection (maxRoundTrip
// commands at most). A round trip to Redis costs the gateway a write and
// a read system call and the wake-ups around them (a quarter of its CPU
// per SMS webhook, measured on loopback), and costs Redis the same: under
// load one round trip now carries the commands of several requests. With
// fewer round trips in flight a command goes at once, as before, so a
// quiet gateway waits for nothing.
//
// Redis runs each command on its own, as it would from separate
// connections; only the commands of one pipeline stay in order and
// together, and each caller gets its own replies and errors.
// Transactions (MULTI/EXEC), reads that block on the server and commands
// that change their connection's state keep a connection of their own
// (ownConnection).
type coalesce struct {
	limit int

	mu     sync.Mutex
	flying int
	queue  []*queued

	arming  atomic.Bool
	pipe    redis.ProcessPipelineHook // the client's plain pipeline
	batches atomic.Int64              // round trips that carried a queue (for tests)
}

type queued struct {
	cmds []redis.Cmder
	done chan struct{}
}

// coalesceLimit is the round trips in flight before commands queue: one
// per processor, so replies are read in parallel, and one more.
func coalesceLimit() int { return runtime.GOMAXPROCS(0) + 1 }

// withCoalescing adds coalescing to c's commands and plain pipelines. It
// must run before c makes its first connection (see dialer).
func withCoalescing(c redis.UniversalClient, limit int) *coalesce {
	h := &coalesce{limit: limit}
	h.arming.Store(true)
	c.AddHook(h)
	h.arming.Store(false)
	return h
}

func (h *coalesce) DialHook(redis.DialHook) redis.DialHook { return nil }

// ProcessHook and ProcessPipelineHook wrap only the client's own chains,
// built while AddHook runs. go-redis builds further chains from the same
// hooks for each connection it initialises and for Conn and Watch: their
// commands must stay on their one connection, so those are left alone.
// A hook added to the client later rebuilds its chains without this one,
// so coalescing ends there (tests that inject faults through hooks run
// without it); the gateway adds none.
func (h *coalesce) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	if !h.arming.Load() {
		return nil
	}
	return func(ctx context.Context, cmd redis.Cmder) error {
		if ownConnection(cmd) {
			return next(ctx, cmd)
		}
		if err := h.run(ctx, []redis.Cmder{cmd}); err != nil {
			return err
		}
		return cmd.Err()
	}
}

// ProcessPipelineHook is asked for the plain pipeline first, then for the
// transaction pipeline, whose commands come wrapped in MULTI and EXEC
// (ownConnection sends those on).
func (h *coalesce) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	if !h.arming.Load() {
		return nil
	}
	if h.pipe == nil {
		h.pipe = next
	}
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || slices.ContainsFunc(cmds, ownConnection) {
			return next(ctx, cmds)
		}
		if err := h.run(ctx, cmds); err != nil {
			return err
		}
		for _, c := range cmds {
			if err := c.Err(); err != nil {
				return err
			}
		}
		return nil
	}
}

// ownConnection says whether cmd may wait on the server for data to come,
// or belongs to a transaction, or changes its connection's state: none
// may share a round trip. (go-redis' own autopipeliner keeps a like list.)
func ownConnection(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "xread", "xreadgroup", "blpop", "brpop", "brpoplpush", "blmove", "blmpop",
		"bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof", "migrate",
		"select", "auth", "hello", "reset", "client", "readonly", "readwrite", "asking",
		"monitor", "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe",
		"sunsubscribe", "multi", "exec", "discard", "watch", "unwatch", "shutdown", "quit":
		return true
	}
	return false
}

// run sends cmds: at once when fewer than limit round trips are in
// flight, else with the queue when one ends. A caller whose context ends
// while queued leaves the queue, its commands unsent and failed with the
// context's error; once sent, they are waited for (the client's read
// timeout bounds that).
func (h *coalesce) run(ctx context.Context, cmds []redis.Cmder) error {
	h.mu.Lock()
	if h.flying < h.limit {
		h.flying++
		h.mu.Unlock()
		defer h.release() // even if go-redis panics (an encoder's panic)
		_ = h.pipe(ctx, cmds)
		return nil
	}
	q := &queued{cmds: cmds, done: make(chan struct{})}
	h.queue = append(h.queue, q)
	h.mu.Unlock()
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
	}
	h.mu.Lock()
	if i := slices.Index(h.queue, q); i >= 0 {
		h.queue = slices.Delete(h.queue, i, i+1)
		h.mu.Unlock()
		for _, c := range cmds { // none reads as an empty success
			c.SetErr(ctx.Err())
		}
		return ctx.Err()
	}
	h.mu.Unlock()
	<-q.done
	return nil
}

// release hands the queue, if any, to a new round trip, or frees the slot.
func (h *coalesce) release() {
	h.mu.Lock()
	if len(h.queue) == 0 {
		h.flying--
		h.mu.Unlock()
		return
	}
	qs := h.take()
	h.mu.Unlock()
	go h.flush(qs)
}

// maxRoundTrip bounds the commands of one queued round trip (a caller's
// pipeline is never split), so a long queue goes as several round trips
// whose replies come back as each is read, not as one of unbounded size.
const maxRoundTrip = 512

// take removes from the queue the callers of the next round trip; h.mu
// is held.
func (h *coalesce) take() []*queued {
	n, i := 0, 0
	for i < len(h.queue) && (i == 0 || n+len(h.queue[i].cmds) <= maxRoundTrip) {
		n += len(h.queue[i].cmds)
		i++
	}
	qs := slices.Clone(h.queue[:i])
	h.queue = slices.Delete(h.queue, 0, i)
	return qs
}

// flush sends queued commands as one pipeline, then the queue that built
// up meanwhile, until none is left.
func (h *coalesce) flush(qs []*queued) {
	for {
		n := 0
		for _, q := range qs {
			n += len(q.cmds)
		}
		all := make([]redis.Cmder, 0, n)
		for _, q := range qs {
			all = append(all, q.cmds...)
		}
		h.send(all)
		h.batches.Add(1)
		for _, q := range qs {
			close(q.done)
		}
		h.mu.Lock()
		if len(h.queue) == 0 {
			h.flying--
			h.mu.Unlock()
			return
		}
		qs = h.take()
		h.mu.Unlock()
	}
}

// send runs a queued round trip. go-redis passes on a panic of the
// encoder of one caller's argument: here it fails that round trip's
// commands, as a broken connection would, instead of the process.
func (h *coalesce) send(cmds []redis.Cmder) {
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("redis: a command of this round trip panicked: %v", r)
			for _, c := range cmds {
				c.SetErr(err)
			}
		}
	}()
	_ = h.pipe(context.Background(), cmds)
}

// waiting is how many callers are queued (for tests).
func (h *coalesce) waiting() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.queue)
}
