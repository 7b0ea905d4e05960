package server_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// A comment a spreadsheet would run as a formula reaches the CSV as text.
func TestCSVCellsAreNeverFormulas(t *testing.T) {
	g := gwtest.New(t, "")
	for i, comment := range []string{"=cmd|'/C calc'!A0", "+SUM(1,2)", "-2+3", "@A1", "\tx", "bình thường"} {
		tok := gwtest.Token(g.Invite("D-CSV-"+string(rune('a'+i)), "000.00.12.H49", map[string]any{"survey": "overall"}))
		if res := g.Form("/s/"+tok, "O=4&comment="+url.QueryEscape(comment)); res.StatusCode != 303 {
			t.Fatalf("submit %q: %d %s", comment, res.StatusCode, gwtest.Body(res))
		}
	}
	g.Drain()
	_, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=overall&format=csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 7 {
		t.Fatalf("%v %v", rows, err)
	}
	col := slices.Index(rows[0], "comment")
	seen := map[string]bool{}
	for _, r := range rows[1:] {
		seen[r[col]] = true
	}
	for _, want := range []string{"'=cmd|'/C calc'!A0", "'+SUM(1,2)", "'-2+3", "'@A1", "bình thường"} {
		if !seen[want] {
			t.Errorf("no cell %q in %v", want, seen)
		}
	}
	for c := range seen {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			t.Errorf("a cell starts a formula: %q", c)
		}
	}
}

// An export that fails half-way is a broken download, never a clean 200
// with a short file.
func TestFailingExportBreaksTheDownload(t *testing.T) {
	g := gwtest.New(t, "")
	g.Listen()
	tok := gwtest.Token(g.Invite("D-EXP-BROKEN", "000.00.12.H49", map[string]any{"survey": "overall"}))
	g.Form("/s/"+tok, "O=4")
	g.Drain()
	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background())
	down := *g.Mongo
	down.Responses = gone.Responses
	g.Core.Mongo = &down
	for _, format := range []string{"csv", "jsonl"} {
		req, _ := http.NewRequest("GET", g.URL+"/api/v1/responses?survey=overall&format="+format, nil)
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		res, err := http.DefaultClient.Do(req)
		if err == nil { // the headers may have gone out; the body must break
			_, err = io.ReadAll(res.Body)
			res.Body.Close()
		}
		if err == nil {
			t.Errorf("%s: a failed export read as a complete file", format)
		}
	}
}

// The console's sign-in takes only its own exact Origin (or none, from
// tools), never "null" nor a prefix of the base URL.
func TestSignInOriginIsExact(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	for origin, want := range map[string]int{
		"":                           303,
		"https://ks.example.vn":      303,
		"null":                       403,
		"https://ks.example.v":       403,
		"http://127.0.0.1:1":         403,
		"https://ks.example.vn.evil": 403,
		"http://ks.example.vn":       403,
	} {
		req := httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"key": {gwtest.AdminKey}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if res := g.Do(req); res.StatusCode != want {
			t.Errorf("Origin %q: %d, want %d", origin, res.StatusCode, want)
		}
	}
}

// Guessing at the sign-in is slowed down per address and per user name,
// across replicas (Redis), with no password check while locked, and the
// lock is audited.
func TestSignInGuessingIsThrottled(t *testing.T) {
	g := gwtest.New(t, "")
	login := func(ip, user, pass string) *http.Response {
		req := httptest.NewRequest("POST", "/console/login", strings.NewReader(url.Values{"username": {user}, "password": {pass}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", ip) // not trusted without GATEWAY_TRUSTED_PROXIES: one address for all
		return g.Do(req)
	}
	for i := 0; i < 5; i++ {
		if res := login("", "tuphap", "wrong-password"); res.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i+1, res.StatusCode)
		}
	}
	res := login("", "tuphap", "wrong-password")
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth guess: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Another name from the same address is still heard, until the
	// address itself is locked.
	if res := login("", "xaydung", "wrong-password"); res.StatusCode != 401 {
		t.Fatalf("another user: %d", res.StatusCode)
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	if !strings.Contains(strings.Join(g.Replies, ""), "signin.locked") {
		t.Fatalf("no audit entry: %v", audit)
	}
}

// Behind a trusted proxy each citizen has their own page limit; without
// the setting, X-Forwarded-For is not believed (anyone could write it).
func TestRateLimitsBehindTrustedProxies(t *testing.T) {
	for _, trusted := range []bool{true, false} {
		g := gwtest.New(t, "", func(c *config.Config) {
			c.PageRate = 3
			if trusted {
				c.TrustedProxies = "127.0.0.1, 10.0.0.0/8"
			}
		})
		g.Listen()
		tok := gwtest.Token(g.Invite(fmt.Sprintf("D-PROXY-%v", trusted), "000.00.12.H49", nil))
		page := func(xff string) int {
			req, _ := http.NewRequest("GET", g.URL+"/s/"+tok, nil)
			req.Header.Set("X-Forwarded-For", xff)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res.StatusCode
		}
		limited := 0
		for i := 0; i < 6; i++ {
			// the client wrote a fake first hop; the ingress (10.1.2.3) added the real one
			if page(fmt.Sprintf("6.6.6.6, 203.0.113.%d, 10.1.2.3", i)) == 429 {
				limited++
			}
		}
		if trusted && limited != 0 {
			t.Errorf("trusted proxy: %d of 6 citizens limited as one", limited)
		}
		if !trusted && limited != 3 {
			t.Errorf("untrusted peer: %d limited, want 3 (one limit for the peer)", limited)
		}
		if trusted {
			// A proxy that adds its own header line, and hops with ports.
			req, _ := http.NewRequest("GET", g.URL+"/s/"+tok, nil)
			req.Header.Add("X-Forwarded-For", "6.6.6.6")
			req.Header.Add("X-Forwarded-For", "203.0.113.50:4711, 10.1.2.3")
			for i := 0; i < 3; i++ {
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
			}
			if page("6.6.6.6, 203.0.113.50") != 429 {
				t.Error("a client escaped its limit through a second X-Forwarded-For line or a port")
			}
			for i := 0; i < 3; i++ {
				page("6.6.6.6, 203.0.113.99, 10.1.2.3")
			}
			if page("7.7.7.7, 203.0.113.99, 10.1.2.3") != 429 {
				t.Error("a client rewriting the first hop escaped its limit")
			}
		}
	}
}

// Headers too large answer 431, not 500; https sets HSTS; /metrics can
// ask for a token; a survey form too large gets a page.
func TestSmallerHardening(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn", func(c *config.Config) { c.MetricsToken = "metrics-token-0123456789" })
	g.Listen()
	req, _ := http.NewRequest("GET", g.URL+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 10000))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 431 {
		t.Errorf("oversized headers: %d, want 431", res.StatusCode)
	}
	res, _ = http.Get(g.URL + "/healthz")
	res.Body.Close()
	if !strings.HasPrefix(res.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Errorf("no HSTS over an https base URL: %v", res.Header)
	}
	for token, want := range map[string]int{"": 401, "wrong": 401, "metrics-token-0123456789": 200} {
		req, _ := http.NewRequest("GET", g.URL+"/metrics", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("/metrics with %q: %d, want %d", token, res.StatusCode, want)
		}
	}
	tok := gwtest.Token(g.Invite("D-413", "000.00.12.H49", map[string]any{"survey": "overall"}))
	// The server answers 413 as soon as it sees the length and closes, so
	// the client may still be writing the body and see a reset instead of
	// the answer: a few tries get the answer itself.
	for try := 0; ; try++ {
		req, _ = http.NewRequest("POST", g.URL+"/s/"+tok, strings.NewReader("O=4&comment="+strings.Repeat("a", 100_000)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if res, err = http.DefaultClient.Do(req); err == nil {
			break
		}
		if try == 9 {
			t.Fatal(err)
		}
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "quá dài") {
		t.Errorf("survey form too large: %d %s %.80s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
}

// Citizens' pages (the survey link, the kiosk) send no Referer at all,
// as the README promises: the link carries the survey token. The rest
// keeps same-origin: the console's sign-in checks Origin, which a
// browser sends as "null" under no-referrer.
func TestCitizenPagesSendNoReferrer(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("D-REF", "000.00.12.H49", map[string]any{"survey": "overall"}))
	for path, want := range map[string]string{
		"/s/" + tok:           "no-referrer",
		"/s/" + tok + "/done": "no-referrer",
		"/s/AAAAAAAAAAAAAAAB": "no-referrer", // an unknown token's page too
		"/kiosk":              "no-referrer",
		"/kiosk/app.js":       "no-referrer",
		"/kiosk/api/desk":     "no-referrer",
		"/console/login":      "same-origin",
		"/api/v1/surveys":     "same-origin",
		"/static/app.css":     "same-origin",
		"/sx":                 "same-origin",
		"/kiosks":             "same-origin",
	} {
		res := g.Do(httptest.NewRequest("GET", path, nil))
		if got := res.Header.Get("Referrer-Policy"); got != want {
			t.Errorf("%s (%d): Referrer-Policy %q, want %q", path, res.StatusCode, got, want)
		}
	}
}

// The console's CSRF token counts only from the form or a header, never
// the query string.
func TestCSRFNotFromTheQuery(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, body := g.Page("/console/keys", admin)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	v := url.Values{"name": {"k"}, "role": {"viewer"}}
	if res := g.PostForm("/console/keys?csrf="+url.QueryEscape(csrf), v, admin); res.StatusCode != 403 {
		t.Fatalf("CSRF token in the query accepted: %d", res.StatusCode)
	}
	v.Set("csrf", csrf)
	if res := g.PostForm("/console/keys", v, admin); res.StatusCode != 200 && res.StatusCode != 303 {
		t.Fatalf("CSRF token in the form refused: %d", res.StatusCode)
	}
}
