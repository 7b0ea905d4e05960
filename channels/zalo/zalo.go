// Package zalo is the Zalo Official Account channel: verified webhooks put
// on a Redis stream and answered at once, a worker that feeds the
// conversation engine and replies with answer buttons, rating template (ZNS)
// invitations, and the OA's token lifecycle.
package zalo

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/survey"
)

func init() {
	p := provider{}
	channels.RegisterProvider(p)
	channels.Register(p)
	channels.RegisterWorker(&worker{})
}

type provider struct{}

var (
	_ channels.Provider = provider{}
	_ channels.Channel  = provider{}
)

// Type is the webhook route family.
func (provider) Type() channels.Type { return "zalo" }

// Kind: app_id and oa_id identify the OA; rating_template_id is the ZNS
// rating template for invitations by phone. oa_secret_key verifies
// webhooks; app_secret, access_token and refresh_token call the APIs.
func (provider) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "zalo.oa", Settings: []string{"app_id", "oa_id"},
		Optional: []string{"rating_template_id", "api_base_url", "oauth_base_url", "zns_base_url", "max_age"},
		Secrets:  []string{"oa_secret_key", "app_secret", "access_token", "refresh_token"},
		Check: func(s map[string]any) error {
			if err := generic.CheckURL("api_base_url", "oauth_base_url", "zns_base_url")(s); err != nil {
				return err
			}
			return channels.CheckMaxAge(s)
		}}
}

// Mount adds POST /webhooks/zalo/{channel_id}.
func (provider) Mount(app *fiber.App, d channels.Deps) {
	h := &webhook{core: d.Core}
	app.Post("/webhooks/zalo/:channel_id", h.serve)
}

type webhook struct{ core *core.Service }

// Signature is "mac=" + hex SHA-256 of app_id + raw body + timestamp + OA
// secret key (a plain hash, not an HMAC).
func Signature(appID string, body []byte, timestamp, oaSecret string) string {
	h := sha256.New()
	h.Write([]byte(appID))
	h.Write(body)
	h.Write([]byte(timestamp))
	h.Write([]byte(oaSecret))
	return "mac=" + hex.EncodeToString(h.Sum(nil))
}

// head is what must be read before the signature can be checked.
type head struct {
	AppID     flexString `json:"app_id"`
	Timestamp flexString `json:"timestamp"`
}

// serve checks the signature against the exact raw bytes, rejects other
// apps' events, puts the event on the inbox stream and answers 200: Zalo
// wants an answer within 2 seconds.
func (h *webhook) serve(c *fiber.Ctx) error {
	ch, err := h.core.Channel(c.UserContext(), c.Params("channel_id"))
	if err != nil {
		return err
	}
	if ch.Type != "zalo.oa" || !ch.Enabled {
		return core.Errorf(core.NotFound, "", "no enabled Zalo channel %s", ch.ID)
	}
	body := c.Body()
	var hd head
	_ = json.Unmarshal(body, &hd) // a body we cannot read fails the signature below
	want := Signature(ch.Setting("app_id"), body, string(hd.Timestamp), ch.Secrets["oa_secret_key"])
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(c.Get("X-ZEvent-Signature"))), []byte(want)) != 1 {
		channels.CountWebhook(ch.Type, "unauthenticated")
		return core.Errorf(core.Unauthenticated, "X-ZEvent-Signature", "missing or wrong signature: mac= + SHA-256 of app_id, body, timestamp and the OA secret key")
	}
	if string(hd.AppID) != ch.Setting("app_id") {
		channels.CountWebhook(ch.Type, "other_app")
		return core.Errorf(core.Unauthenticated, "app_id", "the event is for another app")
	}
	if err := fresh(ch, string(hd.Timestamp), time.Now()); err != nil {
		channels.CountWebhook(ch.Type, "stale")
		return err
	}
	if err := h.core.Inbox.Add(c.UserContext(), map[string]string{"channel": ch.ID, "body": string(body)}); err != nil {
		return core.Errorf(core.Unavailable, "", "cannot queue the event now; Zalo will retry: %v", err)
	}
	channels.CountWebhook(ch.Type, "queued")
	return c.JSON(fiber.Map{"ok": true})
}

// fresh refuses an event whose timestamp (Unix ms, under the signature)
// is older than the channel's max_age or ahead of the clock: the MAC has
// no expiry of its own, so a captured event would be good for ever.
func fresh(ch *core.Channel, timestamp string, now time.Time) error {
	ms, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return core.Errorf(core.Invalid, "timestamp", "%q is not a time in Unix milliseconds", timestamp)
	}
	return channels.CheckFresh(time.UnixMilli(ms), now, channels.MaxAge(ch, channels.DefaultMaxAge), "timestamp")
}

// flexString reads a JSON string or number as its exact text: Zalo's ids
// are strings, some beyond 2^53, and must never pass through a float.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	*f = flexString(strings.TrimSpace(string(b)))
	if *f == "null" {
		*f = ""
	}
	return nil
}

// render writes Zalo texts with diacritics (no SMS limits here).
func render(t survey.Text, locale string) string {
	if locale == "en" {
		return t.EN
	}
	return t.VI
}

// levels are the five answer buttons, best first.
func levels(locale string) []button {
	var out []button
	for i := len(survey.Scale) - 1; i >= 0; i-- {
		l := survey.Scale[i]
		if l.Score == survey.NoOpinion {
			continue
		}
		out = append(out, button{Title: string(rune('0'+l.Score)) + " - " + render(l.Label, locale), Type: "oa.query.hide", Payload: string(rune('0' + l.Score))})
	}
	return out
}

// sendText sends a customer-service message, with the answer buttons when
// asking for a score.
func (w *worker) sendText(ctx context.Context, ch *core.Channel, user, text string, buttons []button) error {
	var m csMessage
	m.Recipient.UserID = user
	m.Message.Text = text
	if len(buttons) > 0 {
		m.Message.Attachment = &attachment{Type: "template", Payload: map[string]any{"template_type": "button", "buttons": buttons}}
	}
	return w.tokens.withToken(ctx, ch, func(token string) error {
		_, err := call(ctx, base(ch, "api_base_url", defaultAPI)+"/v3.0/oa/message/cs", token, m)
		return err
	})
}

// askPhone sends a request-info message so the follower can share the
// phone number that links them to their dossier.
func (w *worker) askPhone(ctx context.Context, ch *core.Channel, user, locale string) error {
	var m csMessage
	m.Recipient.UserID = user
	m.Message.Attachment = &attachment{Type: "template", Payload: map[string]any{
		"template_type": "request_user_info",
		"elements": []map[string]string{{
			"title":    render(survey.Text{VI: "Chia sẻ số điện thoại", EN: "Share your phone number"}, locale),
			"subtitle": render(survey.Text{VI: "Số đã dùng khi nộp hồ sơ, để mở phiếu khảo sát của ông/bà.", EN: "The number you gave with your dossier, to open your survey."}, locale),
		}},
	}}
	return w.tokens.withToken(ctx, ch, func(token string) error {
		_, err := call(ctx, base(ch, "api_base_url", defaultAPI)+"/v3.0/oa/message/cs", token, m)
		return err
	})
}
