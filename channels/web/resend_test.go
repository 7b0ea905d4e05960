package web_test

import (
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// go-redis sends a command, a pipeline or a transaction again when its
// reply is lost after Redis ran it. With every round trip run twice, a
// citizen answering the survey step by step goes through each step once,
// hears their answers were saved (the completion's clean-up runs, as the
// outbox put answers its own repeat as the first time), and is counted
// once.
func TestWebSurveyWithEveryRoundTripSentTwice(t *testing.T) {
	g := gwtest.New(t, "")
	twice := gwtest.Resend(g.Core.Conversations.R)
	tok := gwtest.Token(g.Invite("W-TWICE", "000.00.12.H49", nil))
	base := "/s/" + tok
	if code, body := get(g, base); code != 200 || !strings.Contains(body, "Bước 1 trên 5") {
		t.Fatalf("first page: %d", code)
	}
	steps := []string{"A1=5&A2=4&A3=5&A4=4", "B1=5&B2=5&B3=4&B4=4&B5=5", "C1=5&C2=5&C3=5&C4=4&C5=4&C6=5", "D1=4&D2=4&D3=5", "E1=5&E2=5&E3=4&E4=5"}
	for i, form := range steps {
		res := g.Form(base, "lang=vi&step="+string(rune('1'+i))+"&"+form)
		loc := res.Header.Get("Location")
		if res.StatusCode != 303 || (i < 4 && loc != base+"?step="+string(rune('2'+i))+"&lang=vi") || (i == 4 && !strings.Contains(loc, "/done")) {
			t.Fatalf("step %d: %d to %q", i+1, res.StatusCode, loc)
		}
	}
	if code, body := get(g, base+"/done"); code != 200 || !strings.Contains(body, "Cảm ơn") {
		t.Fatalf("thank-you page: %d", code)
	}
	if saved, err := g.Core.Drafts.Load(t.Context(), tok); err != nil || len(saved) != 0 {
		t.Fatalf("the answers saved step by step outlive the response: %v %v", saved, err) // the completion's clean-up did not run
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49", nil)
	r, _ := rep["reach"].(map[string]any)
	if rep["responses"] != 1.0 || r["opened"] != 1.0 || r["completed"] != 1.0 || twice.Load() == 0 {
		t.Fatalf("report: %v responses, reach opened %v, completed %v; want 1 each", rep["responses"], r["opened"], r["completed"])
	}
}
