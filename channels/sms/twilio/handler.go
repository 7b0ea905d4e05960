// Package twilio is the Twilio-style SMS provider: form-encoded webhooks
// signed with X-Twilio-Signature, TwiML replies, and sending through the
// Messages REST API (base URL configurable for tests and staging).
package twilio

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms"
	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/core"
)

func init() { sms.Register(adapter{}) }

type adapter struct{}

var _ sms.Adapter = adapter{}

const defaultBase = "https://api.twilio.com"

// Kind: account_sid and from (a number or a Messaging Service SID) are
// settings; auth_token is the secret. webhook_url overrides the public URL
// the signature is computed over when a proxy rewrites it.
func (adapter) Kind() core.ChannelKind {
	return core.ChannelKind{Type: "sms.twilio", Settings: []string{"account_sid", "from"},
		Optional: []string{"api_base_url", "webhook_url", "unicode"}, Secrets: []string{"auth_token"},
		Check: generic.CheckURL("api_base_url", "webhook_url")}
}

// Signature is Base64(HMAC-SHA1(auth token, URL + each POST parameter name
// and value, sorted by name)).
func Signature(token, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Decode checks X-Twilio-Signature over the exact public URL and the raw
// form, in constant time, before reading any field's meaning.
//
//	MessageSid=SM…&AccountSid=AC…&From=%2B84912345678&To=%2B84899999999&Body=5+4+5+4+5
func (adapter) Decode(c *fiber.Ctx, ch *core.Channel, publicURL string) ([]sms.Message, error) {
	if u := ch.Setting("webhook_url"); u != "" {
		publicURL = u
	}
	form, err := url.ParseQuery(string(c.Body()))
	if err != nil {
		form = url.Values{}
	}
	want := Signature(ch.Secrets["auth_token"], publicURL, form)
	if !hmac.Equal([]byte(c.Get("X-Twilio-Signature")), []byte(want)) {
		return nil, core.Errorf(core.Unauthenticated, "X-Twilio-Signature", "missing or wrong signature for %s", publicURL)
	}
	if form.Get("AccountSid") != ch.Setting("account_sid") {
		return nil, core.Errorf(core.Unauthenticated, "AccountSid", "the message is for another account")
	}
	return sms.One(Parse(form))
}

// Parse reads a verified Twilio form.
func Parse(form url.Values) (sms.Message, error) {
	return sms.FromValues(form, sms.Fields{ID: "MessageSid", From: "From", To: "To", Text: "Body"})
}

// twiml is the synchronous reply: <Response><Message>…</Message></Response>.
type twiml struct {
	XMLName  xml.Name `xml:"Response"`
	Messages []string `xml:"Message"`
}

// Respond answers with TwiML; no replies is an empty <Response/>.
func (adapter) Respond(c *fiber.Ctx, _ *core.Channel, _ []sms.Message, replies []sms.Reply) error {
	var t twiml
	for _, r := range replies {
		t.Messages = append(t.Messages, r.Text)
	}
	b, err := xml.Marshal(t)
	if err != nil {
		return err
	}
	c.Type("xml", "utf-8")
	return c.Send(append([]byte(xml.Header), b...))
}

// Send POSTs to /2010-04-01/Accounts/{sid}/Messages.json with Basic auth.
func (adapter) Send(ctx context.Context, _ channels.Deps, ch *core.Channel, msg channels.Outgoing) (string, error) {
	to, text := msg.To, msg.Text
	base := ch.Setting("api_base_url")
	if base == "" {
		base = defaultBase
	}
	sid := ch.Setting("account_sid")
	form := url.Values{"To": {"+" + to}, "Body": {text}}
	if from := ch.Setting("from"); strings.HasPrefix(from, "MG") {
		form.Set("MessagingServiceSid", from)
	} else {
		form.Set("From", from)
	}
	return Create(ctx, "sms.twilio", base, sid, ch.Secrets["auth_token"], "Messages.json", form, false)
}

// Create POSTs form to Twilio's /2010-04-01/Accounts/{sid}/{resource}
// with Basic auth and returns the created resource's sid, failures typed
// as provider's SendError. needSid makes a 2xx without a sid a failure.
func Create(ctx context.Context, provider, base, sid, token, resource string, form url.Values, needSid bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+"/2010-04-01/Accounts/"+url.PathEscape(sid)+"/"+resource, strings.NewReader(form.Encode()))
	if err != nil {
		return "", &channels.SendError{Provider: provider, Message: err.Error()}
	}
	req.SetBasicAuth(sid, token)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := channels.HTTP.Do(req)
	if err != nil {
		return "", channels.HTTPFailure(provider, nil, err, "", "")
	}
	defer res.Body.Close()
	var out struct {
		Sid     string      `json:"sid"`
		Code    json.Number `json:"code"`
		Message string      `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<16))
	_ = json.Unmarshal(b, &out)
	if res.StatusCode/100 != 2 || needSid && out.Sid == "" {
		return "", channels.HTTPFailure(provider, res, nil, out.Code.String(), out.Message)
	}
	return out.Sid, nil
}
