package server_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
)

func TestAgencyTree(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for _, tc := range []struct {
		code   string
		body   map[string]any
		status int
		field  string
	}{
		{"000.00.00.H49", map[string]any{"name": "x", "parent": "000.01.12.H49"}, 400, "parent"}, // cycle
		{"000.02.12.H49", map[string]any{"name": "x", "parent": "999.99.99.H99"}, 400, "parent"}, // unknown parent
		{"bad code", map[string]any{"name": "x"}, 400, "code"},
		{"000.03.12.H49", map[string]any{"name": ""}, 400, "name"},
		{"000.03.12.H49", map[string]any{"name": "x", "level": "galaxy"}, 400, "level"},
		{"000.00.12.H49", map[string]any{"name": "x", "parent": "000.00.12.H49"}, 400, "parent"},
	} {
		res, out := g.API("PUT", "/api/v1/agencies/"+strings.ReplaceAll(tc.code, " ", "%20"), tc.body)
		if e, _ := out["error"].(map[string]any); res.StatusCode != tc.status || e["field"] != tc.field {
			t.Errorf("PUT %s %v: %d %v", tc.code, tc.body, res.StatusCode, out)
		}
	}
	// Two concurrent changes that together would make a cycle: one loses.
	for i := 0; i < 5; i++ {
		a, b := fmt.Sprintf("000.0%d.77.H49", i), fmt.Sprintf("000.0%d.88.H49", i)
		g.API("PUT", "/api/v1/agencies/"+a, map[string]any{"name": "A", "parent": "000.00.00.H49"})
		g.API("PUT", "/api/v1/agencies/"+b, map[string]any{"name": "B", "parent": "000.00.00.H49"})
		var wg sync.WaitGroup
		codes := make([]int, 2)
		for j, pair := range [][2]string{{a, b}, {b, a}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, _ := g.API("PUT", "/api/v1/agencies/"+pair[0], map[string]any{"name": "x", "parent": pair[1]})
				codes[j] = res.StatusCode
			}()
		}
		wg.Wait()
		if codes[0] == 200 && codes[1] == 200 {
			t.Fatalf("both halves of a cycle were accepted")
		}
	}
	if res, _ := g.API("DELETE", "/api/v1/agencies/000.00.12.H49", nil); res.StatusCode != 409 {
		t.Fatalf("delete with children: %d", res.StatusCode)
	}
	if res, _ := g.API("DELETE", "/api/v1/agencies/000.01.12.H49", nil); res.StatusCode != 204 {
		t.Fatalf("delete leaf: %d", res.StatusCode)
	}
	_, all := g.API("GET", "/api/v1/agencies", nil)
	if n := len(all["agencies"].([]any)); n != 3+10 {
		t.Fatalf("%d agencies", n)
	}
}

// An agency's short name is cleaned like its name and counted in
// characters, not bytes: 20 are kept, 21 refused naming the field and
// what it is for.
func TestAgencyShortName(t *testing.T) {
	g := gwtest.New(t, "")
	const twenty = "Sở Tư pháp Bình Định" // 20 characters, 28 bytes
	put := func(short string) (int, map[string]any) {
		res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp tỉnh Bình Định", "short_name": short})
		return res.StatusCode, out
	}
	if status, out := put(twenty + "x"); status != 400 || out["error"].(map[string]any)["field"] != "short_name" ||
		!strings.Contains(out["error"].(map[string]any)["message"].(string), "at most 20 characters") {
		t.Fatalf("21 characters: %d %v", status, out)
	}
	if status, out := put(twenty); status != 200 || out["short_name"] != twenty {
		t.Fatalf("20 characters: %d %v", status, out)
	}
	// Decomposed, with a zero-width space and padding: 24 characters as
	// typed, "UBND Nghi Lộc" (13) once cleaned.
	if status, out := put("  UBND Nghi\u200b Lo\u0323\u0302c \u202e"); status != 200 || out["short_name"] != "UBND Nghi Lộc" {
		t.Fatalf("cleaned: %d %q", status, out["short_name"])
	}
	if _, a := g.API("GET", "/api/v1/agencies/000.00.12.H49", nil); a["short_name"] != "UBND Nghi Lộc" {
		t.Fatalf("stored: %v", a)
	}
	if status, out := put(""); status != 200 || out["short_name"] != nil {
		t.Fatalf("none: %d %v", status, out)
	}
}

func csvImport(g *gwtest.Gateway, body string) (int, string) {
	req := httptest.NewRequest("POST", "/api/v1/agencies/import", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	req.Header.Set("Content-Type", "text/csv")
	res := g.Do(req)
	return res.StatusCode, gwtest.Body(res)
}

func TestAgencyCSVImport(t *testing.T) {
	g := gwtest.New(t, "")
	// Children before parents, a BOM, Vietnamese names: all fine.
	ok := "\ufeffcode,name,name_en,parent,level\n" +
		"000.01.12.H49,Phòng Hộ tịch,Civil status office,000.00.12.H49,unit\n" +
		"000.00.12.H49,Sở Tư pháp,Department of Justice,000.00.00.H49,department\n" +
		"000.00.00.H49,UBND tỉnh Quảng Nam,Quang Nam PPC,,province\n"
	if status, body := csvImport(g, ok); status != 200 || !strings.Contains(body, `"imported":3`) {
		t.Fatalf("import: %d %s", status, body)
	}
	_, a := g.API("GET", "/api/v1/agencies/000.01.12.H49", nil)
	if a["name"] != "Phòng Hộ tịch" || a["parent"] != "000.00.12.H49" {
		t.Fatalf("%v", a)
	}
	// A short_name column, anywhere in the header, sets it; a file
	// without one (as above) leaves it empty.
	if a["short_name"] != nil {
		t.Fatalf("short_name from a file without the column: %v", a)
	}
	short := "short_name,code,name\n" +
		"Hộ tịch Quảng Nam,000.01.12.H49,Phòng Hộ tịch\n" +
		",000.00.12.H49,Sở Tư pháp\n"
	if status, body := csvImport(g, short); status != 200 || !strings.Contains(body, `"imported":2`) {
		t.Fatalf("import with short_name: %d %s", status, body)
	}
	if _, a := g.API("GET", "/api/v1/agencies/000.01.12.H49", nil); a["short_name"] != "Hộ tịch Quảng Nam" || a["name"] != "Phòng Hộ tịch" {
		t.Fatalf("%v", a)
	}
	if _, a := g.API("GET", "/api/v1/agencies/000.00.12.H49", nil); a["short_name"] != nil || a["name"] != "Sở Tư pháp" {
		t.Fatalf("%v", a)
	}
	for body, want := range map[string]string{
		"code,name,short_name\n000.05.00.H49,A,Trung tâm Hành chính công\n": "line 2: short_name: at most 20 characters (this has 25)",
		"code,name,parent\nx 1,A,\n":                                                       "line 2: code",
		"code,name,parent\n000.09.00.H49,A,000.99.00.H49\n":                                "line 2: parent",
		"code,name,parent\n000.08.00.H49,A,\n000.08.00.H49,B,\n":                           "line 3: code 000.08.00.H49 is already on line 2",
		"code,name,parent\n000.07.00.H49,A,000.06.00.H49\n000.06.00.H49,B,000.07.00.H49\n": "cycle",
		"name\nA\n": "lacks a code column",
	} {
		if status, got := csvImport(g, body); status != 400 || !strings.Contains(got, want) {
			t.Errorf("%q: %d %s, want %q", body, status, got, want)
		}
	}
	_, all := g.API("GET", "/api/v1/agencies", nil)
	if n := len(all["agencies"].([]any)); n != 3 {
		t.Fatalf("a refused import wrote something: %d agencies", n)
	}
}

// Every role boundary, allowed and forbidden.
func TestRoles(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	justice := g.Key(t, "agency", "000.00.12.H49")
	viewer := g.Key(t, "viewer", "")
	inside := g.Invite("D-IN", "000.01.12.H49", nil)
	outside := g.Invite("D-OUT", "000.00.13.H49", nil)
	inv := func(dossier, agency string) map[string]any {
		return map[string]any{"dossier_code": dossier, "agency_code": agency}
	}
	cases := []struct {
		key, method, path string
		body              any
		status            int
	}{
		{justice, "POST", "/api/v1/invitations", inv("D-A1", "000.01.12.H49"), 201},
		{justice, "POST", "/api/v1/invitations", inv("D-A2", "000.00.13.H49"), 403},
		{justice, "POST", "/api/v1/invitations", inv("D-A3", "000.00.00.H49"), 403},
		{justice, "GET", "/api/v1/invitations/" + inside["id"].(string), nil, 200},
		{justice, "GET", "/api/v1/invitations/" + outside["id"].(string), nil, 403},
		{justice, "GET", "/api/v1/invitations/" + outside["id"].(string) + "/qr.png", nil, 403},
		{justice, "GET", "/api/v1/invitations?dossier_code=D-OUT", nil, 403},
		{justice, "GET", "/api/v1/reports/sipas", nil, 200},
		{justice, "GET", "/api/v1/reports/sipas?agency=000.01.12.H49", nil, 200},
		{justice, "GET", "/api/v1/reports/sipas?agency=000.00.13.H49", nil, 403},
		{justice, "GET", "/api/v1/reports/sipas?agency=000.00.00.H49", nil, 403},
		{justice, "PUT", "/api/v1/agencies/000.00.14.H49", map[string]any{"name": "x", "parent": "000.00.00.H49"}, 403},
		{justice, "GET", "/api/v1/channels", nil, 403},
		{justice, "POST", "/api/v1/keys", map[string]any{"name": "x", "role": "admin"}, 403},
		{justice, "GET", "/api/v1/audit", nil, 403},
		{justice, "GET", "/api/v1/agencies/000.01.12.H49", nil, 200},
		{justice, "GET", "/api/v1/agencies/000.00.13.H49", nil, 403},
		{justice, "POST", "/api/v1/invitations", inv("D-OUT", "000.01.12.H49"), 409}, // another agency's dossier
		{viewer, "GET", "/api/v1/reports/sipas", nil, 200},
		{viewer, "GET", "/api/v1/agencies", nil, 200},
		{viewer, "GET", "/api/v1/surveys", nil, 200},
		{viewer, "POST", "/api/v1/invitations", inv("D-V1", "000.01.12.H49"), 403},
		{viewer, "GET", "/api/v1/invitations/" + inside["id"].(string), nil, 403},
		{viewer, "PUT", "/api/v1/channels/x", map[string]any{"type": "sms.generic"}, 403},
		{viewer, "DELETE", "/api/v1/agencies/000.01.12.H49", nil, 403},
		{"sk_not-a-key", "GET", "/api/v1/reports/sipas", nil, 401},
	}
	for _, tc := range cases {
		res, out := g.As(tc.key, tc.method, tc.path, tc.body)
		if res.StatusCode != tc.status {
			t.Errorf("%s %s as %s…: %d %v, want %d", tc.method, tc.path, tc.key[:6], res.StatusCode, out, tc.status)
		}
	}
	// An agency key lists only its subtree.
	_, list0 := g.As(justice, "GET", "/api/v1/agencies", nil)
	if n := len(list0["agencies"].([]any)); n != 2 {
		t.Fatalf("agency key sees %d agencies, want its 2", n)
	}
	// An agency key's report covers its subtree only.
	_, rep := g.As(justice, "GET", "/api/v1/reports/sipas", nil)
	if rep["agency"] != "000.00.12.H49" {
		t.Fatalf("report scope %v", rep["agency"])
	}
	// Revoked at once.
	_, list := g.API("GET", "/api/v1/keys", nil)
	var id string
	for _, k := range list["keys"].([]any) {
		k := k.(map[string]any)
		if _, has := k["key"]; has || k["hash"] != nil {
			t.Fatalf("key listing shows a value: %v", k)
		}
		if k["role"] == "viewer" {
			id = k["id"].(string)
			if k["last_used_at"] == nil || !strings.HasPrefix(viewer, k["prefix"].(string)) {
				t.Fatalf("listing %v", k)
			}
		}
	}
	if res, _ := g.API("DELETE", "/api/v1/keys/"+id, nil); res.StatusCode != 204 {
		t.Fatalf("revoke %d", res.StatusCode)
	}
	if res, _ := g.As(viewer, "GET", "/api/v1/reports/sipas", nil); res.StatusCode != 401 {
		t.Fatalf("revoked key: %d", res.StatusCode)
	}
	for body, field := range map[string]string{
		`{"name":"x","role":"owner"}`:                          "role",
		`{"name":"x","role":"agency"}`:                         "agency",
		`{"name":"","role":"viewer"}`:                          "name",
		`{"name":"x","role":"agency","agency":"000.99.H49"}`:   "agency",
		`{"name":"x","role":"admin","agency":"000.00.12.H49"}`: "agency",
	} {
		var m map[string]any
		_ = jsonUnmarshal(body, &m)
		res, out := g.API("POST", "/api/v1/keys", m)
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != field {
			t.Errorf("%s: %d %v", body, res.StatusCode, out)
		}
	}
}

func TestAuditAndSecretsNeverReturned(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	const secret = "very-secret-value-123"
	k := g.Key(t, "viewer", "")
	g.API("PUT", "/api/v1/channels/gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": "http://127.0.0.1:9/send"}, "secrets": map[string]any{"secret": secret}})
	g.API("GET", "/api/v1/channels", nil)
	g.API("GET", "/api/v1/channels/gen", nil)
	g.API("DELETE", "/api/v1/agencies/000.01.12.H49", nil)
	_, audit := g.API("GET", "/api/v1/audit", nil)
	var actions []string
	for _, e := range audit["entries"].([]any) {
		e := e.(map[string]any)
		actions = append(actions, fmt.Sprint(e["action"], " ", e["target"], " by ", e["who"]))
	}
	got := strings.Join(actions, "\n")
	for _, want := range []string{"agency.put 000.00.00.H49 by admin", "key.create", "channel.put gen", "agency.delete 000.01.12.H49"} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %q:\n%s", want, got)
		}
	}
	g.Mu().Lock()
	defer g.Mu().Unlock()
	for _, body := range g.Replies {
		if strings.Contains(body, secret) {
			t.Fatalf("a reply carries the channel secret: %s", body)
		}
		if strings.Count(body, k) > 0 && !strings.Contains(body, `"key":"`+k) {
			t.Fatalf("a reply other than its creation carries the API key: %s", body)
		}
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// An invitation for an agency code nobody registered is taken (a citizen's
// survey is not lost to a typo in desk software) and the code is listed as
// unregistered with its invitation count; GATEWAY_REQUIRE_AGENCIES refuses
// it instead, naming agency_code.
func TestUnregisteredAgencies(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	g.Invite("D-UNREG-1", "000.00.99.H49", nil)
	g.Invite("D-UNREG-2", "000.00.99.H49", nil)
	g.Invite("D-REG-1", "000.00.12.H49", nil)
	g.Drain()
	_, out := g.API("GET", "/api/v1/agencies", nil)
	seen := map[string]map[string]any{}
	for _, a := range out["agencies"].([]any) {
		a := a.(map[string]any)
		seen[a["code"].(string)] = a
	}
	if u := seen["000.00.99.H49"]; u == nil || u["registered"] != false || u["invitations"] != 2.0 {
		t.Fatalf("unregistered code: %v", u)
	}
	if r := seen["000.00.12.H49"]; r["registered"] != true || r["invitations"] != 1.0 || r["name"] != "Sở Tư pháp" {
		t.Fatalf("registered agency: %v", r)
	}
	// A key bound to an agency sees its subtree only, never stray codes.
	_, mine := g.As(g.Key(t, "agency", "000.00.12.H49"), "GET", "/api/v1/agencies", nil)
	if n := len(mine["agencies"].([]any)); n != 2 {
		t.Fatalf("agency key sees %d agencies: %v", n, mine)
	}
	strict := gwtest.New(t, "", func(c *config.Config) { c.RequireAgencies = true })
	res, e := strict.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "D-STRICT", "agency_code": "000.00.99.H49"})
	if err, _ := e["error"].(map[string]any); res.StatusCode != 400 || err["field"] != "agency_code" {
		t.Fatalf("require agencies: %d %v", res.StatusCode, e)
	}
}
