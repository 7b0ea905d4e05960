package web_test

import (
	"fmt"
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// The loop in the console: a unit's low criterion shows on its
// drivers page, the office writes a plan against it there, and a quarter
// later the plan's page and the province's list say it worked.
func TestLowUnitToPlanToVerdict(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, func(c *config.Config) { c.RankMin = 10 })
	now := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)
	g.Core.Clock = func() time.Time { return now }
	g.Tree(t)
	n := 0
	answer := func(agency string, a int) {
		n++
		tok := gwtest.Token(g.Invite(fmt.Sprintf("LOOP-%03d", n), agency, map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("A=%d&B=4&C=4&D=4&E=4", a)); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", n, res.StatusCode)
		}
	}
	for i := range 40 { // March: access rated low at 12, well at 13
		answer("000.00.12.H49", 1+i%3)
		answer("000.00.13.H49", 5)
	}
	g.Drain()
	admin, _ := signIn(t, g, gwtest.AdminKey)
	_, drivers := g.Page("/console/drivers?agency=000.00.12.H49&survey=sipas-5&from=2026-03&to=2026-03", admin)
	if !strings.Contains(drivers, `<tbody><tr data-quadrant=`) || !strings.Contains(drivers, `class="band-low"`) {
		t.Fatalf("the drivers page shows no low question:\n%s", drivers)
	}

	_, form := g.Page("/console/plans/new?agency=000.00.12.H49", admin)
	post := url.Values{"csrf": {csrfOf(t, html.UnescapeString(form))}, "new": {"1"}, "agency": {"000.00.12.H49"}, "id": {"tiep-can"}, "title": {"Cải thiện tiếp cận dịch vụ"},
		"start": {"2026-03-02"}, "status": {"active"}, "criterion": {"A"}, "action_text_0": {"Bố trí thêm ghế và biển chỉ dẫn"}, "action_owner_0": {"Văn phòng"}, "action_due_0": {"2026-03-31"}}
	if res := g.PostForm("/console/plans", post, admin); res.StatusCode != 303 {
		t.Fatalf("plan: %d %s", res.StatusCode, gwtest.Body(res))
	}
	now = now.AddDate(0, 1, 0) // April: access rated well
	for range 40 {
		answer("000.00.12.H49", 5)
	}
	now = time.Date(2026, 5, 31, 3, 0, 0, 0, time.UTC) // a quarter after the start
	g.Drain()

	page := html.UnescapeString(pageWith(g, "/console/plans/000.00.12.H49/tiep-can", admin))
	for _, want := range []string{`<span data-verdict="improved">Đã cải thiện</span>`, "So sánh 90 ngày trước ngày bắt đầu (02/12/2025 – 01/03/2026) với 90 ngày từ ngày bắt đầu (02/03/2026 – 30/05/2026).",
		"0,0% (0/40)", "100,0% (40/40)", "+100,0 điểm"} {
		if !strings.Contains(page, want) {
			t.Errorf("the plan's page lacks %q:\n%s", want, page)
		}
	}
	_, api := g.API("GET", "/api/v1/agencies/000.00.12.H49/plans/tiep-can", nil)
	if e := api["effect"].(map[string]any); e["verdict"] != "improved" || e["days"] != 90.0 {
		t.Fatalf("the API's effect %v", e)
	}
	_, list := g.Page("/console/plans?sort=effect", admin)
	if !strings.Contains(html.UnescapeString(list), `<td data-verdict="improved">Đã cải thiện (+100,0 điểm)</td>`) {
		t.Fatalf("the list shows no effect:\n%s", list)
	}
	if res, e := g.API("GET", "/api/v1/plans?sort=worst", nil); res.StatusCode != 400 || e["error"].(map[string]any)["field"] != "sort" {
		t.Fatalf("a bad sort: %d %v", res.StatusCode, e)
	}
}
