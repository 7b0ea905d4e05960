package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
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
	// Started, when set, holds invitations begun that this writer marks in
	// progress (see core.Service.Started).
	Started *store.Started
	// Funnel, when set, holds invitation events (made, sent) this writer
	// counts into the response-rate cells.
	Funnel *store.Funnel
	Log    *slog.Logger
	// Lexicon classifies comments into topics; a database counted with
	// another lexicon version is rebuilt once at start (nil: no topics).
	Lexicon *survey.Lexicon
	// Calendar counts the working days follow-up cases are due in; nil
	// opens no cases.
	Calendar *survey.Calendar
	// Notices, when set, takes the notices of cases opened for agencies
	// with a webhook.
	Notices *store.Stream
	// OpenCases, when set, indexes the cases opened as open.
	OpenCases *store.OpenCases
	// BatchSize bounds how many responses one batch takes (default 200).
	BatchSize int64
	// RebuildSlice is how many responses a rebuild counts before writing
	// their cells (default 5,000).
	RebuildSlice int
	// Settle is how long a response may take to be written after its
	// uncounted copy before the copy counts as left by a dead process
	// (default 30 s: the 15 s outbox grace plus a write's timeout).
	Settle time.Duration
	kick   chan struct{}
}

const leaseTTL = 30 * time.Second

// NewApplier returns an applier ready to Run.
func NewApplier(m *store.Mongo, l *store.Locks, log *slog.Logger) *Applier {
	return &Applier{Mongo: m, Locks: l, Log: log, BatchSize: 200, RebuildSlice: 5_000, Settle: 30 * time.Second, kick: make(chan struct{}, 1)}
}

// lexicon is the version of the lexicon comments are classified with
// ("" for none).
func (a *Applier) lexicon() string {
	if a.Lexicon == nil {
		return ""
	}
	return a.Lexicon.Version
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

// Run applies batches until ctx ends, on every kick and every tick. On a
// database whose roll-ups are in an older layout (one document per cell,
// or without response-rate cells) it first rebuilds every roll-up, once
// (best at a quiet moment: see the note on Rebuild).
func (a *Applier) Run(ctx context.Context, every time.Duration) {
	if st, err := a.Mongo.Rollups.State(ctx); err == nil && st.Stored && (st.Layout < store.Layout || st.Lexicon != a.lexicon()) {
		a.Log.Info("rebuilding the roll-ups in their current layout and lexicon, once", "from_layout", st.Layout, "layout", store.Layout,
			"from_lexicon", st.Lexicon, "lexicon", a.lexicon())
		if _, err := a.rebuild(ctx, false); err != nil && ctx.Err() == nil {
			a.Log.Error("rebuild the roll-ups in their current layout; run gateway rebuild", "err", err)
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		began := time.Now()
		if err := a.Drain(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("roll-up batch failed; will retry", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-a.kick:
		}
		// Under load, batches a quarter second apart: on FerretDB each costs
		// reads of whole collections, so fewer, larger ones cost less.
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(began.Add(minGap))):
		}
	}
}

// minGap is the least time between the starts of two passes.
const minGap = 250 * time.Millisecond

// Drain applies batches until none is left, returning how many responses it
// counted. Another replica holding the lease is not an error.
func (a *Applier) Drain(ctx context.Context) error {
	return a.Locks.Holding(ctx, a.leaseName(), leaseTTL, func(ctx context.Context) error {
		for {
			n, err := a.step(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				return a.markStarted(ctx)
			}
		}
	})
}

// markStarted moves the invitations begun since the last pass to in
// progress. It runs after the batches, so a completion counted in this pass
// is not undone.
func (a *Applier) markStarted(ctx context.Context) error {
	if a.Started == nil {
		return nil
	}
	for {
		starts, err := a.Started.Take(ctx, 1000)
		if err != nil || len(starts) == 0 {
			return err
		}
		if err := a.Mongo.Invitations.MarkStartedAt(ctx, starts); err != nil {
			return err
		}
		if err := a.Started.Done(ctx, starts); err != nil {
			return err
		}
	}
}

// step finishes a journalled batch or starts and applies the next one. It
// returns how many responses and invitation events the batch held.
func (a *Applier) step(ctx context.Context) (int, error) {
	st, err := a.Mongo.Rollups.State(ctx)
	if err != nil {
		return 0, err
	}
	var b batch
	if st.Done {
		if b, err = a.next(ctx); err != nil || b.size() == 0 {
			return 0, err
		}
		// A new database starts in the current layout and counts every
		// invitation as it is made: it never needs the one-time rebuild.
		next := store.ApplierState{Batch: st.Batch + 1, Pending: ids(b.resps), Layout: st.Layout, Lexicon: st.Lexicon}
		if !st.Stored {
			next.Layout, next.Lexicon = store.Layout, a.lexicon()
		}
		if len(b.eventIDs) > 0 {
			next.EventsFrom, next.EventsTo = b.eventIDs[0], b.eventIDs[len(b.eventIDs)-1]
		}
		if err := a.Mongo.Rollups.SaveState(ctx, st.Batch, next); err != nil {
			return 0, err
		}
		st = next
	} else if b, err = a.journalled(ctx, st); err != nil {
		return 0, err
	}
	return b.size(), a.apply(ctx, st, b)
}

// batch is what one pass counts: responses and invitation events.
type batch struct {
	resps    []store.Response
	eventIDs []string
	events   []store.FunnelEvent
}

func (b batch) size() int { return len(b.resps) + len(b.events) }

// next gathers a new batch: the oldest uncounted responses whose writes
// are settled, and the oldest invitation events.
func (a *Applier) next(ctx context.Context) (b batch, err error) {
	if b.resps, err = a.Mongo.Responses.Uncounted(ctx, a.BatchSize); err != nil {
		return b, err
	}
	if b.resps, err = a.Mongo.Responses.Settle(ctx, b.resps, time.Now().Add(-a.Settle)); err != nil {
		return b, err
	}
	if a.Funnel != nil {
		b.eventIDs, b.events, err = a.Funnel.Range(ctx, "-", "+", 2*a.BatchSize)
	}
	return b, err
}

// journalled reads again the batch st names.
func (a *Applier) journalled(ctx context.Context, st store.ApplierState) (b batch, err error) {
	if b.resps, err = a.Mongo.Responses.ByIDs(ctx, st.Pending); err != nil {
		return b, err
	}
	if a.Funnel != nil && st.EventsFrom != "" {
		b.eventIDs, b.events, err = a.Funnel.Range(ctx, st.EventsFrom, st.EventsTo, 0)
	}
	return b, err
}

// apply counts a journalled batch; replay says it may have been applied in
// part before.
func (a *Applier) apply(ctx context.Context, st store.ApplierState, b batch) error {
	// A copy noted again (its response was written twice after a crash)
	// may reach a later batch: the counted marks let each response count once.
	fresh, err := a.Mongo.Responses.MarkCounted(ctx, st.Batch, st.Pending)
	if err != nil {
		return err
	}
	cells := store.Cells{}
	var counted []*store.Response
	var topics [][]survey.Topic // of each counted response's comment, read once
	var comments []store.Comment
	for i := range b.resps {
		r := &b.resps[i]
		if !fresh[r.ID] {
			continue
		}
		t := TopicsOf(r, a.Lexicon)
		counted, topics = append(counted, r), append(topics, t)
		for k, c := range CellsOf(r, t) {
			cells.Add(k, c)
		}
		if c, ok := CommentOf(r, t); ok {
			comments = append(comments, c)
		}
	}
	if err := a.countEvents(ctx, st.Batch, b.events, cells); err != nil {
		return err
	}
	cases, notices, err := a.casesFor(ctx, counted, topics)
	if err != nil {
		return err
	}
	caseCells(cases, cells)
	if err := a.Mongo.Rollups.Apply(ctx, st.Batch, cells); err != nil {
		return err
	}
	if err := a.applyComments(ctx, st.Batch, comments, false); err != nil {
		return err
	}
	// Each response is counted once, so its case is opened once (and
	// Open keeps a case already there when a batch is replayed).
	if err := a.Mongo.Cases.Open(ctx, cases...); err != nil {
		return err
	}
	if a.OpenCases != nil {
		if err := a.OpenCases.Add(ctx, cases...); err != nil {
			return err
		}
	}
	if a.Notices != nil && len(notices) > 0 {
		// A replayed batch may tell an agency twice; a notice lost would
		// be worse (a receiver keys them on the case id).
		if err := a.Notices.Add(ctx, notices...); err != nil {
			return err
		}
	}
	// Their invitations are marked completed here rather than by request
	// handlers (see core.Service.saveAll).
	if err := a.Mongo.Invitations.MarkCompletedBy(ctx, counted); err != nil {
		return err
	}
	if err := a.Mongo.Responses.DropUncounted(ctx, st.Pending); err != nil {
		return err
	}
	st.Done = true
	if err := a.Mongo.Rollups.SaveState(ctx, st.Batch, st); err != nil {
		return err
	}
	if a.Funnel != nil {
		return a.Funnel.Drop(ctx, b.eventIDs) // left behind, a later batch finds them counted
	}
	return nil
}

// countEvents adds to cells the invitation events no earlier batch counted
// (an event noted twice, as by a retried request, counts once).
func (a *Applier) countEvents(ctx context.Context, batch int64, events []store.FunnelEvent, cells store.Cells) error {
	if len(events) == 0 {
		return nil
	}
	byMark := map[string]store.FunnelEvent{}
	var marks []string
	for _, e := range events {
		if _, ok := byMark[e.Mark()]; !ok {
			byMark[e.Mark()] = e
			marks = append(marks, e.Mark())
		}
	}
	fresh, err := a.Funnel.MarkCounted(ctx, batch, marks)
	if err != nil {
		return err
	}
	for _, m := range marks {
		if fresh[m] {
			for k, c := range byMark[m].Cells() {
				cells.Add(k, c)
			}
		}
	}
	return nil
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
func (a *Applier) Rebuild(ctx context.Context) (int, error) { return a.rebuild(ctx, true) }

// rebuild rebuilds, unless force is false and the response-rate cells were
// built before (checked under the lease, so replicas starting together
// rebuild once).
func (a *Applier) rebuild(ctx context.Context, force bool) (int, error) {
	lease, err := a.waitLease(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild: take the roll-up lease: %w", err)
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, leaseTTL)
	defer stop()
	st, err := a.Mongo.Rollups.State(ctx)
	if err != nil || (!force && st.Layout >= store.Layout && st.Lexicon == a.lexicon()) {
		return 0, err
	}
	// Until it ends, the journal says the layout is unknown: a rebuild cut
	// short is done again at the next start.
	st.Layout = 0
	if err := a.Mongo.Rollups.SaveState(ctx, st.Batch, st); err != nil {
		return 0, err
	}
	if err := a.Mongo.Rollups.Clear(ctx); err != nil {
		return 0, err
	}
	// Cells are applied a slice of responses at a time, each slice as a
	// batch of its own, so memory holds one slice's cells, not a
	// province-year's (3.3 GB at 1,000,000 invitations when it held all).
	cells, seen, n, batch := store.Cells{}, []string{}, 0, st.Batch
	flush := func() error {
		if len(cells) == 0 {
			return nil
		}
		batch++
		err := a.Mongo.Rollups.Apply(ctx, batch, cells)
		cells = store.Cells{}
		return err
	}
	var comments []store.Comment
	err = a.Mongo.Responses.Each(ctx, func(r *store.Response) error {
		n++
		topics := TopicsOf(r, a.Lexicon)
		for k, c := range CellsOf(r, topics) {
			cells.Add(k, c)
		}
		if c, ok := CommentOf(r, topics); ok {
			comments = append(comments, c)
		}
		seen = append(seen, r.ID)
		if n%max(a.RebuildSlice, 1) == 0 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	marks, err := invitationCells(ctx, a.Mongo, cells, a.days)
	if err != nil {
		return 0, err
	}
	if err := flush(); err != nil {
		return 0, err
	}
	next := store.ApplierState{Batch: batch + 1, Done: true, Layout: store.Layout, Lexicon: a.lexicon()}
	if err := a.applyComments(ctx, next.Batch, comments, true); err != nil {
		return 0, err
	}
	if err := a.Mongo.Responses.ResetCounted(ctx, next.Batch, seen); err != nil {
		return 0, err
	}
	// The marks live in MongoDB; the funnel's Redis side is not needed here.
	if err := store.NewFunnel(nil, a.Mongo).ResetCounted(ctx, next.Batch, marks); err != nil {
		return 0, err
	}
	for i := 0; i < len(seen); i += 1000 {
		if err := a.Mongo.Responses.DropUncounted(ctx, seen[i:min(i+1000, len(seen))]); err != nil {
			return 0, err
		}
	}
	return n, a.Mongo.Rollups.SaveState(ctx, st.Batch, next)
}

// applyComments keeps comments in the comment pages, each in its agency's
// roll-up group of the month (the roll-ups are applied first, so every
// agency has one); all replaces every stored comment (the rebuild).
func (a *Applier) applyComments(ctx context.Context, batch int64, comments []store.Comment, all bool) error {
	if len(comments) == 0 && !all {
		return nil
	}
	months := map[string]bool{}
	for _, c := range comments {
		months[store.MonthOf(c.At)] = true
	}
	list := make([]string, 0, len(months))
	for m := range months {
		list = append(list, m)
	}
	groups, err := a.Mongo.Rollups.Groups(ctx, list)
	if err != nil {
		return err
	}
	group := func(month, agency string) int { return groups[month][agency] }
	if all {
		return a.Mongo.Comments.ReplaceAll(ctx, batch, comments, group)
	}
	return a.Mongo.Comments.Apply(ctx, batch, comments, group)
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

// invitationCells adds to cells every invitation's made and sent steps
// (completions come from responses) and returns their counted marks. It
// reads the whole invitations collection: rebuilds only.
func invitationCells(ctx context.Context, m *store.Mongo, cells store.Cells, days func(from, to time.Time) int) ([]string, error) {
	chans, err := m.Channels.All(ctx)
	if err != nil {
		return nil, err
	}
	family := map[string]string{}
	for _, ch := range chans {
		family[ch.ID], _, _ = strings.Cut(ch.Type, ".")
	}
	var marks []string
	err = m.Invitations.Each(ctx, func(inv *store.Invitation) error {
		for _, e := range FunnelEvents(inv, family) {
			for k, c := range e.Cells() {
				cells.Add(k, c)
			}
			marks = append(marks, e.Mark())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = m.Cases.Each(ctx, func(c *store.Case) error {
		for _, e := range c.Events(days) {
			for k, n := range e.Cells() {
				cells.Add(k, n)
			}
			marks = append(marks, e.Mark())
		}
		return nil
	})
	return marks, err
}

// days counts the working days a case took to answer (0 without a
// calendar).
func (a *Applier) days(from, to time.Time) int {
	if a.Calendar == nil {
		return 0
	}
	return a.Calendar.Between(from, to)
}

// FunnelEvents are the made and sent steps of an invitation as stored;
// family maps channel ids to their family (a deleted channel's sends are
// not counted).
func FunnelEvents(inv *store.Invitation, family map[string]string) []store.FunnelEvent {
	e := store.FunnelEvent{Step: store.FunnelCreated, Invitation: inv.ID, Agency: inv.AgencyCode,
		Month: store.MonthOf(inv.CreatedAt)}
	out := []store.FunnelEvent{e}
	sent := map[string]bool{}
	for ch, st := range inv.Sends {
		if f := family[ch]; f != "" && !sent[f] && (st.Status == store.SendSent || st.Status == store.SendDelivered) {
			sent[f] = true
			e.Step, e.Family = store.FunnelSent, f
			out = append(out, e)
		}
	}
	return out
}

// Compare returns the cells where the stored roll-ups differ from a rebuild
// computed in memory; empty means they agree.
func (a *Applier) Compare(ctx context.Context) ([]string, error) {
	m := a.Mongo
	want := store.Cells{}
	err := m.Responses.Each(ctx, func(r *store.Response) error {
		for k, c := range CellsOf(r, TopicsOf(r, a.Lexicon)) {
			want.Add(k, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if _, err := invitationCells(ctx, m, want, a.days); err != nil {
		return nil, err
	}
	got, err := m.Rollups.All(ctx)
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
