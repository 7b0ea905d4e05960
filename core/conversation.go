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
	MessageID string // the provider's id, for exactly-once effects
	Text      string
	At        time.Time
}

// Render picks the wording a channel can send, in a locale.
type Render func(t survey.Text, locale string) string

// Conversed is what one inbound message led to.
type Conversed struct {
	Replies    []string // texts to send back, in order
	Duplicate  bool     // the message was applied before; nothing changed
	Invitation string   // the invitation the conversation is about, if any
	Respondent string   // keyed hash of the sender
}

// Converse applies one inbound message to its sender's conversation and
// says what to answer. It knows nothing of providers.
func (s *Service) Converse(ctx context.Context, in Inbound, render Render) (*Conversed, error) {
	out := &Conversed{Respondent: s.Sealer.Hash(in.From)}
	reply := survey.ParseReply(in.Text)
	dup, err := s.Conversations.Step(ctx, out.Respondent, in.Channel.ID, in.MessageID, func(state []byte) ([]byte, error) {
		c := &survey.Conversation{}
		if state != nil {
			_ = json.Unmarshal(state, c) // a state we cannot read is a fresh start
		}
		replies, err := s.step(ctx, c, reply, in, out.Respondent, render)
		if err != nil {
			return nil, err
		}
		out.Replies, out.Invitation = replies, c.Invitation
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
func (s *Service) step(ctx context.Context, c *survey.Conversation, r survey.Reply, in Inbound, who string, render Render) ([]string, error) {
	say := func(t survey.Text) []string { return []string{render(t, c.Locale)} }
	if r.Kind == survey.StartDossier {
		return s.startDossier(ctx, c, r.Dossier, who, render)
	}
	if c.Invitation == "" || c.Done {
		inv, err := s.Mongo.Invitations.OpenByRespondent(ctx, who, s.now())
		switch {
		case err == nil:
			def := s.chatSurvey(inv.Survey)
			*c = *survey.NewConversation(def, inv.ID, inv.Locale)
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
		return s.completeChat(ctx, c, def, Family(in.Channel.Type), outcome, render)
	}
	if c.Invitation != "" && len(outcome.Say) > 0 {
		_ = s.Mongo.Invitations.MarkStarted(ctx, c.Invitation, s.now())
	}
	return outcome.Say, nil
}

func (s *Service) completeChat(ctx context.Context, c *survey.Conversation, def *survey.Survey, channel string, o survey.Outcome, render Render) ([]string, error) {
	inv, err := s.Mongo.Invitations.Invitation(ctx, c.Invitation)
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
	if errors.Is(err, ErrAlreadyCompleted) {
		return []string{render(survey.MsgAlready, c.Locale)}, nil
	}
	return o.Say, err
}

// startDossier handles "DG <dossier code>": the dossier's open invitation,
// and only from its own phone when it has one.
func (s *Service) startDossier(ctx context.Context, c *survey.Conversation, code, who string, render Render) ([]string, error) {
	inv, err := s.Mongo.Invitations.ByDossier(ctx, code)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	open := err == nil && (inv.StatusAt(s.now()) == store.StatusPending || inv.StatusAt(s.now()) == store.StatusInProgress)
	if !open || (inv.Respondent != "" && inv.Respondent != who) {
		c.Misses++
		return []string{render(survey.MsgNotYours, c.Locale)}, nil
	}
	def := s.chatSurvey(inv.Survey)
	*c = *survey.NewConversation(def, inv.ID, inv.Locale)
	if err := s.Mongo.OptOuts.Remove(ctx, who); err != nil { // asking is consent again
		return nil, err
	}
	return []string{render(def.AskAll(), c.Locale)}, nil
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
