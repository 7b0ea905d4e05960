package store_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A session is kept under a hash of its id: listing Redis keys gives no
// cookie to sign in with, and the id still finds the session.
func TestSessionKeyNamesHoldNoSessionID(t *testing.T) {
	r := testenv.Redis(t)
	st := &store.Sessions{R: r, TTL: time.Minute}
	id, err := st.Create(ctx, &store.Session{Name: "admin", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := r.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(id))
	hashed := false
	for _, k := range keys {
		if strings.Contains(k, id) {
			t.Errorf("Redis key %q holds the session id", k)
		}
		hashed = hashed || k == "gw:session:"+hex.EncodeToString(sum[:])
	}
	if !hashed {
		t.Fatalf("no key gw:session:<sha256 of the id> among %d keys", len(keys))
	}
	if s, err := st.Get(ctx, id); err != nil || s.Name != "admin" {
		t.Fatalf("Get: %+v %v", s, err)
	}
	if err := st.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
}
