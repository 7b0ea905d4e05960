package core_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// BenchmarkConverseMidConversation is one SMS message in the middle of a
// conversation (a request for help, which changes nothing in MongoDB),
// through the engine on the real redis-server and FerretDB.
func BenchmarkConverseMidConversation(b *testing.B) {
	g := gwtest.New(b, "")
	g.Invite("D-BENCH", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	ctx, n := context.Background(), 0
	say := func(text string) {
		n++
		in := core.Inbound{Channel: sms, From: "84912345678", MessageID: "b" + strconv.Itoa(n), Text: text}
		if res, err := g.Core.Converse(ctx, in, render); err != nil || len(res.Replies) != 1 {
			b.Fatalf("%q: %v %v", text, res, err)
		}
	}
	say("5")
	b.ReportAllocs()
	for b.Loop() {
		say("HD")
	}
}
