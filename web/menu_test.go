package web_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// The menu shows, beside "Vụ việc" and "Tin chưa đọc được", how many
// cases are overdue and how many replies wait to be read, each linked to
// its filtered list, in the page's language and within the operator's
// agencies; a viewer sees the cases' count only (it has no unread list),
// nothing shows a zero, and a failure to count leaves the page whole.
func TestMenuShowsOverdueAndUnreadCounts(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for i, agency := range []string{"000.00.12.H49", "000.01.12.H49", "000.00.13.H49"} {
		tok := gwtest.Token(g.Invite(fmt.Sprintf("MENU-%d", i), agency, map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=1&E=2"); res.StatusCode != 303 {
			t.Fatalf("submit: %d", res.StatusCode)
		}
	}
	g.Drain()
	for i, agency := range []string{"000.01.12.H49", "000.00.13.H49"} {
		inv := g.Invite(fmt.Sprintf("MENU-U-%d", i), agency, map[string]any{"phone": "0912345678"})
		u := &store.UnreadReply{ID: fmt.Sprintf("u:sms1:menu-%d", i), Invitation: inv["id"].(string), Survey: "sipas", Agency: agency,
			Channel: "sms1", Family: "sms", Text: "cảm ơn", At: time.Now(), Status: store.UnreadOpen}
		if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		if err := g.Core.UnreadIndex.Add(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	admin, _ := signIn(t, g, gwtest.AdminKey)
	tuPhap, _ := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))
	viewer, _ := signIn(t, g, g.Key(t, "viewer", ""))
	overdue := func(n string) string { return `<a class="count bad" href="/console/cases?overdue=true">` + n + `</a>` }
	unread := func(n string) string { return `<a class="count" href="/console/unread?status=open">` + n + `</a>` }

	_, body := g.Page("/console/dashboard", admin)
	if strings.Contains(body, `class="count bad"`) {
		t.Fatalf("an overdue count shown before any case is overdue:\n%s", menuOf(body))
	}
	if !strings.Contains(body, unread("2 chờ đọc")) {
		t.Errorf("the admin's menu lacks its 2 unread replies:\n%s", menuOf(body))
	}
	g.Later(30 * 24 * time.Hour)
	for _, c := range []struct {
		name, path string
		who        *http.Cookie
		want, not  []string
	}{
		{"admin", "/console/dashboard", admin, []string{overdue("3 quá hạn"), unread("2 chờ đọc")}, nil},
		{"admin in English", "/console/cases?lang=en", admin, []string{overdue("3 overdue"), unread("2 open"), ">Cases</a>", ">Not understood</a>"}, []string{"quá hạn"}},
		{"Sở Tư pháp's key", "/console/comments", tuPhap, []string{overdue("2 quá hạn"), unread("1 chờ đọc")}, nil},
		{"a viewer", "/console/dashboard", viewer, []string{overdue("3 quá hạn")}, []string{"/console/unread"}},
	} {
		_, body := g.Page(c.path, c.who)
		for _, w := range c.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the menu lacks %s:\n%s", c.name, w, menuOf(body))
			}
		}
		for _, w := range c.not {
			if strings.Contains(body, w) {
				t.Errorf("%s: the menu shows %s:\n%s", c.name, w, menuOf(body))
			}
		}
	}

	// Redis down for the counts: the page still shows, without them.
	cases := g.Core.OpenCases
	g.Core.OpenCases = &store.OpenCases{R: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond}), Name: cases.Name}
	status, body := g.Page("/console/keys", admin)
	g.Core.OpenCases = cases
	if status != 200 || strings.Contains(body, `class="count`) || !strings.Contains(body, `href="/console/cases"`) {
		t.Fatalf("with the counts failing the page is %d:\n%s", status, menuOf(body))
	}
}

// menuOf is a page's header, where the menu is.
func menuOf(page string) string {
	i, j := strings.Index(page, "<header"), strings.Index(page, "</header>")
	if i < 0 || j < i {
		return page
	}
	return page[i:j]
}
