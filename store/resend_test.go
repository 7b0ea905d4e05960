package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// go-redis sends a command again when its reply is lost after Redis ran
// it (gwtest.Resend runs every round trip twice). These writes answer the
// second run as they answered the first.

// clients are a client whose round trips all run twice and a plain one.
func clients(t *testing.T) (twice, once redis.UniversalClient) {
	twice = testenv.Redis(t)
	gwtest.Resend(twice)
	return twice, testenv.Redis(t)
}

// kiosks are one deployment's kiosks through each of clients, and a desk.
func kiosks(t *testing.T) (k, other *store.Kiosks, desk store.DeskRef) {
	twice, once := clients(t)
	name := testenv.RandomID()
	return &store.Kiosks{R: twice, Name: name}, &store.Kiosks{R: once, Name: name}, store.DeskRef{ID: "quay-1", Incarnation: "aaaa"}
}

func TestLockSentAgainIsStillTaken(t *testing.T) {
	twice, once := clients(t)
	name := "t-" + testenv.RandomID()
	lease, err := (&store.Locks{R: twice}).Acquire(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("a lock whose reply was lost: %v", err)
	}
	other := &store.Locks{R: once}
	if _, err := other.Acquire(ctx, name, time.Minute); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("another holder took it too: %v", err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	again, err := other.Acquire(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("after its release: %v", err)
	}
	_ = again.Release(ctx)
}

func TestCallEventAndStepSentAgainApplyOnce(t *testing.T) {
	twice, once := clients(t)
	name := testenv.RandomID()
	c, other := &store.Calls{R: twice, Name: name}, &store.Calls{R: once, Name: name}
	if first, err := c.ClaimEvent(ctx, "CA1:completed"); err != nil || !first {
		t.Fatalf("a call's end whose claim reply was lost: first %v, %v", first, err)
	}
	if first, err := other.ClaimEvent(ctx, "CA1:completed"); err != nil || first {
		t.Fatalf("the provider's retry of it: first %v, %v", first, err)
	}
	for _, l := range []struct {
		c      *store.Calls
		holder string
		want   bool
	}{{c, "job-1", true}, {other, "job-2", false}, {other, "job-1", true}} { // job-1's lock, its reply lost, then its retried send
		if ok, err := l.c.LockPhone(ctx, "who", l.holder, time.Minute); err != nil || ok != l.want {
			t.Fatalf("phone locked for %s: %v %v, want %v", l.holder, ok, err, l.want)
		}
	}
	answer := func(p *store.CallProgress) error { p.Answers = append(p.Answers, 5); return nil }
	p, step, err := c.Step(ctx, "inv-1", 0, answer)
	if err != nil || step != 1 || len(p.Answers) != 1 {
		t.Fatalf("a keypress whose reply was lost: step %d, %+v, %v", step, p, err)
	}
	if _, step, err := other.Step(ctx, "inv-1", 0, answer); !errors.Is(err, store.ErrStale) || step != 1 {
		t.Fatalf("the provider's retry of it: step %d, %v", step, err)
	}
	if p, step, err := c.Step(ctx, "inv-1", 1, answer); err != nil || step != 2 || len(p.Answers) != 2 {
		t.Fatalf("the next keypress: step %d, %+v, %v", step, p, err)
	}
}

func TestKioskAnswerClaimSentAgainIsItsOwn(t *testing.T) {
	k, other, _ := kiosks(t)
	claim, held, err := k.ClaimAnswer(ctx, "quay-1", "key-1")
	if err != nil || claim == "" || held != "" {
		t.Fatalf("an answer's claim whose reply was lost: %q, held %q, %v", claim, held, err)
	}
	if claim, held, err := other.ClaimAnswer(ctx, "quay-1", "key-1"); err != nil || claim != "" || held != "pending" {
		t.Fatalf("the tablet's retry while it runs: %q, held %q, %v", claim, held, err)
	}
}

func TestDailyMessagesSentAgainCountOnce(t *testing.T) {
	twice, _ := clients(t)
	c := &store.Contacts{R: twice, Name: testenv.RandomID()}
	for i, send := range []string{"job-1#0", "job-2#0", "job-3#0"} {
		if ok, err := c.TakeDaily(ctx, "who", "2026-12-07", send, 3); err != nil || !ok {
			t.Fatalf("message %d of 3 whose reply was lost: %v %v", i+1, ok, err)
		}
	}
	if ok, err := c.TakeDaily(ctx, "who", "2026-12-07", "job-4#0", 3); err != nil || ok {
		t.Fatalf("a fourth: %v %v", ok, err)
	}
	if err := c.GiveBackDaily(ctx, "who", "2026-12-07", "job-3#0"); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Daily(ctx, "who", "2026-12-07"); err != nil || n != 2 {
		t.Fatalf("after one given back (sent twice): %d %v", n, err)
	}
}

func TestFeedbackTicketSentAgainAnswersAsTheFirstTime(t *testing.T) {
	twice, once := clients(t)
	name := "fb-" + testenv.RandomID()
	tk := &store.FeedbackTickets{R: twice, Name: name}
	ticket := store.FeedbackTicket{ID: "T1", Case: "GY260101-AAAAAAAA", Agency: "000.00.12.H49", Lang: "vi", Phone: store.PhonePending, Mask: "84******678"}
	if ok, err := tk.Create(ctx, ticket, &store.PendingPhone{Sealed: []byte{1}, Hash: "h", Channel: "gen"}); !ok || err != nil {
		t.Fatalf("a ticket whose reply was lost: %v %v", ok, err)
	}
	if ok, err := (&store.FeedbackTickets{R: once, Name: name}).Create(ctx, ticket, nil); ok || err != nil {
		t.Fatalf("the form posted again: %v %v", ok, err)
	}
	now := time.Now()
	if _, err := tk.IssueCode(ctx, "T1", []byte("s1"), "c1", now.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{store.CodeWrong, store.CodeWrong, store.CodeLocked, store.CodeNone} {
		if out, err := tk.CheckCode(ctx, "T1", "bad", now, 3); out != want || err != nil {
			t.Fatalf("try %d, its reply lost: %s %v, want %s", i+1, out, err, want)
		}
	}
	if _, err := tk.IssueCode(ctx, "T1", []byte("s2"), "c2", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if out, err := tk.CheckCode(ctx, "T1", "c2", now.Add(2*time.Minute), 3); out != store.CodeExpired || err != nil {
		t.Fatalf("a late try, its reply lost: %s %v", out, err)
	}
}

func TestPairingSentAgainPairsOnce(t *testing.T) {
	k, other, desk := kiosks(t)
	if err := k.OfferPairing(ctx, "123456", desk); err != nil {
		t.Fatalf("a code whose offer's reply was lost: %v", err)
	}
	if got, err := k.TakePairing(ctx, "123456"); err != nil || got != desk {
		t.Fatalf("the code shown, used, its reply lost: %+v %v", got, err)
	}
	if _, err := other.TakePairing(ctx, "123456"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the code used again: %v", err)
	}
	if err := other.OfferPairing(ctx, "123456", desk); !errors.Is(err, store.ErrDuplicate) {
		t.Fatalf("a used code offered again within the minute: %v", err)
	}
}

func TestAnsweringTimeSentAgainAddsOnce(t *testing.T) {
	twice, _ := clients(t)
	s := store.NewSignals(twice, testenv.RandomID())
	for _, r := range []string{"r1", "r2", "r2"} { // r2's clean-up queued again too
		if _, err := twice.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.AddMomentIn(ctx, p, "sipas-5:token", r, 4)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	var read func() (store.Moments, error)
	_, _ = twice.Pipelined(ctx, func(p redis.Pipeliner) error { read = s.MomentsIn(ctx, p, "sipas-5:token"); return nil })
	if m, err := read(); err != nil || m.N != 2 || m.Sum != 8 || m.SumSq != 32 {
		t.Fatalf("two answering times, each sent twice: %+v %v", m, err)
	}
}

func TestPresentSentAgainNumbersOnce(t *testing.T) {
	k, other, desk := kiosks(t)
	p := &store.Presented{Invitation: "inv-1", Survey: "sipas-5"}
	if err := k.Present(ctx, desk, p, "tok-inv-1", time.Hour); err != nil || p.Seq != 1 {
		t.Fatalf("a presentation whose reply was lost: number %d, %v", p.Seq, err)
	}
	if cur, err := other.Current(ctx, desk); err != nil || cur == nil || cur.Seq != 1 {
		t.Fatalf("on screen: %+v %v", cur, err)
	}
	q := &store.Presented{Invitation: "inv-2", Survey: "sipas-5"}
	if err := other.Present(ctx, desk, q, "tok-inv-2", time.Hour); err != nil || q.Seq != 2 {
		t.Fatalf("the next: number %d, %v", q.Seq, err)
	}
}

func TestDeadLetterSentAgainIsListedOnce(t *testing.T) {
	twice, once := clients(t)
	name := testenv.RandomID()
	o := store.NewOutbox(twice, name)
	if err := store.NewOutbox(once, name).Add(ctx, map[string]string{"response": "{not json"}); err != nil {
		t.Fatal(err)
	}
	entries, err := o.Older(ctx, 0, 10)
	if err != nil || len(entries) != 1 {
		t.Fatalf("entries %v %v", entries, err)
	}
	if err := o.Bury(ctx, entries[0], "unreadable"); err != nil {
		t.Fatal(err)
	}
	dead, err := o.Dead(ctx, 10)
	if n, _ := o.Pending(ctx); err != nil || len(dead) != 1 || n != 0 {
		t.Fatalf("a burial whose reply was lost: %d dead letters, %d pending, %v", len(dead), n, err)
	}
}
