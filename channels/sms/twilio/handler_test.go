package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/channels/sms/twilio"
	"github.com/sipasvn/gateway/internal/gwtest"
)

const (
	token = "twilio-auth-token"
	sid   = "AC00000000000000000000000000000001"
	hook  = "https://ks.example.vn/webhooks/sms/tw"
)

// Twilio's documented example: token 12345 over this URL and these
// parameters signs to 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
func TestSignatureMatchesTwiliosExample(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	if got := twilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("signature %s", got)
	}
}

func setup(t *testing.T, reply string) (*gwtest.Gateway, *smstest.Fake) {
	g := gwtest.New(t, "https://ks.example.vn")
	fake := smstest.NewFake(t, reply)
	smstest.Configure(t, g, "tw", map[string]any{"type": "sms.twilio",
		"settings": map[string]any{"account_sid": sid, "from": "+84899999999", "api_base_url": fake.URL, "default": true},
		"secrets":  map[string]any{"auth_token": token}})
	return g, fake
}

func read(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func mo(t *testing.T, file, signURL, key string) func() *http.Request {
	return func() *http.Request {
		body := read(t, file)
		form, _ := url.ParseQuery(body)
		req := httptest.NewRequest("POST", "/webhooks/sms/tw", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if key != "" {
			req.Header.Set("X-Twilio-Signature", twilio.Signature(key, signURL, form))
		}
		return req
	}
}

func TestWebhookCases(t *testing.T) {
	g, _ := setup(t, "{}")
	g.Invite("D-TW", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	smstest.Run(t, g, []smstest.Case{
		{Name: "no signature", Req: mo(t, "mo_scores.form", hook, ""), Status: 401, Body: "unauthenticated"},
		{Name: "wrong token", Req: mo(t, "mo_scores.form", hook, "other"), Status: 401, Body: "unauthenticated"},
		{Name: "signed over another URL", Req: mo(t, "mo_scores.form", "http://ks.example.vn/webhooks/sms/tw", token), Status: 401, Body: "unauthenticated"},
		{Name: "another account", Req: mo(t, "mo_other_account.form", hook, token), Status: 401, Body: "AccountSid"},
		{Name: "no MessageSid", Req: mo(t, "mo_no_sid.form", hook, token), Status: 400, Body: "MessageSid"},
	})
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses from refused webhooks", n)
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "scores", Req: mo(t, "mo_scores.form", hook, token), Status: 200,
			Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Message>Cam on ong/ba da danh gia!`},
		{Name: "retried by Twilio: the same thanks", Req: mo(t, "mo_scores.form", hook, token), Status: 200,
			Body: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Message>Cam on ong/ba da danh gia!`},
	})
	if n := smstest.Responses(t, g); n != 1 {
		t.Fatalf("%d responses", n)
	}
}

func TestSendThroughTheRESTAPI(t *testing.T) {
	g, fake := setup(t, read(t, "send_ok.json"))
	inv := g.Invite("D-TW-SEND", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/2010-04-01/Accounts/"+sid+"/Messages.json" {
		t.Fatalf("requests %+v", reqs)
	}
	form, _ := url.ParseQuery(reqs[0].Body)
	user, pass, _ := (&http.Request{Header: reqs[0].Header}).BasicAuth()
	if form.Get("To") != "+84912345678" || form.Get("From") != "+84899999999" || !strings.Contains(form.Get("Body"), "Nhan 5 so") || user != sid || pass != token {
		t.Fatalf("send form %v auth %s", form, user)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["tw"].(map[string]any); s["status"] != "sent" {
		t.Fatalf("send status %v", s)
	}
	fake.SetReply(400, read(t, "send_error.json"))
	inv = g.Invite("D-TW-BAD", "000.00.12.H49", map[string]any{"phone": "0987654321", "send": []string{"tw"}})
	_ = g.Sender.Drain(t.Context())
	_, got = g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["tw"].(map[string]any); s["status"] != "failed" || !strings.Contains(s["error"].(string), "code 21211") {
		t.Fatalf("typed error: %v", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"Body=5&From=%2B84912345678", "%zz", "a=b&a=c", ""} {
		f.Add(s)
	}
	for _, name := range []string{"mo_scores.form", "mo_other_account.form", "mo_no_sid.form"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(string(b))
	}
	f.Fuzz(func(t *testing.T, body string) {
		form, _ := url.ParseQuery(body)
		_ = twilio.Signature(token, hook, form)
		m, err := twilio.Parse(form)
		if err == nil && (m.ID == "" || m.From == "") {
			t.Fatalf("accepted %q without id or sender", body)
		}
	})
}
