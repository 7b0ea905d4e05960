package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// UnreadInput is the body of POST /api/v1/unread-replies/{id}/resolve and
// …/dismiss.
type UnreadInput struct {
	// Scores are what the citizen meant, by question id (A…E for the
	// five-criteria form), 0–5 with 0 for no opinion; every question.
	Scores  map[string]int `json:"scores"`
	Comment string         `json:"comment"` // the citizen's own words, if the message had any
	Note    string         `json:"note"`    // the operator's note (dismiss: why)
}

// UnreadReplies lists the replies not understood that p may see: an agency
// key its subtree's, newest first. Texts are cleaned again as they are
// read, so replies kept before a cleaning rule existed show (and go into
// a response's citizen_text) as clean as new ones.
func (s *Service) UnreadReplies(ctx context.Context, p *Principal, status string, before time.Time, limit int64) ([]store.UnreadReply, error) {
	switch status {
	case "", store.UnreadOpen, store.UnreadResolved, store.UnreadDismissed:
	default:
		return nil, Errorf(Invalid, "status", "%q is not a status; use open, resolved or dismissed", status)
	}
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var agencies []string
	if p.Agency != "" {
		sub, err := s.Subtree(ctx, p.Agency)
		if err != nil {
			return nil, err
		}
		agencies = sub
	}
	list, err := s.Mongo.Unread.List(ctx, status, agencies, before, limit)
	for i := range list {
		list[i].Text = survey.CleanCitizenText(list[i].Text)
	}
	return list, err
}

// UnreadReply returns one reply p may see.
func (s *Service) UnreadReply(ctx context.Context, p *Principal, id string) (*store.UnreadReply, error) {
	u, err := s.Mongo.Unread.ByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, Errorf(NotFound, "id", "no reply %s in the not-understood list", id)
	}
	if err != nil {
		return nil, err
	}
	if p.Agency != "" {
		if ok, err := s.InSubtree(ctx, p.Agency, u.Agency); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			return nil, Errorf(NotFound, "id", "no reply %s in the not-understood list", id)
		}
	}
	u.Text = survey.CleanCitizenText(u.Text)
	return u, nil
}

// mayRead checks that p may enter what a citizen of u.Agency meant: the
// index must stay objective, so an operator of the agency being rated
// cannot; a parent agency's or the province's can.
func (s *Service) mayRead(p *Principal, u *store.UnreadReply) error {
	if p.Role != RoleAdmin && p.Role != RoleAgency {
		return Errorf(Denied, "", "a %s key cannot read citizens' replies for them; an admin or a parent agency's key can", p.Role)
	}
	if p.Agency != "" && p.Agency == u.Agency {
		return Errorf(Denied, "", "agency %s is the one being rated: its replies are read by a parent agency or the province, so the index stays objective", u.Agency)
	}
	return nil
}

// unreadClaimTime is how long a resolve holds its reply: far longer than
// storing a response takes, short enough that a resolve cut off by a
// crash frees the reply soon.
const unreadClaimTime = 2 * time.Minute

// ResolveUnread records the scores an operator read in a citizen's reply:
// a response like any other, on the reply's channel, marked with who
// entered it and the citizen's own message, counted once. The reply is
// claimed before the response is stored, in one conditional write, and
// settled with that claim: a dismiss or a second resolve at the same
// moment gets a 409, so a reply never reads dismissed with a response
// counted.
func (s *Service) ResolveUnread(ctx context.Context, p *Principal, id string, in UnreadInput) (*store.UnreadReply, *store.Response, error) {
	u, err := s.UnreadReply(ctx, p, id)
	if err != nil {
		return nil, nil, err
	}
	if err := s.mayRead(p, u); err != nil {
		return nil, nil, err
	}
	if u.Status != store.UnreadOpen {
		return nil, nil, Errorf(Conflict, "id", "reply %s was already %s", id, u.Status)
	}
	inv, err := s.invitationByID(ctx, u.Invitation)
	if err != nil {
		return nil, nil, fmt.Errorf("the reply's invitation %s: %w", u.Invitation, err)
	}
	if inv.Status == store.StatusOptedOut {
		return nil, nil, Errorf(Gone, "id", "the citizen opted out of invitation %s; nothing is stored for it", inv.ID)
	}
	def := s.ChatSurvey(inv.Survey)
	answers, res, err := checkResolution(def, in)
	if err != nil {
		return nil, nil, err
	}
	claim := store.UnreadClaim{Token: newID(), By: p.Who()}
	now := s.now()
	claim.Until = now.Add(unreadClaimTime)
	if err := s.Mongo.Unread.Claim(ctx, id, claim, now); err != nil {
		return nil, nil, s.unsettled(ctx, id, err)
	}
	r, err := s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: answers, Comment: res.Comment, Channel: u.Family, Locale: inv.Locale,
		EnteredBy: p.Who(), CitizenText: u.Text, VerifiedBy: store.VerifiedOperator})
	if err != nil {
		_ = s.Mongo.Unread.Release(context.WithoutCancel(ctx), id, claim.Token) // nothing was stored: the reply is free again
		if errors.Is(err, ErrAlreadyCompleted) {
			return nil, nil, Errorf(Conflict, "id", "invitation %s already has an answer (the citizen may have sent the scores again); dismiss this reply", inv.ID)
		}
		return nil, nil, err
	}
	res.EnteredBy, res.At, res.Response = p.Who(), s.now(), r.ID
	if err := s.Mongo.Unread.Settle(ctx, id, store.UnreadResolved, res, claim.Token, s.now()); err != nil {
		// Only a claim that ran out (a resolve stalled for minutes) lets
		// another settle it meanwhile: the response is stored, say so.
		return nil, nil, fmt.Errorf("reply %s: response %s is stored, but the reply could not be marked resolved: %w", id, r.ID, err)
	}
	u.Status, u.Resolution = store.UnreadResolved, &res
	counted := s.unreadSettled(ctx, u)
	return u, r, errors.Join(s.Audit(ctx, p, "unread.resolve", id, map[string]any{"invitation": inv.ID, "scores": res.Scores, "response": r.ID}), counted)
}

// unsettled turns a refused claim or settle of reply id into the 409 the
// loser of a race gets.
func (s *Service) unsettled(ctx context.Context, id string, err error) error {
	switch {
	case errors.Is(err, store.ErrClaimed):
		by := "another operator"
		if u, e := s.Mongo.Unread.ByID(ctx, id); e == nil && u.Claim != nil {
			by = u.Claim.By
		}
		return Errorf(Conflict, "id", "reply %s is being resolved by %s now; reload the list in a moment", id, by)
	case errors.Is(err, store.ErrSettled):
		status := "settled"
		if u, e := s.Mongo.Unread.ByID(ctx, id); e == nil {
			status = u.Status
		}
		return Errorf(Conflict, "id", "reply %s was already %s", id, status)
	}
	return err
}

// DismissUnread takes a reply that holds no scores off the list: one
// conditional write, refused (409) once the reply is settled or while a
// resolve holds it.
func (s *Service) DismissUnread(ctx context.Context, p *Principal, id string, in UnreadInput) (*store.UnreadReply, error) {
	u, err := s.UnreadReply(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.mayRead(p, u); err != nil {
		return nil, err
	}
	note, err := checkNote(in.Note)
	if err != nil {
		return nil, err
	}
	res := store.Resolution{Note: note, EnteredBy: p.Who(), At: s.now()}
	if err := s.Mongo.Unread.Settle(ctx, id, store.UnreadDismissed, res, "", s.now()); err != nil {
		return nil, s.unsettled(ctx, id, err)
	}
	u.Status, u.Resolution, u.Claim = store.UnreadDismissed, &res, nil
	counted := s.unreadSettled(ctx, u)
	return u, errors.Join(s.Audit(ctx, p, "unread.dismiss", id, map[string]any{"invitation": u.Invitation, "note": res.Note}), counted)
}

// checkResolution reads what an operator entered for a reply of survey
// def: a score 0–5 for every question, keyed by question id in any case;
// the citizen's words (a comment, phone numbers redacted); the
// operator's note. It returns the answers and the resolution so far.
func checkResolution(def *survey.Survey, in UnreadInput) (survey.Answers, store.Resolution, error) {
	answers, res := survey.Answers{}, store.Resolution{Scores: map[string]int{}}
	for k, v := range in.Scores {
		q, ok := def.Question(survey.QuestionID(strings.ToUpper(strings.TrimSpace(k))))
		if !ok {
			return nil, res, Errorf(Invalid, "scores."+k, "%s has no question %q; its questions are %s", def.ID, k, questionIDs(def))
		}
		if v < 0 || v > 5 {
			return nil, res, Errorf(Invalid, "scores."+k, "%d is off the scale; use 1–5, or 0 for no opinion", v)
		}
		answers[q.ID], res.Scores[string(q.ID)] = v, v
	}
	if missing := def.Missing(answers); len(missing) > 0 {
		return nil, res, Errorf(Invalid, "scores."+string(missing[0]), "%d questions have no score (%s); give every one, 0 for no opinion", len(missing), questionIDs(def))
	}
	var err error
	if res.Comment, err = survey.CleanComment(in.Comment); err != nil {
		return nil, res, Errorf(Invalid, "comment", "%v", err)
	}
	if res.Note, err = checkNote(in.Note); err != nil {
		return nil, res, err
	}
	return answers, res, nil
}

// maxNote bounds an operator's note on a reply.
const maxNote = 1000

// checkNote cleans an operator's note on a reply: kept as typed (a
// number in it is the operator's to give), bounded.
func checkNote(note string) (string, error) {
	note = survey.CleanText(note)
	if utf8.RuneCountInString(note) > maxNote {
		return "", Errorf(Invalid, "note", "at most %d characters", maxNote)
	}
	return note, nil
}

func questionIDs(def *survey.Survey) string {
	ids := make([]string, len(def.Questions))
	for i, q := range def.Questions {
		ids[i] = string(q.ID)
	}
	return strings.Join(ids, ", ")
}

// TestCase writes a resolved reply as a line of the reader's table
// (survey/reader_test.go), so a reading operators had to supply can become
// a case the reader is held to.
func (s *Service) TestCase(u *store.UnreadReply) string {
	if u.Resolution == nil || u.Status != store.UnreadResolved {
		return ""
	}
	def := s.ChatSurvey(u.Survey) // the survey the conversation asked
	scores := make([]string, 0, len(def.Questions))
	for _, q := range def.Questions {
		scores = append(scores, fmt.Sprint(u.Resolution.Scores[string(q.ID)]))
	}
	want := "S:" + strings.Join(scores, ",")
	if u.Resolution.Comment != "" {
		want += "|" + u.Resolution.Comment
	}
	ctx := ""
	if len(def.Questions) == 1 {
		ctx = "1"
	}
	return fmt.Sprintf("{%q, %q, %q},", ctx, u.Text, want)
}
