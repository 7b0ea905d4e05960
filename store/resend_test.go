package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// go-redis sends a command again when its reply is lost after Redis ran
// it (gwtest.Resend runs every round trip twice). These writes answer the
// second run as they answered the first.

func TestLockSentAgainIsStillTaken(t *testing.T) {
	twice := testenv.Redis(t)
	gwtest.Resend(twice)
	name := "t-" + testenv.RandomID()
	lease, err := (&store.Locks{R: twice}).Acquire(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("a lock whose reply was lost: %v", err)
	}
	other := &store.Locks{R: testenv.Redis(t)}
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
