package core

import (
	"context"
	"sync"
	"time"
)

// groupCommit writes the items of concurrent requests to MongoDB together:
// the first request in leads and writes everything queued in one batch; the
// others wait for that batch, and the next request in the queue leads the
// following one. Under load, one round trip carries many items; alone, an
// item is written at once.
type groupCommit[T any] struct {
	mu    sync.Mutex
	queue []*commit[T]
	busy  bool
}

type commit[T any] struct {
	item   T
	err    error
	leader bool
	wake   chan struct{}
}

// maxCommit bounds one batch.
const maxCommit = 256

// saveBatch writes items and says what became of each (errs, nil when all
// were written) or of the whole batch (err).
type saveBatch[T any] func(ctx context.Context, items []T) (errs []error, err error)

// do writes item with save, batched with whatever other requests queue
// meanwhile, and returns what became of it.
func (g *groupCommit[T]) do(ctx context.Context, item T, save saveBatch[T]) error {
	c := &commit[T]{item: item, wake: make(chan struct{}, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, c)
	if g.busy {
		g.mu.Unlock()
		<-c.wake // the leader always wakes us: its writes have timeouts
		if !c.leader {
			return c.err
		}
		g.mu.Lock()
	}
	g.busy = true
	n := min(len(g.queue), maxCommit)
	batch := append([]*commit[T](nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()

	// Not the leader's request context: the batch is everyone's.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	items := make([]T, len(batch))
	for i, b := range batch {
		items[i] = b.item
	}
	errs, err := save(wctx, items)
	cancel()
	for i, b := range batch {
		if b.err = err; err == nil && errs != nil {
			b.err = errs[i]
		}
	}

	g.mu.Lock()
	if len(g.queue) > 0 {
		g.queue[0].leader = true
		g.queue[0].wake <- struct{}{}
	} else {
		g.busy = false
	}
	g.mu.Unlock()
	for _, b := range batch {
		if b != c {
			b.wake <- struct{}{}
		}
	}
	return c.err
}

// groups holds one groupCommit per destination (an outbox, a messages
// collection) in a process, so copies of a Service share it.
var groups sync.Map

func groupOf[T any](key any) *groupCommit[T] {
	g, _ := groups.LoadOrStore(key, &groupCommit[T]{})
	return g.(*groupCommit[T])
}
