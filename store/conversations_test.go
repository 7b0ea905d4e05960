package store_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
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
			dup, err := c.Step(ctx, who, "sms", msg, nil, appendMsg(msg))
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
	dup, err := c.Step(ctx, who, "sms", "a", nil, func(state []byte) ([]byte, error) {
		if runs++; runs == 1 { // another message commits meanwhile
			if _, err := c.Step(ctx, who, "sms", "b", nil, appendMsg("b")); err != nil {
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
	dup, err = c.Step(ctx, who, "sms", "a", nil, func([]byte) ([]byte, error) { t.Fatal("a duplicate was run"); return nil, nil })
	if err != nil || !dup {
		t.Fatalf("duplicate: %v %v", dup, err)
	}
	if dup, err := c.Step(ctx, who, "zalo", "a", nil, func([]byte) ([]byte, error) { return nil, nil }); err != nil || dup {
		t.Fatalf("the same id on another channel is another message: %v %v", dup, err)
	}
	if b, err := c.State(ctx, who); err != nil || b != nil {
		t.Fatalf("nil did not delete the state: %q %v", b, err)
	}
}

func indexed(t *testing.T, c *store.Conversations, who string) ([]string, bool) {
	t.Helper()
	es, complete, err := c.IndexedInvitations(ctx, who)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids, complete
}

// The index of a citizen's invitations lists them newest first, says
// whether it is complete, only ever lengthens its life, and goes with
// Forget.
func TestInvitationIndex(t *testing.T) {
	r := testenv.Redis(t)
	c := &store.Conversations{R: r, TTL: time.Hour}
	who := testenv.RandomID()
	key := "gw:conv:{" + who + "}:invs" // in the conversation's hash slot
	if ids, complete := indexed(t, c, who); ids != nil || complete {
		t.Fatalf("unknown citizen: %v %v", ids, complete)
	}
	older, newer := newInvitation("i-old", "D-IX-1"), newInvitation("i-new", "D-IX-2")
	newer.CreatedAt, newer.Survey, newer.Locale = older.CreatedAt.Add(time.Second), "overall", "en"
	older.AgencyCode = "Sở X" // not one field: left out, the entry still read
	if err := c.IndexInvitations(ctx, who, false, 2*time.Hour, newer); err != nil {
		t.Fatal(err)
	}
	if ids, complete := indexed(t, c, who); !slices.Equal(ids, []string{"i-new"}) || complete {
		t.Fatalf("one added: %v complete=%v", ids, complete)
	}
	if err := c.IndexInvitations(ctx, who, true, time.Minute, older); err != nil {
		t.Fatal(err)
	}
	es, complete, _ := c.IndexedInvitations(ctx, who)
	if len(es) != 2 || es[0].ID != "i-new" || es[1].ID != "i-old" || !complete {
		t.Fatalf("filled: %+v complete=%v", es, complete)
	}
	if e := es[0]; e.Survey != "overall" || e.Locale != "en" || !e.ExpiresAt.Equal(newer.ExpiresAt) || !e.CreatedAt.Equal(newer.CreatedAt) || e.AgencyCode != newer.AgencyCode {
		t.Fatalf("entry %+v, want the fields of %+v", e, newer)
	}
	if e := es[1]; e.AgencyCode != "" || e.Survey != "sipas" {
		t.Fatalf("entry with an agency of two words: %+v", e)
	}
	if ttl := r.PTTL(ctx, key).Val(); ttl < time.Hour {
		t.Fatalf("a shorter life shortened the index: %v", ttl)
	}
	if err := c.Unindex(ctx, who, "i-new"); err != nil {
		t.Fatal(err)
	}
	if ids, complete := indexed(t, c, who); !slices.Equal(ids, []string{"i-old"}) || !complete {
		t.Fatalf("after unindex: %v complete=%v", ids, complete)
	}
	if err := c.Forget(ctx, who); err != nil {
		t.Fatal(err)
	}
	if ids, complete := indexed(t, c, who); ids != nil || complete {
		t.Fatalf("after Forget: %v %v", ids, complete)
	}
}

// Create says when an invitation is its phone's first: never for one
// without a phone, not for a second one, again after erasure, and not for
// a phone whose open invitation predates the lookups (backfilled once).
func TestCreateTellsAPhonesFirstInvitation(t *testing.T) {
	m := testenv.Mongo(t)
	first := func(id, who string) bool {
		t.Helper()
		inv := newInvitation(id, "D-"+id)
		inv.Respondent = who
		_, created, first, err := m.Invitations.Create(ctx, inv)
		if err != nil || !created {
			t.Fatal(created, err)
		}
		return first
	}
	if first("f1", "") || !first("f2", "who-a") || first("f3", "who-a") || !first("f4", "who-b") {
		t.Fatal("first: want false (no phone), true, false (second), true (another phone)")
	}
	if _, err := m.EraseRespondent(ctx, "who-a"); err != nil {
		t.Fatal(err)
	}
	if !first("f5", "who-a") {
		t.Fatal("after erasure the phone has no invitation: its next is a first")
	}
	// An open invitation from before the lookups: reopening backfills them.
	old := newInvitation("f6", "D-f6")
	old.Respondent = "who-c"
	if _, err := m.DB.Collection("invitations").InsertOne(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := m.DB.Collection("invitation_keys").DeleteOne(ctx, map[string]any{"_id": "m:respondents"}); err != nil {
		t.Fatal(err)
	}
	again, err := store.OpenMongo(ctx, testenv.MongoURI(t), m.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close(ctx)
	m.Invitations = again.Invitations
	if first("f7", "who-c") {
		t.Fatal("a phone with an open invitation made before the lookups passed for new")
	}
}

// A message id claimed on a channel for one sender is a duplicate from any
// other (a replayed message whose signature leaves out the sender): it is
// not run, and says so. The same sender's retry is the usual duplicate.
func TestStepClaimsMessageIDsPerChannel(t *testing.T) {
	c := &store.Conversations{R: testenv.Redis(t), TTL: time.Hour}
	a, b, claim := testenv.RandomID(), testenv.RandomID(), testenv.RandomID()
	if dup, err := c.Step(ctx, a, "sms", "x", &store.StepIO{Claim: claim}, appendMsg("x")); err != nil || dup {
		t.Fatal(dup, err)
	}
	io := &store.StepIO{Claim: claim}
	dup, err := c.Step(ctx, b, "sms", "x", io, func([]byte) ([]byte, error) { t.Fatal("a replay was run"); return nil, nil })
	if err != nil || !dup || !io.Foreign {
		t.Fatalf("another sender: dup %v foreign %v %v", dup, io.Foreign, err)
	}
	if got := stateList(t, c, b); len(got) != 0 {
		t.Fatalf("the replay left a state %v", got)
	}
	if n := c.R.HLen(ctx, "gw:conv:{"+b+"}:seen").Val(); n != 0 {
		t.Fatalf("the replay left %d seen fields", n)
	}
	io = &store.StepIO{Claim: claim}
	if dup, err := c.Step(ctx, a, "sms", "x", io, appendMsg("x")); err != nil || !dup || io.Foreign {
		t.Fatalf("the same sender again: dup %v foreign %v %v", dup, io.Foreign, err)
	}
	if ttl := c.R.PTTL(ctx, "gw:msg:{"+claim+"}").Val(); ttl < 24*time.Hour {
		t.Fatalf("the claim lives %v, less than the longest freshness window", ttl)
	}
}

// Deliveries of one message at once run the step once; every other one
// waits for its commit and gets the mark it left (the replies). A step
// that fails leaves the message to the next delivery at once.
func TestStepAnswersDuplicatesWithTheMark(t *testing.T) {
	c := &store.Conversations{R: testenv.Redis(t), TTL: time.Hour}
	who := testenv.RandomID()
	var runs atomic.Int32
	var wg sync.WaitGroup
	seen := make([]string, 10)
	for i := range seen {
		wg.Add(1)
		go func() {
			defer wg.Done()
			io := &store.StepIO{}
			dup, err := c.Step(ctx, who, "sms", "m", io, func(state []byte) ([]byte, error) {
				runs.Add(1)
				time.Sleep(50 * time.Millisecond) // long enough for the others to arrive
				io.Mark = `["thanks"]`
				return appendMsg("m")(state)
			})
			if err != nil {
				t.Error(err)
			}
			seen[i] = io.Mark
			if dup {
				seen[i] = io.Seen
			}
		}()
	}
	wg.Wait()
	for i, s := range seen {
		if s != `["thanks"]` {
			t.Fatalf("delivery %d answered %q", i, s)
		}
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("the step ran %d times for one message", n)
	}

	failed := errors.New("MongoDB is down")
	if _, err := c.Step(ctx, who, "sms", "f", nil, func([]byte) ([]byte, error) { return nil, failed }); !errors.Is(err, failed) {
		t.Fatal(err)
	}
	if c.R.HExists(ctx, "gw:conv:{"+who+"}:seen", "sms:f").Val() {
		t.Fatal("a failed step left its in-flight marker: the next delivery would wait for it")
	}
	if dup, err := c.Step(ctx, who, "sms", "f", nil, appendMsg("f")); err != nil || dup {
		t.Fatalf("the retry after a failure: dup %v %v", dup, err)
	}
}
