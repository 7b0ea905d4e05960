package core

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// What one case may send the citizen. An operator's answer rings a
// citizen's phone, so answer, reopen and answer again cannot make it ring
// without end, nor can a long answer cost ten SMS. Both are checked where
// the operator answers, under the case's lock, and the sends are recorded
// on the case in the same versioned write as the answer: two answers at
// once cannot both pass. The per-citizen cap across every message
// (GATEWAY_DAILY_MESSAGES, a later issue) belongs where each message is
// sent, the send queue, keyed by the respondent: it sits on top of these,
// holding a send these let through, never letting one through they refuse.
const (
	// AnswersPerDay is how many answers one case may send the citizen
	// in any 24 hours.
	AnswersPerDay = 2
	// AnswerParts is the most SMS parts one answer may take as it is sent:
	// the greeting, the answer and the rating line, without diacritics
	// unless the channel sends Unicode.
	AnswerParts = 3
)

// answerWindow is the "day" of AnswersPerDay: a rolling one, so two at
// 23:59 and two more at 00:01 are not four in two minutes.
const answerWindow = 24 * time.Hour

// SMSRender is the wording an SMS channel sends: English for English
// invitations; otherwise Vietnamese without diacritics (GSM-7, 160
// characters a part) unless the channel sends Unicode.
func SMSRender(unicode bool) Render {
	return func(t survey.Text, locale string) string {
		switch {
		case locale == "en":
			return t.EN
		case unicode:
			return t.VI
		}
		return t.Plain()
	}
}

// AnswerPreview is how an answer would reach the citizen, shown before it
// is sent.
type AnswerPreview struct {
	Text       string // the whole message, as the citizen gets it
	Characters int
	Channel    string // the channel's id; empty when it cannot be sent
	SMS        bool   // by SMS, and so counted in parts (else a chat)
	Encoding   string // GSM-7 or UCS-2, for SMS
	Parts      int
	MaxParts   int
	Unsent     string // why it would not be sent, if it would not
	// Left is how many more answers the case may send now; once none,
	// NextAt is when one more may go.
	Left   int
	NextAt time.Time
}

// PreviewAnswer shows how text would reach the citizen as the case's
// answer: the message as sent, its SMS parts and encoding, and how many
// answers the case may still send. It changes nothing.
func (s *Service) PreviewAnswer(ctx context.Context, p *Principal, id string, in CaseInput) (*AnswerPreview, error) {
	text, err := checkCaseInput(p, CaseAnswer, in)
	if err != nil {
		return nil, err
	}
	c, err := s.Case(ctx, p, id)
	if err != nil {
		return nil, err
	}
	pv, _, _, err := s.previewAnswer(ctx, c, text, s.now())
	return pv, err
}

// previewAnswer is how text would go out as c's answer at now, with the
// invitation and channel it would go by.
func (s *Service) previewAnswer(ctx context.Context, c *store.Case, text string, now time.Time) (*AnswerPreview, *store.Invitation, *store.Channel, error) {
	inv, ch, why, err := s.answerRoute(ctx, c)
	if err != nil {
		return nil, nil, nil, err
	}
	pv := &AnswerPreview{MaxParts: AnswerParts, Unsent: why}
	pv.Left, pv.NextAt = AnswersLeft(c, now)
	draft := *c
	draft.Answer = text
	render := func(t survey.Text, locale string) string { return pickText(t, locale) } // a chat carries Unicode
	if ch != nil {
		pv.Channel = ch.ID
		pv.SMS = Family(ch.Type) == "sms"
		if pv.SMS {
			unicode, _ := ch.Settings["unicode"].(bool)
			render = SMSRender(unicode)
		}
	}
	if c.Feedback() {
		pv.Text = s.FeedbackAnswerText(ctx, &draft, render)
	} else {
		pv.Text = s.AnswerText(inv, &draft, render)
	}
	pv.Characters = utf8.RuneCountInString(pv.Text)
	if pv.SMS {
		pv.Encoding, pv.Parts = survey.SMSParts(pv.Text)
	}
	return pv, inv, ch, nil
}

func pickText(t survey.Text, locale string) string {
	if locale == "en" {
		return t.EN
	}
	return t.VI
}

// AnswersLeft is how many more answers c may send the citizen at now and,
// when none, when one more may go.
func AnswersLeft(c *store.Case, now time.Time) (int, time.Time) {
	recent := recentSends(c.AnswersSent, now)
	if len(recent) < AnswersPerDay {
		return AnswersPerDay - len(recent), time.Time{}
	}
	return 0, recent[len(recent)-AnswersPerDay].Add(answerWindow)
}

// recentSends are the sends within the window before now, oldest first.
func recentSends(sent []time.Time, now time.Time) []time.Time {
	var out []time.Time
	for _, t := range sent {
		if now.Sub(t) < answerWindow {
			out = append(out, t)
		}
	}
	return out
}

// check refuses an answer that would go out past the case's limits: a
// third in 24 hours is a 429 saying when the next may go (time, not a
// change of the case, lets it through: so not a 409); one over
// AnswerParts SMS parts is a 400 with the count.
func (pv *AnswerPreview) check(now time.Time) error {
	if pv.Left == 0 {
		e := Errorf(RateLimited, "text", "this case's answers went to the citizen %d times in the last 24 hours, the most a case may send; answer again after %s (Vietnam time), or reach the citizen another way",
			AnswersPerDay, pv.NextAt.In(Vietnam).Format("2006-01-02 15:04"))
		e.RetryAfter = pv.NextAt.Sub(now)
		return e
	}
	if pv.SMS && pv.Parts > pv.MaxParts {
		fix := "shorten it"
		if pv.Encoding == "UCS-2" {
			fix = "shorten it, or leave out what GSM-7 lacks (emoji, symbols, letters with diacritics) so that a part holds 153 characters, not 67"
		}
		return Errorf(Invalid, "text", "the answer would go out as %d SMS parts (%s, %d characters with the greeting and the rating line); an answer may take at most %d: %s",
			pv.Parts, pv.Encoding, pv.Characters, pv.MaxParts, fix)
	}
	return nil
}

// noteSent records on c that an answer goes to the citizen at now,
// keeping only the sends the limit still counts.
func noteSent(c *store.Case, now time.Time) {
	c.AnswersSent = append(recentSends(c.AnswersSent, now), now)
}
