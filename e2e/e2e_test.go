// Package e2e drives the whole QR path as a citizen would: a real QR decoder
// reads the printed code, headless Chromium opens the link and answers every
// question, and the operator's report then counts the response.
package e2e

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/survey"
)

func browser(t *testing.T) context.Context {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(testenv.Tool(t, "chromium")),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(412, 915), // a common phone viewport
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelT(); cancel(); cancelAlloc() })
	return ctx
}

// signIn signs an operator in with the admin key at a desk's 1280×800,
// from page (a console page sends one to the login form first).
func signIn(g *gwtest.Gateway, page string) chromedp.Action[chromedp.Void] {
	return signInWith(g, gwtest.AdminKey, page)
}

// signInWith signs an operator in with key, as signIn does.
func signInWith(g *gwtest.Gateway, key, page string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(g.URL+page),
		chromedp.WaitVisible(chromedp.ID("key")),
		chromedp.SendKeys(chromedp.ID("key"), key),
		chromedp.Click(chromedp.CSS(`form:first-of-type button`)),
		chromedp.WaitVisible(chromedp.ID("kpi-responses")),
	)
}

// texter reads an element's trimmed text, failing the test when it cannot.
func texter(t *testing.T, ctx context.Context) func(sel string) string {
	return func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
}

func TestCitizenScansAnswersAndTheReportCounts(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Work(100 * time.Millisecond)
	g.Core.Saved = func(int) { g.Applier.Kick() }

	inv := g.Invite("000.00.12.H49-261125-0001", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	req, _ := http.NewRequest("GET", inv["qr_png_url"].(string), nil)
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("qr.png: %v %v", res, err)
	}
	png, _ := io.ReadAll(res.Body)
	link := gwtest.DecodeQR(t, png)
	if link != inv["survey_url"] {
		t.Fatalf("QR says %q, invitation says %q", link, inv["survey_url"])
	}

	def, _ := survey.Builtin().Survey(survey.SIPAS)
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("form"))); err != nil {
		t.Fatal(err)
	}
	for i, cr := range def.Criteria {
		var actions []chromedp.Action[chromedp.Void]
		for _, q := range def.QuestionsOf(cr.Code) {
			score := "5"
			if q.ID == "B5" {
				score = "2"
			}
			actions = append(actions, chromedp.Click(chromedp.CSS(`input[name="`+string(q.ID)+`"][value="`+score+`"]`)))
		}
		if i == len(def.Criteria)-1 {
			actions = append(actions, chromedp.SendKeys(chromedp.ID("comment"), "Cán bộ hướng dẫn tận tình"))
			shot(t, ctx, "survey-last-step.png")
		}
		// Wait for the next page itself: the next criterion's first question,
		// or the thank-you message after the last step.
		next := chromedp.CSS(".message.ok")
		if i < len(def.Criteria)-1 {
			next = chromedp.CSS(`input[name="` + string(def.QuestionsOf(def.Criteria[i+1].Code)[0].ID) + `"]`)
		}
		actions = append(actions, chromedp.Click(chromedp.CSS(`button[value="next"]`)), chromedp.WaitVisible(next))
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("step %s: %v", cr.Code, err)
		}
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("h1")))
	if err != nil {
		t.Fatal(err)
	}
	url, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if heading != "Cảm ơn ông/bà!" || !strings.HasSuffix(url, "/done?lang=vi") {
		t.Fatalf("after submit: %q at %s", heading, url)
	}
	shot(t, ctx, "survey-thanks.png")

	// The report counts it within a second or two.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, rep := g.API("GET", "/api/v1/reports/sipas?agency=000.00.12.H49", nil)
		if rep["responses"] == 1.0 {
			b5 := rep["indicators"].([]any)[8].(map[string]any)
			if b5["id"] != "B5" || b5["satisfaction_rate"] != 0.0 || rep["overall"].(map[string]any)["satisfaction_rate"] != 95.45 {
				t.Fatalf("report %v", rep)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("report never counted the response: %v", rep)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || r.Comment != "Cán bộ hướng dẫn tận tình" || r.Respondent == "" || strings.Contains(r.Respondent, "912345678") {
		t.Fatalf("stored response %+v %v", r, err)
	}
}

// shot saves a screenshot when GATEWAY_TEST_SCREENSHOTS names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("GATEWAY_TEST_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
