package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// flagged plants n web answers of unit (the first all fives) and one of
// another unit, flags the first later and counts them all: its id.
func flagged(t *testing.T, g *gwtest.Gateway, unit string) string {
	t.Helper()
	var first string
	for i, form := range []string{"A=5&B=5&C=5&D=5&E=5", "A=1&B=2&C=2&D=1&E=2", "A=4&B=4&C=4&D=4&E=4", "A=3&B=3&C=3&D=3&E=3"} {
		d, agency := fmt.Sprintf("PANEL-%d", i), unit
		if i == 3 {
			agency = "000.00.13.H49"
		}
		tok := gwtest.Token(g.Invite(d, agency, map[string]any{"survey": "sipas-5"}))
		if res := g.AnswerAsCitizen(tok, form+"&comment="+url.QueryEscape("ý kiến "+d)); res.StatusCode != 303 {
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
	g.Drain()
	if err := g.Core.FlagLater(t.Context(), []string{first}, store.FlagDeviceMany); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	return first
}

// signIn opens a console session with key.
func signIn(t *testing.T, g *gwtest.Gateway, key string) (*http.Cookie, string) {
	t.Helper()
	res := g.PostForm("/console/login", url.Values{"key": {key}}, nil)
	if res.StatusCode != 303 {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	cookie := res.Cookies()[0]
	_, body := g.Page("/console/dashboard", cookie)
	return cookie, regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
}

// unitCell is the text of a cell (by class) of a unit's row on the panel.
func unitCell(t *testing.T, page, unit, class string) string {
	t.Helper()
	i := strings.Index(page, `data-unit="`+unit+`"`)
	if i < 0 {
		t.Fatalf("no row for %s:\n%s", unit, page)
	}
	row := page[i:]
	row = row[:strings.Index(row, "</tr>")]
	m := regexp.MustCompile(`<td class="` + class + `">(.*?)</td>`).FindStringSubmatch(row)
	if m == nil {
		t.Fatalf("no %s in %s", class, row)
	}
	return regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], "")
}

// The panel counts a unit's flagged answers and puts it first; the
// rated unit's own user sees its queue read-only and is refused in
// Vietnamese; its parent confirms with a note (refused without one), and
// the panel's counts follow once the roll-up writer ran.
func TestConsoleIntegrityPanelAndReviewQueue(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	id := flagged(t, g, unit)
	admin, _ := signIn(t, g, gwtest.AdminKey)
	status, panel := g.Page("/console/integrity", admin)
	if status != 200 || strings.Index(panel, `data-unit="`+unit+`"`) > strings.Index(panel, `data-unit="000.00.13.H49"`) {
		t.Fatalf("the flagged unit is not first: %d\n%s", status, panel)
	}
	for class, want := range map[string]string{"answers": "3", "flagged": "1 (33.33%)", "pending": "1", "confirmed": "0", "by-flag": "Một trình duyệt, nhiều hồ sơ: 1",
		"index": "66.67%", "excluding": "50.00%", "paper": "0.00% (0)"} {
		if got := unitCell(t, panel, unit, class); got != want {
			t.Errorf("%s: %q, want %q", class, got, want)
		}
	}
	// Web answers carry no time from the invitation's creation until
	// their provenance is kept: then 3 of them are too few to judge.
	if got := unitCell(t, panel, unit, "quick"); got != "—" && !strings.HasSuffix(got, "chưa đủ 30 phiếu") {
		t.Errorf("quick signal on 3 answers: %q", got)
	}
	if !strings.Contains(panel, "Gửi từ mạng nội bộ của cơ quan") || !strings.Contains(panel, `href="/console/flagged?agency=000.01.12.H49&amp;flag=device_many&amp;status="`) {
		t.Fatalf("the legend or the link to the queue:\n%s", panel)
	}

	// The rated unit's own user reads its queue without a form.
	own, ownCSRF := signIn(t, g, g.Key(t, "agency", unit))
	status, queue := g.Page("/console/flagged", own)
	if status != 200 || !strings.Contains(queue, "PANEL-0") || !strings.Contains(queue, "Phiếu của chính cơ quan bạn") || strings.Contains(queue, `name="note"`) ||
		!regexp.MustCompile(`<dd>\d\d/\d\d/20\d\d \d\d:\d\d</dd>`).MatchString(queue) ||
		!strings.Contains(queue, "A5 B5 C5 D5 E5") || !strings.Contains(queue, "ý kiến PANEL-0") || strings.Contains(queue, "PANEL-1") {
		t.Fatalf("the unit's own queue: %d\n%s", status, queue)
	}
	res := g.PostForm("/console/flagged/"+id+"/confirm", url.Values{"csrf": {ownCSRF}, "note": {"tự xác nhận"}}, own)
	if body := gwtest.Body(res); res.StatusCode != 400 || !strings.Contains(body, "cơ quan được đánh giá không tự xem xét phiếu của mình") {
		t.Fatalf("the unit reviewed its own answer: %d\n%s", res.StatusCode, body)
	}

	// Its parent reviews: a note is required, and kept when refused.
	parent, csrf := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))
	_, queue = g.Page("/console/flagged?agency="+unit, parent)
	action := "/console/flagged/" + id + "/confirm?agency=" + unit
	if !strings.Contains(queue, `action="`+strings.ReplaceAll(action, "&", "&amp;")+`"`) || !strings.Contains(queue, `name="note"`) {
		t.Fatalf("the parent's queue has no review form:\n%s", queue)
	}
	res = g.PostForm(action, url.Values{"csrf": {csrf}, "note": {"   "}}, parent)
	if body := gwtest.Body(res); res.StatusCode != 400 || !strings.Contains(body, "Hãy ghi lý do") {
		t.Fatalf("a confirm without a note: %d\n%s", res.StatusCode, body)
	}
	res = g.PostForm(action, url.Values{"csrf": {csrf}, "note": {"Cán bộ quầy tự điền, đã xác minh"}}, parent)
	if res.StatusCode != 303 || res.Header.Get("Location") != "/console/flagged?agency="+unit {
		t.Fatalf("the parent's confirm: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	g.Drain()
	_, panel = g.Page("/console/integrity", admin)
	for class, want := range map[string]string{"answers": "3", "pending": "0", "confirmed": "1", "index": "50.00%", "excluding": "50.00%"} {
		if got := unitCell(t, panel, unit, class); got != want {
			t.Errorf("after the confirm, %s: %q, want %q", class, got, want)
		}
	}
	_, queue = g.Page("/console/flagged?status=confirmed", own)
	if !strings.Contains(queue, "Xác nhận") || !strings.Contains(queue, "Cán bộ quầy tự điền, đã xác minh") || !strings.Contains(queue, "Đã xác nhận") {
		t.Fatalf("the confirmed answer's history:\n%s", queue)
	}
	if _, en := g.Page("/console/flagged?status=&lang=en", parent); !strings.Contains(en, "<h1>Flagged answers</h1>") || !strings.Contains(en, "One browser, many dossiers") {
		t.Fatalf("the queue in English:\n%s", en)
	}
	viewer, _ := signIn(t, g, g.Key(t, "viewer", ""))
	if status, _ := g.Page("/console/flagged", viewer); status != 403 {
		t.Fatalf("a viewer's queue: %d", status)
	}
	if status, _ := g.Page("/console/integrity", viewer); status != 200 {
		t.Fatalf("a viewer's panel: %d", status)
	}
}
