package core

import (
	"context"
	"errors"
	"net/netip"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/bson/primitive"

	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// NewInvitation is what desk software sends to invite a dossier's citizen.
type NewInvitation struct {
	DossierCode   string   `json:"dossier_code"`
	AgencyCode    string   `json:"agency_code"`
	ProcedureCode string   `json:"procedure_code"`
	FieldCode     string   `json:"field_code"`
	Phone         string   `json:"phone"`
	Survey        string   `json:"survey"`
	Locale        string   `json:"locale"`
	Send          []string `json:"send"`
	// From is the address of the client that asks (set by the HTTP
	// layer, never read from a body): the invitation keeps its keyed hash
	// for the creator_address signal.
	From string `json:"-"`
}

var (
	dossierRe   = regexp.MustCompile(`^[A-Za-z0-9.\-_/]{1,64}$`)
	agencyRe    = regexp.MustCompile(`^[0-9A-Z]+(\.[0-9A-Z]+)*$`)
	procedureRe = regexp.MustCompile(`^[A-Za-z0-9.\-_]{1,64}$`)
	fieldRe     = regexp.MustCompile(`^[A-Za-z0-9.\-_]{1,32}$`)
)

// DefaultSurvey is the survey of an invitation that names none: the full
// SIPAS form, the one the index is computed from.
const DefaultSurvey = survey.SIPAS

// ValidAgencyCode reports whether code has the shape of an agency code.
func ValidAgencyCode(code string) bool { return len(code) <= 35 && agencyRe.MatchString(code) }

// validate checks and cleans n, returning the canonical phone.
func (s *Service) validate(n *NewInvitation) (string, error) {
	n.DossierCode = strings.TrimSpace(n.DossierCode)
	n.AgencyCode = strings.TrimSpace(n.AgencyCode)
	switch {
	case n.DossierCode == "":
		return "", Errorf(Invalid, "dossier_code", "required: the dossier's code, e.g. 000.00.12.H49-201105-0042")
	case !dossierRe.MatchString(n.DossierCode):
		return "", Errorf(Invalid, "dossier_code", "use at most 64 characters of letters, digits and . - _ /")
	case n.AgencyCode == "":
		return "", Errorf(Invalid, "agency_code", "required: the agency's code, e.g. 000.00.12.H49")
	case !ValidAgencyCode(n.AgencyCode):
		return "", Errorf(Invalid, "agency_code", "use at most 35 characters of digits, capital letters and dots, e.g. 000.00.12.H49")
	case n.ProcedureCode != "" && !procedureRe.MatchString(n.ProcedureCode):
		return "", Errorf(Invalid, "procedure_code", "use at most 64 characters of letters, digits and . - _, e.g. 1.011442.000.00.00.H49")
	case n.FieldCode != "" && !fieldRe.MatchString(n.FieldCode):
		return "", Errorf(Invalid, "field_code", "use at most 32 characters of letters, digits and . - _, e.g. G03-GD10")
	}
	if n.Survey == "" {
		n.Survey = string(DefaultSurvey)
	}
	if _, ok := s.Surveys.Survey(survey.ID(n.Survey)); !ok {
		return "", Errorf(Invalid, "survey", "unknown survey %q; use one of %s", n.Survey, s.Surveys.IDs())
	}
	if n.Locale == "" {
		n.Locale = "vi"
	}
	if n.Locale != "vi" && n.Locale != "en" {
		return "", Errorf(Invalid, "locale", "%q is not vi or en", n.Locale)
	}
	if n.Phone == "" {
		if len(n.Send) > 0 {
			return "", Errorf(Invalid, "phone", "required to send the invitation by %s", n.Send[0])
		}
		return "", nil
	}
	p, err := survey.CanonicalPhone(n.Phone)
	if err != nil {
		return "", Errorf(Invalid, "phone", "%s", err.Error())
	}
	return p, nil
}

// CreateInvitation makes the dossier's invitation, or returns the one it
// already has (created=false): one invitation per dossier, even when desk
// software sends the same request twice at once.
func (s *Service) CreateInvitation(ctx context.Context, n NewInvitation) (*store.Invitation, bool, error) {
	phone, err := s.validate(&n)
	if err != nil {
		return nil, false, err
	}
	agencyName, agencyShort, registered, err := s.agencyName(ctx, n.AgencyCode)
	if err != nil {
		return nil, false, err
	}
	if s.RequireAgencies && !registered {
		return nil, false, Errorf(Invalid, "agency_code", "%s is not a registered agency; register it first (PUT /api/v1/agencies/%s) or check the desk software's setting", n.AgencyCode, n.AgencyCode)
	}
	if err := s.checkDossierOwner(ctx, &n); err != nil {
		return nil, false, err
	}
	var chans []*store.Channel
	for _, entry := range n.Send {
		ch, err := s.ResolveChannel(ctx, entry)
		if err != nil {
			return nil, false, err
		}
		chans = append(chans, ch)
	}
	now := store.Millis(s.now())
	inv := &store.Invitation{
		ID:            primitive.NewObjectID().Hex(),
		Token:         string(qr.NewToken()),
		DossierCode:   n.DossierCode,
		AgencyCode:    n.AgencyCode,
		AgencyName:    agencyName,
		AgencyShort:   agencyShort,
		ProcedureCode: n.ProcedureCode,
		FieldCode:     n.FieldCode,
		Survey:        n.Survey,
		Locale:        n.Locale,
		Status:        store.StatusPending,
		CreatedAt:     now,
		ExpiresAt:     now.Add(s.InvitationTTL),
	}
	if phone != "" {
		inv.PhoneSealed = s.Sealer.Seal(phone)
		inv.Respondent = s.Sealer.Hash(phone)
	}
	inv.CreatedFrom = s.creator(ctx, n.AgencyCode, n.From)
	res, err := s.createInvitation(ctx, inv)
	if err != nil {
		return nil, false, err
	}
	inv, created, first := res.Invitation, res.Created, res.First
	if !created && inv.AgencyCode != n.AgencyCode {
		return nil, false, Errorf(Conflict, "dossier_code", "dossier %s already has an invitation for another agency; check the dossier code", n.DossierCode)
	}
	// Also on a repeated request: one that failed here is retried (an
	// event noted twice counts once).
	if err := s.noteFunnel(ctx, inv, store.FunnelCreated, ""); err != nil {
		return nil, false, Errorf(Unavailable, "", "the invitation is saved but not yet counted in reports: %v; retry the request", err)
	}
	if err := s.indexInvitation(ctx, inv, first); err != nil {
		return nil, false, Errorf(Unavailable, "", "the invitation is saved but replies from its phone cannot find it yet: %v; retry the request", err)
	}
	if s.Dossiers != nil {
		if err := s.Dossiers.Add(ctx, inv); err != nil {
			return nil, false, Errorf(Unavailable, "", "the invitation is saved but the console's search cannot find it yet: %v; retry the request", err)
		}
	}
	if s.Cache != nil {
		s.Cache.Put(ctx, inv) // its working copy: citizens' paths read no MongoDB
	}
	if !created {
		// A repeated request sends only where nothing was sent: a channel
		// not yet asked for, or one whose queueing failed last time.
		var again []*store.Channel
		for _, ch := range chans {
			if st, ok := inv.Sends[ch.ID]; !ok || st.Status == store.SendQueued {
				again = append(again, ch)
			}
		}
		chans = again
	}
	return inv, created, s.Enqueue(ctx, inv, chans)
}

// creator is the keyed hash an invitation keeps of the address that made
// it, from; none when that is a dossier server of the agency or of one
// above it (every citizen's invitation comes from there, so answering
// from there says nothing), or unknown.
func (s *Service) creator(ctx context.Context, agency, from string) string {
	a, ok := clientAddr(from)
	if !ok || s.lists(ctx).dossierServer(agency, a) {
		return ""
	}
	return s.addressHash(a)
}

// clientAddr reads a client's address as the HTTP layer gives it (an
// IPv4 address mapped into IPv6 is the IPv4 one).
func clientAddr(raw string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(raw)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// addressHash is the keyed hash a client's address is kept as: the
// invitation's creator and the web answer compare these, never the
// address.
func (s *Service) addressHash(a netip.Addr) string { return s.Sealer.Hash("addr:" + a.String()) }

// createKey names the group commit of invitation creations.
type createKey struct{ *store.Invitations }

// createInvitation stores inv, batched with the creations of concurrent
// requests (see groupCommit and store.Invitations.CreateMany).
func (s *Service) createInvitation(ctx context.Context, inv *store.Invitation) (store.Created, error) {
	var out store.Created
	type item struct {
		inv *store.Invitation
		res *store.Created
	}
	err := groupOf[item](createKey{s.Mongo.Invitations}).do(ctx, item{inv, &out}, func(ctx context.Context, items []item) ([]error, error) {
		invs := make([]*store.Invitation, len(items))
		for i, it := range items {
			invs[i] = it.inv
		}
		rs, err := s.Mongo.Invitations.CreateMany(ctx, invs)
		if err != nil {
			return nil, err
		}
		errs := make([]error, len(items))
		for i, it := range items {
			*it.res, errs[i] = rs[i], rs[i].Err
		}
		return errs, nil
	})
	return out, err
}

// noteFunnel notes a step of inv for the response-rate roll-ups (see
// store.Funnel); family names the channel family of a send.
func (s *Service) noteFunnel(ctx context.Context, inv *store.Invitation, step, family string) error {
	if s.Funnel == nil {
		return nil
	}
	return s.Funnel.Note(ctx, funnelEvent(inv, step, family))
}

// funnelEvent is inv's step on a channel of family.
func funnelEvent(inv *store.Invitation, step, family string) store.FunnelEvent {
	return store.FunnelEvent{Step: step, Invitation: inv.ID, Agency: inv.AgencyCode,
		Month: store.MonthOf(inv.CreatedAt), Family: family, Survey: inv.Survey}
}

// NoteSent counts inv as sent through a channel of family (sms, zalo) in
// the response rates, once however often it is told.
func (s *Service) NoteSent(ctx context.Context, inv *store.Invitation, family string) error {
	return s.noteFunnel(ctx, inv, store.FunnelSent, family)
}

// Phone opens an invitation's phone number.
func (s *Service) Phone(inv *store.Invitation) (string, error) {
	if len(inv.PhoneSealed) == 0 {
		return "", Errorf(Invalid, "phone", "the invitation has no phone number")
	}
	return s.Sealer.Open(inv.PhoneSealed)
}

// Invitation returns an invitation by id, or a not_found error.
func (s *Service) Invitation(ctx context.Context, id string) (*store.Invitation, error) {
	inv, err := s.Mongo.Invitations.Invitation(ctx, id)
	if err == nil {
		s.current(ctx, inv) // the roll-up writer marks it in MongoDB shortly
	}
	return inv, notFoundAs(err, "invitation %s does not exist", id)
}

// InvitationByDossier returns the invitation of a dossier code.
func (s *Service) InvitationByDossier(ctx context.Context, code string) (*store.Invitation, error) {
	inv, err := s.Mongo.Invitations.ByDossier(ctx, code)
	if err == nil {
		s.current(ctx, inv) // as by id: a completion may not be in MongoDB yet
	}
	return inv, notFoundAs(err, "no invitation for dossier %s", code)
}

func notFoundAs(err error, format string, a ...any) error {
	if errors.Is(err, store.ErrNotFound) {
		return Errorf(NotFound, "", format, a...)
	}
	return err
}

// SurveyURL is the link a QR code carries.
func (s *Service) SurveyURL(inv *store.Invitation) string {
	return s.BaseURL + "/s/" + inv.Token
}

// Transcribed is text sent for inv as its transcript keeps it: the survey
// link's token, which answers for the citizen, cut to "…".
func (s *Service) Transcribed(inv *store.Invitation, text string) string {
	if inv.Token == "" {
		return text
	}
	return strings.ReplaceAll(text, inv.Token, "…")
}

// Now is the service's clock, in UTC (tests set Clock).
func (s *Service) Now() time.Time { return s.now() }

// now is the service's clock, in UTC.
func (s *Service) now() time.Time {
	if s.Clock != nil {
		return s.Clock().UTC()
	}
	return time.Now().UTC()
}

// agencyName returns the registered name and short name of an agency
// code, and whether it is registered; they are kept a minute in the
// process, so a burst of invitations reads the registry once.
func (s *Service) agencyName(ctx context.Context, code string) (name, short string, registered bool, err error) {
	if s.AgencyNames != nil {
		if v, ok := s.AgencyNames.Load(code); ok && time.Since(v.(cachedName).at) < time.Minute {
			c := v.(cachedName)
			return c.name, c.short, c.registered, nil
		}
	}
	ag, err := s.Mongo.Agencies.Agency(ctx, code)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", "", false, err
	}
	c := cachedName{at: time.Now()}
	if ag != nil {
		c.name, c.short, c.registered = ag.Name, ag.ShortName, true
	}
	if s.AgencyNames != nil {
		s.AgencyNames.Store(code, c)
	}
	return c.name, c.short, c.registered, nil
}

type cachedName struct {
	name, short string
	registered  bool
	at          time.Time
}

// InviteText is the invitation message for a chat channel: it asks for
// every score in one reply and, room allowing, names the office and the
// dossier and carries the survey link. It picks the fullest text that
// fits one SMS part; the reply instructions are never dropped.
//
// With the agency's short name, what gives way first is the survey link
// (a reply answers without it), then the full name for the short one,
// then the dossier code: the office, by either name, always stays, as it
// is what a citizen recognises. Each step is tried with the link back,
// and, once the dossier code is gone, with the full name back. When
// nothing fits one part (a Unicode SMS), the shortest text naming the
// office is sent: the fewest parts, and of the texts that many parts
// long the fullest, since a dossier code that costs no extra part is
// worth sending.
//
// Without a short name the fallbacks are as before: the full name, then
// the dossier code, then neither, each first with the link and then
// without it.
func (s *Service) InviteText(inv *store.Invitation, render func(survey.Text) string) string {
	return s.inviteText(inv, render, inviteHead)
}

// ReminderText is the text of an invitation's one reminder: the
// invitation's, headed as a reminder, in as few parts.
func (s *Service) ReminderText(inv *store.Invitation, render func(survey.Text) string) string {
	return s.inviteText(inv, render, reminderHead)
}

func (s *Service) inviteText(inv *store.Invitation, render func(survey.Text) string, heading func(dossier, office string) survey.Text) string {
	def := s.ChatSurvey(inv.Survey)
	ask, link := render(def.AskAll()), render(survey.Text{VI: "Hoặc: " + s.SurveyURL(inv), EN: "Or: " + s.SurveyURL(inv)})
	head := func(dossier, office string) string { return render(heading(dossier, office)) }
	if inv.AgencyShort == "" {
		return unshortInviteText(inv, ask, link, head)
	}
	var candidates []string
	for _, dossier := range []string{inv.DossierCode, ""} {
		for _, office := range []string{inv.AgencyName, inv.AgencyShort} {
			h := head(dossier, office)
			candidates = append(candidates, h+" "+ask+" "+link, h+" "+ask)
		}
	}
	best, fewest := "", 0
	for _, c := range candidates { // the fullest of the fewest parts
		if _, parts := survey.SMSParts(c); best == "" || parts < fewest {
			best, fewest = c, parts
		}
	}
	return best
}

// unshortInviteText is InviteText for an agency without a short name, or
// an unregistered one.
func unshortInviteText(inv *store.Invitation, ask, link string, head func(dossier, office string) string) string {
	named, plain := head(inv.DossierCode, ""), head("", "")
	candidates := []string{named + " " + ask + " " + link, plain + " " + ask + " " + link, named + " " + ask, plain + " " + ask}
	if inv.AgencyName != "" {
		at := head("", inv.AgencyName)
		// With the link first (the web form is the other way to answer),
		// then without it.
		candidates = []string{at + " " + ask + " " + link, candidates[0], candidates[1], at + " " + ask, candidates[2], candidates[3]}
	}
	for _, c := range candidates {
		if _, parts := survey.SMSParts(c); parts == 1 {
			return c
		}
	}
	return candidates[1]
}

// inviteHead opens an invitation: "Đánh giá HS <dossier> tại <office>:",
// either left out when empty. The English names the office without
// diacritics, which would make the SMS Unicode: more parts.
func inviteHead(dossier, office string) survey.Text {
	en := survey.Unaccent(office)
	switch {
	case dossier != "" && office != "":
		return survey.Text{VI: "Đánh giá HS " + dossier + " tại " + office + ":", EN: "Rate dossier " + dossier + " at " + en + ":"}
	case dossier != "":
		return survey.Text{VI: "Đánh giá HS " + dossier + ":", EN: "Rate dossier " + dossier + ":"}
	case office != "":
		return survey.Text{VI: "Đánh giá hồ sơ tại " + office + ":", EN: "Rate your dossier at " + en + ":"}
	}
	return survey.Text{VI: "Đánh giá hồ sơ vừa nhận:", EN: "Rate your dossier:"}
}

// reminderHead heads a reminder: the invitation's head, asked again.
func reminderHead(dossier, office string) survey.Text {
	h := inviteHead(dossier, office)
	lower := func(s string) string { r, n := utf8.DecodeRuneInString(s); return string(unicode.ToLower(r)) + s[n:] }
	return survey.Text{VI: "Nhắc lại: xin " + lower(h.VI), EN: "Reminder: please " + lower(h.EN)}
}
