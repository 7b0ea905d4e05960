package generic_test

import (
	"context"
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
