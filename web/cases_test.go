package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// An operator answers an SMS case in the console while the sender runs
// beside it, as in cmd/gateway (the answer wakes it at once): the answer
// goes out once, the case leaves "queued", and the citizen's first 5
// rates it. (Before, the woken sender often found the case still locked
// by the answering request: the pass failed after the provider took the
// text, and the first 5 was told the survey was answered.)
func TestConsoleAnswerReachesTheCitizenOnce(t *testing.T) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	const secret = "console-secret-0123456789"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	sms := func(id, text string) string {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"from":"0912345678","to":"8079","text":%q}`, id, text)
		req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
		return gwtest.Body(g.Do(req))
	}
	g.Invite("CON-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	sms("s-1", "1 1 1 1 1")
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	id := list["cases"].([]any)[0].(map[string]any)["id"].(string)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.Sender.Run(ctx, 10*time.Millisecond) }()
	defer func() { stop(); wg.Wait() }()

	cookie := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, page := g.Page("/console/cases/"+id, cookie)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	if res := g.PostForm("/console/cases/"+id+"/answer", url.Values{"csrf": {csrf}, "text": {"Sở đã xử lý hồ sơ."}}, cookie); res.StatusCode != 303 {
		t.Fatalf("answer in the console: %d %s", res.StatusCode, gwtest.Body(res))
	}
	// The bound only keeps a broken build from hanging; nothing is timed.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, c := g.API("GET", "/api/v1/cases/"+id, nil); c["answer_send"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			_, c := g.API("GET", "/api/v1/cases/"+id, nil)
			t.Fatalf("the answer was never recorded sent: %v", c)
		}
	}
	if r := sms("s-2", "5"); !strings.Contains(r, "danh gia cau tra loi") {
		t.Fatalf("the citizen's first 5 after the answer: %s", r)
	}
	stop()
	wg.Wait()
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, c := g.API("GET", "/api/v1/cases/"+id, nil)
	sent := 0
	for _, r := range fake.Requests() {
		if strings.Contains(r.Body, "Tra loi cua") {
			sent++
		}
	}
	if c["status"] != "closed" || sent != 1 {
		t.Fatalf("case %v; the provider got the answer %d times, want once", c, sent)
	}
}
