package server_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// Every delivery of a case notice, retries included, carries the same
// X-Notice-Id, <event>:<case id>, for the receiver to drop a copy; an
// entry queued without an id (before ids were) gets the same one,
// derived from its notice.
func TestNoticeIdOnEveryDelivery(t *testing.T) {
	g := gwtest.New(t, "")
	var mu sync.Mutex
	var ids []string
	status := 500
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("X-Notice-Id"))
		w.WriteHeader(status)
	}))
	defer recv.Close()
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "webhook": map[string]any{"url": recv.URL, "secret": "hook-secret-0123456789"}}); res.StatusCode != 200 {
		t.Fatalf("webhook: %d %v", res.StatusCode, out)
	}
	tok := gwtest.Token(g.Invite("NID-1", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=1&E=1"); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	id := list["cases"].([]any)[0].(map[string]any)["id"].(string)

	if failed, err := g.Core.DeliverNotices(t.Context(), "test", http.DefaultClient); err != nil || !failed {
		t.Fatalf("a failing receiver: failed %v, %v", failed, err)
	}
	// An entry as the stream held them before ids: the notice alone.
	c, err := g.Mongo.Cases.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(store.CaseNotice{Event: "case.escalated", At: time.Now(), Case: *c})
	if err := g.Core.Notices.Add(t.Context(), map[string]string{"agency": "000.00.12.H49", "notice": string(b)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	status = 204
	mu.Unlock()
	if failed, err := g.Core.DeliverNotices(t.Context(), "test", http.DefaultClient); err != nil || failed {
		t.Fatalf("delivery: failed %v, %v", failed, err)
	}
	mu.Lock()
	defer mu.Unlock()
	opened, escalated := "case.opened:"+id, "case.escalated:"+id
	if len(ids) != 3 || ids[0] != opened || ids[1] != opened || ids[2] != escalated {
		t.Fatalf("X-Notice-Id of the deliveries: %q, want %q twice (a retry) then %q", ids, opened, escalated)
	}
}
