package core

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Inbound is a message from a chat channel, normalised by its adapter.
type Inbound struct {
	Channel   *Channel
	From      string // canonical phone number (84…) for SMS
	User      string // chat user id (Zalo), when there is no phone
	MessageID string // the provider's id, for exactly-once effects
	Text      string
	At        time.Time
	// OneByOne asks one question at a time (chat channels with buttons).
	OneByOne bool
	// Start opens the sender's pending survey without a reply to read
	// (a new follower who is linked to an invitation).
	Start bool
}

// Render picks the wording a channel can send, in a locale.
type Render func(t survey.Text, locale string) string

// Conversed is what one inbound message led to.
type Conversed struct {
	Replies    []string // texts to send back, in order
	Duplicate  bool     // the message was applied before; nothing changed
	Invitation string   // the invitation the conversation is about, if any
	Respondent string   // keyed hash of the sender
	Asking     bool     // the last reply asks for a score (chat shows buttons)
}

// Converse applies one inbound message to its sender's conversation and
// says what to answer. It knows nothing of providers.
func (s *Service) Converse(ctx context.Context, in Inbound, render Render) (*Conversed, error) {
	who, err := s.respondent(ctx, in)
	if err != nil {
		return nil, err
	}
	out := &Conversed{Respondent: who}
	reply := survey.ParseReply(in.Text)
	saved := false // a completion by an earlier run of the step, which then lost the race to commit
	dup, err := s.Conversations.Step(ctx, out.Respondent, in.Channel.ID, in.MessageID, func(state []byte) ([]byte, error) {
		c := &survey.Conversation{}
		if state != nil {
			_ = json.Unmarshal(state, c) // a state we cannot read is a fresh start
		}
		replies, err := s.step(ctx, c, reply, in, out.Respondent, render, &saved)
		if err != nil {
			return nil, err
		}
		out.Replies, out.Invitation, out.Asking = replies, c.Invitation, c.Asking()
		return json.Marshal(c)
	})
	if err != nil {
		return nil, err
	}
	if dup {
		return &Conversed{Duplicate: true, Respondent: out.Respondent}, nil
	}
	return out, nil
}

// step advances c by one reply. It may run twice for one message (see
// store.Conversations.Step), so everything it writes is idempotent.
func (s *Service) step(ctx context.Context, c *survey.Conversation, r survey.Reply, in Inbound, who string, render Render, saved *bool) ([]string, error) {
	say := func(t survey.Text) []string { return []string{render(t, c.Locale)} }
	if err := s.closeIfAnswered(ctx, c); err != nil {
		return nil, err
	}
	if r.Kind == survey.StartDossier {
		return s.startDossier(ctx, c, r.Dossier, who, in, render)
	}
	if in.Start {
		return s.startLinked(ctx, c, who, in, render)
	}
	if c.Invitation == "" || c.Done {
		inv, err := s.Mongo.Invitations.OpenByRespondent(ctx, who, s.now())
		switch {
		case err == nil:
			if s.Cache != nil {
				s.Cache.Put(ctx, inv)
			}
			def := s.chatSurvey(inv.Survey)
			*c = *survey.NewConversation(def, inv.ID, inv.Locale)
			c.OneByOne = in.OneByOne
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		case r.Kind == survey.OptOut:
			c.Done = true
			return say(survey.MsgOptedOut), s.Mongo.OptOuts.Add(ctx, who, in.Channel.ID, s.now())
		default:
			// Nothing open: answer once, then stay quiet (no cost loops).
			c.Misses++
			if c.Misses > 1 {
				return nil, nil
			}
			if c.Done {
				return say(survey.MsgAlready), nil
			}
			return say(survey.MsgNoSurvey), nil
		}
	}
	def := s.chatSurvey(string(c.Survey))
	outcome := def.Step(c, r, func(t survey.Text) string { return render(t, c.Locale) })
	if outcome.OptOut {
		if err := s.Mongo.OptOuts.Add(ctx, who, in.Channel.ID, s.now()); err != nil {
			return nil, err
		}
		return outcome.Say, s.Mongo.Invitations.MarkOptedOut(ctx, c.Invitation)
	}
	if outcome.Complete {
		return s.completeChat(ctx, c, def, Family(in.Channel.Type), outcome, render, saved)
	}
	if c.Invitation != "" && len(outcome.Say) > 0 {
		_ = s.Mongo.Invitations.MarkStarted(ctx, c.Invitation, s.now()) // best effort, also while MongoDB is down
	}
	return outcome.Say, nil
}

// closeIfAnswered ends a conversation whose invitation can no longer be
// answered (completed on the web, expired, opted out), so the reply goes to
// the citizen's newer invitation, if any, instead of a closed one.
func (s *Service) closeIfAnswered(ctx context.Context, c *survey.Conversation) error {
	if c.Invitation == "" || c.Done {
		return nil
	}
	inv, err := s.invitationByID(ctx, c.Invitation)
	if errors.Is(err, store.ErrNotFound) {
		c.Done = true
		return nil
	}
	if err != nil {
		return err
	}
	if st := inv.StatusAt(s.now()); st != store.StatusPending && st != store.StatusInProgress {
		c.Done = true
	}
	return nil
}

func (s *Service) completeChat(ctx context.Context, c *survey.Conversation, def *survey.Survey, channel string, o survey.Outcome, render Render, saved *bool) ([]string, error) {
	inv, err := s.invitationByID(ctx, c.Invitation)
	if err != nil {
		return nil, err
	}
	if st := inv.StatusAt(s.now()); st == store.StatusExpired || st == store.StatusOptedOut {
		return []string{render(survey.MsgClosed, c.Locale)}, nil
	}
	comment, err := survey.CleanComment(c.Comment)
	if err != nil {
		comment = "" // an over-long comment must not cost the scores
	}
	_, err = s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: c.Answered(def), Comment: comment, Channel: channel, Locale: c.Locale})
	if errors.Is(err, ErrAlreadyCompleted) && !*saved {
		return []string{render(survey.MsgAlready, c.Locale)}, nil
	}
	if err == nil {
		*saved = true
	}
	if errors.Is(err, ErrAlreadyCompleted) {
		err = nil
	}
	return o.Say, err
}

// startDossier handles "DG <dossier code>": the dossier's open invitation,
// and only from its own phone when it has one.
func (s *Service) startDossier(ctx context.Context, c *survey.Conversation, code, who string, in Inbound, render Render) ([]string, error) {
	inv, err := s.Mongo.Invitations.ByDossier(ctx, code)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	open := err == nil && (inv.StatusAt(s.now()) == store.StatusPending || inv.StatusAt(s.now()) == store.StatusInProgress)
	if !open || (inv.Respondent != "" && inv.Respondent != who) {
		c.Misses++
		return []string{render(survey.MsgNotYours, c.Locale)}, nil
	}
	if in.User != "" && inv.Respondent == "" {
		// A chat user who starts a phone-less dossier answers for it.
		if err := s.Mongo.Links.Link(ctx, in.Channel.ID, in.User, who); err != nil {
			return nil, err
		}
	}
	def := s.chatSurvey(inv.Survey)
	*c = *survey.NewConversation(def, inv.ID, inv.Locale)
	c.OneByOne = in.OneByOne
	if err := s.Mongo.OptOuts.Remove(ctx, who); err != nil { // asking is consent again
		return nil, err
	}
	return []string{render(def.Opening(c), c.Locale)}, nil
}

// startLinked opens the pending survey of a sender who is linked to a
// phone, or greets one who is not.
func (s *Service) startLinked(ctx context.Context, c *survey.Conversation, who string, in Inbound, render Render) ([]string, error) {
	if c.Asking() {
		return nil, nil // already in a survey: do not restart it
	}
	inv, err := s.Mongo.Invitations.OpenByRespondent(ctx, who, s.now())
	if errors.Is(err, store.ErrNotFound) {
		return []string{render(survey.MsgWelcome, c.Locale)}, nil
	}
	if err != nil {
		return nil, err
	}
	def := s.chatSurvey(inv.Survey)
	*c = *survey.NewConversation(def, inv.ID, inv.Locale)
	c.OneByOne = in.OneByOne
	return []string{render(survey.MsgWelcomeSurvey, c.Locale), render(def.Opening(c), c.Locale)}, nil
}

// respondent is who a message is from: the keyed hash of the phone, of the
// phone a chat user is linked to, or of the chat user id.
func (s *Service) respondent(ctx context.Context, in Inbound) (string, error) {
	if in.From != "" {
		return s.Sealer.Hash(in.From), nil
	}
	who, err := s.Mongo.Links.Respondent(ctx, in.Channel.ID, in.User)
	if errors.Is(err, store.ErrNotFound) {
		return s.Sealer.Hash(in.Channel.Type + ":" + in.User), nil
	}
	return who, err
}

// LinkUser ties a chat user to the phone they shared.
func (s *Service) LinkUser(ctx context.Context, ch *Channel, user, phone string) error {
	return s.Mongo.Links.Link(ctx, ch.ID, user, s.Sealer.Hash(phone))
}

// CompleteRating saves a star rating (a Zalo rating template) as the
// invitation's response to the overall survey. Repeats change nothing.
func (s *Service) CompleteRating(ctx context.Context, invitationID string, rate int, comment, channel string) error {
	inv, err := s.Invitation(ctx, invitationID)
	if err != nil {
		return err
	}
	if st := inv.StatusAt(s.now()); st == store.StatusExpired || st == store.StatusOptedOut {
		return Errorf(Gone, "", "invitation %s is %s; the rating is not counted", inv.ID, st)
	}
	def, _ := s.Surveys.Survey(survey.Overall)
	if rate < 1 || rate > 5 {
		return Errorf(Invalid, "rate", "%d is not 1–5", rate)
	}
	if comment, err = survey.CleanComment(comment); err != nil {
		comment = ""
	}
	_, err = s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: survey.Answers{def.Questions[0].ID: rate}, Comment: comment, Channel: channel, Locale: inv.Locale})
	if errors.Is(err, ErrAlreadyCompleted) {
		return nil
	}
	return err
}

// chatSurvey is the survey a chat channel asks: the short form when the
// invitation's survey has one (sipas → sipas-5).
func (s *Service) chatSurvey(id string) *survey.Survey {
	def, ok := s.Surveys.Survey(survey.ID(id))
	if !ok {
		def, _ = s.Surveys.Survey(survey.SIPAS5)
	}
	if def.ShortForm != "" {
		short, _ := s.Surveys.Survey(def.ShortForm)
		return short
	}
	return def
}

// RecordSent logs messages sent with their cost in parts.
func (s *Service) RecordSent(ctx context.Context, msgs ...*store.Message) error {
	for _, m := range msgs {
		if m.ID == "" {
			m.ID = newID()
		}
		if m.At.IsZero() {
			m.At = s.now()
		}
	}
	return s.Mongo.Messages.Record(ctx, msgs...)
}
