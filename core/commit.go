package core

import (
	"context"
	"sync"
	"time"

	"github.com/sipasvn/gateway/store"
)

// groupCommit writes the responses of concurrent requests to MongoDB
// together: the first request in leads and writes everything queued in one
// batch; the others wait for that batch, and the next request in the queue
// leads the following one. Under load, one round trip carries many
// responses; alone, a response is written at once.
type groupCommit struct {
	mu    sync.Mutex
	queue []*commit
	busy  bool
}

type commit struct {
	r      *store.Response
	entry  string
	err    error
	leader bool
	wake   chan struct{}
}

// groups holds one groupCommit per outbox (per deployment in a process).
var groups sync.Map

func commitsOf(o *store.Outbox) *groupCommit {
	g, _ := groups.LoadOrStore(o, &groupCommit{})
	return g.(*groupCommit)
}

// maxCommit bounds one batch.
const maxCommit = 256

type saveFunc func(ctx context.Context, rs []*store.Response, entries []string) ([]error, error)

// do writes r (its outbox entry is entry) with save, batched with whatever
// other requests queue meanwhile, and returns what became of r.
func (g *groupCommit) do(ctx context.Context, r *store.Response, entry string, save saveFunc) error {
	c := &commit{r: r, entry: entry, wake: make(chan struct{}, 1)}
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
	batch := append([]*commit(nil), g.queue[:n]...)
	g.queue = append(g.queue[:0], g.queue[n:]...)
	g.mu.Unlock()

	// Not the leader's request context: the batch is everyone's.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	rs, entries := make([]*store.Response, len(batch)), make([]string, len(batch))
	for i, b := range batch {
		rs[i], entries[i] = b.r, b.entry
	}
	errs, err := save(wctx, rs, entries)
	cancel()
	for i, b := range batch {
		if b.err = err; err == nil {
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
