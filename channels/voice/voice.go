// Package voice is what every voice provider shares: the webhook routes
// /webhooks/voice/{channel_id}/{answer|key|status}, the call into the
// core's call engine (core.StartCall, CallKey), what a call's end does to
// its invitation (retries, the SMS fallback, the minutes' cost), and the
// settings every voice channel takes. Each provider lives in a folder of
// its own below this one and registers an Adapter.
package voice

import (
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/survey"
)

// Webhook events: the route's last part.
const (
	EventAnswer = "answer" // the call was answered (outbound) or came in
	EventKey    = "key"    // a key was pressed, or none in time
	EventStatus = "status" // the call ended
)

// Call outcomes, as the report counts them.
const (
	Answered = "answered"
	Busy     = "busy"
	NoAnswer = "no_answer"
	Machine  = "machine"
	Failed   = "failed"
)

// Event is one verified webhook, normalised by its adapter.
type Event struct {
	Kind   string
	CallID string
	// From is the caller as the provider wrote it (an inbound call).
	From string
	// Invitation is set on the webhooks of a call the gateway placed (it
	// is in the URLs the gateway gave the provider).
	Invitation string
	// Step and Digits: a key event's step and key ("" for none in time).
	Step   int
	Digits string
	// Machine: an answer event for a call a machine picked up.
	Machine bool
	// Outcome and Seconds: a status event's outcome ("" while the call
	// goes on: nothing to do) and billed seconds.
	Outcome string
	Seconds int
}

// Hooks are the URLs a turn's answer points the provider at.
type Hooks struct {
	// Key is where the next key (or none) goes.
	Key string
	// Audio is the signed URL of the recording uploaded under a prompt's
	// name, or "" when the provider's voice says it (nil: never one).
	Audio func(name string) string
}

// Adapter is a voice provider: its webhook format, its answers and its
// call API (Send places a call and returns its call id).
type Adapter interface {
	channels.Provider
	// Decode authenticates a webhook (before reading its meaning) and
	// reads it. A bad or missing signature is a core Unauthenticated
	// error. publicURL is the URL the provider called.
	Decode(c *fiber.Ctx, ch *core.Channel, publicURL, event string) (Event, error)
	// Respond writes the answer to an answer or key webhook: the turn's
	// prompts, then a wait for one key, or a hang-up.
	Respond(c *fiber.Ctx, ch *core.Channel, t *core.CallTurn, h Hooks) error
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

// Type is the route family "voice".
func (webhook) Type() channels.Type { return "voice" }

// Mount adds /webhooks/voice/{channel_id}/{event}, POST and GET (Stringee
// asks for a call's first actions with a GET).
func (webhook) Mount(app *fiber.App, d channels.Deps) {
	h := &handler{deps: channels.Deps{Core: d.Core, Log: d.Log.With("comp", "voice")}}
	app.Post("/webhooks/voice/:channel_id/:event", h.serve)
	app.Get("/webhooks/voice/:channel_id/:event", h.serve)
	app.Get("/voice/prompts/:channel_id/:name", h.prompt)
}

// prompt serves an uploaded recording at the signed URL PromptURL gave
// the provider.
func (h *handler) prompt(c *fiber.Ctx) error {
	p, err := h.deps.Core.PromptAudio(c.UserContext(), c.Params("channel_id"), c.Params("name"), c.Query("v"), c.Query("exp"), c.Query("sig"))
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, p.Type)
	c.Set(fiber.HeaderCacheControl, "private, max-age=3600") // a new upload has a new URL (its version)
	return c.Send(p.Data)
}

type handler struct{ deps channels.Deps }

func (h *handler) serve(c *fiber.Ctx) error {
	svc := h.deps.Core
	ch, err := svc.Channel(c.UserContext(), c.Params("channel_id"))
	if err != nil {
		return err
	}
	a, ok := adapters[ch.Type]
	if !ok || !ch.Enabled {
		return core.Errorf(core.NotFound, "", "no enabled voice channel %s", ch.ID)
	}
	event := c.Params("event")
	if event != EventAnswer && event != EventKey && event != EventStatus {
		return core.Errorf(core.NotFound, "", "no voice webhook %q; use answer, key or status", event)
	}
	ev, err := a.Decode(c, ch, svc.BaseURL+c.OriginalURL(), event)
	if err == nil {
		err = h.apply(c, a, ch, ev)
	}
	outcome := "ok"
	if err != nil {
		outcome = string(core.CodeOf(err))
	}
	channels.CountWebhook(ch.Type, outcome)
	return err
}

func (h *handler) apply(c *fiber.Ctx, a Adapter, ch *core.Channel, ev Event) error {
	ctx, cs := c.UserContext(), h.deps.Core
	var turn *core.CallTurn
	var err error
	switch {
	case ev.Kind == EventStatus:
		if err := Ended(ctx, h.deps, ch, ev); err != nil {
			return err
		}
		return c.SendStatus(fiber.StatusNoContent)
	case ev.Kind == EventKey:
		turn, err = cs.CallKey(ctx, ev.CallID, ev.Step, ev.Digits)
		if core.CodeOf(err) == core.NotFound {
			turn, err = &core.CallTurn{}, nil // a call this gateway knows nothing of: hang up
		}
	case ev.Machine:
		turn = &core.CallTurn{} // an answering machine: hang up, counted at the call's end
	case ev.Invitation != "":
		turn, err = cs.StartCall(ctx, ch, ev.CallID, ev.Invitation, true)
	default:
		turn, err = h.callIn(c, ch, ev)
	}
	if err != nil {
		return err
	}
	return a.Respond(c, ch, turn, h.hooks(ch))
}

// callIn answers a citizen's call by their caller id.
func (h *handler) callIn(c *fiber.Ctx, ch *core.Channel, ev Event) (*core.CallTurn, error) {
	phone, err := survey.CanonicalPhone(ev.From)
	if err != nil { // a hidden or foreign number
		return h.deps.Core.CallIn(c.UserContext(), ch, ev.CallID, "")
	}
	return h.deps.Core.CallIn(c.UserContext(), ch, ev.CallID, phone)
}

// hooks are a call's URLs on ch.
func (h *handler) hooks(ch *core.Channel) Hooks {
	return Hooks{Key: h.deps.Core.BaseURL + "/webhooks/voice/" + url.PathEscape(ch.ID) + "/" + EventKey,
		Audio: func(name string) string { return h.deps.Core.PromptURL(ch, name) }}
}

// KeyURL is hooks.Key for step: the step goes in the query, so that the
// provider posts it back with the key.
func KeyURL(h Hooks, step int) string { return h.Key + "?step=" + strconv.Itoa(step) }

// CallURLs are the URLs an outbound call of invitation inv on ch gives
// the provider: where the call's first actions and its end are asked for.
func CallURLs(d channels.Deps, ch *core.Channel, inv string) (answer, status string) {
	base := d.Core.BaseURL + "/webhooks/voice/" + url.PathEscape(ch.ID) + "/"
	q := "?inv=" + url.QueryEscape(inv)
	return base + EventAnswer + q, base + EventStatus + q
}

// Query reads the invitation and step the gateway put in a webhook's URL.
func Query(c *fiber.Ctx, ev *Event) error {
	ev.Invitation = c.Query("inv")
	if ev.Kind != EventKey {
		return nil
	}
	n, err := strconv.Atoi(c.Query("step"))
	if err != nil || n < 0 {
		return core.Errorf(core.Invalid, "step", "%q is not a call step; the key URL the gateway gave carries it", c.Query("step"))
	}
	ev.Step = n
	return nil
}

// Settings every voice channel takes: how often a call that was busy,
// not answered or picked up by a machine is tried again, and how long
// after.
const (
	DefaultRetries    = 2
	DefaultRetryAfter = 2 * time.Hour
	maxRetries        = 5
)

// Optional are the settings every voice channel may set.
var Optional = []string{"voice", "retries", "retry_after"}

// CheckRetries validates settings.retries (0–5) and settings.retry_after
// (a Go duration from 10m to 24h).
func CheckRetries(s map[string]any) error {
	if v, ok := s["retries"]; ok {
		if n, ok := intOf(v); !ok || n < 0 || n > maxRetries {
			return core.Errorf(core.Invalid, "settings.retries", "%v: give a whole number from 0 to %d (calls after the first, on busy or no answer)", v, maxRetries)
		}
	}
	if v, ok := s["retry_after"]; ok {
		str, _ := v.(string)
		if d, err := time.ParseDuration(str); err != nil || d < 10*time.Minute || d > 24*time.Hour {
			return core.Errorf(core.Invalid, "settings.retry_after", "%v: give a duration from 10m to 24h, e.g. \"2h\"", v)
		}
	}
	return nil
}

func intOf(v any) (int, bool) {
	switch n := v.(type) {
	case float64:
		return int(n), n == float64(int(n))
	case int:
		return n, true
	case string:
		i, err := strconv.Atoi(n)
		return i, err == nil
	}
	return 0, false
}

// Retries is a channel's settings.retries, or DefaultRetries.
func Retries(ch *core.Channel) int {
	if n, ok := intOf(ch.Settings["retries"]); ok && n >= 0 {
		return n
	}
	return DefaultRetries
}

// RetryAfter is a channel's settings.retry_after, or DefaultRetryAfter.
func RetryAfter(ch *core.Channel) time.Duration {
	if d, err := time.ParseDuration(ch.Setting("retry_after")); err == nil && d > 0 {
		return d
	}
	return DefaultRetryAfter
}

// Voice is the provider's text-to-speech voice a channel names, or def.
func Voice(ch *core.Channel, def string) string {
	if v := ch.Setting("voice"); v != "" {
		return v
	}
	return def
}
