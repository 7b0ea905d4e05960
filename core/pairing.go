package core

import (
	"context"
	"net/netip"
	"time"
)

// Pairing limits. A pairing try names no desk, so one try is a guess at
// every live code at once: with L codes live (a code lives from the
// console's PUT until used, 15 minutes at most), a try hits one with
// probability L/10⁸. Each counter is a fixed 10-minute window, and 15
// minutes meet at most 3 windows of one counter, so within one code's
// life, with L = 10 (ten desks pairing in the same quarter hour; usually
// a code is used within a minute and L is 0 or 1):
//
//   - one address (an IPv4 address; an IPv6 /64, which one host has
//     whole): ≤ 3×10 = 30 tries, P ≤ 30·10/10⁸ = 3·10⁻⁶;
//   - one network (an IPv4 /24, an IPv6 /48), however many addresses:
//     ≤ 3×30 = 90 tries, P ≤ 9·10⁻⁶;
//   - B networks: once the gateway-wide figure passes PairAlarm in a
//     window (the alarm: a warning in the log, the figure in the
//     metrics), each network gets pairAlarmBlockRate tries a window, so
//     ≤ 3×200 + 3×5×B tries: B = 100 gives P ≤ 2.1·10⁻⁴, B = 10,000 (a
//     large botnet, logged 750 times meanwhile) P ≤ 1.5%.
//
// The old gateway-wide cap (200) held every attacker to P ≤ 6·10⁻⁵, but
// let 20 addresses lock every desk out of pairing for 10 minutes at a
// time. Now nobody can: an address or a network spends only its own
// tries, and under the alarm each network still has 5 — enough for a
// tablet at the desk. What remains: an attacker sharing a desk's network
// can hold that network's pairing back, and a guess that lands pairs a
// tablet with one desk, which the console lists and the audit log
// records (the desk's own tablet then finds its code used).
const (
	pairRate           = 10 // tries per address in pairWindow
	pairBlockRate      = 30 // tries per network in pairWindow
	pairAlarmBlockRate = 5  // tries per network in pairWindow while the alarm is up
	// PairAlarm is the gateway-wide number of pairing tries in 10 minutes
	// above which someone is likely guessing codes.
	PairAlarm  = 200
	pairWindow = 10 * time.Minute
)

// pairingTry counts a pairing try from ip: refused when its address or
// its network has spent its tries. The gateway-wide count raises the
// alarm (and tightens every network's share) but refuses nobody.
func (s *Service) pairingTry(ctx context.Context, ip string) error {
	blockRate := pairBlockRate
	if s.Limiter != nil {
		n, err := s.Limiter.Count(ctx, "kiosk-pair", pairWindow)
		if err != nil {
			return err
		}
		if n > PairAlarm {
			blockRate = pairAlarmBlockRate
		}
		if n > PairAlarm && (n-PairAlarm-1)%PairAlarm == 0 && s.PairingAlarm != nil {
			s.PairingAlarm(n) // as the figure passes 200, 400…: a line per 200 tries, on whichever replica counted it
		}
	}
	addr, block := addressBlock(ip)
	if err := s.limited(ctx, "kiosk-pair:"+addr, pairRate, pairWindow, "code", "pairing tries from this address"); err != nil {
		return err
	}
	return s.limited(ctx, "kiosk-pair-net:"+block, blockRate, pairWindow, "code", "pairing tries from this network")
}

// PairingTries is the gateway-wide number of pairing tries in the
// current 10-minute window (the alarm is above PairAlarm).
func (s *Service) PairingTries(ctx context.Context) (int64, error) {
	if s.Limiter == nil {
		return 0, nil
	}
	return s.Limiter.Counted(ctx, "kiosk-pair")
}

// addressBlock is what a client address counts as: itself (an IPv6 /64,
// as one host holds a whole /64) and its network (an IPv4 /24, an IPv6
// /48). Anything unparsable counts alone.
func addressBlock(ip string) (addr, block string) {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip, ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		net, _ := a.Prefix(24)
		return a.String(), net.String()
	}
	host, _ := a.Prefix(64)
	net, _ := a.Prefix(48)
	return host.String(), net.String()
}
