package report_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// How a write is cut: the writer's context cancelled just before it, the
// store call failed before it is made, or failed after it committed (a
// timeout after the commit, or a crash right after it).
var cuts = []string{"cancel", "before", "after"}

// cutAt returns a context whose Fault cuts the n-th write (from 0) the
// writer makes, the way cut says, and reports the point it cut.
func cutAt(n int, cut string, point *string) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	i := 0
	return store.WithFault(ctx, func(_ context.Context, p string, after bool) error {
		if after {
			if i-1 == n && cut == "after" {
				return errors.New("cut after " + p)
			}
			return nil
		}
		i++
		if i-1 != n {
			return nil
		}
		*point = p
		switch cut {
		case "cancel":
			cancel()
		case "before":
			return errors.New("cut before " + p)
		}
		return nil
	})
}

// writes counts the writes fn makes, by point.
func writes(t *testing.T, fn func(context.Context) error) []string {
	t.Helper()
	var points []string
	err := fn(store.WithFault(ctx, func(_ context.Context, p string, after bool) error {
		if !after {
			points = append(points, p)
		}
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	return points
}

// crashEnv is a gateway whose agency has a webhook, so batches open cases
// and queue notices, and a round of answers shaped the same each time.
type crashEnv struct {
	*gwtest.Gateway
	t      *testing.T
	rounds int
	// dossiers answered high in each round; from the second round on,
	// each round flags the previous round's after the fact, and from the
	// third confirms or clears the one flagged before that.
	high      []string
	confirmed int
}

func newCrashEnv(t *testing.T) *crashEnv {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	t.Cleanup(hook.Close)
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp",
		"webhook": map[string]any{"url": hook.URL, "secret": "hook-secret-0123456789"}}); res.StatusCode != 200 {
		t.Fatalf("agency: %d %v", res.StatusCode, out)
	}
	return &crashEnv{Gateway: g, t: t}
}

// round makes two invitations and answers both, one low (a case), each
// with a comment, and writes them to MongoDB uncounted.
func (e *crashEnv) round() {
	e.t.Helper()
	e.rounds++
	for i, form := range []string{"A=1&B=2&C=2&D=1&E=2&comment=Cho+doi+qua+lau", "A=5&B=4&C=5&D=5&E=4&comment=Can+bo+nhiet+tinh"} {
		tok := gwtest.Token(e.Invite(fmt.Sprintf("CUT-%03d-%d", e.rounds, i), "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		if res := e.Form("/s/"+tok, form); res.StatusCode != 303 {
			e.t.Fatalf("submit: %d", res.StatusCode)
		}
	}
	e.high = append(e.high, fmt.Sprintf("CUT-%03d-1", e.rounds))
	e.Flush()
	if n := len(e.high); n >= 2 {
		if err := e.Core.FlagLater(ctx, []string{e.responseOf(e.high[n-2])}, store.FlagDeviceMany); err != nil {
			e.t.Fatal(err)
		}
	}
	if n := len(e.high); n >= 3 {
		action := []string{"confirm", "clear"}[n%2]
		if _, err := e.Core.Review(ctx, &core.Principal{Role: core.RoleAdmin}, e.responseOf(e.high[n-3]), action, core.ReviewInput{Note: "checked the desk's log"}); err != nil {
			e.t.Fatalf("%s: %v", action, err)
		}
		if action == "confirm" {
			e.confirmed++
		}
	}
}

// responseOf is the id of the response to dossier's invitation.
func (e *crashEnv) responseOf(dossier string) string {
	e.t.Helper()
	r, err := e.Mongo.Responses.ByInvitation(ctx, e.MustInvitation(dossier).ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.ID
}

// check: the roll-ups equal a rebuild from what is stored, the report
// counts every response once, each low response has one case and one
// notice, every answered invitation is completed, and nothing waits.
func (e *crashEnv) check(what string) {
	t := e.t
	t.Helper()
	if diff, err := e.Applier.Compare(ctx); err != nil || len(diff) > 0 {
		t.Fatalf("%s: roll-ups differ from the responses: %v %v", what, diff, err)
	}
	n := int64(2 * e.rounds)
	if got, _ := e.Mongo.DB.Collection("responses").CountDocuments(ctx, bson.D{}); got != n {
		t.Fatalf("%s: %d responses stored, want %d", what, got, n)
	}
	_, rep := e.API("GET", "/api/v1/reports/sipas?survey=sipas-5", nil)
	if rep["responses"] != float64(n-int64(e.confirmed)) {
		t.Fatalf("%s: the report counts %v responses, want %d (%d confirmed left out)", what, rep["responses"], n-int64(e.confirmed), e.confirmed)
	}
	// Every invitation named sipas-5, and each is answered once: the
	// survey's response rate counts each made and completed once.
	if inv, _ := rep["invitations"].(map[string]any); inv["created"] != float64(n) || inv["completed"] != float64(n) {
		t.Fatalf("%s: the response rate of sipas-5 counts %v, want %d made and completed", what, inv, n)
	}
	cases, _ := e.Mongo.DB.Collection("cases").CountDocuments(ctx, bson.D{})
	if cases != int64(e.rounds) {
		t.Fatalf("%s: %d cases, want %d", what, cases, e.rounds)
	}
	entries, err := e.Core.Notices.R.XRange(ctx, e.Core.Notices.Key, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range entries {
		id, _ := m.Values["id"].(string)
		if seen[id] || !strings.HasPrefix(id, "case.opened:") {
			t.Fatalf("%s: notice %q twice or without an id", what, id)
		}
		seen[id] = true
	}
	if len(seen) != e.rounds {
		t.Fatalf("%s: %d notices, want %d", what, len(seen), e.rounds)
	}
	if open, _ := e.Mongo.DB.Collection("invitations").CountDocuments(ctx, bson.D{{Key: "status", Value: bson.D{{Key: "$ne", Value: "completed"}}}}); open != 0 {
		t.Fatalf("%s: %d answered invitations not completed", what, open)
	}
	if left, _ := e.Mongo.Responses.Uncounted(ctx, 10); len(left) != 0 {
		t.Fatalf("%s: %d uncounted copies left", what, len(left))
	}
	if left, _ := e.Mongo.Responses.Changes(ctx, 10); len(left) != 0 {
		t.Fatalf("%s: %d change notes left", what, len(left))
	}
}

// Every write a batch makes, to MongoDB and to Redis, is cut in turn, each
// way: the next pass finishes the batch and nothing is lost, counted twice
// or done twice. The writes are enumerated by the Fault hook, so a write
// added to the writer is cut too without editing this test.
func TestBatchCutAtEveryWrite(t *testing.T) {
	e := newCrashEnv(t)
	e.round()
	points := writes(t, e.Applier.Drain)
	e.check("uncut")
	if len(points) < 15 {
		t.Fatalf("only %d writes enumerated: %v", len(points), points)
	}
	for i := range points {
		for _, cut := range cuts {
			e.round()
			var at string
			err := e.Applier.Drain(cutAt(i, cut, &at))
			if err == nil && at != "" {
				t.Fatalf("write %d (%s) cut %s: the drain reported no error", i, at, cut)
			}
			e.Drain()
			e.check(fmt.Sprintf("write %d (%s) cut %s", i, at, cut))
		}
	}
	t.Logf("%d writes a batch, each cut %d ways: %v", len(points), len(cuts), points)
}

// Every write a rebuild makes is cut in turn: the published roll-ups stay
// whole meanwhile, the next pass rebuilds again in a new generation, and
// only that generation's collections remain.
func TestRebuildCutAtEveryWrite(t *testing.T) {
	e := newCrashEnv(t)
	e.Applier.RebuildSlice = 1 // a slice per response: more writes to cut
	e.round()
	e.round()
	e.Drain()
	points := writes(t, func(ctx context.Context) error { _, err := e.Applier.Rebuild(ctx); return err })
	e.check("uncut rebuild")
	for i := range points {
		for _, cut := range cuts {
			var at string
			if _, err := e.Applier.Rebuild(cutAt(i, cut, &at)); err == nil {
				t.Fatalf("write %d (%s) cut %s: the rebuild reported no error", i, at, cut)
			}
			what := fmt.Sprintf("rebuild write %d (%s) cut %s", i, at, cut)
			if _, rep := e.API("GET", "/api/v1/reports/sipas?survey=sipas-5", nil); rep["responses"] != float64(2*e.rounds-e.confirmed) {
				t.Fatalf("%s: the report meanwhile counts %v", what, rep["responses"])
			}
			e.round()
			e.Drain()
			e.check(what)
			st, err := e.Mongo.Rollups.Journal.State(ctx)
			if err != nil {
				t.Fatal(err)
			}
			names, _ := e.Mongo.DB.ListCollectionNames(ctx, bson.D{})
			for _, n := range names {
				if strings.HasPrefix(n, "rollup_pages") && n != store.GenName("rollup_pages", st.View.Gen) {
					t.Fatalf("%s: %s left beside generation %d", what, n, st.View.Gen)
				}
			}
		}
	}
	t.Logf("%d writes a rebuild, each cut %d ways: %v", len(points), len(cuts), points)
}

// A writer paused in the middle of a batch loses its lease (Redis lost the
// key); another takes over, finishes that batch and counts the next. When
// the first goes on, what it writes is what the second wrote already, and
// it stops at the first version the second replaced, or at its next claim
// (a later epoch is claimed): no stale write lands.
func TestWriterThatLostItsLeaseWritesNothingStale(t *testing.T) {
	e := newCrashEnv(t)
	e.round()
	e.Drain()
	e.round()
	paused, resume := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := store.WithFault(ctx, func(_ context.Context, p string, after bool) error {
		if p == "rollups.pages" && after {
			once.Do(func() { close(paused); <-resume })
		}
		return nil
	})
	first := make(chan error, 1)
	go func() { first <- e.Applier.Drain(hook) }()
	<-paused
	if err := e.Applier.Locks.R.Del(ctx, "gw:lock:rollups:"+e.Mongo.DB.Name()).Err(); err != nil {
		t.Fatal(err)
	}
	second := *e.Applier
	e.round()
	if err := second.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	e.round() // work for the first writer, which it must not claim
	close(resume)
	if err := <-first; !errors.Is(err, store.ErrLostLease) && !errors.Is(err, store.ErrReplaced) {
		t.Fatalf("the writer that lost its lease went on: %v", err)
	}
	if diff, err := e.Applier.Compare(ctx); err == nil && len(diff) == 0 {
		t.Fatal("the last round was counted by the writer that lost its lease")
	}
	e.Drain()
	e.check("after a lost lease")
}
