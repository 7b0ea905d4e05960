package gwtest

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Tree registers a province with two departments and a commune office
// under the first.
func (g *Gateway) Tree(t testing.TB) {
	t.Helper()
	for _, a := range []struct{ code, parent, name string }{
		{"000.00.00.H49", "", "UBND tỉnh Quảng Nam"},
		{"000.00.12.H49", "000.00.00.H49", "Sở Tư pháp"},
		{"000.00.13.H49", "000.00.00.H49", "Sở Xây dựng"},
		{"000.01.12.H49", "000.00.12.H49", "Phòng Hộ tịch"},
	} {
		res, out := g.API("PUT", "/api/v1/agencies/"+a.code, map[string]any{"name": a.name, "parent": a.parent})
		if res.StatusCode != 200 {
			t.Fatalf("agency %s: %d %v", a.code, res.StatusCode, out)
		}
	}
}

// Key makes an API key of role, bound to agency when not empty.
func (g *Gateway) Key(t testing.TB, role, agency string) string {
	t.Helper()
	res, out := g.API("POST", "/api/v1/keys", map[string]any{"name": role + " key", "role": role, "agency": agency})
	if res.StatusCode != 201 || !strings.HasPrefix(out["key"].(string), "sk_") {
		t.Fatalf("create %s key: %d %v", role, res.StatusCode, out)
	}
	return out["key"].(string)
}

// PostForm posts a console form, with the session cookie when not nil.
func (g *Gateway) PostForm(path string, v url.Values, cookie *http.Cookie) *http.Response {
	req := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != nil {
		req.AddCookie(cookie)
	}
	return g.Do(req)
}

// Page gets a console page: its status and body.
func (g *Gateway) Page(path string, cookie *http.Cookie) (int, string) {
	req := httptest.NewRequest("GET", path, nil)
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res := g.Do(req)
	return res.StatusCode, Body(res)
}
