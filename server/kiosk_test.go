package server_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/server"
)

// The gateway-wide pairing tries are a figure in the metrics, every
// replica's together (read from Redis), not a lock.
func TestPairingTriesAreInTheMetrics(t *testing.T) {
	g := gwtest.New(t, "")
	reg := prometheus.NewRegistry()
	reg.MustRegister(server.KioskCollectors(g.Core)...)
	figure := func() float64 {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil || len(mfs) != 1 || mfs[0].GetName() != "gateway_kiosk_pairing_tries" {
			t.Fatalf("gathered %v (%v)", mfs, err)
		}
		return mfs[0].GetMetric()[0].GetGauge().GetValue()
	}
	if v := figure(); v != 0 {
		t.Fatalf("before any try: %v", v)
	}
	for range 3 {
		if res, _ := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": "00000000"}); res.StatusCode != 401 {
			t.Fatalf("wrong code: %d", res.StatusCode)
		}
	}
	if v := figure(); v != 3 {
		t.Fatalf("after 3 tries: %v, want 3", v)
	}
}
