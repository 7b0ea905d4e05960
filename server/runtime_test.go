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

// Two replicas on one Redis and one MongoDB: a channel changed through one
// reaches the other's cache of channels at once, not after its minute.
func TestChannelChangeReachesEveryReplica(t *testing.T) {
	m, r := testenv.Mongo(t), testenv.Redis(t)
	cfg := config.Defaults()
	cfg.MongoDatabase, cfg.AdminKey, cfg.SecretKey = m.DB.Name(), gwtest.AdminKey, strings.Repeat("s", 40)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, b := server.NewRuntime(cfg, r, m, log, web.Mount), server.NewRuntime(cfg, r, m, log, web.Mount)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go b.Core.WatchChannels(ctx)
	put := func(url string) {
		body, _ := json.Marshal(map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": url}, "secrets": map[string]any{"secret": "s3cret-0123456789"}})
		req := httptest.NewRequest("PUT", "/api/v1/channels/gen", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		res, err := a.App.Test(req, 10_000)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("put channel: %v %v", res, err)
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
