package web_test

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// dashboardData answers the full SIPAS form for two departments (two of
// three satisfied, and one satisfied) and at a commune's full-form desk,
// all in May 2026; the province itself has no answers.
func dashboardData(t *testing.T, options ...func(*config.Config)) *gwtest.Gateway {
	g := gwtest.New(t, "", append([]func(*config.Config){gwtest.NoRateLimits, func(c *config.Config) { c.RankMin = 2 }}, options...)...)
	now := time.Date(2026, 5, 15, 3, 0, 0, 0, time.UTC)
	g.Core.Clock = func() time.Time { return now }
	g.Tree(t)
	for i, s := range []struct {
		agency string
		score  int
	}{{"000.00.12.H49", 5}, {"000.00.12.H49", 5}, {"000.00.12.H49", 2}, {"000.00.13.H49", 4}} {
		tok := gwtest.Token(g.Invite("DASH-"+string(rune('A'+i)), s.agency, nil))
		form := url.Values{}
		for q, v := range sipasAnswers(s.score) {
			form.Set(q, string(rune('0'+v)))
		}
		if res := g.Form("/s/"+tok, form.Encode()); res.StatusCode != 303 {
			t.Fatalf("answer %d: %d", i, res.StatusCode)
		}
	}
	res, out := g.API("PUT", "/api/v1/desks/quay-03", map[string]any{"agency_code": "000.01.12.H49", "name": "Quầy 3", "officer": "Trần Văn Minh", "form": "full", "officer_pin": "20261128"})
	if res.StatusCode != 200 {
		t.Fatalf("desk: %v", out)
	}
	_, paired := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": out["pairing_code"]})
	tablet, _ := paired["token"].(string)
	for i := range 2 {
		_, p := g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": "DASH-K-" + string(rune('0'+i)), "officer_pin": "20261128"})
		answer := map[string]any{"idempotency_key": "dashboard-key-" + string(rune('0'+i)), "invitation_id": p["invitation_id"], "seq": p["seq"], "survey": "sipas", "answers": sipasAnswers(4)}
		if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 {
			t.Fatalf("kiosk answer: %d %v", res.StatusCode, out)
		}
	}
	g.Drain()
	return g
}

func rowsOf(page string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-unit="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// The dashboard writes its figures the page language's way, tables every
// unit (those under the minimum marked, those without answers too),
// links each down with the filters kept, offers period presets from the
// clock, and compares only with a period that has answers.
func TestConsoleDashboardFigures(t *testing.T) {
	g := dashboardData(t)
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, vi := g.Page("/console/dashboard?from=2026-05&to=2026-05&channel=web", admin)
	kpi := regexp.MustCompile(`id="kpi-index" class="big">([^<]+)<`).FindStringSubmatch(vi)
	if kpi == nil || !regexp.MustCompile(`^\d{1,3},\d\d%$`).MatchString(kpi[1]) {
		t.Fatalf("headline %v, want 66,67%%-like", kpi)
	}
	for _, want := range []string{"Chỉ số hài lòng (SIPAS)", "khoảng tin cậy 95%: ", "Kỳ trước (04/2026) không có phiếu trả lời", "Cách tính chỉ số và n",
		`<td class="num">3</td>`, "chưa đủ mẫu", "Mức: Đạt từ 90%"} {
		if !strings.Contains(html.UnescapeString(vi), want) {
			t.Errorf("Vietnamese dashboard lacks %q", want)
		}
	}
	if strings.Contains(vi, "điểm so với") || regexp.MustCompile(`\d\.\d\d%`).MatchString(vi) {
		t.Errorf("a comparison with an empty period, or a figure written the English way")
	}
	// Every unit, lowest first; the one under the minimum of 2 after the ranked.
	if got := strings.Join(rowsOf(vi), " "); got != "000.00.12.H49 000.01.12.H49 000.00.00.H49 000.00.13.H49" {
		t.Fatalf("units %s: want all four, the ranked lowest first, then those with too few answers", got)
	}
	unit := `href="/console/dashboard?agency=000.01.12.H49&amp;channel=web&amp;from=2026-05&amp;survey=sipas&amp;to=2026-05"`
	if !strings.Contains(vi, unit) {
		t.Fatalf("the commune's link does not carry the filters:\n%s", vi)
	}
	if _, desc := g.Page("/console/dashboard?from=2026-05&to=2026-05&sort=-index", admin); strings.Join(rowsOf(desc), " ") != "000.01.12.H49 000.00.12.H49 000.00.13.H49 000.00.00.H49" ||
		!strings.Contains(desc, `aria-sort="descending"`) {
		t.Fatalf("sort=-index: %v", rowsOf(desc))
	}
	// Presets for 15 May 2026.
	for label, span := range map[string]string{"Tháng này": "from=2026-05&amp;survey=sipas&amp;to=2026-05", "Tháng trước": "from=2026-04&amp;survey=sipas&amp;to=2026-04",
		"Quý này": "from=2026-04&amp;survey=sipas&amp;to=2026-06", "Quý trước": "from=2026-01&amp;survey=sipas&amp;to=2026-03",
		"6 tháng gần nhất": "from=2025-12&amp;survey=sipas&amp;to=2026-05", "Năm nay": "from=2026-01&amp;survey=sipas&amp;to=2026-12",
		"Năm trước": "from=2025-01&amp;survey=sipas&amp;to=2025-12", "Cùng kỳ năm trước": "from=2025-05&amp;survey=sipas&amp;to=2025-05"} {
		if !regexp.MustCompile(`href="/console/dashboard\?channel=web&amp;` + span + `"[^>]*>` + label + ` \(`).MatchString(vi) {
			t.Errorf("preset %s: want %s", label, span)
		}
	}
	// In English: the English marks and months.
	_, en := g.Page("/console/dashboard?from=2026-05&to=2026-05&lang=en", admin)
	if kpi := regexp.MustCompile(`id="kpi-index" class="big">([^<]+)<`).FindStringSubmatch(en); kpi == nil || !regexp.MustCompile(`^\d{1,3}\.\d\d%$`).MatchString(kpi[1]) {
		t.Fatalf("English headline %v", kpi)
	}
	for _, want := range []string{"95% confidence interval: ", "The period before (Apr 2026) has no responses", "Same period last year (May 2025)", "too few answers", "Every unit"} {
		if !strings.Contains(html.UnescapeString(en), want) {
			t.Errorf("English dashboard lacks %q", want)
		}
	}
	// Drill down: the commune's desks by name, then the desk's officer.
	_, commune := g.Page("/console/dashboard?agency=000.01.12.H49&from=2026-05&to=2026-05", admin)
	desk := `href="/console/dashboard?agency=000.01.12.H49&amp;desk=quay-03&amp;from=2026-05&amp;survey=sipas&amp;to=2026-05">Quầy 3</a>`
	if !strings.Contains(commune, desk) || !strings.Contains(commune, "Quầy của đơn vị") {
		t.Fatalf("the commune's desk row:\n%s", commune)
	}
	_, officers := g.Page("/console/dashboard?agency=000.01.12.H49&desk=quay-03&from=2026-05&to=2026-05", admin)
	shown := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(officers, " ")
	if !strings.Contains(officers, `<th scope="row">Trần Văn Minh</th>`) || strings.Contains(shown, "quay-03") || strings.Contains(shown, "tran-van-minh") {
		t.Fatalf("the desk's officers, by name only:\n%s", officers)
	}
}

// The response rate follows the survey filter: the invitations of the
// form shown (a desk's kiosk asks sipas too), every invitation with the
// forms combined, in both languages.
func TestConsoleDashboardResponseRateFollowsTheSurvey(t *testing.T) {
	g := dashboardData(t)
	g.Invite("DASH-NONE", "000.00.13.H49", nil) // a sipas invitation never answered
	if res := g.Form("/s/"+gwtest.Token(g.Invite("DASH-O", "000.00.13.H49", map[string]any{"survey": "overall"})), "O=5"); res.StatusCode != 303 {
		t.Fatalf("overall answer: %d", res.StatusCode)
	}
	g.Drain()
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	rate := regexp.MustCompile(`id="kpi-rate" class="big">([^<]+)</span> ([^(<]+) \(([^)]+)\)`)
	for _, c := range []struct{ query, figure, label, counts string }{
		{"", "85,71%", "Tỉ lệ phản hồi", "6/7"},
		{"survey=overall", "100,00%", "Tỉ lệ phản hồi", "1/1"},
		{"survey=all", "87,50%", "Tỉ lệ phản hồi, mọi mẫu", "7/8"},
		{"lang=en", "85.71%", "Response rate", "6/7"},
		{"survey=all&lang=en", "87.50%", "Response rate, every form", "7/8"},
	} {
		_, page := g.Page("/console/dashboard?"+c.query, admin)
		m := rate.FindStringSubmatch(page)
		if m == nil || m[1] != c.figure || html.UnescapeString(m[2]) != c.label || m[3] != c.counts {
			t.Errorf("%s: response rate %q, want %s %s (%s)", c.query, m, c.figure, c.label, c.counts)
		}
	}
}

// The units table's bands are the settings' (GATEWAY_INDEX_GOOD and
// GATEWAY_INDEX_FAIR), in the rows and in the words under the table.
func TestConsoleDashboardBandsAreSettings(t *testing.T) {
	g := dashboardData(t, func(c *config.Config) { c.IndexGood, c.IndexFair = 70, 62.5 })
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, vi := g.Page("/console/dashboard", admin)
	// 000.00.12.H49 stands at 66,67%: below 90 but above 62,5.
	for _, want := range []string{`<tr data-unit="000.00.12.H49" class="band-fair">`, `<tr data-unit="000.01.12.H49" class="band-good">`,
		"Mức: Đạt từ 70%, Cần cải thiện từ 62,50%, Thấp dưới 62,50%."} {
		if !strings.Contains(html.UnescapeString(vi), want) {
			t.Errorf("Vietnamese dashboard lacks %q", want)
		}
	}
	_, en := g.Page("/console/dashboard?lang=en", admin)
	if want := "Level: Met from 70%, Needs improvement from 62.50%, Low below 62.50%."; !strings.Contains(html.UnescapeString(en), want) {
		t.Errorf("English dashboard lacks %q", want)
	}
}

// The dashboard shows the funnel of the chosen survey's invitations by
// channel, the page language's way, with the cost per answer when prices
// are set.
func TestConsoleDashboardReach(t *testing.T) {
	g := dashboardData(t, func(c *config.Config) { c.Prices = "sms_part=850" })
	g.Invite("DASH-SMS", "000.00.13.H49", nil)
	inv := g.MustInvitation("DASH-SMS")
	e := store.FunnelEvent{Invitation: inv.ID, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Family: "sms", Survey: inv.Survey}
	queued, sent, spent := e, e, e
	queued.Step, sent.Step = store.FunnelQueued, store.FunnelSent
	spent.Step, spent.Units, spent.Key = store.FunnelSpent, 2, "dash-sms-1"
	if err := g.Applier.Funnel.Note(t.Context(), queued, sent, spent); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	row := func(page, key string) string {
		m := regexp.MustCompile(`(?s)<tr data-channel="` + key + `">(.*?)</tr>`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s row in the funnel", key)
		}
		return strings.Join(strings.Fields(html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], " "))), " ")
	}
	_, page := g.Page("/console/dashboard?from=2026-05&to=2026-05", admin)
	for key, want := range map[string]string{
		"sms": "tin nhắn SMS 1 1 100,0% 0 0,0% — 0 0,0% 0 0,0% 0 0,0% —",
		"all": "Mọi kênh 7 3 42,9% 0 0,0% 4 57,1% 6 85,7% 6 85,7% 0 0,0% 283 đ", // opened: the four answered on their survey page
	} {
		if got := row(page, key); got != want {
			t.Errorf("%s row %q, want %q", key, got, want)
		}
	}
	if got := row(page, "web"); !strings.HasSuffix(got, " 0 đ") {
		t.Errorf("web row %q: answers on the web cost nothing", got)
	}
	_, page = g.Page("/console/dashboard?from=2026-05&to=2026-05&lang=en", admin)
	if got := row(page, "sms"); !strings.Contains(got, "1 1 100.0% 0 0.0% —") {
		t.Errorf("English sms row %q", got)
	}
	if !strings.Contains(page, "Cost per answer") || !strings.Contains(page, "283 đồng") {
		t.Error("the English page lacks the cost per answer")
	}
}
