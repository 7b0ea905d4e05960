package store_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// appendMsg is a step that adds its message to a JSON list.
func appendMsg(msg string) func([]byte) ([]byte, error) {
	return func(state []byte) ([]byte, error) {
		var got []string
		if state != nil {
			if err := json.Unmarshal(state, &got); err != nil {
				return nil, err
			}
		}
		return json.Marshal(append(got, msg))
	}
}

func stateList(t *testing.T, c *store.Conversations, who string) []string {
	t.Helper()
	b, err := c.State(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if b != nil {
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
	}
	return got
}

// Fifty messages of one citizen at once, each delivered twice: every
// message is applied exactly once, and one delivery of each says so.
func TestStepAppliesConcurrentMessagesOnce(t *testing.T) {
	c := &store.Conversations{R: testenv.Redis(t), TTL: time.Hour}
	who := testenv.RandomID()
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := map[string]int{}
	for i := 0; i < 2*n; i++ {
		msg := fmt.Sprint("m", i%n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			dup, err := c.Step(ctx, who, "sms", msg, appendMsg(msg))
			if err != nil {
				t.Error(err)
				return
			}
			if !dup {
				mu.Lock()
				applied[msg]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	got := stateList(t, c, who)
	counts := map[string]int{}
	for _, m := range got {
		counts[m]++
	}
	for i := 0; i < n; i++ {
		m := fmt.Sprint("m", i)
		if counts[m] != 1 || applied[m] != 1 {
			t.Errorf("%s: in the state %d times, applied by %d deliveries; want 1 and 1", m, counts[m], applied[m])
		}
	}
	if len(got) != n {
		t.Fatalf("state holds %d messages, want %d", len(got), n)
	}
	ttl := c.R.PTTL(ctx, "gw:conv:{"+who+"}").Val()
	if ttl <= 0 || ttl > time.Hour {
		t.Fatalf("state TTL %v", ttl)
	}
}

// A step whose state changed while it ran is run again on the new state;
// a message applied before is not run at all; nil deletes the state.
func TestStepRetriesOnConflict(t *testing.T) {
	c := &store.Conversations{R: testenv.Redis(t), TTL: time.Hour}
	who := testenv.RandomID()
	runs := 0
	dup, err := c.Step(ctx, who, "sms", "a", func(state []byte) ([]byte, error) {
		if runs++; runs == 1 { // another message commits meanwhile
			if _, err := c.Step(ctx, who, "sms", "b", appendMsg("b")); err != nil {
				return nil, err
			}
		}
		return appendMsg("a")(state)
	})
	if err != nil || dup {
		t.Fatal(dup, err)
	}
	if got := stateList(t, c, who); runs != 2 || !slices.Equal(got, []string{"b", "a"}) {
		t.Fatalf("after a conflict: ran %d times, state %v; want 2 and [b a]", runs, got)
	}
	dup, err = c.Step(ctx, who, "sms", "a", func([]byte) ([]byte, error) { t.Fatal("a duplicate was run"); return nil, nil })
	if err != nil || !dup {
		t.Fatalf("duplicate: %v %v", dup, err)
	}
	if dup, err := c.Step(ctx, who, "zalo", "a", func([]byte) ([]byte, error) { return nil, nil }); err != nil || dup {
		t.Fatalf("the same id on another channel is another message: %v %v", dup, err)
	}
	if b, err := c.State(ctx, who); err != nil || b != nil {
		t.Fatalf("nil did not delete the state: %q %v", b, err)
	}
}
