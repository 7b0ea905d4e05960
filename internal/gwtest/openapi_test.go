package gwtest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// recorder keeps what a check reported instead of failing the test.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

// The answer check refuses what the document does not say: a field it does
// not declare, a required one missing, a status or a media type it does not
// list; it takes what it does say.
func TestAnswersAreCheckedAgainstTheDocument(t *testing.T) {
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		fails                           bool
	}{
		{"as documented", "GET", "/healthz", "application/json", `{"status":"ok"}`, 200, false},
		{"an undeclared field", "GET", "/healthz", "application/json", `{"status":"ok","uptime":3}`, 200, true},
		{"a required field missing", "GET", "/api/v1/surveys", "application/json", `{}`, 200, true},
		{"a wrong type", "GET", "/api/v1/agencies", "application/json", `{"agencies":"none"}`, 200, true},
		{"an undocumented status", "GET", "/healthz", "application/json", `{"status":"ok"}`, 418, true},
		{"an undocumented media type", "GET", "/api/v1/invitations/x/qr.png", "image/gif", `GIF89a`, 200, true},
		{"an error as documented", "GET", "/api/v1/invitations/x", "application/json", `{"error":{"code":"not_found","message":"not found"}}`, 404, false},
		{"an unknown error code", "GET", "/api/v1/invitations/x", "application/json", `{"error":{"code":"oops","message":"?"}}`, 404, true},
		{"a bad JSON line", "GET", "/api/v1/responses", "application/x-ndjson", "{\"response_id\":1}\n", 200, true},
		{"not an API route", "GET", "/console/dashboard", "text/html", `<html>`, 200, false},
	} {
		rec := &recorder{TB: t}
		g := &Gateway{T: rec}
		res := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.ctype}}, Body: io.NopCloser(strings.NewReader(tc.body))}
		g.checkAnswer(httptest.NewRequest(tc.method, tc.path, nil), res)
		if got := len(rec.errors) > 0; got != tc.fails {
			t.Errorf("%s: reported %v, want a failure %v", tc.name, rec.errors, tc.fails)
		}
		if b, _ := io.ReadAll(res.Body); string(b) != tc.body {
			t.Errorf("%s: the body was not put back: %q", tc.name, b)
		}
	}
}
