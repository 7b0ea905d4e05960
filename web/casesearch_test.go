package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The cases page searches as the API does: its one box takes words of a
// case's text ("cham tre" finds "chậm trễ") or a part of a dossier code,
// and the assignee field words of the name; what was typed stays in the
// form, with the other filters, and a search the index cannot take is
// shown again with what to type, in the page's language.
func TestCasesPageSearches(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for _, c := range []struct{ dossier, comment string }{
		{"000.00.12.H49-260105-0042", "Hồ sơ trả chậm trễ ba ngày"},
		{"000.00.12.H49-260105-0077", "Cán bộ không hướng dẫn"},
	} {
		tok := gwtest.Token(g.Invite(c.dossier, "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		if res := g.Form("/s/"+tok, url.Values{"A": {"1"}, "B": {"1"}, "C": {"2"}, "D": {"1"}, "E": {"1"}, "comment": {c.comment}}.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", c.dossier, res.StatusCode)
		}
	}
	g.Drain()
	_, out := g.API("GET", "/api/v1/cases?dossier=0077", nil)
	id := out["cases"].([]any)[0].(map[string]any)["id"].(string)
	if res, out := g.API("POST", "/api/v1/cases/"+id+"/assign", map[string]any{"assignee": "Chị Nguyễn Thị Lan"}); res.StatusCode != 200 {
		t.Fatalf("assign: %d %v", res.StatusCode, out)
	}
	admin, _ := signIn(t, g, gwtest.AdminKey)
	for _, c := range []struct {
		name, query string
		want, not   []string
		form        []string
	}{
		{"words without marks", "q=cham+tre", []string{"-0042"}, []string{"-0077"}, []string{`name="q" maxlength="200" value="cham tre"`}},
		{"a part of the dossier code", "q=0077", []string{"-0077"}, []string{"-0042"}, []string{`value="0077"`}},
		{"the assignee, with the status filter kept", "assignee=lan&status=open", []string{"-0077"}, []string{"-0042"}, []string{`name="assignee" maxlength="200" value="lan"`, `<option value="open" selected>`}},
		{"the API's dossier= too", "dossier=H49-260105-0042", []string{"-0042"}, []string{"-0077"}, []string{`value="H49-260105-0042"`}},
	} {
		status, body := g.Page("/console/cases?"+c.query, admin)
		if status != 200 {
			t.Fatalf("%s: %d", c.name, status)
		}
		for _, w := range c.want {
			if !strings.Contains(body, w+"</a>") {
				t.Errorf("%s: no case %s:\n%s", c.name, w, shown(body))
			}
		}
		for _, w := range c.not {
			if strings.Contains(body, w+"</a>") {
				t.Errorf("%s: case %s listed:\n%s", c.name, w, shown(body))
			}
		}
		for _, w := range c.form {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the form lacks %s", c.name, w)
			}
		}
	}
	status, body := g.Page("/console/cases?q=!!!", admin)
	if status != 400 || !strings.Contains(body, `value="!!!"`) {
		t.Fatalf("a search with no word: %d %s", status, shown(body))
	}
	vietnamese(t, "a search with no word", body, "Tìm: hãy gõ từ cần tìm")
	status, body = g.Page("/console/cases?q=&assignee=%21&lang=en", admin)
	if status != 400 {
		t.Fatalf("an assignee with no word: %d", status)
	}
	inEnglish(t, "an assignee with no word", body, []string{"Assignee: type a name"}, "hãy gõ")
}
