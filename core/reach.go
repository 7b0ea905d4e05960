package core

import (
	"context"
	"strconv"
	"time"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Reach is how the gateway reaches citizens without pestering them: the
// hours messages and calls go out in, one reminder, and the limits per
// phone (docs/reach.md). A Service without one sends at any hour, with no
// reminder and no limit.
type Reach struct {
	// Send and Call are the gateway's windows (an agency's send_hours
	// and call_hours override them for its subtree).
	Send, Call survey.Hours
	// ReminderAfter is how long after an invitation was sent, unanswered,
	// its reminder goes (0: none).
	ReminderAfter time.Duration
	// ContactEvery is how long one invitation holds a phone's contact
	// window (0: no limit); DailyMessages the most messages a day to one
	// phone (0: no limit).
	ContactEvery  time.Duration
	DailyMessages int
	Contacts      *store.Contacts
}

// Hours is the window messages of a channel family (voice: calls) to the
// citizens of agency go out in: the agency's own, or the nearest parent's
// that has one, or the gateway's.
func (s *Service) Hours(ctx context.Context, agency, family string) survey.Hours {
	r := s.Reach
	if r == nil {
		return survey.Hours{}
	}
	kind, h := "send:", r.Send
	if family == "voice" {
		kind, h = "call:", r.Call
	}
	v := s.lists(ctx)
	for _, code := range v.lineage(agency) {
		if set, ok := v.hours[kind+code]; ok {
			if own, err := survey.ParseHours(set); err == nil {
				own.WorkingDays = h.WorkingDays
				return own
			}
		}
	}
	return h
}

// SendAt is when a message due at t for agency's citizens on family may
// go: t inside the hours, else spread over the first hour after they open
// (key picks the share: the job's id).
func (s *Service) SendAt(ctx context.Context, agency, family, key string, t time.Time) time.Time {
	return s.Hours(ctx, agency, family).Later(t, key, s.Calendar)
}

// vnDay is t's date in Vietnam time, the day the daily limit counts.
func vnDay(t time.Time) string { return t.In(Vietnam).Format(time.DateOnly) }

// TakeMessage takes one of the day's messages to phone who (a keyed
// hash) for send (a job's id and attempt, see SendOf), at now; false when
// the day's are used up (the message waits for the next day's window).
// Always true without a limit or a phone.
func (s *Service) TakeMessage(ctx context.Context, who, send string, now time.Time) (bool, error) {
	r := s.Reach
	if r == nil || r.DailyMessages <= 0 || r.Contacts == nil || who == "" {
		return true, nil
	}
	return r.Contacts.TakeDaily(ctx, who, vnDay(now), send, r.DailyMessages)
}

// GiveBackMessage returns the message TakeMessage took for send at now,
// which did not go out.
func (s *Service) GiveBackMessage(ctx context.Context, who, send string, now time.Time) {
	r := s.Reach
	if r == nil || r.DailyMessages <= 0 || r.Contacts == nil || who == "" {
		return
	}
	_ = r.Contacts.GiveBackDaily(ctx, who, vnDay(now), send)
}

// SendOf names attempt j.Attempt of send job j, which takes one of the
// day's messages.
func SendOf(j store.SendJob) string { return j.ID + "#" + strconv.Itoa(j.Attempt) }

// ClaimContact makes inv the one survey invitation that contacts its phone
// in the contact window; false when another holds it (this one's send is
// then skipped with reason contact_limit).
func (s *Service) ClaimContact(ctx context.Context, inv *store.Invitation) (bool, error) {
	r := s.Reach
	if r == nil || r.ContactEvery <= 0 || r.Contacts == nil || inv.Respondent == "" {
		return true, nil
	}
	holder, err := r.Contacts.ClaimContact(ctx, inv.Respondent, inv.ID, s.now(), r.ContactEvery)
	return holder == inv.ID, err
}

// ReleaseContact gives inv's phone its contact window back when no send
// of inv reached it.
func (s *Service) ReleaseContact(ctx context.Context, inv *store.Invitation) {
	r := s.Reach
	if r == nil || r.Contacts == nil || inv.Respondent == "" {
		return
	}
	for _, st := range inv.Sends {
		if st.Kind == "" && (st.Status == store.SendSent || st.Status == store.SendDelivered) {
			return
		}
	}
	_ = r.Contacts.ReleaseContact(ctx, inv.Respondent, inv.ID)
}

// ReminderDue is when inv, sent at sentAt, gets its reminder; false when
// it gets none (reminders off, or it would come after inv expires).
func (s *Service) ReminderDue(inv *store.Invitation, sentAt time.Time) (time.Time, bool) {
	r := s.Reach
	if r == nil || r.ReminderAfter <= 0 {
		return time.Time{}, false
	}
	at := sentAt.Add(r.ReminderAfter)
	return at, at.Before(inv.ExpiresAt)
}

// Reminded counts inv's reminder, sent on a channel of family, in the
// reach figures, and drops inv's working copy so that an answer from now
// on reads the reminder (its response is counted completed after it).
func (s *Service) Reminded(ctx context.Context, inv *store.Invitation, family string) error {
	if s.Cache != nil {
		_ = s.Cache.Forget(ctx, inv.ID)
	}
	return s.noteFunnel(ctx, inv, store.FunnelReminded, family)
}

// opened counts inv opened by its citizen on family (web: the survey page
// seen; zalo: the chat begun) in the reach figures, once however often it
// is told (the roll-up writer counts one an invitation and family). A
// failure to note it only loses the figure: the page is served all the
// same.
func (s *Service) opened(ctx context.Context, inv *store.Invitation, family string) {
	_ = s.noteFunnel(ctx, inv, store.FunnelOpened, family)
}

// viewed counts inv's survey page first seen at at as opened on the web,
// held until the invitation's response, which carries it, is stored
// (heldMarks) or the opening is store.OpenedAfter old: an invitation
// answered meanwhile is then recorded opened and completed in one update
// of MongoDB.
func (s *Service) viewed(ctx context.Context, inv *store.Invitation, at time.Time) {
	if s.Funnel != nil {
		_ = s.Funnel.Hold(ctx, webOpening(inv, at))
	}
}

// heldMarks are the marks of the held openings and starts of the
// invitations of stored responses: the responses carry them
// (store.Response.OpenedAt; a completion counts its invitation's start),
// so they are released with the responses' outbox entries. A failure only
// leaves them held until due, when their counted marks count them once.
func heldMarks(stored []*store.Response) []string {
	var marks []string
	for _, r := range stored {
		if r.InvitationID == "" {
			continue
		}
		marks = append(marks, store.FunnelEvent{Step: store.FunnelStarted, Invitation: r.InvitationID}.Mark())
		if r.OpenedAt != nil {
			marks = append(marks, store.FunnelEvent{Step: store.FunnelOpened, Invitation: r.InvitationID, Family: "web"}.Mark())
		}
	}
	return marks
}

// webOpening is the event of inv's survey page first seen at at.
func webOpening(inv *store.Invitation, at time.Time) store.FunnelEvent {
	e := funnelEvent(inv, store.FunnelOpened, "web")
	e.At = at
	return e
}

// noteStart counts invitation e.Invitation started on family in the reach
// figures (once an invitation, whatever the family: the first counted
// wins). The start is held like a page's opening (store.Funnel.Hold): a
// completion within store.OpenedAfter counts it with itself, so the
// invitation is written once; one left unanswered is counted then, at
// its time. Lost only as a figure when Redis fails: the answers are kept.
func (s *Service) noteStart(ctx context.Context, e store.FunnelEvent, family string) {
	if s.Funnel == nil {
		return
	}
	e.Step, e.Family, e.At = store.FunnelStarted, family, s.now()
	_ = s.Funnel.Hold(ctx, e)
}

// chatOpened counts inv opened in a Zalo chat (the citizen began its
// survey there) in the reach figures; an SMS conversation is not counted
// opened: a text's reading is not seen.
func (s *Service) chatOpened(ctx context.Context, inv *store.Invitation, in Inbound) {
	if in.Channel != nil && Family(in.Channel.Type) == "zalo" {
		s.opened(ctx, inv, "zalo")
	}
}

// spentEvents are what sent messages cost, for the cost figures: one
// event a message (its mark is the message's id), noted once the cost log
// has them. A message that names its invitation but not the invitation's
// agency (a reply about another invitation than the conversation's) takes
// them from the invitation, before it is logged.
func (s *Service) spentEvents(ctx context.Context, sent []*store.Message) []store.FunnelEvent {
	var events []store.FunnelEvent
	for _, m := range sent {
		ch, err := s.Channel(ctx, m.Channel)
		if err != nil {
			continue // a deleted channel's messages are not counted (nor are its sends)
		}
		if m.Agency == "" && m.Invitation != "" && store.SpendUnits(Family(ch.Type), m) > 0 {
			if inv, err := s.invitationByID(ctx, m.Invitation); err == nil {
				m.Agency, m.Month, m.Survey = inv.AgencyCode, store.MonthOf(inv.CreatedAt), inv.Survey
			}
		}
		if e, ok := m.SpentEvent(Family(ch.Type)); ok {
			events = append(events, e)
		}
		events = append(events, m.CallEvents()...)
	}
	return events
}
