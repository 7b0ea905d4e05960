package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
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
	// Flagged, when set, indexes the flagged responses counted, for the
	// review queue.
	Flagged *store.FlaggedIndex
	Log     *slog.Logger
	// Lexicon classifies comments into topics; a database counted with
	// another lexicon version is rebuilt once at start (nil: no topics).
	Lexicon *survey.Lexicon
	// Calendar counts the working days follow-up cases are due in; nil
	// opens no cases.
	Calendar *survey.Calendar
	// Notices, when set, takes the notices of cases opened for agencies
	// with a webhook.
	Notices *store.Stream
	// Cache, when set, holds the invitations' working copies: those it
	// says open are completed without a read (see store.Marks.Open).
	Cache *store.InvitationCache
	// Outbox, when set, says which uncounted responses are stored, so a
	// batch reads back only the others (see store.Outbox.Stored).
	Outbox *store.Outbox
	// OpenCases, when set, indexes the cases opened as open.
	OpenCases *store.OpenCases
	// BatchSize bounds how many responses one batch takes (default 1,000).
	// A batch costs a few writes of its own (its claim, the roll-up page
	// versions it replaces), and a batch drops its uncounted copies in one
	// delete only while they are few (see batch.few): under load, batches
	// of 200 were nearly all full, and dropped 9 copies in 10 one by one.
	BatchSize int64
	// RebuildSlice is how many responses a rebuild counts before writing
	// their cells (default 5,000).
	RebuildSlice int
	// Now is the clock a rebuild and Compare count the cases due by
	// (store.Case.DueBy); nil: time.Now. Live, the case sweep notes them
	// as their due time passes.
	Now func() time.Time
	// Settle is how long a response may take to be written after its
	// uncounted copy before the copy counts as left by a dead process
	// (default 30 s: the 15 s outbox grace plus a write's timeout).
	Settle time.Duration
	// StartedAfter is how long a start waits before the writer records it
	// in MongoDB (default StartedAfter): an invitation answered meanwhile
	// is then written once, completed, rather than twice. Its working copy
	// in Redis shows it in progress at once.
	StartedAfter time.Duration
	kick         chan struct{}
	// swept is 1 + the generation whose leftovers (the one it replaced,
	// rebuilds cut short) this process dropped; 0: none yet.
	swept int
	// retryRebuild is when a rebuild that failed is tried again.
	retryRebuild time.Time
}

// rebuildBackoff is how long a failed rebuild waits before the next try:
// each try reads every response.
const rebuildBackoff = time.Minute

const leaseTTL = 30 * time.Second

// StartedAfter is the default wait of a start before the writer records
// it: most citizens finish a survey within minutes of their first answer,
// and on FerretDB an update costs about a millisecond of its CPU, ten
// inserts' worth.
const StartedAfter = 5 * time.Minute

// NewApplier returns an applier ready to Run.
func NewApplier(m *store.Mongo, l *store.Locks, log *slog.Logger) *Applier {
	return &Applier{Mongo: m, Locks: l, Log: log, BatchSize: 1000, RebuildSlice: 5_000, Settle: 30 * time.Second, StartedAfter: StartedAfter, kick: make(chan struct{}, 1)}
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
// database whose roll-ups are in an older layout or lexicon, or whose
// last rebuild was cut short, the first pass rebuilds them (best at a
// quiet moment: see the note on Rebuild).
func (a *Applier) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	go a.fillFlagged(ctx)
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

// session is one holding of the lease. Its epoch is claimed before its
// first claim of a batch, and checked before every later one: a writer
// whose lease was taken over stops there.
type session struct{ epoch int64 }

func (a *Applier) fence(ctx context.Context, s *session) (err error) {
	j := a.Mongo.Rollups.Journal
	if s.epoch == 0 {
		s.epoch, err = j.ClaimEpoch(ctx)
		return err
	}
	return j.Check(ctx, s.epoch)
}

// Drain applies batches until none is left. Another replica holding the
// lease is not an error.
func (a *Applier) Drain(ctx context.Context) error {
	return a.Locks.Holding(ctx, a.leaseName(), leaseTTL, func(ctx context.Context) error {
		if err := a.noteDueOpenings(ctx); err != nil {
			return err
		}
		s := &session{}
		for {
			n, err := a.step(ctx, s)
			if err != nil {
				return err
			}
			if n == 0 {
				return a.markStarted(ctx)
			}
		}
	})
}

// noteDueOpenings notes the openings held store.OpenedAfter (those of
// invitations not answered meanwhile), for this pass to count.
func (a *Applier) noteDueOpenings(ctx context.Context) error {
	if a.Funnel == nil {
		return nil
	}
	for {
		n, err := a.Funnel.NoteDue(ctx, a.now().Add(-store.OpenedAfter), 1000)
		if err != nil || n == 0 {
			return err
		}
	}
}

// markStarted moves the invitations begun at least StartedAfter ago to in
// progress. It runs after the batches, so a completion counted in this pass
// is not undone. One answered already (its done mark) is left to its
// completion, which records when it was started (store.Invitations.Mark):
// reading it to find it completed would cost a read for nothing.
func (a *Applier) markStarted(ctx context.Context) error {
	if a.Started == nil {
		return nil
	}
	for {
		starts, err := a.Started.Take(ctx, 1000, a.now().Add(-a.StartedAfter))
		if err != nil || len(starts) == 0 {
			return err
		}
		open := maps.Clone(starts)
		if a.Outbox != nil {
			done, err := a.Outbox.DoneOf(ctx, slices.Collect(maps.Keys(starts)))
			if err != nil {
				return err
			}
			maps.DeleteFunc(open, func(id string, _ time.Time) bool { return done[id] })
		}
		if err := a.Mongo.Invitations.MarkStartedAt(ctx, open); err != nil {
			return err
		}
		if err := a.Started.Done(ctx, starts); err != nil {
			return err
		}
	}
}

// needsRebuild says the roll-ups must be rebuilt before anything more is
// counted: a rebuild was cut short (it is started again, in a generation
// of its own), or they are in an older layout or lexicon.
func (a *Applier) needsRebuild(st store.JournalState) bool {
	if st.Last != nil && st.Last.Kind == store.ClaimRebuild {
		return true
	}
	return st.Stored && (st.View.Layout < store.Layout || st.View.Lexicon != a.lexicon())
}

// step finishes the claimed batch or claims and applies the next one. It
// returns how many responses and invitation events the batch held.
func (a *Applier) step(ctx context.Context, s *session) (int, error) {
	st, err := a.Mongo.Rollups.Journal.State(ctx)
	if err != nil {
		return 0, err
	}
	if st.HeadBehind {
		if err := a.Mongo.Rollups.Journal.Heal(ctx, st.View.N); err != nil {
			return 0, err
		}
	}
	if st.Last == nil && a.swept != st.View.Gen+1 {
		// Once a process, and after a switch: a rebuild cut between its
		// switch and its clean-up left the generation it replaced.
		if err := a.Mongo.Rollups.DropGenerations(ctx, st.View.Gen); err != nil {
			return 0, err
		}
		a.swept = st.View.Gen + 1
	}
	if a.needsRebuild(st) {
		a.Log.Info("rebuilding the roll-ups in their current layout and lexicon", "from_layout", st.View.Layout, "layout", store.Layout,
			"from_lexicon", st.View.Lexicon, "lexicon", a.lexicon(), "cut_short", st.Last != nil)
		if time.Now().Before(a.retryRebuild) {
			return 0, nil // a rebuild failed a moment ago: not again at every pass
		}
		n, err := a.rebuildHeld(ctx, s, st)
		if err != nil {
			a.retryRebuild = time.Now().Add(rebuildBackoff)
		}
		return max(n, 1), err // then on to live batches
	}
	var b batch
	c := st.Last
	// A claim on the current view is finished; any other (on a view a
	// rebuild replaced) is left: the rebuild counted its responses.
	if c != nil && c.Kind == store.ClaimLive && c.Parent == st.View.N && c.Gen == st.View.Gen {
		if b, err = a.journalled(ctx, *c); err != nil {
			return 0, err
		}
	} else {
		if b, err = a.next(ctx, st.View.Gen); err != nil || b.size() == 0 {
			return 0, err
		}
		c = &store.Claim{N: st.Next, Gen: st.View.Gen, Parent: st.View.N, Kind: store.ClaimLive, Pending: ids(b.resps), Changed: ids(b.changed), Notes: b.notes,
			Standings: standings(b.resps, b.changed)}
		if len(b.eventIDs) > 0 {
			c.EventsFrom, c.EventsTo = b.eventIDs[0], b.eventIDs[len(b.eventIDs)-1]
		}
	}
	if err := a.fence(ctx, s); err != nil {
		return 0, err
	}
	if c.Epoch == 0 {
		c.Epoch = s.epoch
		if err := a.Mongo.Rollups.Journal.Claim(ctx, *c); err != nil {
			return 0, err
		}
	}
	return b.size(), a.apply(ctx, st, *c, b)
}

// batch is what one pass counts: responses, invitation events, and
// responses to recount as they now stand, with the change notes that
// asked for it.
type batch struct {
	resps    []store.Response
	eventIDs []string
	events   []store.FunnelEvent
	changed  []store.Response
	notes    []string
	// few says the uncounted copies were few when read: fewer than a
	// batch, or a full batch's with at most fewBatches batches' noted
	// stored (store.Outbox.Stored). Then their collection is read whole
	// to drop the batch's in one write (see store.Responses.DropUncounted).
	// Otherwise the batch may head a long backlog, and its copies are
	// deleted one by one, so a drop never costs more than that.
	few bool
}

// fewBatches bounds the copies (in batches) a full batch drops in one
// delete. FerretDB scans a copy for it in about 60 µs of its CPU and
// deletes one by _id in about 370 µs: one delete costs less up to some
// six batches' copies.
const fewBatches = 4

func (b batch) size() int { return len(b.resps) + len(b.events) + len(b.notes) }

// next gathers a new batch: the oldest uncounted responses whose writes
// are settled, and the oldest invitation events.
func (a *Applier) next(ctx context.Context, gen int) (b batch, err error) {
	if b.resps, err = a.Mongo.Responses.Uncounted(ctx, a.BatchSize); err != nil {
		return b, err
	}
	b.few = int64(len(b.resps)) < a.BatchSize
	known := map[string]bool{}
	if a.Outbox != nil {
		var noted int64
		if known, noted, err = a.Outbox.Stored(ctx, ids(b.resps)); err != nil {
			return b, err
		}
		// A full batch whose copies are all noted, while the notes
		// are no more than fewBatches batches, heads a short queue too.
		b.few = b.few || (noted <= fewBatches*a.BatchSize && len(known) == len(b.resps))
	}
	if b.resps, err = a.Mongo.Responses.Settle(ctx, b.resps, time.Now().Add(-a.Settle), known); err != nil {
		return b, err
	}
	if a.Funnel != nil {
		if b.eventIDs, b.events, err = a.Funnel.Range(ctx, "-", "+", 2*a.BatchSize); err != nil {
			return b, err
		}
	}
	if err := invitedSurveys(ctx, a.Mongo, b.resps, b.events); err != nil {
		return b, err
	}
	if b.changed, b.notes, err = a.takeChanges(ctx, gen, b.resps); err != nil {
		return b, err
	}
	// A response counted fresh in this batch is counted as it stands
	// after its notes (recount skips it): its uncounted copy does not
	// carry the flags they added.
	now := map[string]*store.Response{}
	for i := range b.changed {
		now[b.changed[i].ID] = &b.changed[i]
	}
	for i := range b.resps {
		if r := now[b.resps[i].ID]; r != nil {
			b.resps[i].Flags, b.resps[i].Review = r.Flags, r.Review
		}
	}
	return b, nil
}

// journalled reads again the batch c claimed.
func (a *Applier) journalled(ctx context.Context, c store.Claim) (b batch, err error) {
	if b.resps, err = a.Mongo.Responses.ByIDs(ctx, c.Pending); err != nil {
		return b, err
	}
	if a.Funnel != nil && c.EventsFrom != "" {
		if b.eventIDs, b.events, err = a.Funnel.Range(ctx, c.EventsFrom, c.EventsTo, 0); err != nil {
			return b, err
		}
	}
	if err := invitedSurveys(ctx, a.Mongo, b.resps, b.events); err != nil {
		return b, err
	}
	b.notes = c.Notes
	if b.changed, err = a.Mongo.Responses.ByIDs(ctx, c.Changed); err != nil {
		return b, err
	}
	// As the first try counted them, whatever was reviewed since (its
	// own note recounts it in a later batch).
	for _, rs := range [][]store.Response{b.resps, b.changed} {
		for i := range rs {
			st := store.ParseStanding(c.Standings[rs[i].ID])
			rs[i].Flags, rs[i].Review = st.Flags, &store.Review{Status: st.Status}
		}
	}
	return b, nil
}

// invitedSurveys fills in, from the invitations (by _id), the survey of
// the invitation of responses and invitation events saved or noted before
// it was kept with them, so that they count in the response rate of the
// survey their invitation named, as a rebuild counts them. Responses
// without an invitation found count under the survey they answered
// (Response.RateSurvey).
func invitedSurveys(ctx context.Context, m *store.Mongo, rs []store.Response, events []store.FunnelEvent) error {
	var ids []string
	for i := range rs {
		if rs[i].InvitedSurvey == "" && rs[i].InvitationID != "" {
			ids = append(ids, rs[i].InvitationID)
		}
	}
	for _, e := range events {
		if e.InvitationStep() && e.Survey == "" {
			ids = append(ids, e.Invitation)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	surveys, err := m.Invitations.Surveys(ctx, ids)
	if err != nil {
		return fmt.Errorf("read the surveys of %d invitations: %w", len(ids), err)
	}
	for i := range rs {
		if rs[i].InvitedSurvey == "" {
			rs[i].InvitedSurvey = surveys[rs[i].InvitationID]
		}
	}
	for i := range events {
		if events[i].InvitationStep() && events[i].Survey == "" {
			events[i].Survey = surveys[events[i].Invitation]
		}
	}
	return nil
}

// standings are the standings of the flagged responses among rs.
func standings(rs ...[]store.Response) map[string]string {
	out := map[string]string{}
	for _, list := range rs {
		for i := range list {
			if k := store.StandingOf(&list[i]).Key(); k != "" {
				out[list[i].ID] = k
			}
		}
	}
	return out
}

// apply counts the claimed batch c on top of the current view and
// publishes the view it makes. Counting is once per response and event
// (their counted marks); the side effects (cases, completed invitations,
// notices) are once per response or case id, whether or not this batch
// counted it: a response a rebuild counted still opens its case here.
func (a *Applier) apply(ctx context.Context, st store.JournalState, c store.Claim, b batch) error {
	v := st.View
	states := map[string]string{}
	for i := range b.resps {
		states[b.resps[i].ID] = store.StandingOf(&b.resps[i]).Key()
	}
	fresh, err := a.Mongo.Responses.MarkCounted(ctx, c.Gen, c.N, c.Pending, states)
	if err != nil {
		return err
	}
	cells := store.Cells{}
	all := make([]*store.Response, len(b.resps))
	topics := make([][]survey.Topic, len(b.resps)) // of each response's comment, read once
	var comments []store.Comment
	for i := range b.resps {
		r := &b.resps[i]
		all[i], topics[i] = r, TopicsOf(r, a.Lexicon)
		if !fresh[r.ID] {
			continue
		}
		AddCellsOf(cells, r, topics[i])
		if cm, ok := CommentOf(r, topics[i]); ok {
			comments = append(comments, cm)
		}
	}
	if err := a.recount(ctx, c, b.changed, fresh, cells); err != nil {
		return err
	}
	cases, notices, err := a.casesFor(ctx, all, topics)
	if err != nil {
		return err
	}
	events := append(append(b.events, openedEvents(cases)...), reachEvents(b.events, b.resps)...)
	counted, err := a.countEvents(ctx, c, events, cells)
	if err != nil {
		return err
	}
	next := store.View{N: c.N, Gen: c.Gen, Layout: v.Layout, Lexicon: v.Lexicon}
	if !st.Stored { // a new database starts in the current layout
		next.Layout, next.Lexicon = store.Layout, a.lexicon()
	}
	if err := a.write(ctx, &v, &next, cells, comments, store.Version{Gen: c.Gen, Batch: c.N}); err != nil {
		return err
	}
	if err := a.indexFlagged(ctx, ptrs(b.changed)); err != nil {
		return err
	}
	marks := reachMarks(counted, b.eventIDs, b.events)
	marks.Completed = all
	if a.Cache != nil {
		if marks.Open, err = a.Cache.Open(ctx, marks.IDs()); err != nil {
			return err
		}
	}
	if err := a.sideEffects(ctx, c, b.few, marks, cases, notices); err != nil {
		return err
	}
	if err := a.publish(ctx, &v, &next); err != nil {
		return err
	}
	if a.Funnel != nil {
		return a.Funnel.Drop(ctx, b.eventIDs) // left behind, a later batch finds them counted
	}
	return nil
}

// write writes cells and comments as the pages and indexes of version w
// on top of v, and records them in next.
func (a *Applier) write(ctx context.Context, v, next *store.View, cells store.Cells, comments []store.Comment, w store.Version) error {
	w.Parent = v.Months
	applied, err := a.Mongo.Rollups.Apply(ctx, w, cells)
	if err != nil {
		return err
	}
	next.Months, next.Garbage = store.Merge(v.Months, applied.Months), applied.Garbage
	w.Parent = v.Comments
	capplied, err := a.applyComments(ctx, w, next.Months, comments)
	if err != nil {
		return err
	}
	next.Comments, next.CommentGarbage = store.Merge(v.Comments, capplied.Months), capplied.Garbage
	return nil
}

// sideEffects opens the batch's cases and records on its invitations
// their opening, start and completion (marks), each once per id however
// often the batch is replayed; few: see batch.
func (a *Applier) sideEffects(ctx context.Context, c store.Claim, few bool, marks store.Marks, cases []*store.Case, notices []map[string]string) error {
	if err := a.Mongo.Cases.Open(ctx, cases...); err != nil {
		return err
	}
	if a.OpenCases != nil {
		if err := a.OpenCases.Add(ctx, cases...); err != nil {
			return err
		}
	}
	if a.Notices != nil && len(notices) > 0 {
		if err := a.Notices.AddOnce(ctx, notices...); err != nil {
			return err
		}
	}
	// Invitations are marked completed here rather than by request
	// handlers (see core.Service.saveAll).
	if err := a.Mongo.Invitations.Mark(ctx, marks); err != nil {
		return err
	}
	if err := a.indexFlagged(ctx, marks.Completed); err != nil {
		return err
	}
	if err := a.Mongo.Responses.DropChanges(ctx, c.Notes); err != nil {
		return err
	}
	if err := a.Mongo.Responses.DropUncounted(ctx, c.Pending, few); err != nil {
		return err
	}
	if a.Outbox != nil {
		return a.Outbox.Counted(ctx, c.Pending)
	}
	return nil
}

// recount adds to cells what recounting the changed responses as they
// stand now changes, for those counted in the claim's generation before
// (one counted fresh in this batch was counted as it stands; one not
// counted yet will be). Each counted mark says what its response is
// counted as; the marks are updated with the batch's number and what
// they said before, so a replay of the batch starts from there again.
func (a *Applier) recount(ctx context.Context, c store.Claim, changed []store.Response, fresh map[string]bool, cells store.Cells) error {
	var ids []string
	for _, r := range changed {
		if !fresh[r.ID] { // a copy noted again of one counted before is recounted too
			ids = append(ids, r.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	marks, err := a.Mongo.Responses.CountedMarks(ctx, c.Gen, ids)
	if err != nil {
		return err
	}
	var recounted []store.CountedMark
	for i := range changed {
		r := &changed[i]
		m := marks[r.ID]
		if fresh[r.ID] || m == nil {
			continue
		}
		was := m.State
		if m.SBatch == c.N {
			was = m.Before
		}
		now := store.StandingOf(r).Key()
		if was != now {
			for k, n := range CellsBetween(r, TopicsOf(r, a.Lexicon), store.ParseStanding(was), store.ParseStanding(now)) {
				cells.Add(k, n)
			}
		}
		if was != now || m.State != now {
			recounted = append(recounted, store.CountedMark{ID: r.ID, State: now, SBatch: c.N, Before: was})
		}
	}
	return a.Mongo.Responses.Recounted(ctx, c.Gen, recounted)
}

// changeNoteAge is how long a note to flag a response not stored waits
// for it: a response accepted is stored within seconds (the outbox), so
// one missing this long was never saved (another answer had its
// invitation).
const changeNoteAge = time.Hour

// takeChanges takes the oldest change notes and, under each response's
// lock, adds the flags they carry to it and reads it as it stands: the
// responses to recount and the notes taken. A response locked now (under
// review) waits for a later batch with its notes, as does one not stored
// yet; its review's own note follows its write (see core.Service.Review).
// So does one stored but not counted yet in generation gen, nor in this
// batch (counting): its uncounted copy carries the flags it was saved
// with, and the note, taken again in the batch that counts it or after,
// brings it up to date then.
func (a *Applier) takeChanges(ctx context.Context, gen int, counting []store.Response) ([]store.Response, []string, error) {
	notes, err := a.Mongo.Responses.Changes(ctx, a.BatchSize)
	if err != nil || len(notes) == 0 {
		return nil, nil, err
	}
	byResp := map[string][]store.Change{}
	var order []string
	for _, n := range notes {
		if byResp[n.Response] == nil {
			order = append(order, n.Response)
		}
		byResp[n.Response] = append(byResp[n.Response], n)
	}
	// A response not counted yet in gen, nor in this batch, is left with
	// its notes before its lock is taken or it is read: the batch that
	// counts it takes them. Unless its notes have waited over an hour and
	// no copy of it is queued: stored without one (a bulk fill, counted by
	// the next rebuild as it stands), or never stored.
	inBatch := map[string]bool{}
	for _, r := range counting {
		inBatch[r.ID] = true
	}
	var ask []string
	for _, id := range order {
		if !inBatch[id] {
			ask = append(ask, id)
		}
	}
	marks, err := a.Mongo.Responses.CountedMarks(ctx, gen, ask)
	if err != nil {
		return nil, nil, err
	}
	var aged []string
	for _, id := range ask {
		if marks[id] == nil && old(byResp[id]) {
			aged = append(aged, id)
		}
	}
	queued, err := a.Mongo.Responses.Queued(ctx, aged)
	if err != nil {
		return nil, nil, err
	}
	var changed []store.Response
	for _, id := range order {
		if !inBatch[id] && marks[id] == nil && (queued[id] || !old(byResp[id])) {
			delete(byResp, id) // counted later, with its notes
			continue
		}
		r, ok, err := a.takeChange(ctx, id, byResp[id])
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			delete(byResp, id)
		} else if r != nil {
			changed = append(changed, *r)
		}
	}
	var taken []string
	for _, id := range order {
		for _, n := range byResp[id] {
			taken = append(taken, n.ID)
		}
	}
	return changed, taken, nil
}

// old says every one of notes has waited longer than changeNoteAge.
func old(notes []store.Change) bool {
	for _, n := range notes {
		if time.Since(n.At) <= changeNoteAge {
			return false
		}
	}
	return true
}

// takeChange applies notes to response id under its lock; ok is false
// when they wait for a later batch; r is nil when they are dropped (their
// response was never stored).
func (a *Applier) takeChange(ctx context.Context, id string, notes []store.Change) (r *store.Response, ok bool, err error) {
	lease, err := a.Locks.Acquire(ctx, "response:"+id, 10*time.Second)
	if errors.Is(err, store.ErrLocked) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, 10*time.Second)
	defer stop()
	r, err = a.Mongo.Responses.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, old(notes), nil
	}
	if err != nil {
		return nil, false, err
	}
	var add []string
	var at time.Time
	for _, n := range notes {
		add = append(add, n.Add...)
		at = n.At
	}
	flags, changed := store.AddFlags(r.Flags, add...)
	if changed {
		r.Flags = flags
		if r.Review == nil {
			r.Review = &store.Review{}
		}
		if r.Review.Status != store.ReviewConfirmed {
			r.Review.Status = store.ReviewPending // a new signal after a clear is looked at again
		}
		r.Review.History = append(r.Review.History, store.ReviewEvent{At: at, By: "gateway", Action: "flag", Flags: add})
		if err := a.Mongo.Responses.SetStanding(ctx, r); err != nil {
			return nil, false, err
		}
	}
	return r, true, nil
}

// fillFlagged fills the review queue's index from the responses when
// Redis lost it (an embedded Redis at every restart), once, in the
// background: the answers' own status is what a queue page shows.
func (a *Applier) fillFlagged(ctx context.Context) {
	if a.Flagged == nil {
		return
	}
	if ok, err := a.Flagged.Filled(ctx); err != nil || ok {
		return
	}
	if err := a.Flagged.Fill(ctx, a.Mongo.Responses); err != nil && ctx.Err() == nil {
		a.Log.Error("the review queue's index could not be filled again; a rebuild fills it", "err", err)
	}
}

// indexFlagged puts the flagged among rs in the review queue's index.
func (a *Applier) indexFlagged(ctx context.Context, rs []*store.Response) error {
	var flagged []*store.Response
	for _, r := range rs {
		if len(r.Flags) > 0 {
			flagged = append(flagged, r)
		}
	}
	return a.Flagged.Add(ctx, flagged...)
}

func ptrs(rs []store.Response) []*store.Response {
	out := make([]*store.Response, len(rs))
	for i := range rs {
		out[i] = &rs[i]
	}
	return out
}

// publish commits next: readers see it from now on. Then what it replaced
// goes.
func (a *Applier) publish(ctx context.Context, v, next *store.View) error {
	j := a.Mongo.Rollups.Journal
	if err := j.Publish(ctx, v, *next); err != nil {
		return err
	}
	if err := a.Mongo.Rollups.Collect(ctx, next); err != nil {
		return err
	}
	if err := a.Mongo.Comments.Collect(ctx, next); err != nil {
		return err
	}
	return j.Prune(ctx, v.N, next.N)
}

// openedEvents are the funnel events that count cases opened, each once
// (the same marks a rebuild gives them, from the stored cases).
func openedEvents(cases []*store.Case) []store.FunnelEvent {
	out := make([]store.FunnelEvent, len(cases))
	for i, c := range cases {
		out[i] = c.OpenedEvent()
	}
	return out
}

// countEvents adds to cells the invitation events no other batch counted
// (an event noted twice, as by a retried request, counts once) and
// returns them. Of events with one mark, the first in the list counts.
func (a *Applier) countEvents(ctx context.Context, c store.Claim, events []store.FunnelEvent, cells store.Cells) ([]store.FunnelEvent, error) {
	if len(events) == 0 {
		return nil, nil
	}
	byMark := map[string]store.FunnelEvent{}
	var marks []string
	for _, e := range events {
		if _, ok := byMark[e.Mark()]; !ok {
			byMark[e.Mark()] = e
			marks = append(marks, e.Mark())
		}
	}
	fresh, err := a.funnel().MarkCounted(ctx, c.Gen, c.N, marks)
	if err != nil {
		return nil, err
	}
	var counted []store.FunnelEvent
	for _, m := range marks {
		if fresh[m] {
			counted = append(counted, byMark[m])
			cells.Add(byMark[m].Cell())
		}
	}
	return counted, nil
}

// reachEvents are the events the writer derives from a batch's own: sent
// and opened on any channel, once an invitation whatever the families
// (the reach's overall sent and opened), the web opening a response
// carries, and a start for every response's invitation, under the mark a
// noted start has, so an invitation completed without a noted start
// counts as started once, and one with both counts once whichever comes
// first.
func reachEvents(events []store.FunnelEvent, rs []store.Response) []store.FunnelEvent {
	var out []store.FunnelEvent
	for _, e := range events {
		if (e.Step == store.FunnelSent || e.Step == store.FunnelOpened) && e.Family != "" {
			e.Family = ""
			out = append(out, e)
		}
	}
	for i := range rs {
		if e, ok := startedBy(&rs[i]); ok {
			out = append(out, e)
		}
		if e, ok := openedBy(&rs[i]); ok {
			out = append(out, e)
			e.Family = ""
			out = append(out, e)
		}
	}
	return out
}

// openedBy is the web opening r carries (its survey page's first view,
// held until r was stored: see store.Funnel.Hold), counted in the cells
// its completion counts in.
func openedBy(r *store.Response) (store.FunnelEvent, bool) {
	e, ok := startedBy(r)
	if !ok || r.OpenedAt == nil {
		return store.FunnelEvent{}, false
	}
	e.Step, e.Family, e.At = store.FunnelOpened, "web", *r.OpenedAt
	return e, true
}

// startedBy is the start of r's invitation its completion implies (none
// without an invitation), counted in the cells its completion counts in.
func startedBy(r *store.Response) (store.FunnelEvent, bool) {
	if r.InvitationID == "" {
		return store.FunnelEvent{}, false
	}
	family, _, _ := strings.Cut(r.Channel, ".")
	return store.FunnelEvent{Step: store.FunnelStarted, Invitation: r.InvitationID, Agency: r.AgencyCode, Month: r.InvitedMonth(),
		Family: family, Survey: r.RateSurvey()}, true
}

// reachMarks is what the counted events say a rebuild must count again,
// to record on the invitations: the first opening on each family (when it
// happened: its At, or when it was noted, its stream id's time) and the
// family of the start. They are
// written after the batch's cells; a replay counts the same events and
// writes nothing more (store.Invitations.Mark sets only what is missing).
func reachMarks(counted []store.FunnelEvent, ids []string, noted []store.FunnelEvent) store.Marks {
	at := map[string]time.Time{}
	for i, e := range noted {
		if e.Step == store.FunnelOpened && i < len(ids) {
			if _, ok := at[e.Mark()]; !ok {
				at[e.Mark()] = cmp.Or(e.At, streamTime(ids[i]))
			}
		}
	}
	opened := map[string]map[string]time.Time{}
	started := map[string]string{}
	for _, e := range counted {
		if e.Invitation == "" || !fieldSafe(e.Family) {
			continue
		}
		switch e.Step {
		case store.FunnelOpened:
			if opened[e.Invitation] == nil {
				opened[e.Invitation] = map[string]time.Time{}
			}
			opened[e.Invitation][e.Family] = cmp.Or(at[e.Mark()], e.At) // a response's carries its own
		case store.FunnelStarted:
			started[e.Invitation] = e.Family
		}
	}
	return store.Marks{Opened: opened, Started: started}
}

// fieldSafe says a family can name a document field (opened.<family>).
func fieldSafe(family string) bool {
	return family != "" && !strings.ContainsAny(family, ".$")
}

// streamTime is when a Redis stream entry was added, from its id
// ("<ms>-<seq>").
func streamTime(id string) time.Time {
	ms, _, _ := strings.Cut(id, "-")
	n, err := strconv.ParseInt(ms, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}

// funnel is the funnel the counted marks of events are kept by (their
// MongoDB side needs no Redis).
func (a *Applier) funnel() *store.Funnel {
	if a.Funnel != nil {
		return a.Funnel
	}
	return store.NewFunnel(nil, a.Mongo)
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
// holds the writer's lease, so the live applier pauses meanwhile; reports
// go on reading the current roll-ups until the rebuilt ones replace them
// in one step.
func (a *Applier) Rebuild(ctx context.Context) (int, error) {
	lease, err := a.waitLease(ctx)
	if err != nil {
		return 0, fmt.Errorf("rebuild: take the roll-up lease: %w", err)
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, leaseTTL)
	defer stop()
	st, err := a.Mongo.Rollups.Journal.State(ctx)
	if err != nil {
		return 0, err
	}
	return a.rebuildHeld(ctx, &session{}, st)
}

// rebuildHeld rebuilds under a lease held: it claims a generation of its
// own and a batch number, counts every response (and invitation and case
// event) into that generation a slice at a time, then publishes it, the
// one step that switches readers over. Cut short anywhere, the current
// generation stays as it was, and the next writer starts the rebuild
// again in a new generation.
func (a *Applier) rebuildHeld(ctx context.Context, s *session, st store.JournalState) (int, error) {
	j := a.Mongo.Rollups.Journal
	if err := a.fence(ctx, s); err != nil {
		return 0, err
	}
	// What earlier tries left is dropped first: they will never be read.
	if err := a.Mongo.Rollups.DropGenerations(ctx, st.View.Gen); err != nil {
		return 0, err
	}
	gen, err := j.ClaimGen(ctx, st.View.Gen)
	if err != nil {
		return 0, err
	}
	c := store.Claim{N: st.Next, Epoch: s.epoch, Gen: gen, Parent: st.View.N, Kind: store.ClaimRebuild}
	if err := j.Claim(ctx, c); err != nil {
		return 0, err
	}
	w := store.Version{Gen: gen, Batch: c.N, Private: true}
	b := &built{a: a, w: w, v: store.View{N: c.N, Gen: gen, Months: map[string]int64{}, Comments: map[string]int64{}, Layout: store.Layout, Lexicon: a.lexicon()}}
	n := 0
	err = a.Mongo.Responses.Each(ctx, func(r *store.Response) error {
		n++
		return b.add(ctx, r)
	})
	if err != nil {
		return 0, err
	}
	if err := b.flush(ctx); err != nil {
		return 0, err
	}
	if err := b.events(ctx); err != nil {
		return 0, err
	}
	if err := b.writeComments(ctx); err != nil {
		return 0, err
	}
	if err := a.fence(ctx, s); err != nil {
		return 0, err
	}
	if err := a.publish(ctx, &st.View, &b.v); err != nil {
		return 0, err
	}
	if err := j.DropLegacy(ctx); err != nil {
		return 0, err
	}
	if a.Flagged != nil {
		if err := a.Flagged.MarkFilled(ctx); err != nil {
			return 0, err
		}
	}
	return n, a.Mongo.Rollups.DropGenerations(ctx, gen)
}

// built is a rebuild under way: the view it makes, and the slice of
// responses whose cells it has not written yet. Memory holds one slice's
// responses and cells, not a province-year's (3.3 GB at 1,000,000
// invitations when it held all), and the comments.
type built struct {
	a        *Applier
	w        store.Version
	v        store.View
	cells    store.Cells
	slice    []store.Response
	comments []store.Comment
}

func (b *built) add(ctx context.Context, r *store.Response) error {
	b.slice = append(b.slice, *r)
	if len(b.slice) >= max(b.a.RebuildSlice, 1) {
		return b.flush(ctx)
	}
	return nil
}

// flush counts the slice (its invitations' surveys read first for the
// responses saved without them), then writes its cells and its responses'
// counted marks.
func (b *built) flush(ctx context.Context) error {
	if err := invitedSurveys(ctx, b.a.Mongo, b.slice, nil); err != nil {
		return err
	}
	if b.cells == nil {
		b.cells = store.Cells{}
	}
	ids := make([]string, len(b.slice))
	var states map[string]string // the slice's standings (none: not flagged)
	var flagged []*store.Response
	for i := range b.slice {
		r := &b.slice[i]
		topics := TopicsOf(r, b.a.Lexicon)
		AddCellsOf(b.cells, r, topics)
		if c, ok := CommentOf(r, topics); ok {
			b.comments = append(b.comments, c)
		}
		ids[i] = r.ID
		if st := store.StandingOf(r); st.Status != "" {
			if states == nil {
				states = map[string]string{}
			}
			states[r.ID] = st.Key()
			flagged = append(flagged, r)
		}
	}
	if _, err := b.a.Mongo.Responses.MarkCounted(ctx, b.w.Gen, b.w.Batch, ids, states); err != nil {
		return err
	}
	// The review queue's index is filled again from the responses (Redis
	// may have lost it).
	if err := b.a.indexFlagged(ctx, flagged); err != nil {
		return err
	}
	b.w.Parent = b.v.Months
	applied, err := b.a.Mongo.Rollups.Apply(ctx, b.w, b.cells)
	if err != nil {
		return err
	}
	b.v.Months = store.Merge(b.v.Months, applied.Months)
	b.cells, b.slice = store.Cells{}, nil
	return nil
}

// events counts every invitation's made and sent steps and every case's
// events, with their counted marks.
func (b *built) events(ctx context.Context) error {
	b.cells = store.Cells{}
	marks, err := invitationCells(ctx, b.a.Mongo, b.cells, b.a.days, b.a.now())
	if err != nil {
		return err
	}
	for len(marks) > 0 {
		k := min(len(marks), 1000)
		if _, err := b.a.funnel().MarkCounted(ctx, b.w.Gen, b.w.Batch, marks[:k]); err != nil {
			return err
		}
		marks = marks[k:]
	}
	return b.flush(ctx)
}

func (b *built) writeComments(ctx context.Context) error {
	b.w.Parent = map[string]int64{}
	applied, err := b.a.applyComments(ctx, b.w, b.v.Months, b.comments)
	b.v.Comments = applied.Months
	return err
}

// applyComments keeps comments in the comment pages of w, each in its
// agency's roll-up group of the month (from the month indexes months
// names: the roll-ups are applied first, so every agency has one).
func (a *Applier) applyComments(ctx context.Context, w store.Version, months map[string]int64, comments []store.Comment) (store.Applied, error) {
	if len(comments) == 0 {
		return store.Applied{}, nil
	}
	set := map[string]bool{}
	for _, c := range comments {
		set[store.MonthOf(c.At)] = true
	}
	list := make([]string, 0, len(set))
	for m := range set {
		list = append(list, m)
	}
	groups, err := a.Mongo.Rollups.Groups(ctx, w.Gen, months, list)
	if err != nil {
		return store.Applied{}, err
	}
	return a.Mongo.Comments.Apply(ctx, w, comments, func(month, agency string) int { return groups[month][agency] })
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

// invitationCells adds to cells every invitation's steps (FunnelEvents;
// completions come from responses), every case's events as of now and
// every logged message's spend, and returns their counted marks. It reads the whole invitations
// collection: rebuilds only.
func invitationCells(ctx context.Context, m *store.Mongo, cells store.Cells, days func(from, to time.Time) int, now time.Time) ([]string, error) {
	chans, err := m.Channels.All(ctx)
	if err != nil {
		return nil, err
	}
	family := map[string]string{}
	for _, ch := range chans {
		family[ch.ID], _, _ = strings.Cut(ch.Type, ".")
	}
	kiosk, err := m.Desks.AskedOnKiosks(ctx)
	if err != nil {
		return nil, err
	}
	var marks []string
	err = m.Invitations.Each(ctx, func(inv *store.Invitation) error {
		for _, e := range FunnelEvents(inv, family, kiosk[inv.ID]) {
			cells.Add(e.Cell())
			marks = append(marks, e.Mark())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = m.Cases.Each(ctx, func(c *store.Case) error {
		for _, e := range c.Events(days, now) {
			cells.Add(e.Cell())
			marks = append(marks, e.Mark())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	spent, err := spentCells(ctx, m, family, cells)
	return append(marks, spent...), err
}

func (a *Applier) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// days counts the working days a case took to answer (0 without a
// calendar).
func (a *Applier) days(from, to time.Time) int {
	if a.Calendar == nil {
		return 0
	}
	return a.Calendar.Between(from, to)
}

// FunnelEvents are the steps of an invitation as stored: made; queued on
// each family it was asked to go out on (any state); sent on each family
// it went out on, and on any; reminded on its reminder's family, once
// sent; opened on each family it was opened on, and on any; started on
// the family of its first answer (for one completed before that was
// kept: the family it was completed on). family maps channel ids to their
// family (a deleted channel's sends are not counted); kiosk says a desk's
// kiosk asked it (Desks.AskedOnKiosks), which counts as sent on the kiosk
// family.
func FunnelEvents(inv *store.Invitation, family map[string]string, kiosk bool) []store.FunnelEvent {
	e := store.FunnelEvent{Step: store.FunnelCreated, Invitation: inv.ID, Agency: inv.AgencyCode,
		Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey}
	out := []store.FunnelEvent{e}
	step := func(name, f string) {
		e.Step, e.Family = name, f
		out = append(out, e)
	}
	queued, sent := map[string]bool{}, map[string]bool{}
	for _, ch := range slices.Sorted(maps.Keys(inv.Sends)) {
		st, f := inv.Sends[ch], family[ch]
		if f == "" || st.Kind != "" {
			continue
		}
		if !queued[f] {
			queued[f] = true
			step(store.FunnelQueued, f)
		}
		if !sent[f] && delivered(st) {
			sent[f] = true
			step(store.FunnelSent, f)
		}
	}
	if kiosk && !sent[store.KioskFamily] {
		sent[store.KioskFamily] = true
		step(store.FunnelSent, store.KioskFamily)
	}
	if len(sent) > 0 {
		step(store.FunnelSent, "")
	}
	if st, ok := inv.Reminder(); ok && delivered(st) && family[st.Channel] != "" {
		step(store.FunnelReminded, family[st.Channel])
	}
	for _, f := range slices.Sorted(maps.Keys(inv.Opened)) {
		step(store.FunnelOpened, f)
	}
	if len(inv.Opened) > 0 {
		step(store.FunnelOpened, "")
	}
	switch {
	case inv.StartedVia != "":
		step(store.FunnelStarted, inv.StartedVia)
	case inv.Status == store.StatusCompleted && inv.CompletedVia != "":
		f, _, _ := strings.Cut(inv.CompletedVia, ".")
		step(store.FunnelStarted, f)
	}
	return out
}

func delivered(st store.SendStatus) bool {
	return st.Status == store.SendSent || st.Status == store.SendDelivered
}

// spentCells adds to cells every logged message's spend and returns their
// counted marks. A message logged before it carried its agency, month and
// survey takes them from its invitation (read by _id, a page at a time);
// one without an invitation either (a feedback case's answer then) is not
// counted: nothing says where.
func spentCells(ctx context.Context, m *store.Mongo, family map[string]string, cells store.Cells) ([]string, error) {
	var marks []string
	var page []*store.Message
	count := func() error {
		var ids []string
		for _, msg := range page {
			if msg.Agency == "" && msg.Invitation != "" {
				ids = append(ids, msg.Invitation)
			}
		}
		invs, err := m.Invitations.ByIDs(ctx, ids)
		if err != nil {
			return fmt.Errorf("read the invitations of %d messages: %w", len(ids), err)
		}
		for _, msg := range page {
			if inv := invs[msg.Invitation]; msg.Agency == "" && inv != nil {
				msg.Agency, msg.Month, msg.Survey = inv.AgencyCode, store.MonthOf(inv.CreatedAt), inv.Survey
			}
			events := msg.CallEvents()
			if e, ok := msg.SpentEvent(family[msg.Channel]); ok {
				events = append(events, e)
			}
			for _, e := range events {
				cells.Add(e.Cell())
				marks = append(marks, e.Mark())
			}
		}
		page = page[:0]
		return nil
	}
	err := m.Messages.Each(ctx, func(msg *store.Message) error {
		if page = append(page, msg); len(page) >= 1000 {
			return count()
		}
		return nil
	})
	if err == nil {
		err = count()
	}
	return marks, err
}

// Compare returns the cells where the stored roll-ups differ from a rebuild
// computed in memory; empty means they agree.
func (a *Applier) Compare(ctx context.Context) ([]string, error) {
	m := a.Mongo
	want := store.Cells{}
	var slice []store.Response
	count := func() error {
		if err := invitedSurveys(ctx, m, slice, nil); err != nil {
			return err
		}
		for i := range slice {
			AddCellsOf(want, &slice[i], TopicsOf(&slice[i], a.Lexicon))
		}
		slice = slice[:0]
		return nil
	}
	err := m.Responses.Each(ctx, func(r *store.Response) error {
		if slice = append(slice, *r); len(slice) >= 1000 {
			return count()
		}
		return nil
	})
	if err == nil {
		err = count()
	}
	if err != nil {
		return nil, err
	}
	if _, err := invitationCells(ctx, m, want, a.days, a.now()); err != nil {
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
