package twilio_test

import (
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	smstwilio "github.com/sipasvn/gateway/channels/sms/twilio"
	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

const (
	token = "twilio-voice-auth-token"
	sid   = "AC00000000000000000000000000000002"
	base  = "https://ks.example.vn"
	phone = "+84912345678"
)

// Twilio's documented example for a <Gather>'s request: auth token
// 12345, this URL and these parameters sign to
// 0/KCTR6DLpKmkAf8muzZqo1nDgQ= (twilio.com/docs/usage/security).
func TestSignatureMatchesTwiliosVoiceExample(t *testing.T) {
	form := url.Values{"CallSid": {"CA1234567890ABCDE"}, "Caller": {"+12349013030"}, "Digits": {"1234"},
		"From": {"+12349013030"}, "To": {"+18005551212"}}
	if got := smstwilio.Signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", form); got != "0/KCTR6DLpKmkAf8muzZqo1nDgQ=" {
		t.Fatalf("signature %s", got)
	}
}

// tw is a gateway with a voice.twilio channel "tv" calling a fake Twilio
// API, and an SMS channel to fall back to.
type tw struct {
	t     *testing.T
	g     *gwtest.Gateway
	calls *smstest.Fake
	sms   *smstest.Fake
	// dossier is the last one sent
	dossier string
	// now is the gateway's clock: calls go on working days only
	now time.Time
}

func setup(t *testing.T, settings map[string]any, options ...func(*config.Config)) *tw {
	g := gwtest.New(t, base, options...)
	x := &tw{t: t, g: g, calls: smstest.NewFake(t, `{"sid": "CA{n}", "status": "queued"}`), sms: smstest.NewFake(t, `{"id": "sms-{n}"}`),
		now: time.Date(2026, 12, 7, 10, 0, 0, 0, core.Vietnam)} // a Monday morning
	g.Core.Clock = func() time.Time { return x.now }
	s := map[string]any{"account_sid": sid, "from": "+84899999999", "api_url": x.calls.URL, "default": true}
	for k, v := range settings {
		s[k] = v
	}
	smstest.Configure(t, g, "tv", map[string]any{"type": "voice.twilio", "settings": s, "secrets": map[string]any{"auth_token": token}})
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": x.sms.URL, "default": true},
		"secrets": map[string]any{"secret": "generic-secret-0123456789"}})
	return x
}

// post sends a webhook to the gateway at u (absolute, as the gateway
// gave it), signed with key ("" for none).
func (x *tw) post(u string, form url.Values, key string) (int, string) {
	x.t.Helper()
	path := strings.TrimPrefix(u, base)
	req := httptestRequest(path, form)
	if key != "" {
		req.Header.Set("X-Twilio-Signature", smstwilio.Signature(key, base+path, form))
	}
	res := x.g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

func callForm(callID string, extra ...string) url.Values {
	f := url.Values{"CallSid": {callID}, "AccountSid": {sid}, "From": {"+84899999999"}, "To": {phone}, "Direction": {"outbound-api"}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

var actionRe = regexp.MustCompile(`<Gather[^>]* action="([^"]+)"`)

// next is the key URL a TwiML answer gathers to ("" when it hangs up).
func next(twiml string) string {
	m := actionRe.FindStringSubmatch(twiml)
	if m == nil {
		return ""
	}
	return html.UnescapeString(m[1])
}

// placed sends what is due and returns the answer and status URLs of the
// call the gateway asked the fake Twilio to place (n: the calls so far).
func (x *tw) placed(n int) (answer, status string, form url.Values) {
	x.t.Helper()
	if err := x.g.Sender.Drain(x.t.Context()); err != nil {
		x.t.Fatal(err)
	}
	reqs := x.calls.Requests()
	if len(reqs) != n {
		x.t.Fatalf("%d calls placed; want %d (sends %+v)", len(reqs), n, x.g.MustInvitation(x.dossier).Sends)
	}
	if n == 0 {
		return "", "", nil
	}
	form, _ = url.ParseQuery(reqs[n-1].Body)
	return form.Get("Url"), form.Get("StatusCallback"), form
}

func (x *tw) send(dossier string) *store.Invitation {
	x.dossier = dossier
	x.g.Invite(dossier, "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"voice"}})
	return x.g.MustInvitation(dossier)
}

func (x *tw) sendStatus(dossier, ch string) store.SendStatus {
	return x.g.MustInvitation(dossier).Sends[ch]
}

func TestWholeCallThroughTwilio(t *testing.T) {
	x := setup(t, nil)
	inv := x.send("000.00.12.H49-201105-0042")
	answer, status, form := x.placed(1)
	reqs := x.calls.Requests()
	if reqs[0].Path != "/2010-04-01/Accounts/"+sid+"/Calls.json" || form.Get("To") != phone || form.Get("From") != "+84899999999" ||
		form.Get("MachineDetection") != "Enable" || answer != base+"/webhooks/voice/tv/answer?inv="+inv.ID || status != base+"/webhooks/voice/tv/status?inv="+inv.ID {
		t.Fatalf("call request %s %v", reqs[0].Path, form)
	}
	if u, p, _ := (&httpRequest{reqs[0].Header}).basic(); u != sid || p != token {
		t.Fatalf("auth %s", u)
	}
	if st := x.sendStatus("000.00.12.H49-201105-0042", "tv"); st.Status != store.SendQueued || st.Attempts != 1 || !strings.Contains(st.Error, "CA1") {
		t.Fatalf("send %+v", st)
	}
	// refused: no signature, another token, another account
	for _, tc := range []struct {
		form url.Values
		key  string
		want string
	}{{callForm("CA1"), "", "X-Twilio-Signature"}, {callForm("CA1"), "another-token-0123456789", "X-Twilio-Signature"},
		{callForm("CA1", "AccountSid", "AC-other"), token, "AccountSid"}} {
		if code, body := x.post(answer, tc.form, tc.key); code != 401 || !strings.Contains(body, tc.want) {
			t.Fatalf("refused webhook: %d %s", code, body)
		}
	}
	code, body := x.post(answer, callForm("CA1", "AnsweredBy", "human"), token)
	if code != 200 || !strings.Contains(body, `<Gather input="dtmf" numDigits="1"`) || !strings.Contains(body, `<Say language="vi-VN" voice="Google.vi-VN-Standard-A">Xin chào.`) ||
		!strings.Contains(body, "không, không, bốn, hai") || !strings.Contains(body, "<Redirect method=\"POST\">"+base+"/webhooks/voice/tv/key?step=") {
		t.Fatalf("answer %d %s", code, body)
	}
	key := next(body)
	// a keypress signed for another URL (another step) is refused
	if code, _ := x.post(key, callForm("CA1", "Digits", "5"), "wrong-token-0123456789"); code != 401 {
		t.Fatalf("badly signed key: %d", code)
	}
	// silence: Twilio follows the <Redirect> without Digits
	_, body = x.post(key, callForm("CA1"), token)
	if !strings.Contains(body, "chưa nhận được phím") {
		t.Fatalf("silence: %s", body)
	}
	key = next(body)
	_, body = x.post(key, callForm("CA1", "Digits", "5"), token)
	// Twilio retries the same keypress: nothing changes, the same next question
	_, again := x.post(key, callForm("CA1", "Digits", "1"), token)
	if again != body {
		t.Fatalf("retried keypress heard\n%s\nnot\n%s", again, body)
	}
	for _, d := range []string{"4", "0", "3", "5"} {
		key = next(body)
		_, body = x.post(key, callForm("CA1", "Digits", d), token)
	}
	if next(body) != "" || !strings.Contains(body, "Cảm ơn ông bà đã đánh giá") || !strings.Contains(body, "<Hangup></Hangup>") {
		t.Fatalf("end: %s", body)
	}
	// the status callback, twice (Twilio retries)
	for range 2 {
		if code, body := x.post(status, callForm("CA1", "CallStatus", "completed", "CallDuration", "74", "AnsweredBy", "human"), token); code != 204 {
			t.Fatalf("status: %d %s", code, body)
		}
	}
	x.g.Drain()
	if st := x.sendStatus("000.00.12.H49-201105-0042", "tv"); st.Status != store.SendDelivered {
		t.Fatalf("send %+v", st)
	}
	r, err := x.g.Mongo.Responses.ByInvitation(t.Context(), inv.ID)
	if err != nil || r.Channel != "voice" || len(r.Answers) != 5 || r.Answers[0].Score != 5 || r.Answers[2].Score != 0 {
		t.Fatalf("response %+v %v", r, err)
	}
	var m store.Message
	if err := x.g.Mongo.DB.Collection("messages").FindOne(t.Context(), map[string]any{"_id": "call:tv:CA1"}).Decode(&m); err != nil || m.Parts != 2 || m.Kind != "call" || m.Agency != "000.00.12.H49" {
		t.Fatalf("call minutes %+v %v", m, err)
	}
	if n, _ := x.g.Mongo.DB.Collection("messages").CountDocuments(t.Context(), map[string]any{"kind": "call"}); n != 1 {
		t.Fatalf("%d call records", n)
	}
	expectFigures(t, x.figures(), map[string]float64{"calls": 1, "answered": 1, "minutes": 2, "answers": 5, "answers_per_call": 5, "completed": 1})
}

func TestHangUpThenCallBack(t *testing.T) {
	x := setup(t, nil)
	x.send("D-TV-CUT")
	answer, status, _ := x.placed(1)
	_, body := x.post(answer, callForm("CA1"), token)
	_, body = x.post(next(body), callForm("CA1", "Digits", "4"), token)
	_, _ = x.post(next(body), callForm("CA1", "Digits", "4"), token)
	// the citizen hangs up after two answers
	if code, _ := x.post(status, callForm("CA1", "CallStatus", "completed", "CallDuration", "30"), token); code != 204 {
		t.Fatal(code)
	}
	// and calls the number back: recognised by caller id, the survey goes on
	in := url.Values{"CallSid": {"CA-IN"}, "AccountSid": {sid}, "From": {phone}, "To": {"+84899999999"}, "Direction": {"inbound"}}
	_, body = x.post(base+"/webhooks/voice/tv/answer", in, token)
	if !strings.Contains(body, "tiếp tục") || !strings.Contains(body, "Câu 3 trên 5") {
		t.Fatalf("call back: %s", body)
	}
	for _, d := range []string{"3", "2", "1"} {
		_, body = x.post(next(body), url.Values{"CallSid": {"CA-IN"}, "AccountSid": {sid}, "Digits": {d}}, token)
	}
	if !strings.Contains(body, "Hangup") {
		t.Fatalf("end: %s", body)
	}
	if code, _ := x.post(base+"/webhooks/voice/tv/status", url.Values{"CallSid": {"CA-IN"}, "AccountSid": {sid}, "CallStatus": {"completed"}, "CallDuration": {"61"}}, token); code != 204 {
		t.Fatal(code)
	}
	x.g.Drain()
	r, err := x.g.Mongo.Responses.ByInvitation(t.Context(), x.g.MustInvitation("D-TV-CUT").ID)
	if err != nil || r.Channel != "voice" || r.Answers[1].Score != 4 || r.Answers[4].Score != 1 {
		t.Fatalf("response %+v %v", r, err)
	}
	var m store.Message
	if err := x.g.Mongo.DB.Collection("messages").FindOne(t.Context(), map[string]any{"_id": "call:tv:CA-IN"}).Decode(&m); err != nil || m.Parts != 2 || m.Invitation == "" || m.Answers != 3 {
		t.Fatalf("the citizen's call %+v %v", m, err)
	}
	expectFigures(t, x.figures(), map[string]float64{"calls": 2, "answered": 2, "minutes": 3, "answers": 5, "answers_per_call": 2.5, "completed": 1})
	// a stranger calling hears there is nothing to rate
	in.Set("From", "+84987654321")
	in.Set("CallSid", "CA-STRANGER")
	if _, body = x.post(base+"/webhooks/voice/tv/answer", in, token); !strings.Contains(body, "không có hồ sơ nào") || next(body) != "" {
		t.Fatalf("stranger: %s", body)
	}
}

func TestBusyAndNoAnswerRetriesThenSMS(t *testing.T) {
	x := setup(t, map[string]any{"retries": 1, "retry_after": "30m"})
	x.send("D-TV-BUSY")
	answer, status, _ := x.placed(1)
	if code, _ := x.post(status, callForm("CA1", "CallStatus", "busy"), token); code != 204 {
		t.Fatal(code)
	}
	if st := x.sendStatus("D-TV-BUSY", "tv"); st.Status != store.SendRetrying || !strings.Contains(st.Error, "busy") {
		t.Fatalf("after busy: %+v", st)
	}
	x.placed(1) // not before retry_after
	x.now = x.now.Add(31 * time.Minute)
	answer, status, _ = x.placed(2)
	// a machine picks up: the gateway hangs up at once
	if _, body := x.post(answer, callForm("CA2", "AnsweredBy", "machine_start"), token); next(body) != "" || !strings.Contains(body, "Hangup") {
		t.Fatalf("machine: %s", body)
	}
	if code, _ := x.post(status, callForm("CA2", "CallStatus", "completed", "AnsweredBy", "machine_start", "CallDuration", "3"), token); code != 204 {
		t.Fatal(code)
	}
	st := x.sendStatus("D-TV-BUSY", "tv")
	if st.Status != store.SendFallback || !strings.Contains(st.Error, "machine") || !strings.Contains(st.Error, "gen") {
		t.Fatalf("after the last try: %+v", st)
	}
	if err := x.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(x.sms.Requests()); n != 1 {
		t.Fatalf("%d SMS sent", n)
	}
	if st := x.sendStatus("D-TV-BUSY", "gen"); st.Status != store.SendSent {
		t.Fatalf("SMS %+v", st)
	}
	expectFigures(t, x.figures(), map[string]float64{"calls": 2, "answered": 0, "busy": 1, "machine": 1, "minutes": 1, "answers": 0, "completed": 0})
}

func TestSettingsRefusedWithTheirName(t *testing.T) {
	x := setup(t, nil)
	for _, tc := range []struct {
		settings map[string]any
		field    string
	}{{map[string]any{"retries": 9}, "settings.retries"}, {map[string]any{"retries": "two"}, "settings.retries"},
		{map[string]any{"retry_after": "1m"}, "settings.retry_after"}, {map[string]any{"api_url": "ftp://x"}, "settings.api_url"},
		{map[string]any{"colour": "red"}, "settings.colour"}} {
		s := map[string]any{"account_sid": sid, "from": "+84899999999"}
		for k, v := range tc.settings {
			s[k] = v
		}
		res, out := x.g.API("PUT", "/api/v1/channels/tv2", map[string]any{"type": "voice.twilio", "settings": s, "secrets": map[string]any{"auth_token": token}})
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != tc.field {
			t.Fatalf("%v: %d %v", tc.settings, res.StatusCode, out)
		}
	}
}

func TestCallHoursHoldAnEveningCall(t *testing.T) {
	x := setup(t, nil, gwtest.ReachDefaults)
	// Friday 11 December 2026, 18:00 in Vietnam: after the call hours
	x.now = time.Date(2026, 12, 11, 18, 0, 0, 0, core.Vietnam)
	x.send("D-TV-EVENING")
	x.placed(0)
	if st := x.sendStatus("D-TV-EVENING", "tv"); st.Status != store.SendQueued {
		t.Fatalf("held: %+v", st)
	}
	x.now = time.Date(2026, 12, 12, 10, 0, 0, 0, core.Vietnam) // Saturday: no calls
	x.placed(0)
	x.now = time.Date(2026, 12, 14, 7, 59, 0, 0, core.Vietnam) // Monday, before the hours
	x.placed(0)
	x.now = time.Date(2026, 12, 14, 9, 0, 0, 0, core.Vietnam) // the opening hour's spread is over
	_, status, _ := x.placed(1)
	if st := x.sendStatus("D-TV-EVENING", "tv"); st.Status != store.SendQueued || st.Attempts != 1 || st.At.Before(time.Date(2026, 12, 14, 8, 0, 0, 0, core.Vietnam)) {
		t.Fatalf("placed: %+v", st)
	}
	who := x.g.MustInvitation("D-TV-EVENING").Respondent
	if n, err := x.g.Core.Reach.Contacts.Daily(t.Context(), who, "2026-12-14"); err != nil || n != 1 {
		t.Fatalf("the call took %d of the day's messages (%v)", n, err)
	}
	// no answer: called again two hours later, a second message of the day
	if code, _ := x.post(status, callForm("CA1", "CallStatus", "no-answer"), token); code != 204 {
		t.Fatal(code)
	}
	x.now = x.now.Add(2*time.Hour + time.Minute)
	x.placed(2)
	if n, _ := x.g.Core.Reach.Contacts.Daily(t.Context(), who, "2026-12-14"); n != 2 {
		t.Fatalf("two calls took %d of the day's messages", n)
	}
}

func httptestRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

type httpRequest struct{ h http.Header }

func (r *httpRequest) basic() (string, string, bool) { return (&http.Request{Header: r.h}).BasicAuth() }

// calls is the report's call figures for December 2026, after the
// roll-up writer counted everything, and checks that a rebuild from the
// stored documents finds the same cells.
func (x *tw) figures() map[string]any {
	x.t.Helper()
	x.g.Drain()
	x.g.Drain() // the funnel events of the messages the first drain logged
	if diff, err := x.g.Applier.Compare(x.t.Context()); err != nil || len(diff) > 0 {
		x.t.Fatalf("roll-ups differ from a rebuild: %v %v", diff, err)
	}
	res, out := x.g.API("GET", "/api/v1/reports/sipas?from=2026-12&to=2026-12", nil)
	reach, _ := out["reach"].(map[string]any)
	calls, _ := reach["calls"].(map[string]any)
	if res.StatusCode != 200 || calls == nil {
		x.t.Fatalf("report %d %v", res.StatusCode, out)
	}
	return calls
}

func expectFigures(t *testing.T, got map[string]any, want map[string]float64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("calls.%s = %v; want %v (all: %v)", k, got[k], v, got)
		}
	}
}

func TestOneCallAtATimePerPhone(t *testing.T) {
	x := setup(t, nil)
	x.send("D-TV-ONE")
	x.send("D-TV-TWO") // the same phone (no contact limit in this gateway)
	_, status, _ := x.placed(1)
	if st := x.sendStatus("D-TV-TWO", "tv"); st.Status != store.SendQueued || st.Attempts != 0 {
		t.Fatalf("the second call went while the first rang: %+v", st)
	}
	if code, _ := x.post(status, callForm("CA1", "CallStatus", "completed", "CallDuration", "20"), token); code != 204 {
		t.Fatal(code)
	}
	x.now = x.now.Add(6 * time.Minute)
	x.placed(2)
}
