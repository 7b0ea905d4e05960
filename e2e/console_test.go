package e2e

import (
	"bytes"
	"context"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
)

// An operator signs in, reads the dashboard, adds a channel and prints a
// sheet of QR codes that a real decoder reads back.
func TestConsole(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Tree(t)
	var urls []string
	for i, s := range []struct{ agency, score, comment string }{
		{"000.00.12.H49", "5", "Cán bộ nhiệt tình, hướng dẫn rõ ràng"}, {"000.00.12.H49", "4", "Thủ tục đơn giản"}, {"000.00.13.H49", "2", "Phải chờ lâu, phòng chờ nóng"},
	} {
		inv := g.Invite("QR-"+string(rune('A'+i)), s.agency, map[string]any{"survey": "sipas-5", "procedure_code": "1.0001"})
		urls = append(urls, inv["survey_url"].(string))
		form := url.Values{"comment": {s.comment}}
		for _, q := range []string{"A", "B", "C", "D", "E"} {
			form.Set(q, s.score)
		}
		if res := g.Form("/s/"+gwtest.Token(inv), form.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %d", res.StatusCode)
		}
	}
	g.Drain()

	ctx := browser(t)
	text := texter(t, ctx)
	err := chromedp.Do(ctx,
		signIn(g, "/console/dashboard"), // not signed in: sent to the login page
		chromedp.Navigate(g.URL+"/console/dashboard?survey=sipas-5"),
		chromedp.WaitVisible(chromedp.ID("kpi-responses")),
	)
	if err != nil {
		t.Fatal(err)
	}
	// Three responses: two of three satisfied on every indicator.
	if got := text("#kpi-responses"); got != "3" {
		t.Fatalf("responses %q", got)
	}
	if got := text("#kpi-index"); got != "66,67%" {
		t.Fatalf("index %q", got)
	}
	if got := text("#kpi-mean"); got != "3,67" {
		t.Fatalf("mean %q", got)
	}
	if got := text("#topics"); !strings.Contains(got, "Thời gian chờ") || !strings.Contains(got, "Thái độ cán bộ") {
		t.Fatalf("topics %q", got)
	}
	shot(t, ctx, "console-dashboard.png")
	// The header's link turns the console into English and back; the
	// choice holds from page to page.
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(`//h1[text()="Dashboard"]`),
		chromedp.Navigate(g.URL+"/console/comments"), chromedp.WaitVisible(`//h1[text()="Comments"]`),
		chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(`//h1[text()="Ý kiến"]`))
	if err != nil {
		t.Fatal(err)
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/console/channels"),
		chromedp.SetValue(chromedp.CSS(`#channel-type select[name="type"]`), "sms.generic"),
		chromedp.Click(chromedp.CSS(`#channel-type button`)),
		chromedp.WaitVisible(chromedp.CSS(`#channel-form input[name="id"]`)),
		chromedp.SendKeys(chromedp.CSS(`#channel-form input[name="id"]`), "sms-main"),
		chromedp.SendKeys(chromedp.CSS(`input[name="s_send_url"]`), "http://127.0.0.1:9/send"),
		chromedp.Click(chromedp.CSS(`input[name="s_default"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="k_secret"]`), "console-secret-1"),
		chromedp.Click(chromedp.CSS(`#channel-form button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#channels tbody tr`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#channels tbody"); !strings.Contains(got, "sms-main") || !strings.Contains(got, "SMS qua đơn vị tích hợp") || strings.Contains(got, "console-secret-1") {
		t.Fatalf("channels table %q", got)
	}
	shot(t, ctx, "console-channels.png")

	// A citizen answers by SMS through that channel; the invitation's page
	// shows the conversation, the phone masked.
	g.Invite("SMS-1", "000.00.12.H49", map[string]any{"phone": "0912345678", "procedure_code": "1.0001"})
	body := `{"id":"m-1","from":"0912345678","to":"8079","text":"5 4 5 4 5 cho hơi lâu"}`
	req := httptest.NewRequest("POST", "/webhooks/sms/sms-main", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign("console-secret-1", []byte(body)))
	if res := g.Do(req); res.StatusCode != 200 {
		t.Fatalf("SMS webhook: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Drain()
	err = chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/console/invitations?dossier_code=SMS-1"),
		chromedp.WaitVisible(chromedp.ID("conversation")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text("#conversation"); !strings.Contains(got, "84******678") || !strings.Contains(got, "5 4 5 4 5 cho hơi lâu") ||
		!strings.Contains(got, "Công dân gửi") || !strings.Contains(got, "Cam on") || strings.Contains(got, "912345678") {
		t.Fatalf("conversation %q", got)
	}
	shot(t, ctx, "console-conversation.png")

	err = chromedp.Do(ctx,
		chromedp.Navigate(g.URL+"/console/invitations"),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name="codes"]`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name="codes"]`), "QR-A\nQR-C"),
		chromedp.Click(chromedp.CSS(`form[action="/console/qr-sheet"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`figure.qr img`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("GATEWAY_TEST_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(dir+"/console-qr-sheet.png", png, 0o644)
	}
	cmd := exec.Command(testenv.Tool(t, "zbarimg"), "--raw", "-q", "-")
	cmd.Stdin = bytes.NewReader(png)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg on the printed sheet: %v", err)
	}
	got := string(out)
	if !strings.Contains(got, urls[0]) || !strings.Contains(got, urls[2]) || strings.Contains(got, urls[1]) {
		t.Fatalf("decoded %q, want %s and %s", got, urls[0], urls[2])
	}
	if captions := text(".sheet"); !strings.Contains(captions, "QR-A") || !strings.Contains(captions, "QR-C") {
		t.Fatalf("captions %q", captions)
	}
	_ = context.Background
	_ = time.Second
}
