package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// UnreadIndex keeps in Redis the ids of the open replies not understood,
// a set per agency, and the set of agencies that have had any, so the
// console's menu counts them without a query over the replies (a scan on
// FerretDB). Replies are added once MongoDB has them and removed once
// settled (resolved or dismissed: never open again); a start-time pass
// refills it after Redis lost its data (see core.IndexUnread).
type UnreadIndex struct {
	R    redis.UniversalClient
	Name string // the database name
}

func (x *UnreadIndex) key(agency string) string { return "gw:unread:open:" + x.Name + ":" + agency }
func (x *UnreadIndex) agenciesKey() string      { return "gw:unread:open-agencies:" + x.Name }
func (x *UnreadIndex) wholeKey() string         { return "gw:unread:open-whole:" + x.Name }

// Add indexes the open replies among rs (the others are left out).
func (x *UnreadIndex) Add(ctx context.Context, rs ...*UnreadReply) error {
	_, err := x.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range rs {
			if u.Status == UnreadOpen {
				p.SAdd(ctx, x.key(u.Agency), u.ID)
				p.SAdd(ctx, x.agenciesKey(), u.Agency)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index %d unread replies: %w", len(rs), err)
	}
	return nil
}

// Settled drops replies from the index.
func (x *UnreadIndex) Settled(ctx context.Context, rs ...*UnreadReply) error {
	_, err := x.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, u := range rs {
			p.SRem(ctx, x.key(u.Agency), u.ID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("unindex %d settled replies: %w", len(rs), err)
	}
	return nil
}

// AgenciesIn queues in p the read of the agencies that have had open
// replies; the list is read after p runs.
func (x *UnreadIndex) AgenciesIn(ctx context.Context, p redis.Pipeliner) func() []string {
	return p.SMembers(ctx, x.agenciesKey()).Val
}

// OpenIn queues in p the count of the agencies' open replies, and
// whether the index is whole; both are read after p runs.
func (x *UnreadIndex) OpenIn(ctx context.Context, p redis.Pipeliner, agencies []string) func() (int64, bool) {
	whole := p.Exists(ctx, x.wholeKey())
	cmds := make([]*redis.IntCmd, len(agencies))
	for i, a := range agencies {
		cmds[i] = p.SCard(ctx, x.key(a))
	}
	return func() (int64, bool) {
		n := int64(0)
		for _, c := range cmds {
			n += c.Val()
		}
		return n, whole.Val() == 1
	}
}

// Whole says every open reply is indexed (lost with Redis's data).
func (x *UnreadIndex) Whole(ctx context.Context) (bool, error) {
	n, err := x.R.Exists(ctx, x.wholeKey()).Result()
	return n == 1, err
}

// MarkWhole records that every open reply is indexed.
func (x *UnreadIndex) MarkWhole(ctx context.Context) error {
	return x.R.Set(ctx, x.wholeKey(), time.Now().UTC().Format(time.RFC3339), 0).Err()
}
