package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

func TestConsoleSignInSessionsAndCSRF(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	g.Tree(t)
	if status, _ := g.Page("/console/dashboard", nil); status != 303 {
		t.Fatalf("unsigned dashboard: %d", status)
	}
	if res := g.PostForm("/console/login", url.Values{"key": {"wrong"}}, nil); res.StatusCode != 401 {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}
	// An admin creates a password user through the console.
	res := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil)
	admin := res.Cookies()[0]
	if res.StatusCode != 303 || !admin.HttpOnly || !admin.Secure || admin.SameSite != http.SameSiteStrictMode {
		t.Fatalf("admin sign-in: %d %+v", res.StatusCode, admin)
	}
	_, body := g.Page("/console/keys", admin)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	user := url.Values{"username": {"ttpvhc"}, "password": {"mat-khau-rat-dai"}, "role": {"agency"}, "agency": {"000.00.12.H49"}}
	if res := g.PostForm("/console/users", user, admin); res.StatusCode != 403 {
		t.Fatalf("POST without the CSRF token: %d", res.StatusCode)
	}
	user.Set("csrf", csrf)
	if res := g.PostForm("/console/users", user, admin); res.StatusCode != 303 {
		t.Fatalf("create user: %d %s", res.StatusCode, gwtest.Body(res))
	}
	user.Set("password", "short")
	user.Set("username", "other")
	if res := g.PostForm("/console/users", user, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "Mật khẩu cần 10 đến 72 ký tự.") {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	// An agency with sub-agencies cannot be deleted; a leaf can.
	_, body = g.Page("/console/agencies", admin)
	if res := g.PostForm("/console/agencies/000.00.00.H49/delete", url.Values{"csrf": {csrf}}, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "còn cơ quan trực thuộc") {
		t.Fatalf("delete a parent: %d", res.StatusCode)
	}
	if res := g.PostForm("/console/agencies/000.01.12.H49/delete", url.Values{"csrf": {csrf}}, admin); res.StatusCode != 303 {
		t.Fatalf("delete a leaf: %d", res.StatusCode)
	}
	// The user signs in with the password and sees only what an agency may.
	if res := g.PostForm("/console/login", url.Values{"username": {"ttpvhc"}, "password": {"wrong-password"}}, nil); res.StatusCode != 401 {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	res = g.PostForm("/console/login", url.Values{"username": {"ttpvhc"}, "password": {"mat-khau-rat-dai"}}, nil)
	if res.StatusCode != 303 {
		t.Fatalf("password sign-in: %d", res.StatusCode)
	}
	agency := res.Cookies()[0]
	if status, body := g.Page("/console/dashboard", agency); status != 200 || !strings.Contains(body, "ttpvhc · Cán bộ cơ quan · ") || strings.Contains(body, "· agency ·") {
		t.Fatalf("agency dashboard: %d", status)
	}
	if status, _ := g.Page("/console/channels", agency); status != 403 {
		t.Fatalf("agency user on channels: %d", status)
	}
	if status, _ := g.Page("/console/dashboard?agency=000.00.13.H49", agency); status != 403 {
		t.Fatalf("agency user outside its tree: %d", status)
	}
	// Signing out ends the session on the server.
	_, body = g.Page("/console/dashboard", agency)
	csrf = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	g.PostForm("/console/logout", url.Values{"csrf": {csrf}}, agency)
	if status, _ := g.Page("/console/dashboard", agency); status != 303 {
		t.Fatalf("after sign-out: %d", status)
	}
	// A console session opened with a key ends when the key is revoked.
	_, k := g.API("POST", "/api/v1/keys", map[string]any{"name": "desk", "role": "viewer"})
	res = g.PostForm("/console/login", url.Values{"key": {k["key"].(string)}}, nil)
	viewer := res.Cookies()[0]
	if status, _ := g.Page("/console/dashboard", viewer); status != 200 {
		t.Fatalf("viewer dashboard: %d", status)
	}
	g.API("DELETE", "/api/v1/keys/"+k["id"].(string), nil)
	if status, _ := g.Page("/console/dashboard", viewer); status != 303 {
		t.Fatalf("session of a revoked key: %d", status)
	}
	// A sign-in posted from another site is refused.
	req := httptest.NewRequest("POST", "/console/login", strings.NewReader("key="+gwtest.AdminKey))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res := g.Do(req); res.StatusCode != 403 {
		t.Fatalf("cross-site sign-in: %d", res.StatusCode)
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	if !strings.Contains(strings.Join(g.Replies, ""), `"action":"user.put"`) || len(audit["entries"].([]any)) == 0 {
		t.Fatalf("user creation not audited")
	}
}

// The agency form sets the short name invitations use when the full name
// does not fit an SMS; one too long comes back with the field named.
func TestConsoleAgencyShortName(t *testing.T) {
	g := gwtest.New(t, "")
	res := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil)
	admin := res.Cookies()[0]
	_, body := g.Page("/console/agencies", admin)
	if !strings.Contains(body, `name="short_name"`) || !strings.Contains(body, "Tên ngắn (tối đa 20 ký tự)") {
		t.Fatalf("the form has no short name:\n%s", body)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	form := url.Values{"csrf": {csrf}, "code": {"000.00.40.H40"}, "name": {"Ủy ban nhân dân huyện Nghi Lộc, tỉnh Nghệ An"}, "short_name": {"Ủy ban nhân dân Nghi Lộc"}}
	if res := g.PostForm("/console/agencies", form, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "Tên ngắn tối đa 20 ký tự.") {
		t.Fatalf("24 characters: %d", res.StatusCode)
	}
	form.Set("short_name", "UBND Nghi Lộc")
	if res := g.PostForm("/console/agencies", form, admin); res.StatusCode != 303 {
		t.Fatalf("save: %d %s", res.StatusCode, gwtest.Body(res))
	}
	if _, a := g.API("GET", "/api/v1/agencies/000.00.40.H40", nil); a["short_name"] != "UBND Nghi Lộc" {
		t.Fatalf("saved %v", a)
	}
	if _, body := g.Page("/console/agencies?lang=en", admin); !strings.Contains(body, "(UBND Nghi Lộc)") || !strings.Contains(body, "Short name (at most 20 characters)") {
		t.Fatalf("the list and the English form:\n%s", body)
	}
	// Its own send hours: a bad window comes back named, with what was
	// typed; a good one is kept, and the form shows it when editing.
	form.Set("send_hours", "21h-7h")
	res = g.PostForm("/console/agencies", form, admin)
	if b := gwtest.Body(res); res.StatusCode != 400 || !strings.Contains(b, "Giờ gửi tin ghi dạng GG:PP-GG:PP") || !strings.Contains(b, `value="21h-7h"`) {
		t.Fatalf("a bad send window: %d %s", res.StatusCode, b)
	}
	form.Set("send_hours", "08:00-20:00")
	if res := g.PostForm("/console/agencies", form, admin); res.StatusCode != 303 {
		t.Fatalf("save the window: %d %s", res.StatusCode, gwtest.Body(res))
	}
	if _, a := g.API("GET", "/api/v1/agencies/000.00.40.H40", nil); a["send_hours"] != "08:00-20:00" || a["call_hours"] != nil {
		t.Fatalf("saved %v", a)
	}
	if _, body := g.Page("/console/agencies?edit=000.00.40.H40", admin); !strings.Contains(body, `name="send_hours" placeholder="07:00-21:00" value="08:00-20:00"`) {
		t.Fatalf("the edit form does not show the window")
	}
}

// A desk with no integration makes an invitation in the console and gets
// its QR code at once; the sheet says which codes it could not print.
func TestConsoleDeskMakesAndPrints(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	res := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil)
	admin := res.Cookies()[0]
	_, body := g.Page("/console/invitations", admin)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	in := url.Values{"csrf": {csrf}, "dossier_code": {"000.00.12.H49-261128-0001"}, "agency_code": {"000.00.12.H49"}, "survey": {"sipas"}}
	res = g.PostForm("/console/invitations", in, admin)
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), "/console/qr-sheet?per=1&codes=000.00.12.H49-261128-0001") {
		t.Fatalf("make: %d %s %s", res.StatusCode, res.Header.Get("Location"), gwtest.Body(res))
	}
	status, sheet := g.Page(res.Header.Get("Location"), admin)
	if status != 200 || !strings.Contains(sheet, "Sở Tư pháp") || !strings.Contains(sheet, "Quét mã để đánh giá · Scan to rate") ||
		!strings.Contains(sheet, `class="sheet per-1"`) || !strings.Contains(sheet, "/s/") || strings.Count(sheet, "<figure") != 1 {
		t.Fatalf("sheet: %d %d\n%s", status, len(sheet), regexp.MustCompile(`base64,[^"]+`).ReplaceAllString(sheet, ""))
	}
	// The invitation's page says its status in words, in Vietnamese, or
	// in English once asked; the choice is kept for the next pages.
	if _, inv := g.Page("/console/invitations?dossier_code=000.00.12.H49-261128-0001", admin); !strings.Contains(inv, `data-status="pending">Chờ trả lời</dd>`) ||
		!strings.Contains(inv, `<html lang="vi">`) || !strings.Contains(inv, `href="/console/invitations?dossier_code=000.00.12.H49-261128-0001&amp;lang=en"`) {
		t.Fatalf("invitation page:\n%s", inv)
	}
	req := httptest.NewRequest("GET", "/console/invitations?dossier_code=000.00.12.H49-261128-0001&lang=en", nil)
	req.AddCookie(admin)
	res = g.Do(req)
	inv := gwtest.Body(res)
	if !strings.Contains(inv, `data-status="pending">Pending</dd>`) || !strings.Contains(inv, `<html lang="en">`) || !strings.Contains(inv, "<h1>Invitations</h1>") ||
		strings.Contains(inv, "Phiếu khảo sát") || len(res.Cookies()) != 1 || res.Cookies()[0].Name != "gw_lang" {
		t.Fatalf("invitation page in English: %v\n%s", res.Cookies(), inv)
	}
	req = httptest.NewRequest("GET", "/console/dashboard", nil)
	req.AddCookie(admin)
	req.AddCookie(res.Cookies()[0])
	if dash := gwtest.Body(g.Do(req)); !strings.Contains(dash, "Satisfaction index") || strings.Contains(dash, "Chỉ số hài lòng") {
		t.Fatalf("dashboard after choosing English:\n%s", dash)
	}
	// A bad form comes back with the field named.
	in.Set("dossier_code", "")
	if res := g.PostForm("/console/invitations", in, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "Mã hồ sơ không đúng dạng") {
		t.Fatalf("empty dossier: %d", res.StatusCode)
	}
	// Four codes asked, one unknown: three printed and the fourth named.
	g.Invite("D-SHEET-2", "000.00.12.H49", nil)
	g.Invite("D-SHEET-3", "000.00.13.H49", nil)
	_, sheet = g.Page("/console/qr-sheet?per=4&codes="+url.QueryEscape("000.00.12.H49-261128-0001 D-SHEET-2 D-SHEET-3 D-NOPE"), admin)
	if strings.Count(sheet, "<figure") != 3 || !strings.Contains(sheet, "1 mã không in được") || !strings.Contains(sheet, "<code>D-NOPE</code>") || !strings.Contains(sheet, `per-4`) {
		t.Fatalf("sheet with a miss:\n%s", sheet)
	}
	// An agency's user cannot print another agency's dossier: named, not printed.
	justice := g.Key(t, "agency", "000.00.12.H49")
	res = g.PostForm("/console/login", url.Values{"key": {justice}}, nil)
	_, sheet = g.Page("/console/qr-sheet?codes=D-SHEET-2+D-SHEET-3", res.Cookies()[0])
	if strings.Count(sheet, "<figure") != 1 || !strings.Contains(sheet, "ngoài phạm vi cơ quan của bạn") {
		t.Fatalf("agency sheet:\n%s", sheet)
	}
}

// An operator registers a desk in the console, reads its pairing code,
// sees the tablet that used it, its answers on the dashboard, and unpairs it.
func TestConsoleDesks(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, page := g.Page("/console/desks", admin)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	form := url.Values{"csrf": {csrf}, "id": {"quay-7"}, "agency_code": {"000.00.12.H49"}, "name": {"Quầy số 7"}, "officer": {"Lê Văn Cường"}, "form": {"short"}, "officer_pin": {"11223344"}}
	res := g.PostForm("/console/desks", form, admin)
	body := gwtest.Body(res)
	code := regexp.MustCompile(`id="pairing-code">([0-9]{4}) ([0-9]{4})<`).FindStringSubmatch(body)
	if res.StatusCode != 200 || code == nil {
		t.Fatalf("desk form: %d\n%s", res.StatusCode, body)
	}
	form.Set("id", "Quầy 7")
	if res := g.PostForm("/console/desks", form, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "quay-03") {
		t.Fatalf("bad desk id: %d", res.StatusCode)
	}
	_, paired := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": code[1] + code[2]})
	tablet, _ := paired["token"].(string)
	if tablet == "" {
		t.Fatalf("pair: %v", paired)
	}
	// Its answers show on the dashboard, ranked only from 30 responses.
	_, p := g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": "H49-DESK-1", "officer_pin": "11223344"})
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", map[string]any{"idempotency_key": "console-desk-1", "invitation_id": p["invitation_id"], "seq": p["seq"],
		"answers": map[string]int{"A": 5, "B": 5, "C": 5, "D": 5, "E": 5}}); res.StatusCode != 200 {
		t.Fatalf("answer: %d %v", res.StatusCode, out)
	}
	g.Drain()
	if _, dash := g.Page("/console/dashboard?survey=all&agency=000.00.12.H49", admin); !strings.Contains(dash, `<tr data-unit="quay-7"`) || !strings.Contains(dash, ">Quầy số 7</a>") || !strings.Contains(dash, "chưa đủ mẫu") {
		t.Fatalf("the department's dashboard without its desk:\n%s", dash)
	}
	_, page = g.Page("/console/desks", admin)
	device := regexp.MustCompile(`/console/desks/quay-7/devices/([0-9a-f]+)/revoke`).FindStringSubmatch(page)
	if device == nil || !strings.Contains(page, "Lê Văn Cường") || !strings.Contains(page, "chưa đủ phiếu để xếp hạng") || !strings.Contains(page, "có mã PIN cán bộ") ||
		strings.Contains(page, tablet) || strings.Contains(page, "11223344") {
		t.Fatalf("desks page:\n%s", page)
	}
	if res := g.PostForm(device[0], url.Values{"csrf": {csrf}}, admin); res.StatusCode != 303 {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if res, _ := g.As(tablet, "GET", "/kiosk/api/desk", nil); res.StatusCode != 401 {
		t.Fatalf("unpaired tablet: %d", res.StatusCode)
	}
	if _, page = g.Page("/console/desks", admin); !strings.Contains(page, "đã huỷ") {
		t.Fatalf("revoked tablet not marked:\n%s", page)
	}
}
