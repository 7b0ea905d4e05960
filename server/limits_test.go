package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// month is the month n months from the current one (Vietnam time), as
// YYYY-MM.
func month(n int) string {
	t, _ := time.Parse("2006-01", store.MonthOf(time.Now()))
	return t.AddDate(0, n, 0).Format("2006-01")
}

// A period wider than GATEWAY_MAX_MONTHS (24 by default) is refused, with
// a 400 naming from (or to, when the end in the future makes it wide) and
// the month that would do, by every operator request that takes one: the
// comments, the report in each format, the export in each format and the
// case list. (Before, /api/v1/comments?from=0001-01&to=9999-12 read one
// index document per month, some 120,000, for any viewer key.)
func TestOperatorPeriodsAreBounded(t *testing.T) {
	g := gwtest.New(t, "")
	viewer := g.Key(t, "viewer", "")
	paths := []string{"/api/v1/comments", "/api/v1/comments?format=csv", "/api/v1/reports/sipas", "/api/v1/reports/sipas?format=csv",
		"/api/v1/reports/sipas?group_by=month", "/api/v1/responses", "/api/v1/responses?format=jsonl", "/api/v1/cases"}
	cases := []struct {
		period, field, fix string
		day                bool
	}{
		{"from=0001-01&to=9999-12", "from", "set from to 9998-01 or later", false},
		{"from=" + month(-24) + "&to=" + month(0), "from", "set from to " + month(-23) + " or later", false},
		{"from=" + month(-24) + "-15", "from", "set from to " + month(-23) + " or later", true},
		{"from=" + month(-2) + "&to=" + month(30), "to", "set to to " + month(21) + " or earlier", false},
		{"from=" + month(-23) + "&to=" + month(0), "", "", false},
		{"from=" + month(-23), "", "", false},
		{"to=" + month(0), "", "", false},
	}
	for _, path := range paths {
		for _, tc := range cases {
			if strings.HasPrefix(path, "/api/v1/cases") && tc.day {
				continue // the case list takes months only
			}
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			res, body := g.As(viewer, "GET", path+sep+tc.period, nil)
			if tc.field == "" {
				if res.StatusCode != 200 {
					t.Errorf("%s %s: %d %v, want 200", path, tc.period, res.StatusCode, body)
				}
				continue
			}
			e, _ := body["error"].(map[string]any)
			if res.StatusCode != 400 || e["code"] != "invalid_argument" || e["field"] != tc.field ||
				!strings.Contains(e["message"].(string), tc.fix) || !strings.Contains(e["message"].(string), "GATEWAY_MAX_MONTHS") {
				t.Errorf("%s %s: %d %v; want 400 naming %s with %q", path, tc.period, res.StatusCode, body, tc.field, tc.fix)
			}
		}
	}
}

// GATEWAY_MAX_MONTHS sets the bound; the comments' default period (the
// last twelve months) shrinks to it.
func TestMaxMonthsSetting(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.MaxMonths = 6 })
	for _, path := range []string{"/api/v1/comments", "/api/v1/reports/sipas", "/api/v1/responses", "/api/v1/cases"} {
		if res, body := g.API("GET", path+"?from="+month(-6)+"&to="+month(0), nil); res.StatusCode != 400 ||
			!strings.Contains(body["error"].(map[string]any)["message"].(string), "at most 6") {
			t.Errorf("%s over 7 months: %d %v, want 400", path, res.StatusCode, body)
		}
		if res, body := g.API("GET", path+"?from="+month(-5)+"&to="+month(0), nil); res.StatusCode != 200 {
			t.Errorf("%s over 6 months: %d %v, want 200", path, res.StatusCode, body)
		}
	}
	if res, body := g.API("GET", "/api/v1/comments", nil); res.StatusCode != 200 {
		t.Errorf("comments without a period: %d %v", res.StatusCode, body)
	}
}

// A report is grouped by one dimension at a time, refused before any
// cell is read: two (agency by month) would read every cell unfolded.
// (Before, a repeated group_by was grouped by the first one silently.)
func TestGroupByIsOneDimension(t *testing.T) {
	g := gwtest.New(t, "")
	for _, q := range []string{"group_by=agency&group_by=month", "group_by=agency,month", "group_by=dossier"} {
		res, body := g.API("GET", "/api/v1/reports/sipas?"+q, nil)
		if e, _ := body["error"].(map[string]any); res.StatusCode != 400 || e["field"] != "group_by" {
			t.Errorf("%s: %d %v, want 400 naming group_by", q, res.StatusCode, body)
		}
	}
	if res, body := g.API("GET", "/api/v1/reports/sipas?group_by=month&from="+month(-1), nil); res.StatusCode != 200 {
		t.Errorf("group_by=month: %d %v", res.StatusCode, body)
	}
}
