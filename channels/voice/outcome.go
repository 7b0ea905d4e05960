package voice

import (
	"context"
	"errors"
	"fmt"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// Ended applies the end of a call (a status webhook) once, however often
// the provider sends it: its billed minutes go to the cost log, and for
// a call the gateway placed, the invitation's send records how it went:
// delivered when a person answered; tried again settings.retry_after
// later when it was busy, not answered or a machine's, up to
// settings.retries times; then, or when it failed, sent by SMS instead.
func Ended(ctx context.Context, d channels.Deps, ch *core.Channel, ev Event) error {
	if ev.Outcome == "" {
		return nil // the call goes on
	}
	c := d.Core
	claim := ch.ID + ":" + ev.CallID
	first, err := c.Calls.ClaimEvent(ctx, claim)
	if err != nil || !first {
		return err
	}
	if err := ended(ctx, d, ch, ev); err != nil {
		c.Calls.ReleaseEvent(ctx, claim) // the provider's retry applies it
		return err
	}
	return nil
}

func ended(ctx context.Context, d channels.Deps, ch *core.Channel, ev Event) error {
	c := d.Core
	invID := ev.Invitation
	if invID == "" {
		if ref, err := c.Calls.Ref(ctx, ev.CallID); err == nil {
			invID = ref.Invitation
		}
	}
	var inv *store.Invitation
	var err error
	if invID != "" {
		if inv, err = c.Invitation(ctx, invID); err != nil && core.CodeOf(err) != core.NotFound {
			return err
		}
	}
	m := minutes(ch, inv, ev)
	if m.Answers, err = c.CallAnswers(ctx, ev.CallID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if err := c.RecordSent(ctx, m); err != nil {
		return err
	}
	if inv == nil || ev.Invitation == "" {
		return nil // a citizen's own call: nothing was sent
	}
	_ = c.Calls.UnlockPhone(ctx, inv.Respondent, inv.ID+":"+ch.ID)
	return attempt(ctx, d, ch, inv, ev)
}

// minutes is the cost-log record of a call: its billed minutes (started
// minutes, as providers bill) as Parts, counted where its invitation's
// response rate is.
func minutes(ch *core.Channel, inv *store.Invitation, ev Event) *store.Message {
	m := &store.Message{ID: "call:" + ch.ID + ":" + ev.CallID, Channel: ch.ID, Kind: store.KindCall, Encoding: "voice",
		Parts: (max(ev.Seconds, 0) + 59) / 60, ProviderID: ev.CallID, Text: outcomeText[ev.Outcome], Outcome: ev.Outcome}
	if inv != nil {
		m.Invitation, m.Respondent = inv.ID, inv.Respondent
		m.Agency, m.Month, m.Survey = inv.AgencyCode, store.MonthOf(inv.CreatedAt), inv.Survey
	}
	return m
}

var outcomeText = map[string]string{
	Answered: "Cuộc gọi khảo sát: đã nghe máy",
	Busy:     "Cuộc gọi khảo sát: máy bận",
	NoAnswer: "Cuộc gọi khảo sát: không nghe máy",
	Machine:  "Cuộc gọi khảo sát: hộp thư thoại",
	Failed:   "Cuộc gọi khảo sát: không gọi được",
}

// attempt records how invitation inv's call on ch went, and what comes
// next.
func attempt(ctx context.Context, d channels.Deps, ch *core.Channel, inv *store.Invitation, ev Event) error {
	c := d.Core
	st := inv.Sends[ch.ID]
	st.At = c.Now()
	key := ch.ID
	switch {
	case ev.Outcome == Answered:
		st.Status, st.Error = store.SendDelivered, ""
		if err := c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st); err != nil {
			return err
		}
		return c.NoteSent(ctx, inv, "voice") // reached: a person picked up
	case inv.Status == store.StatusCompleted:
		st.Status, st.Error = store.SendSkipped, "the invitation was answered meanwhile"
		return c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st)
	case ev.Outcome != Failed && st.Attempts <= Retries(ch):
		st.Status = store.SendRetrying
		at := c.SendAt(ctx, inv.AgencyCode, "voice", inv.ID+":"+ch.ID, st.At.Add(RetryAfter(ch)))
		st.Error = fmt.Sprintf("call %d: %s; called again from %s", st.Attempts, ev.Outcome, at.In(core.Vietnam).Format("02/01/2006 15:04"))
		if err := c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st); err != nil {
			return err
		}
		return c.Queue.Enqueue(ctx, store.SendJob{ID: inv.ID + ":" + ch.ID, Invitation: inv.ID, Channel: ch.ID, Attempt: st.Attempts}, at)
	}
	st.Error = fmt.Sprintf("call %d: %s, the last try", st.Attempts, ev.Outcome)
	if _, err := channels.FallBackToSMS(ctx, c, inv, &st); err != nil {
		return err
	}
	if err := c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st); err != nil {
		return err
	}
	if st.Status == store.SendFailed {
		if inv.Sends == nil {
			inv.Sends = map[string]store.SendStatus{}
		}
		inv.Sends[key] = st
		c.ReleaseContact(ctx, inv)
	}
	return nil
}
