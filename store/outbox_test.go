package store_test

import (
	"slices"
	"testing"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A chat message's spend is written with its response, in one script: the
// message completes no second invitation, and a read (as a conversation
// step makes with its state) learns what it spent and was answered.
func TestOutboxPutKeepsWhatAMessageSpent(t *testing.T) {
	o := store.NewOutbox(testenv.Redis(t), testenv.RandomID())
	msg := testenv.RandomID()
	id, spent, err := o.Put(ctx, &store.Response{ID: "r1", InvitationID: "a", Channel: "sms.generic"},
		&store.Spend{Message: msg, Invitation: "a", Replies: []string{"thanks"}})
	if err != nil || id == "" || spent != nil {
		t.Fatalf("first put: %q %v %v", id, spent, err)
	}
	id, spent, err = o.Put(ctx, &store.Response{ID: "r2", InvitationID: "b", Channel: "sms.generic"},
		&store.Spend{Message: msg, Invitation: "b", Replies: []string{"thanks"}})
	if err != nil || id != "" || spent == nil || spent.Invitation != "a" || !slices.Equal(spent.Replies, []string{"thanks"}) {
		t.Fatalf("the same message on another invitation: %q %+v %v", id, spent, err)
	}
	if done, _ := o.Done(ctx, "b"); done {
		t.Fatal("a spent message completed a second invitation")
	}
	if n, _ := o.Pending(ctx); n != 1 {
		t.Fatalf("%d responses in the outbox from one message", n)
	}
	for m, want := range map[string]string{msg: "a", testenv.RandomID(): ""} {
		p := o.R.Pipeline()
		read := o.QueueSpend(ctx, p, m)
		_, _ = p.Exec(ctx)
		sp, err := read()
		if err != nil || (want == "") != (sp == nil) || sp != nil && sp.Invitation != want {
			t.Fatalf("spend of %s: %+v %v; want %q", m, sp, err, want)
		}
	}
	if id, spent, err := o.Put(ctx, &store.Response{ID: "r3", InvitationID: "a"}, nil); err != nil || id != "" || spent != nil {
		t.Fatalf("a second response to a done invitation: %q %v %v", id, spent, err)
	}
}

// go-redis sends a command again when its reply was lost (a read timeout,
// a dropped connection) though the command ran. A put sent again gives
// the first run's answer: neither "done" (the citizen would hear that the
// survey was already answered) nor "spent", and no second entry.
func TestOutboxPutSentAgainAnswersAsTheFirstTime(t *testing.T) {
	o := store.NewOutbox(testenv.Redis(t), testenv.RandomID())
	msg := testenv.RandomID()
	for _, c := range []struct {
		r  *store.Response
		by *store.Spend
	}{
		{&store.Response{ID: "r-web", InvitationID: "w", Channel: "web"}, nil},
		{&store.Response{ID: "r-sms", InvitationID: "s", Channel: "sms.generic"}, &store.Spend{Message: msg, Invitation: "s", Replies: []string{"thanks"}}},
	} {
		first, _, err := o.Put(ctx, c.r, c.by)
		if err != nil || first == "" {
			t.Fatalf("%s: first put %q %v", c.r.ID, first, err)
		}
		again, spent, err := o.Put(ctx, c.r, c.by)
		if err != nil || again != first || spent != nil {
			t.Fatalf("%s: the same put again answered %q %+v %v, want %q", c.r.ID, again, spent, err, first)
		}
		// Another response to the invitation is still refused.
		other := *c.r
		other.ID += "-2"
		if id, _, err := o.Put(ctx, &other, c.by); err != nil || id != "" {
			t.Fatalf("%s: another response after it: %q %v", c.r.ID, id, err)
		}
	}
	if n, _ := o.Pending(ctx); n != 2 {
		t.Fatalf("%d entries in the outbox from two responses", n)
	}
	if _, _, err := o.Put(ctx, &store.Response{InvitationID: "x"}, nil); err == nil {
		t.Fatal("a response without an id was put")
	}
}
