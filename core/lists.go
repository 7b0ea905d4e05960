package core

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"
)

// What the signals read of the agencies (staff networks, dossier
// servers, staff phones, the tree) is read for every answer and changes
// rarely: AgencyLists keeps it in the process.

// listsTTL is how long a process keeps the agencies' lists: a change made
// on another replica shows within it.
const listsTTL = time.Minute

// listsRetry is how long a process waits before it reads the lists again
// after a failed read (MongoDB down), answering with what it had.
const listsRetry = 5 * time.Second

// AgencyLists keeps every agency's staff networks, dossier servers and
// staff phones (hashes) for listsTTL. Share one per process.
type AgencyLists struct {
	mu   sync.Mutex
	view *agencyView
	next time.Time // when to read again
}

// Forget makes the next read fresh: a change made through this process
// shows at once.
func (l *AgencyLists) Forget() {
	if l == nil {
		return
	}
	l.mu.Lock()
	l.next = time.Time{}
	l.mu.Unlock()
}

// agencyView is the agencies as the signals read them.
type agencyView struct {
	office  []netip.Prefix            // every agency's staff networks
	servers map[string][]netip.Prefix // agency → its dossier servers
	staff   map[string]map[string]bool
	parent  map[string]string
	// hours are the agencies' own send and call windows ("send:"/"call:"
	// + code), where set.
	hours map[string]string
}

// lists is the agencies' lists: the process's copy while fresh, else read
// again; while MongoDB fails, the copy it had (or none: no signal of
// theirs is raised, and the answer is taken all the same).
func (s *Service) lists(ctx context.Context) *agencyView {
	l := s.Lists
	if l == nil {
		v, err := s.readLists(ctx)
		if err != nil {
			return &agencyView{}
		}
		return v
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.view == nil {
		l.view = &agencyView{}
	}
	if time.Now().Before(l.next) || s.Health.Down() {
		return l.view
	}
	v, err := s.readLists(ctx)
	s.Health.Note(err)
	if err != nil {
		l.next = time.Now().Add(listsRetry)
		return l.view
	}
	l.view, l.next = v, time.Now().Add(listsTTL)
	return v
}

func (s *Service) readLists(ctx context.Context) (*agencyView, error) {
	all, err := s.Mongo.Agencies.All(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the agencies' lists: %w", err)
	}
	v := &agencyView{servers: map[string][]netip.Prefix{}, staff: map[string]map[string]bool{}, parent: map[string]string{}, hours: map[string]string{}}
	for _, a := range all {
		v.parent[a.Code] = a.Parent
		if a.SendHours != "" {
			v.hours["send:"+a.Code] = a.SendHours
		}
		if a.CallHours != "" {
			v.hours["call:"+a.Code] = a.CallHours
		}
		v.office = append(v.office, prefixes(a.OfficeNetworks)...)
		if len(a.DossierServers) > 0 {
			v.servers[a.Code] = prefixes(a.DossierServers)
		}
		if len(a.StaffPhones) > 0 {
			v.staff[a.Code] = map[string]bool{}
			for _, h := range a.StaffPhones {
				v.staff[a.Code][h] = true
			}
		}
	}
	return v, nil
}

// prefixes parses stored networks (checked when they were put).
func prefixes(cidrs []string) []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// inOffice reports whether a is in any agency's staff networks.
func (v *agencyView) inOffice(a netip.Addr) bool {
	for _, p := range v.office {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// lineage is agency and its parents, up the tree (a cycle ends it).
func (v *agencyView) lineage(agency string) []string {
	out := []string{agency}
	for p := v.parent[agency]; p != "" && len(out) <= len(v.parent); p = v.parent[p] {
		out = append(out, p)
	}
	return out
}

// dossierServer reports whether a is a dossier server of agency or of an
// agency above it (a province's central system serves its communes).
func (v *agencyView) dossierServer(agency string, a netip.Addr) bool {
	for _, code := range v.lineage(agency) {
		for _, p := range v.servers[code] {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// staffPhone reports whether the phone hashed who is on the staff list
// of agency or of an agency above it, which is ranked on it too.
func (v *agencyView) staffPhone(agency, who string) bool {
	for _, code := range v.lineage(agency) {
		if v.staff[code][who] {
			return true
		}
	}
	return false
}

// maxNetworks bounds one agency's list of networks.
const maxNetworks = 100

// checkNetworks checks and canonicalises a list of CIDRs (a plain address
// is a /32 or /128), naming the entry at fault: office_networks[2]. A
// network wider than a /8 (IPv4) or /16 (IPv6) is refused: it would take
// in citizens' own connections.
func checkNetworks(field string, in []string) ([]string, error) {
	if in == nil {
		return nil, nil
	}
	if len(in) > maxNetworks {
		return nil, Errorf(Invalid, field, "%d networks; list at most %d (use wider CIDRs)", len(in), maxNetworks)
	}
	out := make([]string, 0, len(in))
	for i, raw := range in {
		p, err := parseNetwork(raw)
		at := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case err != nil:
			return nil, Errorf(Invalid, at, "%q is not a network; write a CIDR such as 203.0.113.0/24 or 2001:db8:5::/48, or one address such as 203.0.113.7", raw)
		case p.Addr().Is4() && p.Bits() < 8, !p.Addr().Is4() && p.Bits() < 16:
			return nil, Errorf(Invalid, at, "%s covers too many addresses; list the agency's own networks (at least /8 for IPv4, /16 for IPv6)", p)
		}
		out = append(out, p.String())
	}
	return out, nil
}

// parseNetwork reads a CIDR or a plain address, its host bits cleared.
func parseNetwork(raw string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(raw); err == nil {
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%s has a zone", raw)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(raw)
	if err != nil {
		return netip.Prefix{}, err
	}
	if p.Addr().Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
	}
	return p.Masked(), nil
}
