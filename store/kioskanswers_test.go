package store_test

import (
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// An answer's claim on its idempotency key lasts as long as its request
// holds it, however slow; a claim whose request died (it is no longer
// held) lapses in about 2 s, and the tablet's retry takes the key then,
// not a minute later. The dead request can no longer settle the key.
func TestKioskAnswerClaimLapsesSoonAfterItsRequestDies(t *testing.T) {
	k := &store.Kiosks{R: testenv.Redis(t), Name: testenv.RandomID()}
	live, held, err := k.ClaimAnswer(ctx, "quay-1", "key-live")
	if err != nil || held != "" {
		t.Fatalf("claim: %q %v", held, err)
	}
	stop := k.HoldAnswer(ctx, "quay-1", "key-live", live)
	time.Sleep(3 * time.Second) // a slow request, longer than a lease
	if _, held, err := k.ClaimAnswer(ctx, "quay-1", "key-live"); err != nil || held != "pending" {
		t.Fatalf("a retry while the slow request runs: %q %v", held, err)
	}
	stop()
	if err := k.SettleAnswer(ctx, "quay-1", "key-live", live, "recorded"); err != nil {
		t.Fatal(err)
	}
	if _, held, err := k.ClaimAnswer(ctx, "quay-1", "key-live"); err != nil || held != "recorded" {
		t.Fatalf("a retry after it settled: %q %v", held, err)
	}

	dead, _, err := k.ClaimAnswer(ctx, "quay-1", "key-dead") // then its process dies
	if err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var retry string
	for retry == "" {
		claim, held, err := k.ClaimAnswer(ctx, "quay-1", "key-dead")
		switch {
		case err != nil || held != "" && held != "pending":
			t.Fatalf("a retry: %q %v", held, err)
		case held == "":
			retry = claim
		case time.Since(began) > 3*time.Second:
			t.Fatalf("the dead request's claim still holds the key after %s", time.Since(began))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := k.SettleAnswer(ctx, "quay-1", "key-dead", dead, "recorded"); err != nil {
		t.Fatal(err)
	}
	if _, held, _ := k.ClaimAnswer(ctx, "quay-1", "key-dead"); held != "pending" {
		t.Fatalf("the dead request settled a key the retry holds: %q", held)
	}
	t.Logf("the retry took the key %s after the request died", time.Since(began).Round(100*time.Millisecond))
}
