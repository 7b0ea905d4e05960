package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
)

// Department 12's citizens rate A (access) low, and those who rate it
// lowest are the least satisfied overall; department 13's rate A well. The
// drivers of 12 put A first, below the rest of the province with an
// interval that leaves out 0, and important and low.
func TestDriversOfALowUnit(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.RankMin = 10 })
	g.Tree(t)
	n := 0
	answer := func(agency, procedure string, a, rest int) {
		n++
		tok := gwtest.Token(g.Invite(fmt.Sprintf("D-%03d", n), agency, map[string]any{"survey": "sipas-5", "procedure_code": procedure}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("A=%d&B=%d&C=%d&D=%d&E=%d", a, rest, rest, max(1, rest-1), rest)); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", n, res.StatusCode)
		}
	}
	for i := range 24 {
		level := 2 + i%4 // 2…5
		answer("000.00.12.H49", "PROC-"+string(rune('A'+i%2)), max(1, level-1), level)
		answer("000.00.13.H49", "PROC-C", 5, 4)
	}
	g.Drain()

	res, d := g.API("GET", "/api/v1/reports/sipas/drivers?agency=000.00.12.H49&survey=sipas-5", nil)
	if res.StatusCode != 200 {
		t.Fatalf("drivers: %d %v", res.StatusCode, d)
	}
	cw := d["compared_with"].(map[string]any)
	if cw["agency"] != "000.00.00.H49" || cw["responses"] != 24.0 || d["responses"] != 24.0 {
		t.Fatalf("compared with %v, responses %v", cw, d["responses"])
	}
	qs := d["questions"].([]any)
	first := qs[0].(map[string]any)
	gap := first["gap"].(map[string]any)
	if first["id"] != "A" || gap["significant"] != true || gap["points"].(float64) >= 0 || first["quadrant"] != "important_low" {
		t.Fatalf("first driver %v", first)
	}
	if im := first["importance"].(map[string]any); im["correlation"].(float64) < 0.9 || im["respondents"] != 24.0 {
		t.Fatalf("A's importance %v", im)
	}
	procs := d["procedures"].([]any)
	if len(procs) != 2 || procs[0].(map[string]any)["ranked"] != true {
		t.Fatalf("procedures %v", procs)
	}
	if ch := d["channels"].([]any); len(ch) != 1 || ch[0].(map[string]any)["group"] != "web" {
		t.Fatalf("channels %v", ch)
	}
	// The province itself has nothing above it to be compared with.
	if _, d := g.API("GET", "/api/v1/reports/sipas/drivers?agency=000.00.00.H49&survey=sipas-5", nil); d["compared_with"] != nil || d["responses"] != 48.0 {
		t.Fatalf("the province's drivers: %v", d)
	}
	for q, field := range map[string]string{"survey=all": "survey", "agency=000.00.12.H49&survey=sipas&from=2026-13": "from"} {
		if res, e := g.API("GET", "/api/v1/reports/sipas/drivers?"+q, nil); res.StatusCode != 400 || e["error"].(map[string]any)["field"] != field {
			t.Errorf("%s: %d %v", q, res.StatusCode, e)
		}
	}
}

// A unit's answers before and after a plan's start, ten days apart: the
// criterion it targets rose from 2 to 5 and is called improved; a topic
// nobody wrote of is measured over every response and did not change.
func TestEffectOverTheDaysFamily(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	n := 0
	answer := func(a int) {
		n++
		tok := gwtest.Token(g.Invite(fmt.Sprintf("E-%03d", n), "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("A=%d&B=4&C=4&D=4&E=4", a)); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", n, res.StatusCode)
		}
	}
	for range 35 {
		answer(2)
	}
	answer(5)
	g.Later(10 * 24 * time.Hour)
	start := time.Now().Add(10 * 24 * time.Hour).In(core.Vietnam)
	for range 36 {
		answer(5)
	}
	g.Later(10 * 24 * time.Hour)
	g.Drain()
	day := time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, time.UTC)
	api := &server.API{Core: g.Core}
	e, err := api.Effect(context.Background(), "000.00.00.H49", []report.Target{{Kind: report.TargetCriterion, ID: "A"}, {Kind: report.TargetTopic, ID: "waiting"}}, day)
	if err != nil {
		t.Fatal(err)
	}
	a := e.Targets[0]
	if e.Days != 10 || a.Before.Whole != 36 || a.Before.Part != 1 || a.After.Whole != 36 || a.After.Part != 36 || a.Verdict != report.Improved {
		t.Fatalf("effect %+v", e)
	}
	if w := e.Targets[1]; w.Before.Whole != 36 || w.Verdict != report.NoClearChange || e.Verdict != report.Improved {
		t.Fatalf("topic %+v, plan %s", w, e.Verdict)
	}
}
