package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

func TestAuth(t *testing.T) {
	g := gwtest.New(t, "")
	for _, auth := range []string{"", "Bearer ", "Bearer wrong-key", "Basic " + gwtest.AdminKey, gwtest.AdminKey} {
		req := httptest.NewRequest("GET", "/api/v1/surveys", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res := g.Do(req)
		body := gwtest.Body(res)
		if res.StatusCode != 401 || !strings.Contains(body, `"code":"unauthenticated"`) {
			t.Errorf("auth %q: %d %s", auth, res.StatusCode, body)
		}
	}
	if res, _ := g.API("GET", "/api/v1/surveys", nil); res.StatusCode != 200 {
		t.Fatalf("admin key refused: %d", res.StatusCode)
	}
}

func TestCreateInvitation(t *testing.T) {
	g := gwtest.New(t, "https://khaosat.example.gov.vn")
	body := map[string]any{"dossier_code": "000.00.12.H49-201105-0042", "agency_code": "000.00.12.H49",
		"procedure_code": "1.011442.000.00.00.H49", "field_code": "G03-GD10", "phone": "0912 345 678", "locale": "en"}
	res, inv := g.API("POST", "/api/v1/invitations", body)
	if res.StatusCode != 201 {
		t.Fatalf("create: %d %v", res.StatusCode, inv)
	}
	if inv["status"] != "pending" || inv["survey"] != "sipas" || inv["locale"] != "en" || inv["has_phone"] != true {
		t.Fatalf("invitation %v", inv)
	}
	url := inv["survey_url"].(string)
	if !strings.HasPrefix(url, "https://khaosat.example.gov.vn/s/") || len(url) != len("https://khaosat.example.gov.vn/s/")+16 {
		t.Fatalf("survey_url %s", url)
	}
	if inv["qr_png_url"] != "https://khaosat.example.gov.vn/api/v1/invitations/"+inv["id"].(string)+"/qr.png" {
		t.Fatalf("qr_png_url %v", inv["qr_png_url"])
	}
	// The phone's digits, not "912" alone: that also turns up in random ids.
	if s := fmt.Sprint(inv); strings.Contains(s, "345678") || strings.Contains(s, "345 678") {
		t.Fatalf("the phone number leaks into the API answer: %v", inv)
	}
	// Idempotent: the same dossier answers 200 with the same invitation.
	res2, again := g.API("POST", "/api/v1/invitations", body)
	if res2.StatusCode != 200 || again["id"] != inv["id"] || again["survey_url"] != url {
		t.Fatalf("repeat: %d %v", res2.StatusCode, again)
	}
	for path, want := range map[string]int{
		"/api/v1/invitations/" + inv["id"].(string):                  200,
		"/api/v1/invitations?dossier_code=000.00.12.H49-201105-0042": 200,
		"/api/v1/invitations/000000000000000000000000":               404,
		"/api/v1/invitations?dossier_code=nope":                      404,
		"/api/v1/invitations?status=nope":                            400,
	} {
		res, got := g.API("GET", path, nil)
		if res.StatusCode != want {
			t.Errorf("GET %s: %d %v", path, res.StatusCode, got)
		}
		if want == 200 && got["id"] != inv["id"] {
			t.Errorf("GET %s: %v", path, got)
		}
	}
	// Without a dossier code it lists: the one invitation made.
	if res, got := g.API("GET", "/api/v1/invitations", nil); res.StatusCode != 200 || len(got["invitations"].([]any)) != 1 {
		t.Errorf("GET /api/v1/invitations: %d %v", res.StatusCode, got)
	}
}

func TestCreateInvitationConcurrentlyMakesOne(t *testing.T) {
	g := gwtest.New(t, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses, ids := map[int]int{}, map[any]bool{}
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, inv := g.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "RACE-1", "agency_code": "000.00.12.H49"})
			mu.Lock()
			defer mu.Unlock()
			statuses[res.StatusCode]++
			ids[inv["id"]] = true
		}()
	}
	wg.Wait()
	if statuses[201] != 1 || statuses[200] != 29 || len(ids) != 1 {
		t.Fatalf("statuses %v, distinct ids %d", statuses, len(ids))
	}
}

func TestCreateInvitationValidation(t *testing.T) {
	g := gwtest.New(t, "")
	ok := map[string]any{"dossier_code": "D-1", "agency_code": "000.00.12.H49"}
	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range ok {
			m[a] = b
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		body  any
		field string
	}{
		{with("dossier_code", nil), "dossier_code"},
		{with("dossier_code", "has space"), "dossier_code"},
		{with("dossier_code", strings.Repeat("x", 65)), "dossier_code"},
		{with("agency_code", nil), "agency_code"},
		{with("agency_code", "000.00.12.h49"), "agency_code"},
		{with("agency_code", "000..12"), "agency_code"},
		{with("phone", "0212345678"), "phone"},
		{with("survey", "nps"), "survey"},
		{with("locale", "fr"), "locale"},
		{with("procedure_code", "bad code!"), "procedure_code"},
		{with("field_code", "x y"), "field_code"},
		{with("send", []string{"sms"}), "phone"},
		{map[string]any{"dossier_code": "D-1", "agency_code": "000.00.12.H49", "phone": "0912345678", "send": []string{"sms"}}, "send"},
		{map[string]any{"dossier_code": "D-1", "agency_code": "000.00.12.H49", "phone": "0912345678", "send": []string{"nosuch"}}, "send"},
		{with("dossier_code", 42), "dossier_code"},
		{with("unknown_field", 1), ""},
	}
	for _, tc := range cases {
		res, out := g.API("POST", "/api/v1/invitations", tc.body)
		e, _ := out["error"].(map[string]any)
		if res.StatusCode != 400 || e["code"] != "invalid_argument" || (tc.field != "" && e["field"] != tc.field) || e["message"] == "" {
			t.Errorf("%v: %d %v", tc.body, res.StatusCode, out)
		}
	}
	req := httptest.NewRequest("POST", "/api/v1/invitations", strings.NewReader("{"))
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	if res := g.Do(req); res.StatusCode != 400 {
		t.Fatalf("broken JSON: %d", res.StatusCode)
	}
	n, _ := g.Mongo.DB.Collection("invitations").CountDocuments(t.Context(), map[string]any{})
	if n != 0 {
		t.Fatalf("%d invitations stored from bad requests", n)
	}
}

func TestQRPNG(t *testing.T) {
	g := gwtest.New(t, "")
	inv := g.Invite("QR-1", "000.00.12.H49", nil)
	path := "/api/v1/invitations/" + inv["id"].(string) + "/qr.png"
	req := httptest.NewRequest("GET", path+"?size=512", nil)
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	res := g.Do(req)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if got := gwtest.DecodeQR(t, []byte(gwtest.Body(res))); got != inv["survey_url"] {
		t.Fatalf("QR decodes to %q, want %q", got, inv["survey_url"])
	}
	for _, q := range []string{"?size=64", "?size=2000", "?size=abc"} {
		if res, _ := g.API("GET", path+q, nil); res.StatusCode != 400 {
			t.Errorf("%s: %d", q, res.StatusCode)
		}
	}
}

func TestSurveysAndErrors(t *testing.T) {
	g := gwtest.New(t, "")
	_, list := g.API("GET", "/api/v1/surveys", nil)
	if n := len(list["surveys"].([]any)); n != 3 {
		t.Fatalf("%d surveys", n)
	}
	res, s := g.API("GET", "/api/v1/surveys/sipas", nil)
	if res.StatusCode != 200 || len(s["questions"].([]any)) != 22 {
		t.Fatalf("sipas: %d", res.StatusCode)
	}
	if res, _ := g.API("GET", "/api/v1/surveys/nope", nil); res.StatusCode != 404 {
		t.Fatalf("unknown survey: %d", res.StatusCode)
	}
	res, out := g.API("GET", "/api/v1/no-such-thing", nil)
	if res.StatusCode != 404 || out["error"].(map[string]any)["code"] != "not_found" {
		t.Fatalf("unknown route: %d %v", res.StatusCode, out)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		res := g.Do(httptest.NewRequest("GET", p, nil))
		if res.StatusCode != 200 {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
		if p == "/metrics" && !strings.Contains(gwtest.Body(res), "gateway_http_requests_total") {
			t.Error("metrics lack the request counter")
		}
	}
	// fasthttp refuses an oversized body before fiber sees it, from the
	// announced length alone, so this goes over a real connection that sends
	// only the headers (sending the body would race the server's close).
	g.Listen()
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/invitations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", gwtest.AdminKey, 70*1024)
	res, err = http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := gwtest.Body(res); res.StatusCode != 413 || !strings.Contains(body, `"code":"payload_too_large"`) {
		t.Fatalf("oversized body: %d %s", res.StatusCode, body)
	}
}
