package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The desk's form preselects the survey the API defaults to (the full
// SIPAS form), and says which form the index leaves out; a case opened
// by a low overall rating is labelled by the question's name, not its
// code, in the list and on its page, in both languages.
func TestConsoleInvitationDefaultAndCaseLabels(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, body := g.Page("/console/invitations", admin)
	selected := regexp.MustCompile(`<option value="([^"]+)" selected>`).FindAllStringSubmatch(body, -1)
	if len(selected) != 1 || selected[0][1] != "sipas" {
		t.Fatalf("preselected %v, want the API's default sipas", selected)
	}
	if !strings.Contains(body, "Đánh giá chung (overall) · không tính vào chỉ số SIPAS</option>") || strings.Contains(body, "(sipas) · không tính") {
		t.Fatalf("the overall form is not marked as outside the index:\n%s", body)
	}
	if _, en := g.Page("/console/invitations?lang=en", admin); !strings.Contains(en, "Overall rating (overall) · not counted in the SIPAS index</option>") {
		t.Fatalf("English form:\n%s", en)
	}
	tok := gwtest.Token(g.Invite("LOW-O", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+tok, "O=1"); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	id := list["cases"].([]any)[0].(map[string]any)["id"].(string)
	for _, c := range []struct{ path, want, code string }{
		{"/console/cases", "Điểm thấp: Mức độ hài lòng chung</td>", "Điểm thấp O"},
		{"/console/cases?lang=en", "Low score: Overall satisfaction</td>", "Low score O"},
		{"/console/cases/" + id, "Mức độ hài lòng chung", ": O</dd>"},
		{"/console/cases/" + id + "?lang=en", "Overall satisfaction", ": O</dd>"},
	} {
		if _, page := g.Page(c.path, admin); !strings.Contains(page, c.want) || strings.Contains(page, c.code) {
			t.Errorf("%s: want %q, not %q:\n%s", c.path, c.want, c.code, page)
		}
	}
}
