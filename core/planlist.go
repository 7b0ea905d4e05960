package core

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sipasvn/gateway/store"
)

// PlanQuery selects plans: an agency's subtree (within the principal's;
// default the principal's own), a status, overdue or not, a page.
type PlanQuery struct {
	Agency, Status, Cursor string
	Overdue                *bool
	Limit                  int
	// ByEffect ranks the page by the plans' effect (the server computes it).
	ByEffect bool
}

// PlanPage is a page of plans, newest updated first.
type PlanPage struct {
	Plans []store.Plan
	Next  string // the cursor of the next page; "" on the last
}

// Plans lists the plans q selects that p may see, newest updated first,
// from the plan index (never a query over the plans).
func (s *Service) Plans(ctx context.Context, p *Principal, q PlanQuery) (PlanPage, error) {
	var page PlanPage
	if q.Limit == 0 {
		q.Limit = 50
	}
	switch {
	case q.Agency != "" && !ValidAgencyCode(q.Agency):
		return page, Errorf(Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", q.Agency)
	case q.Status != "" && !slices.Contains(store.PlanStatuses, store.PlanStatus(q.Status)):
		return page, Errorf(Invalid, "status", "%q: use draft, active, done or dropped", q.Status)
	case q.Limit < 1 || q.Limit > 200:
		return page, Errorf(Invalid, "limit", "use 1 to 200 (50 is the default)")
	}
	after, err := planCursorOf(q.Cursor)
	if err != nil {
		return page, err
	}
	agencies, err := s.scopeAgencies(ctx, p, q.Agency)
	if err != nil {
		return page, err
	}
	all, err := s.Mongo.Plans.Of(ctx, agencies)
	if err != nil {
		return page, err
	}
	today := s.Today()
	keep := all[:0]
	for _, pl := range all {
		if (q.Status == "" || string(pl.Status) == q.Status) && (q.Overdue == nil || *q.Overdue == (pl.OverdueActions(today) > 0)) {
			keep = append(keep, pl)
		}
	}
	slices.SortFunc(keep, func(a, b store.Plan) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	if after != nil {
		i, _ := slices.BinarySearchFunc(keep, *after, func(pl store.Plan, c planCursor) int {
			if d := c.at.Compare(pl.UpdatedAt); d != 0 {
				return d
			}
			return strings.Compare(pl.Key, c.key+"\x00") // past the cursor's own plan
		})
		keep = keep[i:]
	}
	if len(keep) > q.Limit {
		last := keep[q.Limit-1]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.UpdatedAt.UnixMilli(), 10) + "~" + last.Key))
		keep = keep[:q.Limit]
	}
	page.Plans = keep
	return page, nil
}

// planCursor is where a page of plans ends: its last plan's update time
// and key.
type planCursor struct {
	at  time.Time
	key string
}

func planCursorOf(v string) (*planCursor, error) {
	if v == "" {
		return nil, nil
	}
	bad := Errorf(Invalid, "cursor", "not a cursor this list gave; start again without it")
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return nil, bad
	}
	ms, key, ok := strings.Cut(string(raw), "~")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !strings.Contains(key, "|") {
		return nil, bad
	}
	return &planCursor{at: time.UnixMilli(n).UTC(), key: key}, nil
}

// PlannedAgencies are the agencies among agencies (nil: every agency)
// with a plan in draft or under way: those are not missing one.
func (s *Service) PlannedAgencies(ctx context.Context, agencies []string) (map[string]bool, error) {
	all, err := s.Mongo.Plans.Of(ctx, agencies)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, pl := range all {
		if pl.Status == store.PlanActive || pl.Status == store.PlanDraft {
			out[pl.Agency] = true
		}
	}
	return out, nil
}
