// Package smstest holds what every SMS provider's tests share: a fake
// provider API that records what the gateway sends, and a runner for
// webhook case tables.
package smstest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// Sent is one request the gateway made to the fake provider.
type Sent struct {
	Method, Path, Query string
	Header              http.Header
	Body                string
}

// Fake is a local stand-in for a provider's send API.
type Fake struct {
	URL string
	mu  sync.Mutex
	got []Sent
	// Reply answers each request; the default is 200 with Body, where
	// "{n}" becomes the request's number (a provider's message ids differ).
	Status int
	Body   string
}

// NewFake starts a fake provider answering 200 with body.
func NewFake(t testing.TB, body string) *Fake {
	f := &Fake{Status: 200, Body: body}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got = append(f.got, Sent{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(b)})
		status, reply := f.Status, strings.ReplaceAll(f.Body, "{n}", strconv.Itoa(len(f.got)))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, reply)
	}))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// Requests returns what the gateway sent so far.
func (f *Fake) Requests() []Sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Sent(nil), f.got...)
}

// SetReply changes how the fake answers.
func (f *Fake) SetReply(status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Status, f.Body = status, body
}

// Case is one webhook request and what must come of it.
type Case struct {
	Name   string
	Req    func() *http.Request
	Status int
	Body   string // a substring of the answer's body
	Check  func(t *testing.T, body string)
}

// Run sends each case through the gateway and checks the answer.
func Run(t *testing.T, g *gwtest.Gateway, cases []Case) {
	t.Helper()
	for _, tc := range cases {
		res := g.Do(tc.Req())
		body := gwtest.Body(res)
		if res.StatusCode != tc.Status || !strings.Contains(body, tc.Body) {
			t.Errorf("%s: %d %s; want %d with %q", tc.Name, res.StatusCode, body, tc.Status, tc.Body)
			continue
		}
		if tc.Check != nil {
			tc.Check(t, body)
		}
	}
}

// Configure creates a channel through the API and fails on refusal.
func Configure(t *testing.T, g *gwtest.Gateway, id string, body map[string]any) map[string]any {
	t.Helper()
	res, out := g.API("PUT", "/api/v1/channels/"+id, body)
	if res.StatusCode != 200 {
		t.Fatalf("configure %s: %d %v", id, res.StatusCode, out)
	}
	return out
}

// Responses counts stored responses.
func Responses(t *testing.T, g *gwtest.Gateway) int64 {
	g.Flush()
	n, err := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
