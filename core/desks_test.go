package core_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// pairingDesk registers a desk and returns its pairing code and a wrong one.
func pairingDesk(t *testing.T, g *gwtest.Gateway, id string) (code, wrong string) {
	t.Helper()
	g.Tree(t)
	res, out := g.API("PUT", "/api/v1/desks/"+id, map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy " + id})
	if res.StatusCode != 200 {
		t.Fatalf("put desk: %d %v", res.StatusCode, out)
	}
	code, wrong = out["pairing_code"].(string), "00000000"
	if code == wrong {
		wrong = "00000001"
	}
	return code, wrong
}

// tries makes n pairing tries with a wrong code from ip and says how
// many were heard (refused as wrong) before the first rate_limited.
func tries(t *testing.T, g *gwtest.Gateway, ip, wrong string, n int) int {
	t.Helper()
	for i := range n {
		_, _, err := g.Core.Pair(context.Background(), ip, wrong)
		switch core.CodeOf(err) {
		case core.Unauthenticated:
		case core.RateLimited:
			return i
		default:
			t.Fatalf("%s's try %d: %v", ip, i+1, err)
		}
	}
	return n
}

// Pairing tries are limited per address (an IPv6 /64 is one address) and
// per address block (an IPv4 /24, an IPv6 /48).
func TestPairingTriesAreLimitedPerAddressAndBlock(t *testing.T) {
	g := gwtest.New(t, "")
	code, wrong := pairingDesk(t, g, "quay-l")
	if n := tries(t, g, "198.51.100.7", wrong, 12); n != 10 {
		t.Errorf("one address: %d tries heard, want 10", n)
	}
	if n := tries(t, g, "2001:db8:1:2::1", wrong, 6) + tries(t, g, "2001:db8:1:2:ffff::9", wrong, 6); n != 10 {
		t.Errorf("one IPv6 /64: %d tries heard, want 10", n)
	}
	heard := 0
	for i := range 4 {
		heard += tries(t, g, fmt.Sprintf("192.0.2.%d", 10+i), wrong, 10)
	}
	if heard != 30 {
		t.Errorf("four addresses of one /24: %d tries heard, want 30", heard)
	}
	heard = 0
	for i := range 4 {
		heard += tries(t, g, fmt.Sprintf("2001:db8:5:%x::1", i), wrong, 10)
	}
	if heard != 30 {
		t.Errorf("four /64s of one IPv6 /48: %d tries heard, want 30", heard)
	}
	// The tablet at the desk, on another network, pairs.
	if _, k, err := g.Core.Pair(context.Background(), "203.0.113.40", code); err != nil || k.Desk.ID != "quay-l" {
		t.Fatalf("the desk's tablet: %v", err)
	}
}

// Tries from many networks raise the alarm (told once as the gateway-wide
// figure passes 200) and cut each network's share to 5, but lock no desk
// out: a tablet from another network still pairs.
func TestPairingGuessesLockNoDeskOut(t *testing.T) {
	g := gwtest.New(t, "")
	code, wrong := pairingDesk(t, g, "quay-p")
	var alarms []int64
	g.Core.PairingAlarm = func(n int64) { alarms = append(alarms, n) }
	// 18 networks spend their addresses' 10 tries: 198 tries with the refusals.
	for i := range 18 {
		if n := tries(t, g, fmt.Sprintf("198.51.%d.7", i), wrong, 11); n != 10 {
			t.Fatalf("network %d before the alarm: %d tries heard, want 10", i, n)
		}
	}
	// The 201st try raises the alarm; from then on each network has 5.
	for i := 18; i < 30; i++ {
		if n := tries(t, g, fmt.Sprintf("198.51.%d.7", i), wrong, 11); n != 5 {
			t.Fatalf("network %d under the alarm: %d tries heard, want 5", i, n)
		}
	}
	if len(alarms) != 1 || alarms[0] != core.PairAlarm+1 {
		t.Fatalf("alarms told: %v, want one at %d", alarms, core.PairAlarm+1)
	}
	if _, k, err := g.Core.Pair(context.Background(), "203.0.113.40", code); err != nil || k.Desk.ID != "quay-p" {
		t.Fatalf("the desk's tablet after 270 guesses from elsewhere: %v", err)
	}
	if n, err := g.Core.PairingTries(context.Background()); err != nil || n != 271 {
		t.Fatalf("gateway-wide figure: %d (%v), want 271", n, err)
	}
}
