package web_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// A case's page shows the citizen's scores by criterion with the
// survey's names, where the answer goes (channel by name, phone masked),
// the agency's people to assign it to, and its history in words, not
// codes; an assignment says what it did. In Vietnamese and in English.
func TestConsoleCasePageInWords(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	const secret = "case-page-secret-0123456789"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	if res, out := g.API("POST", "/api/v1/keys", map[string]any{"name": "Nguyễn Thị Hoa", "role": "agency", "agency": "000.00.12.H49"}); res.StatusCode != 201 {
		t.Fatalf("key: %v", out)
	}
	if res, out := g.API("POST", "/api/v1/keys", map[string]any{"name": "Lê Văn Tám", "role": "agency", "agency": "000.00.13.H49"}); res.StatusCode != 201 {
		t.Fatalf("key: %v", out)
	}
	g.Invite("CASE-W-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	body := fmt.Sprintf(`{"id":"w-1","from":"0912345678","to":"8079","text":%q}`, "1 2 4 5 3")
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
	if res := g.Do(req); res.StatusCode != 200 {
		t.Fatalf("sms: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	cases, _ := list["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("cases: %v", list)
	}
	id := cases[0].(map[string]any)["id"].(string)
	cookie, csrf := signIn(t, g, gwtest.AdminKey)

	_, page := g.Page("/console/cases/"+id, cookie)
	vietnamese(t, "the case page", page, "Vụ việc của hồ sơ CASE-W-1", "Tiếp cận dịch vụ", "1 · Rất không hài lòng", "2 · Không hài lòng",
		"Thủ tục hành chính", "tin nhắn SMS", "Gửi qua kênh SMS qua đơn vị tích hợp (định dạng chung) tới số 84******678", "Mở do điểm thấp", "Lý do Điểm thấp: Tiếp cận dịch vụ, Thủ tục hành chính")
	if !strings.Contains(page, "<option>Nguyễn Thị Hoa</option>") || strings.Contains(page, "Lê Văn Tám") {
		t.Errorf("the assignee list holds the agency's keys only:\n%s", page)
	}
	for _, code := range []string{"low_score", "opened", "sms.generic"} {
		if strings.Contains(shown(page), code) {
			t.Errorf("the case page shows the code %q:\n%s", code, shown(page))
		}
	}

	res, _ := post(g, "/console/cases/"+id+"/assign", url.Values{"csrf": {csrf}, "assignee": {"Nguyễn Thị Hoa"}}, cookie)
	if res.StatusCode != 303 {
		t.Fatalf("assign: %d", res.StatusCode)
	}
	page = pageWith(g, "/console/cases/"+id, append(res.Cookies(), cookie)...)
	vietnamese(t, "the case after assigning", page, "Đã giao vụ việc cho Nguyễn Thị Hoa.", "Giao cho Nguyễn Thị Hoa")
	if !strings.Contains(page, "<option selected>Nguyễn Thị Hoa</option>") {
		t.Errorf("the assignee is not selected:\n%s", page)
	}

	_, page = g.Page("/console/cases/"+id+"?lang=en", cookie)
	inEnglish(t, "the case page", page, []string{"Case of dossier CASE-W-1", "Access to the service", "Very dissatisfied", "Opened on a low score", "Assigned to Nguyễn Thị Hoa", "to 84******678"},
		"Mở do điểm thấp", "Rất không hài lòng", "Giao cho")
}
