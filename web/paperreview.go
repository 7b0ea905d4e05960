package web

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// unsureLabels say why the reader could not decide a question (the
// status of a store.ScanQuestion).
var unsureLabels = map[string]string{
	"multiple":  "Nhiều ô được đánh dấu",
	"corrected": "Có ô bị gạch hoặc sửa",
	"faint":     "Dấu quá mờ",
	"uncertain": "Máy đọc không chắc chắn",
}

// paperPerPage is the review queue's page.
const paperPerPage = 50

// scanRow is a page waiting for review, as the queue lists it.
type scanRow struct {
	ID, Link, Dossier, Agency, At, Source, Why string
}

// paperQueue lists the scanned pages waiting for an operator, oldest
// first: GET /console/paper?agency=&offset=.
func (cs *console) paperQueue(c *fiber.Ctx) error {
	a, lang := cs.api, langOf(c)
	agency, err := agencyFilter(c)
	if err != nil {
		return err
	}
	offset := max(c.QueryInt("offset"), 0)
	page, err := a.Core.ScansInReview(c.UserContext(), server.Principal(c), agency, paperPerPage, offset)
	if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	back := url.Values{}
	if agency != "" {
		back.Set("agency", agency)
	}
	rows := make([]scanRow, len(page.Scans))
	for i := range page.Scans {
		sc := &page.Scans[i]
		rows[i] = scanRow{ID: sc.ID, Link: scanLink(sc.ID, back), Dossier: sc.Dossier, Agency: name(sc.Agency),
			At: sc.UploadedAt.In(a.Zone).Format(consoleTime), Source: translate(lang, "%s, trang %d", sc.File, sc.Page), Why: scanWhy(lang, sc)}
	}
	v := cs.view(c, "Phiếu cần xem lại")
	v.Notice = cs.doneNotice(c)
	data := map[string]any{"Tab": "review", "Rows": rows, "Total": page.Total, "From": offset + 1, "To": offset + len(rows),
		"Agencies": agencies, "Q": map[string]string{"Agency": agency}}
	if offset > 0 {
		back.Set("offset", fmt.Sprint(max(offset-paperPerPage, 0)))
		data["Newer"] = "/console/paper?" + back.Encode()
	}
	if offset+len(rows) < page.Total {
		back.Set("offset", fmt.Sprint(offset+paperPerPage))
		data["Older"] = "/console/paper?" + back.Encode()
	}
	v.Data = data
	return cs.render(c, 200, "paperqueue", v)
}

// agencyFilter is the agency= of a queue's query, checked.
func agencyFilter(c *fiber.Ctx) (string, error) {
	agency := c.Query("agency")
	if agency != "" && !core.ValidAgencyCode(agency) {
		return "", core.Errorf(core.Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", agency)
	}
	return agency, nil
}

// scanLink is a page's review page, the queue's filter kept in query.
func scanLink(id string, query url.Values) string {
	link := "/console/paper/scans/" + url.PathEscape(id)
	if q := query.Encode(); q != "" {
		link += "?" + q
	}
	return link
}

// scanWhy says in lang why a page waits: its unsure questions and its
// handwritten comment.
func scanWhy(lang string, sc *store.Scan) string {
	var why []string
	if n := len(sc.Unsure); n > 0 {
		qs := make([]string, n)
		for i, q := range sc.Unsure {
			qs[i] = q.Question
		}
		why = append(why, translate(lang, "%d câu chưa đọc chắc (%s)", n, strings.Join(qs, ", ")))
	}
	if sc.Comment {
		why = append(why, translate(lang, "có ý kiến viết tay cần gõ lại"))
	}
	if len(why) == 0 {
		return translate(lang, "cần người xem lại")
	}
	return strings.Join(why, "; ")
}

// unsureWhy says in lang why the reader could not decide q.
func unsureWhy(lang string, q store.ScanQuestion) string {
	why := translate(lang, labelOf(unsureLabels, q.Status))
	if len(q.Marked) == 0 {
		return why
	}
	marks := make([]string, len(q.Marked))
	for i, m := range q.Marked {
		marks[i] = valueName(lang, m)
	}
	return why + ": " + translate(lang, "ô %s", strings.Join(marks, ", "))
}

// valueName is an answer's value as the form prints it: 1–5, or "no
// opinion" for 0.
func valueName(lang string, v int) string {
	if v == 0 {
		return translate(lang, "Không ý kiến")
	}
	return fmt.Sprint(v)
}

// doneNotice says what the previous action did, from done= (the page
// just settled), read again under the operator's scope so a link cannot
// put words in the console's mouth.
func (cs *console) doneNotice(c *fiber.Ctx) string {
	id := c.Query("done")
	if id == "" {
		return ""
	}
	sc, err := cs.api.Core.Scan(c.UserContext(), server.Principal(c), id)
	if err != nil {
		return ""
	}
	lang := langOf(c)
	if sc.Survey == paper.Slip && sc.Status == store.ScanRecorded {
		return translate(lang, "Đã ghi nhận phiếu góp ý: vụ việc %s.", sc.CaseID)
	}
	switch sc.Status {
	case store.ScanRecorded:
		return translate(lang, "Đã ghi nhận phiếu của hồ sơ %s.", sc.Dossier)
	case store.ScanDiscarded:
		return translate(lang, "Đã bỏ qua phiếu của hồ sơ %s.", sc.Dossier)
	case store.ScanDuplicate:
		return translate(lang, "Hồ sơ %s đã được trả lời trước đó: phiếu được giữ lại, không tính vào chỉ số.", sc.Dossier)
	}
	return ""
}

// resolvePaper settles a page in review through core's ResolveScan: POST
// /console/paper/scans/:id/record (the answers read by eye, the comment
// typed) or …/discard (with a reason, which is audited). It then opens
// the next page of the queue, saying what was done; a refusal shows the
// page again with what was typed.
func (cs *console) resolvePaper(c *fiber.Ctx) error {
	ctx, p, lang, id := c.UserContext(), server.Principal(c), langOf(c), c.Params("id")
	agency, err := agencyFilter(c)
	if err != nil {
		return err
	}
	d := &paperDraft{Comment: c.FormValue("comment"), Reason: c.FormValue("reason")}
	var r core.Resolution
	switch c.Params("action") {
	case "discard":
		if strings.TrimSpace(d.Reason) == "" {
			return cs.paperRedo(c, d, translate(lang, "Hãy ghi lý do bỏ qua phiếu: việc bỏ qua được lưu vết."))
		}
		if utf8.RuneCountInString(d.Reason) > maxDiscardReason {
			return cs.paperRedo(c, d, translate(lang, "Lý do quá dài: tối đa %d ký tự.", maxDiscardReason))
		}
		r.Discard = d.Reason
	case "record":
		sc, err := cs.api.Core.Scan(ctx, p, id)
		if err != nil {
			return err
		}
		if sc.Survey == paper.Slip {
			d.Kind, d.Text, d.GivenDossier = c.FormValue("kind"), c.FormValue("text"), c.FormValue("dossier_code")
			r.Feedback = &core.SlipFeedback{Type: d.Kind, Text: d.Text, DossierCode: d.GivenDossier}
			break
		}
		def, ok := cs.api.Core.Surveys.Survey(survey.ID(sc.Survey))
		if !ok {
			return cs.paperRedo(c, d, translate(lang, "Mẫu của phiếu này không còn trong hệ thống: chỉ có thể bỏ qua phiếu."))
		}
		var missing []string
		d.Answers = map[string]int{}
		for _, q := range def.Questions {
			n, err := strconv.Atoi(c.FormValue("q_" + string(q.ID)))
			if err != nil || n < 0 || n > 5 {
				missing = append(missing, string(q.ID))
				continue
			}
			d.Answers[string(q.ID)] = n
		}
		if len(missing) > 0 {
			return cs.paperRedo(c, d, translate(lang, "Chưa chọn mức điểm cho câu %s.", strings.Join(missing, ", ")))
		}
		r.Answers, r.Comment = d.Answers, d.Comment
	default:
		return core.Errorf(core.NotFound, "", "no such action: record or discard")
	}
	if _, err := cs.api.Core.ResolveScan(ctx, p, id, r); err != nil {
		msg, ok := resolveRefusal(lang, err)
		if !ok {
			return err
		}
		return cs.paperRedo(c, d, msg)
	}
	return cs.nextScan(c, id, agency)
}

// paperRedo shows a page's review again with msg and what was typed.
func (cs *console) paperRedo(c *fiber.Ctx, d *paperDraft, msg string) error {
	c.Locals("paper_draft", d)
	c.Locals("form_error", msg)
	return cs.paperScan(c)
}

// resolveRefusal says in lang why the core refused to settle a page;
// false for an error that is no refusal.
func resolveRefusal(lang string, err error) (string, bool) {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return "", false
	}
	switch {
	case ce.Code == core.Conflict:
		return translate(lang, "Phiếu này đã được xử lý, có thể bởi người khác: không ghi gì thêm."), true
	case ce.Code == core.Invalid && ce.Field == "feedback.type":
		return translate(lang, "Hãy chọn loại ý kiến: góp ý, phản ánh hay kiến nghị."), true
	case ce.Code == core.Invalid && ce.Field == "feedback.text":
		return translate(lang, "Hãy gõ lại nội dung phiếu (tối đa %d ký tự).", core.MaxFeedback), true
	case ce.Code == core.Invalid && ce.Field == "feedback.dossier_code":
		return translate(lang, "Mã hồ sơ không đúng dạng: gõ như trên phiếu, ví dụ 000.00.12.H49-201105-0042, hoặc để trống."), true
	case ce.Code == core.Invalid && ce.Field == "comment":
		return translate(lang, "Ý kiến quá dài: tối đa %d ký tự.", survey.MaxComment), true
	case ce.Code == core.Invalid:
		return translate(lang, "Không ghi nhận được phiếu: hãy tải lại trang rồi thử lại, hoặc bỏ qua phiếu với lý do."), true
	}
	return "", false
}

// nextScan goes on to the oldest page still waiting (in the queue's
// agency filter), or back to the queue when none is left, with done= so
// the page says what was done.
func (cs *console) nextScan(c *fiber.Ctx, done, agency string) error {
	q := url.Values{"done": {done}}
	if agency != "" {
		q.Set("agency", agency)
	}
	page, err := cs.api.Core.ScansInReview(c.UserContext(), server.Principal(c), agency, 1, 0)
	if err != nil {
		return err
	}
	if len(page.Scans) == 0 {
		return c.Redirect("/console/paper?"+q.Encode(), fiber.StatusSeeOther)
	}
	return c.Redirect(scanLink(page.Scans[0].ID, q), fiber.StatusSeeOther)
}
