package core

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/internal/jsonx"
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
	// Limit counts the message against its phone's hourly limit (SMS), in
	// the same round trip as the conversation's read.
	Limit bool
	// LogSMS records the replies as SMS sent (encoding, parts) in the
	// same round trip as the conversation's commit.
	LogSMS bool
}

// Render picks the wording a channel can send, in a locale.
type Render func(t survey.Text, locale string) string

// Conversed is what one inbound message led to.
type Conversed struct {
	Replies    []string // texts to send back, in order; for a duplicate, what the first delivery got
	Duplicate  bool     // the message was applied before; nothing changed
	Replayed   bool     // a duplicate whose id was applied for another sender: a replay, not answered
	Invitation string   // the invitation the conversation is about, if any
	Respondent string   // keyed hash of the sender
	Asking     bool     // the last reply asks for a score (chat shows buttons)
	Unread     bool     // the message was not understood; it is kept for an operator
	Confirming bool     // the last reply asks the citizen to confirm a reading (chat shows a yes button)
	// token is a survey link's token in Replies, kept out of their records.
	token string
	// agency, month and survey are Invitation's, for the cost of the
	// replies (empty when the state did not know them).
	agency, month, survey string
}

// chatState is a conversation as the core keeps it in Redis: the survey's
// own state, plus what spares MongoDB a read or a write on every message.
type chatState struct {
	survey.Conversation
	// Expires is when the invitation stops taking answers (Unix ms); 0 in
	// states kept before it was recorded.
	Expires int64 `json:"x,omitempty"`
	// Started says the invitation is known to be marked in progress.
	Started bool `json:"t,omitempty"`
	// Linked says the survey link was offered after replies that could
	// not be read: once a conversation.
	Linked bool `json:"w,omitempty"`
	// Agency, Month and InvSurvey are the invitation's agency, creation
	// month and survey, which its reach figures are counted under.
	Agency    string `json:"ag,omitempty"`
	Month     string `json:"mo,omitempty"`
	InvSurvey string `json:"iv,omitempty"`
}

// begin starts st on inv's chat survey.
func (s *Service) begin(st *chatState, inv *store.Invitation, oneByOne bool) *survey.Survey {
	def := s.ChatSurvey(inv.Survey)
	*st = chatState{Conversation: *survey.NewConversation(def, inv.ID, inv.Locale),
		Expires: inv.ExpiresAt.UnixMilli(), Started: inv.Status != store.StatusPending,
		Agency: inv.AgencyCode, Month: store.MonthOf(inv.CreatedAt), InvSurvey: inv.Survey}
	st.OneByOne = oneByOne
	return def
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
	var answered []int
	io := s.stepIO(ctx, in, out)
	io.Owner, io.Claim = s.sender(in, who), s.Sealer.Hash("msg\x00"+in.Channel.ID+"\x00"+in.MessageID)
	sp := s.watchSpend(ctx, in, who, io)
	// One score after the answer to a follow-up case rates that answer: the
	// case awaiting it is read with the conversation (no round trip more),
	// and the case itself, once, to see the answer was sent.
	awaited := ""
	rateable := sync.OnceValues(func() (bool, error) { return s.sentAnswer(ctx, awaited) })
	if reply.Kind == survey.Scores && len(reply.Scores) == 1 && reply.Scores[0] >= 1 && reply.Comment == "" && !reply.Unsure {
		before := io.Before
		io.Before = func(p redis.Pipeliner) func() error {
			var check func() error
			if before != nil {
				check = before(p)
			}
			rating := s.Conversations.QueueAwaitedRating(ctx, p, who)
			return func() error {
				awaited = rating()
				if check != nil {
					return check()
				}
				return nil
			}
		}
	}
	// A reply not understood is queued for the operators with the commit
	// itself: if the step commits, the reply is kept; if not, neither.
	// A completion's clean-up goes with the commit too (see later), when
	// its Redis is the conversation's.
	var unreadEntry map[string]string
	after := io.After
	io.After = func(p redis.Pipeliner) {
		if after != nil {
			after(p)
		}
		if unreadEntry != nil && s.MessageLog != nil {
			s.MessageLog.Queue(ctx, p, unreadEntry)
		}
		if s.Drafts.R == s.Conversations.R {
			sp.later.queueIn(p)
		}
	}
	dup, err := s.Conversations.Step(ctx, out.Respondent, in.Channel.ID, in.MessageID, io, func(state []byte) ([]byte, error) {
		st := &chatState{}
		if state != nil {
			_ = decodeChatState(state, st) // a state we cannot read is a fresh start
		}
		if awaited != "" && !st.Asking() {
			// Not a survey step (a survey under way keeps its scores),
			// once the answer went out: nothing is committed.
			if sent, err := rateable(); err != nil || sent {
				return nil, cmp.Or(err, errRating)
			}
		}
		answered = slices.Clone(st.Answers)
		out.Unread = false
		replies, err := s.step(ctx, st, reply, in, render, sp, out, io.Done)
		if err != nil {
			return nil, err
		}
		out.Replies, out.Invitation, out.Asking, out.Confirming = replies, st.Invitation, st.Asking() && st.Pending == nil, st.Pending != nil
		if sp.spent != nil {
			out.Invitation = sp.spent.Invitation // the one the message is about, whatever the citizen began since
		}
		if out.Invitation == st.Invitation {
			out.agency, out.month, out.survey = st.Agency, st.Month, st.InvSurvey
		}
		unreadEntry = nil
		if out.Unread && s.MessageLog != nil {
			u, err := s.unreadReply(ctx, in, st.Invitation, answered)
			if err != nil {
				return nil, err // not committed: the provider delivers it again
			}
			b, err := json.Marshal(u)
			if err != nil {
				return nil, err
			}
			unreadEntry = map[string]string{"u": string(b)}
		}
		io.Mark = ""
		if len(replies) > 0 { // kept with the seen mark: a duplicate hears the same
			io.Mark = string(jsonx.AppendStrings(nil, replies))
		}
		return st.appendJSON(make([]byte, 0, 256)), nil
	})
	sp.later.settle(ctx, s.Drafts.R)
	if errors.Is(err, errRating) {
		return s.rate(ctx, in, out, awaited, reply.Scores[0], render)
	}
	if err != nil {
		return nil, err
	}
	if dup {
		d := &Conversed{Duplicate: true, Respondent: out.Respondent, Replayed: io.Foreign}
		if !io.Foreign {
			d.Replies = seenReplies(io.Seen)
		}
		return d, nil
	}
	if s.MessageLog == nil { // no stream to queue them in: write them now
		if err := s.RecordSent(ctx, s.conversationRecords(in, out)...); err != nil {
			return nil, err
		}
	}
	if out.Unread && s.MessageLog == nil { // no stream: write it now
		u, err := s.unreadReply(ctx, in, out.Invitation, answered)
		if err == nil {
			err = s.recordUnread(ctx, u)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// maxDossierTries bounds the "DG <code>" messages of one phone a day
// (Vietnam time): the sixth hears why nothing happens, later ones
// nothing.
const maxDossierTries = 5

// errRating stops a conversation step: the message rates a case's answer.
var errRating = errors.New("a rating of a case's answer")

// rate takes a reply of one score as the rating of the answer to case id.
func (s *Service) rate(ctx context.Context, in Inbound, out *Conversed, id string, rating int, render Render) (*Conversed, error) {
	if err := s.rateAnswer(ctx, id, rating, answerRateable, nil); err != nil {
		return nil, err
	}
	if err := s.Conversations.Rated(ctx, out.Respondent); err != nil {
		return nil, err
	}
	out.Replies = []string{render(survey.Text{VI: "Cảm ơn ông/bà đã đánh giá câu trả lời.", EN: "Thank you for rating the answer."}, "vi")}
	if in.LogSMS {
		if err := s.RecordSent(ctx, s.replyRecords(in, out)...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sender is who sent a message as its provider says, for the claim of its
// id on its channel: the phone's keyed hash, or the chat user's (not the
// phone a user is linked to, which may change between two deliveries).
func (s *Service) sender(in Inbound, who string) string {
	if in.From != "" {
		return who
	}
	return s.Sealer.Hash(in.Channel.Type + ":" + in.User)
}

// OptOut records a citizen's opt-out (or, Out false, their consent again)
// without waiting on MongoDB: the answer goes to the Redis view at once,
// which sends consult first (OptedOut), and reaches MongoDB through the
// message-log stream, with the invitation it closes. The invitation's
// working copy reads as opted out from now on.
func (s *Service) OptOut(ctx context.Context, e store.OptOutEvent) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	// Where Redis keeps nothing across a crash (AckAfterMongo: the
	// embedded default), an opt-out is written to MongoDB before it is
	// acknowledged, like an answer.
	if s.OptOuts == nil || s.MessageLog == nil || s.AckAfterMongo {
		if err := s.Mongo.ApplyOptOut(ctx, e); err != nil {
			return err
		}
	} else {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := s.OptOuts.R.Pipelined(ctx, func(p redis.Pipeliner) error {
			s.OptOuts.Queue(ctx, p, e.Who, e.Out)
			if e.Invitation != "" {
				s.OptOuts.QueueClosed(ctx, p, e.Invitation)
			}
			s.MessageLog.Queue(ctx, p, map[string]string{"o": string(b)})
			return nil
		}); err != nil {
			return fmt.Errorf("record opt-out: %w", err)
		}
	}
	if e.Invitation != "" && s.Cache != nil {
		if inv, err := s.invitationByID(ctx, e.Invitation); err == nil {
			inv.Status = store.StatusOptedOut
			s.Cache.Put(ctx, inv)
		}
	}
	return nil
}

// OptedOut reports whether who asked to hear no more: the Redis view's
// answer, or MongoDB's when the view has none.
func (s *Service) OptedOut(ctx context.Context, who string) (bool, error) {
	if s.OptOuts != nil {
		out, known, err := s.OptOuts.Get(ctx, who)
		if err != nil || known {
			return out, err
		}
	}
	return s.Mongo.OptOuts.Has(ctx, who)
}

// stepIO puts what a message needs beside its conversation into the
// conversation's two round trips: the phone's rate limit with the read,
// the records of the message and its replies with the commit.
func (s *Service) stepIO(ctx context.Context, in Inbound, out *Conversed) *store.StepIO {
	io := &store.StepIO{}
	if in.Limit && s.Limiter != nil && s.PhoneRate > 0 {
		io.Before = func(p redis.Pipeliner) func() error {
			check := s.Limiter.Queue(ctx, p, "phone:"+out.Respondent, s.PhoneRate, time.Hour)
			return func() error {
				ok, wait, err := check()
				if err != nil || ok {
					return err
				}
				e := Errorf(RateLimited, "", "too many messages from this number; try again in %s", wait.Round(time.Second))
				e.RetryAfter = wait
				return e
			}
		}
	}
	if s.MessageLog != nil {
		io.After = func(p redis.Pipeliner) {
			entries, _ := s.sentEntries(s.conversationRecords(in, out)) // a Message always marshals
			s.MessageLog.Queue(ctx, p, entries...)
		}
	}
	return io
}

// unreadReply is the record of a reply the reader could not read, for the
// operators' "not understood" list; a retried delivery makes the same one.
func (s *Service) unreadReply(ctx context.Context, in Inbound, invitation string, answered []int) (*store.UnreadReply, error) {
	inv, err := s.invitationByID(ctx, invitation)
	if err != nil {
		return nil, fmt.Errorf("keep unread reply: %w", err)
	}
	u := &store.UnreadReply{ID: "u:" + in.Channel.ID + ":" + in.MessageID, Invitation: inv.ID, Survey: inv.Survey,
		Agency: inv.AgencyCode, Channel: in.Channel.ID, Family: Family(in.Channel.Type), Text: survey.CleanCitizenText(in.Text),
		Answered: answered, At: in.At, Status: store.UnreadOpen}
	if in.MessageID == "" {
		u.ID = "u:" + newID()
	}
	if in.From != "" {
		u.Phone = survey.MaskPhone(in.From)
	}
	if r := []rune(u.Text); len(r) > maxUnreadText {
		u.Text = string(r[:maxUnreadText])
	}
	if u.At.IsZero() {
		u.At = s.now()
	}
	return u, nil
}

// maxUnreadText bounds a kept reply (an SMS of 10 parts is ~700 characters).
const maxUnreadText = 2000

// step advances st by one reply. It may run twice for one message (see
// store.Conversations.Step), so everything it writes is idempotent.
func (s *Service) step(ctx context.Context, st *chatState, r survey.Reply, in Inbound, render Render, sp *spending, out *Conversed, done map[string]bool) ([]string, error) {
	who := out.Respondent
	say := func(t survey.Text) []string { return []string{render(t, st.Locale)} }
	if sp.spent != nil {
		s.respend(ctx, who, sp)
		return respent(st, sp.spent), nil
	}
	if err := s.closeIfAnswered(ctx, st, done); err != nil {
		return nil, err
	}
	if r.Kind == survey.StartDossier {
		// Codes run in sequence and are printed on receipts: a phone may
		// try a few a day, not walk through them.
		n, err := s.Conversations.DossierTry(ctx, who, s.now().In(Vietnam).Format("2006-01-02"), in.Channel.ID+":"+cmp.Or(in.MessageID, fmt.Sprint(s.now().UnixNano())))
		switch {
		case err != nil:
			return nil, err
		case n == maxDossierTries+1:
			return []string{render(survey.MsgDossierLimit, st.Locale)}, nil
		case n > maxDossierTries:
			return nil, nil
		}
		if replies, ok, err := s.startDossier(ctx, st, r.Dossier, who, in, render); ok || err != nil {
			return replies, err
		}
		// "dg 44544": no such dossier, but scores, for the survey under
		// way or the citizen's one open invitation
		in.Text = r.Dossier
		if !st.Asking() {
			if several, err := s.severalOpen(ctx, sp.index); err != nil {
				return nil, err
			} else if several {
				return []string{render(survey.MsgWhichDossier, st.Locale)}, nil
			}
		}
	}
	if in.Start {
		return s.startLinked(ctx, st, who, in, render, sp.index)
	}
	if st.Invitation == "" || st.Done {
		inv, err := s.openInvitation(ctx, who, sp.index)
		switch {
		case err == nil:
			s.begin(st, inv, in.OneByOne)
			s.chatOpened(ctx, inv, in)
		case !errors.Is(err, store.ErrNotFound):
			return nil, err
		case r.Kind == survey.OptOut:
			st.Done = true
			return say(survey.MsgOptedOut), s.OptOut(ctx, store.OptOutEvent{Who: who, Out: true, Channel: in.Channel.ID})
		case r.Kind == survey.Help:
			// How to take part, once a day per number: a citizen who asks
			// hears back, a loop of HELP costs one text a day.
			day := s.now().In(Vietnam).Format("2006-01-02")
			if st.HelpDay == day {
				return nil, nil
			}
			st.HelpDay = day
			return say(survey.MsgHelpNoSurvey), nil
		default:
			// Nothing open: answer once, then stay quiet (no cost loops).
			st.Misses++
			if st.Misses > 1 {
				return nil, nil
			}
			if st.Done {
				return say(survey.MsgAlready), nil
			}
			return say(survey.MsgNoSurvey), nil
		}
	}
	def := s.ChatSurvey(string(st.Survey))
	outcome := def.Step(&st.Conversation, def.Read(&st.Conversation, in.Text), func(t survey.Text) string { return render(t, st.Locale) })
	if outcome.OptOut {
		if err := s.OptOut(ctx, store.OptOutEvent{Who: who, Out: true, Channel: in.Channel.ID, Invitation: st.Invitation}); err != nil {
			return nil, err
		}
		return outcome.Say, s.Conversations.Unindex(ctx, who, st.Invitation)
	}
	out.Unread = outcome.Unread && in.Text != ""
	if outcome.Alone && !st.Linked && len(outcome.Say) > 0 {
		// asked alone after replies that could not be read: the web form
		// is the other way to answer, offered once
		if inv, err := s.invitationByID(ctx, st.Invitation); err == nil && inv.Token != "" {
			url := s.SurveyURL(inv)
			outcome.Say[len(outcome.Say)-1] += " " + render(survey.Text{VI: "Hoặc trả lời trên web: " + url, EN: "Or answer on the web: " + url}, st.Locale)
			st.Linked, out.token = true, inv.Token
		}
	}
	if outcome.Complete {
		return s.completeChat(ctx, st, def, Family(in.Channel.Type), outcome, render, sp, who)
	}
	s.markStarted(ctx, st, Family(in.Channel.Type))
	return outcome.Say, nil
}

// markStarted marks the invitation in progress at the conversation's first
// answer, once: on FerretDB every update rewrites the whole document, so a
// mark on each message would cost a write each and could undo a completion
// racing it. A completing step does not mark (completing sets the status).
func (s *Service) markStarted(ctx context.Context, st *chatState, family string) {
	if st.Started || st.Invitation == "" || !slices.ContainsFunc(st.Answers, func(a int) bool { return a >= 0 }) || s.Health.Down() {
		return
	}
	err := s.noteStarted(ctx, st.Invitation)
	s.Health.Note(err)
	st.Started = err == nil // best effort: otherwise the next answer tries again
	if st.Started && st.Agency != "" {
		s.noteStart(ctx, store.FunnelEvent{Invitation: st.Invitation, Agency: st.Agency, Month: st.Month, Survey: st.InvSurvey}, family)
	}
}

// answerable reports whether an invitation in status st takes answers.
func answerable(st store.Status) bool {
	return st == store.StatusPending || st == store.StatusInProgress
}

// closeIfAnswered ends a conversation whose invitation can no longer be
// answered (completed on another channel, expired), so the reply goes to the
// citizen's newer invitation, if any, instead of a closed one. It asks Redis
// only: the expiry is in the state and a completion anywhere leaves a done
// mark in the outbox. (An opt-out on another channel shows when the
// conversation completes: completeChat reads the invitation.)
func (s *Service) closeIfAnswered(ctx context.Context, st *chatState, done map[string]bool) error {
	if st.Invitation == "" || st.Done {
		return nil
	}
	if st.Expires == 0 { // a state kept before expiries were: read it once
		inv, err := s.invitationByID(ctx, st.Invitation)
		if errors.Is(err, store.ErrNotFound) {
			st.Done = true
			return nil
		}
		if err != nil {
			return err
		}
		st.Expires = inv.ExpiresAt.UnixMilli()
		if !answerable(inv.StatusAt(s.now())) {
			st.Done = true
			return nil
		}
	}
	if s.now().UnixMilli() >= st.Expires {
		st.Done = true
		return nil
	}
	st.Done = done[st.Invitation] // answered on another channel (see store.Conversations.MarkDoneIn)
	return nil
}

// completeChat saves the response of a conversation that its message
// completed, with the message's spend. who sent it: the invitation's own
// phone, or one it never knew that began with "DG <code>".
func (s *Service) completeChat(ctx context.Context, c *chatState, def *survey.Survey, channel string, o survey.Outcome, render Render, sp *spending, who string) ([]string, error) {
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
	verified := store.VerifiedPhone
	if inv.Respondent != who {
		verified = store.VerifiedDossierCode
	}
	_, err = s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: c.Answered(def), Comment: comment, Channel: channel, Locale: c.Locale,
		Spend:      &store.Spend{Message: sp.msg, Invitation: inv.ID, Replies: o.Say},
		VerifiedBy: verified, Sender: who, later: &sp.later})
	var spent *SpentError
	switch {
	case errors.As(err, &spent):
		// A delivery racing this one spent the message first, maybe on an
		// invitation this step did not begin with: this step's reading of
		// the message is dropped for that delivery's.
		sp.spent = spent.Spend
		if c.Invitation != spent.Spend.Invitation {
			*c = chatState{}
		}
		return respent(c, spent.Spend), nil
	case errors.Is(err, ErrAlreadyCompleted):
		return []string{render(survey.MsgAlready, c.Locale)}, nil
	}
	return o.Say, err
}

// startDossier handles "DG <dossier code>": the dossier's open invitation,
// and only from its own phone when it has one. A code that is no dossier
// but reads as scores ("dg 44544": đánh giá, then five scores) is not
// handled (false): the caller reads it as an answer.
func (s *Service) startDossier(ctx context.Context, c *chatState, code, who string, in Inbound, render Render) ([]string, bool, error) {
	inv, err := s.Mongo.Invitations.ByDossier(ctx, code)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, false, err
	}
	if err == nil && inv.Respondent == "" && s.DossierCodeAnswers == "off" {
		// GATEWAY_DOSSIER_CODE_ANSWERS=off: no phone may claim a dossier
		// sent to none, and the reply must not tell that the code exists.
		err = store.ErrNotFound
	}
	if err != nil {
		if r := survey.ParseReply(code); r.Kind == survey.Scores && len(r.Scores) > 1 && !r.Unsure {
			return nil, false, nil
		}
	}
	if err != nil || !answerable(inv.StatusAt(s.now())) || (inv.Respondent != "" && inv.Respondent != who) {
		c.Misses++
		return []string{render(survey.MsgNotYours, c.Locale)}, true, nil
	}
	if in.User != "" && inv.Respondent == "" {
		// A chat user who starts a phone-less dossier answers for it.
		if err := s.Mongo.Links.Link(ctx, in.Channel.ID, in.User, who); err != nil {
			return nil, true, err
		}
	}
	def := s.begin(c, inv, in.OneByOne)
	s.chatOpened(ctx, inv, in)
	if err := s.OptOut(ctx, store.OptOutEvent{Who: who, Out: false, Channel: in.Channel.ID}); err != nil { // asking is consent again
		return nil, true, err
	}
	return []string{render(def.Opening(&c.Conversation), c.Locale)}, true, nil
}

// startLinked opens the pending survey of a sender who is linked to a
// phone, or greets one who is not; index is the phone's invitation index
// as the step's read found it (see watchSpend).
func (s *Service) startLinked(ctx context.Context, c *chatState, who string, in Inbound, render Render, index func() ([]store.IndexedInvitation, bool, error)) ([]string, error) {
	if c.Asking() {
		return nil, nil // already in a survey: do not restart it
	}
	inv, err := s.openInvitation(ctx, who, index)
	if errors.Is(err, store.ErrNotFound) {
		return []string{render(survey.MsgWelcome, c.Locale)}, nil
	}
	if err != nil {
		return nil, err
	}
	def := s.begin(c, inv, in.OneByOne)
	s.chatOpened(ctx, inv, in)
	return []string{render(survey.MsgWelcomeSurvey, c.Locale), render(def.Opening(&c.Conversation), c.Locale)}, nil
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
	// The template goes to the Zalo account of the invitation's phone.
	_, err = s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: survey.Answers{def.Questions[0].ID: rate}, Comment: comment, Channel: channel, Locale: inv.Locale,
		VerifiedBy: store.VerifiedPhone, Sender: inv.Respondent})
	if errors.Is(err, ErrAlreadyCompleted) {
		return nil
	}
	return err
}

// ChatSurvey is the survey a chat channel asks: the short form when the
// invitation's survey has one (sipas → sipas-5).
func (s *Service) ChatSurvey(id string) *survey.Survey {
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

// RecordSent logs messages sent with their cost in parts. They go to a
// Redis stream (one round trip on the request, no MongoDB) and reach the
// message log in MongoDB in batches (DrainMessages); their ids are set
// here, so a batch written twice is written once.
func (s *Service) RecordSent(ctx context.Context, msgs ...*store.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	fields, err := s.sentEntries(msgs)
	if err != nil {
		return err
	}
	if s.MessageLog == nil {
		return s.logMessages(ctx, msgs)
	}
	return s.MessageLog.Add(ctx, fields...)
}

// logMessages writes message records to MongoDB: the sent ones to the
// cost log, and every one that belongs to an invitation to its
// transcript. Written again, they change nothing.
func (s *Service) logMessages(ctx context.Context, msgs []*store.Message) error {
	sent := make([]*store.Message, 0, len(msgs))
	for _, m := range msgs {
		if m.Kind != store.Received {
			sent = append(sent, m)
		}
	}
	spent := s.spentEvents(ctx, sent)
	if err := s.Mongo.Messages.Record(ctx, sent...); err != nil {
		return err
	}
	if s.Funnel != nil && len(spent) > 0 {
		if err := s.Funnel.Note(ctx, spent...); err != nil {
			return err // written again with the batch: the cost log changes nothing, the events count once
		}
	}
	at := map[string]int{} // invitation → its place in batch
	var batch []store.Appended
	for _, m := range msgs {
		if m.Invitation == "" {
			continue
		}
		i, ok := at[m.Invitation]
		if !ok {
			i = len(batch)
			at[m.Invitation] = i
			batch = append(batch, store.Appended{Invitation: m.Invitation})
		}
		batch[i].Respondent = cmp.Or(m.Respondent, batch[i].Respondent)
		batch[i].Lines = append(batch[i].Lines, m.Line())
	}
	return s.Mongo.Transcripts.Append(ctx, batch...)
}

// seenReplies reads the replies a seen mark kept as encoding/json reads
// them; none from "1", the mark of a message applied before replies were
// kept.
func seenReplies(mark string) []string {
	if v, rest, ok := jsonx.Strings(mark); ok && rest == "" {
		return v
	}
	var v []string
	_ = json.Unmarshal([]byte(mark), &v)
	return v
}

// maxLineText is how much of a citizen's message a transcript keeps.
const maxLineText = 1000

// receivedRecord is the transcript record of an inbound message that
// belongs to an invitation, phone numbers in it redacted; nil otherwise.
// A provider message id gives it the same id when a commit runs again.
func (s *Service) receivedRecord(in Inbound, out *Conversed) *store.Message {
	text := survey.CleanCitizenText(in.Text) // before it is cut, so no number is cut in two and kept
	if out.Invitation == "" || text == "" {
		return nil
	}
	if r := []rune(text); len(r) > maxLineText {
		text = string(r[:maxLineText]) + "…"
	}
	m := &store.Message{Channel: in.Channel.ID, Invitation: out.Invitation, Respondent: out.Respondent,
		Kind: store.Received, Text: text, At: in.At}
	if in.MessageID != "" {
		m.ID = "i:" + in.Channel.ID + ":" + in.MessageID
	}
	return m
}

// conversationRecords are the records a committed step leaves: the message
// received, then the SMS replies (chat replies are recorded as they are
// sent).
func (s *Service) conversationRecords(in Inbound, out *Conversed) []*store.Message {
	var msgs []*store.Message
	if m := s.receivedRecord(in, out); m != nil {
		msgs = append(msgs, m)
	}
	if in.LogSMS {
		msgs = append(msgs, s.replyRecords(in, out)...)
	}
	return msgs
}

// sentEntries gives msgs their ids and times and makes them one
// message-log stream entry (none without msgs): a step's received line and
// replies cost one XADD. Its records are under "m", "m1", "m2"…
func (s *Service) sentEntries(msgs []*store.Message) ([]map[string]string, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	size := 0
	for _, m := range msgs {
		switch {
		case m.ID != "":
		case m.ProviderID != "":
			m.ID = store.ProviderMessageID(m.Channel, m.ProviderID)
		default:
			m.ID = newID()
		}
		if m.At.IsZero() {
			m.At = s.now()
		}
		size += m.JSONSize()
	}
	// The records are written into one buffer, made one string, and cut:
	// two allocations for the entry, not two a record and regrowths.
	buf, ends := make([]byte, 0, size), make([]int, len(msgs))
	for i, m := range msgs {
		var err error
		if buf, err = m.AppendJSON(buf); err != nil {
			return nil, err
		}
		ends[i] = len(buf)
	}
	all, start := string(buf), 0
	fields := make(map[string]string, len(msgs))
	for i, end := range ends {
		fields[recordField(i)], start = all[start:end], end
	}
	return []map[string]string{fields}, nil
}

// recordFields are the first records' fields, named without an allocation.
var recordFields = [...]string{"m", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9"}

// recordField is the field of a message-log entry's record i.
func recordField(i int) string {
	if i < len(recordFields) {
		return recordFields[i]
	}
	return "m" + strconv.Itoa(i)
}

// entryRecords reads the message records of a message-log entry.
func entryRecords(fields map[string]string) ([]*store.Message, error) {
	var out []*store.Message
	for i := 0; ; i++ {
		raw, ok := fields[recordField(i)]
		if !ok {
			break
		}
		var m store.Message
		if err := store.DecodeMessage(raw, &m); err != nil {
			return nil, err
		}
		if m.ID == "" {
			return nil, fmt.Errorf("record %d has no id", i)
		}
		out = append(out, &m)
	}
	if len(out) == 0 {
		return nil, errors.New("no record")
	}
	return out, nil
}

// replyRecords are the records of the SMS replies a message got; with a
// provider message id, the same ids when a commit runs again.
func (s *Service) replyRecords(in Inbound, out *Conversed) []*store.Message {
	msgs := make([]*store.Message, len(out.Replies))
	for i, text := range out.Replies {
		enc, parts := survey.SMSParts(text)
		if out.token != "" {
			text = strings.ReplaceAll(text, out.token, "…") // the link answers for the citizen: not in the log
		}
		msgs[i] = &store.Message{Channel: in.Channel.ID, Invitation: out.Invitation, Respondent: out.Respondent,
			Kind: "reply", Encoding: enc, Parts: parts, Text: text, Agency: out.agency, Month: out.month, Survey: out.survey}
		if in.MessageID != "" {
			msgs[i].ID = "r:" + in.Channel.ID + ":" + in.MessageID + ":" + strconv.Itoa(i)
		}
	}
	return msgs
}

// DrainMessages writes what RecordSent queued to MongoDB, a batch at a
// time, until none is left, waiting up to block for the first (negative:
// not at all); consumer names this process in the stream's group (an
// entry a dead process took is taken again after a minute).
func (s *Service) DrainMessages(ctx context.Context, consumer string, block time.Duration) error {
	for {
		n, err := s.logBatch(ctx, consumer, block)
		if err != nil || n == 0 {
			return err
		}
		block = -1 // the next batch only if one is there (0 would wait forever)
	}
}

// messageBatch bounds the entries one message-log batch takes.
const messageBatch = 500

// logBatch writes one batch of what RecordSent queued, waiting up to block
// for it, and says how many entries it took.
func (s *Service) logBatch(ctx context.Context, consumer string, block time.Duration) (int, error) {
	es, err := s.MessageLog.Read(ctx, consumer, messageBatch, time.Minute, block)
	if err != nil || len(es) == 0 {
		return 0, err
	}
	msgs := make([]*store.Message, 0, len(es))
	var unread []*store.UnreadReply
	var optOuts []store.OptOutEvent
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
		if raw, ok := e.Fields["o"]; ok {
			var o store.OptOutEvent
			if err := json.Unmarshal([]byte(raw), &o); err != nil || o.Who == "" {
				_ = s.MessageLog.Bury(ctx, e, fmt.Sprintf("not an opt-out: %v", err))
				continue
			}
			optOuts = append(optOuts, o)
			continue
		}
		if raw, ok := e.Fields["u"]; ok {
			var u store.UnreadReply
			if err := json.Unmarshal([]byte(raw), &u); err != nil || u.ID == "" {
				_ = s.MessageLog.Bury(ctx, e, fmt.Sprintf("not an unread reply: %v", err))
				continue
			}
			unread = append(unread, &u)
			continue
		}
		recs, err := entryRecords(e.Fields)
		if err != nil {
			_ = s.MessageLog.Bury(ctx, e, fmt.Sprintf("not message records: %v", err))
			continue
		}
		msgs = append(msgs, recs...)
	}
	if err := s.logMessages(ctx, msgs); err != nil {
		return 0, err // not acknowledged: read again
	}
	if err := s.recordUnread(ctx, unread...); err != nil {
		return 0, err
	}
	for _, o := range optOuts { // in the order they were taken
		if err := s.Mongo.ApplyOptOut(ctx, o); err != nil {
			return 0, err
		}
	}
	if err := s.MessageLog.Ack(ctx, ids...); err != nil {
		return 0, err
	}
	return len(es), nil
}

// RunMessageLog drains the message log queue until ctx ends. After a
// batch that was not full it waits messageLinger before it reads again,
// so that a busy log is written in batches, not an entry or two at a
// time.
func (s *Service) RunMessageLog(ctx context.Context, consumer string, log *slog.Logger) {
	for ctx.Err() == nil {
		n, err := s.logBatch(ctx, consumer, 2*time.Second)
		wait := time.Duration(0)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("message log: MongoDB did not take a batch; retrying", "err", err)
			wait = 5 * time.Second
		case n > 0 && n < messageBatch:
			wait = messageLinger
		}
		if wait > 0 {
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
		}
	}
}

// messageLinger is how long the message log waits after a batch that was
// not full before it reads again. Each batch costs its writes whatever
// its size (a cost-log insert and a transcript insert, each a transaction
// on FerretDB, and a transcript part per invitation it names): read as
// entries came, the SMS bench's log went in batches of about 19 entries,
// 1.6 transcript parts a response. A transcript or a cost line shows at
// most this much later.
const messageLinger = 250 * time.Millisecond
