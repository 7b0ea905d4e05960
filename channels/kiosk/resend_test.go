package kiosk_test

import (
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// go-redis sends a command, a pipeline or a transaction again when its
// reply is lost after Redis ran it. With every round trip run twice, a
// desk pairs its tablet with the code it was shown, the tablet shows the
// dossier presented, and its answer is recorded and counted once.
func TestKioskWithEveryRoundTripSentTwice(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	twice := gwtest.Resend(g.Core.Conversations.R)
	tablet := deskWithTablet(t, g, "quay-2", "000.00.12.H49", "Trần Thị Bình")
	g.Invite("H49-K-TWICE", "000.01.12.H49", map[string]any{"phone": "0912345679"})
	if res, out := g.API("POST", "/api/v1/desks/quay-2/present", map[string]any{"dossier_code": "H49-K-TWICE"}); res.StatusCode != 200 {
		t.Fatalf("present: %d %v", res.StatusCode, out)
	}
	res, shown := g.As(tablet, "GET", "/kiosk/api/next?after=0&wait=1", nil)
	if res.StatusCode != 200 || shown["dossier_code"] != "H49-K-TWICE" {
		t.Fatalf("next: %d %v", res.StatusCode, shown)
	}
	answer := map[string]any{"idempotency_key": "key-twice-01", "invitation_id": shown["invitation_id"], "seq": shown["seq"], "survey": "sipas-5",
		"answers": map[string]int{"A": 5, "B": 4, "C": 5, "D": 4, "E": 5}, "locale": "vi"}
	for i := range 2 {
		if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
			t.Fatalf("answer %d: %d %v", i+1, res.StatusCode, out)
		}
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49&survey=sipas-5", nil)
	if rep["responses"] != 1.0 || twice.Load() == 0 {
		t.Fatalf("report: %v responses; want 1", rep["responses"])
	}
}
