package core

import (
	"context"
	"errors"

	"github.com/sipasvn/gateway/store"
)

// FixDueTimes puts right the due times the open-case index holds (what
// the menu's overdue count reads) for every case of the index that
// disagrees with its case: a write from a stale copy can leave one (a
// roll-up batch replayed after its case was answered, the start-time
// pass racing a change). Each is read again and indexed under the case's
// lock, so no change of the case lands in between; a case someone holds
// is left to their save. It returns how many it fixed (the case sweep
// runs it, so a wrong count lasts one sweep at most).
func (s *Service) FixDueTimes(ctx context.Context) (int, error) {
	if s.OpenCases == nil {
		return 0, nil
	}
	if done, err := s.OpenCases.Indexed(ctx); err != nil || !done {
		return 0, err
	}
	ids, err := s.OpenCases.IDs(ctx, nil)
	if err != nil {
		return 0, err
	}
	all, err := s.Mongo.Cases.Read(ctx, ids)
	if err != nil {
		return 0, err
	}
	due, err := s.OpenCases.DueTimes(ctx, all)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range all {
		c := &all[i]
		at, indexed := due[c.ID]
		if c.Status != store.CaseClosed && indexed == c.Open() && (!indexed || at.Equal(c.DueAt)) {
			continue // as it should be
		}
		ok, err := s.reindexCase(ctx, c.ID)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// reindexCase reads a case again under its lock and indexes it as it is.
func (s *Service) reindexCase(ctx context.Context, id string) (bool, error) {
	lease, err := s.Locks.Acquire(ctx, "case:"+id, caseLockTTL)
	if errors.Is(err, store.ErrLocked) {
		return false, nil // its holder's save indexes it
	}
	if err != nil {
		return false, err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	c, err := s.Mongo.Cases.Get(ctx, id)
	if err != nil {
		return false, err
	}
	return true, s.indexCase(ctx, c)
}
