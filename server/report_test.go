package server_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
)

func answerAll(score string) string {
	v := url.Values{}
	for _, q := range []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
		v.Set(q, score)
	}
	return v.Encode()
}

func TestReportFiguresFromKnownAnswers(t *testing.T) {
	g := gwtest.New(t, "")
	// Agency 12: one citizen answers 5 everywhere, one answers 2 everywhere
	// except A1 = 0 (no opinion). Agency 13: one answers 4 everywhere.
	submit := func(dossier, agency, form string) {
		tok := gwtest.Token(g.Invite(dossier, agency, nil))
		if res := g.Form("/s/"+tok, form); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d %s", dossier, res.StatusCode, gwtest.Body(res))
		}
	}
	submit("R-1", "000.00.12.H49", answerAll("5"))
	v, _ := url.ParseQuery(answerAll("2"))
	v.Set("A1", "0")
	submit("R-2", "000.00.12.H49", v.Encode())
	submit("R-3", "000.00.13.H49", answerAll("4"))
	g.Drain()

	month := time.Now().In(time.FixedZone("ICT", 7*3600)).Format("2006-01")
	_, all := g.API("GET", "/api/v1/reports/sipas?from="+month+"-01&to="+month+"-28", nil)
	if all["responses"] != 3.0 {
		t.Fatalf("responses %v", all["responses"])
	}
	ind := all["indicators"].([]any)
	a1, a2 := ind[0].(map[string]any), ind[1].(map[string]any)
	// A1: answers 5 and 4 (the 0 is left out): 100%, mean 4.5.
	if a1["id"] != "A1" || a1["answers"] != 2.0 || a1["satisfaction_rate"] != 100.0 || a1["mean_score"] != 4.5 {
		t.Fatalf("A1 %v", a1)
	}
	// A2: 5, 2, 4: two of three satisfied, mean 3.67.
	if a2["answers"] != 3.0 || a2["satisfaction_rate"] != 66.67 || a2["mean_score"] != 3.67 {
		t.Fatalf("A2 %v", a2)
	}
	crit := all["criteria"].([]any)[0].(map[string]any)
	// A = mean of A1 (100) and A2..A4 (66.67 each) = 75.
	if crit["code"] != "A" || crit["satisfaction_rate"] != 75.0 || crit["distribution"].(map[string]any)["0"] != 1.0 {
		t.Fatalf("criterion A %v", crit)
	}
	// Overall: 21 indicators at 66.67 and A1 at 100 → 68.18.
	if o := all["overall"].(map[string]any); o["satisfaction_rate"] != 68.18 {
		t.Fatalf("overall %v", o)
	}

	_, one := g.API("GET", "/api/v1/reports/sipas?agency=000.00.13.H49", nil)
	if one["responses"] != 1.0 || one["overall"].(map[string]any)["mean_score"] != 4.0 {
		t.Fatalf("agency 13: %v", one)
	}
	for q, want := range map[string]float64{
		"channel=sms":             0,
		"channel=web":             3,
		"from=2000-01&to=2000-12": 0,
		"survey=sipas-5":          0,
	} {
		_, r := g.API("GET", "/api/v1/reports/sipas?"+q, nil)
		if r["responses"] != want {
			t.Errorf("%s: %v responses, want %v", q, r["responses"], want)
		}
	}
	// The cross-form view: a short-form answer (3 everywhere) joins them.
	// Each response weighs once per criterion: are satisfied
	// in every criterion, R-2 and the short form in none, so every
	// criterion and the overall are 50%, mean (5 + 2 + 4 + 3) / 4 = 3.5,
	// over 4 responses: 95% Wilson interval 15.00–85.00.
	tok := gwtest.Token(g.Invite("R-4", "000.00.13.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=3&B=3&C=3&D=3&E=3"); res.StatusCode != 303 {
		t.Fatalf("short form: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Drain()
	_, cross := g.API("GET", "/api/v1/reports/sipas?survey=all", nil)
	if cross["survey"] != "all" || cross["responses"] != 4.0 || len(cross["indicators"].([]any)) != 0 {
		t.Fatalf("survey=all: %v", cross)
	}
	for _, c := range append(cross["criteria"].([]any), cross["overall"]) {
		c := c.(map[string]any)
		iv := c["interval"].(map[string]any)
		if c["satisfaction_rate"] != 50.0 || c["mean_score"] != 3.5 || iv["low"] != 15.0 || iv["high"] != 85.0 {
			t.Fatalf("survey=all: %v", c)
		}
	}
	_, byAgency := g.API("GET", "/api/v1/reports/sipas?survey=all&group_by=agency", nil)
	groups := byAgency["groups"].([]any)
	if len(groups) != 2 || groups[1].(map[string]any)["responses"] != 2.0 || groups[1].(map[string]any)["overall"].(map[string]any)["satisfaction_rate"] != 50.0 {
		t.Fatalf("survey=all by agency: %v", groups)
	}
	_, _, csv := get(g, gwtest.AdminKey, "/api/v1/reports/sipas?survey=all&group_by=agency&format=csv")
	for _, want := range []string{
		"level,code,criterion,satisfaction_rate,interval_low,interval_high,mean_score,answers,",
		"\noverall,,,50.00,15.00,85.00,3.50,",
		"\nagency,000.00.13.H49,,50.00,",
		"\nagency,000.00.12.H49,A,50.00,",
	} {
		if !strings.Contains(csv, want) {
			t.Fatalf("report CSV lacks %q:\n%s", want, csv)
		}
	}

	for q, field := range map[string]string{
		"from=yesterday":          "from",
		"to=2026-13-01":           "to",
		"from=2026-05&to=2026-01": "from",
		"agency=not an agency":    "agency",
		"survey=nps":              "survey",
	} {
		res, r := g.API("GET", "/api/v1/reports/sipas?"+url.PathEscape(q), nil)
		if e, _ := r["error"].(map[string]any); res.StatusCode != 400 || e["field"] != field {
			t.Errorf("%s: %d %v", q, res.StatusCode, r)
		}
	}
}

// With a period given, the report compares it with the same length just
// before: the change in points and whether it is beyond the intervals.
func TestReportComparesWithThePreviousPeriod(t *testing.T) {
	g := gwtest.New(t, "")
	answer := func(dossier, score string) {
		t.Helper()
		tok := gwtest.Token(g.Invite(dossier, "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, "A="+score+"&B="+score+"&C="+score+"&D="+score+"&E="+score); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", dossier, res.StatusCode)
		}
	}
	now := time.Now()
	g.Core.Clock = func() time.Time { return now.AddDate(0, -1, 0) }
	for i := range 12 {
		answer(fmt.Sprintf("P-OLD-%d", i), "5")
	}
	g.Core.Clock = nil
	for i := range 12 {
		answer(fmt.Sprintf("P-NEW-%d", i), "2")
	}
	g.Drain()
	month := now.In(time.FixedZone("ICT", 7*3600)).Format("2006-01")
	_, r := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&from="+month+"&to="+month, nil)
	prev, _ := r["previous"].(map[string]any)
	if prev == nil {
		t.Fatalf("no comparison: %v", r)
	}
	o := prev["overall"].(map[string]any)
	if prev["responses"] != 12.0 || o["satisfaction_rate"] != 100.0 || o["change"] != -100.0 || o["beyond_intervals"] != true || len(prev["criteria"].([]any)) != 5 {
		t.Fatalf("previous period: %v", prev)
	}
	if _, r := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5", nil); r["previous"] != nil {
		t.Fatalf("no period, no comparison: %v", r["previous"])
	}
}
