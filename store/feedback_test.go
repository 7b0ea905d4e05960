package store_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A ticket is made once; its phone's code takes a bounded number of
// tries, even when they come at once, and is spent by the right one, the
// last wrong one or its expiry; a newer code replaces the one before.
func TestFeedbackTicketCodes(t *testing.T) {
	tk := &store.FeedbackTickets{R: testenv.Redis(t), Name: "fb-" + testenv.RandomID()}
	now := time.Now()
	ticket := store.FeedbackTicket{ID: "T1", Case: "GY260101-AAAAAAAA", Agency: "000.00.12.H49", Lang: "vi", Phone: store.PhonePending, Mask: "84******678"}
	phone := &store.PendingPhone{Sealed: []byte{1, 2, 3}, Hash: "h", Channel: "gen"}
	if ok, err := tk.Create(ctx, ticket, phone); !ok || err != nil {
		t.Fatalf("create: %v %v", ok, err)
	}
	again := ticket
	again.Phone = store.PhoneNone
	if ok, err := tk.Create(ctx, again, nil); ok || err != nil {
		t.Fatalf("a second create: %v %v", ok, err)
	}
	got, p, err := tk.Ticket(ctx, "T1")
	if err != nil || got.Phone != store.PhonePending || got.Case != ticket.Case || p == nil || string(p.Sealed) != "\x01\x02\x03" || p.Channel != "gen" || p.CodeNo != 0 {
		t.Fatalf("ticket %+v %+v %v", got, p, err)
	}
	if _, _, err := tk.Ticket(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown ticket: %v", err)
	}
	check := func(hash string, at time.Time, want string) {
		t.Helper()
		if out, err := tk.CheckCode(ctx, "T1", hash, at, 3); out != want || err != nil {
			t.Fatalf("code %s: %s %v, want %s", hash, out, err, want)
		}
	}
	check("c0", now, store.CodeNone) // none issued yet
	if n, err := tk.IssueCode(ctx, "T1", []byte("s1"), "c1", now.Add(10*time.Minute)); n != 1 || err != nil {
		t.Fatalf("issue: %d %v", n, err)
	}
	// Ten tries at once: two wrong ones answer wrong, the third locks it,
	// the rest find no code.
	outs := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := tk.CheckCode(ctx, "T1", "bad", now, 3)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			outs[out]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if outs[store.CodeWrong] != 2 || outs[store.CodeLocked] != 1 || outs[store.CodeNone] != 7 {
		t.Fatalf("ten tries at once: %v", outs)
	}
	check("c1", now, store.CodeNone) // spent by the lock
	tk.IssueCode(ctx, "T1", []byte("s2"), "c2", now.Add(10*time.Minute))
	tk.IssueCode(ctx, "T1", []byte("s3"), "c3", now.Add(10*time.Minute))
	if _, p, _ := tk.Ticket(ctx, "T1"); p.CodeNo != 3 || string(p.CodeSealed) != "s3" {
		t.Fatalf("after two more codes: %+v", p)
	}
	check("c2", now, store.CodeWrong) // replaced
	check("c3", now.Add(11*time.Minute), store.CodeExpired)
	tk.IssueCode(ctx, "T1", []byte("s4"), "c4", now.Add(10*time.Minute))
	check("c4", now, store.CodeRight)
	check("c4", now, store.CodeRight) // confirming: the same again
	if got, _, _ := tk.Ticket(ctx, "T1"); got.Phone != store.PhoneConfirming {
		t.Fatalf("after the right code: %+v", got)
	}
	if err := tk.Confirmed(ctx, "T1"); err != nil {
		t.Fatal(err)
	}
	if got, p, _ := tk.Ticket(ctx, "T1"); got.Phone != store.PhoneConfirmed || p != nil {
		t.Fatalf("confirmed: %+v %+v", got, p)
	}
	if n, _ := tk.IssueCode(ctx, "T1", []byte("s5"), "c5", now.Add(time.Minute)); n != 0 {
		t.Fatal("a code issued for a confirmed phone")
	}
}
