package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpenCases indexes in Redis the cases still open (not closed), by agency,
// so the work list and the sweeps read those cases alone, not every case
// of the months they span. It may hold a closed case a moment (readers
// check each case's status); a case missing from it would be hidden, so
// every open and reopen adds to it and only a close removes.
type OpenCases struct {
	R    redis.UniversalClient
	Name string // the database name
	// Search, when set, is given the terms of every case added or closed
	// here, in the same round trip: every open, reopen and save of a
	// case passes one or the other.
	Search *CaseSearch
}

func (o *OpenCases) key(agency string) string { return "gw:cases:open:" + o.Name + ":" + agency }
func (o *OpenCases) agenciesKey() string      { return "gw:cases:open-agencies:" + o.Name }
func (o *OpenCases) wholeKey() string         { return "gw:cases:open-whole:" + o.Name }

// Add indexes cases as open.
func (o *OpenCases) Add(ctx context.Context, cases ...*Case) error {
	if len(cases) == 0 {
		return nil
	}
	err := Write(ctx, "opencases.add", func(ctx context.Context) error {
		_, err := o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range cases {
				p.SAdd(ctx, o.key(c.Agency), c.ID)
				p.SAdd(ctx, o.agenciesKey(), c.Agency)
				if o.Search != nil {
					o.Search.IndexIn(ctx, p, c)
				}
			}
			return nil
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("index open cases: %w", err)
	}
	return nil
}

// Closed drops a case from the index.
func (o *OpenCases) Closed(ctx context.Context, c *Case) error {
	_, err := o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.SRem(ctx, o.key(c.Agency), c.ID)
		if o.Search != nil {
			o.Search.IndexIn(ctx, p, c)
		}
		return nil
	})
	return err
}

// IDs returns the open cases' ids of the agencies (nil: every agency).
func (o *OpenCases) IDs(ctx context.Context, agencies []string) ([]string, error) {
	if agencies == nil {
		var err error
		if agencies, err = o.R.SMembers(ctx, o.agenciesKey()).Result(); err != nil {
			return nil, fmt.Errorf("read the agencies with open cases: %w", err)
		}
	}
	cmds := make([]*redis.StringSliceCmd, len(agencies))
	_, err := o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range agencies {
			cmds[i] = p.SMembers(ctx, o.key(a))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read open cases: %w", err)
	}
	var ids []string
	for _, c := range cmds {
		ids = append(ids, c.Val()...)
	}
	return ids, nil
}

// Whole says every open case is indexed (after IndexOpenCases' pass; lost
// with Redis's data).
func (o *OpenCases) Whole(ctx context.Context) (bool, error) {
	n, err := o.R.Exists(ctx, o.wholeKey()).Result()
	return n == 1, err
}

// answeredKey names the answered case of an invitation.
func (o *OpenCases) answeredKey(invitation string) string {
	return "gw:cases:answered:" + o.Name + ":" + invitation
}

// answeredFor is how long an invitation's survey page shows its case's
// answer.
const answeredFor = 180 * 24 * time.Hour

// Answered notes that c, an invitation's case, has an answer, so the
// survey's done page finds it with Redis alone.
func (o *OpenCases) Answered(ctx context.Context, c *Case) error {
	if c.InvitationID == "" {
		return nil // a feedback case: its page finds it by its ticket
	}
	return o.R.Set(ctx, o.answeredKey(c.InvitationID), c.ID, answeredFor).Err()
}

// AnsweredCase is the id of the answered case of an invitation, or "".
func (o *OpenCases) AnsweredCase(ctx context.Context, invitation string) (string, error) {
	id, err := o.R.Get(ctx, o.answeredKey(invitation)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// MarkWhole records that every open case is indexed.
func (o *OpenCases) MarkWhole(ctx context.Context) error {
	return o.R.Set(ctx, o.wholeKey(), time.Now().UTC().Format(time.RFC3339), 0).Err()
}
