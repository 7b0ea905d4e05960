// Package generic is the gateway's own SMS format, for aggregators without a
// native adapter: JSON in, signed with HMAC-SHA256 of the raw body; replies
// synchronously; sends by POSTing signed JSON to the channel's send_url.
package generic

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/jsonx"
)

func init() { sms.Register(Adapter{TypeName: "sms.generic"}) }

// Adapter handles the generic format. TypeName lets another provider whose
// inbound side uses this format (sms.speedsms) reuse it.
type Adapter struct{ TypeName string }

var _ sms.Adapter = Adapter{}

// Kind: secret "secret" signs both directions; send_url receives sends;
// max_age, when set, refuses messages whose received_at is older.
func (a Adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: a.TypeName, Settings: []string{"send_url"}, Optional: []string{"unicode", "max_age"},
		Secrets: []string{"secret"}, Check: func(s map[string]any) error {
			if err := CheckURL("send_url")(s); err != nil {
				return err
			}
			return channels.CheckMaxAge(s)
		}}
}

// CheckURL returns a settings check that the named setting is an http(s) URL.
func CheckURL(names ...string) func(map[string]any) error {
	return func(s map[string]any) error {
		for _, n := range names {
			v, _ := s[n].(string)
			if v == "" {
				continue
			}
			if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return core.Errorf(core.Invalid, "settings."+n, "%q is not an http(s) URL", v)
			}
		}
		return nil
	}
}

// inbound is the generic MO format:
//
//	{"id": "provider-msg-id", "from": "0912345678", "to": "8079",
//	 "text": "5 4 5 4 5", "received_at": "2026-11-25T08:00:00Z"}
type inbound struct {
	ID         string `json:"id"`
	From       string `json:"from"`
	To         string `json:"to"`
	Text       string `json:"text"`
	ReceivedAt string `json:"received_at"`
}

// Sign is the hex HMAC-SHA256 of body keyed by secret.
func Sign(secret string, body []byte) string { return core.Sign(secret, body) }

// Verify checks X-Signature against the raw body in constant time.
func Verify(c *fiber.Ctx, secret string) error {
	got, err := hex.DecodeString(strings.TrimSpace(c.Get("X-Signature")))
	want := core.MAC(secret, c.Body())
	if err != nil || !hmac.Equal(got, want[:]) {
		return core.Errorf(core.Unauthenticated, "X-Signature", "missing or wrong signature: send the hex HMAC-SHA256 of the raw body keyed by the channel secret")
	}
	return nil
}

// Decode verifies the signature first, then reads the JSON. A channel
// with settings.max_age also needs a fresh received_at (RFC 3339), which
// the signature covers like the rest of the body.
func (a Adapter) Decode(c *fiber.Ctx, ch *core.Channel, _ string) ([]sms.Message, error) {
	if err := Verify(c, ch.Secrets["secret"]); err != nil {
		return nil, err
	}
	in, err := parse(c.Body())
	if err != nil {
		return nil, err
	}
	if maxAge := channels.MaxAge(ch, 0); maxAge > 0 {
		at, err := time.Parse(time.RFC3339, in.ReceivedAt)
		if err != nil {
			return nil, core.Errorf(core.Invalid, "received_at", "%q: this channel has settings.max_age, so received_at is required, in RFC 3339 (2026-11-25T08:00:00+07:00)", in.ReceivedAt)
		}
		if err := channels.CheckFresh(at, time.Now(), maxAge, "received_at"); err != nil {
			return nil, err
		}
	}
	return []sms.Message{in.message()}, nil
}

// Parse reads a verified generic body.
func Parse(body []byte) (sms.Message, error) {
	in, err := parse(body)
	return in.message(), err
}

func parse(body []byte) (inbound, error) {
	var in inbound
	if !in.decode(string(body)) {
		in = inbound{}
		// A Decoder reads the first value and ignores what follows it, as
		// this format always has.
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&in); err != nil {
			return in, core.Errorf(core.Invalid, "", "body is not the generic JSON format: %v", err)
		}
	}
	switch {
	case in.ID == "":
		return in, core.Errorf(core.Invalid, "id", "required: the provider's message id")
	case in.From == "":
		return in, core.Errorf(core.Invalid, "from", "required: the sender's number")
	}
	return in, nil
}

// decode reads body when it is compact JSON of the format's keys, strings
// only, as encoding/json would (jsonx); any other body (spaces, another
// key or its spelling, a null) is left to encoding/json: false.
func (in *inbound) decode(body string) bool {
	return jsonx.Object(body, func(key, s string) (string, bool) {
		var p *string
		switch key {
		case "id":
			p = &in.ID
		case "from":
			p = &in.From
		case "to":
			p = &in.To
		case "text":
			p = &in.Text
		case "received_at":
			p = &in.ReceivedAt
		default:
			return "", false
		}
		v, rest, ok := jsonx.String(s)
		*p = v
		return rest, ok
	})
}

func (in inbound) message() sms.Message {
	return sms.Message{ID: in.ID, From: in.From, To: in.To, Text: in.Text}
}

// Respond answers 200 {"replies": [{"to", "text"}]}, written as
// json.Marshal writes it, without its reflection (a webhook's every
// answer).
func (a Adapter) Respond(c *fiber.Ctx, _ *core.Channel, _ []sms.Message, replies []sms.Reply) error {
	n := 16
	for _, r := range replies {
		n += 24 + len(r.To) + len(r.Text) + len(r.Text)/8
	}
	b := append(make([]byte, 0, n), `{"replies":[`...)
	for i, r := range replies {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"to":`...)
		b = jsonx.AppendString(b, r.To)
		b = append(b, `,"text":`...)
		b = jsonx.AppendString(b, r.Text)
		b = append(b, '}')
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(append(b, "]}"...))
}

// outbound is what the generic format POSTs to send_url.
type outbound struct {
	ID   string `json:"id"`
	To   string `json:"to"`
	Text string `json:"text"`
}

// Send POSTs {"id","to","text"} to send_url with X-Signature.
func (a Adapter) Send(ctx context.Context, _ channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	to, text := msg.To, msg.Text
	id := fmt.Sprintf("gw-%x", sha256.Sum256([]byte(to+"\x00"+text+"\x00"+ch.ID)))[:27]
	body, _ := json.Marshal(outbound{ID: id, To: to, Text: text})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ch.Setting("send_url"), bytes.NewReader(body))
	if err != nil {
		return "", &channels.SendError{Provider: a.TypeName, Message: err.Error()}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", Sign(ch.Secrets["secret"], body))
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return "", channels.HTTPFailure(a.TypeName, nil, err, "", "")
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	if res.StatusCode/100 != 2 {
		return "", channels.HTTPFailure(a.TypeName, res, nil, "", strings.TrimSpace(string(b)))
	}
	var ack struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(b, &ack) == nil && ack.ID != "" {
		return ack.ID, nil
	}
	return id, nil
}
