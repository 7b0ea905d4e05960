package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// Profiles are off by default: every /debug/pprof path is 404, even to the
// admin key.
func TestPprofOffByDefault(t *testing.T) {
	g := gwtest.New(t, "")
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/profile?seconds=1", "/debug/pprof/trace"} {
		if res := profile(g, gwtest.AdminKey, "GET", path); res.StatusCode != 404 {
			t.Errorf("GET %s with profiles off: %d, want 404", path, res.StatusCode)
		}
	}
}

// Turned on, profiles answer the admin key only, through the API's
// authentication; cmdline stays hidden since flags may carry secrets.
func TestPprofAdminOnly(t *testing.T) {
	g := gwtest.New(t, "", func(c *config.Config) { c.Pprof = true })
	g.Tree(t)
	viewer := g.Key(t, "viewer", "")
	agency := g.Key(t, "agency", "000.00.12.H49")
	cases := []struct {
		key, method, path string
		status            int
		prefix            []byte // the body starts with it
	}{
		{"", "GET", "/debug/pprof/heap?debug=1", 401, nil},
		{"sk_not-a-key", "GET", "/debug/pprof/heap?debug=1", 401, nil},
		{viewer, "GET", "/debug/pprof/heap?debug=1", 403, nil},
		{agency, "GET", "/debug/pprof/profile?seconds=1", 403, nil},
		{viewer, "GET", "/debug/pprof/", 403, nil},
		{gwtest.AdminKey, "GET", "/debug/pprof/heap?debug=1", 200, []byte("heap profile: ")},
		{gwtest.AdminKey, "GET", "/debug/pprof/goroutine?debug=1", 200, []byte("goroutine profile: ")},
		{gwtest.AdminKey, "GET", "/debug/pprof/allocs", 200, []byte{0x1f, 0x8b}},
		{gwtest.AdminKey, "GET", "/debug/pprof/profile?seconds=1", 200, []byte{0x1f, 0x8b}},
		{gwtest.AdminKey, "GET", "/debug/pprof/trace?seconds=0.2", 200, []byte("go 1.")},
		{gwtest.AdminKey, "GET", "/debug/pprof/", 200, []byte("<html>")},
		{gwtest.AdminKey, "POST", "/debug/pprof/symbol", 200, []byte("num_symbols: 1")},
		{gwtest.AdminKey, "GET", "/debug/pprof/cmdline", 404, nil},
		{gwtest.AdminKey, "GET", "/debug/pprof/no-such-profile", 404, nil},
	}
	for _, tc := range cases {
		res := profile(g, tc.key, tc.method, tc.path)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != tc.status || !bytes.HasPrefix(body, tc.prefix) {
			t.Errorf("%s %s with key %q: %d %.60q, want %d starting %q", tc.method, tc.path, tc.key, res.StatusCode, body, tc.status, tc.prefix)
		}
	}
}

// profile sends a request with the key as a bearer token, or none if empty.
func profile(g *gwtest.Gateway, key, method, path string) *http.Response {
	req := httptest.NewRequest(method, path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return g.Do(req)
}
