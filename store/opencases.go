package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// OpenCases indexes in Redis the cases still open (not closed), by agency,
// so the work list and the sweeps read those cases alone, not every case
// of the months they span. It may hold a closed case a moment (readers
// check each case's status); a case missing from it would be hidden, so
// every open and reopen adds to it and only a close removes.
//
// Beside it, a sorted set per agency holds the due times (Unix
// milliseconds) of the cases that wait for the agency (Case.Open: not
// answered, not closed), so counting the overdue ones is one ZCOUNT per
// agency: every Add sets or drops a case's due time as its status says,
// in the same round trip, and Closed drops it.
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
func (o *OpenCases) dueKey(agency string) string {
	return "gw:cases:due:" + o.Name + ":" + agency
}

// dueWholeKey marks the due times whole apart from the open cases: a
// Redis that kept the open-case index from before due times were kept
// has the one mark, not the other, and is filled again once.
func (o *OpenCases) dueWholeKey() string { return "gw:cases:due-whole:" + o.Name }

// dueIn puts c's due time in its agency's set while c waits for the
// agency, and takes it out once it does not (answered, closed).
func (o *OpenCases) dueIn(ctx context.Context, p redis.Pipeliner, c *Case) {
	if c.Open() {
		p.ZAdd(ctx, o.dueKey(c.Agency), redis.Z{Score: float64(c.DueAt.UnixMilli()), Member: c.ID})
		return
	}
	p.ZRem(ctx, o.dueKey(c.Agency), c.ID)
}

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
				o.dueIn(ctx, p, c)
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
		p.ZRem(ctx, o.dueKey(c.Agency), c.ID)
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

// MarkWhole records that every open case is indexed, due times too.
func (o *OpenCases) MarkWhole(ctx context.Context) error {
	at := time.Now().UTC().Format(time.RFC3339)
	return o.R.MSet(ctx, o.wholeKey(), at, o.dueWholeKey(), at).Err()
}

// Indexed says both the open cases and their due times are whole
// (IndexOpenCases' pass need not run).
func (o *OpenCases) Indexed(ctx context.Context) (bool, error) {
	n, err := o.R.Exists(ctx, o.wholeKey(), o.dueWholeKey()).Result()
	return n == 2, err
}

// AgenciesIn queues in p the read of the agencies that have had open
// cases; the list is read after p runs.
func (o *OpenCases) AgenciesIn(ctx context.Context, p redis.Pipeliner) func() []string {
	cmd := p.SMembers(ctx, o.agenciesKey())
	return cmd.Val
}

// OverdueIn queues in p the count of the agencies' cases waiting past
// their due time at now, and whether the due times are whole; both are
// read after p runs (false until IndexOpenCases' pass has run).
func (o *OpenCases) OverdueIn(ctx context.Context, p redis.Pipeliner, agencies []string, now time.Time) func() (int64, bool) {
	whole := p.Exists(ctx, o.dueWholeKey())
	before := "(" + strconv.FormatInt(now.UnixMilli(), 10) // due before now: Case.Overdue
	cmds := make([]*redis.IntCmd, len(agencies))
	for i, a := range agencies {
		cmds[i] = p.ZCount(ctx, o.dueKey(a), "-inf", before)
	}
	return func() (int64, bool) {
		n := int64(0)
		for _, c := range cmds {
			n += c.Val()
		}
		return n, whole.Val() == 1
	}
}

// DueTimes are the due times the index holds for cases, by id (a case
// not there is missing): the sweep compares them with the cases.
func (o *OpenCases) DueTimes(ctx context.Context, cases []Case) (map[string]time.Time, error) {
	cmds := make([]*redis.FloatCmd, len(cases))
	_, err := o.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range cases {
			cmds[i] = p.ZScore(ctx, o.dueKey(cases[i].Agency), cases[i].ID)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) { // Nil: a case not there
		return nil, fmt.Errorf("read the cases' due times: %w", err)
	}
	out := map[string]time.Time{}
	for i, c := range cmds {
		ms, err := c.Result()
		switch {
		case err == nil:
			out[cases[i].ID] = time.UnixMilli(int64(ms)).UTC()
		case !errors.Is(err, redis.Nil):
			return nil, fmt.Errorf("read the cases' due times: %w", err)
		}
	}
	return out, nil
}
