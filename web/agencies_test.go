package web_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The agencies page lists the tree, each agency under its parent with
// its level in words; a row's edit link opens the form filled in, a save
// says so, and a refused save keeps what was typed.
func TestConsoleAgencyTree(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.00.H49", map[string]any{"name": "UBND tỉnh Quảng Nam", "level": "province"}); res.StatusCode != 200 {
		t.Fatalf("level: %v", out)
	}
	cookie, csrf := signIn(t, g, gwtest.AdminKey)
	_, page := g.Page("/console/agencies", cookie)
	vietnamese(t, "the agencies page", page, "UBND tỉnh Quảng Nam 000.00.00.H49 Tỉnh", "Phòng Hộ tịch 000.01.12.H49 Sở Tư pháp")
	rows := regexp.MustCompile(`<td class="depth-(\d)">([^<]+)`).FindAllStringSubmatch(page, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[1]+" "+strings.TrimSpace(r[2]))
	}
	want := "0 UBND tỉnh Quảng Nam|1 Sở Tư pháp|2 Phòng Hộ tịch|1 Sở Xây dựng"
	if strings.Join(got, "|") != want {
		t.Fatalf("the tree: %q, want %q", strings.Join(got, "|"), want)
	}

	_, page = g.Page("/console/agencies?edit=000.00.12.H49", cookie)
	if !strings.Contains(page, `name="code" required value="000.00.12.H49" readonly`) || !strings.Contains(page, `name="name" required value="Sở Tư pháp"`) ||
		!strings.Contains(page, `<option value="000.00.00.H49" selected>`) {
		t.Fatalf("the edit form is not filled in:\n%s", page)
	}
	form := url.Values{"csrf": {csrf}, "code": {"000.00.12.H49"}, "name": {"Sở Tư pháp"}, "parent": {"000.00.00.H49"}, "level": {"department"}, "short_name": {"Một tên ngắn quá dài để vừa"}}
	res, page := post(g, "/console/agencies", form, cookie)
	if res.StatusCode != 400 || !strings.Contains(page, `value="Một tên ngắn quá dài để vừa"`) || !strings.Contains(page, `<option value="department" selected>Sở/Ban/Ngành</option>`) {
		t.Fatalf("a refused save: %d\n%s", res.StatusCode, shown(page))
	}
	form.Set("short_name", "STP")
	res, _ = post(g, "/console/agencies", form, cookie)
	if res.StatusCode != 303 {
		t.Fatalf("save: %d", res.StatusCode)
	}
	page = pageWith(g, "/console/agencies", append(res.Cookies(), cookie)...)
	vietnamese(t, "after a save", page, "Đã lưu cơ quan Sở Tư pháp.", "Sở Tư pháp (STP) 000.00.12.H49 Sở/Ban/Ngành")
	_, page = g.Page("/console/agencies?lang=en", cookie)
	inEnglish(t, "the agencies page", page, []string{"000.00.00.H49 Province", "000.00.12.H49 Department"}, "Sở/Ban/Ngành", "Tỉnh")
}
