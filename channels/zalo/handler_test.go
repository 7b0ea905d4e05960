package zalo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/channels/zalo"
	"github.com/sipasvn/gateway/internal/gwtest"
)

const (
	appID    = "360846524940903967"
	oaSecret = "OA-SECRET-KEY-0123"
	user     = "246845883529197922" // beyond 2^53: must stay a string
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func setup(t *testing.T) (*gwtest.Gateway, *fakeZalo) {
	g := gwtest.New(t, "https://ks.example.vn")
	f := newFake(t)
	smstest.Configure(t, g, "oa", map[string]any{"type": "zalo.oa",
		"settings": map[string]any{"app_id": appID, "oa_id": "579745863508352884", "rating_template_id": "301234",
			"api_base_url": f.URL, "oauth_base_url": f.URL, "zns_base_url": f.URL, "default": true},
		"secrets": map[string]any{"oa_secret_key": oaSecret, "app_secret": "APP-SECRET", "access_token": "AT1", "refresh_token": "RT1"}})
	return g, f
}

var seq int

// event fills a testdata payload.
func event(t *testing.T, file string, repl ...string) string {
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	seq++
	r := append([]string{"TS", fmt.Sprint(time.Now().UnixMilli() + int64(seq)), "USER", user}, repl...)
	return strings.NewReplacer(r...).Replace(strings.TrimSpace(string(b)))
}

// at dates an event body (before signing).
func at(body string, t time.Time) string {
	return strings.Replace(body, `"timestamp":"`+timestamp(body)+`"`, fmt.Sprintf(`"timestamp":"%d"`, t.UnixMilli()), 1)
}

func timestamp(body string) string {
	i := strings.Index(body, `"timestamp":"`) + len(`"timestamp":"`)
	return body[i : i+strings.Index(body[i:], `"`)]
}

func post(body, sig string) *http.Request {
	r := httptest.NewRequest("POST", "/webhooks/zalo/oa", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if sig != "" {
		r.Header.Set("X-ZEvent-Signature", sig)
	}
	return r
}

func signed(body string) *http.Request {
	return post(body, zalo.Signature(appID, []byte(body), timestamp(body), oaSecret))
}

// deliver posts a signed event and lets a worker process the inbox.
func deliver(t *testing.T, g *gwtest.Gateway, body string) {
	t.Helper()
	if res := g.Do(signed(body)); res.StatusCode != 200 {
		t.Fatalf("webhook: %d %s", res.StatusCode, gwtest.Body(res))
	}
	drain(t, g, "w1")
}

func drain(t *testing.T, g *gwtest.Gateway, name string) {
	t.Helper()
	w := zalo.NewWorker(channels.Deps{Core: g.Core, Log: quiet}, name)
	if err := w.Drain(context.Background(), time.Minute, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestWebhookCases(t *testing.T) {
	g, f := setup(t)
	text := event(t, "user_send_text.json", "TEXT", "xin chao", "MSGID", "m-1")
	other := strings.Replace(text, appID, "111111111111111111", 1)
	smstest.Run(t, g, []smstest.Case{
		{Name: "no signature", Req: func() *http.Request { return post(text, "") }, Status: 401, Body: "X-ZEvent-Signature"},
		{Name: "bad signature", Req: func() *http.Request { return post(text, "mac=00ff") }, Status: 401, Body: "unauthenticated"},
		{Name: "signed with another key", Req: func() *http.Request {
			return post(text, zalo.Signature(appID, []byte(text), timestamp(text), "other"))
		}, Status: 401, Body: "unauthenticated"},
		{Name: "body changed after signing", Req: func() *http.Request {
			return post(text+" ", zalo.Signature(appID, []byte(text), timestamp(text), oaSecret))
		}, Status: 401, Body: "unauthenticated"},
		{Name: "another app", Req: func() *http.Request {
			return post(other, zalo.Signature(appID, []byte(other), timestamp(other), oaSecret))
		}, Status: 401, Body: `"field":"app_id"`},
		{Name: "unknown channel", Req: func() *http.Request {
			return httptest.NewRequest("POST", "/webhooks/zalo/nope", strings.NewReader(text))
		}, Status: 404, Body: "not_found"},
		{Name: "a year old", Req: func() *http.Request { return signed(at(text, time.Now().AddDate(-1, 0, 0))) }, Status: 400, Body: `"field":"timestamp"`},
		{Name: "eleven minutes old", Req: func() *http.Request { return signed(at(text, time.Now().Add(-11*time.Minute))) }, Status: 400, Body: `"field":"timestamp"`},
		{Name: "ahead of the clock", Req: func() *http.Request { return signed(at(text, time.Now().Add(3*time.Minute))) }, Status: 400, Body: `"field":"timestamp"`},
		{Name: "not a number", Req: func() *http.Request { return signed(strings.Replace(text, timestamp(text), "yesterday", 1)) }, Status: 400, Body: `"field":"timestamp"`},
	})
	if n, _ := g.Core.Inbox.Pending(t.Context()); n != 0 {
		t.Fatalf("%d refused events were queued", n)
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "signed", Req: func() *http.Request { return signed(text) }, Status: 200, Body: `"ok":true`},
		{Name: "same msg_id again", Req: func() *http.Request { return signed(text) }, Status: 200, Body: `"ok":true`},
		{Name: "unknown event", Req: func() *http.Request { return signed(event(t, "unknown_event.json", "MSGID", "m-2")) }, Status: 200, Body: `"ok":true`},
	})
	drain(t, g, "w1")
	// One answer for the message delivered twice (the "no open survey" note),
	// none for the sticker.
	if got := f.texts(); len(got) != 1 || !strings.Contains(got[0], "Không có phiếu khảo sát") {
		t.Fatalf("replies %v", got)
	}
	if n, _ := g.Core.Inbox.Pending(t.Context()); n != 0 {
		t.Fatalf("%d events left", n)
	}
}

func buttons(t *testing.T, m map[string]any) []any {
	msg, _ := m["message"].(map[string]any)
	att, _ := msg["attachment"].(map[string]any)
	payload, _ := att["payload"].(map[string]any)
	b, _ := payload["buttons"].([]any)
	return b
}

// A follower shares their phone, answers five questions with buttons, and
// the report counts the response.
func TestConversationThroughButtons(t *testing.T) {
	g, f := setup(t)
	inv := g.Invite("D-ZALO-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	deliver(t, g, event(t, "user_submit_info.json", "PHONE", "0912 345 678"))
	last := f.last()
	if r := last["recipient"].(map[string]any)["user_id"]; r != user {
		t.Fatalf("sent to %v, want the exact user id %s", r, user)
	}
	bs := buttons(t, last)
	if len(bs) != 5 || bs[0].(map[string]any)["payload"] != "5" || bs[0].(map[string]any)["type"] != "oa.query.hide" ||
		bs[4].(map[string]any)["title"] != "1 - Rất không hài lòng" {
		t.Fatalf("buttons %v", bs)
	}
	if got := f.texts(); len(got) != 2 || !strings.HasPrefix(got[1], "Câu 1/5") {
		t.Fatalf("texts %v", got)
	}
	for i, score := range []string{"5", "4", "5", "4", "5"} {
		deliver(t, g, event(t, "user_send_text.json", "TEXT", score, "MSGID", fmt.Sprint("btn-", i)))
	}
	got := f.texts()
	if !strings.HasPrefix(got[len(got)-1], "Cảm ơn ông/bà đã đánh giá!") || len(buttons(t, f.last())) != 0 {
		t.Fatalf("last reply %q", got[len(got)-1])
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&channel=zalo", nil)
	if rep["responses"] != 1.0 || rep["overall"].(map[string]any)["mean_score"] != 4.6 {
		t.Fatalf("report %v", rep)
	}
	_, got2 := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got2["completed_via"] != "zalo" {
		t.Fatalf("invitation %v", got2)
	}
}

func TestFollowAndDossierCode(t *testing.T) {
	g, f := setup(t)
	g.Invite("D-ZALO-2", "000.00.12.H49", nil)
	deliver(t, g, event(t, "follow.json"))
	last := f.last()
	att := last["message"].(map[string]any)["attachment"].(map[string]any)
	if att["payload"].(map[string]any)["template_type"] != "request_user_info" || !strings.Contains(f.texts()[0], "DG <mã hồ sơ>") {
		t.Fatalf("follow: %v %v", f.texts(), last)
	}
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "DG D-ZALO-2", "MSGID", "dg-1"))
	if got := f.texts(); !strings.HasPrefix(got[len(got)-1], "Câu 1/5") || len(buttons(t, f.last())) != 5 {
		t.Fatalf("after DG: %v", got)
	}
	// Linked now: a later follow (re-follow) does not restart the survey.
	before := len(f.texts())
	deliver(t, g, event(t, "follow.json"))
	if len(f.texts()) != before {
		t.Fatalf("re-follow restarted the survey: %v", f.texts()[before:])
	}
}

// A follower whose profile carries a phone shared with the OA starts the
// pending survey of that phone at once.
func TestFollowerWithSharedPhoneStartsAtOnce(t *testing.T) {
	g, f := setup(t)
	f.sharedPhone = "84912345678"
	g.Invite("D-ZALO-3", "000.00.12.H49", map[string]any{"phone": "0912 345 678", "survey": "overall"})
	deliver(t, g, event(t, "follow.json"))
	got := f.texts()
	if len(got) != 2 || !strings.HasPrefix(got[1], "Câu 1/1") || len(buttons(t, f.last())) != 5 {
		t.Fatalf("follow with a shared phone: %v", got)
	}
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "4", "MSGID", "f-1"))
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("D-ZALO-3").ID)
	if err != nil || r.Answers[0].Score != 4 || r.Channel != "zalo" {
		t.Fatalf("%+v %v", r, err)
	}
}

// An invitation by rating template: sent, delivered, rated with stars.
func TestRatingTemplateRoundTrip(t *testing.T) {
	g, f := setup(t)
	inv := g.Invite("D-ZNS", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"zalo"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(f.zns) != 1 || f.zns[0]["phone"] != "84912345678" || f.zns[0]["template_id"] != "301234" || f.zns[0]["tracking_id"] != inv["id"] {
		t.Fatalf("template message %v", f.zns)
	}
	id := inv["id"].(string)
	sendStatus := func() string {
		_, got := g.API("GET", "/api/v1/invitations/"+id, nil)
		return got["sends"].(map[string]any)["oa"].(map[string]any)["status"].(string)
	}
	if s := sendStatus(); s != "sent" {
		t.Fatalf("after send: %s", s)
	}
	deliver(t, g, event(t, "user_received_message.json", "MSGID", "zns-msg-1"))
	if s := sendStatus(); s != "delivered" {
		t.Fatalf("after delivery: %s", s)
	}
	fb := event(t, "user_feedback.json", "MSGID", "fb-1", "TRACKING", id)
	deliver(t, g, fb)
	deliver(t, g, strings.Replace(fb, `"rate":4`, `"rate":1`, 1)) // a second rating changes nothing
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), id)
	if err != nil || r.Survey != "overall" || r.Channel != "zalo" || r.Answers[0].Score != 4 || r.Comment != "Giải quyết nhanh [Thái độ tốt; Đúng hẹn]" {
		t.Fatalf("response %+v %v", r, err)
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=overall&channel=zalo", nil)
	if rep["responses"] != 1.0 || rep["overall"].(map[string]any)["satisfaction_rate"] != 100.0 {
		t.Fatalf("report %v", rep)
	}
}

// The first call meets -216; the gateway refreshes once, stores both new
// tokens, and the retry succeeds.
func TestExpiredTokenIsRefreshedAndRetried(t *testing.T) {
	g, f := setup(t)
	f.mu.Lock()
	f.access, f.refresh = "AT-NEW-ELSEWHERE", "RT1" // the stored AT1 is no longer valid
	f.mu.Unlock()
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "xin chao", "MSGID", "t-1"))
	if len(f.texts()) != 1 || f.refreshes != 1 {
		t.Fatalf("texts %v refreshes %d", f.texts(), f.refreshes)
	}
	ch, err := g.Core.Channel(t.Context(), "oa")
	if err != nil || ch.Secrets["access_token"] != "AT2" || ch.Secrets["refresh_token"] != "RT2" || time.Until(ch.TokenExpires) < 24*time.Hour {
		t.Fatalf("stored tokens %v expires %v (%v)", ch.Secrets, ch.TokenExpires, err)
	}
}

// Two gateway instances sharing Redis and MongoDB see the token go stale at
// once: one refresh happens, and both end with the new token.
func TestConcurrentRefreshRefreshesOnce(t *testing.T) {
	g, f := setup(t)
	other := *g.Core // a second instance over the same stores
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, svc := range []*gwtest.Gateway{g, {Core: &other}} {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = zalo.RefreshTokens(t.Context(), svc.Core, quiet, "oa", "AT1") }()
	}
	wg.Wait()
	if errs[0] != nil || errs[1] != nil || f.refreshes != 1 {
		t.Fatalf("errors %v, %d refreshes", errs, f.refreshes)
	}
	ch, _ := other.Channel(t.Context(), "oa")
	if ch.Secrets["access_token"] != "AT2" {
		t.Fatalf("token %s", ch.Secrets["access_token"])
	}
}

func TestFailedRefreshKeepsTokensAndWarns(t *testing.T) {
	g, f := setup(t)
	f.refreshFails = true
	if err := zalo.RefreshTokens(t.Context(), g.Core, quiet, "oa", "AT1"); err == nil {
		t.Fatal("a refused refresh reported success")
	}
	ch, _ := g.Core.Channel(t.Context(), "oa")
	if ch.Secrets["access_token"] != "AT1" || ch.Secrets["refresh_token"] != "RT1" {
		t.Fatalf("tokens changed: %v", ch.Secrets)
	}
	res := g.Do(httptest.NewRequest("GET", "/readyz", nil))
	if body := gwtest.Body(res); res.StatusCode != 200 || !strings.Contains(body, `"warnings":{"oa":"token refresh failed`) {
		t.Fatalf("readyz %d %s", res.StatusCode, body)
	}
}

// A template the user cannot receive falls back to the SMS channel, and the
// invitation says why.
func TestTemplateFailureFallsBackToSMS(t *testing.T) {
	g, f := setup(t)
	sms := smstest.NewFake(t, `{}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": sms.URL, "default": true}, "secrets": map[string]any{"secret": "sms-secret-0123456789"}})
	f.znsError = -230
	inv := g.Invite("D-FALLBACK", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"zalo"}})
	for i := 0; i < 2; i++ {
		if err := g.Sender.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	sends := got["sends"].(map[string]any)
	z, s := sends["oa"].(map[string]any), sends["gen"].(map[string]any)
	if z["status"] != "fallback" || !strings.Contains(z["error"].(string), "-230") || !strings.Contains(z["error"].(string), "SMS channel gen") || s["status"] != "sent" {
		t.Fatalf("sends %v", sends)
	}
	if len(sms.Requests()) != 1 {
		t.Fatalf("SMS sends %d", len(sms.Requests()))
	}
}

// An event acknowledged to Zalo but never processed (the worker died) is
// processed by the restarted worker, or by another replica after a while.
func TestAcknowledgedEventSurvivesACrash(t *testing.T) {
	g, f := setup(t)
	body := event(t, "user_send_text.json", "TEXT", "xin chao", "MSGID", "c-1")
	if res := g.Do(signed(body)); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	// Worker "a" reads the event and dies before processing it.
	if es, err := g.Core.Inbox.Read(t.Context(), "a", 10, time.Minute, 10*time.Millisecond); err != nil || len(es) != 1 {
		t.Fatalf("read %v %v", es, err)
	}
	drain(t, g, "b") // another replica: the entry is not stale yet
	if len(f.texts()) != 0 {
		t.Fatal("processed while still leased to a")
	}
	drain(t, g, "a") // a restarts and takes its own pending entry first
	if len(f.texts()) != 1 {
		t.Fatalf("after restart: %v", f.texts())
	}
	// And a replica takes over an entry whose reader never came back.
	body = event(t, "user_send_text.json", "TEXT", "5", "MSGID", "c-2")
	g.Do(signed(body))
	_, _ = g.Core.Inbox.Read(t.Context(), "dead", 10, time.Minute, 10*time.Millisecond)
	w := zalo.NewWorker(channels.Deps{Core: g.Core, Log: quiet}, "c")
	if err := w.Drain(t.Context(), 0, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if n, _ := g.Core.Inbox.Pending(t.Context()); n != 0 || len(f.texts()) != 1 {
		t.Fatalf("pending %d texts %v", n, f.texts())
	}
}

func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"user_send_text.json", "follow.json", "user_submit_info.json", "user_feedback.json", "user_received_message.json", "unknown_event.json"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := zalo.ParseEvent(body)
		if err == nil && e.Name == "" {
			t.Fatal("accepted an event without a name")
		}
		_ = zalo.Signature(appID, body, "1", oaSecret)
	})
}

// A rating for an invitation the citizen opted out of is not counted; the
// event is kept as a dead letter.
func TestRatingOfAClosedInvitationIsNotCounted(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-CLOSED", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	if err := g.Mongo.Invitations.MarkOptedOut(t.Context(), inv["id"].(string)); err != nil {
		t.Fatal(err)
	}
	deliver(t, g, event(t, "user_feedback.json", "MSGID", "fb-c", "TRACKING", inv["id"].(string)))
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses", n)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got["status"] != "opted_out" {
		t.Fatalf("status %v", got["status"])
	}
	dead, _ := g.Core.Inbox.Dead(t.Context(), 10)
	if len(dead) != 1 || !strings.Contains(dead[0], "opted_out") {
		t.Fatalf("dead letters %v", dead)
	}
}

func TestChannelCheck(t *testing.T) {
	g, f := setup(t)
	f.mu.Lock()
	f.access = "AT-ROTATED" // the check refreshes once and succeeds
	f.mu.Unlock()
	res, out := g.API("POST", "/api/v1/channels/oa/test", nil)
	if res.StatusCode != 200 || out["ok"] != true || !strings.Contains(out["result"].(string), "UBND tỉnh Quảng Nam") {
		t.Fatalf("check: %d %v", res.StatusCode, out)
	}
	f.refreshFails = true
	f.mu.Lock()
	f.access = "AT-ELSEWHERE"
	f.mu.Unlock()
	if res, out := g.API("POST", "/api/v1/channels/oa/test", nil); res.StatusCode != 502 || out["ok"] != false {
		t.Fatalf("failing check: %d %v", res.StatusCode, out)
	}
}

// Typed replies go through the same reader: a sure one is taken as is, an
// unsure one is asked back with a yes button, and the yes completes it.
func TestTypedRepliesUseTheReader(t *testing.T) {
	g, f := setup(t)
	inv := g.Invite("D-ZALO-TYPED", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	deliver(t, g, event(t, "user_submit_info.json", "PHONE", "0912 345 678"))
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "Dạ rất hài lòng ạ", "MSGID", "ty-1"))
	if got := f.texts(); !strings.HasPrefix(got[len(got)-1], "Câu 2/5") {
		t.Fatalf("after a sure reply: %v", got)
	}
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "54 54", "MSGID", "ty-2"))
	got := f.texts()
	bs := buttons(t, f.last())
	if got[len(got)-1] != "Ông/bà chấm B5 C4 D5 E4? Trả lời C để xác nhận, hoặc gửi lại điểm." || len(bs) != 1 || bs[0].(map[string]any)["payload"] != "C" {
		t.Fatalf("asked back: %q %v", got[len(got)-1], bs)
	}
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "C", "MSGID", "ty-3"))
	if got := f.texts(); !strings.HasPrefix(got[len(got)-1], "Cảm ơn ông/bà đã đánh giá!") {
		t.Fatalf("after C: %v", got)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || r.Answers[0].Score != 5 || r.Answers[1].Score != 5 || r.Answers[4].Score != 4 || r.Channel != "zalo" {
		t.Fatalf("%+v %v", r, err)
	}
}

// max_age widens or narrows the window; it is checked like other settings.
func TestMaxAge(t *testing.T) {
	g, _ := setup(t)
	smstest.Run(t, g, []smstest.Case{
		{Name: "nine minutes old", Req: func() *http.Request {
			return signed(at(event(t, "user_send_text.json", "TEXT", "5", "MSGID", "age-1"), time.Now().Add(-9*time.Minute)))
		}, Status: 200, Body: `"ok":true`},
	})
	_, ch := g.API("GET", "/api/v1/channels/oa", nil)
	settings := ch["settings"].(map[string]any)
	settings["max_age"] = "1h"
	smstest.Configure(t, g, "oa", map[string]any{"type": "zalo.oa", "settings": settings})
	smstest.Run(t, g, []smstest.Case{
		{Name: "half an hour old", Req: func() *http.Request {
			return signed(at(event(t, "user_send_text.json", "TEXT", "5", "MSGID", "age-2"), time.Now().Add(-30*time.Minute)))
		}, Status: 200, Body: `"ok":true`},
	})
	settings["max_age"] = "forever"
	if res, out := g.API("PUT", "/api/v1/channels/oa", map[string]any{"type": "zalo.oa", "settings": settings}); res.StatusCode != 400 {
		t.Fatalf("max_age forever: %d %v", res.StatusCode, out)
	}
}

// The answer to a follow-up case of a survey done in the Zalo chat goes
// back to that chat, and the follower's next score rates it.
func TestCaseAnswerGoesBackToTheChat(t *testing.T) {
	g, f := setup(t)
	g.Invite("D-ZALO-CASE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	deliver(t, g, event(t, "user_submit_info.json", "PHONE", "0912 345 678"))
	for i, score := range []string{"1", "2", "3", "3", "3"} {
		deliver(t, g, event(t, "user_send_text.json", "TEXT", score, "MSGID", fmt.Sprint("case-", i)))
	}
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	cs := list["cases"].([]any)
	if len(cs) != 1 {
		t.Fatalf("cases %v", list)
	}
	id := cs[0].(map[string]any)["id"].(string)
	if res, out := g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Sở đã chấn chỉnh bộ phận một cửa."}); res.StatusCode != 200 {
		t.Fatalf("answer: %d %v", res.StatusCode, out)
	}
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	texts := f.texts()
	if last := texts[len(texts)-1]; !strings.Contains(last, "Sở đã chấn chỉnh bộ phận một cửa.") || f.last()["recipient"].(map[string]any)["user_id"] != user {
		t.Fatalf("the answer in the chat: %q", last)
	}
	deliver(t, g, event(t, "user_send_text.json", "TEXT", "4", "MSGID", "case-rate"))
	_, c := g.API("GET", "/api/v1/cases/"+id, nil)
	if c["status"] != "closed" || c["rating"] != 4.0 || c["answer_send"] != "sent" {
		t.Fatalf("after the chat's rating: %v", c)
	}
}
