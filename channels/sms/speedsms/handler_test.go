package speedsms_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

func read(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

func setup(t *testing.T, reply string) (*gwtest.Gateway, *smstest.Fake) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, reply)
	smstest.Configure(t, g, "sp", map[string]any{"type": "sms.speedsms",
		"settings": map[string]any{"sms_type": "8", "sender": "0899999999", "api_base_url": fake.URL, "default": true},
		"secrets":  map[string]any{"access_token": "SPEED-TOKEN", "secret": "relay-secret-0123456"}})
	return g, fake
}

func TestSendAndTypedErrors(t *testing.T) {
	g, fake := setup(t, read(t, "send_ok.json"))
	inv := g.Invite("D-SP", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/index.php/sms/send" {
		t.Fatalf("%+v", reqs)
	}
	user, pass, _ := (&http.Request{Header: reqs[0].Header}).BasicAuth()
	var body struct {
		To      []string `json:"to"`
		Content string   `json:"content"`
		SMSType int      `json:"sms_type"`
		Sender  string   `json:"sender"`
	}
	_ = json.Unmarshal([]byte(reqs[0].Body), &body)
	if user != "SPEED-TOKEN" || pass != "x" || len(body.To) != 1 || body.To[0] != "84912345678" || body.SMSType != 8 || body.Sender != "0899999999" {
		t.Fatalf("auth %s/%s body %+v", user, pass, body)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["sp"].(map[string]any); s["status"] != "sent" {
		t.Fatalf("%v", s)
	}
	for file, want := range map[string]string{"send_error.json": "failed", "send_retry.json": "retrying"} {
		fake.SetReply(200, read(t, file))
		inv := g.Invite("D-SP-"+file, "000.00.12.H49", map[string]any{"phone": "0987654321", "send": []string{"sp"}})
		_ = g.Sender.Drain(t.Context())
		_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
		if s := got["sends"].(map[string]any)["sp"].(map[string]any); s["status"] != want {
			t.Errorf("%s: %v", file, s)
		}
	}
	fake.SetReply(429, `{"name":"Too Many Requests","status":429}`)
	inv = g.Invite("D-SP-429", "000.00.12.H49", map[string]any{"phone": "0977777777", "send": []string{"sp"}})
	_ = g.Sender.Drain(t.Context())
	_, got = g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["sp"].(map[string]any); s["status"] != "retrying" {
		t.Fatalf("429: %v", s)
	}
}

func TestInboundThroughTheGenericFormat(t *testing.T) {
	g, _ := setup(t, "{}")
	g.Invite("D-SP-IN", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	post := func(sign string) func() *http.Request {
		return func() *http.Request {
			body := read(t, "mo_scores.json")
			r := httptest.NewRequest("POST", "/webhooks/sms/sp", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Signature", generic.Sign(sign, []byte(body)))
			return r
		}
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "wrong secret", Req: post("SPEED-TOKEN"), Status: 401, Body: "unauthenticated"},
		{Name: "relayed MO", Req: post("relay-secret-0123456"), Status: 200, Body: `"text":"Cam on`},
	})
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("D-SP-IN").ID)
	if err != nil || r.Answers[3].Score != 3 {
		t.Fatalf("%+v %v", r, err)
	}
	res, out := g.API("PUT", "/api/v1/channels/sp2", map[string]any{"type": "sms.speedsms",
		"settings": map[string]any{"sms_type": "3"}, "secrets": map[string]any{"access_token": "a", "secret": "relay-secret-0123456"}})
	if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != "settings.sender" {
		t.Fatalf("type 3 without sender: %d %v", res.StatusCode, out)
	}
}
