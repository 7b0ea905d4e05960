package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// Hostile input: each request gets a clear refusal and nothing is stored.
func TestHostileInput(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-REAL", "000.00.12.H49", map[string]any{"survey": "overall"}))
	deep := strings.Repeat(`{"a":`, 2000) + "1" + strings.Repeat("}", 2000)
	api := func(body string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "/api/v1/invitations", strings.NewReader(body))
			r.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
			r.Header.Set("Content-Type", "application/json")
			return r
		}
	}
	get := func(path string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("GET", path, nil)
			r.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
			return r
		}
	}
	survey := func(body string) func() *http.Request {
		return func() *http.Request {
			r := httptest.NewRequest("POST", "/s/"+tok, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}
	}
	cases := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"operator in a field", api(`{"dossier_code": {"$ne": null}, "agency_code": "000.00.12.H49"}`), 400},
		{"operator as a key", api(`{"$where": "1", "dossier_code": "D-1", "agency_code": "000.00.12.H49"}`), 400},
		{"deeply nested", api(`{"dossier_code": ` + deep + `}`), 400},
		{"bad UTF-8", api("{\"dossier_code\": \"D-\xff\xfe\", \"agency_code\": \"000.00.12.H49\"}"), 400},
		{"header injection", api(`{"dossier_code": "D-1\r\nSet-Cookie: x=1", "agency_code": "000.00.12.H49"}`), 400},
		{"null bytes", api("{\"dossier_code\": \"D-1\\u0000\", \"agency_code\": \"000.00.12.H49\"}"), 400},
		{"array body", api(`[1,2,3]`), 400},
		{"wrong content type", func() *http.Request {
			r := api(`{"dossier_code":"D-1","agency_code":"000.00.12.H49"}`)()
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 400},
		{"operator in a report filter", get(`/api/v1/reports/sipas?agency={"$gt":""}`), 400},
		{"operator in a lookup", get(`/api/v1/invitations?dossier_code[$ne]=x`), 400},
		{"forged token", func() *http.Request { return httptest.NewRequest("GET", "/s/AAAAAAAAAAAAAAAB", nil) }, 404},
		{"path traversal token", func() *http.Request { return httptest.NewRequest("GET", "/s/..%2F..%2Fetc%2Fpasswd", nil) }, 404},
		{"score out of range", survey("O=9"), 422},
		{"bad UTF-8 comment", survey("O=5&comment=%ff%fe"), 422},
		{"operator in a form field", survey("O[$gt]=0"), 422},
	}
	for _, tc := range cases {
		res := g.Do(tc.req())
		if res.StatusCode != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, gwtest.Body(res), tc.status)
		}
		if v := res.Header.Get("Set-Cookie"); strings.Contains(v, "x=1") {
			t.Errorf("%s: header injected", tc.name)
		}
	}
	if n, _ := g.Mongo.DB.Collection("invitations").CountDocuments(t.Context(), map[string]any{}); n != 1 {
		t.Fatalf("%d invitations stored, want only the real one", n)
	}
	if n, _ := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), map[string]any{}); n != 0 {
		t.Fatalf("%d responses stored from hostile input", n)
	}
}
