package store_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

var ctx = context.Background()

func newInvitation(id, dossier string) *store.Invitation {
	now := store.Millis(time.Now())
	return &store.Invitation{ID: id, Token: "tok-" + id, DossierCode: dossier, AgencyCode: "000.00.12.H49",
		Survey: "sipas", Locale: "vi", Status: store.StatusPending, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
}

// Fifty concurrent creates for one dossier make exactly one invitation, and
// every caller gets that one back.
func TestInvitationCreateIsIdempotentUnderConcurrency(t *testing.T) {
	m := testenv.Mongo(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, ids := 0, map[string]bool{}
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			inv, made, _, err := m.Invitations.Create(ctx, newInvitation(testenv.RandomID(), "D-1"))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			ids[inv.ID] = true
			if made {
				created++
			}
		}(i)
	}
	wg.Wait()
	if created != 1 || len(ids) != 1 {
		t.Fatalf("created %d, distinct ids returned %d; want 1 and 1", created, len(ids))
	}
	n, err := m.DB.Collection("invitations").CountDocuments(ctx, map[string]any{"dossier_code": "D-1"})
	if err != nil || n != 1 {
		t.Fatalf("stored %d invitations (%v)", n, err)
	}
}

func TestInvitationLookupsAndTransitions(t *testing.T) {
	m := testenv.Mongo(t)
	inv := newInvitation("i1", "D-2")
	if _, _, _, err := m.Invitations.Create(ctx, inv); err != nil {
		t.Fatal(err)
	}
	for name, get := range map[string]func() (*store.Invitation, error){
		"id":      func() (*store.Invitation, error) { return m.Invitations.Invitation(ctx, "i1") },
		"token":   func() (*store.Invitation, error) { return m.Invitations.ByToken(ctx, "tok-i1") },
		"dossier": func() (*store.Invitation, error) { return m.Invitations.ByDossier(ctx, "D-2") },
	} {
		got, err := get()
		if err != nil || got.ID != "i1" || !got.CreatedAt.Equal(inv.CreatedAt) {
			t.Errorf("by %s: %+v %v", name, got, err)
		}
	}
	if _, err := m.Invitations.Invitation(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing invitation: %v", err)
	}
	at := time.Now()
	if err := m.Invitations.MarkStarted(ctx, "i1", at); err != nil {
		t.Fatal(err)
	}
	// One batch's marks: opened, started and completed in one write.
	if err := m.Invitations.Mark(ctx, store.Marks{Opened: map[string]map[string]time.Time{"i1": {"web": at}}, Started: map[string]string{"i1": "web"},
		Completed: []*store.Response{{InvitationID: "i1", Channel: "web", SubmittedAt: at}}}); err != nil {
		t.Fatal(err)
	}
	// A later completion from another channel changes nothing; nor does a
	// late start, nor a later opening or start on the same family.
	_ = m.Invitations.Mark(ctx, store.Marks{Opened: map[string]map[string]time.Time{"i1": {"web": at.Add(time.Hour)}}, Started: map[string]string{"i1": "sms"},
		Completed: []*store.Response{{InvitationID: "i1", Channel: "sms", SubmittedAt: at.Add(time.Hour)}}})
	_ = m.Invitations.MarkStarted(ctx, "i1", at)
	got, _ := m.Invitations.Invitation(ctx, "i1")
	if got.Status != store.StatusCompleted || got.CompletedVia != "web" || !got.CompletedAt.Equal(store.Millis(at)) {
		t.Fatalf("after completions: %+v", got)
	}
	if !got.Opened["web"].Equal(store.Millis(at)) || got.StartedVia != "web" {
		t.Fatalf("opened %v, started via %q: want the first of each", got.Opened, got.StartedVia)
	}
}

// Invitations known open (Marks.Open) are marked without being read: a
// completion records the response's start, an opening keeps the earliest,
// a replay changes nothing. One not known open is read first: opted out,
// it stays so.
func TestMarksOfInvitationsKnownOpen(t *testing.T) {
	m := testenv.Mongo(t)
	for _, id := range []string{"k1", "k2"} {
		if _, _, _, err := m.Invitations.Create(ctx, newInvitation(id, "D-"+id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Invitations.MarkOptedOut(ctx, "k2"); err != nil {
		t.Fatal(err)
	}
	at := store.Millis(time.Now())
	done := &store.Response{InvitationID: "k1", Channel: "kiosk", StartedAt: at, SubmittedAt: at.Add(time.Minute)}
	marks := store.Marks{Opened: map[string]map[string]time.Time{"k1": {"web": at.Add(time.Hour)}}, Started: map[string]string{"k1": "web"},
		Completed: []*store.Response{done, {InvitationID: "k2", Channel: "sms", StartedAt: at, SubmittedAt: at}}, Open: map[string]bool{"k1": true}}
	for range 2 { // the batch and its replay
		if err := m.Invitations.Mark(ctx, marks); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Invitations.Mark(ctx, store.Marks{Opened: map[string]map[string]time.Time{"k1": {"web": at}, "k2": {"web": at}}, Open: map[string]bool{"k1": true}}); err != nil {
		t.Fatal(err)
	}
	got, _ := m.Invitations.Invitation(ctx, "k1")
	if got.Status != store.StatusCompleted || got.CompletedVia != "kiosk" || !got.CompletedAt.Equal(done.SubmittedAt) || got.StartedAt == nil || !got.StartedAt.Equal(at) {
		t.Fatalf("completed without a read: %+v", got)
	}
	if !got.Opened["web"].Equal(at) || got.StartedVia != "web" {
		t.Fatalf("opened %v, started via %q: want the earliest opening, %v, and web", got.Opened, got.StartedVia, at)
	}
	if got, _ := m.Invitations.Invitation(ctx, "k2"); got.Status != store.StatusOptedOut || got.StartedAt != nil || !got.Opened["web"].Equal(at) {
		t.Fatalf("opted out, then answered: %+v", got)
	}
}

func TestStatusAtExpiry(t *testing.T) {
	inv := newInvitation("x", "D")
	if inv.StatusAt(inv.ExpiresAt.Add(-time.Second)) != store.StatusPending || inv.StatusAt(inv.ExpiresAt) != store.StatusExpired {
		t.Fatal("expiry")
	}
	inv.Status = store.StatusCompleted
	if inv.StatusAt(inv.ExpiresAt.Add(time.Hour)) != store.StatusCompleted {
		t.Fatal("a completed invitation stays completed")
	}
}

func TestOneResponsePerInvitation(t *testing.T) {
	m := testenv.Mongo(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	saved, dup := 0, 0
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs, err := m.Responses.InsertMany(ctx, []*store.Response{{ID: testenv.RandomID(), InvitationID: "inv-1", Survey: "overall",
				Answers: []store.Answer{{Question: "O", Criterion: "O", Score: 5}}}})
			if err == nil {
				err = errs[0]
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				saved++
			case errors.Is(err, store.ErrDuplicate):
				dup++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if saved != 1 || dup != 19 {
		t.Fatalf("saved %d, duplicates %d", saved, dup)
	}
}

// apply applies cells as batch n on top of the months given and publishes
// the view, returning its months.
func apply(t *testing.T, m *store.Mongo, n int64, months map[string]int64, cells store.Cells) map[string]int64 {
	t.Helper()
	applied, err := m.Rollups.Apply(ctx, store.Version{Batch: n, Parent: months}, cells)
	if err != nil {
		t.Fatal(err)
	}
	return store.Merge(months, applied.Months)
}

func publish(t *testing.T, m *store.Mongo, n int64, months, comments map[string]int64) {
	t.Helper()
	if err := m.Rollups.Journal.Publish(ctx, nil, store.View{N: n, Months: months, Comments: comments}); err != nil {
		t.Fatal(err)
	}
}

// Replaying a batch (as after a crash before its view was published)
// writes the same versions and counts nothing twice; the next batch counts.
func TestRollupApplyIsIdempotentPerBatch(t *testing.T) {
	m := testenv.Mongo(t)
	k := store.CellKey{Agency: "A", Month: "2026-11", Survey: "overall", Channel: "web", Question: "O", Criterion: "O"}
	one := store.Cells{k: {Levels: [6]int64{0, 0, 0, 0, 1, 2}}}
	var months map[string]int64
	for i := 0; i < 3; i++ {
		months = apply(t, m, 1, nil, one)
	}
	months = apply(t, m, 2, months, one)
	publish(t, m, 2, months, nil)
	got, err := m.Rollups.Query(ctx, store.Filter{Survey: "overall", Agencies: []string{"A"}, FromMonth: "2026-01", ToMonth: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	if got[k].Levels != [6]int64{0, 0, 0, 0, 2, 4} {
		t.Fatalf("after batches 1,1,1,2: %v", got[k])
	}
	if none, _ := m.Rollups.Query(ctx, store.Filter{Survey: "overall", FromMonth: "2026-12"}); len(none) != 0 {
		t.Fatalf("month filter let through %v", none)
	}
}

// Cells live in pages of up to 32 agencies a month, the procedure family
// apart: a report gets exactly the cells its filter names, whichever pages
// they are in, and a batch replayed after it reached only some pages
// counts once in each.
func TestRollupPages(t *testing.T) {
	m := testenv.Mongo(t)
	want := store.Cells{}
	batch := func(n int64, from, to int) store.Cells {
		cs := store.Cells{}
		for i := from; i < to; i++ {
			ag := fmt.Sprintf("AG.%02d", i)
			for _, month := range []string{"2026-10", "2026-11"} {
				base := store.CellKey{Agency: ag, Month: month, Survey: "sipas", Question: "A1", Criterion: "A"}
				web, sms, proc, field := base, base, base, base
				web.Channel, sms.Channel = "web", "sms.esms"
				proc.Channel, proc.Dim = store.AnyChannel, "procedure:1.00"+strconv.Itoa(i%3)
				field.Channel, field.Dim = store.AnyChannel, "field:G0"+strconv.Itoa(i%2)
				all := web
				all.Question, all.Criterion = store.AllQuestions, ""
				cs.Add(web, store.Counts{Levels: [6]int64{0, 0, 0, 1, int64(i), 2}})
				cs.Add(sms, store.Counts{Levels: [6]int64{1, 0, 0, 0, 0, n}})
				cs.Add(proc, store.Counts{Levels: [6]int64{0, 1, 0, 0, 0, 1}})
				pall := proc
				pall.Question, pall.Criterion = store.AllQuestions, ""
				cs.Add(pall, store.Counts{Responses: 2})
				cs.Add(field, store.Counts{Levels: [6]int64{0, 0, 1, 0, 0, n}})
				cs.Add(all, store.Counts{Responses: n + int64(i)})
			}
		}
		for k, c := range cs {
			want.Add(k, c)
		}
		return cs
	}
	m1 := apply(t, m, 1, nil, batch(1, 0, 50))
	// Batch 2 writes the same versions however often it is applied.
	b2 := batch(2, 20, 80)
	var months map[string]int64
	for i := 0; i < 2; i++ {
		months = apply(t, m, 2, m1, b2)
	}
	publish(t, m, 2, months, nil)
	all, err := m.Rollups.All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Fatalf("%d cells stored, want %d", len(all), len(want))
	}
	for k, c := range want {
		if all[k] != c {
			t.Fatalf("%+v: stored %v, want %v", k, all[k], c)
		}
	}
	check := func(name string, f store.Filter, keep func(store.CellKey) bool) {
		t.Helper()
		got, err := m.Rollups.Query(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for k, c := range want {
			if !keep(k) {
				continue
			}
			n++
			if got[k] != c {
				t.Fatalf("%s: %+v: got %v, want %v", name, k, got[k], c)
			}
		}
		if n == 0 || len(got) != n {
			t.Fatalf("%s: %d cells, want %d", name, len(got), n)
		}
	}
	check("province", store.Filter{Survey: "sipas"}, func(k store.CellKey) bool { return k.Dim == "" })
	check("two agencies in two pages, one month", store.Filter{Survey: "sipas", Agencies: []string{"AG.05", "AG.70"}, FromMonth: "2026-11"},
		func(k store.CellKey) bool {
			return k.Dim == "" && (k.Agency == "AG.05" || k.Agency == "AG.70") && k.Month == "2026-11"
		})
	check("channel", store.Filter{Survey: "sipas", Channel: "web", ToMonth: "2026-10"},
		func(k store.CellKey) bool { return k.Channel == "web" && k.Month == "2026-10" })
	check("one procedure", store.Filter{Survey: "sipas", Procedure: "1.001"}, func(k store.CellKey) bool { return k.Dim == "procedure:1.001" })
	check("one field", store.Filter{Survey: "sipas", Field: "G01", Agencies: []string{"AG.01", "AG.02", "AG.03"}},
		func(k store.CellKey) bool {
			return k.Dim == "field:G01" && (k.Agency == "AG.01" || k.Agency == "AG.03")
		})
	check("by procedure, every form (summaries only)", store.Filter{ProcedureFamily: true},
		func(k store.CellKey) bool {
			return strings.HasPrefix(k.Dim, "procedure:") && k.Question == store.AllQuestions
		})
	check("by procedure", store.Filter{Survey: "sipas", ProcedureFamily: true, Agencies: []string{"AG.79"}},
		func(k store.CellKey) bool { return k.Agency == "AG.79" && strings.HasPrefix(k.Dim, "procedure:") })
	if none, err := m.Rollups.Query(ctx, store.Filter{Survey: "other"}); err != nil || len(none) != 0 {
		t.Fatalf("another survey: %v %v", none, err)
	}
	// The month index records each page's version (what lets readers keep
	// pages decoded).
	comments, err := m.Comments.Apply(ctx, store.Version{Batch: 3},
		[]store.Comment{{ResponseID: "r", Agency: "AG.01", At: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), Text: "x"}},
		func(string, string) int { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	for coll, id := range map[string]string{"rollup_pages": "#month|2026-11@2", "comment_pages": "#month|2026-11@3"} {
		var ix struct {
			Pages   []string `bson:"pages"`
			Batches []int64  `bson:"batches"`
		}
		if err := m.DB.Collection(coll).FindOne(ctx, map[string]any{"_id": id}).Decode(&ix); err != nil || len(ix.Pages) == 0 || len(ix.Pages) != len(ix.Batches) {
			t.Fatalf("%s month index: %+v %v", coll, ix, err)
		}
	}
	// Pages read before are kept in the process; one a later batch changed
	// is read again.
	publish(t, m, 4, apply(t, m, 4, months, batch(3, 10, 11)), comments.Months)
	check("province after batch 4", store.Filter{Survey: "sipas"}, func(k store.CellKey) bool { return k.Dim == "" })
	// A rebuild writes the same cells in a generation of its own, unseen
	// until it is published.
	applied, err := m.Rollups.Apply(ctx, store.Version{Gen: 1, Batch: 5, Private: true}, want)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Rollups.Journal.Publish(ctx, nil, store.View{N: 5, Gen: 1, Months: applied.Months}); err != nil {
		t.Fatal(err)
	}
	if again, err := m.Rollups.All(ctx); err != nil || len(again) != len(want) {
		t.Fatalf("after a rebuild: %d cells, %v", len(again), err)
	}
}

// Batch numbers, epochs and generations are claimed once each; a writer
// whose epoch is followed by another's is told it lost the lease.
func TestJournalClaimsOnce(t *testing.T) {
	m := testenv.Mongo(t)
	j := m.Rollups.Journal
	st, err := j.State(ctx)
	if err != nil || st.Next != 1 || st.Last != nil || st.Stored {
		t.Fatalf("fresh state %+v %v", st, err)
	}
	e1, err := j.ClaimEpoch(ctx)
	if err != nil || e1 != 1 {
		t.Fatalf("epoch %d %v", e1, err)
	}
	if err := j.Claim(ctx, store.Claim{N: 1, Epoch: e1, Kind: store.ClaimLive, Pending: []string{"r1"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Claim(ctx, store.Claim{N: 1, Epoch: e1, Kind: store.ClaimLive}); !errors.Is(err, store.ErrLostRace) {
		t.Fatalf("second claim of batch 1: %v", err)
	}
	st, _ = j.State(ctx)
	if st.Last == nil || st.Last.N != 1 || len(st.Last.Pending) != 1 || st.Next != 2 {
		t.Fatalf("state %+v", st)
	}
	if err := j.Check(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if e2, err := j.ClaimEpoch(ctx); err != nil || e2 != 2 {
		t.Fatalf("second epoch %d %v", e2, err)
	}
	if err := j.Check(ctx, e1); !errors.Is(err, store.ErrLostLease) {
		t.Fatalf("the first writer after a second epoch: %v", err)
	}
	g1, _ := j.ClaimGen(ctx, 0)
	g2, _ := j.ClaimGen(ctx, 0)
	if g1 != 1 || g2 != 2 {
		t.Fatalf("generations %d %d", g1, g2)
	}
	if err := j.Publish(ctx, nil, store.View{N: 1, Months: map[string]int64{}}); err != nil {
		t.Fatal(err)
	}
	if st, _ = j.State(ctx); st.Last != nil || st.View.N != 1 || !st.Stored || st.Next != 2 {
		t.Fatalf("after publishing: %+v", st)
	}
}

func TestProgressAndLocks(t *testing.T) {
	r := testenv.Redis(t)
	p := &store.Progress{R: r}
	tok := testenv.RandomID()
	if err := p.Save(ctx, tok, map[string]string{"A1": "5"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := p.Save(ctx, tok, map[string]string{"A2": "0", "comment": "tốt"}, time.Minute); err != nil {
		t.Fatal(err)
	}
	got, err := p.Load(ctx, tok)
	if err != nil || got["A1"] != "5" || got["A2"] != "0" || got["comment"] != "tốt" {
		t.Fatalf("progress %v %v", got, err)
	}
	if ttl := r.TTL(ctx, "gw:web:{"+tok+"}").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("progress ttl %v", ttl)
	}
	_ = p.Clear(ctx, tok)
	if got, _ := p.Load(ctx, tok); len(got) != 0 {
		t.Fatalf("after clear %v", got)
	}

	l := &store.Locks{R: r}
	name := "t-" + tok
	lease, err := l.Acquire(ctx, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(ctx, name, time.Minute); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second acquire: %v", err)
	}
	if err := lease.Extend(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	_ = lease.Release(ctx)
	if err := lease.Extend(ctx, time.Minute); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("extend after release: %v", err)
	}
	again, err := l.Acquire(ctx, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	_ = again.Release(ctx)
}

func TestSealer(t *testing.T) {
	s := store.NewSealer("0123456789abcdef0123456789abcdef")
	a, b := s.Seal("84912345678"), s.Seal("84912345678")
	if string(a) == string(b) {
		t.Fatal("sealing twice gave the same bytes: nonce reuse")
	}
	if p, err := s.Open(a); err != nil || p != "84912345678" {
		t.Fatalf("open %q %v", p, err)
	}
	other := store.NewSealer("another key, at least 32 chars long!")
	if _, err := other.Open(a); err == nil {
		t.Fatal("opened with the wrong key")
	}
	if s.Hash("84912345678") != s.Hash("84912345678") || s.Hash("84912345678") == other.Hash("84912345678") || len(s.Hash("x")) != 32 {
		t.Fatal("hash must be stable per key and differ across keys")
	}
}

// A respondent's hash is how MongoDB knows them across versions: reused
// HMACs must give exactly what a fresh one gives, from any goroutine.
func TestSealerHashIsStableAcrossReuse(t *testing.T) {
	s := store.NewSealer("a test key that is long enough, 32+")
	want := map[string]string{ // the keyed hash before HMACs were reused
		"84912345678": "43ca93537a0f12fd2040d4dcb91dc56c",
		"x":           "16c4e10c119758f9e0c8481b80560e3f",
		"":            "9ad9fa6fd1ce3340fdfaf39d128b157b",
	}
	testenv.Concurrently(t, 8, func(int) error {
		for i := 0; i < 200; i++ {
			for v, h := range want {
				if got := s.Hash(v); got != h {
					return fmt.Errorf("Hash(%q) = %s, want %s", v, got, h)
				}
			}
		}
		return nil
	})
}

func TestLeaseKeepOutlivesItsTTLAndNoticesLoss(t *testing.T) {
	r := testenv.Redis(t)
	l := &store.Locks{R: r}
	name := "keep-" + testenv.RandomID()
	lease, err := l.Acquire(ctx, name, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	kctx, stop := lease.Keep(ctx, 300*time.Millisecond)
	time.Sleep(700 * time.Millisecond)
	if _, err := l.Acquire(ctx, name, time.Second); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("lease lapsed while kept: %v", err)
	}
	r.Del(ctx, "gw:lock:"+name) // lost (e.g. Redis failover)
	select {
	case <-kctx.Done():
	case <-time.After(2 * time.Second):
		t.Fatal("losing the lease did not end its context")
	}
	stop()
}

// Lookups by token and dossier go through _id documents only: a missing
// lookup is not looked for with a query (which reads every invitation on
// FerretDB), except when a creation cut short between the invitation and
// its lookups is retried. Invitations from before lookups existed get them
// once, when the database is opened.
func TestInvitationLookups(t *testing.T) {
	m := testenv.Mongo(t)
	inv := newInvitation("look-1", "D-LOOK")
	if _, _, _, err := m.Invitations.Create(ctx, inv); err != nil {
		t.Fatal(err)
	}
	keys := m.DB.Collection("invitation_keys")
	mine := map[string]any{"inv": "look-1"}
	if n, _ := keys.CountDocuments(ctx, mine); n != 2 {
		t.Fatalf("%d lookups written", n)
	}
	if got, err := m.Invitations.ByToken(ctx, "tok-look-1"); err != nil || got.ID != "look-1" {
		t.Fatalf("by token: %v %v", got, err)
	}
	if _, err := m.Invitations.ByToken(ctx, "tok-nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}

	// Cut short before its lookups: not found by token, found again (and
	// its lookups written) when desk software retries the creation.
	cut := newInvitation("cut-1", "D-CUT")
	if _, err := m.DB.Collection("invitations").InsertOne(ctx, cut); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Invitations.ByToken(ctx, "tok-cut-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a token without lookup was looked for with a query: %v", err)
	}
	retry := newInvitation("cut-2", "D-CUT")
	if got, created, _, err := m.Invitations.Create(ctx, retry); err != nil || created || got.ID != "cut-1" {
		t.Fatalf("retried creation: %v created=%v %v", got, created, err)
	}
	if got, err := m.Invitations.ByToken(ctx, "tok-cut-1"); err != nil || got.ID != "cut-1" {
		t.Fatalf("by token after the retry: %v %v", got, err)
	}

	// A database from before lookups: opened again, it gets them once.
	old := newInvitation("old-1", "D-OLD")
	if _, err := m.DB.Collection("invitations").InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.DeleteOne(ctx, map[string]any{"_id": "m:lookups"}); err != nil {
		t.Fatal(err)
	}
	again, err := store.OpenMongo(ctx, testenv.MongoURI(t), m.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx)
	if got, err := again.Invitations.ByDossier(ctx, "D-OLD"); err != nil || got.ID != "old-1" {
		t.Fatalf("by dossier after the backfill: %v %v", got, err)
	}
}

// After Redis lost its data, Warm copies every open invitation (and no
// other) to the cache, once: a mark says it was done.
func TestWarmCopiesOpenInvitations(t *testing.T) {
	m := testenv.Mongo(t)
	c := &store.InvitationCache{R: testenv.Redis(t), TTL: 24 * time.Hour}
	open, started := newInvitation("w-open", "D-W1"), newInvitation("w-started", "D-W2")
	started.Status = store.StatusInProgress
	done, expired := newInvitation("w-done", "D-W3"), newInvitation("w-expired", "D-W4")
	done.Status, expired.ExpiresAt = store.StatusCompleted, time.Now().Add(-time.Minute)
	for _, inv := range []*store.Invitation{open, started, done, expired} {
		if _, _, _, err := m.Invitations.Create(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := c.Warm(ctx, m.Invitations, m.DB.Name()); err != nil || n != 2 {
		t.Fatalf("warm: %d %v, want the 2 open", n, err)
	}
	for _, id := range []string{"w-open", "w-started"} {
		if got, err := c.ByToken(ctx, "tok-"+id, 0, nil); err != nil || got.ID != id {
			t.Fatalf("copy of %s: %v %v", id, got, err)
		}
	}
	if _, err := c.ByID(ctx, "w-done", 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a completed invitation was copied: %v", err)
	}
	if n, err := c.Warm(ctx, m.Invitations, m.DB.Name()); err != nil || n != 0 {
		t.Fatalf("second warm read %d invitations (%v): the mark did not hold", n, err)
	}
}

// A token read once is then read by its invitation's id at once; its
// copy still decides: once forgotten (an erasure), the token is unknown
// again, and a copy of another token's is never passed on as its.
func TestTokenReadOnceStillNeedsItsCopy(t *testing.T) {
	c := &store.InvitationCache{R: testenv.Redis(t), TTL: 24 * time.Hour}
	inv := newInvitation("tk-1", "D-TK1")
	c.Put(ctx, inv)
	for range 2 {
		if got, err := c.ByToken(ctx, inv.Token, 0, nil); err != nil || got.ID != inv.ID {
			t.Fatalf("by token: %v %v", got, err)
		}
	}
	if err := c.Forget(ctx, inv.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ByToken(ctx, inv.Token, 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a forgotten invitation read by a token read before: %v %v", got, err)
	}
	other := newInvitation("tk-1", "D-TK1") // the id's copy now holds another token
	other.Token = "tok-other"
	c.Put(ctx, other)
	if got, err := c.ByToken(ctx, inv.Token, 0, nil); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("token %s read %v (%v), a copy of token %s", inv.Token, got, err, other.Token)
	}
}

// Comment pages take a batch once; the newest come first across days,
// months and groups, and a cursor or agencies narrow them.
func TestCommentPages(t *testing.T) {
	m := testenv.Mongo(t)
	at := func(month, day, hour int) time.Time {
		return time.Date(2026, time.Month(month), day, hour, 0, 0, 0, time.FixedZone("ICT", 7*3600))
	}
	group := func(_, agency string) int {
		if agency == "B" {
			return 1
		}
		return 0
	}
	one := []store.Comment{
		{ResponseID: "r1", Agency: "A", At: at(10, 31, 9), Text: "một"},
		{ResponseID: "r2", Agency: "B", At: at(11, 1, 8), Text: "hai"},
		{ResponseID: "r3", Agency: "A", At: at(11, 1, 10), Text: "ba"},
	}
	var first store.Applied
	for range 2 { // replayed after a crash: nothing twice
		var err error
		if first, err = m.Comments.Apply(ctx, store.Version{Batch: 1}, one, group); err != nil {
			t.Fatal(err)
		}
	}
	second, err := m.Comments.Apply(ctx, store.Version{Batch: 2, Parent: first.Months}, []store.Comment{{ResponseID: "r4", Agency: "B", At: at(11, 20, 7), Text: "bốn"}}, group)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, m, 2, nil, store.Merge(first.Months, second.Months))
	texts := func(f store.CommentFilter, limit int) string {
		t.Helper()
		if f.FromMonth == "" {
			f.FromMonth, f.ToMonth = "2026-01", "2026-12"
		}
		got, err := m.Comments.Newest(ctx, f, limit)
		if err != nil {
			t.Fatal(err)
		}
		var s []string
		for _, c := range got {
			s = append(s, c.Text)
		}
		return strings.Join(s, " ")
	}
	for name, c := range map[string]struct {
		f     store.CommentFilter
		limit int
		want  string
	}{
		"all":            {store.CommentFilter{}, 10, "bốn ba hai một"},
		"two":            {store.CommentFilter{}, 2, "bốn ba"},
		"after a cursor": {store.CommentFilter{Before: at(11, 1, 10)}, 10, "hai một"},
		"agency A":       {store.CommentFilter{Agencies: []string{"A"}}, 10, "ba một"},
		"october":        {store.CommentFilter{FromMonth: "2026-10", ToMonth: "2026-10"}, 10, "một"},
		"kept":           {store.CommentFilter{Keep: func(c *store.Comment) bool { return c.Agency == "B" }}, 10, "bốn hai"},
	} {
		if got := texts(c.f, c.limit); got != c.want {
			t.Errorf("%s: %q, want %q", name, got, c.want)
		}
	}
}

// Dropping uncounted copies removes those named and no other, whether by
// one read of a small collection (few) or one by one.
func TestDropUncountedTakesOnlyThoseNamed(t *testing.T) {
	m := testenv.Mongo(t)
	var rs []*store.Response
	for i := range 5 {
		rs = append(rs, &store.Response{ID: fmt.Sprintf("u-%d", i), InvitationID: fmt.Sprintf("inv-u-%d", i), SubmittedAt: time.Now()})
	}
	if err := m.Responses.NoteUncounted(ctx, rs); err != nil {
		t.Fatal(err)
	}
	for _, few := range []bool{true, false} {
		drop := []string{"u-0", "u-1", "missing"}
		if !few {
			drop = []string{"u-2", "u-3"}
		}
		if err := m.Responses.DropUncounted(ctx, drop, few); err != nil {
			t.Fatal(err)
		}
	}
	left, err := m.Responses.Uncounted(ctx, 10)
	if err != nil || len(left) != 1 || left[0].ID != "u-4" {
		t.Fatalf("left %v (%v), want u-4 alone", left, err)
	}
}

// An uncounted copy is kept as one field holding the response (what
// FerretDB decodes cheapest) and reads back as the response it copies;
// a copy written whole, as versions before kept them, reads too.
func TestUncountedCopiesReadBackWhole(t *testing.T) {
	m := testenv.Mongo(t)
	at := time.Date(2026, 12, 7, 8, 30, 15, 123e6, time.UTC)
	view, answering := 12.5, 80.25
	r := &store.Response{ID: "u-new", InvitationID: "inv-u-new", Survey: "sipas", SurveyVersion: 3, DossierCode: "H12-1",
		AgencyCode: "000.00.12.H12", ProcedureCode: "1.001", Channel: "web", Locale: "vi", Month: "2026-12",
		Answers: []store.Answer{{Question: "q1", Criterion: "c1", Score: 5}, {Question: "q2", Criterion: "c1", Score: 3}},
		Comment: "Cán bộ tận tình, hướng dẫn rõ ràng", InvitedAt: at.Add(-time.Hour), InvitedSurvey: "sipas",
		StartedAt: at.Add(-time.Minute), SubmittedAt: at, OpenedAt: &at, Reminded: true, Flags: []string{"speeder"},
		Provenance: &store.Provenance{VerifiedBy: "token", SecondsToFirstView: &view, SecondsToComplete: 90, SecondsAnswering: &answering, Device: "d1"}}
	if err := m.Responses.NoteUncounted(ctx, []*store.Response{r}); err != nil {
		t.Fatal(err)
	}
	old := *r
	old.ID, old.InvitationID, old.Provenance = "u-old", "inv-u-old", nil
	if _, err := m.DB.Collection("uncounted_responses").InsertOne(ctx, &old); err != nil {
		t.Fatal(err)
	}
	var stored bson.M
	if err := m.DB.Collection("uncounted_responses").FindOne(ctx, bson.D{{Key: "_id", Value: "u-new"}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 2 || stored["r"] == nil {
		t.Fatalf("copy stored as %v, want _id and r alone", stored)
	}
	got, err := m.Responses.Uncounted(ctx, 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("read %d copies (%v), want 2", len(got), err)
	}
	slices.SortFunc(got, func(a, b store.Response) int { return strings.Compare(a.ID, b.ID) })
	for i, want := range []*store.Response{r, &old} {
		g := got[i]
		if g.ID != want.ID || g.InvitationID != want.InvitationID || !g.SubmittedAt.Equal(want.SubmittedAt) || !g.OpenedAt.Equal(*want.OpenedAt) ||
			!slices.Equal(g.Answers, want.Answers) || g.Comment != want.Comment || g.InvitedSurvey != want.InvitedSurvey || !g.Reminded ||
			!slices.Equal(g.Flags, want.Flags) || (want.Provenance != nil) != (g.Provenance != nil) {
			t.Fatalf("copy %d read as %+v, want %+v", i, g, want)
		}
	}
	if p := got[0].Provenance; *p.SecondsAnswering != answering || p.Device != "d1" {
		t.Fatalf("provenance read as %+v", p)
	}
}

// A held opening whose event is gone (a release cut between its two
// keys) is forgotten when due, not found due again at every pass; one
// still held is noted once, at its view's time.
func TestDueOpeningsAreAllForgotten(t *testing.T) {
	f := &store.Funnel{R: testenv.Redis(t), Key: "gw:funnel:test-" + testenv.RandomID()}
	viewed := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	for _, id := range []string{"inv-h1", "inv-h2"} {
		if err := f.Hold(ctx, store.FunnelEvent{Step: store.FunnelOpened, Invitation: id, Family: "web", At: viewed}); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.R.HDel(ctx, f.Key+":held", "o:inv-h2:web").Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := f.NoteDue(ctx, time.Now(), 10); err != nil || n != 2 {
		t.Fatalf("due: %d (%v), want 2", n, err)
	}
	if n, err := f.NoteDue(ctx, time.Now(), 10); err != nil || n != 0 {
		t.Fatalf("due again: %d (%v), want 0", n, err)
	}
	_, events, err := f.Range(ctx, "-", "+", 10)
	if err != nil || len(events) != 1 || events[0].Invitation != "inv-h1" || !events[0].At.Equal(viewed) {
		t.Fatalf("noted %+v (%v), want inv-h1's opening at %v alone", events, err, viewed)
	}
}

// A keyed MAC of a string is a fresh HMAC's of its bytes, short or long
// (a long input's room is not kept), from several goroutines.
func TestKeyedMACOfAStringIsAFreshHMACs(t *testing.T) {
	key := []byte("a keyed MAC's key")
	k := store.NewKeyedMAC(key)
	testenv.Concurrently(t, 4, func(g int) error {
		for i := 0; i < 300; i++ {
			v := strings.Repeat(fmt.Sprint("84912345678-", g, "-", i), i%7*60) // up to some 7 KB
			m := hmac.New(sha256.New, key)
			m.Write([]byte(v))
			if got, want := k.SumString(v), m.Sum(nil); !bytes.Equal(got[:], want) {
				return fmt.Errorf("SumString of %d bytes = %x, want %x", len(v), got, want)
			}
			if got := k.Sum([]byte(v)); !bytes.Equal(got[:], m.Sum(nil)) {
				return fmt.Errorf("Sum of %d bytes = %x", len(v), got)
			}
		}
		return nil
	})
}
