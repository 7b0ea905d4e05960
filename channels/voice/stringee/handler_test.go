package stringee_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/channels/voice/stringee"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

const (
	base    = "https://ks.example.vn"
	keySID  = "SK.0.testkeysid"
	keySec  = "test-key-secret-0123456789"
	signing = "stringee-signing-secret-0123"
)

// A token as Stringee's REST examples send it begins with this header:
// {"cty":"stringee-api;v=1","typ":"JWT","alg":"HS256"}.
const documentedHeader = "eyJjdHkiOiJzdHJpbmdlZS1hcGk7dj0xIiwidHlwIjoiSldUIiwiYWxnIjoiSFMyNTYifQ"

func TestJWT(t *testing.T) {
	now := time.Unix(1713256394, 0)
	tok := stringee.JWT(keySID, keySec, now)
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || parts[0] != documentedHeader {
		t.Fatalf("token %s", tok)
	}
	m := hmac.New(sha256.New, []byte(keySec))
	m.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(m.Sum(nil)) != parts[2] {
		t.Fatal("the signature is not HS256 of header.claims")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil || claims["iss"] != keySID || claims["rest_api"] != true ||
		claims["exp"].(float64) != float64(now.Add(time.Hour).Unix()) || claims["jti"] != keySID+"-1713256394" {
		t.Fatalf("claims %s", raw)
	}
}

type sg struct {
	t     *testing.T
	g     *gwtest.Gateway
	calls *smstest.Fake
	now   time.Time
}

func setup(t *testing.T) *sg {
	g := gwtest.New(t, base)
	x := &sg{t: t, g: g, calls: smstest.NewFake(t, `{"r": 0, "call_id": "call-vn-1-{n}", "message": "OK"}`),
		now: time.Date(2026, 12, 7, 10, 0, 0, 0, core.Vietnam)} // a Monday morning
	g.Core.Clock = func() time.Time { return x.now }
	smstest.Configure(t, g, "sg", map[string]any{"type": "voice.stringee",
		"settings": map[string]any{"number": "842471008859", "api_url": x.calls.URL, "retries": 0},
		"secrets":  map[string]any{"api_key_sid": keySID, "api_key_secret": keySec, "signing_secret": signing}})
	return x
}

// get asks the answer_url as Stringee does, signed over the request URI.
func (x *sg) get(u, key string) (int, string) {
	path := strings.TrimPrefix(u, base)
	req := httptest.NewRequest("GET", path, nil)
	if key != "" {
		req.Header.Set("X-STRINGEE-SIGNATURE", stringee.Signature(key, []byte(path)))
	}
	res := x.g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

// post sends a JSON event, signed over its raw body.
func (x *sg) post(u string, body map[string]any, key string) (int, string) {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest("POST", strings.TrimPrefix(u, base), strings.NewReader(string(raw)))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-STRINGEE-SIGNATURE", stringee.Signature(key, raw))
	}
	res := x.g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

type action struct {
	Action   string `json:"action"`
	Text     string `json:"text"`
	EventURL string `json:"eventUrl"`
	Max      int    `json:"maxDigits"`
	OnHash   *bool  `json:"submitOnHash"`
}

func scco(t *testing.T, body string) (said, next string) {
	var as []action
	if err := json.Unmarshal([]byte(body), &as); err != nil {
		t.Fatalf("not SCCO: %s", body)
	}
	for _, a := range as {
		switch a.Action {
		case "talk":
			said += a.Text + " "
		case "input":
			if a.Max != 1 || a.OnHash == nil || *a.OnHash {
				t.Fatalf("input %+v", a)
			}
			next = a.EventURL
		}
	}
	return said, next
}

func TestWholeCallThroughStringee(t *testing.T) {
	x := setup(t)
	x.g.Invite("D-SG-1", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"voice"}})
	inv := x.g.MustInvitation("D-SG-1")
	if err := x.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := x.calls.Requests()
	if len(reqs) != 1 || reqs[0].Path != "/v1/call2/callout" || !strings.HasPrefix(reqs[0].Header.Get("X-STRINGEE-AUTH"), documentedHeader+".") {
		t.Fatalf("callout %+v", reqs)
	}
	var out struct {
		To        []map[string]string `json:"to"`
		From      map[string]string   `json:"from"`
		AnswerURL string              `json:"answer_url"`
		EventURL  string              `json:"event_url"`
	}
	if err := json.Unmarshal([]byte(reqs[0].Body), &out); err != nil || out.To[0]["number"] != "84912345678" || out.From["number"] != "842471008859" ||
		out.AnswerURL != base+"/webhooks/voice/sg/answer?inv="+inv.ID || out.EventURL != base+"/webhooks/voice/sg/status?inv="+inv.ID {
		t.Fatalf("callout body %s", reqs[0].Body)
	}
	answer := out.AnswerURL + "&from=84912345678&to=842471008859&callId=call-vn-1-1"
	if code, _ := x.get(answer, ""); code != 401 {
		t.Fatalf("unsigned answer_url: %d", code)
	}
	if code, _ := x.get(answer, "another-secret-0123456789"); code != 401 {
		t.Fatalf("badly signed answer_url: %d", code)
	}
	code, body := x.get(answer, signing)
	said, next := scco(t, body)
	if code != 200 || !strings.Contains(said, "Xin chào") || !strings.Contains(said, "Câu 1 trên 5") || next == "" {
		t.Fatalf("answer %d %s", code, body)
	}
	if code, _ := x.post(next, map[string]any{"call_id": "call-vn-1-1", "dtmf": "5"}, "another-secret-0123456789"); code != 401 {
		t.Fatalf("badly signed key: %d", code)
	}
	_, body = x.post(next, map[string]any{"call_id": "call-vn-1-1", "dtmf": ""}, signing) // the input timed out
	if said, next = scco(t, body); !strings.Contains(said, "chưa nhận được phím") {
		t.Fatalf("silence: %s", body)
	}
	_, body = x.post(next, map[string]any{"call_id": "call-vn-1-1", "dtmf": "4"}, signing)
	if _, again := x.post(next, map[string]any{"call_id": "call-vn-1-1", "dtmf": "1"}, signing); again != body {
		t.Fatalf("retried key heard %s, not %s", again, body)
	}
	for _, d := range []string{"4", "4", "4", "3"} {
		_, next = scco(t, body)
		_, body = x.post(next, map[string]any{"call_id": "call-vn-1-1", "dtmf": d}, signing)
	}
	if said, next = scco(t, body); next != "" || !strings.Contains(said, "Cảm ơn ông bà đã đánh giá") {
		t.Fatalf("end: %s", body)
	}
	for range 2 { // Stringee sends the end twice
		if code, body := x.post(out.EventURL, map[string]any{"type": "call", "call_id": "call-vn-1-1", "call_status": "ended", "duration": 95}, signing); code != 204 {
			t.Fatalf("status %d %s", code, body)
		}
	}
	x.g.Drain()
	if st := x.g.MustInvitation("D-SG-1").Sends["sg"]; st.Status != store.SendDelivered {
		t.Fatalf("send %+v", st)
	}
	r, err := x.g.Mongo.Responses.ByInvitation(t.Context(), inv.ID)
	if err != nil || r.Channel != "voice" || r.Answers[0].Score != 4 || r.Answers[4].Score != 3 {
		t.Fatalf("response %+v %v", r, err)
	}
	var m store.Message
	if err := x.g.Mongo.DB.Collection("messages").FindOne(t.Context(), map[string]any{"_id": "call:sg:call-vn-1-1"}).Decode(&m); err != nil || m.Parts != 2 {
		t.Fatalf("minutes %+v %v", m, err)
	}
}

func TestBusyWithNoRetriesAndNoSMSFails(t *testing.T) {
	x := setup(t)
	x.g.Invite("D-SG-BUSY", "000.00.12.H49", map[string]any{"phone": "0912345679", "send": []string{"sg"}})
	inv := x.g.MustInvitation("D-SG-BUSY")
	if err := x.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	status := base + "/webhooks/voice/sg/status?inv=" + url.QueryEscape(inv.ID)
	if code, _ := x.post(status, map[string]any{"call_id": "call-vn-1-1", "call_status": "busy"}, signing); code != 204 {
		t.Fatal(code)
	}
	if st := x.g.MustInvitation("D-SG-BUSY").Sends["sg"]; st.Status != store.SendFailed || !strings.Contains(st.Error, "busy") || !strings.Contains(st.Error, "no SMS channel") {
		t.Fatalf("send %+v", st)
	}
}
