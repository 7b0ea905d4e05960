package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The console shows each agency's feedback link, marks feedback cases
// in the case list (their reference and type) and on their page (the
// dossier code the citizen typed, unchecked; no phone confirmed), and
// filters them by source.
func TestConsoleShowsFeedback(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	cookie := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, page := g.Page("/console/agencies", cookie)
	link := g.Core.FeedbackURL("000.00.12.H49")
	if !strings.Contains(page, `href="`+link+`"`) || !strings.Contains(page, "Hòm thư góp ý") {
		t.Fatalf("the agencies page lacks the feedback link %s", link)
	}
	tok := strings.TrimPrefix(link, g.Core.BaseURL+"/g/")
	_, form := g.Page("/g/"+tok, nil)
	nonce := regexp.MustCompile(`name="nonce" value="([^"]+)"`).FindStringSubmatch(form)[1]
	res := g.Form("/g/"+tok, url.Values{"type": {"recommendation"}, "text": {"Đề nghị mở thêm quầy chiều thứ bảy"}, "dossier_code": {"000.00.12.H49-260101-0001"}, "nonce": {nonce}}.Encode())
	if res.StatusCode != 303 {
		t.Fatalf("feedback: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Invite("CON-FB", "000.00.12.H49", nil)

	_, list := g.Page("/console/cases", cookie)
	row := regexp.MustCompile(`<tr data-kind="feedback"><td><a href="/console/cases/(KN\d{6}-[A-Z2-7]{8})">KN`).FindStringSubmatch(list)
	if row == nil || !strings.Contains(list, "<td>Kiến nghị</td>") {
		t.Fatalf("the case list does not mark the feedback case:\n%s", list)
	}
	_, en := g.Page("/console/cases?lang=en", cookie)
	if !strings.Contains(en, "<td>Recommendation</td>") {
		t.Fatal("the English list does not name the type")
	}
	_, casePage := g.Page("/console/cases/"+row[1]+"?lang=vi", cookie)
	for _, want := range []string{"Hòm thư góp ý: " + row[1], `data-type="recommendation"`, "000.00.12.H49-260101-0001 <small>(chưa kiểm tra)</small>", "chưa xác nhận", "Đề nghị mở thêm quầy chiều thứ bảy"} {
		if !strings.Contains(casePage, want) {
			t.Errorf("the case page lacks %q", want)
		}
	}
	if _, only := g.Page("/console/cases?kind=response", cookie); strings.Contains(only, `data-kind="feedback"`) {
		t.Fatal("kind=response lists the feedback case")
	}
}
