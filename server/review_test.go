package server_test

import (
	"fmt"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// A flag raised after the fact is counted through the roll-up writer; the
// report shows the index with the flagged answer and without it; the
// rated agency cannot review its own answers, its parent can; a confirmed
// answer leaves the index and stays listed; a cleared one counts in both.
// After every step the roll-ups equal a recount of the stored answers.
func TestFlaggedAnswerReviewedAboveTheAgency(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	own, parent := g.Key(t, "agency", unit), g.Key(t, "agency", "000.00.12.H49")
	forms := []string{"A=5&B=5&C=5&D=5&E=5", "A=1&B=2&C=2&D=1&E=2", "A=4&B=4&C=4&D=4&E=4"}
	ids := make([]string, len(forms))
	for i, form := range forms {
		d := fmt.Sprintf("FLAG-%d", i)
		tok := gwtest.Token(g.Invite(d, unit, map[string]any{"survey": "sipas-5"}))
		if res := g.AnswerAsCitizen(tok, form); res.StatusCode != 303 {
			t.Fatalf("submit: %d", res.StatusCode)
		}
		g.Flush()
		r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation(d).ID)
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
	}
	g.Drain()
	agree := func(what string) {
		t.Helper()
		if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
			t.Fatalf("%s: roll-ups differ from a recount: %v %v", what, diff, err)
		}
	}
	report := func() map[string]any {
		t.Helper()
		_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&agency="+unit, nil)
		return rep
	}
	rep := report()
	if rep["flagged"] != 0.0 || rep["responses"] != 3.0 {
		t.Fatalf("before any flag: %v", rep)
	}
	plain := rep["overall"].(map[string]any)["satisfaction_rate"]
	if ex := rep["index_excluding_flagged"].(map[string]any)["satisfaction_rate"]; ex != plain {
		t.Fatalf("no flag, yet the index without flagged answers differs: %v vs %v", ex, plain)
	}

	// The all-fives answer is flagged later (the third dossier of one browser).
	if err := g.Core.FlagLater(t.Context(), []string{ids[0]}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	agree("flagged")
	rep = report()
	if rep["flagged"] != 1.0 || rep["pending_review"] != 1.0 || rep["responses"] != 3.0 || rep["by_flag"].(map[string]any)["device_many"] != 1.0 {
		t.Fatalf("after a late flag: %v", rep)
	}
	with, without := rep["overall"].(map[string]any)["satisfaction_rate"].(float64), rep["index_excluding_flagged"].(map[string]any)["satisfaction_rate"].(float64)
	if without >= with {
		t.Fatalf("leaving out an all-fives answer should lower the index: %v with, %v without", with, without)
	}
	res, list := g.As(own, "GET", "/api/v1/flagged?status=pending", nil)
	if res.StatusCode != 200 || list["total"] != 1.0 {
		t.Fatalf("the unit's queue: %d %v", res.StatusCode, list)
	}
	if res, _ := g.As(own, "POST", "/api/v1/flagged/"+ids[0]+"/confirm", map[string]any{"note": "tự đánh giá"}); res.StatusCode != 403 {
		t.Fatalf("the rated unit confirmed its own answer: %d", res.StatusCode)
	}
	if res, out := g.As(parent, "POST", "/api/v1/flagged/"+ids[0]+"/confirm", map[string]any{}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "note" {
		t.Fatalf("a confirm without a note: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(parent, "POST", "/api/v1/flagged/"+ids[1]+"/confirm", map[string]any{"note": "x"}); res.StatusCode != 409 {
		t.Fatalf("confirming an answer with no flag: %d %v", res.StatusCode, out)
	}
	res, out := g.As(parent, "POST", "/api/v1/flagged/"+ids[0]+"/confirm", map[string]any{"note": "Cán bộ quầy tự điền, đã xác minh qua camera"})
	if res.StatusCode != 200 || out["status"] != "confirmed" {
		t.Fatalf("the parent's confirm: %d %v", res.StatusCode, out)
	}
	g.Drain()
	agree("confirmed")
	rep = report()
	if rep["responses"] != 2.0 || rep["confirmed"] != 1.0 || rep["flagged"] != 1.0 || rep["pending_review"] != 0.0 {
		t.Fatalf("after the confirm: %v", rep)
	}
	if got := rep["overall"].(map[string]any)["satisfaction_rate"]; got != without {
		t.Fatalf("the index without the confirmed answer is %v, want %v", got, without)
	}
	if _, list := g.As(parent, "GET", "/api/v1/flagged?status=confirmed&agency="+unit, nil); list["total"] != 1.0 {
		t.Fatalf("confirmed answers stay listed: %v", list)
	}
	// A mistake mended: cleared, it counts in both figures again.
	if res, out := g.As(parent, "POST", "/api/v1/flagged/"+ids[0]+"/clear", map[string]any{"note": "camera cho thấy công dân tự điền"}); res.StatusCode != 200 {
		t.Fatalf("clear: %d %v", res.StatusCode, out)
	}
	g.Drain()
	agree("cleared")
	rep = report()
	if rep["responses"] != 3.0 || rep["cleared"] != 1.0 || rep["overall"].(map[string]any)["satisfaction_rate"] != with ||
		rep["index_excluding_flagged"].(map[string]any)["satisfaction_rate"] != with {
		t.Fatalf("after the clear: %v", rep)
	}
	// Grouped, each group carries its own counts.
	_, byAgency := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&group_by=agency", nil)
	groups := byAgency["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["flagged"] != 1.0 || groups[0].(map[string]any)["cleared"] != 1.0 {
		t.Fatalf("groups: %v", groups)
	}
	// Redis lost the queue's index (an embedded Redis restarts): it is
	// filled again from the answers, as the roll-up writer does at start.
	fi := g.Core.FlaggedIndex
	if keys := fi.R.Keys(t.Context(), fi.Prefix+"*").Val(); len(keys) == 0 || fi.R.Del(t.Context(), keys...).Err() != nil {
		t.Fatalf("the queue's index: %v", keys)
	}
	if filled, _ := fi.Filled(t.Context()); filled {
		t.Fatal("an emptied index says it is filled")
	}
	if err := fi.Fill(t.Context(), g.Mongo.Responses); err != nil {
		t.Fatal(err)
	}
	if _, list := g.As(parent, "GET", "/api/v1/flagged?status=cleared&agency="+unit, nil); list["total"] != 1.0 {
		t.Fatalf("after the index was filled again: %v", list)
	}
	// A rebuild counts the same from the stored answers.
	if _, err := g.Applier.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	agree("rebuilt")
	if got := report(); got["cleared"] != 1.0 || got["responses"] != 3.0 {
		t.Fatalf("after a rebuild: %v", got)
	}
}
