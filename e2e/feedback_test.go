package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// A citizen on a phone opens an agency's feedback link, sends a
// complaint with a mistyped phone (the form comes back, typed text kept),
// corrects it, and confirms the phone with the code texted to it; every
// page, Vietnamese and English, passes axe-core with no serious or
// critical violation, without a script.
func TestCitizenSendsFeedbackFromAPhone(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": "e2e-feedback-secret-0123"}})
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "name_en": "Department of Justice"}); res.StatusCode != 200 {
		t.Fatalf("agency: %v", out)
	}
	link := g.Core.FeedbackURL("000.00.12.H49")
	ctx := browser(t)
	text := texter(t, ctx)
	for _, l := range []string{"?lang=en", ""} {
		if err := chromedp.Do(ctx, chromedp.Navigate(link+l), chromedp.WaitVisible(chromedp.CSS("form"))); err != nil {
			t.Fatal(err)
		}
		axeCheck(t, ctx, "/g/…"+l)
	}
	shot(t, ctx, "feedback-form.png")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`input[name="type"][value="complaint"]`)),
		chromedp.SendKeys(chromedp.ID("f-text"), "Phải chờ hơn hai giờ mới được tiếp nhận hồ sơ."),
		chromedp.SendKeys(chromedp.ID("f-phone"), "09123"),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.ID("problems")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text("#problems"); !strings.Contains(got, "Số điện thoại") {
		t.Fatalf("the form's alert: %q", got)
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-text").value`)); err != nil || got != "Phải chờ hơn hai giờ mới được tiếp nhận hồ sơ." {
		t.Fatalf("the text was not kept: %q %v", got, err)
	}
	axeCheck(t, ctx, "/g/… with a problem")
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.ID("f-phone"), "0912 345 678"),
		chromedp.Click(chromedp.CSS(`button.primary`)),
		chromedp.WaitVisible(chromedp.ID("reference")),
	); err != nil {
		t.Fatal(err)
	}
	if ref := text("#reference"); !regexp.MustCompile(`^PA\d{6}-[A-Z2-7]{8}$`).MatchString(ref) {
		t.Fatalf("reference %q", ref)
	}
	axeCheck(t, ctx, "/g/…/done/… asking for the code")
	shot(t, ctx, "feedback-code.png")
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := fake.Requests()
	if len(sent) != 1 {
		t.Fatalf("%d texts sent", len(sent))
	}
	var msg struct{ To, Text string }
	_ = json.Unmarshal([]byte(sent[0].Body), &msg)
	code := regexp.MustCompile(`\d{6}`).FindString(msg.Text)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("f-code"), code),
		chromedp.Click(chromedp.CSS(`button[value="confirm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#phone-state[data-state="confirmed"]`)),
	); err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "/g/…/done/… confirmed")
	weight, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(n => [n.encodedBodySize, n.decodedBodySize])(performance.getEntriesByType("navigation")[0])`))
	if err == nil {
		t.Logf("thank-you page: %.1f KB sent, %.1f KB HTML", weight[0]/1024, weight[1]/1024)
	}
	if scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`)); err != nil || scripts != 0 {
		t.Fatalf("scripts on the page: %d %v", scripts, err)
	}
}
