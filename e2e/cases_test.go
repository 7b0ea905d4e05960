package e2e

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// The follow-up loop as an operator and a citizen live it: a low web
// answer and a low SMS answer each open a case; the operator answers the
// web one in the console (headless Chromium); the citizen gets the answer
// by SMS (a fake provider) and rates it 5; the case closes.
func TestFollowUpLoopInTheConsole(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Tree(t)
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	const secret = "loop-secret-0123456789"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	sms := func(id, from, text string) string {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"from":%q,"to":"8079","text":%q}`, id, from, text)
		req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
		res := g.Do(req)
		if res.StatusCode != 200 {
			t.Fatalf("webhook: %d", res.StatusCode)
		}
		return gwtest.Body(res)
	}
	web := g.Invite("LOOP-WEB", "000.00.12.H49", map[string]any{"survey": "sipas-5", "phone": "0912345678"})
	form := url.Values{"A": {"2"}, "B": {"3"}, "C": {"1"}, "D": {"3"}, "E": {"3"}, "comment": {"Cán bộ quát tháo, chờ lâu"}}
	if res := g.Form("/s/"+gwtest.Token(web), form.Encode()); res.StatusCode != 303 {
		t.Fatalf("web answer: %d", res.StatusCode)
	}
	g.Invite("LOOP-SMS", "000.00.13.H49", map[string]any{"phone": "0987654321"})
	sms("m-1", "0987654321", "1 2 3 3 3")
	g.Drain()

	ctx := browser(t)
	text := texter(t, ctx)
	err := chromedp.Do(ctx,
		signIn(g, "/console/login"),
		chromedp.Navigate(g.URL+"/console/cases"),
		chromedp.WaitVisible(chromedp.ID("cases")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rows := text("#cases tbody"); !strings.Contains(rows, "LOOP-WEB") || !strings.Contains(rows, "LOOP-SMS") {
		t.Fatalf("cases %q", rows)
	}
	webCase := ""
	_, list := g.API("GET", "/api/v1/cases", nil)
	for _, c := range list["cases"].([]any) {
		if c := c.(map[string]any); c["dossier_code"] == "LOOP-WEB" {
			webCase = c["id"].(string)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+webCase+`"]`)),
		chromedp.WaitVisible(chromedp.ID("answer")),
		chromedp.SendKeys(chromedp.CSS(`#answer textarea`), "Sở đã nhắc nhở cán bộ và bố trí thêm quầy. Xin lỗi ông/bà."),
		chromedp.Click(chromedp.CSS(`#answer button`)),
		chromedp.WaitVisible(chromedp.CSS(`#case-status[data-status="answered"]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	shot(t, ctx, "console-case.png")
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := fake.Requests()
	if len(sent) != 1 || !strings.Contains(sent[0].Body, "84912345678") || !strings.Contains(sent[0].Body, "bo tri them quay") {
		t.Fatalf("the answer by SMS: %v", sent)
	}
	if reply := sms("m-2", "0912345678", "5"); !strings.Contains(reply, "danh gia cau tra loi") {
		t.Fatalf("rating reply %s", reply)
	}
	err = chromedp.Do(ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#case-status[data-status="closed"]`)))
	if err != nil {
		t.Fatal(err)
	}
	if h := text("#history"); !strings.Contains(h, "Đã gửi trả lời") || !strings.Contains(h, "Công dân chấm câu trả lời 5/5") || strings.Contains(h, "answer_sent") {
		t.Fatalf("history %q", h)
	}
	// The figures count it, on the dashboard too: on time over the cases
	// due (the answered one; the other is not due yet).
	g.Drain()
	err = chromedp.Do(ctx, chromedp.Navigate(g.URL+"/console/dashboard"), chromedp.WaitVisible(chromedp.ID("followup")))
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Join(strings.Fields(text("#followup")), " "); !strings.Contains(f, "2 Vụ việc cần theo dõi") || !strings.Contains(f, "100,00% Trả lời đúng hạn (1/1)") || !strings.Contains(f, "5,00 Công dân chấm") {
		t.Fatalf("follow-up figures %q", f)
	}
}
