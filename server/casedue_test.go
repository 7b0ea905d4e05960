package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// dueCase opens a case for a low answer to dossier at agency and returns
// its id and due time.
func dueCase(t *testing.T, g *gwtest.Gateway, dossier, agency string) (string, time.Time) {
	t.Helper()
	tok := gwtest.Token(g.Invite(dossier, agency, map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=1&E=1"); res.StatusCode != 303 {
		t.Fatalf("submit %s: %d", dossier, res.StatusCode)
	}
	g.Drain()
	_, out := g.API("GET", "/api/v1/cases?agency="+agency, nil)
	for _, c := range out["cases"].([]any) {
		if c := c.(map[string]any); c["dossier_code"] == dossier {
			return c["id"].(string), caseTime(t, c, "due_at")
		}
	}
	t.Fatalf("no case for %s: %v", dossier, out)
	return "", time.Time{}
}

func caseTime(t *testing.T, c map[string]any, field string) time.Time {
	t.Helper()
	s, _ := c[field].(string)
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("%s of %v: %v", field, c, err)
	}
	return at
}

// caseKey makes an agency key named name for agency.
func caseKey(t *testing.T, g *gwtest.Gateway, name, agency string) string {
	t.Helper()
	res, out := g.API("POST", "/api/v1/keys", map[string]any{"name": name, "role": "agency", "agency": agency})
	if res.StatusCode != 201 {
		t.Fatalf("key %s: %d %v", name, res.StatusCode, out)
	}
	return out["key"].(string)
}

// caseAction runs a case action with key and returns the case after it.
func caseAction(t *testing.T, g *gwtest.Gateway, key, id, action string, body any) map[string]any {
	t.Helper()
	res, out := g.As(key, "POST", "/api/v1/cases/"+id+"/"+action, body)
	if res.StatusCode != 200 {
		t.Fatalf("%s %s: %d %v", action, id, res.StatusCode, out)
	}
	return out
}

// lastEvent is the last entry of a case's history.
func lastEvent(c map[string]any) map[string]any {
	h := c["history"].([]any)
	return h[len(h)-1].(map[string]any)
}

// An agency that closes and reopens its own overdue case keeps its due
// time: it is still escalated, and its late answer counts late. A reopen
// from above (the parent's key, an admin) gives a new due time, which
// the case shows, yet the figures still hold the agency to the first.
// Cases stored before the first due time was kept read their due time
// as the first.
func TestReopenCannotMoveTheAgencysOwnDueTime(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	own := caseKey(t, g, "so tu phap", "000.00.12.H49")
	parent := caseKey(t, g, "ubnd tinh", "000.00.00.H49")
	gamed, due := dueCase(t, g, "DUE-GAMED", "000.00.12.H49")
	moved, due2 := dueCase(t, g, "DUE-MOVED", "000.00.12.H49")
	old, due3 := dueCase(t, g, "DUE-OLD", "000.00.12.H49")
	_, c := g.As(own, "GET", "/api/v1/cases/"+gamed, nil)
	if first := caseTime(t, c, "first_due_at"); !first.Equal(due) {
		t.Fatalf("first due %v, due %v", first, due)
	}
	// A case stored before first_due_at was kept.
	if _, err := g.Core.Mongo.DB.Collection("cases").UpdateOne(t.Context(), bson.D{{Key: "_id", Value: old}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "first_due_at", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if _, c = g.API("GET", "/api/v1/cases/"+old, nil); !caseTime(t, c, "first_due_at").Equal(due3) {
		t.Fatalf("an old case's first due: %v", c)
	}

	now := due.Add(24 * time.Hour) // a day late
	g.Core.Clock = func() time.Time { return now }
	defer func() { g.Core.Clock = nil }()

	// The agency's own close and reopen: the due time stays.
	caseAction(t, g, own, gamed, "close", nil)
	c = caseAction(t, g, own, gamed, "reopen", nil)
	if !caseTime(t, c, "due_at").Equal(due) || !caseTime(t, c, "first_due_at").Equal(due) || c["status"] != "reopened" {
		t.Fatalf("after the agency's reopen: %v", c)
	}
	if e := lastEvent(c); e["action"] != "reopen" || !strings.Contains(e["by"].(string), "so tu phap") || !strings.HasPrefix(e["detail"].(string), "due kept") {
		t.Fatalf("reopen event %v", e)
	}

	// The parent's reopen (and an admin's, of the old case): a new due
	// time for the record, the first kept.
	for _, k := range []struct{ key, id, by string }{{parent, moved, "ubnd tinh"}, {gwtest.AdminKey, old, "admin"}} {
		caseAction(t, g, own, k.id, "close", nil)
		c = caseAction(t, g, k.key, k.id, "reopen", nil)
		first := map[string]time.Time{moved: due2, old: due3}[k.id]
		if d := caseTime(t, c, "due_at"); !d.After(now) || !caseTime(t, c, "first_due_at").Equal(first) {
			t.Fatalf("after %s's reopen: due %v, %v", k.by, d, c)
		}
		if e := lastEvent(c); !strings.Contains(e["by"].(string), k.by) || !strings.HasPrefix(e["detail"].(string), "due moved to") {
			t.Fatalf("reopen event %v", e)
		}
	}

	// Escalation keeps to the first due time, moved or not.
	if n, err := g.Core.EscalateOverdue(t.Context()); err != nil || n != 3 {
		t.Fatalf("escalated %d of 3 (%v)", n, err)
	}

	// Answered now, each a day after its first due time: late, all three.
	for _, id := range []string{gamed, moved, old} {
		if c = caseAction(t, g, own, id, "answer", map[string]any{"text": "Đã xử lý."}); c["answered_in_time"] != false {
			t.Fatalf("a late answer counted in time: %v", c)
		}
	}
	g.Core.Clock = nil // the report's months are this one's
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=all", nil)
	cases := rep["cases"].(map[string]any)
	if cases["opened"] != 3.0 || cases["answered"] != 3.0 || cases["answered_in_time"] != 0.0 {
		t.Fatalf("case figures %v", cases)
	}
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("case figures differ from a rebuild: %v %v", diff, err)
	}
}

// in_time_rate is answered in time over the cases due: a case not yet due
// does not count against the agency; one left unanswered past its due
// time counts once, when the case sweep finds it, and again not when it
// is answered late. A rebuild derives the same.
func TestInTimeRateIsOverCasesDue(t *testing.T) {
	g := gwtest.New(t, "")
	timely, due := dueCase(t, g, "ONTIME-A", "000.00.12.H49")
	late, _ := dueCase(t, g, "ONTIME-B", "000.00.12.H49")
	dueCase(t, g, "ONTIME-C", "000.00.12.H49")
	caseAction(t, g, gwtest.AdminKey, timely, "answer", map[string]any{"text": "Đã xử lý."})
	figures := func(when string, opened, dueN, answered, inTime, rate float64) {
		t.Helper()
		g.Drain()
		_, rep := g.API("GET", "/api/v1/reports/sipas?survey=all", nil)
		cases := rep["cases"].(map[string]any)
		got := []any{cases["opened"], cases["due"], cases["answered"], cases["answered_in_time"], cases["in_time_rate"]}
		if fmt.Sprint(got) != fmt.Sprint([]float64{opened, dueN, answered, inTime, rate}) {
			t.Fatalf("%s: opened, due, answered, in time, rate = %v, want %v", when, got, []float64{opened, dueN, answered, inTime, rate})
		}
		if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
			t.Fatalf("%s: case figures differ from a rebuild: %v %v", when, diff, err)
		}
	}
	figures("before any is due", 3, 1, 1, 1, 100)
	g.Core.Clock = func() time.Time { return due.Add(time.Hour) }
	defer func() { g.Core.Clock = nil }()
	for i, want := range []int{2, 0} { // once
		if n, err := g.Core.NoteDue(t.Context()); err != nil || n != want {
			t.Fatalf("sweep %d: %d noted due (%v), want %d", i, n, err, want)
		}
	}
	figures("past the due time", 3, 3, 1, 1, 33.33)
	caseAction(t, g, gwtest.AdminKey, late, "answer", map[string]any{"text": "Đã xử lý, muộn."})
	figures("answered late", 3, 3, 2, 1, 33.33)
	if _, err := g.Applier.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	figures("rebuilt", 3, 3, 2, 1, 33.33)
}
