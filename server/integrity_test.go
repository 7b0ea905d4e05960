package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// The staff list: numbers checked entry by entry, kept as hashes, never
// answered or audited; set by an admin or the agency's own or a parent's
// key, not another branch's nor a viewer's.
func TestStaffPhonesEndpoint(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	const path = "/api/v1/agencies/000.01.12.H49/staff-phones"
	for body, field := range map[string]string{
		`{"phones": ["0912345678", "0123 777"]}`:    "phones[1]",
		`{"phones": ["0912345678", "call 777"]}`:    "phones[1]",
		`{}`:                                        "phones",
		`{"phones": "0912345678"}`:                  "phones",
		`{"phones": ["0912345678", "0123 777", 5]}`: "phones",
	} {
		req := httptest.NewRequest("PUT", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		res := g.Do(req)
		if got := gwtest.Body(res); res.StatusCode != 400 || !strings.Contains(got, `"field":"`+field+`"`) || strings.Contains(got, "777") {
			t.Errorf("%s: %d %s, want 400 naming %s without the entry", body, res.StatusCode, got, field)
		}
	}
	phones := []string{"0912345678", "+84 912 345 678", "0988765432"}
	own, parent := g.Key(t, "agency", "000.01.12.H49"), g.Key(t, "agency", "000.00.12.H49")
	for _, key := range []string{gwtest.AdminKey, own, parent} {
		if res, out := g.As(key, "PUT", path, map[string]any{"phones": phones}); res.StatusCode != 200 || out["phones"] != 2.0 || out["agency_code"] != "000.01.12.H49" {
			t.Fatalf("put: %d %v", res.StatusCode, out)
		}
	}
	for _, key := range []string{g.Key(t, "agency", "000.00.13.H49"), g.Key(t, "viewer", "")} {
		if res, _ := g.As(key, "PUT", path, map[string]any{"phones": phones}); res.StatusCode != 403 {
			t.Errorf("another branch's or a viewer's key: %d", res.StatusCode)
		}
	}
	if res, _ := g.API("PUT", "/api/v1/agencies/000.99.12.H49/staff-phones", map[string]any{"phones": phones}); res.StatusCode != 404 {
		t.Errorf("unregistered agency: %d", res.StatusCode)
	}
	// A PUT of the agency keeps the list.
	if res, _ := g.API("PUT", "/api/v1/agencies/000.01.12.H49", map[string]any{"name": "Phòng Hộ tịch", "parent": "000.00.12.H49"}); res.StatusCode != 200 {
		t.Fatal("put agency")
	}
	if a, err := g.Mongo.Agencies.Agency(context.Background(), "000.01.12.H49"); err != nil || len(a.StaffPhones) != 2 || a.StaffPhones[0] == "84912345678" {
		t.Fatalf("stored %v (%v)", a, err)
	}
	g.API("GET", "/api/v1/agencies/000.01.12.H49", nil)
	g.API("GET", "/api/v1/agencies", nil)
	g.API("GET", "/api/v1/audit", nil)
	hash := g.Core.Sealer.Hash("84912345678")
	for _, reply := range g.Replies {
		for _, tok := range strings.FieldsFunc(reply, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
			if tok == "0912345678" || tok == "84912345678" || tok == "912345678" || tok == "0988765432" || tok == hash {
				t.Fatalf("a reply carries a staff number or its hash: %s", reply)
			}
		}
	}
}

// Agencies' networks: each entry checked and named (office_networks[2]),
// a plain address kept as a /32 or /128, host bits cleared; a body
// without the lists keeps them, [] empties them.
func TestAgencyNetworks(t *testing.T) {
	g := gwtest.New(t, "")
	const path = "/api/v1/agencies/000.00.12.H49"
	put := func(body map[string]any) (*http.Response, map[string]any) {
		t.Helper()
		body["name"] = "Sở Tư pháp"
		return g.API("PUT", path, body)
	}
	for _, c := range []struct {
		list  string
		value []string
		field string
	}{
		{"office_networks", []string{"10.1.0.0/16", "192.0.2.7", "intranet"}, "office_networks[2]"},
		{"office_networks", []string{"10.1.0.0/33"}, "office_networks[0]"},
		{"dossier_servers", []string{"2001:db8::/48", "0.0.0.0/0"}, "dossier_servers[1]"},
		{"dossier_servers", []string{"fe80::1%eth0"}, "dossier_servers[0]"},
	} {
		res, out := put(map[string]any{c.list: c.value})
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != c.field || !strings.Contains(e["message"].(string), "/") {
			t.Errorf("%s %v: %d %v, want 400 naming %s with the fix", c.list, c.value, res.StatusCode, out, c.field)
		}
	}
	res, out := put(map[string]any{"office_networks": []string{"10.1.2.3/16", "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.1"}, "dossier_servers": []string{"203.0.113.0/28"}})
	if res.StatusCode != 200 || fmt.Sprint(out["office_networks"]) != "[10.1.0.0/16 192.0.2.7/32 2001:db8::1/128 198.51.100.1/32]" || fmt.Sprint(out["dossier_servers"]) != "[203.0.113.0/28]" {
		t.Fatalf("put: %d %v", res.StatusCode, out)
	}
	if _, out = put(map[string]any{"short_name": "STP"}); fmt.Sprint(out["office_networks"]) != "[10.1.0.0/16 192.0.2.7/32 2001:db8::1/128 198.51.100.1/32]" || out["dossier_servers"] == nil {
		t.Fatalf("a body without the lists: %v", out)
	}
	if _, out = put(map[string]any{"office_networks": []string{}}); out["office_networks"] != nil || out["dossier_servers"] == nil {
		t.Fatalf("an empty list: %v", out)
	}
}

// The survey page gives a browser without one a device cookie: random,
// first-party, HttpOnly, SameSite=Lax, Secure behind https, for 400 days;
// a browser that has one keeps it.
func TestDeviceCookie(t *testing.T) {
	for base, secure := range map[string]bool{"https://ks.example.vn": true, "http://gateway.test": false} {
		g := gwtest.New(t, base)
		token := gwtest.Token(g.Invite("D-COOKIE", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		res := g.Do(httptest.NewRequest("GET", "/s/"+token, nil))
		var c *http.Cookie
		for _, k := range res.Cookies() {
			if k.Name == "gw_device" {
				c = k
			}
		}
		if c == nil || len(c.Value) != 32 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 400*24*3600 || c.Secure != secure || c.Path != "/" {
			t.Fatalf("%s: device cookie %+v", base, c)
		}
		req := httptest.NewRequest("GET", "/s/"+token, nil)
		req.AddCookie(c)
		if again := g.Do(req).Header.Get("Set-Cookie"); strings.Contains(again, "gw_device") {
			t.Fatalf("%s: a browser with a cookie got another: %s", base, again)
		}
	}
}
