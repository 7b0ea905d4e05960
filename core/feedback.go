package core

import (
	"cmp"
	"context"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A suggestion box (hòm thư góp ý) takes a citizen's góp ý, phản ánh or
// kiến nghị on the agency's feedback page. Each opens a follow-up case of
// kind feedback, answered like a response's case but with no response or
// invitation behind it: nothing of it reaches the index.

// FeedbackTypes are the kinds of feedback a citizen picks: góp ý,
// phản ánh, kiến nghị.
var FeedbackTypes = []string{"suggestion", "complaint", "recommendation"}

// feedbackPrefix starts a feedback's reference number, by type.
var feedbackPrefix = map[string]string{"suggestion": "GY", "complaint": "PA", "recommendation": "KN"}

// feedbackNames are the types as the citizen's texts name them.
var feedbackNames = map[string]survey.Text{
	"suggestion":     {VI: "góp ý", EN: "suggestion"},
	"complaint":      {VI: "phản ánh", EN: "complaint"},
	"recommendation": {VI: "kiến nghị", EN: "recommendation"},
}

// MaxFeedback bounds a feedback's text, in characters (a phone number it
// gave, once redacted, counts as one).
const MaxFeedback = 2000

// maxFeedbackBytes bounds the text read at all: beyond it the text is too
// long whatever it holds, and is not cleaned.
const maxFeedbackBytes = 4 * 4 * MaxFeedback

// FeedbackInput is what a citizen posts on the feedback page.
type FeedbackInput struct {
	Type, Text, Phone, Dossier string
	// Nonce is the form's one-time field: the same form posted again is
	// the same feedback.
	Nonce  string
	Locale string
	// Address is the client's address, for the rate limit; never kept.
	Address string
	// Channel is where it came: web (the page, the default) or paper (a
	// suggestion-box slip an operator typed).
	Channel string
}

// FeedbackProblem is what is wrong with one field of a feedback form.
type FeedbackProblem struct {
	Field   string // type, text, phone, dossier_code
	Problem string // required, too_long, invalid
	Length  int    // too_long: the text's length in characters
}

// FeedbackProblems are a form's problems, in the form's order; as an
// error, an invalid_argument naming the first field.
type FeedbackProblems []FeedbackProblem

func (p FeedbackProblems) Error() string {
	parts := make([]string, len(p))
	for i, e := range p {
		parts[i] = e.Field + ": " + e.Problem
	}
	return strings.Join(parts, "; ")
}

// CheckFeedback cleans a feedback form and says what is wrong with it:
// the text through survey.CleanCitizenText (phone numbers in it are
// redacted), the phone to its canonical form.
func CheckFeedback(in FeedbackInput) (FeedbackInput, string, FeedbackProblems) {
	var out FeedbackProblems
	if !slices.Contains(FeedbackTypes, in.Type) {
		out = append(out, FeedbackProblem{Field: "type", Problem: "required"})
	}
	if len(in.Text) > maxFeedbackBytes {
		out = append(out, FeedbackProblem{Field: "text", Problem: "too_long", Length: utf8.RuneCountInString(in.Text)})
	} else {
		in.Text = survey.CleanCitizenText(in.Text)
		n := utf8.RuneCountInString(in.Text) - strings.Count(in.Text, survey.PhoneMark)*(utf8.RuneCountInString(survey.PhoneMark)-1)
		switch {
		case in.Text == "":
			out = append(out, FeedbackProblem{Field: "text", Problem: "required"})
		case n > MaxFeedback:
			out = append(out, FeedbackProblem{Field: "text", Problem: "too_long", Length: n})
		}
	}
	phone := ""
	if strings.TrimSpace(in.Phone) != "" {
		p, err := survey.CanonicalPhone(in.Phone)
		if err != nil {
			out = append(out, FeedbackProblem{Field: "phone", Problem: "invalid"})
		}
		phone = p
	}
	in.Dossier = strings.TrimSpace(in.Dossier)
	if in.Dossier != "" && !dossierRe.MatchString(in.Dossier) {
		out = append(out, FeedbackProblem{Field: "dossier_code", Problem: "invalid"})
	}
	in.Locale = lang(in.Locale)
	return in, phone, out
}

func lang(l string) string {
	if l == "en" {
		return "en"
	}
	return "vi"
}

// FeedbackReceipt is what a citizen gets for a feedback: the ticket of
// their thank-you page and the case's reference number.
type FeedbackReceipt struct {
	Ticket, Reference string
}

// SubmitFeedback takes a citizen's feedback for agency ag: it opens the
// follow-up case and, when a phone was given, texts it a one-time code
// (see feedbackphone.go). The same form posted again answers with the
// same receipt and changes nothing. Bad input is FeedbackProblems; over a
// rate limit, rate_limited.
func (s *Service) SubmitFeedback(ctx context.Context, ag *store.Agency, in FeedbackInput) (*FeedbackReceipt, error) {
	in, phone, problems := CheckFeedback(in)
	if len(problems) > 0 {
		return nil, problems
	}
	if _, err := qr.ParseToken(in.Nonce); err != nil {
		in.Nonce = string(qr.NewToken()) // a form without one: no repeat to know
	}
	ticket := s.feedbackTicket(in.Nonce)
	if tk, _, err := s.Feedback.Ticket(ctx, ticket); err == nil && tk.Agency == ag.Code {
		return &FeedbackReceipt{Ticket: ticket, Reference: tk.Case}, nil // posted again
	} else if err == nil {
		in.Nonce = string(qr.NewToken())
		ticket = s.feedbackTicket(in.Nonce)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := s.limited(ctx, "feedback:ip:"+in.Address, s.FeedbackRate, time.Hour, "", "feedback from this address"); err != nil {
		return nil, err
	}
	if err := s.limited(ctx, "feedback:agency:"+ag.Code, s.FeedbackAgencyRate, time.Hour, "", "feedback for this agency"); err != nil {
		return nil, err
	}
	c, err := s.openFeedback(ctx, ag, in)
	if err != nil {
		return nil, err
	}
	if err := s.keepTicket(ctx, ticket, c, ag, phone); err != nil {
		return nil, err
	}
	return &FeedbackReceipt{Ticket: ticket, Reference: c.ID}, nil
}

// feedbackTicket is the ticket of the form whose one-time field is nonce:
// unguessable without it, the same for the same form.
func (s *Service) feedbackTicket(nonce string) string {
	return base64.RawURLEncoding.EncodeToString(s.Sealer.Tag("feedback-ticket/v1", nonce)[:12])
}

var refB32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// feedbackRef is the reference number of the form whose one-time field
// is nonce (try: 0, or another after a clash): the type's prefix, the
// day (Vietnam time) and 40 bits, e.g. GY261128-K5QW3ZB7. It is the
// case's id, so a citizen who reads it out leads the office to the case.
func (s *Service) feedbackRef(typ, nonce string, at time.Time, try int) string {
	tag := s.Sealer.Tag("feedback-case/v1", fmt.Sprintf("%s\x00%d", nonce, try))
	return feedbackPrefix[typ] + at.In(Vietnam).Format("060102") + "-" + refB32.EncodeToString(tag[:5])
}

// openFeedback opens the feedback's case, once per form: indexed as open
// first (a case missing from that index would hide from the work list),
// then stored, then counted in the case figures and told to the agency's
// webhook (each once, however often this runs for one form).
func (s *Service) openFeedback(ctx context.Context, ag *store.Agency, in FeedbackInput) (*store.Case, error) {
	now := store.Millis(s.now())
	days, err := s.dueDays(ctx, ag.Code)
	if err != nil {
		return nil, err
	}
	due := now.AddDate(0, 0, days)
	if s.Calendar != nil {
		due = store.Millis(s.Calendar.Due(now, days))
	}
	submission := s.Sealer.Hash("feedback-form\x00" + in.Nonce)
	c := &store.Case{Kind: store.CaseFeedback, FeedbackType: in.Type, Agency: ag.Code, Channel: cmp.Or(in.Channel, "web"),
		Comment: in.Text, Low: []string{}, Reason: store.CaseFeedback, Status: store.CaseOpen, OpenedAt: now, DueAt: due,
		GivenDossier: in.Dossier, Locale: in.Locale, Submission: submission,
		History: []store.CaseEvent{{At: now, By: "citizen", Action: "opened", Detail: store.CaseFeedback + " " + in.Type}}}
	if s.Topics != nil {
		c.Topics = s.Topics.Classify(in.Text)
	}
	for try := 0; ; try++ {
		c.ID = s.feedbackRef(in.Type, in.Nonce, now, try)
		if s.OpenCases != nil {
			if err := s.OpenCases.Add(ctx, c); err != nil {
				return nil, err
			}
		}
		created, err := s.Mongo.Cases.OpenFeedback(ctx, s.Locks, c)
		if err != nil {
			return nil, err
		}
		if created {
			break
		}
		old, err := s.Mongo.Cases.Get(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if old.Submission == submission {
			c = old // this form's, opened before a cut
			break
		}
		if try == 3 {
			return nil, fmt.Errorf("open feedback case: reference %s taken", c.ID)
		}
	}
	if err := s.noteCase(ctx, c.OpenedEvent()); err != nil {
		return nil, err
	}
	if ag.Webhook != nil && s.Notices != nil {
		if err := s.Notices.AddOnce(ctx, store.NoticeEntry("case.opened", ag.Code, c, s.now())); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// dueDays is how many working days agency code has to answer a case: its
// case rule's, or the nearest ancestor's, or the default, as for a
// response's case (a rule that opens no case for responses still leaves
// a feedback its case: the citizen asked for one).
func (s *Service) dueDays(ctx context.Context, code string) (int, error) {
	for c, hops := code, 0; c != "" && hops < 32; hops++ {
		ag, err := s.Mongo.Agencies.Agency(ctx, c)
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil {
			return 0, err
		}
		if ag.CaseRule != nil {
			return ag.CaseRule.Effective().DueDays, nil
		}
		c = ag.Parent
	}
	return store.DefaultCaseRule.DueDays, nil
}

// FeedbackAnswerText is a feedback case's answer as the citizen receives
// it, with how to rate it.
func (s *Service) FeedbackAnswerText(ctx context.Context, c *store.Case, render Render) string {
	agency := s.feedbackSender(ctx, c.Agency)
	name := feedbackNames[c.FeedbackType]
	return render(survey.Text{
		VI: "Trả lời của " + agency + " về " + name.VI + " " + c.ID + ": " + c.Answer + " Ông/bà hài lòng với câu trả lời? Nhắn 1-5 (5=rất hài lòng).",
		EN: "Answer from " + agency + " to your " + name.EN + " " + c.ID + ": " + c.Answer + " Satisfied with this answer? Reply 1-5 (5=very satisfied).",
	}, c.Locale)
}

// feedbackSender names agency code in texts to citizens: its short name,
// else its name, else the code.
func (s *Service) feedbackSender(ctx context.Context, code string) string {
	name, short, _, err := s.agencyName(ctx, code)
	switch {
	case err == nil && short != "":
		return short
	case err == nil && name != "":
		return name
	}
	return code
}
