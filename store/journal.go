package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Journal is the roll-up writer's journal, in the rollup_state
// collection. It is written only by unique inserts, the one write that is
// atomic on FerretDB (which applies an update by reading the document and
// writing it back by _id, with no condition) as well as on MongoDB:
//
//   - "epoch|E": each time a writer takes the lease it claims a new epoch;
//     a writer that finds a later epoch claimed has lost the lease and
//     stops before claiming anything more.
//   - "gen|G": a rebuild claims a generation of its own, the collections
//     it builds in beside the current ones (see GenName).
//   - "claim|N": batch number N, claimed once, with what it counts and the
//     view it builds on; numbers are never reused, so a counted mark or a
//     page version of batch N belongs to that claim alone.
//   - "view|N": what readers see once batch N is applied: the generation
//     and the version of each month's index. Publishing it is the batch's
//     commit, and a rebuild's switch.
//
// Every roll-up document a batch writes is a new version keyed by its
// batch (see Rollups.Apply), computed from the claim alone: a replay, or a
// writer that lost its lease and goes on, writes the same documents, which
// the unique _id refuses. "head" is a hint (the latest view and epoch,
// moved with $max) that readers start from; they correct a stale one by
// looking further.
type Journal struct {
	c *mongo.Collection
	// legacy is the single journal document of layouts before 6.
	legacyID string
	// last is the view Latest read last: views never change, so while
	// the head names it, it is not read again.
	last atomic.Pointer[View]
}

// Claim is one claimed batch.
type Claim struct {
	N      int64  `bson:"n"`
	Epoch  int64  `bson:"epoch"`
	Gen    int    `bson:"gen"`
	Parent int64  `bson:"parent"` // the view it builds on
	Kind   string `bson:"kind"`   // ClaimLive or ClaimRebuild
	// Pending are the responses a live batch counts.
	Pending []string `bson:"pending"`
	// EventsFrom and EventsTo are the ids of the first and last invitation
	// events in the batch (see Funnel), empty when it has none.
	EventsFrom string `bson:"events_from,omitempty"`
	EventsTo   string `bson:"events_to,omitempty"`
	// Changed are the responses a live batch recounts (their flags or
	// review changed: see Change), and Notes the change notes it takes.
	Changed []string `bson:"changed,omitempty"`
	Notes   []string `bson:"notes,omitempty"`
	// Standings are what the batch counts its flagged responses (counted
	// or recounted) as (Standing.Key; missing: none), so a replay counts
	// them the same even if a review changed them since: the versions it
	// writes must be those the first try wrote.
	Standings map[string]string `bson:"standings,omitempty"`
}

// Claim kinds.
const (
	ClaimLive    = "live"
	ClaimRebuild = "rebuild"
)

// View is what the roll-ups hold after batch N: the generation to read and,
// for each month, the version (batch) of its roll-up index and of its
// comment index.
type View struct {
	N        int64            `bson:"n"`
	Gen      int              `bson:"gen"`
	Months   map[string]int64 `bson:"months"`
	Comments map[string]int64 `bson:"comments"`
	// Garbage and CommentGarbage are the versions this view replaced, in
	// its generation's page collections: deleted once it is published.
	Garbage        []string `bson:"garbage"`
	CommentGarbage []string `bson:"comment_garbage"`
	// Layout is the roll-up layout the generation is in (see Layout);
	// Lexicon the version of the comment-topic lexicon it was classified
	// with. Either out of date makes the writer rebuild.
	Layout  int    `bson:"layout"`
	Lexicon string `bson:"lexicon"`
}

// JournalState is what the writer needs to go on: the current view, the
// last claim after it (nil: none) and the last batch number used.
type JournalState struct {
	View View
	Last *Claim
	// Next is the number the next claim takes.
	Next int64
	// Stored says the database has roll-ups from before (false: a new
	// database, whose every invitation is counted as it is made).
	Stored bool
	// HeadBehind says the head names an older view than View.
	HeadBehind bool
}

type journalHead struct {
	View  int64 `bson:"view"`
	Epoch int64 `bson:"epoch"`
}

const headID = "head"

func claimID(n int64) string { return "claim|" + strconv.FormatInt(n, 10) }
func viewID(n int64) string  { return "view|" + strconv.FormatInt(n, 10) }
func epochID(e int64) string { return "epoch|" + strconv.FormatInt(e, 10) }
func genID(g int) string     { return "gen|" + strconv.Itoa(g) }

// GenName is the collection of base in generation g: the base name itself
// for generation 0 (databases from before generations), base_gN after.
func GenName(base string, g int) string {
	if g == 0 {
		return base
	}
	return base + "_g" + strconv.Itoa(g)
}

// ErrLostLease means another writer claimed a later epoch: this one must
// stop writing.
var ErrLostLease = errors.New("the roll-up lease was taken by another writer")

func (j *Journal) head(ctx context.Context) (journalHead, error) {
	var h journalHead
	err := j.c.FindOne(ctx, bson.D{{Key: "_id", Value: headID}}).Decode(&h)
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return h, fmt.Errorf("read the roll-up journal: %w", err)
	}
	return h, nil
}

// raise moves the head's field up to n (never down).
func (j *Journal) raise(ctx context.Context, field string, n int64) error {
	up := bson.D{{Key: "$max", Value: bson.D{{Key: field, Value: n}}}}
	_, err := j.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: headID}}, up, options.Update().SetUpsert(true))
	if mongo.IsDuplicateKeyError(err) { // two first upserts at once: the document is there now
		_, err = j.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: headID}}, up)
	}
	if err != nil {
		return fmt.Errorf("move the roll-up journal's head: %w", err)
	}
	return nil
}

// insertOnce inserts doc; false when its _id was taken.
func (j *Journal) insertOnce(ctx context.Context, point string, doc bson.D) (bool, error) {
	var ok bool
	err := Write(ctx, point, func(ctx context.Context) error {
		_, err := j.c.InsertOne(ctx, doc)
		ok = err == nil
		if mongo.IsDuplicateKeyError(err) {
			return nil
		}
		return err
	})
	return ok, err
}

// epochSpan is how many epochs' claims are kept: a head moved back by a
// lost $max race is one behind at most, far from reusing a pruned number.
const epochSpan = 1000

// ClaimEpoch claims the next epoch, for a writer that just took the lease.
func (j *Journal) ClaimEpoch(ctx context.Context) (int64, error) {
	h, err := j.head(ctx)
	if err != nil {
		return 0, err
	}
	for e := h.Epoch + 1; e < h.Epoch+epochSpan; e++ {
		ok, err := j.insertOnce(ctx, "journal.epoch", bson.D{{Key: "_id", Value: epochID(e)}})
		if err != nil {
			return 0, fmt.Errorf("claim roll-up epoch %d: %w", e, err)
		}
		if ok {
			_, _ = j.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: epochID(e - epochSpan)}})
			return e, Write(ctx, "journal.head", func(ctx context.Context) error { return j.raise(ctx, "epoch", e) })
		}
	}
	return 0, fmt.Errorf("claim a roll-up epoch: %d taken after %d", epochSpan, h.Epoch)
}

// Check returns ErrLostLease once an epoch after e is claimed.
func (j *Journal) Check(ctx context.Context, e int64) error {
	n, err := j.c.CountDocuments(ctx, bson.D{{Key: "_id", Value: epochID(e + 1)}}, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("check the roll-up epoch: %w", err)
	}
	if n > 0 {
		return ErrLostLease
	}
	return nil
}

// ClaimGen claims a generation after g for a rebuild.
func (j *Journal) ClaimGen(ctx context.Context, g int) (int, error) {
	for n := g + 1; n < g+1000; n++ {
		ok, err := j.insertOnce(ctx, "journal.gen", bson.D{{Key: "_id", Value: genID(n)}})
		if err != nil || ok {
			return n, err
		}
	}
	return 0, fmt.Errorf("claim a roll-up generation after %d: none free", g)
}

// Claim claims c.N; ErrLostRace when another writer claimed it first.
func (j *Journal) Claim(ctx context.Context, c Claim) error {
	if c.Pending == nil {
		c.Pending = []string{}
	}
	doc := bson.D{{Key: "_id", Value: claimID(c.N)}, {Key: "n", Value: c.N}, {Key: "epoch", Value: c.Epoch}, {Key: "gen", Value: c.Gen},
		{Key: "parent", Value: c.Parent}, {Key: "kind", Value: c.Kind}, {Key: "pending", Value: c.Pending},
		{Key: "events_from", Value: c.EventsFrom}, {Key: "events_to", Value: c.EventsTo}}
	if len(c.Changed) > 0 || len(c.Notes) > 0 || len(c.Standings) > 0 {
		doc = append(doc, bson.E{Key: "changed", Value: c.Changed}, bson.E{Key: "notes", Value: c.Notes}, bson.E{Key: "standings", Value: c.Standings})
	}
	ok, err := j.insertOnce(ctx, "journal.claim", doc)
	if err != nil {
		return fmt.Errorf("claim roll-up batch %d: %w", c.N, err)
	}
	if !ok {
		return ErrLostRace
	}
	return nil
}

// Publish makes v the view readers see: the batch's commit (a replay
// publishing it again changes nothing). Then it deletes what v and its
// parent replaced, and the journal entries before v.
func (j *Journal) Publish(ctx context.Context, parent *View, v View) error {
	for _, s := range []*[]string{&v.Garbage, &v.CommentGarbage} {
		if *s == nil {
			*s = []string{}
		}
	}
	raw, err := bson.Marshal(v)
	if err != nil {
		return err
	}
	var doc bson.D
	if err := bson.Unmarshal(raw, &doc); err != nil {
		return err
	}
	doc = append(bson.D{{Key: "_id", Value: viewID(v.N)}}, doc...)
	if _, err := j.insertOnce(ctx, "journal.view", doc); err != nil {
		return fmt.Errorf("publish roll-up batch %d: %w", v.N, err)
	}
	return Write(ctx, "journal.head", func(ctx context.Context) error { return j.raise(ctx, "view", v.N) })
}

// Prune deletes the journal entries from the parent view up to v (v
// stays): once v is published nobody reads them, and a reader that still
// does looks further (see Current).
func (j *Journal) Prune(ctx context.Context, parent, v int64) error {
	var models []mongo.WriteModel
	for n := max(parent, 1); n < v; n++ {
		for _, id := range []string{claimID(n), viewID(n)} {
			models = append(models, mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: id}}))
		}
	}
	return Write(ctx, "journal.prune", func(ctx context.Context) error { return bulkWrite(ctx, j.c, models) })
}

func (j *Journal) view(ctx context.Context, n int64) (*View, error) {
	v, err := findOne[View](ctx, j.c, bson.D{{Key: "_id", Value: viewID(n)}})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-up view %d: %w", n, err)
	}
	return v, nil
}

func (j *Journal) claim(ctx context.Context, n int64) (*Claim, error) {
	c, err := findOne[Claim](ctx, j.c, bson.D{{Key: "_id", Value: claimID(n)}})
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read roll-up claim %d: %w", n, err)
	}
	return c, nil
}

// lookAhead bounds how far past a head whose view was pruned (a head a
// lost $max race moved back) State looks for the next view.
const lookAhead = 64

// Latest returns the view readers read, from the head alone: one read by
// _id, and the view itself only when the head names another than the one
// read last. A head left behind its views (its move failed, until the
// writer heals it) gives an older view, whole and consistent; a reader
// that finds a version of it replaced asks Current, which looks past the
// head.
func (j *Journal) Latest(ctx context.Context) (View, error) {
	h, err := j.head(ctx)
	if err != nil {
		return View{}, err
	}
	if h.View <= 0 {
		return j.Current(ctx)
	}
	if v := j.last.Load(); v != nil && v.N == h.View {
		return *v, nil
	}
	v, err := j.firstView(ctx, h.View)
	if err != nil {
		return View{}, err
	}
	j.last.Store(v)
	return *v, nil
}

// ForReading is the view a reader's try reads: the head's (Latest) at
// first, and past the head (Current) once a version it named was found
// replaced.
func (j *Journal) ForReading(ctx context.Context, try int) (View, error) {
	if try > 0 {
		return j.Current(ctx)
	}
	return j.Latest(ctx)
}

// Current returns the view readers read: the latest published.
func (j *Journal) Current(ctx context.Context) (View, error) {
	st, err := j.State(ctx)
	return st.View, err
}

// State reads where the roll-ups stand: the latest published view, found
// from the head, and the claims after it (claims are contiguous: each
// takes the number after the last), of which it returns the last. Three
// reads by _id when the head is up to date.
func (j *Journal) State(ctx context.Context) (JournalState, error) {
	h, err := j.head(ctx)
	if err != nil {
		return JournalState{}, err
	}
	st := JournalState{View: View{Months: map[string]int64{}, Comments: map[string]int64{}, Layout: Layout}}
	if h.View > 0 {
		v, err := j.firstView(ctx, h.View)
		if err != nil {
			return st, err
		}
		st.View, st.Stored = *v, true
	} else if n, err := j.legacy(ctx); err != nil {
		return st, err
	} else if n >= 0 {
		// Roll-ups of an older layout, to rebuild; numbers go on after
		// theirs, whose counted marks are still in generation 0.
		st.View.N, st.View.Layout, st.Stored = n, 0, true
	}
	st.Next = st.View.N + 1
	for n := st.View.N + 1; ; n++ {
		c, err := j.claim(ctx, n)
		if err != nil {
			return st, err
		}
		if c == nil {
			break
		}
		st.Last, st.Next = c, n+1
		if v, err := j.view(ctx, n); err != nil {
			return st, err
		} else if v != nil {
			st.View, st.Last, st.Stored, st.HeadBehind = *v, nil, true, true
		}
	}
	return st, nil
}

// firstView returns view n, or the first after it when n was pruned.
func (j *Journal) firstView(ctx context.Context, n int64) (*View, error) {
	for k := n; k < n+lookAhead; k++ {
		v, err := j.view(ctx, k)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, fmt.Errorf("the roll-up journal's head names view %d, which is gone, and no later one follows", n)
}

// Heal moves a head left behind (its move failed, or lost a race) to v.
func (j *Journal) Heal(ctx context.Context, v int64) error {
	return Write(ctx, "journal.head", func(ctx context.Context) error { return j.raise(ctx, "view", v) })
}

// legacy returns the last batch of a journal of an older layout, or -1
// when there is none.
func (j *Journal) legacy(ctx context.Context) (int64, error) {
	var old struct {
		Batch int64 `bson:"batch"`
	}
	err := j.c.FindOne(ctx, bson.D{{Key: "_id", Value: j.legacyID}}).Decode(&old)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the roll-up journal: %w", err)
	}
	return old.Batch, nil
}

// ErrLostRace means another writer claimed the batch number first.
var ErrLostRace = errors.New("another roll-up writer moved first")

// genBases are the collections each generation has one of.
var genBases = []string{"rollup_pages", "comment_pages", "counted_responses", "counted_events"}

// DropGenerations drops the collections of every generation but keep (the
// published one): those of the generation it replaced, and of rebuilds
// cut short. Also the one-document-per-cell collection of layouts before
// pages.
func (s *Rollups) DropGenerations(ctx context.Context, keep int) error {
	names, err := s.db.ListCollectionNames(ctx, bson.D{})
	if err != nil {
		return fmt.Errorf("list roll-up generations: %w", err)
	}
	for _, name := range names {
		if name != s.old.Name() && genOf(name) < 0 || genOf(name) == keep {
			continue
		}
		if err := Write(ctx, "rollups.drop", func(ctx context.Context) error { return s.db.Collection(name).Drop(ctx) }); err != nil {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	return nil
}

// DropLegacy deletes the journal of layouts before generations, once a
// view is published: until then its batch number is where claims go on
// from (see State).
func (j *Journal) DropLegacy(ctx context.Context) error {
	return Write(ctx, "journal.legacy", func(ctx context.Context) error {
		_, err := j.c.DeleteOne(ctx, bson.D{{Key: "_id", Value: j.legacyID}})
		return err
	})
}

// genOf is the generation a collection of genBases belongs to, -1 for
// any other collection.
func genOf(name string) int {
	for _, base := range genBases {
		if name == base {
			return 0
		}
		if g, ok := strings.CutPrefix(name, base+"_g"); ok {
			if n, err := strconv.Atoi(g); err == nil && n > 0 {
				return n
			}
		}
	}
	return -1
}
