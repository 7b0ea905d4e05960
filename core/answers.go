package core

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A case's answer goes to the citizen in three steps, each under the
// case's lock: the answer is recorded with its send queued (the job
// first, so no answer is saved without one); the sender sends it and
// records it sent, with the rating armed, in one write of the case; the
// citizen's rating is taken once the case says sent. The send job is
// keyed by the case and its answer number: a job taken again after a cut
// finds the provider's acceptance marked and only finishes the record.

// caseLockTTL is how long a case's lock lasts unless its holder keeps it.
const caseLockTTL = 15 * time.Second

// HoldCase runs fn under the case's lock, kept while fn runs (fn's
// context ends if it is lost); store.ErrLocked when another holder has
// it (an operator's change, a rating, the sweep).
func (s *Service) HoldCase(ctx context.Context, id string, fn func(context.Context) error) error {
	lease, err := s.Locks.Acquire(ctx, "case:"+id, caseLockTTL)
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	ctx, stop := lease.Keep(ctx, caseLockTTL)
	defer stop()
	return fn(ctx)
}

// queueAnswer makes text c's next answer and queues its send, or says in
// the events it returns why it cannot be sent; the caller holds the
// case's lock and saves c. An answer past the case's limits (see
// AnswersPerDay, AnswerParts) is refused before anything changes; one
// that goes is noted on c, so the limit is checked and spent in the one
// versioned write that saves the answer. The job is queued before c is
// saved: a cut between the two leaves a job for an answer that never
// was, which the sender drops (PendingAnswer), never an answer without
// its send.
func (s *Service) queueAnswer(ctx context.Context, c *store.Case, text string, now time.Time) ([]store.CaseEvent, error) {
	pv, inv, ch, err := s.previewAnswer(ctx, c, text, now)
	if err != nil {
		return nil, err
	}
	if pv.Unsent == "" {
		if err := pv.check(now); err != nil {
			return nil, err
		}
	}
	c.Status, c.Answer, c.Rating = store.CaseAnswered, text, 0
	c.AnswerNo++
	if pv.Unsent != "" {
		c.AnswerSend = store.SendSkipped
		return []store.CaseEvent{{At: now, By: "gateway", Action: "answer_not_sent", Detail: pv.Unsent}}, nil
	}
	job := store.SendJob{ID: "case:" + c.ID + ":" + strconv.Itoa(c.AnswerNo), Channel: ch.ID, Case: c.ID, Answer: c.AnswerNo}
	if inv != nil { // a feedback case has none: its job names the case alone
		job.Invitation = inv.ID
	}
	if err := s.Queue.Enqueue(ctx, job, now); err != nil {
		return nil, Errorf(Unavailable, "", "the answer could not be queued for sending: %v; answer again", err)
	}
	c.AnswerSend = store.SendQueued
	noteSent(c, now)
	return nil, nil
}

// answerRoute is how a case's answer reaches the citizen: by SMS,
// whichever channel they answered on, when the invitation has a phone
// number; back in the chat a Zalo survey was in; otherwise why it cannot.
// A feedback case has no invitation: its answer goes by SMS to the phone
// its citizen confirmed, if any.
func (s *Service) answerRoute(ctx context.Context, c *store.Case) (*store.Invitation, *store.Channel, string, error) {
	if c.Feedback() {
		if len(c.ReplyPhoneSealed) == 0 {
			return nil, nil, "the citizen confirmed no phone number: the answer shows only on their feedback page (if they kept its link); reach them another way if their feedback says how", nil
		}
		ch, err := s.ResolveChannel(ctx, "sms")
		if err != nil {
			return nil, nil, "no SMS channel is enabled: " + err.Error(), nil
		}
		return nil, ch, "", nil
	}
	inv, err := s.invitationByID(ctx, c.InvitationID)
	if err != nil {
		return nil, nil, "", err
	}
	if c.Channel == "zalo" { // back to the chat the survey was in, if its channel is still on
		if id, _, err := s.Mongo.Links.ChatOf(ctx, inv.ID); err == nil {
			if zc, err := s.ResolveChannel(ctx, id); err == nil {
				return inv, zc, "", nil
			}
		}
	}
	if len(inv.PhoneSealed) == 0 {
		return inv, nil, "the invitation has no phone number (answered on the web without one); tell the citizen another way", nil
	}
	ch, err := s.ResolveChannel(ctx, "sms")
	if err != nil {
		return inv, nil, "no SMS channel is enabled: " + err.Error(), nil
	}
	return inv, ch, "", nil
}

// AnswerRoute says where c's answer would go: the channel's id and the
// phone, masked (empty for a chat), or why it would not be sent.
func (s *Service) AnswerRoute(ctx context.Context, c *store.Case) (channel, phone, why string, err error) {
	inv, ch, why, err := s.answerRoute(ctx, c)
	if err != nil || ch == nil {
		return "", "", why, err
	}
	switch {
	case c.Feedback():
		phone = c.ReplyPhone
	case Family(ch.Type) == "sms":
		if p, err := s.Phone(inv); err == nil {
			phone = survey.MaskPhone(p)
		}
	}
	return ch.ID, phone, "", nil
}

// AnswerText is a case's answer as the citizen receives it, with how to
// rate it.
func (s *Service) AnswerText(inv *store.Invitation, c *store.Case, render Render) string {
	agency := inv.AgencyName
	if agency == "" {
		agency = inv.AgencyCode
	}
	return render(survey.Text{
		VI: "Trả lời của " + agency + " về hồ sơ " + c.Dossier + ": " + c.Answer + " Ông/bà hài lòng với câu trả lời? Nhắn 1-5 (5=rất hài lòng).",
		EN: "Answer from " + agency + " about dossier " + c.Dossier + ": " + c.Answer + " Satisfied with this answer? Reply 1-5 (5=very satisfied).",
	}, inv.Locale)
}

// PendingAnswer is the case whose answer send job j carries, or nil when
// there is nothing (more) to send: the case is gone, was reopened,
// answered again or closed since, its answer was never saved, or the
// send is recorded already. The caller holds the case's lock.
func (s *Service) PendingAnswer(ctx context.Context, j store.SendJob) (*store.Case, error) {
	c, err := s.Mongo.Cases.Get(ctx, j.Case)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Status != store.CaseAnswered || c.AnswerNo != j.Answer || c.AnswerSend != store.SendQueued {
		return nil, nil
	}
	return c, nil
}

// AnswerOutcome is how sending a case's answer went.
type AnswerOutcome struct {
	State  store.SendState `json:"state"`
	Detail string          `json:"detail,omitempty"` // the channel, or why it failed
	// Who may rate it by a reply: the respondent, and a chat's own sender
	// when it is not linked to the phone.
	Who []string `json:"who,omitempty"`
	// Msg is the record of the message sent, with its id set, so writing
	// it again after a cut writes it once.
	Msg *store.Message `json:"msg,omitempty"`
}

// TookAnswer marks that the provider took job j's answer, right after it
// did: a sender that takes j again after a cut finishes it from there.
func (s *Service) TookAnswer(ctx context.Context, j store.SendJob, o *AnswerOutcome) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return s.Queue.Took(ctx, j.ID, b)
}

// TakenAnswer is what TookAnswer kept for job j, or nil when its answer
// was not taken yet.
func (s *Service) TakenAnswer(ctx context.Context, j store.SendJob) (*AnswerOutcome, error) {
	b, err := s.Queue.Taken(ctx, j.ID)
	if err != nil || b == nil {
		return nil, err
	}
	var o AnswerOutcome
	if err := json.Unmarshal(b, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// AnswerSent records how sending c's answer went (the caller holds the
// case's lock; c is PendingAnswer's). Sent, the answer awaits the
// citizen's rating: each sender is pointed at the case first, then one
// write of the case records it sent, which is what lets their reply
// rate it (see answerRateable). Run again, it changes nothing more.
func (s *Service) AnswerSent(ctx context.Context, c *store.Case, o *AnswerOutcome) error {
	if o.State == store.SendSent {
		if o.Msg != nil {
			if err := s.RecordSent(ctx, o.Msg); err != nil {
				return err
			}
		}
		for _, w := range o.Who {
			if w == "" {
				continue
			}
			if err := s.Conversations.AwaitRating(ctx, w, c.ID); err != nil {
				return err
			}
		}
	}
	c.AnswerSend = o.State
	c.History = append(c.History, store.CaseEvent{At: store.Millis(s.now()), By: "gateway", Action: "answer_" + string(o.State), Detail: o.Detail})
	return s.saveCase(ctx, c)
}

// answerRateable says whether a reply may rate c's answer now: it waits
// for a rating and was sent (not before: the citizen cannot have read it,
// and a later issue holds texts outside send hours).
func answerRateable(c *store.Case) bool {
	return c.Status == store.CaseAnswered && c.AnswerSend == store.SendSent
}

// sentAnswer says whether case id's answer was sent and waits for a
// rating (a reply's read, outside the case's lock).
func (s *Service) sentAnswer(ctx context.Context, id string) (bool, error) {
	c, err := s.Mongo.Cases.Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && answerRateable(c), err
}

// RateAnswer takes the citizen's rating of a case's answer on the survey's
// done page, which shows the answer: 4–5 closes the case, 1–3 reopens it
// with a new due time. A rating repeated (a provider delivering it
// again) changes nothing more.
func (s *Service) RateAnswer(ctx context.Context, caseID string, rating int) error {
	return s.rateAnswer(ctx, caseID, rating, func(c *store.Case) bool { return c.Status == store.CaseAnswered }, nil)
}

// RateAnswerOnWeb is RateAnswer from the done page of inv, by a client at
// address: the rating's history event carries the signals a web answer
// would raise from there (office_network, creator_address).
func (s *Service) RateAnswerOnWeb(ctx context.Context, inv *store.Invitation, caseID string, rating int, address string) error {
	flags, _ := store.AddFlags(nil, s.webFlags(ctx, inv, address, s.now())...)
	return s.rateAnswer(ctx, caseID, rating, func(c *store.Case) bool { return c.Status == store.CaseAnswered }, flags)
}

// rateAnswer rates case id's answer if may says so under the case's lock;
// flags go on the rating's event.
func (s *Service) rateAnswer(ctx context.Context, id string, rating int, may func(*store.Case) bool, flags []string) error {
	lease, err := s.Locks.Acquire(ctx, "case:"+id, caseLockTTL)
	if err != nil {
		return err
	}
	defer lease.Release(context.WithoutCancel(ctx))
	c, err := s.Mongo.Cases.Get(ctx, id)
	if err != nil {
		return err
	}
	if !may(c) {
		return nil // rated already, or reopened by hand meanwhile
	}
	now := store.Millis(s.now())
	c.Rating = rating
	c.History = append(c.History, store.CaseEvent{At: now, By: "citizen", Action: "rated", Detail: string(rune('0' + rating)), Flags: flags})
	if rating >= 4 {
		c.Status, c.ClosedAt = store.CaseClosed, &now
	} else { // the citizen's reopen gives the agency a new due time
		c.Status = store.CaseReopened
		c.History = append(c.History, store.CaseEvent{At: now, By: "citizen", Action: CaseReopen, Detail: s.reopenDue(c, true, now)})
	}
	if err := s.saveCase(ctx, c); err != nil {
		return err
	}
	n := 0
	for _, e := range c.History {
		if e.Action == "rated" {
			n++
		}
	}
	return s.noteCase(ctx, c.RatingEvent(n, string(rune('0'+rating))))
}
