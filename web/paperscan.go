package web

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// scanStatusLabels name what became of a scanned page.
var scanStatusLabels = map[string]string{
	store.ScanRecorded: "Đã ghi nhận", store.ScanReview: "Chờ xem lại", store.ScanDuplicate: "Trùng: hồ sơ đã được trả lời",
	store.ScanUnreadable: "Không đọc được", store.ScanDiscarded: "scan|Đã bỏ qua",
}

// maxDiscardReason bounds the reason a page is set aside for.
const maxDiscardReason = 500

// scanBox is an area outlined on the page image, in the layout's
// millimetres: the SVG's viewBox is the page, so no pixel is computed.
type scanBox struct {
	X, Y, W, H float64
	Class      string // proposal (the reader's answer), unsure (a mark on an undecided question) or row
}

// scanChoice is one radio button of a question.
type scanChoice struct {
	Value   int
	Label   string
	Checked bool
}

// scanQuestion is one row of the review form.
type scanQuestion struct {
	ID, Text, Why string
	Unsure        bool
	Choices       []scanChoice
	// Strip is the viewBox of the question's row on the page, shown
	// enlarged beside an undecided question; Boxes are its marks.
	Strip string
	Boxes []scanBox
}

// scanView is a scanned page as its review page shows it.
type scanView struct {
	ID, Dossier, Agency, At, Source, Why, Status, StatusCode string
	Image, CommentImage                                      string
	Page                                                     paper.Size // set when boxes can be outlined
	Boxes                                                    []scanBox
	Questions                                                []scanQuestion
	Open                                                     bool // in review: the forms are shown
	Record, Discard                                          string
	Comment, Reason                                          string // what was typed, shown again after a refusal
	Answers, Resolved, Note                                  string // a settled page: its answers, by whom and when, why set aside
	// Slip: a suggestion-box slip, typed instead of scored (Kinds, and
	// what was typed: Kind, Text, GivenDossier).
	Slip                     bool
	Kinds                    []slipKind
	Text, GivenDossier, Case string
}

// slipKind is one of a slip's boxes as the typing form offers it.
type slipKind struct {
	Value, Label string
	Checked      bool
}

// slipKinds are the slip's boxes, in its order, by the type they mean.
var slipKinds = []struct{ Type, Label string }{
	{"suggestion", "Góp ý"}, {"complaint", "Phản ánh"}, {"recommendation", "Kiến nghị"},
}

// paperDraft is what an operator sent, kept when it is refused (Answers
// nil for a discard).
type paperDraft struct {
	Answers         map[string]int
	Comment, Reason string
	// a slip's typing
	Kind, Text, GivenDossier string
}

// paperScan is one page's review: GET /console/paper/scans/:id.
func (cs *console) paperScan(c *fiber.Ctx) error {
	agency, err := agencyFilter(c)
	if err != nil {
		return err
	}
	sc, err := cs.api.Core.Scan(c.UserContext(), server.Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	v := cs.withFormError(cs.view(c, "Trang đã quét"), c)
	if sc.Dossier != "" {
		v.Title = translate(v.Lang, "Phiếu của hồ sơ %s", sc.Dossier)
	}
	if v.Notice == "" {
		v.Notice = cs.doneNotice(c)
	}
	back := url.Values{}
	if agency != "" {
		back.Set("agency", agency)
	}
	d, _ := c.Locals("paper_draft").(*paperDraft)
	_, name, err := cs.api.AgencyNamer(c)
	if err != nil {
		return err
	}
	v.Data = map[string]any{"Tab": "review", "S": cs.scanView(v.Lang, sc, d, name, back), "MaxComment": survey.MaxComment, "MaxReason": maxDiscardReason,
		"Back": strings.TrimSuffix("/console/paper?"+back.Encode(), "?")}
	return cs.show(c, "paperscan", v)
}

// scanView shows sc in lang, with an operator's refused draft when d is
// not nil.
func (cs *console) scanView(lang string, sc *store.Scan, d *paperDraft, name func(string) string, back url.Values) scanView {
	base := "/console/paper/scans/" + url.PathEscape(sc.ID)
	q := ""
	if enc := back.Encode(); enc != "" {
		q = "?" + enc
	}
	s := scanView{ID: sc.ID, Dossier: sc.Dossier, Agency: name(sc.Agency), At: sc.UploadedAt.In(cs.api.Zone).Format(consoleTime),
		Source: translate(lang, "%s, trang %d", sc.File, sc.Page), Why: scanWhy(lang, sc), StatusCode: sc.Status,
		Status: translate(lang, labelOf(scanStatusLabels, sc.Status)), Open: sc.Status == store.ScanReview,
		Record: base + "/record" + q, Discard: base + "/discard" + q}
	if len(sc.Image) > 0 {
		s.Image = base + "/page.jpg"
	}
	if len(sc.CommentImage) > 0 {
		s.CommentImage = base + "/comment.jpg"
	}
	if d != nil {
		s.Comment, s.Reason = d.Comment, d.Reason
	}
	if sc.Survey == paper.Slip {
		s.Slip, s.Case = true, sc.CaseID
		kind := ""
		if d != nil {
			kind, s.Text, s.GivenDossier = d.Kind, d.Text, d.GivenDossier
		}
		for _, k := range slipKinds {
			s.Kinds = append(s.Kinds, slipKind{Value: k.Type, Label: translate(lang, k.Label), Checked: k.Type == kind})
		}
		if !s.Open && sc.ResolvedBy != "" && sc.ResolvedAt != nil {
			s.Resolved = sc.ResolvedBy + ", " + sc.ResolvedAt.In(cs.api.Zone).Format(consoleTime)
		}
		if sc.Status == store.ScanDiscarded {
			s.Note = sc.Reason
		}
		return s
	}
	def, _ := cs.api.Core.Surveys.Survey(survey.ID(sc.Survey))
	if !s.Open {
		s.Answers = answersText(lang, def, sc.Answers)
		if sc.ResolvedBy != "" && sc.ResolvedAt != nil {
			s.Resolved = sc.ResolvedBy + ", " + sc.ResolvedAt.In(cs.api.Zone).Format(consoleTime)
		}
		if sc.Status == store.ScanDiscarded {
			s.Note = sc.Reason // the operator's own words
		}
	}
	l, err := paper.Get(sc.Survey, sc.LayoutVersion)
	if err != nil || !sc.Straight || s.Image == "" {
		l = nil // no geometry to outline the boxes with
	}
	if l != nil {
		s.Page = l.Page
		s.Boxes = outline(l, sc, "")
	}
	if def != nil && s.Open {
		s.Questions = questions(lang, def, l, sc, d)
	}
	return s
}

// outline is the boxes to draw on the page (of question q only, when not
// empty): the reader's answer of each decided question, the marks of each
// undecided one and its row.
func outline(l *paper.Layout, sc *store.Scan, q string) []scanBox {
	unsure := map[string][]int{}
	for _, u := range sc.Unsure {
		unsure[u.Question] = u.Marked
	}
	var out []scanBox
	for _, r := range l.Rows {
		if _, ok := unsure[r.Question]; ok && r.Question != "" && (q == "" || q == r.Question) {
			out = append(out, scanBox{l.Header.X, r.Y, l.Header.W, r.H, "row"})
		}
	}
	for _, b := range l.Boxes {
		if q != "" && b.Question != q {
			continue
		}
		marked, isUnsure := unsure[b.Question]
		v, answered := sc.Answers[b.Question]
		switch {
		case isUnsure && slices.Contains(marked, b.Value):
			out = append(out, scanBox{b.X, b.Y, b.W, b.H, "unsure"})
		case !isUnsure && answered && v == b.Value:
			out = append(out, scanBox{b.X, b.Y, b.W, b.H, "proposal"})
		}
	}
	return out
}

// questions are the review form's rows, prefilled with the reader's
// proposal: a decided question with its answer, one the reader saw blank
// with no opinion (as a clear form is recorded), an undecided one with
// nothing, so the operator must choose. A refused draft d wins.
func questions(lang string, def *survey.Survey, l *paper.Layout, sc *store.Scan, d *paperDraft) []scanQuestion {
	unsure := map[string]store.ScanQuestion{}
	for _, u := range sc.Unsure {
		unsure[u.Question] = u
	}
	out := make([]scanQuestion, len(def.Questions))
	for i, q := range def.Questions {
		id := string(q.ID)
		u, isUnsure := unsure[id]
		sq := scanQuestion{ID: id, Text: q.Text.In(lang), Unsure: isUnsure}
		v, set := sc.Answers[id]
		if !set && !isUnsure {
			v, set = 0, true
		}
		if d != nil && d.Answers != nil {
			v, set = d.Answers[id]
		}
		if isUnsure {
			sq.Why = unsureWhy(lang, u)
			if l != nil {
				sq.Strip, sq.Boxes = strip(l, id), outline(l, sc, id)
			}
		}
		for _, value := range paper.Values {
			sq.Choices = append(sq.Choices, scanChoice{Value: value, Label: valueName(lang, value), Checked: set && v == value})
		}
		out[i] = sq
	}
	return out
}

// strip is the viewBox of question q's row, a millimetre either side.
func strip(l *paper.Layout, q string) string {
	for _, r := range l.Rows {
		if r.Question == q {
			return fmt.Sprintf("%.2f %.2f %.2f %.2f", l.Header.X-1, r.Y-1, l.Header.W+2, r.H+2)
		}
	}
	return ""
}

// answersText writes answers in the survey's order: "A1 5 · A2 Không ý
// kiến".
func answersText(lang string, def *survey.Survey, answers map[string]int) string {
	var ids []string
	if def != nil {
		for _, q := range def.Questions {
			ids = append(ids, string(q.ID))
		}
	} else {
		for q := range answers {
			ids = append(ids, q)
		}
		slices.Sort(ids)
	}
	var parts []string
	for _, q := range ids {
		if v, ok := answers[q]; ok {
			parts = append(parts, q+" "+valueName(lang, v))
		}
	}
	return strings.Join(parts, " · ")
}
