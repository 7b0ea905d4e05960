package core

import (
	"context"
	"fmt"

	"github.com/sipasvn/gateway/store"
)

// recordUnread keeps replies not understood for the operators, then
// counts the ones still open in the unread index. A reply delivered again
// (a message log batch read twice) may have been settled meanwhile: the
// replies are read back by id, so only those still open are counted.
func (s *Service) recordUnread(ctx context.Context, rs ...*store.UnreadReply) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.Mongo.Unread.Record(ctx, rs...); err != nil {
		return err
	}
	if s.UnreadIndex == nil {
		return nil
	}
	stored, err := s.Mongo.Unread.ByIDs(ctx, replyIDs(rs))
	if err != nil {
		return fmt.Errorf("count the unread replies: %w", err)
	}
	return s.UnreadIndex.Add(ctx, ptrs(stored)...)
}

// unreadSettled takes a reply an operator settled out of the count (the
// reply is settled in MongoDB first: a reply never opens again, so a
// late removal is never wrong).
func (s *Service) unreadSettled(ctx context.Context, u *store.UnreadReply) error {
	if s.UnreadIndex == nil {
		return nil
	}
	if err := s.UnreadIndex.Settled(ctx, u); err != nil {
		return fmt.Errorf("reply %s is %s, but the menu still counts it: %w", u.ID, u.Status, err)
	}
	return nil
}

// unreadBatch is how many open replies the start-time pass indexes at once.
const unreadBatch = 500

// IndexUnread counts every open reply in the unread index, then marks it
// whole (run at start, in the background, as IndexOpenCases; a Redis
// that kept the mark skips it). It reads the replies by their status, a
// scan on FerretDB. A reply settled while the pass runs could be added
// back after its settle took it out: each batch is read again by id
// after it is added, and the settled ones taken out again.
func (s *Service) IndexUnread(ctx context.Context) (int, error) {
	if s.UnreadIndex == nil {
		return 0, nil
	}
	if whole, err := s.UnreadIndex.Whole(ctx); err != nil || whole {
		return 0, err
	}
	n := 0
	var batch []*store.UnreadReply
	flush := func() error {
		n += len(batch)
		err := s.indexUnreadBatch(ctx, batch)
		batch = batch[:0]
		return err
	}
	err := s.Mongo.Unread.EachOpen(ctx, func(u *store.UnreadReply) error {
		if batch = append(batch, u); len(batch) < unreadBatch {
			return nil
		}
		return flush()
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return n, fmt.Errorf("index the open unread replies: %w", err)
	}
	return n, s.UnreadIndex.MarkWhole(ctx)
}

// indexUnreadBatch adds open replies, then takes out those settled since
// they were read.
func (s *Service) indexUnreadBatch(ctx context.Context, rs []*store.UnreadReply) error {
	if len(rs) == 0 {
		return nil
	}
	if err := s.UnreadIndex.Add(ctx, rs...); err != nil {
		return err
	}
	now, err := s.Mongo.Unread.ByIDs(ctx, replyIDs(rs))
	if err != nil {
		return err
	}
	var settled []*store.UnreadReply
	for i := range now {
		if now[i].Status != store.UnreadOpen {
			settled = append(settled, &now[i])
		}
	}
	if len(settled) == 0 {
		return nil
	}
	return s.UnreadIndex.Settled(ctx, settled...)
}

// ptrs points at each element of vs.
func ptrs[T any](vs []T) []*T {
	out := make([]*T, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	return out
}

// replyIDs are the replies' ids.
func replyIDs(rs []*store.UnreadReply) []string {
	ids := make([]string, len(rs))
	for i, u := range rs {
		ids[i] = u.ID
	}
	return ids
}
