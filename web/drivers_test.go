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

// From the units table's "Why?" to a unit's drivers: the short form's
// criterion A, rated low by department 12 and well by 13, comes first,
// marked important and low, in both languages.
func TestConsoleDriversPage(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, func(c *config.Config) { c.RankMin = 10 })
	now := time.Date(2026, 5, 15, 3, 0, 0, 0, time.UTC)
	g.Core.Clock = func() time.Time { return now }
	g.Tree(t)
	n := 0
	answer := func(agency string, a, rest int) {
		n++
		tok := gwtest.Token(g.Invite(fmt.Sprintf("DRV-%03d", n), agency, map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, fmt.Sprintf("A=%d&B=%d&C=%d&D=%d&E=%d", a, rest, rest, max(1, rest-1), rest)); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", n, res.StatusCode)
		}
	}
	for i := range 20 {
		level := 2 + i%4
		answer("000.00.12.H49", max(1, level-1), level)
		answer("000.00.13.H49", 5, 4)
	}
	g.Drain()
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, dash := g.Page("/console/dashboard?from=2026-05&to=2026-05&survey=sipas-5", admin)
	link := "/console/drivers?" + url.Values{"agency": {"000.00.12.H49"}, "from": {"2026-05"}, "to": {"2026-05"}}.Encode()
	if !strings.Contains(html.UnescapeString(dash), link) {
		t.Fatalf("no Why link %s on the units table", link)
	}
	status, vi := g.Page(link+"&survey=sipas-5", admin)
	vi = html.UnescapeString(vi)
	if status != 200 {
		t.Fatalf("drivers page: %d\n%s", status, vi)
	}
	first := strings.Index(vi, `<tr data-quadrant="important_low" class="band-low"><th scope="row">`)
	if first < 0 || strings.Index(vi, `<tbody><tr data-quadrant="important_low"`) < 0 {
		t.Fatalf("criterion A is not first, important and low:\n%s", vi)
	}
	for _, want := range []string{"Quan trọng và còn thấp: ưu tiên khắc phục", "khoảng tin cậy 95%: ", "điểm", "05/2026", "phần còn lại của"} {
		if !strings.Contains(vi, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	_, en := g.Page(link+"&survey=sipas-5&lang=en", admin)
	inEnglish(t, "the drivers page", html.UnescapeString(en), []string{"Important and low: fix first", "Rest of the province"}, "Quan trọng và còn thấp")
	if status, _ := g.Page("/console/drivers?agency=000.00.12.H49&from=2026-13", admin); status != 400 {
		t.Fatalf("a bad month: %d", status)
	}
}
