package web_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// The console's pages that take a period hold GATEWAY_MAX_MONTHS (24 by
// default) as the API does: a wider one is a 400 naming from.
func TestConsolePeriodsAreBounded(t *testing.T) {
	g := gwtest.New(t, "")
	cookie := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	now, _ := time.Parse("2006-01", store.MonthOf(time.Now()))
	wide := "from=" + now.AddDate(0, -24, 0).Format("2006-01") + "&to=" + now.Format("2006-01")
	fits := "from=" + now.AddDate(0, -23, 0).Format("2006-01") + "&to=" + now.Format("2006-01")
	for _, page := range []string{"/console/dashboard", "/console/comments", "/console/comments.csv", "/console/desks"} {
		if status, body := g.Page(page+"?"+wide, cookie); status != 400 || !strings.Contains(body, `"field":"from"`) || !strings.Contains(body, "GATEWAY_MAX_MONTHS") {
			t.Errorf("%s over 25 months: %d %s", page, status, body)
		}
		if status, body := g.Page(page+"?"+fits, cookie); status != 200 {
			t.Errorf("%s over 24 months: %d %s", page, status, body)
		}
	}
}
