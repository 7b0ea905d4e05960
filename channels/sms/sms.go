// Package sms is what every SMS provider shares: the webhook route
// /webhooks/sms/{channel_id}, the call into the conversation engine, cost
// accounting, and the adapter registry. Each provider lives in a folder of
// its own below this one and registers an Adapter.
package sms

import (
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/survey"
)

// Message is one inbound SMS as a provider delivers it.
type Message struct {
	ID   string // the provider's message id
	From string // as the provider wrote it
	To   string
	Text string
}

// Fields names where a form or query carries a message's parts.
type Fields struct{ ID, From, To, Text string }

// FromValues reads a message from form or query values; the id and the
// sender are required.
func FromValues(v url.Values, f Fields) (Message, error) {
	m := Message{ID: v.Get(f.ID), From: v.Get(f.From), To: v.Get(f.To), Text: v.Get(f.Text)}
	if m.ID == "" || m.From == "" {
		return Message{}, core.Errorf(core.Invalid, f.ID, "%s and %s are required", f.ID, f.From)
	}
	return m, nil
}

// One wraps a single parsed message as Decode's result.
func One(m Message, err error) ([]Message, error) {
	if err != nil {
		return nil, err
	}
	return []Message{m}, nil
}

// Reply is a text to send back to a number (84…).
type Reply struct {
	To   string `json:"to"`
	Text string `json:"text"`
}

// Adapter is an SMS provider: its webhook format and its send API.
type Adapter interface {
	channels.Provider
	// Decode authenticates the webhook (before reading its meaning) and
	// returns its messages. A bad or missing signature is a core
	// Unauthenticated error. publicURL is the URL the provider called.
	Decode(c *fiber.Ctx, ch *core.Channel, publicURL string) ([]Message, error)
	// Respond writes the provider's synchronous answer carrying replies.
	Respond(c *fiber.Ctx, ch *core.Channel, in []Message, replies []Reply) error
}

var adapters = map[string]Adapter{}

// Register adds a provider; empty or duplicate types panic.
func Register(a Adapter) {
	channels.RegisterProvider(a)
	adapters[a.Kind().Type] = a
}

func init() { channels.Register(webhook{}) }

type webhook struct{}

var _ channels.Channel = webhook{}

// Type is the route family "sms".
func (webhook) Type() channels.Type { return "sms" }

// Mount adds POST and GET /webhooks/sms/{channel_id}.
func (webhook) Mount(app *fiber.App, d channels.Deps) {
	h := &handler{core: d.Core, log: d.Log.With("comp", "sms")}
	app.Post("/webhooks/sms/:channel_id", h.serve)
	app.Get("/webhooks/sms/:channel_id", h.serve)
}

type handler struct {
	core *core.Service
	log  *slog.Logger
}

func (h *handler) serve(c *fiber.Ctx) error {
	ch, err := h.core.Channel(c.UserContext(), c.Params("channel_id"))
	if err != nil {
		return err
	}
	a, ok := adapters[ch.Type]
	if !ok || !ch.Enabled {
		return core.Errorf(core.NotFound, "", "no enabled SMS channel %s", ch.ID)
	}
	msgs, err := a.Decode(c, ch, h.core.BaseURL+c.OriginalURL())
	if err != nil {
		channels.CountWebhook(ch.Type, string(core.CodeOf(err)))
		return err
	}
	var replies []Reply
	for _, m := range msgs {
		rs, err := h.converse(c, ch, m)
		if err != nil {
			channels.CountWebhook(ch.Type, string(core.CodeOf(err)))
			return err
		}
		replies = append(replies, rs...)
	}
	channels.CountWebhook(ch.Type, "ok")
	return a.Respond(c, ch, msgs, replies)
}

// converse runs one message through the engine and accounts for the replies.
func (h *handler) converse(c *fiber.Ctx, ch *core.Channel, m Message) ([]Reply, error) {
	phone, err := survey.CanonicalPhone(m.From)
	if err != nil {
		h.log.Warn("inbound SMS from a number that is not a Vietnamese mobile; ignored", "channel", ch.ID, "message_id", m.ID)
		return nil, nil
	}
	// The phone's rate limit, the conversation and the replies' records
	// take two round trips to Redis: one read, one commit.
	res, err := h.core.Converse(c.UserContext(), core.Inbound{Channel: ch, From: phone, MessageID: m.ID, Text: m.Text, At: time.Now(), Limit: true, LogSMS: true}, channels.RenderFor(ch))
	if core.CodeOf(err) == core.RateLimited {
		return nil, err // 429: the provider retries later
	}
	if err != nil {
		return nil, fmt.Errorf("converse on %s: %w", ch.ID, err)
	}
	if res.Replayed {
		h.log.Warn("inbound SMS whose id this channel took from another number: a replayed message? not applied, not answered",
			"channel", ch.ID, "message_id", m.ID, "from", survey.MaskPhone(phone))
	}
	// A duplicate (a retry, or a delivery racing the first) is answered
	// with the first delivery's replies: the provider sends whichever
	// answer it gets. Nothing else is sent for it.
	kind := "reply"
	if res.Duplicate {
		kind = "reply_repeated"
	}
	out := make([]Reply, 0, len(res.Replies))
	for _, text := range res.Replies {
		out = append(out, Reply{To: phone, Text: text})
		_, parts := survey.SMSParts(text)
		channels.CountSent(ch.Type, kind, parts)
	}
	return out, nil
}
