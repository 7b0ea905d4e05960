package server_test

import (
	"encoding/csv"
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// Comments come newest first from the comment pages, phone numbers
// redacted; the search ignores diacritics and case, and agency, channel,
// score band and a cursor narrow them; the console panel and its CSV show
// the same.
func TestComments(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	say := func(dossier, agency, scores, comment string) {
		t.Helper()
		tok := gwtest.Token(g.Invite(dossier, agency, map[string]any{"survey": "sipas-5"}))
		v := url.Values{"comment": {comment}}
		for i, q := range []string{"A", "B", "C", "D", "E"} {
			v.Set(q, scores[i:i+1])
		}
		if res := g.Form("/s/"+tok, v.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", dossier, res.StatusCode)
		}
	}
	say("C-1", "000.01.12.H49", "11211", "Phải chờ lâu quá, gọi lại 0912 345 678")
	say("C-2", "000.00.13.H49", "55545", "Cán bộ nhiệt tình")
	say("C-3", "000.00.12.H49", "33333", "")
	say("C-4", "000.00.12.H49", "44455", "Không phải CHỜ LÂU lắm")
	g.Drain()

	list := func(key, query string) []map[string]any {
		t.Helper()
		res, out := g.As(key, "GET", "/api/v1/comments?"+query, nil)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d %v", query, res.StatusCode, out)
		}
		var got []map[string]any
		for _, c := range out["comments"].([]any) {
			got = append(got, c.(map[string]any))
		}
		return got
	}
	texts := func(cs []map[string]any) string {
		var s []string
		for _, c := range cs {
			s = append(s, c["text"].(string))
		}
		return strings.Join(s, " | ")
	}
	all := list(gwtest.AdminKey, "")
	if got := texts(all); got != "Không phải CHỜ LÂU lắm | Cán bộ nhiệt tình | Phải chờ lâu quá, gọi lại [số điện thoại]" {
		t.Fatalf("newest first, no phone: %s", got)
	}
	if c := all[2]; c["agency_code"] != "000.01.12.H49" || c["mean_score"] != 1.2 || c["channel"] != "web" || !strings.HasSuffix(c["submitted_at"].(string), "+07:00") {
		t.Fatalf("a comment: %v", c)
	}
	for query, want := range map[string]string{
		"q=cho+lau":                 "Không phải CHỜ LÂU lắm | Phải chờ lâu quá, gọi lại [số điện thoại]",
		"q=nhiet%20TINH":            "Cán bộ nhiệt tình",
		"band=low":                  "Phải chờ lâu quá, gọi lại [số điện thoại]",
		"band=high":                 "Không phải CHỜ LÂU lắm | Cán bộ nhiệt tình",
		"agency=000.00.12.H49":      "Không phải CHỜ LÂU lắm | Phải chờ lâu quá, gọi lại [số điện thoại]",
		"channel=sms":               "",
		"from=2000-01&to=2000-12":   "",
		"limit=1":                   "Không phải CHỜ LÂU lắm",
		"agency=000.00.13.H49&q=xy": "",
	} {
		if got := texts(list(gwtest.AdminKey, query)); got != want {
			t.Errorf("%s: %q, want %q", query, got, want)
		}
	}
	// The next page from the cursor.
	_, first := g.API("GET", "/api/v1/comments?limit=2", nil)
	before, _ := first["next_before"].(string)
	if got := texts(list(gwtest.AdminKey, "limit=2&before="+url.QueryEscape(before))); before == "" || got != "Phải chờ lâu quá, gọi lại [số điện thoại]" {
		t.Fatalf("second page after %q: %q", before, got)
	}
	// A key bound to an agency sees its subtree only.
	if got := texts(list(g.Key(t, "viewer", "000.00.13.H49"), "")); got != "Cán bộ nhiệt tình" {
		t.Fatalf("viewer of 13: %q", got)
	}
	for query, field := range map[string]string{"band=worst": "band", "format=xml": "format", "before=yesterday": "before", "limit=0": "limit"} {
		if res, out := g.API("GET", "/api/v1/comments?"+query, nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != field {
			t.Errorf("%s: %d %v", query, res.StatusCode, out)
		}
	}
	status, ctype, body := get(g, gwtest.AdminKey, "/api/v1/comments?format=csv&q=cho+lau")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if status != 200 || !strings.HasPrefix(ctype, "text/csv") || err != nil || len(rows) != 3 || rows[0][7] != "text" || strings.Contains(body, "345 678") {
		t.Fatalf("csv: %d %s %v %v", status, ctype, rows, err)
	}

	res := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil)
	cookie := res.Cookies()[0]
	status, html := g.Page("/console/comments?q=cho+lau", cookie)
	if status != 200 || !strings.Contains(html, "Phải chờ lâu quá") || strings.Contains(html, "Cán bộ nhiệt tình") || !strings.Contains(html, "Phòng Hộ tịch") {
		t.Fatalf("console panel: %d\n%s", status, html)
	}
	// The dashboard opens on the SIPAS form, names its charts, and ranks
	// no unit on three answers: it marks them.
	status, html = g.Page("/console/dashboard", cookie)
	if status != 200 || !strings.Contains(html, `<option value="sipas" selected>`) || !strings.Contains(html, `aria-label="Tỉ lệ hài lòng theo tiêu chí"`) ||
		!strings.Contains(html, "chưa đủ mẫu: dưới 30 phiếu") {
		t.Fatalf("dashboard: %d\n%s", status, html)
	}
	status, html = g.Page("/console/dashboard?lang=en", cookie)
	if status != 200 || !strings.Contains(html, `aria-label="Satisfaction by criterion"`) || !strings.Contains(html, "too few answers: under 30 responses") {
		t.Fatalf("dashboard: %d\n%s", status, html)
	}
	status, body = g.Page("/console/comments.csv?band=high", cookie)
	if status != 200 || strings.Count(body, "\n") != 3 {
		t.Fatalf("console export: %d %q", status, body)
	}
}
