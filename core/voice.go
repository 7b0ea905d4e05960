package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// A survey by phone call: the citizen hears a greeting naming the office
// and the end of the dossier's code, then one question per criterion of
// the short form, and answers each with one key (1–5, 0 = no opinion).
// The progress is kept per invitation (store.Calls), so a call cut
// halfway resumes at the next question on the next call; each keypress
// webhook carries the step it answers, so a provider's retry changes
// nothing. The answers are handed to Complete once, like any channel's.

// Prompt is one thing a call says: the name of a recording the province
// may upload, and the words the provider's voice says when none was.
type Prompt struct {
	Name string
	Text string
}

// Prompt names. Each question's is PromptQuestion + its id in lower case
// ("question_a"); PromptDossier names the dossier and office, which no
// recording can say: it is always spoken.
const (
	PromptGreeting = "greeting"
	PromptDossier  = "dossier"
	PromptQuestion = "question_"
	PromptScale    = "scale"
	PromptRepeat   = "repeat"
	PromptResume   = "resume"
	PromptThanks   = "thanks"
	PromptClosed   = "closed"
	PromptNoSurvey = "no_survey"
	CallMaxRepeats = 2 // a question is asked again this often on silence or a wrong key
	callFamily     = "voice"
)

// PromptNames are the names a recording may be uploaded under for a
// survey's calls.
func (s *Service) PromptNames(surveyID string) []string {
	names := []string{PromptGreeting}
	for _, q := range s.ChatSurvey(surveyID).Questions {
		names = append(names, PromptQuestion+strings.ToLower(string(q.ID)))
	}
	return append(names, PromptScale, PromptRepeat, PromptResume, PromptThanks, PromptClosed, PromptNoSurvey)
}

// CallTurn is what a call does next: say the prompts, then wait for one
// key (Gather) and post it with Step, or hang up.
type CallTurn struct {
	Say    []Prompt
	Gather bool
	Step   int
	Locale string
}

// callTexts are the call's fixed words.
var callTexts = map[string]survey.Text{
	PromptGreeting: {VI: "Xin chào. Đây là cuộc gọi khảo sát sự hài lòng của người dân về dịch vụ hành chính công.",
		EN: "Hello. This is a call about your satisfaction with a public administrative service."},
	PromptScale: {VI: "Nhấn 1 đến 5, từ rất không hài lòng đến rất hài lòng; nhấn 0 nếu không có ý kiến.",
		EN: "Press 1 to 5, from very dissatisfied to very satisfied; press 0 for no opinion."},
	PromptRepeat:   {VI: "Xin lỗi, chúng tôi chưa nhận được phím bấm.", EN: "Sorry, we did not get a key."},
	PromptResume:   {VI: "Chúng tôi tiếp tục từ câu hỏi còn lại.", EN: "We continue from the next question."},
	PromptThanks:   {VI: "Cảm ơn ông bà đã đánh giá. Xin chào.", EN: "Thank you for your answers. Goodbye."},
	PromptClosed:   {VI: "Hồ sơ này đã được đánh giá hoặc đã hết hạn đánh giá. Cảm ơn ông bà. Xin chào.", EN: "This dossier has been rated already or can no longer be rated. Thank you. Goodbye."},
	PromptNoSurvey: {VI: "Số điện thoại này hiện không có hồ sơ nào chờ đánh giá. Cảm ơn ông bà đã gọi.", EN: "There is no dossier waiting for a rating from this number. Thank you for calling."},
}

func sayFixed(name, locale string) Prompt {
	return Prompt{Name: name, Text: callTexts[name].In(locale)}
}

// hangUp is a turn that says the named prompt and ends the call.
func hangUp(name, locale string) *CallTurn {
	return &CallTurn{Say: []Prompt{sayFixed(name, locale)}, Locale: locale}
}

// StartCall begins the survey of invitation invID in call callID of
// channel ch, answered by a person: outbound, a call the gateway placed;
// otherwise the citizen called in.
func (s *Service) StartCall(ctx context.Context, ch *Channel, callID, invID string, outbound bool) (*CallTurn, error) {
	inv, err := s.invitationByID(ctx, invID)
	if err != nil {
		return nil, err
	}
	def := s.ChatSurvey(inv.Survey)
	p, step, err := s.Calls.Step(ctx, inv.ID, -1, func(p *store.CallProgress) error {
		if p.Survey == "" {
			p.Survey, p.Locale = string(def.ID), inv.Locale
		}
		p.Misses = 0
		if !answerable(inv.StatusAt(s.now())) {
			p.Done = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.Calls.Bind(ctx, callID, store.CallRef{Invitation: inv.ID, Channel: ch.ID, Outbound: outbound, From: len(p.Answers)}); err != nil {
		return nil, err
	}
	if p.Done {
		return hangUp(PromptClosed, p.Locale), nil
	}
	def = s.callSurvey(p)
	t := &CallTurn{Gather: true, Step: step, Locale: p.Locale}
	t.Say = append(t.Say, sayFixed(PromptGreeting, p.Locale), Prompt{Name: PromptDossier, Text: dossierWords(inv, len(def.Questions), p.Locale)})
	if len(p.Answers) > 0 {
		t.Say = append(t.Say, sayFixed(PromptResume, p.Locale))
	}
	t.Say = append(t.Say, question(def, len(p.Answers), p.Locale)...)
	return t, nil
}

// CallIn answers a call from phone (84…) on ch: the survey of the
// caller's open invitation, or a short message when none is open.
func (s *Service) CallIn(ctx context.Context, ch *Channel, callID, phone string) (*CallTurn, error) {
	inv, err := s.openInvitation(ctx, s.Sealer.Hash(phone), nil)
	if errors.Is(err, store.ErrNotFound) {
		return hangUp(PromptNoSurvey, "vi"), nil
	}
	if err != nil {
		return nil, err
	}
	return s.StartCall(ctx, ch, callID, inv.ID, false)
}

// CallKey applies the key a citizen pressed (digits; "" for silence) in
// answer to step of call callID. A step applied before (a retried
// webhook) changes nothing and hears where the call is now.
func (s *Service) CallKey(ctx context.Context, callID string, step int, digits string) (*CallTurn, error) {
	ref, err := s.Calls.Ref(ctx, callID)
	if err != nil {
		return nil, notFoundAs(err, "call %s was not begun here", callID)
	}
	inv, err := s.invitationByID(ctx, ref.Invitation)
	if err != nil {
		return nil, err
	}
	missed, started := false, false
	p, next, err := s.Calls.Step(ctx, inv.ID, step, func(p *store.CallProgress) error {
		missed, started = false, false
		if p.Done {
			return nil
		}
		if !answerable(inv.StatusAt(s.now())) {
			p.Done = true
			return nil
		}
		def := s.callSurvey(p)
		switch k, ok := key(digits); {
		case ok:
			p.Answers, p.Misses = append(p.Answers, k), 0
		case p.Misses >= CallMaxRepeats: // asked three times: move on, no opinion
			p.Answers, p.Misses = append(p.Answers, 0), 0
		default:
			p.Misses++
			missed = true
		}
		if len(p.Answers) < len(def.Questions) {
			started, p.Started = !p.Started && len(p.Answers) > 0, p.Started || len(p.Answers) > 0
			return nil
		}
		p.Done = true
		return s.completeCall(ctx, inv, def, p)
	})
	stale := errors.Is(err, store.ErrStale)
	if err != nil && !stale {
		return nil, err
	}
	if p.Done {
		return hangUp(PromptThanks, p.Locale), nil
	}
	if started && !stale {
		s.callStarted(ctx, inv)
	}
	t := &CallTurn{Gather: true, Step: next, Locale: p.Locale}
	if missed {
		t.Say = append(t.Say, sayFixed(PromptRepeat, p.Locale))
	}
	t.Say = append(t.Say, question(s.callSurvey(p), len(p.Answers), p.Locale)...)
	return t, nil
}

// CallAnswers is how many questions were answered in call callID.
func (s *Service) CallAnswers(ctx context.Context, callID string) (int, error) {
	ref, err := s.Calls.Ref(ctx, callID)
	if err != nil {
		return 0, err
	}
	p, _, err := s.Calls.Progress(ctx, ref.Invitation)
	if err != nil {
		return 0, err
	}
	return max(0, len(p.Answers)-ref.From), nil
}

// callStarted marks inv in progress at its first answer by phone, once
// (best effort, as a chat's: its completion sets the status anyway).
func (s *Service) callStarted(ctx context.Context, inv *store.Invitation) {
	if err := s.noteStarted(ctx, inv.ID); err != nil {
		return
	}
	s.noteStart(ctx, store.FunnelEvent{Invitation: inv.ID, Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), Survey: inv.Survey}, callFamily)
}

// completeCall hands the call's answers to Complete: exactly once per
// dossier, whatever channel answered first.
func (s *Service) completeCall(ctx context.Context, inv *store.Invitation, def *survey.Survey, p *store.CallProgress) error {
	answers := survey.Answers{}
	for i, q := range def.Questions {
		answers[q.ID] = p.Answers[i]
	}
	_, err := s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{Answers: answers, Channel: callFamily,
		Locale: p.Locale, VerifiedBy: store.VerifiedPhone, Sender: inv.Respondent})
	if errors.Is(err, ErrAlreadyCompleted) {
		return nil
	}
	return err
}

func (s *Service) callSurvey(p *store.CallProgress) *survey.Survey {
	if def, ok := s.Surveys.Survey(survey.ID(p.Survey)); ok {
		return def
	}
	return s.ChatSurvey(p.Survey)
}

// key reads one key 0–5.
func key(digits string) (int, bool) {
	if len(digits) != 1 || digits[0] < '0' || digits[0] > '5' {
		return 0, false
	}
	return int(digits[0] - '0'), true
}

// question is question i of def and how to answer it.
func question(def *survey.Survey, i int, locale string) []Prompt {
	q := def.Questions[i]
	text := fmt.Sprintf("Câu %d trên %d: %s.", i+1, len(def.Questions), q.Text.VI)
	if locale == "en" {
		text = fmt.Sprintf("Question %d of %d: %s.", i+1, len(def.Questions), q.Text.EN)
	}
	return []Prompt{{Name: PromptQuestion + strings.ToLower(string(q.ID)), Text: text}, sayFixed(PromptScale, locale)}
}

// dossierWords names the office and the end of the dossier's code, digit
// by digit, so the citizen knows which dossier the call is about.
func dossierWords(inv *store.Invitation, questions int, locale string) string {
	office := inv.AgencyShort
	if office == "" {
		office = inv.AgencyName
	}
	code := spell(ShortCode(inv.DossierCode), locale)
	switch {
	case locale == "en" && office != "":
		return fmt.Sprintf("Please rate your dossier ending in %s at %s. There are %d questions.", code, office, questions)
	case locale == "en":
		return fmt.Sprintf("Please rate your dossier ending in %s. There are %d questions.", code, questions)
	case office != "":
		return fmt.Sprintf("Xin ông bà đánh giá hồ sơ có mã kết thúc bằng %s tại %s. Có %d câu hỏi.", code, office, questions)
	}
	return fmt.Sprintf("Xin ông bà đánh giá hồ sơ có mã kết thúc bằng %s. Có %d câu hỏi.", code, questions)
}

// ShortCode is the end of a dossier code a call reads out: its last four
// letters or digits (a dossier code ends in its day's sequence number).
func ShortCode(code string) string {
	var out []rune
	for _, r := range []rune(code) {
		if r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' {
			out = append(out, r)
		}
	}
	return string(out[max(0, len(out)-4):])
}

var digitWords = map[string][]string{
	"vi": {"không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín"},
	"en": {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"},
}

// spell says a code one character at a time.
func spell(code, locale string) string {
	words := digitWords["vi"]
	if locale == "en" {
		words = digitWords["en"]
	}
	parts := make([]string, 0, len(code))
	for _, r := range code {
		if r >= '0' && r <= '9' {
			parts = append(parts, words[r-'0'])
		} else {
			parts = append(parts, strings.ToUpper(string(r)))
		}
	}
	return strings.Join(parts, ", ")
}
