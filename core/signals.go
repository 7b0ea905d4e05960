package core

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/store"
)

// The per-answer integrity signals (README, Integrity of the index) are
// raised as a response is completed and saved with it as its flags; a
// flag never changes or drops the answer, it only puts it before a
// reviewer above the rated agency. The signals that need other answers
// (one browser or phone answering many dossiers) flag the earlier ones
// after the fact (FlagLater).

// Signal thresholds; the speeder and kiosk_fast ones are settings.
const (
	DefaultSpeederSeconds   = 2
	DefaultKioskFastSeconds = 10
	// creatorWindow: a web answer from the address that made the
	// invitation this soon after is flagged creator_address.
	creatorWindow = 24 * time.Hour
	// deviceWindow and phoneWindow: this many dossiers (repeats)
	// answered from one browser, or by "DG <code>" from one phone,
	// within them flag every one of them.
	deviceWindow = 24 * time.Hour
	phoneWindow  = 30 * 24 * time.Hour
	// unitWindow: this many dossiers of one agency answered from one
	// browser within it flag them device_many too. A staff member who
	// fills one of the unit's surveys a day on their own phone never
	// reaches three in a day; a citizen rarely has three dossiers at one
	// office in a month.
	unitWindow = 30 * 24 * time.Hour
	repeats    = 3
	// speederSample answering times of a form (and channel) are needed
	// before its slow tail counts: below that only the per-question floor
	// flags; past it, also a log-time more than speederDeviations below
	// the mean of the form's log-times.
	speederSample     = 100
	speederDeviations = 2.0
)

// Kinds of answers counted across responses (store.Signals).
const (
	countDevice = "device"
	countUnit   = "device-unit"
	countPhone  = "phone"
)

// raised is what raise leaves for count, once the response is saved:
// whom to count it under, and the answering time to add to its form's.
type raised struct {
	device, phone string
	unit          string // the browser and the agency answered
	moments       string // the form's moments; "" adds nothing
	logTime       float64
}

// raise sets r's provenance and the flags it is saved with. A signal
// whose data cannot be read now is not raised: the answer is taken
// whatever happens to its signals.
func (s *Service) raise(ctx context.Context, ss *Session, c Completion, r *store.Response) raised {
	now, inv := r.SubmittedAt, ss.Invitation
	p := s.provenance(ss, c, now)
	r.Provenance = p
	var out raised
	var flags []string
	if c.VerifiedBy == store.VerifiedToken {
		flags = append(flags, s.webFlags(ctx, inv, c.Address, now)...)
		out.device = p.Device
		if p.Device != "" {
			out.unit = p.Device + "|" + inv.AgencyCode
		}
	}
	if c.Sender != "" && s.lists(ctx).staffPhone(inv.AgencyCode, c.Sender) {
		flags = append(flags, store.FlagStaffPhone)
	}
	if c.VerifiedBy == store.VerifiedDossierCode && c.Sender != "" {
		out.phone = c.Sender
		if s.DossierCodeAnswers != "on" {
			flags = append(flags, store.FlagUnverifiedPhone)
		}
	}
	if c.VerifiedBy == store.VerifiedKiosk && !c.Start.IsZero() && p.SecondsToComplete < cmp.Or(s.KioskFastSeconds, DefaultKioskFastSeconds) {
		flags = append(flags, store.FlagKioskFast)
	}
	counts := s.readCounts(ctx, &out, r, p)
	if out.device != "" && (counts.device+1 >= repeats || out.unit != "" && counts.unit+1 >= repeats) {
		flags = append(flags, store.FlagDeviceMany)
	}
	if n := counts.phone; out.phone != "" && n+1 >= repeats {
		flags = append(flags, store.FlagPhoneMany)
	}
	if p.SecondsAnswering != nil && (c.VerifiedBy == store.VerifiedToken || c.VerifiedBy == store.VerifiedKiosk) {
		floor := *p.SecondsAnswering < cmp.Or(s.SpeederSeconds, DefaultSpeederSeconds)*float64(len(c.Answers))
		out.logTime = logTime(*p.SecondsAnswering)
		if floor || slowTail(counts.moments, out.logTime) {
			flags = append(flags, store.FlagSpeeder)
		}
		if !floor { // a certain speeder would drag the form's times down
			out.moments = r.Survey + ":" + c.VerifiedBy
		}
	}
	r.Flags, _ = store.AddFlags(nil, flags...)
	if len(r.Flags) == 0 {
		r.Flags = nil
	}
	return out
}

// webFlags are the signals of a web client at address (raw) answering
// inv, or rating the answer to its case: office_network (an address in
// any agency's staff networks) and creator_address (the address that made
// the invitation through the API, within a day of it).
func (s *Service) webFlags(ctx context.Context, inv *store.Invitation, address string, now time.Time) []string {
	a, ok := clientAddr(address)
	if !ok {
		return nil
	}
	var out []string
	if s.lists(ctx).inOffice(a) {
		out = append(out, store.FlagOfficeNetwork)
	}
	if inv.CreatedFrom != "" && inv.CreatedFrom == s.addressHash(a) && now.Sub(inv.CreatedAt) <= creatorWindow {
		out = append(out, store.FlagCreatorAddress)
	}
	return out
}

// counts are what other answers raise reads: the dossiers the browser
// and the phone answered before in their windows, and the form's moments.
type counts struct {
	device, phone, unit int
	moments             store.Moments
}

// readCounts reads r's counts in one round trip (zero when unknown).
func (s *Service) readCounts(ctx context.Context, out *raised, r *store.Response, p *store.Provenance) counts {
	var c counts
	if s.Signals == nil || (out.device == "" && out.phone == "" && p.SecondsAnswering == nil) {
		return c
	}
	var device, phone, unit func() ([]string, error)
	var moments func() (store.Moments, error)
	pipe := s.Signals.R.Pipeline() // by hand: a closure's captured reads are each an allocation
	if out.device != "" {
		device = s.Signals.RecentIn(ctx, pipe, countDevice, out.device, r.SubmittedAt.Add(-deviceWindow))
	}
	if out.unit != "" {
		unit = s.Signals.RecentIn(ctx, pipe, countUnit, out.unit, r.SubmittedAt.Add(-unitWindow))
	}
	if out.phone != "" {
		phone = s.Signals.RecentIn(ctx, pipe, countPhone, out.phone, r.SubmittedAt.Add(-phoneWindow))
	}
	if p.SecondsAnswering != nil {
		moments = s.Signals.MomentsIn(ctx, pipe, r.Survey+":"+p.VerifiedBy)
	}
	_, _ = pipe.Exec(ctx) // each read carries its own error
	if device != nil {
		ids, _ := device()
		c.device = len(ids)
	}
	if phone != nil {
		ids, _ := phone()
		c.phone = len(ids)
	}
	if unit != nil {
		ids, _ := unit()
		c.unit = len(ids)
	}
	if moments != nil {
		c.moments, _ = moments()
	}
	return c
}

// slowTail reports whether a log-time is more than speederDeviations
// standard deviations below the mean of a form's log-times, once the
// form has speederSample of them. Answering times are skewed (a few
// citizens leave the page open for hours), so the rule works on their
// logarithm.
func slowTail(m store.Moments, x float64) bool {
	if m.N < speederSample {
		return false
	}
	n := float64(m.N)
	mean := m.Sum / n
	variance := (m.SumSq - m.Sum*mean) / (n - 1)
	if variance <= 0 {
		return false
	}
	return x < mean-speederDeviations*math.Sqrt(variance)
}

// logTime is the logarithm of an answering time, from a second up (an
// answer in no time at all has no logarithm).
func logTime(seconds float64) float64 { return math.Log(max(seconds, 1)) }

// countIn queues on p the notes of the saved response r under its
// browser and phone and the addition of its answering time to its
// form's; the function returned, once p has run, flags the earlier
// answers of a window that now holds repeats. Best effort: the answer is
// saved.
func (s *Service) countIn(ctx context.Context, p redis.Pipeliner, r *store.Response, rs raised) func() {
	var device, phone, unit func() ([]string, error)
	if rs.device != "" {
		device = s.Signals.RepeatIn(ctx, p, countDevice, rs.device, r.ID, r.SubmittedAt, deviceWindow)
	}
	if rs.unit != "" {
		unit = s.Signals.RepeatIn(ctx, p, countUnit, rs.unit, r.ID, r.SubmittedAt, unitWindow)
	}
	if rs.phone != "" {
		phone = s.Signals.RepeatIn(ctx, p, countPhone, rs.phone, r.ID, r.SubmittedAt, phoneWindow)
	}
	if rs.moments != "" {
		s.Signals.AddMomentIn(ctx, p, rs.moments, r.ID, rs.logTime)
	}
	return func() {
		s.flagRepeats(ctx, r, device, store.FlagDeviceMany)
		s.flagRepeats(ctx, r, unit, store.FlagDeviceMany)
		s.flagRepeats(ctx, r, phone, store.FlagPhoneMany)
	}
}

// flagRepeats flags after the fact the answers of a window that holds
// repeats with r: the others when it reaches repeats (later answers are
// flagged as they are saved), and r itself when it was saved unflagged
// (two answers at once, each of which saw too few before it).
func (s *Service) flagRepeats(ctx context.Context, r *store.Response, window func() ([]string, error), flag string) {
	if window == nil {
		return
	}
	ids, err := window()
	if err != nil || len(ids) < repeats {
		return
	}
	var later []string
	if len(ids) == repeats {
		later = slices.DeleteFunc(ids, func(id string) bool { return id == r.ID })
	}
	if !slices.Contains(r.Flags, flag) {
		later = append(later, r.ID)
	}
	_ = s.FlagLater(ctx, later, flag) // idempotent per response and flag
}
