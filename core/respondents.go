package core

import (
	"context"
	"time"

	"github.com/sipasvn/gateway/store"
)

// indexInvitation adds an invitation with a phone to the index of its
// citizen's invitations, so replies from that phone find it without a
// MongoDB query (see store.Conversations.IndexInvitations). first says no
// other invitation of the phone can be open: the index is then complete.
func (s *Service) indexInvitation(ctx context.Context, inv *store.Invitation, first bool) error {
	ttl := inv.ExpiresAt.Sub(s.now())
	if inv.Respondent == "" || !answerable(inv.StatusAt(s.now())) {
		return nil
	}
	return s.Conversations.IndexInvitations(ctx, inv.Respondent, first, ttl, inv)
}

// openInvitation returns who's newest invitation that can still be
// answered, or store.ErrNotFound. It reads the index of who's invitations,
// dropping from it those that expired or were answered on another channel;
// only an incomplete index sends it to MongoDB's query. An invitation from
// the index carries only what a conversation needs (id, survey, locale,
// dates) and reads as pending. index, when not nil, gives the index as
// a read just before found it (see watchSpend).
func (s *Service) openInvitation(ctx context.Context, who string, index func() ([]store.IndexedInvitation, bool, error)) (*store.Invitation, error) {
	if index == nil {
		index = func() ([]store.IndexedInvitation, bool, error) { return s.Conversations.IndexedInvitations(ctx, who) }
	}
	indexed, complete, err := index()
	if err != nil {
		return nil, err
	}
	if !complete {
		// A phone the whole index does not know has nothing open: no
		// query, however many strangers write.
		whole, err := s.Conversations.IndexIsWhole(ctx)
		if err != nil {
			return nil, err
		}
		if !whole {
			return s.scanInvitations(ctx, who)
		}
	}
	open, closed, err := s.openIndexed(ctx, indexed, 1)
	if err != nil {
		return nil, err
	}
	if err := s.Conversations.Unindex(ctx, who, closed...); err != nil {
		return nil, err
	}
	if len(open) == 0 {
		return nil, store.ErrNotFound
	}
	e := open[0]
	return &store.Invitation{ID: e.ID, Survey: e.Survey, Locale: e.Locale, Respondent: who, AgencyCode: e.AgencyCode,
		Status: store.StatusPending, CreatedAt: e.CreatedAt, ExpiresAt: e.ExpiresAt}, nil
}

// IndexOpenInvitations puts every open invitation with a phone in the
// index of its citizen's invitations, then marks the index whole, so from
// then on a phone without an index has nothing open and a stranger's
// message costs no MongoDB query. Run at start, in the background (a scan
// of the invitations on FerretDB); a Redis that kept the mark skips it.
func (s *Service) IndexOpenInvitations(ctx context.Context) (int, error) {
	if whole, err := s.Conversations.IndexIsWhole(ctx); err != nil || whole {
		return 0, err
	}
	now, n := s.now(), 0
	err := s.Mongo.Invitations.EachOpenWithPhone(ctx, now, func(inv *store.Invitation) error {
		n++
		return s.Conversations.IndexInvitations(ctx, inv.Respondent, false, inv.ExpiresAt.Sub(now), inv)
	})
	if err != nil {
		return n, err
	}
	return n, s.Conversations.MarkIndexWhole(ctx)
}

// scanInvitations asks MongoDB for who's open invitations (a scan on
// FerretDB) and fills who's index with them, marked complete, so the next
// message of who reads the index alone, also when there are none.
func (s *Service) scanInvitations(ctx context.Context, who string) (*store.Invitation, error) {
	if s.Scanned != nil {
		s.Scanned()
	}
	now := s.now()
	invs, err := s.Mongo.Invitations.OpenOf(ctx, who, now)
	s.Health.Note(err)
	if err != nil {
		return nil, err
	}
	ttl := max(s.InvitationTTL, 24*time.Hour)
	for _, inv := range invs {
		ttl = max(ttl, inv.ExpiresAt.Sub(now))
	}
	// Not filled, the next message asks MongoDB again; Redis being unwell
	// shows in the conversation step itself.
	_ = s.Conversations.IndexInvitations(ctx, who, true, ttl, invs...)
	for _, inv := range invs {
		s.noteDone(ctx, inv)
		if answerable(inv.StatusAt(now)) {
			if s.Cache != nil {
				s.Cache.Put(ctx, inv) // so the conversation can complete while MongoDB is down
			}
			return inv, nil
		}
	}
	return nil, store.ErrNotFound
}

// openIndexed sorts index entries, newest first, into the open ones (up
// to max; past them only expired ones are noted) and those closed:
// expired, or answered on another channel.
func (s *Service) openIndexed(ctx context.Context, indexed []store.IndexedInvitation, max int) (open []store.IndexedInvitation, closed []string, err error) {
	now := s.now()
	for _, e := range indexed {
		if !now.Before(e.ExpiresAt) {
			closed = append(closed, e.ID)
			continue
		}
		if len(open) >= max {
			continue // only expired ones are dropped past the newest open ones
		}
		done, err := s.Outbox.Done(ctx, e.ID)
		if err != nil {
			return nil, nil, err
		}
		if done {
			closed = append(closed, e.ID)
			continue
		}
		open = append(open, e)
	}
	return open, closed, nil
}

// severalOpen reports whether the index, as the step's read found it
// (see watchSpend), holds more than one open invitation for its phone (a
// conversation could answer either); false when the index does not know
// the phone.
func (s *Service) severalOpen(ctx context.Context, index func() ([]store.IndexedInvitation, bool, error)) (bool, error) {
	indexed, _, err := index()
	if err != nil {
		return false, err
	}
	open, _, err := s.openIndexed(ctx, indexed, 2)
	return len(open) > 1, err
}
