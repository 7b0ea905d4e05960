// Package twilio is the Twilio voice provider (voice.twilio): calls
// placed through the Calls REST API with answering-machine detection,
// TwiML answers (<Gather> one key around <Say> or <Play>, a <Redirect>
// after it for silence), and webhooks signed with X-Twilio-Signature, as
// Twilio's SMS webhooks are.
package twilio

import (
	"context"
	"crypto/hmac"
	"encoding/xml"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms/generic"
	smstwilio "github.com/sipasvn/gateway/channels/sms/twilio"
	"github.com/sipasvn/gateway/channels/voice"
	"github.com/sipasvn/gateway/core"
)

func init() { voice.Register(adapter{}) }

type adapter struct{}

var _ voice.Adapter = adapter{}

const (
	defaultBase  = "https://api.twilio.com"
	defaultVoice = "Google.vi-VN-Standard-A"
	// gatherTimeout is how many seconds a question waits for a key.
	gatherTimeout = 8
)

// Kind: account_sid and from (the calling number) are settings;
// auth_token is the secret; api_url points at Twilio's API (tests,
// staging); voice names Twilio's text-to-speech voice.
func (adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "voice.twilio", Settings: []string{"account_sid", "from"},
		Optional: append([]string{"api_url"}, voice.Optional...), Secrets: []string{"auth_token"},
		Check: func(s map[string]any) error {
			if err := generic.CheckURL("api_url")(s); err != nil {
				return err
			}
			return voice.CheckRetries(s)
		}}
}

// Decode checks X-Twilio-Signature over the exact public URL and the
// POST parameters, in constant time, before reading any field's meaning.
//
//	CallSid=CA…&AccountSid=AC…&From=%2B84912345678&To=%2B84899999999&Direction=outbound-api
//	&CallStatus=in-progress&AnsweredBy=human&Digits=5&CallDuration=74
func (adapter) Decode(c *fiber.Ctx, ch *core.Channel, publicURL, event string) (voice.Event, error) {
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		form = url.Values{}
	}
	want := smstwilio.Signature(ch.Secrets["auth_token"], publicURL, form)
	if !hmac.Equal([]byte(c.Get("X-Twilio-Signature")), []byte(want)) {
		return voice.Event{}, core.Errorf(core.Unauthenticated, "X-Twilio-Signature", "missing or wrong signature for %s", publicURL)
	}
	if form.Get("AccountSid") != ch.Setting("account_sid") {
		return voice.Event{}, core.Errorf(core.Unauthenticated, "AccountSid", "the call is for another account")
	}
	return Parse(c, form, event)
}

// Parse reads a verified Twilio voice webhook.
func Parse(c *fiber.Ctx, form url.Values, event string) (voice.Event, error) {
	ev := voice.Event{Kind: event, CallID: form.Get("CallSid"), From: form.Get("From"), Digits: form.Get("Digits")}
	if ev.CallID == "" {
		return ev, core.Errorf(core.Invalid, "CallSid", "CallSid is required")
	}
	if err := voice.Query(c, &ev); err != nil {
		return ev, err
	}
	machine := strings.HasPrefix(form.Get("AnsweredBy"), "machine") || form.Get("AnsweredBy") == "fax"
	switch event {
	case voice.EventAnswer:
		ev.Machine = machine
	case voice.EventStatus:
		ev.Outcome = outcome(form.Get("CallStatus"), machine)
		ev.Seconds, _ = strconv.Atoi(form.Get("CallDuration"))
	}
	return ev, nil
}

// outcome is a final CallStatus as the report counts it ("" for a call
// still going on).
func outcome(status string, machine bool) string {
	switch status {
	case "completed":
		if machine {
			return voice.Machine
		}
		return voice.Answered
	case "busy":
		return voice.Busy
	case "no-answer", "canceled":
		return voice.NoAnswer
	case "failed":
		return voice.Failed
	}
	return ""
}

// TwiML verbs.
type (
	response struct {
		XMLName xml.Name `xml:"Response"`
		Verbs   []any
	}
	say struct {
		XMLName  xml.Name `xml:"Say"`
		Language string   `xml:"language,attr"`
		Voice    string   `xml:"voice,attr,omitempty"`
		Text     string   `xml:",chardata"`
	}
	play struct {
		XMLName xml.Name `xml:"Play"`
		URL     string   `xml:",chardata"`
	}
	gather struct {
		XMLName   xml.Name `xml:"Gather"`
		Input     string   `xml:"input,attr"`
		NumDigits int      `xml:"numDigits,attr"`
		Action    string   `xml:"action,attr"`
		Method    string   `xml:"method,attr"`
		Timeout   int      `xml:"timeout,attr"`
		Verbs     []any
	}
	redirect struct {
		XMLName xml.Name `xml:"Redirect"`
		Method  string   `xml:"method,attr"`
		URL     string   `xml:",chardata"`
	}
	hangup struct {
		XMLName xml.Name `xml:"Hangup"`
	}
)

// Respond answers with TwiML: the prompts inside a <Gather> of one key
// posted to the step's URL, and a <Redirect> to the same URL without a
// key for silence; or the prompts and <Hangup/>.
func (adapter) Respond(c *fiber.Ctx, ch *core.Channel, t *core.CallTurn, h voice.Hooks) error {
	var verbs []any
	for _, p := range t.Say {
		verbs = append(verbs, verb(ch, t.Locale, p, h))
	}
	r := response{}
	if t.Gather {
		next := voice.KeyURL(h, t.Step)
		r.Verbs = []any{gather{Input: "dtmf", NumDigits: 1, Action: next, Method: "POST", Timeout: gatherTimeout, Verbs: verbs},
			redirect{Method: "POST", URL: next}}
	} else {
		r.Verbs = append(verbs, hangup{})
	}
	b, err := xml.Marshal(r)
	if err != nil {
		return err
	}
	c.Type("xml", "utf-8")
	return c.Send(append([]byte(xml.Header), b...))
}

func verb(ch *core.Channel, locale string, p core.Prompt, h voice.Hooks) any {
	if h.Audio != nil {
		if u := h.Audio(p.Name); u != "" {
			return play{URL: u}
		}
	}
	if locale == "en" {
		return say{Language: "en-US", Text: p.Text}
	}
	return say{Language: "vi-VN", Voice: voice.Voice(ch, defaultVoice), Text: p.Text}
}

// Send places a call: POST /2010-04-01/Accounts/{sid}/Calls.json with
// Basic auth, the answer and status URLs and machine detection on.
func (adapter) Send(ctx context.Context, d channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	base := ch.Setting("api_url")
	if base == "" {
		base = defaultBase
	}
	sid := ch.Setting("account_sid")
	answer, status := voice.CallURLs(d, ch, msg.Invitation)
	form := url.Values{"To": {"+" + msg.To}, "From": {ch.Setting("from")}, "Url": {answer}, "Method": {"POST"},
		"StatusCallback": {status}, "StatusCallbackMethod": {"POST"}, "MachineDetection": {"Enable"}}
	return smstwilio.Create(ctx, "voice.twilio", base, sid, ch.Secrets["auth_token"], "Calls.json", form, true)
}
