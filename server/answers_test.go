package server_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// answerFixture is an SMS survey answered low by 0912345678, so a case
// waits for its answer, with a fake provider that counts what is sent.
type answerFixture struct {
	t    *testing.T
	g    *gwtest.Gateway
	fake *smstest.Fake
	id   string // the case
}

func newAnswerFixture(t *testing.T, options ...func(*config.Config)) *answerFixture {
	g := gwtest.New(t, "", options...)
	f := &answerFixture{t: t, g: g, fake: smstest.NewFake(t, `{"id":"prov-1"}`)}
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": f.fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": answerSecret}})
	g.Invite("ANS-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	f.sms("s-1", "1 1 1 1 1")
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	cs, _ := list["cases"].([]any)
	if len(cs) != 1 {
		t.Fatalf("cases %v", list)
	}
	f.id = cs[0].(map[string]any)["id"].(string)
	return f
}

const answerSecret = "answer-secret-0123456789"

// sms delivers a text from the citizen and returns the gateway's answer.
func (f *answerFixture) sms(id, text string) string {
	f.t.Helper()
	body := fmt.Sprintf(`{"id":%q,"from":"0912345678","to":"8079","text":%q}`, id, text)
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign(answerSecret, []byte(body)))
	res := f.g.Do(req)
	if res.StatusCode != 200 {
		f.t.Fatalf("webhook %s: %d %s", text, res.StatusCode, gwtest.Body(res))
	}
	return gwtest.Body(res)
}

// do runs a case action through the API.
func (f *answerFixture) do(action string, body any) map[string]any {
	f.t.Helper()
	res, out := f.g.API("POST", "/api/v1/cases/"+f.id+"/"+action, body)
	if res.StatusCode != 200 {
		f.t.Fatalf("%s: %d %v", action, res.StatusCode, out)
	}
	return out
}

func (f *answerFixture) get() map[string]any {
	f.t.Helper()
	_, c := f.g.API("GET", "/api/v1/cases/"+f.id, nil)
	return c
}

// answersSent counts the answer texts the provider received.
func (f *answerFixture) answersSent() int {
	n := 0
	for _, r := range f.fake.Requests() {
		if strings.Contains(r.Body, "Tra loi cua") {
			n++
		}
	}
	return n
}

// drainUntilSent runs send passes until the case's answer is recorded
// sent: a send delayed by a lock comes back on a later pass. The bound
// only keeps a broken build from hanging; nothing is timed.
func (f *answerFixture) drainUntilSent() {
	f.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := f.g.Sender.Drain(f.t.Context()); err != nil {
			f.t.Fatalf("send pass: %v", err)
		}
		if c := f.get(); c["answer_send"] == "sent" {
			return
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the answer was never recorded sent: %v (the provider got %d)", f.get(), f.answersSent())
		}
	}
}

// rates checks that a reply of 5 rates the case's answer and closes it.
func (f *answerFixture) rates(msgID string) {
	f.t.Helper()
	if r := f.sms(msgID, "5"); !strings.Contains(r, "danh gia cau tra loi") {
		f.t.Fatalf("the citizen's 5 after the answer was sent got %s", r)
	}
	if c := f.get(); c["status"] != "closed" || c["rating"] != 5.0 {
		f.t.Fatalf("after the citizen's 5: %v", c)
	}
}

// peekJob hands back the one job in the send queue, leaving it there as
// it was, so a test can later put it back as a sender that died before
// marking it done would leave it once its lease runs out.
func peekJob(t *testing.T, g *gwtest.Gateway) store.SendJob {
	t.Helper()
	jobs, err := g.Core.Queue.Claim(t.Context(), time.Now(), time.Minute, 10)
	if err != nil || len(jobs) != 1 {
		t.Fatalf("send jobs %v (%v), want one", jobs, err)
	}
	if err := g.Core.Queue.Enqueue(t.Context(), jobs[0], time.Now()); err != nil {
		t.Fatal(err)
	}
	return jobs[0]
}

// An operator answers an SMS case while another holder has the case's
// lock (the answering request itself, a rating, the sweep): the send
// waits for the lock instead of failing the send pass, goes out once
// when the lock is free, and the citizen's first 5 after it rates the
// case. (Before, the pass failed "locked by another holder" after the
// provider took the text, the case stayed "queued", the 5 was told the
// survey was answered, and the job went out again a minute later.)
func TestCaseAnswerWaitsForTheCaseLock(t *testing.T) {
	f := newAnswerFixture(t)
	if c := f.do("answer", map[string]any{"text": "Sở đã xử lý hồ sơ."}); c["answer_send"] != "queued" {
		t.Fatalf("answered %v", c)
	}
	lease, err := f.g.Core.Locks.Acquire(t.Context(), "case:"+f.id, time.Minute) // the lock ChangeCase takes
	if err != nil {
		t.Fatal(err)
	}
	if err := f.g.Sender.Drain(t.Context()); err != nil {
		t.Fatalf("a send pass while another holder has the case: %v", err)
	}
	if n := f.answersSent(); n != 0 {
		t.Fatalf("the answer went out %d times while the case was locked: its send is recorded under the lock", n)
	}
	if r := f.sms("s-2", "5"); strings.Contains(r, "danh gia cau tra loi") {
		t.Fatalf("a 5 before the answer was sent rated it: %s", r)
	}
	if err := lease.Release(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.drainUntilSent()
	f.rates("s-3")
	if err := f.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := f.answersSent(); n != 1 {
		t.Fatalf("the provider got the answer %d times, want once", n)
	}
}

// A send job taken again after its sender was cut (before it recorded the
// send, or after that but before it marked the job done) sends nothing
// more: the send is keyed by the case and its answer number, and the
// retry only finishes what the first attempt left.
func TestCaseAnswerSentOnceAcrossACut(t *testing.T) {
	f := newAnswerFixture(t)
	f.do("answer", map[string]any{"text": "Sở đã xử lý hồ sơ."})
	job := peekJob(t, f.g)
	if err := f.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if c := f.get(); c["answer_send"] != "sent" || f.answersSent() != 1 {
		t.Fatalf("after the send pass: %v, sent %d", c, f.answersSent())
	}

	// Cut after the send was recorded, before the job was marked done.
	if err := f.g.Core.Queue.Enqueue(t.Context(), job, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := f.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := f.answersSent(); n != 1 {
		t.Fatalf("a job taken again after the send was recorded sent it again: %d", n)
	}

	// Cut after the provider took it, before the case recorded it: the
	// case still says queued.
	c, err := f.g.Mongo.Cases.Get(t.Context(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	c.AnswerSend = store.SendQueued
	c.History = c.History[:len(c.History)-1] // the answer_sent event
	if err := f.g.Mongo.Cases.Save(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	if err := f.g.Core.Queue.Enqueue(t.Context(), job, time.Now()); err != nil {
		t.Fatal(err)
	}
	f.drainUntilSent()
	if n := f.answersSent(); n != 1 {
		t.Fatalf("a job taken again after the provider took the answer sent it again: %d", n)
	}
	f.rates("s-2")
}

// The rating waits for the answer it rates: once the case was answered
// again, a 5 while the new answer has not gone out is no rating (the
// citizen cannot have read it; a later issue holds texts outside send
// hours), and the first 5 after it went out is.
func TestCaseRatingWaitsForTheAnswerToGoOut(t *testing.T) {
	f := newAnswerFixture(t)
	f.do("answer", map[string]any{"text": "Sở đã xử lý hồ sơ."})
	f.drainUntilSent()
	f.do("reopen", nil)
	if c := f.do("answer", map[string]any{"text": "Sở đã đổi cán bộ tiếp nhận."}); c["answer_send"] != "queued" {
		t.Fatalf("answered again %v", c)
	}
	if r := f.sms("s-2", "5"); strings.Contains(r, "danh gia cau tra loi") {
		t.Fatalf("a 5 before the second answer was sent rated it: %s", r)
	}
	if c := f.get(); c["status"] != "answered" || c["rating"] != nil {
		t.Fatalf("rated before the answer went out: %v", c)
	}
	f.drainUntilSent()
	f.rates("s-3")
	if n := f.answersSent(); n != 2 {
		t.Fatalf("the provider got %d answers, want 2", n)
	}
}

// An answer given at night waits for the morning's send hours, like an
// invitation, and its rating is armed only once it went: a 5 before then
// rates nothing.
func TestCaseAnswerWaitsForTheSendHours(t *testing.T) {
	f := newAnswerFixture(t, gwtest.ReachDefaults)
	vn := time.FixedZone("ICT", 7*3600)
	now := time.Now().In(vn)
	night := time.Date(now.Year(), now.Month(), now.Day(), 22, 0, 0, 0, vn)
	if !night.After(now) {
		night = night.AddDate(0, 0, 1)
	}
	var at atomic.Int64
	at.Store(night.UnixMilli())
	f.g.Core.Clock = func() time.Time { return time.UnixMilli(at.Load()) }
	if c := f.do("answer", map[string]any{"text": "Sở đã xử lý hồ sơ."}); c["answer_send"] != "queued" {
		t.Fatalf("answered at night: %v", c)
	}
	if err := f.g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := f.answersSent(); n != 0 {
		t.Fatalf("an answer went out at 22:00")
	}
	if r := f.sms("s-night", "5"); strings.Contains(r, "danh gia cau tra loi") {
		t.Fatalf("a 5 before the answer went out rated it: %s", r)
	}
	at.Store(night.Add(10*time.Hour + 30*time.Minute).UnixMilli()) // 08:30 the next morning
	f.drainUntilSent()
	f.rates("s-morning")
}
