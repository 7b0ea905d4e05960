package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

func form(g *gwtest.Gateway, path string, v url.Values, cookie *http.Cookie) *http.Response {
	req := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return g.Do(req)
}

func page(g *gwtest.Gateway, path string, cookie *http.Cookie) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res := g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

func TestConsoleSignInSessionsAndCSRF(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	tree(t, g)
	if status, _ := page(g, "/console/dashboard", nil); status != 303 {
		t.Fatalf("unsigned dashboard: %d", status)
	}
	if res := form(g, "/console/login", url.Values{"key": {"wrong"}}, nil); res.StatusCode != 401 {
		t.Fatalf("wrong key: %d", res.StatusCode)
	}
	// An admin creates a password user through the console.
	res := form(g, "/console/login", url.Values{"key": {gwtest.AdminKey}}, nil)
	admin := res.Cookies()[0]
	if res.StatusCode != 303 || !admin.HttpOnly || !admin.Secure || admin.SameSite != http.SameSiteStrictMode {
		t.Fatalf("admin sign-in: %d %+v", res.StatusCode, admin)
	}
	_, body := page(g, "/console/keys", admin)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	user := url.Values{"username": {"ttpvhc"}, "password": {"mat-khau-rat-dai"}, "role": {"agency"}, "agency": {"000.00.12.H49"}}
	if res := form(g, "/console/users", user, admin); res.StatusCode != 403 {
		t.Fatalf("POST without the CSRF token: %d", res.StatusCode)
	}
	user.Set("csrf", csrf)
	if res := form(g, "/console/users", user, admin); res.StatusCode != 303 {
		t.Fatalf("create user: %d %s", res.StatusCode, gwtest.Body(res))
	}
	user.Set("password", "short")
	user.Set("username", "other")
	if res := form(g, "/console/users", user, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "password") {
		t.Fatalf("short password: %d", res.StatusCode)
	}
	// An agency with sub-agencies cannot be deleted; a leaf can.
	_, body = page(g, "/console/agencies", admin)
	if res := form(g, "/console/agencies/000.00.00.H49/delete", url.Values{"csrf": {csrf}}, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "sub-agencies") {
		t.Fatalf("delete a parent: %d", res.StatusCode)
	}
	if res := form(g, "/console/agencies/000.01.12.H49/delete", url.Values{"csrf": {csrf}}, admin); res.StatusCode != 303 {
		t.Fatalf("delete a leaf: %d", res.StatusCode)
	}
	// The user signs in with the password and sees only what an agency may.
	if res := form(g, "/console/login", url.Values{"username": {"ttpvhc"}, "password": {"wrong-password"}}, nil); res.StatusCode != 401 {
		t.Fatalf("wrong password: %d", res.StatusCode)
	}
	res = form(g, "/console/login", url.Values{"username": {"ttpvhc"}, "password": {"mat-khau-rat-dai"}}, nil)
	if res.StatusCode != 303 {
		t.Fatalf("password sign-in: %d", res.StatusCode)
	}
	agency := res.Cookies()[0]
	if status, body := page(g, "/console/dashboard", agency); status != 200 || !strings.Contains(body, "ttpvhc · agency · 000.00.12.H49") {
		t.Fatalf("agency dashboard: %d", status)
	}
	if status, _ := page(g, "/console/channels", agency); status != 403 {
		t.Fatalf("agency user on channels: %d", status)
	}
	if status, _ := page(g, "/console/dashboard?agency=000.00.13.H49", agency); status != 403 {
		t.Fatalf("agency user outside its tree: %d", status)
	}
	// Signing out ends the session on the server.
	_, body = page(g, "/console/dashboard", agency)
	csrf = regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	form(g, "/console/logout", url.Values{"csrf": {csrf}}, agency)
	if status, _ := page(g, "/console/dashboard", agency); status != 303 {
		t.Fatalf("after sign-out: %d", status)
	}
	// A console session opened with a key ends when the key is revoked.
	_, k := g.API("POST", "/api/v1/keys", map[string]any{"name": "desk", "role": "viewer"})
	res = form(g, "/console/login", url.Values{"key": {k["key"].(string)}}, nil)
	viewer := res.Cookies()[0]
	if status, _ := page(g, "/console/dashboard", viewer); status != 200 {
		t.Fatalf("viewer dashboard: %d", status)
	}
	g.API("DELETE", "/api/v1/keys/"+k["id"].(string), nil)
	if status, _ := page(g, "/console/dashboard", viewer); status != 303 {
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
