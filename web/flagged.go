package web

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// reviewStatuses are the queue's status filter (labels in Vietnamese,
// translated when shown).
var reviewStatuses = []struct{ Code, Label string }{
	{store.ReviewPending, "Chờ xem xét"}, {store.ReviewConfirmed, "Đã xác nhận"}, {store.ReviewCleared, "Đã bỏ cờ"},
}

// reviewActions name the events of a review's history.
var reviewActions = map[string]string{"flag": "Gắn cờ thêm", "confirm": "Xác nhận", "clear": "Bỏ cờ"}

// verifiedLabels say how a respondent was tied to the dossier
// (store.Provenance.VerifiedBy).
var verifiedLabels = map[string]string{
	store.VerifiedPhone: "Số điện thoại của phiếu", store.VerifiedToken: "Mã QR hoặc đường dẫn",
	store.VerifiedKiosk: "Máy tính bảng tại quầy", store.VerifiedDossierCode: "Mã hồ sơ, từ số điện thoại lạ",
	store.VerifiedOperator: "Cán bộ nhập từ tin nhắn", store.VerifiedPaper: "Phiếu giấy",
}

// flaggedPerPage is the queue's page.
const flaggedPerPage = 50

// consoleTime is how the queue shows a time: dd/mm/yyyy HH:MM.
const consoleTime = "02/01/2006 15:04"

// flaggedRow is a flagged answer as the queue shows it.
type flaggedRow struct {
	ID, Dossier, Agency, Channel, At, Answers, Comment string
	VerifiedBy, Seconds, Status, StatusCode            string
	Confirm, Clear                                     string // the review forms' actions
	Flags                                              []legendRow
	History                                            []historyRow
	// CanReview: the viewer is above the rated agency; Own: the viewer's
	// own agency is rated (a parent or the province reviews).
	CanReview, Own bool
}

type historyRow struct{ At, By, Action, Note string }

// flaggedPage is the review queue: GET /console/flagged?agency=&flag=&status=&offset=.
// Without status it lists the answers pending review; status= (empty)
// lists all.
func (cs *console) flaggedPage(c *fiber.Ctx) error {
	a, p, lang := cs.api, server.Principal(c), langOf(c)
	f := core.FlaggedFilter{Agency: c.Query("agency"), Flag: c.Query("flag"), Status: c.Query("status"), Limit: flaggedPerPage, Offset: max(c.QueryInt("offset"), 0)}
	if !c.Request().URI().QueryArgs().Has("status") {
		f.Status = store.ReviewPending
	}
	if f.Agency != "" && !core.ValidAgencyCode(f.Agency) {
		return core.Errorf(core.Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", f.Agency)
	}
	page, err := a.Core.Flagged(c.UserContext(), p, f)
	if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	rows := make([]flaggedRow, len(page.Responses))
	query := string(c.Request().URI().QueryString()) // a review comes back to the queue as it is
	for i := range page.Responses {
		rows[i] = cs.flaggedRow(lang, p, &page.Responses[i], name)
		base := "/console/flagged/" + url.PathEscape(rows[i].ID) + "/"
		rows[i].Confirm, rows[i].Clear = base+"confirm?"+query, base+"clear?"+query
	}
	v := cs.withFormError(cs.view(c, "Phiếu gắn cờ"), c)
	flags, _ := legend(lang)
	data := map[string]any{"Rows": rows, "Total": page.Total, "From": f.Offset + 1, "To": f.Offset + len(rows), "Agencies": agencies,
		"Flags": flags, "Statuses": reviewStatuses, "MaxNote": maxNote,
		"Q": map[string]string{"Agency": f.Agency, "Flag": f.Flag, "Status": f.Status}}
	if d, ok := c.Locals("review_draft").([2]string); ok {
		data["DraftID"], data["Draft"] = d[0], d[1]
	}
	pager := url.Values{"agency": {f.Agency}, "flag": {f.Flag}, "status": {f.Status}}
	if f.Offset > 0 {
		pager.Set("offset", fmt.Sprint(max(f.Offset-flaggedPerPage, 0)))
		data["Newer"] = "/console/flagged?" + pager.Encode()
	}
	if f.Offset+len(rows) < page.Total {
		pager.Set("offset", fmt.Sprint(f.Offset+flaggedPerPage))
		data["Older"] = "/console/flagged?" + pager.Encode()
	}
	v.Data = data
	return cs.show(c, "flagged", v)
}

// flaggedRow shows r to p in lang.
func (cs *console) flaggedRow(lang string, p *core.Principal, r *store.Response, name func(string) string) flaggedRow {
	st := store.StandingOf(r)
	row := flaggedRow{ID: r.ID, Dossier: r.DossierCode, Agency: name(r.AgencyCode), Channel: channelWords(lang, r.Channel), At: r.SubmittedAt.In(cs.api.Zone).Format(consoleTime),
		Comment: r.Comment, StatusCode: st.Status, Status: translate(lang, reviewLabel(st.Status)),
		// Scoped to p's subtree, every agency listed but p's own is below
		// it; core.Review checks again.
		CanReview: (p.Role == core.RoleAdmin || p.Role == core.RoleAgency) && (p.Agency == "" || p.Agency != r.AgencyCode),
		Own:       p.Agency != "" && p.Agency == r.AgencyCode}
	var answers []string
	for _, an := range r.Answers {
		answers = append(answers, fmt.Sprintf("%s%d", an.Question, an.Score))
	}
	row.Answers = strings.Join(answers, " ")
	if pv := r.Provenance; pv != nil {
		row.VerifiedBy = translate(lang, labelOf(verifiedLabels, pv.VerifiedBy))
		if pv.SecondsToFirstView != nil {
			row.Seconds = translate(lang, "mở sau %s giây", seconds(*pv.SecondsToFirstView)) + " · "
		}
		row.Seconds += translate(lang, "xong sau %s giây", seconds(pv.SecondsToComplete))
		if pv.SecondsAnswering != nil {
			row.Seconds += translate(lang, ", trả lời trong %s giây", seconds(*pv.SecondsAnswering))
		}
	}
	for _, fl := range r.Flags {
		l := signalLabels[fl]
		row.Flags = append(row.Flags, legendRow{Code: fl, Name: signalName(lang, fl), Why: translate(lang, l.Why)})
	}
	if r.Review != nil {
		for _, e := range r.Review.History {
			h := historyRow{At: e.At.In(cs.api.Zone).Format(consoleTime), By: e.By, Action: translate(lang, labelOf(reviewActions, e.Action)), Note: e.Note}
			if len(e.Flags) > 0 {
				var names []string
				for _, fl := range e.Flags {
					names = append(names, signalName(lang, fl))
				}
				h.Note = strings.TrimSpace(strings.Join(names, ", ") + " " + h.Note)
			}
			row.History = append(row.History, h)
		}
	}
	return row
}

// seconds writes a duration in whole seconds, as the console writes counts.
func seconds(s float64) string { return fmt.Sprintf("%.0f", s) }

// reviewLabel names a review status.
func reviewLabel(status string) string {
	for _, s := range reviewStatuses {
		if s.Code == status {
			return s.Label
		}
	}
	return status
}

// labelOf is code's label in labels, or code.
func labelOf(labels map[string]string, code string) string {
	if l, ok := labels[code]; ok {
		return l
	}
	return code
}

// review confirms or clears a flagged answer from the queue's form:
// POST /console/flagged/:id/confirm|clear, the queue's filters in the
// query, back to the queue as it was.
func (cs *console) review(c *fiber.Ctx) error {
	id, note := c.Params("id"), c.FormValue("note")
	if _, err := cs.api.Core.Review(c.UserContext(), server.Principal(c), id, c.Params("action"), core.ReviewInput{Note: note}); err != nil {
		c.Locals("review_draft", [2]string{id, note}) // the note stays in its form
		return cs.redo(c, cs.flaggedPage, reviewRefusal(langOf(c), note, err))
	}
	return c.Redirect("/console/flagged?"+string(c.Request().URI().QueryString()), fiber.StatusSeeOther)
}

// reviewRefusal says in lang why the core refused a review, as an error
// of the same code (others as they are).
func reviewRefusal(lang, note string, err error) error {
	var ce *core.Error
	if !errors.As(err, &ce) {
		return err
	}
	var msg string
	switch {
	case ce.Code == core.Invalid && ce.Field == "note" && strings.TrimSpace(note) == "":
		msg = translate(lang, "Hãy ghi lý do (đã kiểm tra những gì) trước khi xác nhận hoặc bỏ cờ: việc xem xét được lưu vết.")
	case ce.Code == core.Invalid && ce.Field == "note":
		msg = translate(lang, "Ghi chú quá dài: tối đa %d ký tự.", maxNote)
	case ce.Code == core.Denied:
		msg = translate(lang, "Bạn không xem xét được phiếu này: cơ quan được đánh giá không tự xem xét phiếu của mình, cơ quan cấp trên hoặc cấp tỉnh xem xét.")
	case ce.Code == core.NotFound:
		msg = translate(lang, "Không tìm thấy phiếu trả lời này.")
	case ce.Code == core.Conflict:
		msg = translate(lang, "Phiếu vừa thay đổi hoặc không còn cờ để xem xét; tải lại trang rồi thử lại.")
	default:
		return err
	}
	return core.Errorf(ce.Code, "", "%s", msg)
}

// maxNote is the longest review note the core takes (core's
// maxReviewNote): the form's maxlength and the refusal quote it.
const maxNote = 1000
