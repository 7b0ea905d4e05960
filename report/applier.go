package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sipasvn/gateway/store"
)

// Applier is the one writer of roll-ups. FerretDB loses concurrent $inc
// writes to one document, so increments never come from request handlers:
// saved responses are counted here, in batches, one batch at a time, under a
// Redis lease so that only one replica writes.
//
// Each batch is journalled before it is applied (store.ApplierState), and
// every cell records the last batch it took, so a batch cut short by a crash
// is replayed without counting anything twice.
type Applier struct {
	Mongo *store.Mongo
	Locks *store.Locks
	Log   *slog.Logger
	// BatchSize bounds how many responses one batch takes (default 200).
	BatchSize int64
	kick      chan struct{}
}

const leaseTTL = 30 * time.Second

// NewApplier returns an applier ready to Run.
func NewApplier(m *store.Mongo, l *store.Locks, log *slog.Logger) *Applier {
	return &Applier{Mongo: m, Locks: l, Log: log, BatchSize: 200, kick: make(chan struct{}, 1)}
}

// leaseName is per database, so deployments sharing a Redis do not wait on
// each other.
func (a *Applier) leaseName() string { return "rollups:" + a.Mongo.DB.Name() }

// Kick asks the applier to look for new responses now. It never blocks.
func (a *Applier) Kick() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run applies batches until ctx ends, on every kick and every tick, and
// sweeps for responses without an uncounted copy at start and hourly.
func (a *Applier) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	swept := time.Time{}
	for {
		if time.Since(swept) > time.Hour {
			if err := a.Sweep(ctx); err != nil && ctx.Err() == nil {
				a.Log.Error("sweep for uncounted responses failed; will retry", "err", err)
			} else {
				swept = time.Now()
			}
		}
		if err := a.Drain(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("roll-up batch failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
		}
	}
}

// Drain applies batches until none is left, returning how many responses it
// counted. Another replica holding the lease is not an error.
func (a *Applier) Drain(ctx context.Context) error {
	lease, err := a.Locks.Acquire(ctx, a.leaseName(), leaseTTL)
	if errors.Is(err, store.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, leaseTTL)
	defer stop()
	for {
		n, err := a.step(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}

// Sweep gives an uncounted copy to every response not yet counted that has
// none (its process died between writing the two). It reads the whole
// responses collection on FerretDB, so it runs rarely.
func (a *Applier) Sweep(ctx context.Context) error {
	lease, err := a.Locks.Acquire(ctx, a.leaseName(), leaseTTL)
	if errors.Is(err, store.ErrLocked) {
		return nil
	}
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, leaseTTL)
	defer stop()
	// A journalled batch is finished first: its responses are not applied
	// yet but have been counted in part.
	if _, err := a.step(ctx); err != nil {
		return err
	}
	st, err := a.Mongo.Rollups.State(ctx)
	if err != nil || !st.Done {
		return err
	}
	var after string
	for {
		rs, err := a.Mongo.Responses.Unapplied(ctx, after, 1000)
		if err != nil || len(rs) == 0 {
			return err
		}
		if err := a.Mongo.Responses.NoteUncounted(ctx, rs); err != nil {
			return err
		}
		after = rs[len(rs)-1].ID
	}
}

// step finishes a journalled batch or starts and applies the next one.
func (a *Applier) step(ctx context.Context) (int, error) {
	st, err := a.Mongo.Rollups.State(ctx)
	if err != nil {
		return 0, err
	}
	var resps []store.Response
	if st.Done {
		resps, err = a.Mongo.Responses.Uncounted(ctx, a.BatchSize)
		if err != nil || len(resps) == 0 {
			return 0, err
		}
		next := store.ApplierState{Batch: st.Batch + 1, Pending: ids(resps)}
		if err := a.Mongo.Rollups.SaveState(ctx, st.Batch, next); err != nil {
			return 0, err
		}
		st = next
	} else if resps, err = a.Mongo.Responses.ByIDs(ctx, st.Pending); err != nil {
		return 0, err
	}
	return len(resps), a.apply(ctx, st, resps)
}

func (a *Applier) apply(ctx context.Context, st store.ApplierState, resps []store.Response) error {
	cells := store.Cells{}
	for i := range resps {
		for k, c := range CellsOf(&resps[i]) {
			cells.Add(k, c)
		}
	}
	if err := a.Mongo.Rollups.Apply(ctx, st.Batch, cells); err != nil {
		return err
	}
	// Repair: a response saved by a handler that died before it marked the
	// invitation completed still completes it here.
	done := make([]*store.Response, len(resps))
	for i := range resps {
		done[i] = &resps[i]
	}
	if err := a.Mongo.Invitations.MarkCompletedBy(ctx, done); err != nil {
		return err
	}
	if err := a.Mongo.Responses.MarkApplied(ctx, st.Pending); err != nil {
		return err
	}
	st.Done = true
	return a.Mongo.Rollups.SaveState(ctx, st.Batch, st)
}

func ids(rs []store.Response) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// Rebuild recomputes every roll-up from the raw responses, streaming them
// through Go (no aggregation pipeline: FerretDB's $group is incomplete). It
// holds the writer's lease, so the live applier pauses meanwhile.
func (a *Applier) Rebuild(ctx context.Context) (int, error) {
	lease, err := a.waitLease(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild: take the roll-up lease: %w", err)
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, leaseTTL)
	defer stop()
	st, err := a.Mongo.Rollups.State(ctx)
	if err != nil {
		return 0, err
	}
	cells, unapplied, n := store.Cells{}, []string{}, 0
	err = a.Mongo.Responses.Each(ctx, func(r *store.Response) error {
		n++
		for k, c := range CellsOf(r) {
			cells.Add(k, c)
		}
		if !r.Applied {
			unapplied = append(unapplied, r.ID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	next := store.ApplierState{Batch: st.Batch + 1, Done: true}
	if err := a.Mongo.Rollups.ReplaceAll(ctx, cells, next.Batch); err != nil {
		return 0, err
	}
	if err := a.Mongo.Responses.MarkApplied(ctx, unapplied); err != nil {
		return 0, err
	}
	return n, a.Mongo.Rollups.SaveState(ctx, st.Batch, next)
}

// waitLease waits for the live writer to finish its batch and takes the lease.
func (a *Applier) waitLease(ctx context.Context) (*store.Lease, error) {
	for {
		lease, err := a.Locks.Acquire(ctx, a.leaseName(), leaseTTL)
		if !errors.Is(err, store.ErrLocked) {
			return lease, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Compare returns the cells where the stored roll-ups differ from a rebuild
// computed in memory; empty means they agree.
func Compare(ctx context.Context, m *store.Mongo) ([]string, error) {
	want := store.Cells{}
	err := m.Responses.Each(ctx, func(r *store.Response) error {
		for k, c := range CellsOf(r) {
			want.Add(k, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	got, err := m.Rollups.Query(ctx, store.Filter{})
	if err != nil {
		return nil, err
	}
	var diff []string
	for k, c := range want {
		if got[k] != c {
			diff = append(diff, fmt.Sprintf("%v: stored %v, rebuilt %v", k, got[k], c))
		}
	}
	for k, c := range got {
		if _, ok := want[k]; !ok {
			diff = append(diff, fmt.Sprintf("%v: stored %v, not in responses", k, c))
		}
	}
	return diff, nil
}
