package core

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A feedback's phone is kept only once its citizen shows they hold it:
// the gateway texts it a one-time code through the SMS channel the
// invitations use, and the thank-you page takes the code back. The text
// holds the code and nothing the form's writer chose, so whoever types a
// stranger's number makes the gateway send that stranger a code, never a
// message; and codes are limited per number (FeedbackCodes a day), per
// address and agency (through the feedback limits). Until the code comes
// back the number waits in Redis, sealed, for store.PhoneTTL; confirmed,
// it moves to the case, sealed, and the case's answer goes to it by SMS.
// Unconfirmed, the case is answered in the console (and on the thank-you
// page) only.
const (
	// CodeTTL is how long a one-time code may be typed.
	CodeTTL = 10 * time.Minute
	// CodeTries is how many times one code may be typed.
	CodeTries = 3
)

// codesWindow is the "day" of FeedbackCodes.
const codesWindow = 24 * time.Hour

// keepTicket keeps the thank-you page's ticket of case c and, for a
// phone, sends its first code (or says on the ticket why none can go).
func (s *Service) keepTicket(ctx context.Context, ticket string, c *store.Case, ag *store.Agency, phone string) error {
	tk := store.FeedbackTicket{ID: ticket, Case: c.ID, Agency: ag.Code, Lang: c.Locale}
	var pending *store.PendingPhone
	if phone != "" {
		tk.Mask = survey.MaskPhone(phone)
		if ch, err := s.ResolveChannel(ctx, "sms"); err != nil {
			tk.Phone, tk.Why = store.PhoneUnsent, "channel"
		} else {
			tk.Phone = store.PhonePending
			pending = &store.PendingPhone{Sealed: s.Sealer.Seal(phone), Hash: s.Sealer.Hash(phone), Channel: ch.ID}
		}
	}
	created, err := s.Feedback.Create(ctx, tk, pending)
	if err != nil || !created || pending == nil {
		return err
	}
	err = s.sendCode(ctx, ticket, pending)
	var e *Error
	if errors.As(err, &e) && e.Code == RateLimited {
		return s.Feedback.Unsent(ctx, ticket, "limit")
	}
	return err
}

// sendCode makes a new one-time code for the ticket's phone and queues
// its text; rate_limited when the number had its codes for the day.
func (s *Service) sendCode(ctx context.Context, ticket string, p *store.PendingPhone) error {
	if err := s.limited(ctx, "feedback:codes:"+p.Hash, s.FeedbackCodes, codesWindow, "code", "codes to this number"); err != nil {
		return err
	}
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return err
	}
	code := fmt.Sprintf("%06d", n.Int64())
	no, err := s.Feedback.IssueCode(ctx, ticket, s.Sealer.Seal(code), s.codeHash(ticket, code), s.now().Add(CodeTTL))
	if err != nil || no == 0 {
		return err
	}
	job := store.SendJob{ID: "fbcode:" + ticket + ":" + strconv.Itoa(no), Channel: p.Channel, Ticket: ticket, Code: no}
	if err := s.Queue.Enqueue(ctx, job, s.now()); err != nil {
		return Errorf(Unavailable, "", "the code could not be queued for sending: %v; ask for it again", err)
	}
	if s.Queued != nil {
		s.Queued()
	}
	return nil
}

func (s *Service) codeHash(ticket, code string) string {
	return s.Sealer.Hash("feedback-code\x00" + ticket + "\x00" + code)
}

// FeedbackStatus is a thank-you page's state, for its page.
type FeedbackStatus struct {
	Reference, Lang string
	// Phone is the phone's state (store.PhoneNone, PhonePending, …),
	// Mask the number masked, Why why no code went (limit, channel,
	// expired).
	Phone, Mask, Why string
	// CodeSent says a code waits to be typed.
	CodeSent bool
	// Answer is the agency's answer, once it has one.
	Answer string
}

// FeedbackTicket is the state of ticket's thank-you page on agency ag's
// feedback page: not_found for a ticket unknown, expired or another
// agency's. A confirmation cut short is finished here; a phone left
// unconfirmed past store.PhoneTTL is marked so.
func (s *Service) FeedbackTicket(ctx context.Context, ag *store.Agency, ticket string) (*FeedbackStatus, error) {
	tk, p, err := s.ticketOf(ctx, ag, ticket)
	if err != nil {
		return nil, err
	}
	switch {
	case tk.Phone == store.PhoneConfirming && p != nil:
		if err := s.confirmPhone(ctx, tk, p); err != nil {
			return nil, err
		}
		tk.Phone = store.PhoneConfirmed
	case (tk.Phone == store.PhonePending || tk.Phone == store.PhoneConfirming) && p == nil:
		if err := s.Feedback.Unsent(ctx, ticket, "expired"); err != nil {
			return nil, err
		}
		tk.Phone, tk.Why = store.PhoneUnsent, "expired"
	}
	st := &FeedbackStatus{Reference: tk.Case, Lang: tk.Lang, Phone: tk.Phone, Mask: tk.Mask, Why: tk.Why}
	st.CodeSent = p != nil && p.CodeHash != "" && s.now().Before(p.Expires)
	if !s.Health.Down() {
		if c, err := s.Mongo.Cases.Get(ctx, tk.Case); err == nil && c.Answer != "" {
			st.Answer = c.Answer
		} else {
			s.Health.Note(err)
		}
	}
	return st, nil
}

// ticketOf reads ticket of agency ag's feedback page: not_found for a
// ticket unknown, expired or another agency's.
func (s *Service) ticketOf(ctx context.Context, ag *store.Agency, ticket string) (*store.FeedbackTicket, *store.PendingPhone, error) {
	tk, p, err := s.Feedback.Ticket(ctx, ticket)
	if errors.Is(err, store.ErrNotFound) || (err == nil && tk.Agency != ag.Code) {
		return nil, nil, Errorf(NotFound, "", "unknown feedback ticket")
	}
	return tk, p, err
}

// ConfirmFeedbackPhone takes the code typed on ticket's thank-you page and
// says how it went (store.CodeRight, CodeWrong…); right, the case gets
// the phone. A code that is not six digits spends no try: "malformed".
func (s *Service) ConfirmFeedbackPhone(ctx context.Context, ag *store.Agency, ticket, code string) (string, error) {
	if _, _, err := s.ticketOf(ctx, ag, ticket); err != nil {
		return "", err
	}
	if len(code) != 6 || !digits(code) {
		return "malformed", nil
	}
	out, err := s.Feedback.CheckCode(ctx, ticket, s.codeHash(ticket, code), s.now(), CodeTries)
	if err != nil || out != store.CodeRight {
		return out, err
	}
	tk, p, err := s.Feedback.Ticket(ctx, ticket)
	if err != nil {
		return "", err
	}
	if tk.Phone == store.PhoneConfirmed || p == nil {
		return out, nil // confirmed already, or the phone went meanwhile (the page says which)
	}
	return out, s.confirmPhone(ctx, tk, p)
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// confirmPhone gives the ticket's case its confirmed phone, then marks the
// ticket confirmed (which drops the pending phone): cut between the two,
// the page's next view does it again.
func (s *Service) confirmPhone(ctx context.Context, tk *store.FeedbackTicket, p *store.PendingPhone) error {
	var err error
	// An operator's change, or the same code posted twice at once, holds
	// the case a moment: wait for it rather than fail the citizen.
	for try := 0; try < 20; try++ {
		err = s.HoldCase(ctx, tk.Case, func(ctx context.Context) error {
			return s.Mongo.Cases.SetReplyPhone(ctx, tk.Case, p.Sealed, p.Hash, tk.Mask, s.now())
		})
		if !errors.Is(err, store.ErrLocked) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if errors.Is(err, store.ErrLocked) || errors.Is(err, store.ErrCaseChanged) {
		return Errorf(Unavailable, "", "the case is being changed; try again in a moment")
	}
	if err != nil {
		return err
	}
	return s.Feedback.Confirmed(ctx, tk.ID)
}

// ResendFeedbackCode sends ticket's phone a new code in place of the one
// before: rate_limited once the number had its codes for the day;
// conflict when no phone waits.
func (s *Service) ResendFeedbackCode(ctx context.Context, ag *store.Agency, ticket string) error {
	tk, p, err := s.ticketOf(ctx, ag, ticket)
	if err != nil {
		return err
	}
	if tk.Phone != store.PhonePending || p == nil {
		return Errorf(Conflict, "", "no phone waits for a code")
	}
	return s.sendCode(ctx, ticket, p)
}

// FeedbackCode is what the sender needs to text a one-time code: the
// number (and its keyed hash), the code, the agency's short name and
// the citizen's language.
type FeedbackCode struct {
	Phone, Code, Agency, Lang, Respondent string
}

// CodeToSend is job j's code, or nil when it is no longer the ticket's to
// send: a newer one replaced it, it was spent or expired, or the phone
// was confirmed or is gone.
func (s *Service) CodeToSend(ctx context.Context, j store.SendJob) (*FeedbackCode, error) {
	tk, p, err := s.Feedback.Ticket(ctx, j.Ticket)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if tk.Phone != store.PhonePending || p == nil || p.CodeNo != j.Code || p.CodeHash == "" || !s.now().Before(p.Expires) {
		return nil, nil
	}
	phone, err := s.Sealer.Open(p.Sealed)
	if err != nil {
		return nil, err
	}
	code, err := s.Sealer.Open(p.CodeSealed)
	if err != nil {
		return nil, err
	}
	name, short, _, err := s.agencyName(ctx, tk.Agency)
	if err != nil {
		return nil, err
	}
	if short == "" && len([]rune(name)) <= MaxShortName {
		short = name
	}
	return &FeedbackCode{Phone: phone, Code: code, Agency: short, Lang: tk.Lang, Respondent: p.Hash}, nil
}

// CodeText is the text that carries a one-time code: the code, how long
// it lasts and what to do if the feedback was not theirs; nothing a
// citizen typed. It fits one SMS part without diacritics.
func CodeText(fc *FeedbackCode, render Render) string {
	from := ""
	if fc.Agency != "" {
		from = fc.Agency + ": "
	}
	return render(survey.Text{
		VI: from + "Mã xác nhận số điện thoại nhận trả lời góp ý: " + fc.Code + " (hiệu lực 10 phút). Nếu ông/bà không gửi góp ý, xin bỏ qua tin này.",
		EN: from + "Code to confirm your phone for the answer to your feedback: " + fc.Code + " (valid 10 minutes). If you sent no feedback, ignore this message.",
	}, fc.Lang)
}
