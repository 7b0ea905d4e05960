package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/web"
)

// replicas are two gateways on one Redis and one MongoDB, as two
// processes would be.
func replicas(t *testing.T) (*server.Runtime, *server.Runtime) {
	m, r := testenv.Mongo(t), testenv.Redis(t)
	cfg := config.Defaults()
	cfg.MongoDatabase, cfg.AdminKey, cfg.SecretKey = m.DB.Name(), gwtest.AdminKey, strings.Repeat("s", 40)
	gwtest.AnyHour(&cfg)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := server.NewRuntime(cfg, r, m, log, web.Mount), server.NewRuntime(cfg, r, m, log, web.Mount)
	t.Cleanup(func() { _ = a.Core.Kiosks.Close(); _ = b.Core.Kiosks.Close() })
	return a, b
}

// call sends a JSON request with key to one replica's app: its status and
// decoded answer.
func call(t *testing.T, rt *server.Runtime, key, method, path string, body any) (int, map[string]any) {
	t.Helper()
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	res, err := rt.App.Test(req, 30_000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// Two replicas on one Redis and one MongoDB: a channel changed through one
// reaches the other's cache of channels at once, not after its minute.
func TestChannelChangeReachesEveryReplica(t *testing.T) {
	a, b := replicas(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go b.Core.WatchChannels(ctx)
	put := func(url string) {
		body := map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": url}, "secrets": map[string]any{"secret": "s3cret-0123456789"}}
		if status, out := call(t, a, gwtest.AdminKey, "PUT", "/api/v1/channels/gen", body); status != 200 {
			t.Fatalf("put channel: %d %v", status, out)
		}
	}
	sendURL := func() string {
		ch, err := b.Core.Channel(ctx, "gen")
		if err != nil {
			t.Fatal(err)
		}
		return ch.Setting("send_url")
	}
	put("https://one.example/send")
	if got := sendURL(); got != "https://one.example/send" {
		t.Fatalf("replica b reads %q", got)
	}
	// b now holds it; each change through a is announced (the first may
	// come before b's subscription is made).
	deadline := time.Now().Add(5 * time.Second)
	for i := 0; sendURL() != "https://two.example/send"; i++ {
		if time.Now().After(deadline) {
			t.Fatalf("replica b still reads %q: the change was not announced", sendURL())
		}
		put("https://two.example/send")
		time.Sleep(50 * time.Millisecond)
	}
}

// Two replicas: a tablet waiting on one learns at once of a dossier the
// desk software presents through the other, and answers through it.
func TestKioskWakesAcrossReplicas(t *testing.T) {
	a, b := replicas(t)
	if status, out := call(t, a, gwtest.AdminKey, "PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp"}); status != 200 {
		t.Fatalf("agency: %d %v", status, out)
	}
	_, desk := call(t, a, gwtest.AdminKey, "PUT", "/api/v1/desks/quay-1", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy 1"})
	status, paired := call(t, b, "", "POST", "/kiosk/api/pair", map[string]any{"code": desk["pairing_code"]})
	if status != 201 {
		t.Fatalf("pair on b: %d %v", status, paired)
	}
	tablet := paired["token"].(string)
	got := make(chan map[string]any, 1)
	go func() {
		status, out := call(t, b, tablet, "GET", "/kiosk/api/next?after=0&wait=20", nil)
		if status != 200 {
			t.Errorf("next on b: %d %v", status, out)
		}
		got <- out
	}()
	time.Sleep(300 * time.Millisecond)
	if status, out := call(t, a, gwtest.AdminKey, "POST", "/api/v1/desks/quay-1/present", map[string]any{"dossier_code": "H49-REPLICA-1"}); status != 200 {
		t.Fatalf("present on a: %d %v", status, out)
	}
	p := <-got // the 20 s wait ending would answer 204
	if p["dossier_code"] != "H49-REPLICA-1" {
		t.Fatalf("b's tablet got %v", p)
	}
	status, out := call(t, b, tablet, "POST", "/kiosk/api/answer", map[string]any{"idempotency_key": "replica-answer-1", "invitation_id": p["invitation_id"], "seq": p["seq"],
		"answers": map[string]int{"A": 4, "B": 4, "C": 4, "D": 4, "E": 4}})
	if status != 200 || out["outcome"] != "recorded" {
		t.Fatalf("answer on b: %d %v", status, out)
	}
	if status, inv := call(t, a, gwtest.AdminKey, "GET", "/api/v1/invitations?dossier_code=H49-REPLICA-1", nil); status != 200 || inv["status"] != "completed" {
		t.Fatalf("a sees %d %v", status, inv)
	}
}
