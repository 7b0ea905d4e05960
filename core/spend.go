package core

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/store"
)

// spending is what a step knows of its message's spend (see store.Spend):
// the key it is kept under and, as the latest read of the conversation
// found them, what the message spent in a delivery before and the index
// of the citizen's invitations (read with it, to save a conversation's
// start a round trip of its own).
type spending struct {
	msg   string
	spent *store.Spend
	index func() ([]store.IndexedInvitation, bool, error)
	// later takes the clean-up of a completion the message makes into
	// the step's commit.
	later later
}

// watchSpend makes io read, with each read of who's conversation, what
// the message spent before and who's invitation index. A message without
// a provider id is named for this delivery alone: its spend then guards
// only this delivery's step when it runs again after losing the race to
// commit.
func (s *Service) watchSpend(ctx context.Context, in Inbound, who string, io *store.StepIO) *spending {
	sp := &spending{msg: io.Claim}
	if in.MessageID == "" {
		sp.msg = "d:" + newID()
	}
	io.EachRead = func(p redis.Pipeliner) func() error {
		spent := s.Outbox.QueueSpend(ctx, p, sp.msg)
		index := s.Conversations.QueueIndexedInvitations(ctx, p, who)
		return func() (err error) {
			sp.index = index
			sp.spent, err = spent()
			return err
		}
	}
	return sp
}

// respent answers a message that completed invitation spent.Invitation in
// an earlier delivery or run of the step as it was answered then, and
// leaves the conversation as that run did: done with that invitation
// (unless the citizen began another since). Read again, the message would
// answer the citizen's next open invitation.
func respent(st *chatState, spent *store.Spend) []string {
	if st.Invitation == "" || st.Invitation == spent.Invitation {
		st.Invitation, st.Done = spent.Invitation, true
	}
	return spent.Replies
}

// respend holds for the step's commit the clean-up of the completion the
// spent message made (see completed), for a process that died between
// saving the response and its commit: who's done mark and, for an answer
// by dossier code, the count of who's phone. Both are idempotent, so a
// delivery that finds them made does no harm. The web draft, which only
// the invitation's token names, is left to its expiry.
func (s *Service) respend(ctx context.Context, who string, sp *spending) {
	if sp.later.queue != nil || sp.later.done != nil {
		return // this delivery completed it: its own clean-up is held
	}
	ss := &Session{Invitation: &store.Invitation{ID: sp.spent.Invitation, Respondent: who}, undrafted: true}
	r := &store.Response{ID: sp.spent.Response, SubmittedAt: time.UnixMilli(sp.spent.At)}
	var rs raised
	if sp.spent.Phone && r.ID != "" {
		rs.phone = who
	}
	counts := s.counts(rs)
	sp.later.queue = func(p redis.Pipeliner) func() { return s.completedIn(ctx, p, ss, r, rs, counts) }
}
