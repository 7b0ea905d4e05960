package zalo_test

import (
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// go-redis sends a command, a pipeline or a transaction again when its
// reply is lost after Redis ran it. With every round trip run twice, a
// Zalo conversation hears each question once and the thanks, where a
// commit sent again used to read as a duplicate, which Zalo leaves
// unanswered. A text without a msg_id delivered twice applies once.
func TestZaloConversationWithEveryRoundTripSentTwice(t *testing.T) {
	g, f := setup(t)
	twice := gwtest.Resend(g.Core.Conversations.R)
	g.Invite("D-ZALO-TWICE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	deliver(t, g, event(t, "user_submit_info.json", "PHONE", "0912 345 678"))
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "5", "MSGID", "twice-1"))
	noID := event(t, "user_send_text.json", "TEXT", "4", "MSGID", "")
	deliver(t, g, noID)
	deliver(t, g, noID) // Zalo's retry of it
	for i, score := range []string{"5", "4", "5"} {
		deliver(t, g, event(t, "user_send_text.json", "TEXT", score, "MSGID", "twice-"+string(rune('2'+i))))
	}
	got := f.texts()
	if len(got) != 7 || !strings.HasPrefix(got[2], "Câu 2/5") || !strings.HasPrefix(got[3], "Câu 3/5") || !strings.HasPrefix(got[6], "Cảm ơn ông/bà đã đánh giá!") {
		t.Fatalf("the citizen heard %d texts: %q", len(got), got)
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&channel=zalo", nil)
	if rep["responses"] != 1.0 || rep["overall"].(map[string]any)["mean_score"] != 4.6 || twice.Load() == 0 {
		t.Fatalf("report: %v responses, overall %v", rep["responses"], rep["overall"])
	}
}
