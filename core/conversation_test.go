package core_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/survey"
)

var sms = &core.Channel{ID: "sms-test", Type: "sms.generic", Enabled: true}

func render(t survey.Text, locale string) string { return t.In(locale) }

// chat sends messages from phones (84…) straight into the engine.
type chat struct {
	t     *testing.T
	g     *gwtest.Gateway
	n     int
	scans atomic.Int32
}

func newChat(t *testing.T) *chat {
	c := &chat{t: t, g: gwtest.New(t, "")}
	c.g.Core.Scanned = func() { c.scans.Add(1) }
	return c
}

func (c *chat) say(phone, text string) *core.Conversed {
	c.t.Helper()
	c.n++
	res, err := c.g.Core.Converse(context.Background(), core.Inbound{Channel: sms, From: phone, MessageID: fmt.Sprint("m", c.n), Text: text}, render)
	if err != nil {
		c.t.Fatalf("%s says %q: %v", phone, text, err)
	}
	return res
}

// expect checks who a reply went to, what it said and how many MongoDB
// scans it took in all so far.
func (c *chat) expect(res *core.Conversed, invitation, reply string, scans int32) {
	c.t.Helper()
	got := strings.Join(res.Replies, " | ")
	if res.Invitation != invitation || (reply == "" && got != "") || !strings.Contains(got, reply) || c.scans.Load() != scans {
		c.t.Fatalf("reply %q about %q after %d scans; want %q about %q after %d", got, res.Invitation, c.scans.Load(), reply, invitation, scans)
	}
}

func (c *chat) invite(dossier, phone string) string {
	return c.g.Invite(dossier, "000.00.12.H49", map[string]any{"phone": phone})["id"].(string)
}

// roundTrips counts the commands and pipelines a Redis client sends.
type roundTrips struct{ n atomic.Int32 }

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// A message in the middle of a conversation costs three Redis round trips
// (state and dedupe mark; the invitation's done mark; the commit) and no
// MongoDB at all.
func TestMidConversationStepCost(t *testing.T) {
	c := newChat(t)
	const p = "84912345678"
	d1 := c.invite("D-RT-1", "0912345678")
	c.expect(c.say(p, "5"), d1, "Câu 2/5", 0)
	rt := &roundTrips{}
	c.g.Core.Conversations.R.AddHook(rt)
	c.g.Core.Mongo = nil // a MongoDB call would panic
	c.expect(c.say(p, "HD"), d1, "Nhắn 5 số", 0)
	c.expect(c.say(p, "4"), d1, "Câu 3/5", 0)
	if n := rt.n.Load(); n != 6 {
		t.Fatalf("two mid-conversation messages took %d Redis round trips, want 6", n)
	}
}
