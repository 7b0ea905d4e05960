package channels

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// sendCode texts a feedback page's one-time code (job j) to the phone
// waiting for it, once: a code replaced, spent or expired meanwhile is
// dropped, a number that opted out hears nothing (the page cannot tell
// the difference, so it tells no one whether a number opted out), and a
// job taken again after a cut finds the provider's acceptance marked.
func (d *Dispatcher) sendCode(ctx context.Context, j store.SendJob) error {
	c := d.Core
	if taken, err := c.Queue.Taken(ctx, j.ID); err != nil || taken != nil {
		if err != nil {
			return err
		}
		return c.Queue.Done(ctx, j)
	}
	fc, err := c.CodeToSend(ctx, j)
	if err != nil || fc == nil {
		if err != nil {
			return err
		}
		return c.Queue.Done(ctx, j)
	}
	if out, err := c.OptedOut(ctx, fc.Respondent); err != nil {
		return fmt.Errorf("feedback code: check the opt-out list: %w", err)
	} else if out {
		d.Log.Info("feedback code not sent: the number opted out", "ticket", j.Ticket)
		return c.Queue.Done(ctx, j)
	}
	ch, err := c.Channel(ctx, j.Channel)
	if err != nil {
		d.Log.Warn("feedback code not sent: no channel", "channel", j.Channel, "err", err)
		return c.Queue.Done(ctx, j)
	}
	p, ok := ProviderOf(ch.Type)
	if !ok || !ch.Enabled || core.Family(ch.Type) != "sms" {
		d.Log.Warn("feedback code not sent: the channel is disabled or sends no SMS", "channel", ch.ID)
		return c.Queue.Done(ctx, j)
	}
	text := core.CodeText(fc, RenderFor(ch))
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: fc.Phone, Text: text})
	if err != nil {
		var se *SendError
		if errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts {
			d.Log.Warn("feedback code not sent; will retry", "to", survey.MaskPhone(fc.Phone), "attempt", j.Attempt+1, "err", err)
			return c.Queue.Retry(ctx, j, time.Now().Add(min(backoff(j.Attempt), time.Minute))) // a code lasts minutes
		}
		d.Log.Warn("feedback code not sent", "to", survey.MaskPhone(fc.Phone), "err", err)
		return c.Queue.Done(ctx, j)
	}
	if err := c.Queue.Took(ctx, j.ID, []byte(pid+" ")); err != nil {
		return err
	}
	enc, parts := survey.SMSParts(text)
	CountSent(ch.Type, "code", parts)
	// The cost log keeps the message, not its text: the code is a secret.
	msg := &store.Message{ID: "c:" + j.ID, Channel: ch.ID, Respondent: fc.Respondent, Kind: "code", Encoding: enc, Parts: parts, ProviderID: pid}
	if pid != "" {
		msg.ID = store.ProviderMessageID(ch.ID, pid)
	}
	if err := c.RecordSent(ctx, msg); err != nil {
		d.Log.Error("record sent message", "err", err)
	}
	return c.Queue.Done(ctx, j)
}

// sendFeedbackAnswer sends a feedback case's answer by SMS to the phone
// its citizen confirmed; failures of the provider are its error.
func (d *Dispatcher) sendFeedbackAnswer(ctx context.Context, ch *core.Channel, cs *store.Case) (*core.AnswerOutcome, error) {
	c := d.Core
	p, ok := ProviderOf(ch.Type)
	if !ok || !ch.Enabled || core.Family(ch.Type) != "sms" || len(cs.ReplyPhoneSealed) == 0 {
		return &core.AnswerOutcome{State: store.SendFailed, Detail: "channel disabled, not SMS, or no confirmed phone"}, nil
	}
	phone, err := c.Sealer.Open(cs.ReplyPhoneSealed)
	if err != nil {
		return &core.AnswerOutcome{State: store.SendFailed, Detail: err.Error()}, nil
	}
	text := c.FeedbackAnswerText(ctx, cs, RenderFor(ch))
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Text: text})
	if err != nil {
		return nil, err
	}
	enc, parts := survey.SMSParts(text)
	CountSent(ch.Type, "answer", parts)
	msg := &store.Message{Channel: ch.ID, Respondent: cs.Respondent, Kind: "answer", Encoding: enc, Parts: parts, ProviderID: pid, Text: text}
	return &core.AnswerOutcome{State: store.SendSent, Detail: ch.ID, Who: []string{cs.Respondent}, Msg: msg}, nil
}
