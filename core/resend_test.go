package core_test

import (
	"fmt"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// go-redis sends a command, a pipeline or a transaction again when its
// reply is lost after Redis ran it. With every round trip run twice,
// conversations read and answer as with each run once: each reply is the
// one a single run gives (none reads as a duplicate, which a Zalo chat
// leaves unanswered), each survey is saved and counted once, and the
// reach figures count each invitation once, and a phone's dossier codes
// count once each.
func TestConversationsWithEveryRoundTripSentTwice(t *testing.T) {
	c := newChat(t)
	twice := gwtest.Resend(c.g.Core.Conversations.R)
	const p, q = "84912345601", "84912345602"
	a := c.invite("D-TWICE-A", "0912345601")
	b := c.invite("D-TWICE-B", "0912345602")
	say := func(phone, text string) *core.Conversed {
		t.Helper()
		res := c.say(phone, text)
		if res.Duplicate {
			t.Fatalf("%q from %s was answered as a duplicate", text, phone)
		}
		return res
	}
	c.expect(say(p, "5 4 5 4 5"), a, "Cảm ơn", 0)
	for i, s := range []string{"5", "4", "3", "2"} {
		c.expect(say(q, s), b, fmt.Sprintf("Câu %d/5", i+2), 0)
	}
	c.expect(say(q, "1"), b, "Cảm ơn", 0)
	c.expect(say(p, "5"), a, "đã được trả lời", 0)
	const g = "84912345603" // a phone guessing dossier codes is told when it is cut off
	for i := 1; i <= 5; i++ {
		c.expect(say(g, fmt.Sprintf("DG D-TWICE-%d", i)), "", "Không tìm thấy phiếu", 0)
	}
	c.expect(say(g, "DG D-TWICE-6"), "", "quá nhiều mã hồ sơ", 0)
	if n := c.responses(a, b); n != 2 || twice.Load() == 0 {
		t.Fatalf("%d responses; %d round trips sent twice", n, twice.Load())
	}
	c.g.Drain()
	_, rep := c.g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49&survey=sipas-5", nil)
	_, inv := c.g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49", nil) // the invitations' survey
	r, _ := inv["reach"].(map[string]any)
	if rep["responses"] != 2.0 || r["started"] != 2.0 || r["completed"] != 2.0 {
		t.Fatalf("report: %v responses, reach started %v, completed %v; want 2 each", rep["responses"], r["started"], r["completed"])
	}
}
