package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// An operator follows the dashboard's units table down, province →
// unit → desk, by clicking the rows' links: each level keeps the period
// and survey chosen, names the desk and its officer, and passes axe-core;
// the top shows the funnel of the invitations.
func TestDashboardDrillDown(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Listen()
	g.Tree(t)
	const unit = "000.01.12.H49"
	kioskAnswers(t, g, "quay-03", unit, 2)
	g.Drain()

	ctx := browser(t)
	text := texter(t, ctx)
	start := "/console/dashboard?survey=all&from=2026-01&to=2026-12"
	err := chromedp.Do(ctx, signIn(g, start), chromedp.Navigate(g.URL+start), chromedp.WaitVisible(chromedp.ID("units")))
	if err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, start)
	// The funnel of the kiosk's invitations: put before the citizen on the
	// tablet, answered there.
	if funnel := strings.Join(strings.Fields(text(`#reach-table tr[data-channel="kiosk"]`)), " "); !strings.Contains(funnel, "2 2 100,0% 0 0,0% — 2 100,0% 2 100,0%") {
		t.Fatalf("kiosk funnel row %q", funnel)
	}
	if rows := text("#units tbody"); !strings.Contains(rows, "Phòng Hộ tịch") || !strings.Contains(rows, "UBND tỉnh Quảng Nam") || !strings.Contains(rows, "chưa đủ mẫu") {
		t.Fatalf("province units %q", rows)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#units tr[data-unit="`+unit+`"] th a`)), chromedp.WaitVisible(chromedp.CSS(`#units tr[data-unit="quay-03"]`)))
	if err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "unit")
	at, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(at, "agency="+unit) || !strings.Contains(at, "from=2026-01") || !strings.Contains(at, "survey=all") {
		t.Fatalf("the unit's page %s %v", at, err)
	}
	if row := text(`#units tr[data-unit="quay-03"] th`); row != "Quầy 1" {
		t.Fatalf("desk row %q: want its name", row)
	}
	err = chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#units tr[data-unit="quay-03"] th a`)), chromedp.WaitVisible(chromedp.CSS(`#units tbody tr`)))
	if err != nil {
		t.Fatal(err)
	}
	axeCheck(t, ctx, "desk")
	if row, trail := text("#units tbody th"), text("#trail"); row != "Trần Thị Bình" || !strings.Contains(trail, "Phòng Hộ tịch") || !strings.Contains(trail, "Quầy 1") || strings.Contains(text("main"), "quay-03") {
		t.Fatalf("officer row %q, trail %q", row, trail)
	}
	if at, err = chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.Contains(at, "desk=quay-03") || !strings.Contains(at, "to=2026-12") {
		t.Fatalf("the desk's page %s %v", at, err)
	}
	shot(t, ctx, "console-dashboard-desk.png")
}
