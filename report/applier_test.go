package report_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

var ctx = context.Background()

// sipasForm answers every sipas question with random scores.
func sipasForm(r *rand.Rand) string {
	v := url.Values{}
	for _, q := range []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
		v.Set(q, fmt.Sprint(r.IntN(6)))
	}
	v.Set("comment", "Góp ý số "+fmt.Sprint(r.IntN(100)))
	return v.Encode()
}

// Many citizens submit at once, some twice, while the roll-up writer runs:
// afterwards the roll-ups equal a rebuild from the raw responses, and each
// invitation counts once.
func TestRollupsEqualRebuildAfterConcurrentLoad(t *testing.T) {
	g := gwtest.New(t, "")
	const n = 40
	tokens := make([]string, n)
	for i := range tokens {
		agency := []string{"000.00.12.H49", "000.00.13.H49"}[i%2]
		tokens[i] = gwtest.Token(g.Invite(fmt.Sprintf("H49-261125-%04d", i), agency, nil))
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); g.Applier.Run(runCtx, 20*time.Millisecond) }()

	var wg sync.WaitGroup
	for i, tok := range tokens {
		for try := 0; try < 2; try++ { // every citizen double-submits
			wg.Add(1)
			go func(seed uint64) {
				defer wg.Done()
				res := g.Form("/s/"+tok, sipasForm(rand.New(rand.NewPCG(seed, 1))))
				if res.StatusCode != 303 && res.StatusCode != 200 {
					t.Errorf("submit: %d %s", res.StatusCode, gwtest.Body(res))
				}
			}(uint64(i*2 + try))
		}
	}
	wg.Wait()
	stop()
	<-done
	g.Drain()

	diff, err := g.Applier.Compare(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(diff) > 0 {
		t.Fatalf("roll-ups differ from a rebuild:\n%v", diff)
	}
	_, rep := g.API("GET", "/api/v1/reports/sipas", nil)
	if rep["responses"] != float64(n) {
		t.Fatalf("report counts %v responses, want %d", rep["responses"], n)
	}
	count, _ := g.Mongo.DB.Collection("responses").CountDocuments(ctx, map[string]any{})
	if count != n {
		t.Fatalf("%d responses stored, want %d", count, n)
	}

	// A rebuild from scratch gives the same figures.
	before := rep
	if got, err := g.Applier.Rebuild(ctx); err != nil || got != n {
		t.Fatalf("rebuild: %d %v", got, err)
	}
	if diff, _ := g.Applier.Compare(ctx); len(diff) > 0 {
		t.Fatalf("after rebuild: %v", diff)
	}
	_, after := g.API("GET", "/api/v1/reports/sipas", nil)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("report changed across rebuild:\n%v\n%v", before, after)
	}
}

// A batch journalled and partly applied before a crash is finished on the
// next drain without counting any cell twice.
func TestCrashedBatchIsReplayedOnce(t *testing.T) {
	g := gwtest.New(t, "")
	for i := 0; i < 3; i++ {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("D-%d", i), "000.00.12.H49", map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("O=%d", i+3)); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	g.Flush()
	resps, err := g.Mongo.Responses.Uncounted(ctx, 10)
	if err != nil || len(resps) != 3 {
		t.Fatalf("unapplied %d %v", len(resps), err)
	}
	// The writer claims the batch and writes its pages and indexes, then
	// dies before publishing the view.
	cut := store.WithFault(ctx, func(_ context.Context, point string, after bool) error {
		if point == "journal.view" && !after {
			return errors.New("killed")
		}
		return nil
	})
	if err := g.Applier.Drain(cut); err == nil {
		t.Fatal("the cut drain succeeded")
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["responses"] != float64(0) {
		t.Fatalf("a batch not published is seen: %v", rep["responses"])
	}
	g.Drain()
	if diff, _ := g.Applier.Compare(ctx); len(diff) > 0 {
		t.Fatalf("replay counted twice or lost: %v", diff)
	}
	// Batch 1 replayed and published; nothing left claimed.
	st, _ := g.Mongo.Rollups.Journal.State(ctx)
	if st.Last != nil || st.View.N != 1 {
		t.Fatalf("state after replay: %+v", st)
	}
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	if rep["responses"] != float64(3) || rep["overall"].(map[string]any)["satisfaction_rate"] != 66.67 {
		t.Fatalf("report %v", rep)
	}
}

// A response written again by the outbox is counted once, and so is a copy
// noted again for a response already counted; a copy whose response was
// never written is written and counted.
func TestRetriedResponsesCountOnce(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-ONCE", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+tok, "O=4"); res.StatusCode != 303 {
		t.Fatalf("submit %d", res.StatusCode)
	}
	g.Drain()
	first, err := g.Mongo.DB.Collection("responses").CountDocuments(ctx, map[string]any{})
	if err != nil || first != 1 {
		t.Fatalf("responses %d %v", first, err)
	}
	var r store.Response
	if err := g.Mongo.DB.Collection("responses").FindOne(ctx, map[string]any{}).Decode(&r); err != nil {
		t.Fatal(err)
	}
	if err := g.Mongo.Responses.NoteUncounted(ctx, []*store.Response{&r}); err != nil {
		t.Fatal(err)
	}
	g.Drain()

	inv := g.Invite("D-ORPHAN", "000.00.12.H49", map[string]any{"survey": "overall"})
	orphan := store.Response{ID: "orphan-1", InvitationID: inv["id"].(string), Survey: "overall", SurveyVersion: 1, AgencyCode: "000.00.12.H49",
		Channel: "web", Month: r.Month, Answers: []store.Answer{{Question: "O", Criterion: "O", Score: 2}},
		SubmittedAt: time.Now()} // its case opens now, not due for days
	if _, err := g.Mongo.DB.Collection("responses").InsertOne(ctx, orphan); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(orphan)
	if err := g.Core.Outbox.Add(ctx, map[string]string{"response": string(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Core.DrainOutbox(ctx, 0); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	// One whose process died between its uncounted copy and the response,
	// its outbox entry gone too (embedded Redis lost at restart): the writer
	// writes the response from the copy once it is old enough to be no
	// write under way. And a copy left for an invitation another response
	// answered first is dropped uncounted.
	inv = g.Invite("D-LOST", "000.00.12.H49", map[string]any{"survey": "overall"})
	lost := orphan
	lost.ID, lost.InvitationID = primitive.NewObjectID().Hex(), inv["id"].(string)
	lost.SubmittedAt = time.Now().Add(-time.Minute)
	beaten := lost
	beaten.ID, beaten.InvitationID = primitive.NewObjectID().Hex(), orphan.InvitationID
	young := lost
	young.ID, young.SubmittedAt = primitive.NewObjectID().Hex(), time.Now()
	if err := g.Mongo.Responses.NoteUncounted(ctx, []*store.Response{&lost, &beaten, &young}); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	if left, _ := g.Mongo.Responses.Uncounted(ctx, 10); len(left) != 1 || left[0].ID != young.ID {
		t.Fatalf("uncounted copies after the batch: %v, want only the young one", left)
	}
	if err := g.Mongo.Responses.DropUncounted(ctx, []string{young.ID}, false); err != nil {
		t.Fatal(err)
	}
	if ok, _ := g.Mongo.Responses.Exists(ctx, lost.ID); !ok {
		t.Fatal("the lost response was not written from its copy")
	}
	if diff, _ := g.Applier.Compare(ctx); len(diff) > 0 {
		t.Fatalf("counted twice or not at all: %v", diff)
	}
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	if rep["responses"] != float64(3) {
		t.Fatalf("report counts %v responses, want 3", rep["responses"])
	}
	if n, _ := g.Core.Outbox.Pending(ctx); n != 0 {
		t.Fatalf("outbox holds %d", n)
	}
}

// A database whose roll-ups are one document per cell (the layout before
// pages) is rebuilt into pages once, when the writer first runs: the old
// collection goes and the report counts what the responses hold.
func TestOldLayoutIsRebuiltOnce(t *testing.T) {
	g := gwtest.New(t, "")
	for i := range 3 {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("D-OLD-%d", i), "000.00.12.H49", map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("O=%d", i+3)); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	g.Drain()
	// As an older version left it: its one journal document, its cells
	// in "rollups", no pages.
	if _, err := g.Mongo.DB.Collection("rollup_state").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Mongo.DB.Collection("rollup_state").InsertOne(ctx, bson.D{{Key: "_id", Value: "rollups"}, {Key: "batch", Value: 7}, {Key: "done", Value: true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Mongo.DB.Collection("rollup_pages").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Mongo.DB.Collection("rollups").InsertOne(ctx, bson.D{{Key: "_id", Value: "000.00.12.H49|2026-11|overall|web|O"}, {Key: "n5", Value: 9}}); err != nil {
		t.Fatal(err)
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["responses"] != float64(0) {
		t.Fatalf("before the writer runs, no pages: %v responses", rep["responses"])
	}
	g.Work(50 * time.Millisecond)
	for i := 0; ; i++ {
		if st, _ := g.Mongo.Rollups.Journal.State(ctx); st.View.Layout == store.Layout && st.View.Gen > 0 {
			break
		}
		if i == 100 {
			t.Fatal("the writer did not rebuild the old layout")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if diff, err := g.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("after the rebuild: %v %v", diff, err)
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["responses"] != float64(3) {
		t.Fatalf("after the rebuild: %v responses", rep["responses"])
	}
	// The generation it replaced is dropped after the switch, not with it.
	for i := 0; ; i++ {
		n, err := g.Mongo.DB.Collection("rollups").CountDocuments(ctx, bson.D{})
		if err == nil && n == 0 {
			break
		}
		if i == 100 {
			t.Fatalf("the old collection still holds %d cells (%v)", n, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A rebuild writes its cells a slice of responses at a time; the roll-ups
// it leaves equal the responses, and the live writer counts on after it.
func TestRebuildInSlices(t *testing.T) {
	g := gwtest.New(t, "")
	submit := func(i int) {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("D-SLICE-%d", i), []string{"000.00.12.H49", "000.00.13.H49"}[i%2], map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("O=%d&comment=y+kien+%d", 1+i%5, i)); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	for i := range 7 {
		submit(i)
	}
	g.Drain()
	g.Applier.RebuildSlice = 2
	if n, err := g.Applier.Rebuild(ctx); err != nil || n != 7 {
		t.Fatalf("rebuild: %d %v", n, err)
	}
	if diff, err := g.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("after a rebuild in slices: %v %v", diff, err)
	}
	submit(7)
	g.Drain()
	if diff, err := g.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("counting on after it: %v %v", diff, err)
	}
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil)
	_, cs := g.API("GET", "/api/v1/comments", nil)
	if rep["responses"] != 8.0 || len(cs["comments"].([]any)) != 8 {
		t.Fatalf("responses %v, comments %d", rep["responses"], len(cs["comments"].([]any)))
	}
}

// A province's new lexicon file re-classifies what was counted before:
// the writer started with another lexicon version rebuilds the topic cells
// and comment pages once, and they equal a rebuild.
func TestNewLexiconReclassifiesOnce(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("H49-LEX-1", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=2&B=2&C=2&D=2&E=2&comment=Bãi gửi xe máy thu 10 nghìn một lượt"); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	g.Drain()
	topics := func() []survey.Topic {
		t.Helper()
		list, err := g.Mongo.Comments.Newest(ctx, store.CommentFilter{FromMonth: "2000-01", ToMonth: "2100-12"}, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("comments %v %v", list, err)
		}
		return list[0].Topics
	}
	if slices.ContainsFunc(topics(), func(tp survey.Topic) bool { return tp.ID == "parking" }) {
		t.Fatalf("a topic the lexicon does not have: %v", topics())
	}
	extra := []byte(`{"version": 1, "topics": [{"id": "parking", "name": {"vi": "Gửi xe", "en": "Parking"}, "complaint": ["thu 10 nghìn"], "neutral": ["gửi xe"]}]}`)
	lex, err := survey.LoadLexicon(extra)
	if err != nil {
		t.Fatal(err)
	}
	g.Applier.Lexicon = lex
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); g.Applier.Run(runCtx, time.Hour) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// What readers read: the head's view. State looks past the head,
		// which moves just after a view is published, so a reader may
		// still be given the view before for a moment, whole.
		st, err := g.Mongo.Rollups.Journal.State(ctx)
		v, verr := g.Mongo.Rollups.Journal.Latest(ctx)
		if err == nil && verr == nil && st.Last == nil && st.View.Lexicon == lex.Version && v.Lexicon == lex.Version {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rebuild for the new lexicon: %+v %v", st, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	<-done
	if !slices.Contains(topics(), survey.Topic{ID: "parking", Polarity: survey.Complaint}) {
		t.Fatalf("not re-classified: %v", topics())
	}
	if diff, err := g.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a rebuild: %v %v", diff, err)
	}
}

// A flag raised on a response stored but not counted yet (the third
// dossier of one browser answered before the roll-up writer ran) is
// counted with the response in the same batch, not lost to it.
func TestLateFlagInTheSameBatchIsCounted(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-LATE", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+tok, "O=5"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("D-LATE").ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Core.FlagLater(t.Context(), []string{r.ID}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a recount: %v %v", diff, err)
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["flagged"] != 1.0 || rep["pending_review"] != 1.0 {
		t.Fatalf("the late flag is not counted: %v", rep)
	}
}

// A response counted before whose uncounted copy is noted again (an
// outbox retry, or a rebuild that counted it with its copy left) and
// that is flagged in the same batch is recounted, not skipped as if the
// batch counted it afresh.
func TestLateFlagOnACopyNotedAgainIsCounted(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-AGAIN", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+tok, "O=5"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Drain()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("D-AGAIN").ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Mongo.Responses.NoteUncounted(t.Context(), []*store.Response{r}); err != nil {
		t.Fatal(err)
	}
	if err := g.Core.FlagLater(t.Context(), []string{r.ID}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a recount: %v %v", diff, err)
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["flagged"] != 1.0 || rep["responses"] != 1.0 {
		t.Fatalf("report: flagged %v, responses %v", rep["flagged"], rep["responses"])
	}
}

// A flag whose note the writer takes before the batch that counts its
// response (stored, noted stored, its copy still queued behind another)
// waits with the response: it is counted with the flag (the roll-ups
// equal a recount of the stored responses, signal by signal), and the
// note of its being stored is dropped once it is counted.
func TestFlagTakenBeforeItsResponseIsCountedWaitsForIt(t *testing.T) {
	g := gwtest.New(t, "")
	for _, d := range []string{"D-ONE", "D-TWO"} {
		tok := gwtest.Token(g.Invite(d, "000.00.12.H49", map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, "O=5"); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", d, res.StatusCode)
		}
		g.Flush()
	}
	queued, err := g.Mongo.Responses.Uncounted(t.Context(), 2)
	if err != nil || len(queued) != 2 {
		t.Fatalf("uncounted: %v %v", queued, err)
	}
	r := queued[1] // the writer's first batch of one takes the other
	if known, _, err := g.Core.Outbox.Stored(t.Context(), []string{r.ID}); err != nil || !known[r.ID] {
		t.Fatalf("the response is not noted stored: %v %v", known, err)
	}
	if slices.Contains(r.Flags, store.FlagDeviceMany) {
		t.Fatalf("flagged %v on saving: the late flag would change nothing", r.Flags)
	}
	if err := g.Core.FlagLater(t.Context(), []string{r.ID}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	g.Applier.BatchSize = 1 // the first batch: the other response and the note
	g.Drain()
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a recount: %v %v", diff, err)
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["responses"] != 2.0 {
		t.Fatalf("report: responses %v", rep["responses"])
	}
	if known, _, err := g.Core.Outbox.Stored(t.Context(), []string{r.ID}); err != nil || known[r.ID] {
		t.Fatalf("the note of a counted response is kept: %v %v", known, err)
	}
}

// A full batch drops its uncounted copies in one delete (a read of the
// whole collection on FerretDB) while the copies noted stored are few,
// and one by one when many more are noted, or when its own are not (the
// notes are lost, so their number says nothing); the last, partial batch
// in one delete. Every copy goes, and every response counts once.
func TestFullBatchDropsItsCopiesAtOnceWhileFew(t *testing.T) {
	for name, c := range map[string]struct {
		notes func(g *gwtest.Gateway, key string) error
		first string
	}{
		"few noted":  {nil, "uncounted.drop"},
		"notes lost": {func(g *gwtest.Gateway, key string) error { return g.Core.Outbox.R.Del(t.Context(), key).Err() }, "uncounted.drop.each"},
		"many noted": {func(g *gwtest.Gateway, key string) error {
			return g.Core.Outbox.R.SAdd(t.Context(), key, "r-1", "r-2", "r-3", "r-4", "r-5", "r-6").Err()
		}, "uncounted.drop.each"},
	} {
		t.Run(name, func(t *testing.T) {
			g := gwtest.New(t, "")
			for _, d := range []string{"D-F1", "D-F2", "D-F3"} {
				tok := gwtest.Token(g.Invite(d, "000.00.12.H49", map[string]any{"survey": "overall"}))
				if res := g.Form("/s/"+tok, "O=5"); res.StatusCode != 303 {
					t.Fatalf("submit %s: %d", d, res.StatusCode)
				}
			}
			g.Flush()
			if c.notes != nil {
				if err := c.notes(g, g.Core.Outbox.Key+":stored"); err != nil {
					t.Fatal(err)
				}
			}
			g.Applier.BatchSize = 2 // up to 8 noted copies count as few
			var drops []string
			ctx := store.WithFault(t.Context(), func(_ context.Context, point string, after bool) error {
				if after && strings.HasPrefix(point, "uncounted.drop") {
					drops = append(drops, point)
				}
				return nil
			})
			if err := g.Applier.Drain(ctx); err != nil {
				t.Fatal(err)
			}
			if want := []string{c.first, "uncounted.drop"}; !slices.Equal(drops, want) {
				t.Fatalf("drops %v, want %v", drops, want)
			}
			if left, err := g.Mongo.Responses.Uncounted(t.Context(), 10); err != nil || len(left) != 0 {
				t.Fatalf("%d copies left (%v)", len(left), err)
			}
			if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall", nil); rep["responses"] != 3.0 {
				t.Fatalf("report: responses %v", rep["responses"])
			}
		})
	}
}

// An invitation started and then answered within report.StartedAfter is
// written once, completed: its completion records the start, and the
// start, once due, is dropped without a write.
func TestStartOfAnAnsweredInvitationIsRecordedWithItsCompletion(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-START", "000.00.12.H49", map[string]any{"survey": "overall"}))
	id := g.MustInvitation("D-START").ID
	if err := g.Core.Started.Add(t.Context(), id, time.Now()); err != nil { // as a first step saved does
		t.Fatal(err)
	}
	if res := g.Form("/s/"+tok, "lang=vi&O=4"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Flush()
	g.Drain()
	inv, err := g.Mongo.Invitations.Invitation(t.Context(), id)
	r, rerr := g.Mongo.Responses.ByInvitation(t.Context(), id)
	if err != nil || rerr != nil || inv.Status != store.StatusCompleted || inv.StartedAt == nil || !inv.StartedAt.Equal(r.StartedAt) {
		t.Fatalf("invitation %+v (%v %v): want completed, started when its response says", inv, err, rerr)
	}
	if _, waits := g.Core.Started.When(t.Context(), id); !waits {
		t.Fatal("the start was taken before it was due")
	}
	g.Later(report.StartedAfter)
	g.Drain()
	if _, waits := g.Core.Started.When(t.Context(), id); waits {
		t.Fatal("the start still waits for the writer")
	}
	if again, err := g.Mongo.Invitations.Invitation(t.Context(), id); err != nil || again.Status != store.StatusCompleted {
		t.Fatalf("after the start was due: %+v %v", again, err)
	}
}
