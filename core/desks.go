package core

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// KioskFamily is the channel family of answers taken on a desk's kiosk
// (store.Desk.Channel names each answer's channel).
const KioskFamily = store.KioskFamily

// DeskInput is the body of PUT /api/v1/desks/{id}.
type DeskInput struct {
	AgencyCode string `json:"agency_code"`
	Name       string `json:"name"`
	Officer    string `json:"officer"`
	// Form is "short" (the default: one screen per criterion) or "full"
	// (every SIPAS indicator).
	Form string `json:"form"`
	// OfficerPIN, 6–8 digits, lets the officer show a dossier from the
	// tablet itself; never shown back; "" keeps the current one, "-"
	// removes it.
	OfficerPIN string `json:"officer_pin,omitempty"`
}

var (
	deskIDRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)
	pinRe    = regexp.MustCompile(`^[0-9]{6,8}$`)
)

// Kiosk limits, each counted apart so one cannot starve another.
const (
	officerRate = 30 // dossiers shown from a desk's tablet (PIN tries) in 10 minutes
	authRate    = 30 // refused device tokens per address a minute
)

// PutDesk registers or changes a desk and gives a new one-time pairing
// code for a tablet (valid store.PairTTL). An agency key may only place
// desks in its subtree.
func (s *Service) PutDesk(ctx context.Context, p *Principal, id string, in DeskInput) (*store.Desk, string, error) {
	in.AgencyCode, in.Name, in.Officer = strings.TrimSpace(in.AgencyCode), survey.CleanText(in.Name), survey.CleanText(in.Officer)
	switch {
	case !deskIDRe.MatchString(id):
		return nil, "", Errorf(Invalid, "id", "use 1–32 lower-case letters, digits, - and _, starting with a letter or digit, e.g. quay-03")
	case in.AgencyCode == "":
		return nil, "", Errorf(Invalid, "agency_code", "required: the agency the desk serves, e.g. 000.00.12.H49")
	case !ValidAgencyCode(in.AgencyCode):
		return nil, "", Errorf(Invalid, "agency_code", "use at most 35 characters of digits, capital letters and dots, e.g. 000.00.12.H49")
	case in.Name == "" || utf8.RuneCountInString(in.Name) > 100:
		return nil, "", Errorf(Invalid, "name", "required: the desk's name as citizens see it, at most 100 characters, e.g. Quầy số 3")
	case utf8.RuneCountInString(in.Officer) > 100:
		return nil, "", Errorf(Invalid, "officer", "at most 100 characters")
	case in.Form != "" && in.Form != "short" && in.Form != "full":
		return nil, "", Errorf(Invalid, "form", "use short (one screen per criterion) or full (every SIPAS indicator)")
	case in.OfficerPIN != "" && in.OfficerPIN != "-" && !pinRe.MatchString(in.OfficerPIN):
		return nil, "", Errorf(Invalid, "officer_pin", "use 6 to 8 digits (or - to remove the PIN)")
	}
	if in.Form == "" {
		in.Form = "short"
	}
	if err := s.AgencyScope(ctx, p, in.AgencyCode); err != nil {
		return nil, "", err
	}
	d, err := s.Mongo.Desks.Desk(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		d = &store.Desk{ID: id, CreatedAt: s.now()} // Save makes its incarnation
	case err != nil:
		return nil, "", err
	default:
		if err := s.HeldScope(ctx, p, d.Agency, "id", "desk "+id); err != nil {
			return nil, "", err
		}
	}
	d.Agency, d.Name, d.Officer, d.Form, d.UpdatedAt = in.AgencyCode, in.Name, in.Officer, in.Form, s.now()
	switch in.OfficerPIN {
	case "":
	case "-":
		d.PINHash = ""
	default:
		d.PINHash = s.pinHash(id, in.OfficerPIN)
	}
	if err := s.Mongo.Desks.Save(ctx, d, in.OfficerPIN != ""); err != nil {
		return nil, "", err
	}
	if err := s.Kiosks.CacheDesk(ctx, d, false); err != nil { // its tablets read the new settings
		return nil, "", Errorf(Unavailable, "", "the desk is saved but its tablets may not see the change: %v; repeat the request", err)
	}
	code, err := s.offerPairing(ctx, d.Ref())
	if err != nil {
		return nil, "", Errorf(Unavailable, "", "the desk is saved but no pairing code could be made: %v; repeat the request", err)
	}
	_ = s.Audit(ctx, p, "desk.put", id, map[string]any{"agency_code": d.Agency, "name": d.Name, "officer": d.Officer, "form": d.Form})
	return d, code, nil
}

// offerPairing makes a desk's new pairing code, 8 random digits: typed
// on a tablet, useful for 15 minutes, once; the desk's previous code stops
// working.
func (s *Service) offerPairing(ctx context.Context, desk store.DeskRef) (string, error) {
	for {
		n, err := rand.Int(rand.Reader, big.NewInt(100_000_000))
		if err != nil {
			return "", err
		}
		code := fmt.Sprintf("%08d", n.Int64())
		if err := s.Kiosks.OfferPairing(ctx, code, desk); !errors.Is(err, store.ErrDuplicate) {
			return code, err
		}
	}
}

// pinHash keys an officer's PIN to its desk with the deployment's secret.
func (s *Service) pinHash(desk, pin string) string {
	return s.Sealer.Hash("desk-pin:" + desk + ":" + pin)
}

// AgencyScope refuses an agency-bound principal an agency outside its
// subtree. Its message names the agency: use it for an agency the caller
// named, and HeldScope for the agency of something stored.
func (s *Service) AgencyScope(ctx context.Context, p *Principal, agency string) error {
	return s.HeldScope(ctx, p, agency, "agency_code", "agency "+agency)
}

// HeldScope refuses an agency-bound principal something held by an agency
// outside its subtree; what names the thing ("desk quay-3"), never that
// agency, which a key of another branch has no business learning.
func (s *Service) HeldScope(ctx context.Context, p *Principal, agency, field, what string) error {
	if p.Agency == "" {
		return nil
	}
	ok, err := s.InSubtree(ctx, p.Agency, agency)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(Denied, field, "%s is outside this key's agency %s", what, p.Agency)
	}
	return nil
}

// Desk returns a desk the principal may see.
func (s *Service) Desk(ctx context.Context, p *Principal, id string) (*store.Desk, error) {
	d, err := s.Mongo.Desks.Desk(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, "desk %s does not exist; register it with PUT /api/v1/desks/%s", id, id)
	}
	if err := s.HeldScope(ctx, p, d.Agency, "", "desk "+id); err != nil {
		return nil, err
	}
	return d, nil
}

// Desks lists the desks the principal may see.
func (s *Service) Desks(ctx context.Context, p *Principal) ([]store.Desk, error) {
	all, err := s.Mongo.Desks.All(ctx)
	if err != nil || p.Agency == "" {
		return all, err
	}
	within, err := s.subtreeSet(ctx, p.Agency)
	if err != nil {
		return nil, err
	}
	out := []store.Desk{}
	for _, d := range all {
		if within[d.Agency] {
			out = append(out, d)
		}
	}
	return out, nil
}

// subtreeSet is an agency and every agency under it, from one read of the tree.
func (s *Service) subtreeSet(ctx context.Context, root string) (map[string]bool, error) {
	codes, err := s.Subtree(ctx, root)
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(codes))
	for _, c := range codes {
		set[c] = true
	}
	return set, nil
}

// RevokeDevice stops a desk's tablet at once: its token no longer works on
// any replica, and a kiosk waiting for a dossier is told.
func (s *Service) RevokeDevice(ctx context.Context, p *Principal, deskID, device string) error {
	d, err := s.Desk(ctx, p, deskID)
	if err != nil {
		return err
	}
	dev, ok := d.Devices[device]
	if !ok {
		return Errorf(NotFound, "device", "desk %s has no device %s", deskID, device)
	}
	if dev.RevokedAt != nil {
		return nil
	}
	if err := s.Kiosks.RevokeDevice(ctx, dev.Hash); err != nil { // first: every replica refuses it from now on
		return err
	}
	if err := s.Mongo.Desks.RevokeDevice(ctx, d.ID, dev, s.now()); err != nil {
		return err
	}
	_ = s.Kiosks.Wake(ctx, d.ID)
	return s.Audit(ctx, p, "kiosk.revoke", d.ID, map[string]any{"device": device})
}

// DeleteDesk removes a desk, stops its tablets and clears what named it:
// the dossiers presented there, its screen and its pairing code. A desk
// registered again under the id (by any agency) is a new incarnation, so
// whatever escapes the clearing (a presentation racing the delete, a mark
// Redis lost the list of) names the old one and is refused.
func (s *Service) DeleteDesk(ctx context.Context, p *Principal, id string) error {
	d, err := s.Desk(ctx, p, id)
	if err != nil {
		return err
	}
	for _, dev := range d.Devices {
		if err := s.Kiosks.RevokeDevice(ctx, dev.Hash); err != nil {
			return err
		}
	}
	if err := s.forgetPresented(ctx, id); err != nil { // before the desk: a retry finds it to clear again
		return err
	}
	if err := s.Mongo.Desks.Delete(ctx, id); err != nil {
		return err
	}
	if err := s.Kiosks.ForgetDesk(ctx, id); err != nil {
		return err
	}
	_ = s.Kiosks.Wake(ctx, id)
	return s.Audit(ctx, p, "desk.delete", id, nil)
}

// forgetPresented drops the marks that let a desk answer the dossiers
// presented there: in MongoDB (by _id), then in Redis, then their list.
// The list holds the dossiers presented within an invitation's life.
func (s *Service) forgetPresented(ctx context.Context, desk string) error {
	invs, err := s.Kiosks.PresentedAtDesk(ctx, desk)
	if err != nil {
		return err
	}
	for _, inv := range invs {
		if err := s.Mongo.Desks.ForgetPresented(ctx, inv, desk); err != nil {
			return err
		}
	}
	return s.Kiosks.ForgetPresented(ctx, desk, invs)
}

// Kiosk is a paired tablet, as its requests authenticate.
type Kiosk struct {
	Desk   *store.Desk
	Device string
	hash   string
}

// Pair turns a pairing code into a device token for the desk that offered
// it. The token is shown once; only its hash is kept.
func (s *Service) Pair(ctx context.Context, ip, code string) (string, *Kiosk, error) {
	if err := s.pairingTry(ctx, ip); err != nil {
		return "", nil, err
	}
	code = strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, code)
	if len(code) != 8 {
		return "", nil, Errorf(Invalid, "code", "the pairing code is 8 digits, as the console shows it")
	}
	ref, err := s.Kiosks.TakePairing(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, Errorf(Unauthenticated, "code", "this pairing code is wrong, used or older than 15 minutes; make a new one in the console")
	}
	if err != nil {
		return "", nil, err
	}
	d, err := s.Mongo.Desks.Desk(ctx, ref.ID)
	if err == nil && d.Ref() != ref { // removed, and registered again since the code was made
		err = store.ErrNotFound
	}
	if err != nil {
		return "", nil, notFoundAs(err, "desk %s was removed", ref.ID)
	}
	var raw [32]byte
	var id [4]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(id[:]); err != nil {
		return "", nil, err
	}
	token := "kt_" + base64.RawURLEncoding.EncodeToString(raw[:])
	dev := store.KioskDevice{ID: hex.EncodeToString(id[:]), Hash: store.TokenHash(token), PairedAt: store.Millis(s.now())}
	if err := s.Mongo.Desks.AddDevice(ctx, d.Ref(), dev); err != nil {
		return "", nil, err
	}
	_ = s.Kiosks.CacheDevice(ctx, dev.Hash, d.Ref(), dev.ID)
	_ = s.Audit(ctx, &Principal{Name: "kiosk " + dev.ID, KeyID: "kiosk:" + dev.ID}, "kiosk.pair", d.ID, map[string]any{"device": dev.ID, "address": ip})
	return token, &Kiosk{Desk: d, Device: dev.ID, hash: dev.Hash}, nil
}

// errUnpaired answers a tablet whose token no longer works.
var errUnpaired = Errorf(Unauthenticated, "", "this tablet was unpaired; enter a new pairing code from the console")

// deviceOf finds a device token's desk (incarnation) and device: Redis
// first, MongoDB by _id only when Redis has lost the lookup.
func (s *Service) deviceOf(ctx context.Context, hash string) (desk store.DeskRef, device string, err error) {
	desk, device, err = s.Kiosks.CachedDevice(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		if desk, device, err = s.Mongo.Desks.DeviceDesk(ctx, hash); err == nil {
			_ = s.Kiosks.CacheDevice(ctx, hash, desk, device)
		}
	}
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrRevoked) {
		return store.DeskRef{}, "", errUnpaired
	}
	return desk, device, err
}

// KioskOf authenticates a kiosk's device token, from the address ip (whose
// refused tokens are limited). Its device and desk come from Redis, so a
// tablet's requests read MongoDB (by _id) only when Redis has lost them.
func (s *Service) KioskOf(ctx context.Context, ip, token string) (*Kiosk, error) {
	hash := store.TokenHash(token)
	var ref store.DeskRef
	var device string
	var err error = errUnpaired
	if strings.HasPrefix(token, "kt_") {
		ref, device, err = s.deviceOf(ctx, hash)
	}
	if CodeOf(err) == Unauthenticated {
		if lerr := s.limited(ctx, "kiosk-auth:"+ip, authRate, time.Minute, "", "refused tablet tokens"); lerr != nil {
			return nil, lerr
		}
	}
	if err != nil {
		return nil, err
	}
	d, err := s.Kiosks.CachedDesk(ctx, ref.ID)
	fill := errors.Is(err, store.ErrNotFound)
	if fill || err == nil && d.Ref() != ref { // not cached, or another incarnation's copy (maybe stale)
		if d, err = s.Mongo.Desks.Desk(ctx, ref.ID); err == nil && fill {
			_ = s.Kiosks.CacheDesk(ctx, d, true)
		}
	}
	if err != nil {
		return nil, notFoundAs(err, "desk %s was removed", ref.ID)
	}
	if d.Ref() != ref { // paired with a desk since removed and registered again
		return nil, errUnpaired
	}
	return &Kiosk{Desk: d, Device: device, hash: hash}, nil
}

// kioskSurvey is the form a desk's kiosk asks for an invitation's survey:
// its short form unless the desk asks for the full one.
func (s *Service) kioskSurvey(d *store.Desk, inv string) *survey.Survey {
	if d.Form == "full" {
		if def, ok := s.Surveys.Survey(survey.ID(inv)); ok {
			return def
		}
	}
	return s.ChatSurvey(inv)
}

// Present puts a dossier on a desk's kiosk, making its invitation if it
// has none (as the invitation API does); the desk's kiosks learn of it at
// once, on any replica. Only dossiers of the desk's agency or its subtree
// can be presented there.
func (s *Service) Present(ctx context.Context, d *store.Desk, n NewInvitation) (*store.Invitation, *store.Presented, error) {
	if err := s.limited(ctx, "kiosk-present:"+d.ID, s.KioskRate, time.Minute, "", "presentations at this desk"); err != nil {
		return nil, nil, err
	}
	n = NewInvitation{DossierCode: n.DossierCode, AgencyCode: strings.TrimSpace(n.AgencyCode), ProcedureCode: strings.TrimSpace(n.ProcedureCode), Locale: n.Locale, From: n.From}
	if n.AgencyCode == "" {
		n.AgencyCode = d.Agency
	}
	within, err := s.subtreeSet(ctx, d.Agency)
	if err != nil {
		return nil, nil, err
	}
	if !within[n.AgencyCode] {
		return nil, nil, Errorf(Denied, "agency_code", "agency %s is not desk %s's agency %s or under it", n.AgencyCode, d.ID, d.Agency)
	}
	inv, err := s.InvitationByDossier(ctx, n.DossierCode)
	if CodeOf(err) == NotFound {
		inv, _, err = s.CreateInvitation(ctx, n)
	}
	if err != nil {
		return nil, nil, err
	}
	if !within[inv.AgencyCode] {
		return nil, nil, Errorf(Denied, "dossier_code", "dossier %s is not one of the dossiers of desk %s's agency or those under it; check the dossier code", inv.DossierCode, d.ID)
	}
	switch inv.StatusAt(s.now()) {
	case store.StatusExpired:
		return nil, nil, Errorf(Gone, "dossier_code", "the invitation of dossier %s expired on %s", inv.DossierCode, inv.ExpiresAt.In(Vietnam).Format("02/01/2006"))
	case store.StatusOptedOut:
		return nil, nil, Errorf(Gone, "dossier_code", "the citizen of dossier %s asked not to be surveyed", inv.DossierCode)
	}
	agency := inv.AgencyName
	if agency == "" {
		agency = inv.AgencyCode
	}
	p := &store.Presented{Invitation: inv.ID, Dossier: inv.DossierCode, Agency: agency, Procedure: inv.ProcedureCode,
		Survey: string(s.kioskSurvey(d, inv.Survey).ID), Answered: inv.Status == store.StatusCompleted, At: s.now()}
	if err := s.Mongo.Desks.NotePresented(ctx, inv.ID, d.Ref(), !p.Answered, p.At); err != nil {
		return nil, nil, err
	}
	if err := s.Kiosks.Present(ctx, d.Ref(), p, inv.Token, inv.ExpiresAt.Sub(s.now())); err != nil {
		return nil, nil, Errorf(Unavailable, "", "the dossier could not reach the kiosk: %v; present it again", err)
	}
	if !p.Answered {
		_ = s.NoteSent(ctx, inv, KioskFamily) // counted in the response rates as asked on the kiosk
	}
	return inv, p, nil
}

// KioskNext waits up to wait for a dossier on the kiosk's desk other than
// the one numbered after (the kiosk's last): nil when none came. A revoked
// device is told at once.
func (s *Service) KioskNext(ctx context.Context, k *Kiosk, after int64, wait time.Duration) (*store.Presented, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		woken, stop, err := s.Kiosks.Wait(ctx, k.Desk.ID)
		if err != nil {
			return nil, err
		}
		cur, err := s.Kiosks.Current(ctx, k.Desk.Ref())
		if err != nil || (cur != nil && cur.Seq != after) {
			stop()
			return cur, err
		}
		select {
		case <-woken:
		case <-deadline.C:
			stop()
			return nil, nil
		case <-ctx.Done():
			stop()
			return nil, ctx.Err()
		}
		ref, _, err := s.deviceOf(ctx, k.hash)
		if err != nil {
			return nil, err
		}
		if ref != k.Desk.Ref() {
			return nil, errUnpaired
		}
	}
}

// KioskAnswer is one citizen's answers on a kiosk, sent when taken or
// later from the tablet's queue.
type KioskAnswer struct {
	// Key is the tablet's idempotency key for this answer: a retry with
	// the same key has the first one's outcome and saves nothing more.
	Key        string         `json:"idempotency_key"`
	Invitation string         `json:"invitation_id"`
	Seq        int64          `json:"seq"`
	Survey     string         `json:"survey"`
	Answers    map[string]int `json:"answers"`
	Comment    string         `json:"comment"`
	Locale     string         `json:"locale"`
}

// Kiosk answer outcomes.
const (
	KioskRecorded = "recorded"         // the response is saved
	KioskAnswered = "already_answered" // the dossier had its response already (another channel or tablet)
)

var answerKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]{8,64}$`)

// maxKioskAnswers bounds the scores of one answer (the full SIPAS form
// has 22 questions).
const maxKioskAnswers = 64

// Check refuses what no tablet sends (a bad idempotency key, a score off
// the scale, a comment too long or not UTF-8) before anything is
// claimed, and cleans the comment (phone numbers redacted). It reads no
// store: whether the scores fit the dossier's survey is AnswerOnKiosk's.
func (a *KioskAnswer) Check() error {
	if !answerKeyRe.MatchString(a.Key) {
		return Errorf(Invalid, "idempotency_key", "send 8–64 letters, digits, - or _, one key per answer (a UUID will do)")
	}
	if len(a.Answers) > maxKioskAnswers {
		return Errorf(Invalid, "answers", "%d scores; a survey has at most %d questions", len(a.Answers), maxKioskAnswers)
	}
	for q, v := range a.Answers {
		if v < 0 || v > 5 {
			return Errorf(Invalid, "answers."+q, "%d is not a score; use 1–5, or 0 for no opinion", v)
		}
	}
	comment, err := survey.CleanComment(a.Comment)
	if err != nil {
		return Errorf(Invalid, "comment", "%v", err)
	}
	a.Comment = comment
	return nil
}

// AnswerOnKiosk saves a kiosk's answer exactly once per invitation and
// once per idempotency key. The invitation must have been presented at
// the kiosk's desk.
func (s *Service) AnswerOnKiosk(ctx context.Context, k *Kiosk, a KioskAnswer) (string, error) {
	if err := a.Check(); err != nil {
		return "", err
	}
	if err := s.limited(ctx, "kiosk-answer:"+k.Desk.ID, s.KioskRate, time.Minute, "", "answers from this desk"); err != nil {
		return "", err
	}
	claim, held, err := s.Kiosks.ClaimAnswer(ctx, k.Desk.ID, a.Key)
	if err != nil {
		return "", Errorf(Unavailable, "", "the answer cannot be saved right now; the tablet will retry")
	}
	switch held {
	case "":
	case "pending":
		e := Errorf(Conflict, "idempotency_key", "this answer is being saved by another request; retry in a few seconds")
		e.RetryAfter = 5 * time.Second
		return "", e
	default:
		return held, nil
	}
	hold := s.Kiosks.HoldAnswer(ctx, k.Desk.ID, a.Key, claim)
	outcome, err := s.answerOnKiosk(ctx, k, a)
	hold()
	if err != nil {
		_ = s.Kiosks.SettleAnswer(ctx, k.Desk.ID, a.Key, claim, "") // nothing saved: a retry may go through
		return "", err
	}
	// Only a recorded answer keeps its key (30 days): one that found the
	// dossier answered changed nothing, and a retry finds it answered
	// again, as a completed invitation stays so. Fresh keys on answered
	// dossiers then leave nothing behind, so the keys a desk keeps are
	// bounded by the dossiers answered there, not by its tablets' requests.
	kept := outcome
	if outcome != KioskRecorded {
		kept = ""
	}
	_ = s.Kiosks.SettleAnswer(ctx, k.Desk.ID, a.Key, claim, kept)
	_ = s.Kiosks.Clear(ctx, k.Desk.ID, a.Seq)
	return outcome, nil
}

// answerOnKiosk saves an answer if the dossier was presented at this
// incarnation of the desk (not at a desk of the same id since removed)
// and belongs to the desk's agency or one under it (the desk may have
// moved since).
func (s *Service) answerOnKiosk(ctx context.Context, k *Kiosk, a KioskAnswer) (string, error) {
	desk, token, shown, err := s.Kiosks.PresentedAt(ctx, a.Invitation)
	if err != nil {
		return "", Errorf(Unavailable, "", "the answer cannot be saved right now; the tablet will retry")
	}
	if desk.ID == "" { // Redis lost it (or never had it): MongoDB keeps where each dossier was presented
		if desk, shown, err = s.Mongo.Desks.PresentedDesk(ctx, a.Invitation); err != nil {
			return "", err
		}
		if desk == k.Desk.Ref() {
			inv, err := s.Invitation(ctx, a.Invitation)
			if err != nil {
				return "", err
			}
			token = inv.Token
		}
	}
	if desk != k.Desk.Ref() {
		return "", Errorf(Denied, "invitation_id", "this dossier was not presented at desk %s", k.Desk.ID)
	}
	ss, err := s.Open(ctx, token)
	if err != nil {
		return "", err
	}
	if err := s.deskServes(ctx, k.Desk, ss.Invitation.AgencyCode); err != nil {
		return "", err
	}
	def := s.kioskSurvey(k.Desk, ss.Invitation.Survey)
	if a.Survey != "" && a.Survey != string(def.ID) {
		// The desk's form may have changed while the answer waited on the
		// tablet: the invitation's survey and its short form are both fine.
		other, ok := s.Surveys.Survey(survey.ID(a.Survey))
		if !ok || (a.Survey != ss.Invitation.Survey && other.ID != s.ChatSurvey(ss.Invitation.Survey).ID) {
			return "", Errorf(Invalid, "survey", "the dossier's survey is %s, not %s", def.ID, a.Survey)
		}
		def = other
	}
	answers := survey.Answers{}
	for _, q := range def.Questions {
		if v, ok := a.Answers[string(q.ID)]; ok {
			answers[q.ID] = v // on the scale: Check
		}
	}
	if ss.Completed() {
		return KioskAnswered, nil
	}
	ss.Survey = def
	locale := "vi"
	if a.Locale == "en" {
		locale = "en"
	}
	// Its times run from the presentation; an answer that waited on the
	// tablet is timed as it reaches the gateway, so it only looks slower.
	_, err = s.Complete(ctx, ss, Completion{Answers: answers, Comment: a.Comment, Channel: k.Desk.Channel(), Locale: locale,
		VerifiedBy: store.VerifiedKiosk, Start: shown, Answering: shown})
	if errors.Is(err, ErrAlreadyCompleted) {
		return KioskAnswered, nil
	}
	if err != nil {
		return "", err
	}
	return KioskRecorded, nil
}

// deskServes refuses a dossier of an agency outside the desk's subtree.
// The desk's own agency needs no read of the tree, so a tablet's usual
// answer still works while MongoDB is down.
func (s *Service) deskServes(ctx context.Context, d *store.Desk, agency string) error {
	if agency == d.Agency {
		return nil
	}
	ok, err := s.InSubtree(ctx, d.Agency, agency)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(Denied, "invitation_id", "this dossier is not one of the dossiers of desk %s's agency or those under it", d.ID)
	}
	return nil
}

// PresentOnTablet is the officer showing a dossier from the desk's tablet
// (at address from) with the desk's PIN: without it, anyone at the tablet
// could rate other people's dossiers.
func (s *Service) PresentOnTablet(ctx context.Context, k *Kiosk, dossier, pin, from string) (*store.Presented, error) {
	if err := s.limited(ctx, "kiosk-officer:"+k.Desk.ID, officerRate, 10*time.Minute, "officer_pin", "dossiers shown from this tablet"); err != nil {
		return nil, err
	}
	if k.Desk.PINHash == "" {
		return nil, Errorf(Denied, "officer_pin", "desk %s has no officer PIN; set one in the console to show dossiers from the tablet", k.Desk.ID)
	}
	if subtle.ConstantTimeCompare([]byte(s.pinHash(k.Desk.ID, pin)), []byte(k.Desk.PINHash)) != 1 {
		return nil, Errorf(Denied, "officer_pin", "wrong PIN")
	}
	_, p, err := s.Present(ctx, k.Desk, NewInvitation{DossierCode: dossier, From: from})
	return p, err
}
