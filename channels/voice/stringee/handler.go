// Package stringee is the Stringee voice provider (voice.stringee), the
// Vietnamese CPaaS: calls placed through the call2/callout REST API with
// an HS256 JWT in X-STRINGEE-AUTH, SCCO answers (talk or play actions,
// then an input action of one key whose eventUrl is the step's URL), and
// webhooks signed with X-STRINGEE-SIGNATURE, an HMAC-SHA1 of the raw body
// (of the request URI for the answer_url's GET). Stringee has no
// answering-machine detection: a machine that picks up hears the survey
// and presses nothing.
package stringee

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/voice"
	"github.com/sipasvn/gateway/core"
)

func init() { voice.Register(adapter{}) }

type adapter struct{}

var _ voice.Adapter = adapter{}

const (
	defaultBase = "https://api.stringee.com"
	// defaultVoice is a Stringee Vietnamese voice as its examples name one.
	defaultVoice = "hn_female_ngochuyen_full_48k-fhg"
	// inputTimeout is how many seconds a question waits for a key.
	inputTimeout = 8
)

// Kind: number (the calling number) and api_url are settings; the API
// key's sid and secret sign REST calls, signing_secret the webhooks.
func (adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "voice.stringee", Settings: []string{"number"},
		Optional: append([]string{"api_url"}, voice.Optional...), Secrets: []string{"api_key_sid", "api_key_secret", "signing_secret"},
		Check: func(s map[string]any) error {
			if err := generic.CheckURL("api_url")(s); err != nil {
				return err
			}
			return voice.CheckRetries(s)
		}}
}

// Signature is X-STRINGEE-SIGNATURE of a payload (the raw body, or the
// request URI of a GET): the hex HMAC-SHA1 keyed by the signing secret.
func Signature(secret string, payload []byte) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// signed checks a signature given in hex or in Base64 (Stringee's
// documentation does not say which), in constant time.
func signed(secret string, payload []byte, got string) bool {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write(payload)
	sum := m.Sum(nil)
	return got != "" && (hmac.Equal([]byte(strings.ToLower(got)), []byte(hex.EncodeToString(sum))) ||
		hmac.Equal([]byte(got), []byte(base64.StdEncoding.EncodeToString(sum))))
}

// event is a Stringee webhook's JSON body (a key, or a call's state):
//
//	{"call_id": "call-vn-1-…", "dtmf": "5"}
//	{"type": "call", "call_id": "call-vn-1-…", "call_status": "ended", "duration": 74}
type event struct {
	CallID     string          `json:"call_id"`
	DTMF       string          `json:"dtmf"`
	Digits     string          `json:"digits"`
	CallStatus string          `json:"call_status"`
	Duration   json.RawMessage `json:"duration"`
	Answered   json.RawMessage `json:"answer_duration"`
}

// Decode checks X-STRINGEE-SIGNATURE before reading anything: over the
// request URI for a GET (answer_url), the raw body otherwise.
func (adapter) Decode(c *fiber.Ctx, ch *core.Channel, _, kind string) (voice.Event, error) {
	payload := c.Body()
	if c.Method() == fiber.MethodGet {
		payload = []byte(c.OriginalURL())
	}
	if !signed(ch.Secrets["signing_secret"], payload, c.Get("X-STRINGEE-SIGNATURE")) {
		return voice.Event{}, core.Errorf(core.Unauthenticated, "X-STRINGEE-SIGNATURE", "missing or wrong signature")
	}
	ev := voice.Event{Kind: kind}
	if err := voice.Query(c, &ev); err != nil {
		return ev, err
	}
	if kind == voice.EventAnswer && c.Method() == fiber.MethodGet {
		// answer_url: ?from=84912345678&to=842471008859&callId=call-vn-1-…
		ev.CallID, ev.From = firstOf(c.Query("callId"), c.Query("call_id"), c.Query("uuid")), c.Query("from")
	} else {
		var e event
		if err := json.Unmarshal(payload, &e); err != nil {
			return ev, core.Errorf(core.Invalid, "body", "not a Stringee event: %v", err)
		}
		ev.CallID, ev.Digits = e.CallID, firstOf(e.DTMF, e.Digits)
		if kind == voice.EventStatus {
			secs := max(seconds(e.Duration), seconds(e.Answered))
			ev.Outcome, ev.Seconds = outcome(e.CallStatus, secs), secs
		}
	}
	if ev.CallID == "" {
		return ev, core.Errorf(core.Invalid, "call_id", "the call's id is required")
	}
	return ev, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

// seconds reads a duration given as a number or a string.
func seconds(raw json.RawMessage) int {
	n, _ := strconv.Atoi(strings.Trim(string(raw), `"`))
	return n
}

// outcome is a call state as the report counts it ("" while the call goes
// on). An ended call that lasted is answered; one that never did was not.
func outcome(status string, secs int) string {
	switch strings.ToLower(status) {
	case "ended", "completed":
		if secs > 0 {
			return voice.Answered
		}
		return voice.NoAnswer
	case "busy":
		return voice.Busy
	case "noanswer", "no_answer", "timeout", "rejected":
		return voice.NoAnswer
	case "failed", "error":
		return voice.Failed
	}
	return ""
}

// Respond answers with SCCO: talk (or play) actions, then an input of one
// key posted to the step's URL; no input ends the call after the words.
func (adapter) Respond(c *fiber.Ctx, ch *core.Channel, t *core.CallTurn, h voice.Hooks) error {
	actions := []map[string]any{}
	for _, p := range t.Say {
		if h.Audio != nil {
			if u := h.Audio(p.Name); u != "" {
				actions = append(actions, map[string]any{"action": "play", "fileName": u})
				continue
			}
		}
		actions = append(actions, map[string]any{"action": "talk", "text": p.Text, "voice": voice.Voice(ch, defaultVoice)})
	}
	if t.Gather {
		actions = append(actions, map[string]any{"action": "input", "eventUrl": voice.KeyURL(h, t.Step),
			"submitOnHash": false, "timeout": inputTimeout, "maxDigits": 1})
	}
	return c.JSON(actions)
}

// JWT is the X-STRINGEE-AUTH token of a REST call: HS256 over the header
// {"cty":"stringee-api;v=1","typ":"JWT","alg":"HS256"} and the claims
// jti, iss (the API key's sid), exp and rest_api: true.
func JWT(sid, secret string, now time.Time) string {
	enc := base64.RawURLEncoding
	head := enc.EncodeToString([]byte(`{"cty":"stringee-api;v=1","typ":"JWT","alg":"HS256"}`))
	claims, _ := json.Marshal(struct {
		JTI     string `json:"jti"`
		ISS     string `json:"iss"`
		EXP     int64  `json:"exp"`
		RestAPI bool   `json:"rest_api"`
	}{sid + "-" + strconv.FormatInt(now.Unix(), 10), sid, now.Add(time.Hour).Unix(), true})
	body := head + "." + enc.EncodeToString(claims)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return body + "." + enc.EncodeToString(m.Sum(nil))
}

// Send places a call: POST /v1/call2/callout with the numbers, the
// answer_url (its first actions) and the event_url (its states).
func (adapter) Send(ctx context.Context, d channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	base := ch.Setting("api_url")
	if base == "" {
		base = defaultBase
	}
	answer, status := voice.CallURLs(d, ch, msg.Invitation)
	from := map[string]string{"type": "external", "number": ch.Setting("number"), "alias": ch.Setting("number")}
	body, _ := json.Marshal(map[string]any{"from": from, "to": []map[string]string{{"type": "external", "number": msg.To, "alias": msg.To}},
		"answer_url": answer, "event_url": status})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/v1/call2/callout", strings.NewReader(string(body)))
	if err != nil {
		return "", &channels.SendError{Provider: "voice.stringee", Message: err.Error()}
	}
	req.Header.Set("X-STRINGEE-AUTH", JWT(ch.Secrets["api_key_sid"], ch.Secrets["api_key_secret"], d.Core.Now()))
	req.Header.Set("Content-Type", "application/json")
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return "", channels.HTTPFailure("voice.stringee", nil, err, "", "")
	}
	defer res.Body.Close()
	var out struct {
		R       *int   `json:"r"`
		CallID  string `json:"call_id"`
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	_ = json.Unmarshal(b, &out)
	if res.StatusCode/100 != 2 {
		return "", channels.HTTPFailure("voice.stringee", res, nil, "", out.Message)
	}
	if out.R == nil || *out.R != 0 || out.CallID == "" {
		code := ""
		if out.R != nil {
			code = strconv.Itoa(*out.R)
		}
		return "", &channels.SendError{Provider: "voice.stringee", Status: res.StatusCode, Code: code, Message: firstOf(out.Message, "no call id in the answer")}
	}
	return out.CallID, nil
}
