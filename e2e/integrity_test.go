package e2e

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// plantFlagged has three citizens of unit answer on the web (the first
// all fives) and one of another unit, then flags the first after the
// fact, as a browser's third dossier does: its id. The caller drains.
func plantFlagged(t *testing.T, g *gwtest.Gateway, unit, other string) string {
	t.Helper()
	var first string
	for i, form := range []string{"A=5&B=5&C=5&D=5&E=5", "A=1&B=2&C=2&D=1&E=2", "A=4&B=4&C=4&D=4&E=4", "A=3&B=3&C=3&D=3&E=3"} {
		d, agency := fmt.Sprintf("INT-%d", i), unit
		if i == 3 {
			agency = other
		}
		tok := gwtest.Token(g.Invite(d, agency, map[string]any{"survey": "sipas-5"}))
		if res := g.AnswerAsCitizen(tok, form+"&comment="+url.QueryEscape("Ý kiến hồ sơ "+d)); res.StatusCode != 303 {
			t.Fatalf("submit: %d", res.StatusCode)
		}
		if i == 0 {
			g.Flush()
			r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation(d).ID)
			if err != nil {
				t.Fatal(err)
			}
			first = r.ID
		}
	}
	if err := g.Core.FlagLater(t.Context(), []string{first}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	return first
}

// kioskAnswers registers a desk of agency with an officer and answers n
// dossiers on its tablet through the kiosk API (all fives, no comment).
func kioskAnswers(t *testing.T, g *gwtest.Gateway, desk, agency string, n int) {
	t.Helper()
	res, out := g.API("PUT", "/api/v1/desks/"+desk, map[string]any{"agency_code": agency, "name": "Quầy 1", "officer": "Trần Thị Bình", "officer_pin": "20261128"})
	if res.StatusCode != 200 {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}
	_, paired := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": out["pairing_code"]})
	tablet, _ := paired["token"].(string)
	for i := range n {
		_, p := g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": fmt.Sprintf("%s-K-%d", desk, i), "officer_pin": "20261128"})
		g.Later(time.Minute) // the citizen reads and answers
		if res, out := g.As(tablet, "POST", "/kiosk/api/answer", map[string]any{"idempotency_key": fmt.Sprintf("%s-%d", desk, i), "invitation_id": p["invitation_id"], "seq": p["seq"],
			"answers": map[string]int{"A": 5, "B": 5, "C": 5, "D": 5, "E": 5}}); res.StatusCode != 200 {
			t.Fatalf("kiosk answer: %d %v", res.StatusCode, out)
		}
	}
}

// A parent agency's user finds the unit with a flagged answer on the
// integrity panel, opens the review queue from the navigation, is told
// in Vietnamese that a blank note will not do, confirms with one, and
// the panel counts the answer confirmed once the roll-up writer ran.
// Both pages pass axe-core.
func TestConsoleIntegrityReview(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Listen()
	g.Tree(t)
	const unit = "000.01.12.H49"
	id := plantFlagged(t, g, unit, "000.00.13.H49")
	kioskAnswers(t, g, "quay-1", unit, 2)
	g.Drain()
	parent := g.Key(t, "agency", "000.00.12.H49")

	ctx := browser(t)
	text := texter(t, ctx)
	row := `#units tr[data-unit="` + unit + `"] `
	err := chromedp.Do(ctx, signInWith(g, parent, "/console/dashboard"),
		chromedp.Click(chromedp.CSS(`.top nav a[href="/console/integrity"]`)), chromedp.WaitVisible(chromedp.ID("units")))
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"td.answers": "5", "td.flagged": "1 (20.00%)", "td.pending": "1", "td.confirmed": "0"} {
		if got := text(row + sel); got != want {
			t.Errorf("before the review, %s: %q, want %q", sel, got, want)
		}
	}
	if got := text("#desk-signal"); !strings.Contains(got, "Quầy 1") || strings.Contains(got, "quay-1") || !strings.Contains(got, "chưa đủ 30 phiếu") { // the desk's name, never its id
		t.Errorf("desks' signal: %q", got)
	}
	axeCheck(t, ctx, "/console/integrity")
	shot(t, ctx, "console-integrity.png")

	card := "#r-" + id
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.top nav a[href="/console/flagged"]`)), chromedp.WaitVisible(chromedp.CSS(card)))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(card); !strings.Contains(got, "INT-0") || !strings.Contains(got, "Một trình duyệt, nhiều hồ sơ") || !strings.Contains(got, "Chờ xem xét") {
		t.Fatalf("queue card: %q", got)
	}
	axeCheck(t, ctx, "/console/flagged")
	shot(t, ctx, "console-flagged.png")
	err = chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(card+" textarea"), "   "), chromedp.Click(chromedp.CSS(card+" button.primary")),
		chromedp.WaitVisible(chromedp.CSS("p.alert")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("p.alert"); !strings.HasPrefix(got, "Hãy ghi lý do") {
		t.Fatalf("blank note: %q", got)
	}
	err = chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(card+" textarea"), "Camera quầy cho thấy cán bộ tự điền"), chromedp.Click(chromedp.CSS(card+" button.primary")),
		chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if err != nil {
		t.Fatal(err)
	}
	if got := text("p.notice"); got != "Không có phiếu gắn cờ nào khớp." {
		t.Fatalf("the queue after the confirm: %q", got)
	}
	g.Drain()
	err = chromedp.Do(ctx, chromedp.Navigate(g.URL+"/console/integrity"), chromedp.WaitVisible(chromedp.ID("units")))
	if err != nil {
		t.Fatal(err)
	}
	for sel, want := range map[string]string{"td.answers": "5", "td.pending": "0", "td.confirmed": "1"} {
		if got := text(row + sel); got != want {
			t.Errorf("after the review, %s: %q, want %q", sel, got, want)
		}
	}
	err = chromedp.Do(ctx, chromedp.Navigate(g.URL+"/console/flagged?status=confirmed"), chromedp.WaitVisible(chromedp.CSS(card)))
	if err != nil {
		t.Fatal(err)
	}
	if got := text(card + " .history"); !strings.Contains(got, "Xác nhận") || !strings.Contains(got, "Camera quầy cho thấy cán bộ tự điền") {
		t.Fatalf("history: %q", got)
	}
}
