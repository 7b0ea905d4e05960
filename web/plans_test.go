package web_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// planData answers the SIPAS form in April 2026: Sở Tư pháp (12) one
// satisfied of three, Sở Xây dựng (13) both satisfied; the clock is then
// set to 3 May, so April is the last full month.
func planData(t *testing.T) (*gwtest.Gateway, *time.Time) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, func(c *config.Config) { c.RankMin = 2 })
	ict := time.FixedZone("ICT", 7*3600)
	now := time.Date(2026, 4, 20, 10, 0, 0, 0, ict)
	g.Core.Clock = func() time.Time { return now }
	g.Tree(t)
	for i, s := range []struct {
		agency string
		score  int
	}{{"000.00.12.H49", 5}, {"000.00.12.H49", 2}, {"000.00.12.H49", 2}, {"000.00.13.H49", 4}, {"000.00.13.H49", 5}} {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("PLAN-%d", i), s.agency, nil))
		form := url.Values{}
		for q, v := range sipasAnswers(s.score) {
			form.Set(q, fmt.Sprint(v))
		}
		if res := g.Form("/s/"+tok, form.Encode()); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", i, res.StatusCode)
		}
	}
	g.Drain()
	now = time.Date(2026, 5, 3, 10, 0, 0, 0, ict)
	return g, &now
}

// The plans page lists the unit that needs a plan, in Vietnamese and
// English, with a link that makes one for it; the plan form keeps what
// was typed when a save is refused, saves with a notice, and the plan
// then shows in the list, highlighted once an action is past due; a
// viewer reads the plan without a form.
func TestConsolePlans(t *testing.T) {
	g, now := planData(t)
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	status, vi := g.Page("/console/plans", admin)
	vi = html.UnescapeString(vi)
	if status != 200 || !strings.Contains(vi, `<tr data-unit="000.00.12.H49">`) || strings.Contains(vi, `data-unit="000.00.13.H49"`) {
		t.Fatalf("missing list: %d\n%s", status, vi)
	}
	for _, want := range []string{"Kế hoạch khắc phục", "33,33%", "khoảng tin cậy 95%: ", "Dưới ngưỡng; Thuộc nhóm một phần mười thấp nhất tỉnh",
		"02/2026–04/2026", "dưới 80%", `href="/console/plans/new?agency=000.00.12.H49"`, "Không có kế hoạch nào khớp."} {
		if !strings.Contains(vi, want) {
			t.Errorf("Vietnamese page lacks %q", want)
		}
	}
	_, en := g.Page("/console/plans?lang=en", admin)
	en = html.UnescapeString(en)
	for _, want := range []string{"Improvement plans", "33.33%", "Below the threshold; In the province's lowest tenth", "Make a plan", "No plan matches."} {
		if !strings.Contains(en, want) {
			t.Errorf("English page lacks %q", want)
		}
	}
	_, form := g.Page("/console/plans/new?agency=000.00.12.H49&lang=vi", admin)
	form = html.UnescapeString(form)
	for _, want := range []string{`<option value="000.00.12.H49" selected>`, `value="B5"> B5 · `, `name="topic" value="waiting"`, `name="action_text_2"`} {
		if !strings.Contains(form, want) {
			t.Errorf("the new plan's form lacks %q", want)
		}
	}
	post := url.Values{"csrf": {csrfOf(t, form)}, "new": {"1"}, "agency": {"000.00.12.H49"}, "id": {"cho-lau"}, "title": {"Giảm thời gian chờ"},
		"start": {"2026-05-04"}, "status": {"active"}, "indicator": {"A1", "B5"}, "topic": {"waiting"}, "procedures": {"1.0001, 1.0002"},
		"action_text_0": {"Thêm ghế chờ"}, "action_owner_0": {"Văn phòng"}, "action_due_0": {"2026-05-01"},
		"action_text_1": {""}, "action_owner_1": {""}, "action_due_1": {""}}
	res := g.PostForm("/console/plans", post, admin)
	again := html.UnescapeString(gwtest.Body(res))
	if res.StatusCode != 400 || !strings.Contains(again, "Việc thứ 1: hạn hoàn thành") {
		t.Fatalf("a due day before the start: %d\n%s", res.StatusCode, again)
	}
	for _, want := range []string{`value="Giảm thời gian chờ"`, `value="Thêm ghế chờ"`, `value="2026-05-01"`, `value="B5" checked`, `value="waiting" checked`, `value="1.0001, 1.0002"`, `value="cho-lau"`} {
		if !strings.Contains(again, want) {
			t.Errorf("the refused form lost %q", want)
		}
	}
	post.Set("action_due_0", "2026-05-10")
	res = g.PostForm("/console/plans", post, admin)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/console/plans/000.00.12.H49/cho-lau" {
		t.Fatalf("save: %d %s", res.StatusCode, gwtest.Body(res))
	}
	page := html.UnescapeString(pageWith(g, "/console/plans/000.00.12.H49/cho-lau", append(res.Cookies(), admin)...))
	if !strings.Contains(page, "Đã lưu kế hoạch “Giảm thời gian chờ”.") || !strings.Contains(page, "phiên bản 1") || !strings.Contains(page, `name="version" value="1"`) {
		t.Errorf("the saved plan's page:\n%s", page)
	}
	_, list := g.Page("/console/plans", admin)
	if strings.Contains(list, `data-unit="000.00.12.H49"`) || !strings.Contains(list, `data-plan="000.00.12.H49|cho-lau"`) || strings.Contains(list, `class="overdue"`) {
		t.Errorf("after the plan, the unit is still missing one, or the plan is not listed:\n%s", list)
	}
	*now = now.AddDate(0, 0, 10) // 13 May: the action was due on the 10th
	_, list = g.Page("/console/plans?overdue=true", admin)
	list = html.UnescapeString(list)
	if !regexp.MustCompile(`data-plan="000.00.12.H49\|cho-lau" class="overdue"`).MatchString(list) || !strings.Contains(list, "quá hạn: 1 việc") || !strings.Contains(list, "10/05/2026") {
		t.Errorf("an overdue plan is not highlighted:\n%s", list)
	}
	viewer := g.PostForm("/console/login", url.Values{"key": {g.Key(t, "viewer", "")}}, nil).Cookies()[0]
	_, read := g.Page("/console/plans/000.00.12.H49/cho-lau?lang=en", viewer)
	if strings.Contains(read, `id="plan-form"`) || !strings.Contains(read, `id="plan-view"`) || !strings.Contains(read, "10 May 2026") || !strings.Contains(read, "B5 · ") {
		t.Errorf("a viewer's plan page:\n%s", read)
	}
	if res := g.PostForm("/console/plans", post, viewer); res.StatusCode != 403 {
		t.Errorf("a viewer saved a plan: %d", res.StatusCode)
	}
}

// csrfOf is the CSRF token of a console page's form.
func csrfOf(t *testing.T, page string) string {
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no csrf token on the page")
	}
	return m[1]
}
