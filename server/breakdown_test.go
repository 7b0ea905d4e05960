package server_test

import (
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// Hand-computed figures on a seeded tree: province P with departments 12
// (and its office 01.12) and 13.
func TestReportBreakdowns(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for _, r := range []struct{ dossier, agency, procedure, field, score string }{
		{"R1", "000.01.12.H49", "PROC-A", "F1", "5"},
		{"R2", "000.00.12.H49", "PROC-B", "", "3"},
		{"R3", "000.00.13.H49", "PROC-A", "", "1"},
	} {
		extra := map[string]any{"survey": "sipas-5", "procedure_code": r.procedure}
		if r.field != "" {
			extra["field_code"] = r.field
		}
		tok := gwtest.Token(g.Invite(r.dossier, r.agency, extra))
		s := r.score
		if res := g.Form("/s/"+tok, "A="+s+"&B="+s+"&C="+s+"&D="+s+"&E="+s); res.StatusCode != 303 {
			t.Fatalf("%s: %d", r.dossier, res.StatusCode)
		}
	}
	g.Invite("R4", "000.00.13.H49", map[string]any{"survey": "sipas-5"}) // never answered
	g.Drain()

	figures := func(q string) (float64, float64, float64, map[string]any) {
		res, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&"+q, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", q, res.StatusCode, rep)
		}
		o := rep["overall"].(map[string]any)
		return rep["responses"].(float64), o["satisfaction_rate"].(float64), o["mean_score"].(float64), rep
	}
	for q, want := range map[string][3]float64{
		"agency=000.00.00.H49": {3, 33.33, 3},
		"agency=000.00.12.H49": {2, 50, 4},
		"agency=000.01.12.H49": {1, 100, 5},
		"procedure=PROC-A":     {2, 50, 3},
		"procedure=PROC-B":     {1, 0, 3},
		"field=F1":             {1, 100, 5},
		"field=F2":             {0, 0, 0},
	} {
		n, r, m, _ := figures(q)
		if n != want[0] || r != want[1] || m != want[2] {
			t.Errorf("%s: responses %v rate %v mean %v, want %v", q, n, r, m, want)
		}
	}
	_, _, _, rep := figures("agency=000.00.00.H49&group_by=agency")
	rows := rep["groups"].([]any)
	want := []struct {
		group string
		rate  float64
		mean  float64
	}{{"000.00.12.H49", 0, 3}, {"000.00.13.H49", 0, 1}, {"000.01.12.H49", 100, 5}}
	if len(rows) != len(want) {
		t.Fatalf("groups %v", rows)
	}
	for i, w := range want {
		r := rows[i].(map[string]any)
		o := r["overall"].(map[string]any)
		if r["group"] != w.group || r["responses"] != 1.0 || o["satisfaction_rate"] != w.rate || o["mean_score"] != w.mean {
			t.Errorf("group %d: %v, want %+v", i, r, w)
		}
	}
	_, _, _, rep = figures("group_by=procedure")
	rows = rep["groups"].([]any)
	if len(rows) != 2 || rows[0].(map[string]any)["group"] != "PROC-A" || rows[0].(map[string]any)["responses"] != 2.0 || rows[1].(map[string]any)["responses"] != 1.0 {
		t.Fatalf("by procedure %v", rows)
	}
	_, _, _, rep = figures("group_by=channel")
	if rows := rep["groups"].([]any); len(rows) != 1 || rows[0].(map[string]any)["group"] != "web" {
		t.Fatalf("by channel %v", rows)
	}
	inv := rep["invitations"].(map[string]any)
	web := inv["by_channel"].(map[string]any)["web"].(map[string]any)
	if inv["created"] != 4.0 || inv["completed"] != 3.0 || inv["response_rate"] != 75.0 || web["completed"] != 3.0 || web["response_rate"] != 75.0 {
		t.Fatalf("invitations %v", inv)
	}
	for q, field := range map[string]string{"procedure=P&channel=web": "channel", "procedure=P&field=F": "field", "group_by=colour": "group_by"} {
		res, out := g.API("GET", "/api/v1/reports/sipas?"+q, nil)
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != field {
			t.Errorf("%s: %d %v", q, res.StatusCode, out)
		}
	}
}
