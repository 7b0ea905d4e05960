package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// kiosk pairs a tablet (headless Chromium at a tablet's 1280×800) with a
// new desk of agency and leaves it on the attract screen.
func kiosk(t *testing.T, g *gwtest.Gateway, desk, agency string) context.Context {
	t.Helper()
	res, out := g.API("PUT", "/api/v1/desks/"+desk, map[string]any{"agency_code": agency, "name": "Quầy 3", "officer": "Trần Thị Bình", "officer_pin": "20261128"})
	if res.StatusCode != 200 {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}
	ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(g.URL+"/kiosk"),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	if err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "/kiosk (pairing)")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.ID("code"), out["pairing_code"].(string)),
		chromedp.Click(chromedp.CSS("#pair-form button")),
		chromedp.WaitVisible(chromedp.ID("attract")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := texter(t, ctx)("#desk"); got != "Quầy 3 · Trần Thị Bình" {
		t.Fatalf("desk shown as %q", got)
	}
	axeCheck(t, ctx, "/kiosk (waiting)")
	return ctx
}

// answerOnKiosk answers the five screens of the short form with score,
// then sends a comment.
func answerOnKiosk(t *testing.T, ctx context.Context, score int, comment string) {
	t.Helper()
	for i := 1; i <= 5; i++ {
		err := chromedp.Do(ctx,
			chromedp.WaitVisible(fmt.Sprintf(`//p[@id="s-step"][starts-with(text(), "Phần %d trên 5")]`, i)),
			chromedp.Click(chromedp.CSS(fmt.Sprintf(`#s-questions .face[data-v="%d"]`, score))),
		)
		if err != nil {
			t.Fatalf("screen %d: %v", i, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("c-text")),
		chromedp.SendKeys(chromedp.ID("c-text"), comment),
		chromedp.Click(chromedp.ID("c-send")),
		chromedp.WaitVisible(chromedp.ID("thanks")),
	)
	if err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("waited 20 s for %s", what)
}

func completed(g *gwtest.Gateway, dossier string) bool {
	_, inv := g.API("GET", "/api/v1/invitations?dossier_code="+dossier, nil)
	return inv["status"] == "completed"
}

// The desk software presents a dossier; the tablet shows its survey at
// once, the citizen answers, and the report counts it under the desk.
func TestKioskAnswersTheDossierHandedBack(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Tree(t)
	ctx := kiosk(t, g, "quay-3", "000.00.12.H49")
	text := texter(t, ctx)

	res, out := g.API("POST", "/api/v1/desks/quay-3/present", map[string]any{"dossier_code": "000.00.12.H49-261128-0042", "procedure_code": "1.0001"})
	if res.StatusCode != 200 {
		t.Fatalf("present: %d %v", res.StatusCode, out)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("survey"))); err != nil {
		t.Fatal(err)
	}
	if got := text("#s-dossier"); got != "000.00.12.H49-261128-0042" {
		t.Fatalf("dossier shown %q", got)
	}
	if got := text("#s-agency"); got != "Sở Tư pháp" {
		t.Fatalf("agency shown %q", got)
	}
	axeCheck(t, ctx, "/kiosk (survey)")
	shot(t, ctx, "kiosk-survey.png")
	// English on request, and back.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("lang")), chromedp.WaitVisible(`//p[@id="s-step"][starts-with(text(), "Part 1 of 5")]`),
		chromedp.Click(chromedp.ID("lang")), chromedp.WaitVisible(`//p[@id="s-step"][starts-with(text(), "Phần 1 trên 5")]`)); err != nil {
		t.Fatal(err)
	}
	answerOnKiosk(t, ctx, 4, "Cán bộ hướng dẫn tận tình")
	axeCheck(t, ctx, "/kiosk (thanks)")
	waitFor(t, "the answer", func() bool { return completed(g, "000.00.12.H49-261128-0042") })
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("attract"))); err != nil {
		t.Fatal(err) // back to the attract screen by itself
	}

	// Presented again, the dossier is said to be rated already.
	g.API("POST", "/api/v1/desks/quay-3/present", map[string]any{"dossier_code": "000.00.12.H49-261128-0042"})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("already")), chromedp.WaitVisible(chromedp.ID("attract"))); err != nil {
		t.Fatal(err)
	}

	// The officer shows the next dossier from the tablet itself: refused
	// with a wrong PIN, shown with the desk's.
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Click(chromedp.CSS(".officer summary")),
		chromedp.SendKeys(chromedp.ID("dossier"), "000.00.12.H49-261128-0043"),
		chromedp.SendKeys(chromedp.ID("pin"), "11111111"),
		chromedp.Click(chromedp.CSS("#present-form button")),
		chromedp.WaitVisible(`//p[@id="present-error"][contains(text(), "wrong PIN")]`),
		chromedp.SetValue(chromedp.ID("pin"), "20261128"),
		chromedp.Click(chromedp.CSS("#present-form button")),
		chromedp.WaitVisible(chromedp.ID("survey")),
	} {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err := chromedp.Do(sctx, step)
		cancel()
		if err != nil {
			t.Fatalf("officer's presentation, step %d: %v (error shown: %q)", i, err, text("#present-error"))
		}
	}
	if got := text("#s-dossier"); got != "000.00.12.H49-261128-0043" {
		t.Fatalf("officer's dossier shown as %q", got)
	}

	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=all&group_by=desk", nil)
	groups, _ := rep["groups"].([]any)
	if rep["responses"] != 1.0 || len(groups) != 1 || groups[0].(map[string]any)["group"] != "quay-3" {
		t.Fatalf("report by desk: %v", rep)
	}
	_, rep = g.API("GET", "/api/v1/reports/sipas?channel=kiosk.quay-3.tran-thi-binh&survey=sipas-5", nil)
	if rep["responses"] != 1.0 || rep["overall"].(map[string]any)["satisfaction_rate"] != 100.0 {
		t.Fatalf("report of the kiosk channel: %v", rep)
	}
}

// offline cuts or restores the tablet's network as Chromium's DevTools
// emulate it: every request fails and navigator.onLine says so.
func offline(t *testing.T, ctx context.Context, off bool) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if _, err := chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			EmulateOfflineServiceWorker: &off, // the kiosk's service worker is cut off too
			MatchedNetworkConditions:    []*network.Conditions{{Offline: off, DownloadThroughput: -1, UploadThroughput: -1}}}); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, network.OverrideNetworkState, network.OverrideNetworkStateParams{Offline: off, DownloadThroughput: -1, UploadThroughput: -1})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// An answer taken while the network is down waits on the tablet, which
// says so, and lands once when the network returns.
func TestKioskKeepsAnswersWhileOffline(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	g.Tree(t)
	ctx := kiosk(t, g, "quay-5", "000.00.12.H49")
	text := texter(t, ctx)

	// The service worker keeps the page for a reload while offline.
	cached, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`navigator.serviceWorker.ready
		.then(() => caches.open("kiosk-v1")).then(c => Promise.all(["/kiosk", "/kiosk/app.js", "/kiosk/app.css"].map(f => c.match(f))))
		.then(rs => rs.every(r => r && r.ok))`, chromedp.EvalAwaitPromise))
	if err != nil || !cached {
		t.Fatalf("page not kept for offline use: %v %v", cached, err)
	}
	g.API("POST", "/api/v1/desks/quay-5/present", map[string]any{"dossier_code": "H49-OFFLINE-1"})
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("survey"))); err != nil {
		t.Fatal(err)
	}
	offline(t, ctx, true)
	answerOnKiosk(t, ctx, 2, "Phải chờ lâu")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`//span[@id="queue"][text()="1 đánh giá đang chờ gửi"]`)); err != nil {
		t.Fatalf("waiting count: %v (%q)", err, text("#queue"))
	}
	shot(t, ctx, "kiosk-offline.png")
	time.Sleep(2 * time.Second) // the tablet keeps trying meanwhile
	if completed(g, "H49-OFFLINE-1") {
		t.Fatal("the answer arrived while the network was cut")
	}

	offline(t, ctx, false)
	waitFor(t, "the queued answer", func() bool { return completed(g, "H49-OFFLINE-1") })
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`//span[@id="queue"][not(text())]`)); err != nil {
		t.Fatalf("the queue did not empty: %v (%q)", err, text("#queue"))
	}
	// The tablet's storage is empty: nothing will be sent again.
	left, err := chromedp.Run(ctx, chromedp.Evaluate[string](`localStorage.getItem("kiosk.queue")`))
	if err != nil || left != "[]" {
		t.Fatalf("queue left %q %v", left, err)
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?group_by=desk&survey=sipas-5", nil)
	if rep["responses"] != 1.0 {
		t.Fatalf("report: %v", rep)
	}
	_, list := g.API("GET", "/api/v1/comments", nil)
	if cs, _ := list["comments"].([]any); len(cs) != 1 || !strings.Contains(cs[0].(map[string]any)["channel"].(string), "kiosk.quay-5") {
		t.Fatalf("comments: %v", list)
	}
}
