package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// ChannelPaper is the channel of answers read from printed forms.
const ChannelPaper = "paper"

// MaxForms bounds one request's forms (a desk's day is a few dozen).
const MaxForms = 500

// PaperForm is the printable form of an invitation the principal may see,
// on surveyID's layout ("" = the invitation's own survey).
func (s *Service) PaperForm(ctx context.Context, p *Principal, inv *store.Invitation, surveyID, field string) (paper.Form, error) {
	if err := s.HeldScope(ctx, p, inv.AgencyCode, field, "dossier "+inv.DossierCode); err != nil {
		return paper.Form{}, err
	}
	switch inv.StatusAt(s.now()) {
	case store.StatusCompleted:
		via := cmp.Or(inv.CompletedVia, "another channel")
		return paper.Form{}, Errorf(Conflict, field, "dossier %s was already answered (%s): no form to print; leave it out", inv.DossierCode, via)
	case store.StatusExpired:
		return paper.Form{}, Errorf(Gone, field, "dossier %s's invitation expired on %s; leave it out", inv.DossierCode, inv.ExpiresAt.In(Vietnam).Format("02/01/2006"))
	case store.StatusOptedOut:
		return paper.Form{}, Errorf(Gone, field, "the citizen of dossier %s asked not to be surveyed; leave it out", inv.DossierCode)
	}
	if surveyID == "" {
		surveyID = inv.Survey
	}
	def, ok := s.Surveys.Survey(survey.ID(surveyID))
	if !ok {
		return paper.Form{}, Errorf(Invalid, "survey", "unknown survey %q; forms exist for %s", surveyID, strings.Join(paper.Surveys(), ", "))
	}
	l, err := paper.Current(surveyID)
	if err != nil {
		return paper.Form{}, Errorf(Invalid, "survey", "%v", err)
	}
	name, _, _, err := s.agencyName(ctx, inv.AgencyCode)
	if err != nil {
		return paper.Form{}, err
	}
	return paper.Form{Layout: l, Survey: def, Invitation: inv.ID, Agency: cmp.Or(name, inv.AgencyCode),
		Dossier: inv.DossierCode, Printed: s.now().In(Vietnam)}, nil
}

// PaperPage is one uploaded page as the reader made it out.
type PaperPage struct {
	File string
	Page int // 1-based
	// Code is the form's QR; nil when no form was found.
	Code *qr.FormCode
	// Unreadable says why nothing can be taken from the page.
	Unreadable string
	// Answers are the decided questions; Unsure the others, with Review
	// saying why an operator must look.
	Answers map[string]int
	Unsure  []store.ScanQuestion
	Review  string
	// Comment: the comment's area has handwriting to type.
	Comment             bool
	Image, CommentImage []byte
	Straight            bool
}

// FilePaper takes one page of paper forms: a clear form lands as a
// response through the same exactly-once path as every channel (channel
// paper, provenance paper); an unsure one, or one with a comment to type,
// waits in the review queue; a form of a dossier already answered is kept
// as a duplicate, not counted. Every page is kept with its image.
func (s *Service) FilePaper(ctx context.Context, p *Principal, pg PaperPage) (*store.Scan, error) {
	sc := &store.Scan{ID: newID(), File: pg.File, Page: pg.Page, UploadedBy: p.Who(), UploadedAt: s.now(),
		Image: pg.Image, CommentImage: pg.CommentImage, Straight: pg.Straight, Answers: pg.Answers, Unsure: pg.Unsure, Comment: pg.Comment}
	if pg.Code == nil || pg.Unreadable != "" {
		sc.Status, sc.Reason = store.ScanUnreadable, cmp.Or(pg.Unreadable, "no form found on the page")
		sc.Answers, sc.Unsure = nil, nil
		return sc, s.Mongo.Scans.Insert(ctx, sc)
	}
	if pg.Code.Survey == paper.Slip {
		return s.fileSlip(ctx, p, sc, pg)
	}
	sc.InvitationID, sc.Survey, sc.LayoutVersion = pg.Code.Invitation, pg.Code.Survey, pg.Code.Version
	inv, err := s.Invitation(ctx, pg.Code.Invitation)
	if CodeOf(err) == NotFound {
		sc.Status, sc.Reason = store.ScanUnreadable, "the form's code names no invitation of this gateway: was it printed by another one?"
		return sc, s.Mongo.Scans.Insert(ctx, sc)
	}
	if err != nil {
		return nil, err
	}
	if err := s.HeldScope(ctx, p, inv.AgencyCode, "", "this form's dossier"); err != nil {
		// never kept: the page belongs to an agency this key may not see
		return &store.Scan{ID: sc.ID, Status: store.ScanUnreadable, File: sc.File, Page: sc.Page,
			Reason: "the form belongs to an agency outside this key's agency " + p.Agency}, nil
	}
	sc.Agency, sc.Dossier = inv.AgencyCode, inv.DossierCode
	def, ok := s.Surveys.Survey(survey.ID(pg.Code.Survey))
	if !ok {
		sc.Status, sc.Reason = store.ScanUnreadable, fmt.Sprintf("the form's survey %q is not known to this gateway", pg.Code.Survey)
		return sc, s.Mongo.Scans.Insert(ctx, sc)
	}
	if inv.StatusAt(s.now()) == store.StatusCompleted {
		duplicate(sc, inv)
		return sc, s.Mongo.Scans.Insert(ctx, sc)
	}
	if pg.Review != "" || pg.Comment {
		sc.Status, sc.Reason = store.ScanReview, pg.Review
		if sc.Reason == "" {
			sc.Reason = "a handwritten comment to type"
		}
		if err := s.Mongo.Scans.Insert(ctx, sc); err != nil {
			return nil, err
		}
		return sc, s.ScanQueue.Add(ctx, sc)
	}
	if err := s.recordPaper(ctx, sc, inv, def, pg.Answers, "", Completion{ScannedBy: p.Who()}); err != nil {
		return nil, err
	}
	return sc, s.Mongo.Scans.Insert(ctx, sc)
}

// recordPaper completes inv with a form's answers (a question left blank
// is no opinion, 0) and notes on sc what became of them.
func (s *Service) recordPaper(ctx context.Context, sc *store.Scan, inv *store.Invitation, def *survey.Survey, answers map[string]int, comment string, who Completion) error {
	a := survey.Answers{}
	for _, q := range def.Questions {
		v := answers[string(q.ID)]
		if v < 0 || v > 5 {
			return Errorf(Invalid, "answers."+string(q.ID), "%d is not on the scale: 1 to 5, or 0 for no opinion", v)
		}
		a[q.ID] = v
	}
	r, err := s.Complete(ctx, &Session{Invitation: inv, Survey: def}, Completion{
		Answers: a, Comment: comment, Channel: ChannelPaper, Locale: "vi",
		VerifiedBy: store.VerifiedPaper, EnteredBy: who.EnteredBy, ScannedBy: who.ScannedBy,
	})
	if errors.Is(err, ErrAlreadyCompleted) {
		if fresh, err := s.Invitation(ctx, inv.ID); err == nil {
			inv = fresh
		}
		duplicate(sc, inv)
		return nil
	}
	if err != nil {
		return err
	}
	sc.Status, sc.Reason, sc.ResponseID, sc.Answers = store.ScanRecorded, "", r.ID, answers
	return nil
}

// duplicate notes that sc's dossier was already answered, and where.
func duplicate(sc *store.Scan, inv *store.Invitation) {
	sc.Status = store.ScanDuplicate
	switch via := inv.CompletedVia; via {
	case ChannelPaper:
		sc.Reason = "this dossier's form was already recorded from paper: a second scan is not counted"
	case "":
		sc.Reason = "this dossier was already answered on another channel: the form is kept, not counted"
	default:
		sc.Reason = "this dossier was already answered (" + via + "): the form is kept, not counted"
	}
}

// ScanPage is a page of the review queue.
type ScanPage struct {
	Total int          `json:"total"`
	Scans []store.Scan `json:"scans"`
}

// ScansInReview lists the pages waiting for review in the principal's
// agencies (agency narrows it to a subtree), oldest first.
func (s *Service) ScansInReview(ctx context.Context, p *Principal, agency string, limit, offset int) (*ScanPage, error) {
	root := agency
	if root == "" {
		root = p.Agency
	} else if err := s.AgencyScope(ctx, p, root); err != nil {
		return nil, err
	}
	var agencies []string
	if root != "" {
		sub, err := s.Subtree(ctx, root)
		if err != nil {
			return nil, err
		}
		agencies = sub
	}
	if filled, err := s.ScanQueue.Filled(ctx); err == nil && !filled {
		if err := s.ScanQueue.Fill(ctx, s.Mongo.Scans); err != nil {
			return nil, err
		}
	}
	ids, err := s.ScanQueue.List(ctx, agencies)
	if err != nil {
		return nil, err
	}
	out := &ScanPage{Total: len(ids), Scans: []store.Scan{}}
	if offset >= len(ids) {
		return out, nil
	}
	page, err := s.Mongo.Scans.ByIDs(ctx, ids[offset:min(offset+limit, len(ids))])
	if err != nil {
		return nil, err
	}
	for _, sc := range page {
		if sc.Status == store.ScanReview {
			out.Scans = append(out.Scans, sc)
		}
	}
	return out, nil
}

// Scan is one kept page, image included, that the principal may see.
func (s *Service) Scan(ctx context.Context, p *Principal, id string) (*store.Scan, error) {
	sc, err := s.Mongo.Scans.Get(ctx, id)
	if err != nil {
		return nil, notFoundAs(err, "no scanned page %s", id)
	}
	if sc.Agency == "" && p.Agency != "" {
		return nil, Errorf(NotFound, "", "no scanned page %s", id)
	}
	if err := s.HeldScope(ctx, p, sc.Agency, "", "this page"); err != nil {
		return nil, err
	}
	return sc, nil
}

// Resolution is an operator's decision on a page in review: the answers
// read by eye (and the comment typed), or for a suggestion-box slip the
// feedback typed, or Discard with why.
type Resolution struct {
	Answers  map[string]int `json:"answers,omitempty"`
	Comment  string         `json:"comment,omitempty"`
	Feedback *SlipFeedback  `json:"feedback,omitempty" doc:"a suggestion-box slip: what the citizen wrote"`
	Discard  string         `json:"discard,omitempty" doc:"why the page is set aside instead"`
}

// SlipFeedback is a slip's writing as an operator typed it.
type SlipFeedback struct {
	Type        string `json:"type" doc:"suggestion (góp ý), complaint (phản ánh) or recommendation (kiến nghị)"`
	Text        string `json:"text"`
	DossierCode string `json:"dossier_code,omitempty"`
}

// ResolveScan settles a page in review once: its answers land as the
// dossier's response (or the page is kept as a duplicate when the
// dossier was answered meanwhile), or it is set aside with a reason.
func (s *Service) ResolveScan(ctx context.Context, p *Principal, id string, r Resolution) (*store.Scan, error) {
	sc, err := s.Scan(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if ok, err := s.above(ctx, p, sc.Agency); err != nil {
		return nil, err
	} else if !ok {
		return nil, Errorf(Denied, "", "agency %s is the one being rated: its unsure forms are read by a parent agency or the province, so the index stays objective", sc.Agency)
	}
	if sc.Status != store.ScanReview {
		return nil, Errorf(Conflict, "", "page %s is not waiting for review: it is %s", id, sc.Status)
	}
	now := s.now()
	if r.Discard = strings.TrimSpace(survey.CleanText(r.Discard)); r.Discard != "" {
		err := s.settle(ctx, p, sc, bson.D{{Key: "status", Value: store.ScanDiscarded}, {Key: "reason", Value: r.Discard},
			{Key: "resolved_by", Value: p.Who()}, {Key: "resolved_at", Value: now}},
			"paper_discard", map[string]any{"dossier": sc.Dossier, "reason": r.Discard})
		sc.Status, sc.Reason, sc.ResolvedBy, sc.ResolvedAt = store.ScanDiscarded, r.Discard, p.Who(), &now
		return sc, err
	}
	if sc.Survey == paper.Slip {
		return s.resolveSlip(ctx, p, sc, r)
	}
	def, ok := s.Surveys.Survey(survey.ID(sc.Survey))
	if !ok {
		return nil, Errorf(Invalid, "", "the page's survey %q is unknown: discard it with a reason", sc.Survey)
	}
	if len(r.Answers) == 0 {
		return nil, Errorf(Invalid, "answers", "give the answers read from the page (question → 1–5, 0 no opinion), or discard it with a reason")
	}
	for q := range r.Answers {
		if _, ok := def.Question(survey.QuestionID(q)); !ok {
			return nil, Errorf(Invalid, "answers."+q, "no question %s on the %s form", q, def.ID)
		}
	}
	comment, err := survey.CleanComment(survey.CleanCitizenText(r.Comment))
	if err != nil {
		return nil, Errorf(Invalid, "comment", "%v", err)
	}
	inv, err := s.Invitation(ctx, sc.InvitationID)
	if err != nil {
		return nil, err
	}
	sc.ResolvedBy, sc.ResolvedAt = p.Who(), &now
	if err := s.recordPaper(ctx, sc, inv, def, r.Answers, comment, Completion{EnteredBy: p.Who()}); err != nil {
		return nil, err // not recorded: still in review, for another try
	}
	// Of two operators resolving at once, the answer lands once (the
	// outbox's done mark) and the second is told it was settled.
	set := bson.D{{Key: "status", Value: sc.Status}, {Key: "reason", Value: sc.Reason}, {Key: "answers", Value: r.Answers},
		{Key: "resolved_by", Value: p.Who()}, {Key: "resolved_at", Value: now}}
	if sc.ResponseID != "" {
		set = append(set, bson.E{Key: "response_id", Value: sc.ResponseID})
	}
	if err := s.settle(ctx, p, sc, set, "paper_resolve", map[string]any{"status": sc.Status, "dossier": sc.Dossier}); err != nil {
		return nil, err
	}
	sc.Answers = r.Answers
	return sc, nil
}

// settle ends a page's review with set, once: of two operators at once,
// the second is told it was settled. The page leaves the review queue and
// the audit log says who did what.
func (s *Service) settle(ctx context.Context, p *Principal, sc *store.Scan, set bson.D, action string, detail map[string]any) error {
	ok, err := s.Mongo.Scans.Settle(ctx, sc.ID, set)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(Conflict, "", "page %s was resolved by someone else meanwhile", sc.ID)
	}
	_ = s.ScanQueue.Remove(ctx, sc.Agency, sc.ID)
	return s.Audit(ctx, p, action, sc.ID, detail)
}

// slipID is the id an office's slips carry: a keyed hash of its code, so
// a slip names its office without spelling it out and a forged one names
// none.
func (s *Service) slipID(agency string) string { return s.Sealer.Hash("slip:" + agency)[:24] }

// heldAgency is an agency p may print for: its own or one below.
func (s *Service) heldAgency(ctx context.Context, p *Principal, agency string) (*store.Agency, error) {
	ag, err := s.Mongo.Agencies.Agency(ctx, agency)
	if err != nil {
		return nil, notFoundAs(err, "agency %s is not registered", agency)
	}
	return ag, s.HeldScope(ctx, p, ag.Code, "", "agency "+ag.Code)
}

// Poster is an office's suggestion-box poster: the standing QR of its
// feedback page.
func (s *Service) Poster(ctx context.Context, p *Principal, agency string) (paper.Poster, error) {
	ag, err := s.heldAgency(ctx, p, agency)
	if err != nil {
		return paper.Poster{}, err
	}
	return paper.Poster{Agency: ag.Name, URL: s.FeedbackURL(ag.Code), Printed: s.now().In(Vietnam)}, nil
}

// Slips are an office's blank suggestion-box slips.
func (s *Service) Slips(ctx context.Context, p *Principal, agency string) (paper.SlipForm, error) {
	ag, err := s.heldAgency(ctx, p, agency)
	if err != nil {
		return paper.SlipForm{}, err
	}
	id := s.slipID(ag.Code)
	if err := s.Mongo.Slips.Keep(ctx, id, ag.Code); err != nil {
		return paper.SlipForm{}, err
	}
	return paper.SlipForm{Agency: ag.Name, ID: id, Printed: s.now().In(Vietnam)}, nil
}

// fileSlip keeps a suggestion-box slip for an operator to type: its
// writing is an image; nothing is read from it but its office.
func (s *Service) fileSlip(ctx context.Context, p *Principal, sc *store.Scan, pg PaperPage) (*store.Scan, error) {
	sc.Survey, sc.LayoutVersion, sc.Answers, sc.Unsure = paper.Slip, pg.Code.Version, nil, nil
	agency, err := s.Mongo.Slips.Agency(ctx, pg.Code.Invitation)
	if errors.Is(err, store.ErrNotFound) {
		sc.Status, sc.Reason = store.ScanUnreadable, "the slip's code names no office of this gateway: was it printed by another one?"
		return sc, s.Mongo.Scans.Insert(ctx, sc)
	}
	if err != nil {
		return nil, err
	}
	if err := s.HeldScope(ctx, p, agency, "", "this slip's office"); err != nil {
		return &store.Scan{ID: sc.ID, Status: store.ScanUnreadable, File: sc.File, Page: sc.Page,
			Reason: "the slip belongs to an office outside this key's agency " + p.Agency}, nil
	}
	sc.Agency, sc.Status, sc.Reason = agency, store.ScanReview, "a suggestion-box slip to type"
	if err := s.Mongo.Scans.Insert(ctx, sc); err != nil {
		return nil, err
	}
	return sc, s.ScanQueue.Add(ctx, sc)
}

// resolveSlip opens the feedback case of a slip an operator typed, once
// (the same slip typed again is the same case), channel paper. A phone
// written on a slip is never texted: it has confirmed no code.
func (s *Service) resolveSlip(ctx context.Context, p *Principal, sc *store.Scan, r Resolution) (*store.Scan, error) {
	if r.Feedback == nil {
		return nil, Errorf(Invalid, "feedback", "type the slip: {\"feedback\": {\"type\", \"text\", \"dossier_code\"}}, or discard it with a reason")
	}
	in, _, problems := CheckFeedback(FeedbackInput{Type: r.Feedback.Type, Text: r.Feedback.Text, Dossier: r.Feedback.DossierCode, Locale: "vi"})
	if len(problems) > 0 {
		e := problems[0]
		return nil, Errorf(Invalid, "feedback."+e.Field, "%s: %s", e.Problem, feedbackHint[e.Field])
	}
	ag, err := s.Mongo.Agencies.Agency(ctx, sc.Agency)
	if err != nil {
		return nil, notFoundAs(err, "the slip's office %s is no longer registered: discard it with a reason", sc.Agency)
	}
	in.Nonce, in.Channel = "slip:"+sc.ID, ChannelPaper
	c, err := s.openFeedback(ctx, ag, in)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.settle(ctx, p, sc, bson.D{{Key: "status", Value: store.ScanRecorded}, {Key: "reason", Value: ""},
		{Key: "case_id", Value: c.ID}, {Key: "resolved_by", Value: p.Who()}, {Key: "resolved_at", Value: now}},
		"paper_slip", map[string]any{"case": c.ID}); err != nil {
		return nil, err
	}
	sc.Status, sc.Reason, sc.CaseID, sc.ResolvedBy, sc.ResolvedAt = store.ScanRecorded, "", c.ID, p.Who(), &now
	return sc, nil
}

// feedbackHint says how to mend a typed slip's field.
var feedbackHint = map[string]string{
	"type":         "one of suggestion, complaint, recommendation (the box ticked)",
	"text":         "what the citizen wrote, at most 2000 characters",
	"dossier_code": "the dossier code as written, e.g. 000.00.12.H49-201105-0042, or leave it out",
}
