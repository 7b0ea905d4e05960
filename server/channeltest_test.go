package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// An admin sends a test text through a channel: the fake provider gets
// one short text to the number, the answer carries the provider's id or
// its refusal with every secret blanked out, a bad phone is a 400 naming
// it, the fourth test of a minute is a 429, and each test is audited
// with the phone masked; no invitation is made.
func TestChannelTestSendsThroughTheProvider(t *testing.T) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, `{"id":"prov-77"}`)
	const secret = "generic-test-secret-0123"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send"}, "secrets": map[string]any{"secret": secret}})
	test := func(id string, body any) (int, map[string]any) {
		t.Helper()
		res, out := g.API("POST", "/api/v1/channels/"+id+"/test", body)
		return res.StatusCode, out
	}
	field := func(out map[string]any) any { e, _ := out["error"].(map[string]any); return e["field"] }

	for _, bad := range []any{map[string]any{"phone": "12345"}, map[string]any{"phone": "0212345678"}, nil} {
		if status, out := test("gen", bad); status != 400 || field(out) != "phone" {
			t.Errorf("test with %v: %d %v", bad, status, out)
		}
	}
	if status, out := test("nope", map[string]any{"phone": "0912345678"}); status != 404 {
		t.Errorf("an unknown channel: %d %v", status, out)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("refused tests reached the provider %d times", n)
	}

	status, out := test("gen", map[string]any{"phone": "0912 345 678"})
	if status != 200 || out["ok"] != true || out["provider_id"] != "prov-77" || !strings.Contains(fmt.Sprint(out["result"]), "84******678") {
		t.Fatalf("test: %d %v", status, out)
	}
	reqs := fake.Requests()
	var sent struct{ To, Text string }
	if len(reqs) != 1 || json.Unmarshal([]byte(reqs[0].Body), &sent) != nil || sent.To != "84912345678" || !strings.HasPrefix(sent.Text, "Tin nhan thu") || len(sent.Text) > 160 {
		t.Fatalf("the provider got %+v", reqs)
	}

	fake.SetReply(401, `{"error":"bad signature for key `+secret+`"}`)
	status, out = test("gen", map[string]any{"phone": "+84 912 345 678"})
	msg := fmt.Sprint(out["error"])
	if status != 502 || out["ok"] != false || out["provider_status"] != float64(401) || strings.Contains(msg, secret) || !strings.Contains(msg, "[secret]") {
		t.Fatalf("refused test: %d %v", status, out)
	}

	fake.SetReply(200, `{"id":"prov-78"}`)
	if status, out := test("gen", map[string]any{"phone": "0912345678"}); status != 200 {
		t.Fatalf("third test: %d %v", status, out)
	}
	res, out := g.API("POST", "/api/v1/channels/gen/test", map[string]any{"phone": "0912345678"})
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || field(out) != "phone" {
		t.Fatalf("test %d of a minute: %d %v", core.ChannelTestsPerMinute+1, res.StatusCode, out)
	}
	if n := len(fake.Requests()); n != 3 {
		t.Fatalf("the provider got %d tests, want 3", n)
	}

	_, audit := g.API("GET", "/api/v1/audit", nil)
	tests := 0
	for _, e := range audit["entries"].([]any) {
		e := e.(map[string]any)
		if e["action"] != "channel.test" {
			continue
		}
		tests++
		b, _ := json.Marshal(e)
		if s := string(b); e["target"] != "gen" || !strings.Contains(s, "84******678") || strings.Contains(s, "912345678") || strings.Contains(s, secret) {
			t.Errorf("audit entry %s", s)
		}
	}
	if tests != 3 {
		t.Errorf("%d tests audited, want 3", tests)
	}
	if n, err := g.Mongo.DB.Collection("invitations").CountDocuments(t.Context(), map[string]any{}); err != nil || n != 0 {
		t.Errorf("a test made %d invitations (%v)", n, err)
	}
}

// eSMS answers 200 with its own code; an error message that echoes the
// API key it was sent comes back with the key blanked out.
func TestChannelTestESMSRefusal(t *testing.T) {
	g := gwtest.New(t, "")
	const apiKey = "ESMS-API-KEY-4471"
	fake := smstest.NewFake(t, `{"CodeResult":"101","ErrorMessage":"Authorize Failed: ApiKey `+apiKey+` unknown"}`)
	smstest.Configure(t, g, "esms", map[string]any{"type": "sms.esms",
		"settings": map[string]any{"cpid": "cp1", "api_base_url": fake.URL},
		"secrets":  map[string]any{"private_key": "PRIVATE-KEY-0123456789", "api_key": apiKey, "secret_key": "SECRET-KEY-1"}})
	res, out := g.API("POST", "/api/v1/channels/esms/test", map[string]any{"phone": "0987654321"})
	msg := fmt.Sprint(out["error"])
	if res.StatusCode != 502 || out["provider_code"] != "101" || strings.Contains(msg, apiKey) || !strings.Contains(msg, "Authorize Failed") {
		t.Fatalf("eSMS refusal: %d %v", res.StatusCode, out)
	}
	if reqs := fake.Requests(); len(reqs) != 1 || !strings.Contains(reqs[0].Body, `"Phone":"84987654321"`) {
		t.Fatalf("eSMS got %+v", reqs)
	}
}
