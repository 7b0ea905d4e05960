package core

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/store"
)

// MenuCounts are the numbers the console's menu shows beside its links,
// within a principal's agencies. Each is -1 when not known: its index is
// not whole yet (the start-time pass is running), or it is not the
// principal's to see (a viewer does not see the unread replies).
type MenuCounts struct {
	// Overdue counts the cases waiting for their agency past their due
	// time (store.Case.Overdue).
	Overdue int64
	// Unread counts the open replies not understood.
	Unread int64
}

// MenuCounts reads the menu's counts for p from the Redis indexes the
// gateway keeps (never MongoDB but the agency tree): one round trip for
// an agency's key, two for one that sees every agency (the agencies that
// have any, then their counts).
func (s *Service) MenuCounts(ctx context.Context, p *Principal) (MenuCounts, error) {
	out := MenuCounts{Overdue: -1, Unread: -1}
	cases, unread := s.OpenCases, s.UnreadIndex
	if p.Role == RoleViewer {
		unread = nil
	}
	r := menuRedis(cases, unread)
	if r == nil {
		return out, nil
	}
	agencies, err := s.scopeAgencies(ctx, p, "")
	if err != nil {
		return out, err
	}
	caseAgencies, unreadAgencies := agencies, agencies
	if agencies == nil { // every agency's: those that have had any
		var ca, ua func() []string
		if _, err := r.Pipelined(ctx, func(pl redis.Pipeliner) error {
			if cases != nil {
				ca = cases.AgenciesIn(ctx, pl)
			}
			if unread != nil {
				ua = unread.AgenciesIn(ctx, pl)
			}
			return nil
		}); err != nil {
			return out, fmt.Errorf("read the agencies to count: %w", err)
		}
		caseAgencies, unreadAgencies = call(ca), call(ua)
	}
	var overdue, open func() (int64, bool)
	if _, err := r.Pipelined(ctx, func(pl redis.Pipeliner) error {
		if cases != nil {
			overdue = cases.OverdueIn(ctx, pl, caseAgencies, s.now())
		}
		if unread != nil {
			open = unread.OpenIn(ctx, pl, unreadAgencies)
		}
		return nil
	}); err != nil {
		return out, fmt.Errorf("count overdue cases and unread replies: %w", err)
	}
	out.Overdue, out.Unread = known(overdue), known(open)
	return out, nil
}

// menuRedis is the Redis the menu's indexes are in (nil: neither is kept).
func menuRedis(cases *store.OpenCases, unread *store.UnreadIndex) redis.UniversalClient {
	switch {
	case cases != nil:
		return cases.R
	case unread != nil:
		return unread.R
	}
	return nil
}

// call is f's answer, nil without f.
func call(f func() []string) []string {
	if f == nil {
		return nil
	}
	return f()
}

// known is a count read, or -1 without one or while its index is not whole.
func known(f func() (int64, bool)) int64 {
	if f == nil {
		return -1
	}
	if n, whole := f(); whole {
		return n
	}
	return -1
}
