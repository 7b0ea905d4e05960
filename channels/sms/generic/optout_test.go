package generic_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// When the opt-out list cannot be read, nothing is sent: the job waits
// for an answer instead of sending to a number that may have opted out.
func TestOptOutCheckFailsClosed(t *testing.T) {
	g, fake := setup(t)
	g.Invite("D-OPTOUT-DOWN", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background())
	down := *g.Mongo
	down.OptOuts = gone.OptOuts
	g.Core.Mongo = &down
	if err := g.Sender.Drain(t.Context()); err == nil {
		t.Fatal("the send went on without an opt-out answer")
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d SMS sent while the opt-out list was unreadable", n)
	}
	if n, _ := g.Core.Queue.Len(t.Context()); n != 1 {
		t.Fatalf("the job left the queue: %d", n)
	}
}

// An opt-out never waits on MongoDB: with MongoDB down it is taken,
// answered and honoured by the next send at once, and reaches MongoDB
// (with the invitation it closed) once the message log is drained.
func TestOptOutWithoutMongoDB(t *testing.T) {
	g, fake := setup(t)
	inv := g.Invite("D-OPTOUT-NOMONGO", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	up := g.Core.Mongo
	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background())
	down := *up
	down.OptOuts, down.Invitations = gone.OptOuts, gone.Invitations
	g.Core.Mongo = &down
	if r := replies(t, g, text("0912345678", "oo-1", "HUY")); len(r) != 1 || !strings.Contains(r[0], "khong nhan them") {
		t.Fatalf("opt-out while MongoDB is down: %v", r)
	}
	g.Core.Mongo = up // back, but the opt-out is still only in Redis
	g.Invite("D-OPTOUT-LATER", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if out, _ := up.OptOuts.Has(t.Context(), g.MustInvitation("D-OPTOUT-LATER").Respondent); out {
		t.Fatal("the opt-out reached MongoDB on the request path")
	}
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d SMS sent to a number that just opted out", n)
	}
	g.Drain()
	if out, err := up.OptOuts.Has(t.Context(), g.MustInvitation("D-OPTOUT-LATER").Respondent); err != nil || !out {
		t.Fatalf("the opt-out did not reach MongoDB: %v %v", out, err)
	}
	stored, _ := up.Invitations.Invitation(t.Context(), inv["id"].(string))
	if stored.Status != store.StatusOptedOut {
		t.Fatalf("the invitation it closed: %s", stored.Status)
	}
}
