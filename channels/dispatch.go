package channels

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Dispatcher sends queued invitations through their channels, outside any
// request, so a slow or failing provider never blocks the API. Every replica
// runs one; the queue hands each job to one of them at a time.
type Dispatcher struct {
	Core *core.Service
	Log  *slog.Logger
	kick chan struct{}
}

// MaxAttempts bounds retries of a temporary failure.
const MaxAttempts = 6

// sendLease is how long a claimed job is hidden from other senders.
const sendLease = time.Minute

// NewDispatcher returns a dispatcher ready to Run.
func NewDispatcher(c *core.Service, log *slog.Logger) *Dispatcher {
	return &Dispatcher{Core: c, Log: log.With("comp", "sender"), kick: make(chan struct{}, 1)}
}

// Kick asks for a pass now.
func (d *Dispatcher) Kick() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends.
func (d *Dispatcher) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := d.Drain(ctx); err != nil && ctx.Err() == nil {
			d.Log.Error("send pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.kick:
		}
	}
}

// Drain sends every job that is due.
func (d *Dispatcher) Drain(ctx context.Context) error {
	for {
		// A few at a time, so every claimed job is sent well within its
		// lease (each send may take up to the HTTP client's 15 s timeout).
		jobs, err := d.Core.Queue.Claim(ctx, time.Now(), sendLease, 3)
		if err != nil || len(jobs) == 0 {
			return err
		}
		for _, j := range jobs {
			if err := d.send(ctx, j); err != nil {
				return err
			}
		}
	}
}

// backoff is 10 s, 20 s, 40 s … capped at 10 minutes.
func backoff(attempt int) time.Duration {
	d := 10 * time.Second << attempt
	return min(d, 10*time.Minute)
}

func (d *Dispatcher) send(ctx context.Context, j store.SendJob) error {
	c := d.Core
	switch {
	case j.Ticket != "":
		return d.sendCode(ctx, j)
	case j.Case != "" && j.Invitation == "": // a feedback case's answer
		return d.sendAnswer(ctx, j, nil)
	}
	inv, err := c.Invitation(ctx, j.Invitation)
	if core.CodeOf(err) == core.NotFound {
		return c.Queue.Done(ctx, j)
	}
	if err != nil {
		return err
	}
	if j.Case != "" {
		return d.sendAnswer(ctx, j, inv)
	}
	st := store.SendStatus{Attempts: j.Attempt + 1, At: time.Now()}
	reason, err := d.skip(ctx, inv)
	if err != nil {
		// Fail closed: no send without a "not opted out" answer. The job
		// stays claimed and is taken again when its lease ends.
		return fmt.Errorf("invitation %s: check the opt-out list: %w", inv.ID, err)
	}
	if reason != "" {
		st.Status, st.Error = store.SendSkipped, reason
		return d.finish(ctx, j, st)
	}
	ch, err := c.Channel(ctx, j.Channel)
	if err != nil {
		st.Status, st.Error = store.SendFailed, err.Error()
		return d.finish(ctx, j, st)
	}
	p, ok := ProviderOf(ch.Type)
	phone, perr := c.Phone(inv)
	if !ok || perr != nil || !ch.Enabled {
		st.Status, st.Error = store.SendFailed, "channel disabled, of an unknown type, or no phone"
		return d.finish(ctx, j, st)
	}
	render := RenderFor(ch)
	text := c.InviteText(inv, func(t survey.Text) string { return render(t, inv.Locale) })
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Text: text, Invitation: inv.ID, Dossier: inv.DossierCode, SurveyURL: c.SurveyURL(inv)})
	if err != nil {
		return d.failed(ctx, j, st, inv, err)
	}
	enc, parts := ch.Type, 0 // a template message is not an SMS
	if core.Family(ch.Type) == "sms" {
		enc, parts = survey.SMSParts(text)
		CountSent(ch.Type, "invite", parts)
	}
	st.Status, st.Parts = store.SendSent, parts
	if err := c.NoteSent(ctx, inv, core.Family(ch.Type)); err != nil {
		d.Log.Error("count the send in response rates", "invitation", inv.ID, "err", err)
	}
	msg := &store.Message{Channel: ch.ID, Invitation: inv.ID, Respondent: inv.Respondent, Kind: "invite", Encoding: enc, Parts: parts, ProviderID: pid,
		Text: c.Transcribed(inv, text)}
	if err := c.RecordSent(ctx, msg); err != nil {
		d.Log.Error("record sent message", "err", err)
	}
	return d.finish(ctx, j, st)
}

// skip says why an invitation must not be sent now, or ""; err when the
// opt-out list could not be read.
func (d *Dispatcher) skip(ctx context.Context, inv *store.Invitation) (string, error) {
	if st := inv.StatusAt(time.Now()); st != store.StatusPending && st != store.StatusInProgress {
		return "invitation is " + string(st), nil
	}
	if inv.Respondent != "" {
		out, err := d.Core.OptedOut(ctx, inv.Respondent)
		if err != nil {
			return "", err
		}
		if out {
			return "the number opted out", nil
		}
	}
	return "", nil
}

func (d *Dispatcher) failed(ctx context.Context, j store.SendJob, st store.SendStatus, inv *store.Invitation, err error) error {
	var se *SendError
	retry := errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts
	st.Error = err.Error()
	if se != nil && se.Fallback {
		return d.fallback(ctx, j, st, inv)
	}
	d.Log.Warn("send failed", "invitation", inv.ID, "channel", j.Channel, "attempt", j.Attempt+1, "retry", retry, "err", err)
	if !retry {
		st.Status = store.SendFailed
		return d.finish(ctx, j, st)
	}
	st.Status = store.SendRetrying
	if err := d.Core.Mongo.Invitations.SetSend(ctx, j.Invitation, j.Channel, st); err != nil {
		return err
	}
	return d.Core.Queue.Retry(ctx, j, time.Now().Add(backoff(j.Attempt)))
}

// fallback sends through the SMS channel instead, recording why.
func (d *Dispatcher) fallback(ctx context.Context, j store.SendJob, st store.SendStatus, inv *store.Invitation) error {
	st.Status = store.SendFallback
	sms, err := d.Core.ResolveChannel(ctx, "sms")
	if err != nil || len(inv.PhoneSealed) == 0 {
		st.Status = store.SendFailed
		st.Error += "; no SMS channel to fall back to"
		return d.finish(ctx, j, st)
	}
	st.Error += "; sent by SMS channel " + sms.ID + " instead"
	d.Log.Info("falling back to SMS", "invitation", inv.ID, "from", j.Channel, "to", sms.ID)
	if err := d.Core.Enqueue(ctx, inv, []*store.Channel{sms}); err != nil {
		return err
	}
	return d.finish(ctx, j, st)
}

// lockWait is how long a case's answer waits when someone else holds the
// case: the next pass after it tries again.
const lockWait = time.Second

// sendAnswer sends a follow-up case's answer to the citizen, with the
// invitation's checks on who may be written to (an opt-out stops it) and
// the same retries and cost accounting as an invitation. It runs under
// the case's lock, so the send and its record cannot interleave with an
// operator's change or a rating; a case someone else holds makes it wait
// for a later pass, neither lost nor sent twice. A feedback case's
// answer has no invitation (inv nil): it goes to the case's confirmed
// phone.
func (d *Dispatcher) sendAnswer(ctx context.Context, j store.SendJob, inv *store.Invitation) error {
	err := d.Core.HoldCase(ctx, j.Case, func(ctx context.Context) error { return d.answer(ctx, j, inv) })
	if errors.Is(err, store.ErrLocked) {
		return d.Core.Queue.Postpone(ctx, j, time.Now().Add(lockWait))
	}
	return err
}

// answer sends job j's answer, unless its provider took it before a cut
// (then only the record is finished), and records how it went.
func (d *Dispatcher) answer(ctx context.Context, j store.SendJob, inv *store.Invitation) error {
	c := d.Core
	cs, err := c.PendingAnswer(ctx, j)
	if err != nil {
		return err
	}
	if cs == nil {
		return c.Queue.Done(ctx, j) // superseded, never saved, or recorded already
	}
	o, err := c.TakenAnswer(ctx, j)
	if err != nil {
		return err
	}
	if o == nil {
		if o, err = d.deliverAnswer(ctx, j, inv, cs); err != nil || o == nil {
			return err // nil: a retry is queued
		}
	}
	if err := c.AnswerSent(ctx, cs, o); err != nil {
		return err
	}
	return c.Queue.Done(ctx, j)
}

// deliverAnswer hands the answer to its channel and, once the provider
// took it, marks the job so; nil (and no error) when a retry is queued.
func (d *Dispatcher) deliverAnswer(ctx context.Context, j store.SendJob, inv *store.Invitation, cs *store.Case) (*core.AnswerOutcome, error) {
	c := d.Core
	who := cs.Respondent
	if inv != nil {
		who = inv.Respondent
	}
	if out, err := c.OptedOut(ctx, who); err != nil {
		return nil, fmt.Errorf("case %s: check the opt-out list: %w", cs.ID, err)
	} else if out {
		return &core.AnswerOutcome{State: store.SendSkipped, Detail: "the citizen asked to hear no more"}, nil
	}
	ch, err := c.Channel(ctx, j.Channel)
	if err != nil {
		return &core.AnswerOutcome{State: store.SendFailed, Detail: err.Error()}, nil
	}
	var o *core.AnswerOutcome
	if inv == nil {
		o, err = d.sendFeedbackAnswer(ctx, ch, cs)
	} else {
		o, err = d.sendAnswerText(ctx, ch, inv, cs)
	}
	if err != nil {
		var se *SendError
		if errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts {
			d.Log.Warn("case answer not sent; will retry", "case", cs.ID, "attempt", j.Attempt+1, "err", err)
			return nil, c.Queue.Retry(ctx, j, time.Now().Add(backoff(j.Attempt)))
		}
		return &core.AnswerOutcome{State: store.SendFailed, Detail: err.Error()}, nil
	}
	if o.State != store.SendSent {
		return o, nil
	}
	o.Msg.ID = "a:" + j.ID // one record however often it is written
	if o.Msg.ProviderID != "" {
		o.Msg.ID = store.ProviderMessageID(ch.ID, o.Msg.ProviderID) // found by the delivery receipt
	}
	return o, c.TookAnswer(ctx, j, o)
}

// sendAnswerText sends the answer's text: back in the chat the survey was
// in, or by SMS. Failures of the provider are its error.
func (d *Dispatcher) sendAnswerText(ctx context.Context, ch *core.Channel, inv *store.Invitation, cs *store.Case) (*core.AnswerOutcome, error) {
	c := d.Core
	who := []string{inv.Respondent}
	p, ok := ProviderOf(ch.Type)
	if cp, chat := p.(ChatSender); ok && chat && ch.Enabled {
		_, user, err := c.Mongo.Links.ChatOf(ctx, inv.ID)
		if err != nil {
			return &core.AnswerOutcome{State: store.SendFailed, Detail: "no chat to answer in: " + err.Error()}, nil
		}
		text := c.AnswerText(inv, cs, func(t survey.Text, locale string) string { return pick(t, locale) })
		if err := cp.SendChat(ctx, Deps{Core: c, Log: d.Log}, ch, user, text); err != nil {
			return nil, err
		}
		who = append(who, c.Sealer.Hash(ch.Type+":"+user)) // the chat's own sender, when not linked to the phone
		msg := &store.Message{Channel: ch.ID, Invitation: inv.ID, Respondent: inv.Respondent, Kind: "answer", Encoding: "zalo", Text: text}
		return &core.AnswerOutcome{State: store.SendSent, Detail: ch.ID, Who: who, Msg: msg}, nil
	}
	phone, perr := c.Phone(inv)
	if !ok || perr != nil || !ch.Enabled {
		return &core.AnswerOutcome{State: store.SendFailed, Detail: "channel disabled, of an unknown type, or no phone"}, nil
	}
	text := c.AnswerText(inv, cs, RenderFor(ch))
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Text: text, Invitation: inv.ID, Dossier: inv.DossierCode})
	if err != nil {
		return nil, err
	}
	enc, parts := survey.SMSParts(text)
	CountSent(ch.Type, "answer", parts)
	msg := &store.Message{Channel: ch.ID, Invitation: inv.ID, Respondent: inv.Respondent, Kind: "answer", Encoding: enc, Parts: parts, ProviderID: pid, Text: text}
	return &core.AnswerOutcome{State: store.SendSent, Detail: ch.ID, Who: who, Msg: msg}, nil
}

func (d *Dispatcher) finish(ctx context.Context, j store.SendJob, st store.SendStatus) error {
	if err := d.Core.Mongo.Invitations.SetSend(ctx, j.Invitation, j.Channel, st); err != nil {
		return err
	}
	return d.Core.Queue.Done(ctx, j)
}

// pick is a text in a locale, with diacritics (chat channels carry Unicode).
func pick(t survey.Text, locale string) string {
	if locale == "en" {
		return t.EN
	}
	return t.VI
}

// RenderFor picks a channel's wording: English for English invitations;
// otherwise Vietnamese without diacritics (GSM-7, 160 characters a part)
// unless the channel's settings.unicode is true (core.SMSRender, which
// the case answers' part count uses too).
func RenderFor(ch *core.Channel) core.Render { return core.SMSRender(ch.Flag("unicode")) }
