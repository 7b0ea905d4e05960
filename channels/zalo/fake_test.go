package zalo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeZalo is a local stand-in for Zalo's OpenAPI, ZNS and OAuth hosts. It
// accepts one access token at a time and rotates tokens on refresh.
type fakeZalo struct {
	URL string
	mu  sync.Mutex
	// what the gateway sent
	cs, zns   []map[string]any
	refreshes int
	// state
	access, refresh string
	sharedPhone     string // what user/detail returns as shared_info.phone
	znsError        int    // 0 = success
	refreshFails    bool
}

func newFake(t *testing.T) *fakeZalo {
	f := &fakeZalo{access: "AT1", refresh: "RT1"}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeZalo) serve(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	if r.URL.Path == "/v4/oa/access_token" {
		time.Sleep(100 * time.Millisecond) // long enough for concurrent refreshers to overlap
		form, _ := url.ParseQuery(string(b))
		f.mu.Lock()
		defer f.mu.Unlock()
		f.refreshes++
		if f.refreshFails || form.Get("refresh_token") != f.refresh || r.Header.Get("secret_key") != "APP-SECRET" || form.Get("grant_type") != "refresh_token" {
			reply(w, map[string]any{"error": -14014, "error_name": "Invalid refresh token", "error_description": "refresh token is used or expired"})
			return
		}
		n := string(rune('1' + f.refreshes))
		f.access, f.refresh = "AT"+n, "RT"+n
		reply(w, map[string]any{"access_token": f.access, "refresh_token": f.refresh, "expires_in": "90000"})
		return
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("access_token") != f.access {
		reply(w, map[string]any{"error": -216, "message": "Access token is invalid"})
		return
	}
	switch r.URL.Path {
	case "/v2.0/oa/getoa":
		reply(w, map[string]any{"error": 0, "message": "Success", "data": map[string]any{"oa_id": "579745863508352884", "name": "UBND tỉnh Quảng Nam"}})
	case "/v3.0/oa/user/detail":
		reply(w, map[string]any{"error": 0, "message": "Success", "data": map[string]any{
			"user_id": r.URL.Query().Get("data"), "display_name": "Nguyễn Văn A", "shared_info": map[string]any{"phone": f.sharedPhone}}})
	case "/v3.0/oa/message/cs":
		f.cs = append(f.cs, body)
		reply(w, map[string]any{"error": 0, "message": "Success", "data": map[string]any{"message_id": "cs-1", "user_id": "u"}})
	case "/message/template":
		f.zns = append(f.zns, body)
		if f.znsError != 0 {
			reply(w, map[string]any{"error": f.znsError, "message": "template refused"})
			return
		}
		reply(w, map[string]any{"error": 0, "message": "Success", "data": map[string]any{"msg_id": "zns-msg-1", "sent_time": "1700000000000"}})
	default:
		http.NotFound(w, r)
	}
}

// texts are the customer-service texts sent so far.
func (f *fakeZalo) texts() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.cs {
		msg, _ := m["message"].(map[string]any)
		if t, _ := msg["text"].(string); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// last is the last customer-service message.
func (f *fakeZalo) last() map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.cs) == 0 {
		return nil
	}
	return f.cs[len(f.cs)-1]
}
