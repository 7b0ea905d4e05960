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
		jobs, err := d.Core.Queue.Claim(ctx, d.Core.Now(), sendLease, 3)
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
		return d.sendCode(ctx, j) // asked for by the citizen: never held
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
	switch {
	case j.Case != "":
		return d.sendAnswer(ctx, j, inv)
	case j.Kind == store.SendKindReminder:
		return d.remind(ctx, j, inv)
	}
	now := c.Now()
	st := store.SendStatus{Attempts: j.Attempt + 1, At: now}
	reason, why, err := d.skip(ctx, inv)
	if err != nil {
		// Fail closed: no send without a "not opted out" answer. The job
		// stays claimed and is taken again when its lease ends.
		return fmt.Errorf("invitation %s: check the opt-out list: %w", inv.ID, err)
	}
	if reason != "" {
		st.Status, st.Reason, st.Error = store.SendSkipped, why, reason
		return d.finish(ctx, j, j.Channel, st)
	}
	ch, err := c.Channel(ctx, j.Channel)
	if err != nil {
		st.Status, st.Error = store.SendFailed, err.Error()
		return d.finishFailed(ctx, j, j.Channel, st, inv)
	}
	p, ok := ProviderOf(ch.Type)
	phone, perr := c.Phone(inv)
	if !ok || perr != nil || !ch.Enabled {
		st.Status, st.Error = store.SendFailed, "channel disabled, of an unknown type, or no phone"
		return d.finishFailed(ctx, j, j.Channel, st, inv)
	}
	family := core.Family(ch.Type)
	if at, why, err := d.gate(ctx, j, inv.AgencyCode, family, inv.Respondent, now); err != nil || !at.IsZero() {
		if err != nil {
			return err
		}
		return d.hold(ctx, j, j.Channel, st, at, why)
	}
	if family == "voice" {
		return d.call(ctx, j, inv, ch, p, phone, st, now)
	}
	render := RenderFor(ch)
	text := c.InviteText(inv, func(t survey.Text) string { return render(t, inv.Locale) })
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Text: text, Invitation: inv.ID, Dossier: inv.DossierCode, SurveyURL: c.SurveyURL(inv)})
	if err != nil {
		c.GiveBackMessage(ctx, inv.Respondent, core.SendOf(j), now)
		return d.failed(ctx, j, j.Channel, st, inv, err)
	}
	enc, parts := encodingOf(ch, text)
	if family == "sms" {
		CountSent(ch.Type, "invite", parts)
	}
	st.Status, st.Parts = store.SendSent, parts
	if err := c.NoteSent(ctx, inv, family); err != nil {
		d.Log.Error("count the send in response rates", "invitation", inv.ID, "err", err)
	}
	msg := inviteMessage(inv, ch, "invite", enc, parts, pid, c.Transcribed(inv, text))
	if err := c.RecordSent(ctx, msg); err != nil {
		d.Log.Error("record sent message", "err", err)
	}
	if at, ok := c.ReminderDue(inv, now); ok && inv.Status != store.StatusCompleted {
		rj := store.SendJob{ID: "r:" + inv.ID, Invitation: inv.ID, Kind: store.SendKindReminder}
		if _, err := c.Queue.EnqueueNX(ctx, rj, c.SendAt(ctx, inv.AgencyCode, family, rj.ID, at)); err != nil {
			d.Log.Error("schedule the invitation's reminder", "invitation", inv.ID, "err", err)
		}
	}
	return d.finish(ctx, j, j.Channel, st)
}

// encodingOf is how a message's text went out on ch: its encoding and SMS
// parts (a Zalo send to a phone is one ZNS template message, no parts).
func encodingOf(ch *core.Channel, text string) (enc string, parts int) {
	switch core.Family(ch.Type) {
	case "sms":
		return survey.SMSParts(text)
	case "zalo":
		return store.EncodingZNS, 0
	}
	return ch.Type, 0
}

// inviteMessage is the cost-log record of a message sent for inv, counted
// where the invitation's response rate is: its agency, creation month and
// survey.
func inviteMessage(inv *store.Invitation, ch *core.Channel, kind, enc string, parts int, pid, text string) *store.Message {
	return &store.Message{Channel: ch.ID, Invitation: inv.ID, Respondent: inv.Respondent, Kind: kind, Encoding: enc, Parts: parts,
		ProviderID: pid, Text: text, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey}
}

// gate says when job j, for a citizen of agency on family (phone who),
// may go if not now, and why it waits (store.ReasonSendHours or
// ReasonDailyLimit); zero: now, with one of the phone's messages of the
// day taken (GiveBackMessage returns it if the send fails).
func (d *Dispatcher) gate(ctx context.Context, j store.SendJob, agency, family, who string, now time.Time) (time.Time, string, error) {
	c := d.Core
	h := c.Hours(ctx, agency, family)
	if at := h.Later(now, j.ID, c.Calendar); at.After(now) {
		return at, store.ReasonSendHours, nil
	}
	ok, err := c.TakeMessage(ctx, who, core.SendOf(j), now)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("send job %s: %w", j.ID, err)
	}
	if !ok {
		return h.NextDay(now, j.ID, c.Calendar), store.ReasonDailyLimit, nil
	}
	return time.Time{}, "", nil
}

// hold records that the send under key waits until at, and why, and
// makes its job due then (a wait is not a failed attempt).
func (d *Dispatcher) hold(ctx context.Context, j store.SendJob, key string, st store.SendStatus, at time.Time, why string) error {
	st.Status, st.Reason, st.Attempts = store.SendQueued, why, j.Attempt
	when := at.In(core.Vietnam).Format("02/01/2006 15:04")
	if why == store.ReasonDailyLimit {
		st.Error = "waits until " + when + ": this phone had its messages of the day (GATEWAY_DAILY_MESSAGES)"
	} else {
		st.Error = "waits until " + when + ", when the send hours open"
	}
	if err := d.Core.Mongo.Invitations.SetSend(ctx, j.Invitation, key, st); err != nil {
		return err
	}
	return d.Core.Queue.Postpone(ctx, j, at)
}

// skip says why an invitation must not be sent now, or "", with the
// reason's code; err when the opt-out list could not be read.
func (d *Dispatcher) skip(ctx context.Context, inv *store.Invitation) (string, string, error) {
	switch st := inv.StatusAt(d.Core.Now()); st {
	case store.StatusPending, store.StatusInProgress:
	case store.StatusOptedOut:
		return "invitation is " + string(st), store.ReasonOptedOut, nil
	default:
		return "invitation is " + string(st), store.ReasonClosed, nil
	}
	if inv.Respondent != "" {
		out, err := d.Core.OptedOut(ctx, inv.Respondent)
		if err != nil {
			return "", "", err
		}
		if out {
			return "the number opted out", store.ReasonOptedOut, nil
		}
	}
	return "", "", nil
}

// remind sends invitation inv's one reminder on the channel that reached
// the citizen first, with the invitation's checks, inside the send hours
// and the phone's daily messages, never once inv is answered, closed or
// expired.
func (d *Dispatcher) remind(ctx context.Context, j store.SendJob, inv *store.Invitation) error {
	c := d.Core
	chID := reachedOn(inv, func(id string) bool { // a call is tried again on its own: no call reminds
		ch, err := c.Channel(ctx, id)
		return err == nil && core.Family(ch.Type) == "voice"
	})
	key := store.ReminderKey(chID)
	if prev, ok := inv.Sends[key]; chID == "" || inv.Status == store.StatusCompleted || ok && (prev.Status == store.SendSent || prev.Status == store.SendDelivered) {
		return c.Queue.Done(ctx, j) // nothing reached the citizen, they answered, or it went
	}
	now := c.Now()
	st := store.SendStatus{Kind: store.SendKindReminder, Channel: chID, Attempts: j.Attempt + 1, At: now}
	reason, why, err := d.skip(ctx, inv)
	if err != nil {
		return fmt.Errorf("reminder of %s: check the opt-out list: %w", inv.ID, err)
	}
	if reason != "" {
		st.Status, st.Reason, st.Error = store.SendSkipped, why, reason
		return d.finish(ctx, j, key, st)
	}
	ch, err := c.Channel(ctx, chID)
	p, ok := ProviderOf(channelType(ch))
	phone, perr := c.Phone(inv)
	if err != nil || !ok || perr != nil || !ch.Enabled {
		st.Status, st.Error = store.SendFailed, "channel deleted, disabled or of an unknown type, or no phone"
		return d.finish(ctx, j, key, st)
	}
	family := core.Family(ch.Type)
	at, why, err := d.gate(ctx, j, inv.AgencyCode, family, inv.Respondent, now)
	if err != nil {
		return err
	}
	if !at.IsZero() {
		if !at.Before(inv.ExpiresAt) {
			st.Status, st.Reason, st.Error = store.SendSkipped, why, "the invitation expires before the reminder could go"
			return d.finish(ctx, j, key, st)
		}
		return d.hold(ctx, j, key, st, at, why)
	}
	render := RenderFor(ch)
	text := c.ReminderText(inv, func(t survey.Text) string { return render(t, inv.Locale) })
	pid, err := p.Send(ctx, Deps{Core: c, Log: d.Log}, ch, Outgoing{To: phone, Text: text, Invitation: inv.ID, Dossier: inv.DossierCode, SurveyURL: c.SurveyURL(inv)})
	if err != nil {
		c.GiveBackMessage(ctx, inv.Respondent, core.SendOf(j), now)
		var se *SendError
		if errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts {
			st.Status, st.Error = store.SendRetrying, err.Error()
			if err := c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st); err != nil {
				return err
			}
			return c.Queue.Retry(ctx, j, now.Add(backoff(j.Attempt)))
		}
		st.Status, st.Error = store.SendFailed, err.Error()
		return d.finish(ctx, j, key, st)
	}
	enc, parts := encodingOf(ch, text)
	if family == "sms" {
		CountSent(ch.Type, "reminder", parts)
	}
	st.Status, st.Parts = store.SendSent, parts
	// Recorded before anything else: an answer from now on is an answer
	// after the reminder (the working copy is dropped so it reads this).
	if err := c.Mongo.Invitations.SetSend(ctx, inv.ID, key, st); err != nil {
		return err
	}
	if err := c.Reminded(ctx, inv, family); err != nil {
		d.Log.Error("count the reminder in the reach figures", "invitation", inv.ID, "err", err)
	}
	if err := c.RecordSent(ctx, inviteMessage(inv, ch, "reminder", enc, parts, pid, c.Transcribed(inv, text))); err != nil {
		d.Log.Error("record sent reminder", "err", err)
	}
	return c.Queue.Done(ctx, j)
}

// reachedOn is the channel an invitation's first successful send went
// through, of those not skipped ("" when none did).
func reachedOn(inv *store.Invitation, skip func(channel string) bool) string {
	id, first := "", time.Time{}
	for ch, st := range inv.Sends {
		if st.Kind == "" && (st.Status == store.SendSent || st.Status == store.SendDelivered) && (id == "" || st.At.Before(first)) && !skip(ch) {
			id, first = ch, st.At
		}
	}
	return id
}

func channelType(ch *core.Channel) string {
	if ch == nil {
		return ""
	}
	return ch.Type
}

func (d *Dispatcher) failed(ctx context.Context, j store.SendJob, key string, st store.SendStatus, inv *store.Invitation, err error) error {
	var se *SendError
	retry := errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts
	st.Error = err.Error()
	if se != nil && se.Fallback {
		return d.fallback(ctx, j, st, inv)
	}
	d.Log.Warn("send failed", "invitation", inv.ID, "channel", j.Channel, "attempt", j.Attempt+1, "retry", retry, "err", err)
	if !retry {
		st.Status = store.SendFailed
		return d.finishFailed(ctx, j, key, st, inv)
	}
	st.Status = store.SendRetrying
	if err := d.Core.Mongo.Invitations.SetSend(ctx, j.Invitation, key, st); err != nil {
		return err
	}
	return d.Core.Queue.Retry(ctx, j, d.Core.Now().Add(backoff(j.Attempt)))
}

// fallback sends through the SMS channel instead, recording why.
func (d *Dispatcher) fallback(ctx context.Context, j store.SendJob, st store.SendStatus, inv *store.Invitation) error {
	ok, err := FallBackToSMS(ctx, d.Core, inv, &st)
	if err != nil {
		return err
	}
	if !ok {
		return d.finishFailed(ctx, j, j.Channel, st, inv)
	}
	d.Log.Info("falling back to SMS", "invitation", inv.ID, "from", j.Channel, "why", st.Error)
	return d.finish(ctx, j, j.Channel, st)
}

// FallBackToSMS queues invitation inv on the SMS channel instead of one
// that could not reach the citizen (a Zalo user out of reach, a phone
// that never answered the calls), and says so in st, the send that
// failed: its status becomes fallback; false, and failed, when there is
// no SMS channel or no phone to fall back to.
func FallBackToSMS(ctx context.Context, c *core.Service, inv *store.Invitation, st *store.SendStatus) (bool, error) {
	sms, err := c.ResolveChannel(ctx, "sms")
	if err != nil || len(inv.PhoneSealed) == 0 {
		st.Status = store.SendFailed
		st.Error += "; no SMS channel to fall back to"
		return false, nil
	}
	st.Status = store.SendFallback
	st.Error += "; sent by SMS channel " + sms.ID + " instead"
	return true, c.Enqueue(ctx, inv, []*store.Channel{sms})
}

// finishFailed finishes an invitation's send that reached no one, and
// gives the phone's contact window back when no other send of it did.
func (d *Dispatcher) finishFailed(ctx context.Context, j store.SendJob, key string, st store.SendStatus, inv *store.Invitation) error {
	if err := d.finish(ctx, j, key, st); err != nil {
		return err
	}
	if inv.Sends == nil {
		inv.Sends = map[string]store.SendStatus{}
	}
	inv.Sends[key] = st
	d.Core.ReleaseContact(ctx, inv)
	return nil
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
		return d.Core.Queue.Postpone(ctx, j, d.Core.Now().Add(lockWait))
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
	agency, month, surveyID := cs.Agency, store.MonthOf(cs.OpenedAt), ""
	if inv != nil {
		agency, month, surveyID = inv.AgencyCode, store.MonthOf(inv.CreatedAt), inv.Survey
	}
	now := c.Now()
	if at, why, err := d.gate(ctx, j, agency, core.Family(ch.Type), who, now); err != nil || !at.IsZero() {
		if err != nil {
			return nil, err
		}
		d.Log.Info("case answer waits", "case", cs.ID, "until", at, "why", why)
		return nil, c.Queue.Postpone(ctx, j, at) // its rating is armed once it is sent
	}
	var o *core.AnswerOutcome
	if inv == nil {
		o, err = d.sendFeedbackAnswer(ctx, ch, cs)
	} else {
		o, err = d.sendAnswerText(ctx, ch, inv, cs)
	}
	if err != nil || o.State != store.SendSent {
		c.GiveBackMessage(ctx, who, core.SendOf(j), now)
	}
	if err != nil {
		var se *SendError
		if errors.As(err, &se) && se.Retryable() && j.Attempt+1 < MaxAttempts {
			d.Log.Warn("case answer not sent; will retry", "case", cs.ID, "attempt", j.Attempt+1, "err", err)
			return nil, c.Queue.Retry(ctx, j, c.Now().Add(backoff(j.Attempt)))
		}
		return &core.AnswerOutcome{State: store.SendFailed, Detail: err.Error()}, nil
	}
	if o.State != store.SendSent {
		return o, nil
	}
	o.Msg.Agency, o.Msg.Month, o.Msg.Survey = agency, month, surveyID // counted in the cost of its invitation
	o.Msg.ID = "a:" + j.ID                                            // one record however often it is written
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

func (d *Dispatcher) finish(ctx context.Context, j store.SendJob, key string, st store.SendStatus) error {
	if err := d.Core.Mongo.Invitations.SetSend(ctx, j.Invitation, key, st); err != nil {
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
