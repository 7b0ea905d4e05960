package web

import (
	"cmp"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// caseRow is a case as the console's list shows it: a feedback case
// shows its reference number where a response's shows the dossier, and
// its type (Góp ý…) as its reason.
type caseRow struct {
	ID, Dossier, Agency, Status, Due, Reason, Assignee string
	Overdue, DueSoon, Feedback                         bool
}

// caseStatusLabels name case statuses (in Vietnamese, translated when shown).
var caseStatusLabels = map[store.CaseStatus]string{
	store.CaseOpen: "Mới", store.CaseInProgress: "Đang xử lý", store.CaseAnswered: "Đã trả lời",
	store.CaseClosed: "Đã đóng", store.CaseReopened: "Đã mở lại",
}

// caseReasons name why a case was opened.
var caseReasons = map[string]string{"low_score": "Điểm thấp", "complaint": "Phàn nàn", "topic": "Chủ đề cần theo dõi", "feedback": "Hòm thư góp ý"}

// caseDone say what a case action did, for the notice after it.
var caseDone = map[string]string{
	core.CaseAssign: "Đã giao vụ việc cho %s.", core.CaseNote: "Đã lưu ghi chú nội bộ.", core.CaseStart: "Đã chuyển vụ việc sang đang xử lý.",
	core.CaseAnswer: "Đã lưu trả lời; trả lời đang chờ gửi cho công dân.", core.CaseClose: "Đã đóng vụ việc.", core.CaseReopen: "Đã mở lại vụ việc.", "": "Đã lưu.",
}

// feedbackTypes name a feedback case's type.
var feedbackTypes = map[string]string{"suggestion": "Góp ý", "complaint": "Phản ánh", "recommendation": "Kiến nghị"}

// lowNames names a case's low criteria (or overall question) as SIPAS
// does, "Thủ tục hành chính" for B: an operator reads names, not codes.
// The case's survey names them, else any survey having the code.
func lowNames(a *server.API, lang, surveyID string, codes []string) []string {
	out := make([]string, len(codes))
	for i, code := range codes {
		out[i] = criterionName(a.Core.Surveys, lang, surveyID, code)
	}
	return out
}

// reasonOf is why a case opened, with what scored low by name: "Điểm
// thấp: Mức độ hài lòng chung".
func reasonOf(a *server.API, lang string, cs *store.Case) string {
	r := translate(lang, caseReasons[cs.Reason])
	if len(cs.Low) > 0 {
		r += ": " + strings.Join(lowNames(a, lang, cs.Survey, cs.Low), ", ")
	}
	return r
}

// criterionName is a criterion's title, or a question's text, in lang:
// first in the survey named, then in any survey of the catalog; the code
// itself only when no survey knows it.
func criterionName(cat *survey.Catalog, lang, surveyID, code string) string {
	defs := cat.All()
	if def, ok := cat.Survey(survey.ID(surveyID)); ok {
		defs = append([]*survey.Survey{def}, defs...)
	}
	for _, def := range defs {
		for _, cr := range def.Criteria {
			if cr.Code == code {
				return cr.Title.In(lang)
			}
		}
		if q, ok := def.Question(survey.QuestionID(code)); ok {
			return q.Text.In(lang)
		}
	}
	return code
}

// casesPage lists follow-up cases: GET /console/cases?agency=&status=&overdue=true,
// and searches them: q= (words of the text, or a part of the dossier
// code: see findTerms) and assignee= (words of the name).
func (cs *console) casesPage(c *fiber.Ctx) error {
	a := cs.api
	find := strings.TrimSpace(c.Query("q"))
	q := core.CaseQuery{Agency: c.Query("agency"), Status: c.Query("status"), Criterion: c.Query("criterion"), Kind: c.Query("kind"), Overdue: c.Query("overdue") == "true", Limit: 200,
		Dossier: strings.TrimSpace(c.Query("dossier")), Assignee: strings.TrimSpace(c.Query("assignee"))}
	if q.Dossier == "" {
		q.Q, q.Dossier = findTerms(find)
	} else if find == "" {
		find = q.Dossier
	}
	v := cs.view(c, "Vụ việc cần xử lý")
	list, partial, err := cs.findCases(c, q)
	var ce *core.Error
	if errors.As(err, &ce) && ce.Code == core.Invalid && slices.Contains([]string{"q", "dossier", "assignee"}, ce.Field) {
		v.Error = searchError(langOf(c), ce.Field) // the form is shown again, with what was typed
	} else if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	lang := langOf(c)
	now := time.Now()
	rows := make([]caseRow, len(list))
	for i, cs := range list {
		rows[i] = caseRow{ID: cs.ID, Dossier: cs.Dossier, Agency: name(cs.Agency), Status: translate(lang, caseStatusLabels[cs.Status]), Due: locale.Date(lang, cs.DueAt.In(a.Zone)),
			Reason: reasonOf(a, lang, &list[i]), Assignee: cs.Assignee, Overdue: cs.Overdue(now),
			DueSoon: cs.Open() && !cs.Overdue(now) && cs.DueAt.Sub(now) <= 24*time.Hour}
		if cs.Feedback() {
			rows[i].Feedback, rows[i].Dossier, rows[i].Reason = true, cs.ID, translate(lang, feedbackTypes[cs.FeedbackType])
		}
	}
	var statuses []struct{ Code, Label string }
	for _, s := range []store.CaseStatus{store.CaseOpen, store.CaseInProgress, store.CaseAnswered, store.CaseReopened, store.CaseClosed} {
		statuses = append(statuses, struct{ Code, Label string }{string(s), caseStatusLabels[s]})
	}
	v.Data = map[string]any{"Rows": rows, "Agencies": agencies, "Statuses": statuses, "Partial": partial,
		"Q": map[string]string{"Agency": q.Agency, "Status": q.Status, "Overdue": c.Query("overdue"), "Criterion": q.Criterion, "Kind": q.Kind,
			"Find": find, "Assignee": q.Assignee}}
	return cs.show(c, "cases", v)
}

// findCases lists the cases q selects, and says whether a search word
// was too common to read whole (some cases may then be missing).
func (cs *console) findCases(c *fiber.Ctx, q core.CaseQuery) ([]store.Case, bool, error) {
	if q.Searching() {
		return cs.api.Core.SearchCases(c.UserContext(), server.Principal(c), q)
	}
	list, err := cs.api.Core.Cases(c.UserContext(), server.Principal(c), q)
	return list, false, err
}

// findTerms reads the cases page's one search box: a single run of at
// least 3 of a dossier code's characters with a digit in it ("0042",
// "H49-2612") is a part of a dossier code; anything else is words of the
// cases' text.
func findTerms(find string) (words, dossier string) {
	if len(find) >= 3 && strings.IndexFunc(find, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 && dossierChars.MatchString(find) {
		return "", find
	}
	return find, ""
}

var dossierChars = regexp.MustCompile(`^[A-Za-z0-9.\-_/]+$`)

// searchError says what is wrong with the cases page's search field.
func searchError(lang, field string) string {
	switch field {
	case "assignee":
		return translate(lang, "Người xử lý: hãy gõ tên (chữ hoặc số), tối đa 10 từ và 200 ký tự.")
	case "dossier":
		return translate(lang, "Mã hồ sơ: hãy gõ ít nhất 3 ký tự của mã (chữ, chữ số và . - _ /), ví dụ 0042 hoặc H49-2612.")
	}
	return translate(lang, "Tìm: hãy gõ từ cần tìm (chữ hoặc số), tối đa 10 từ và 200 ký tự, hoặc một phần mã hồ sơ.")
}

// casePage shows one case with its actions: GET /console/cases/:id. It
// reads the case and its response by _id, the agency tree (cached), and
// the keys and users (a handful) for the assignee list.
func (cs *console) casePage(c *fiber.Ctx) error {
	a, ctx, lang := cs.api, c.UserContext(), langOf(c)
	cas, err := a.Core.Case(ctx, server.Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	title := cs.view(c, "Vụ việc của hồ sơ %s", cas.Dossier)
	feedback := ""
	if cas.Feedback() {
		feedback = translate(lang, feedbackTypes[cas.FeedbackType])
		title = cs.view(c, "Hòm thư góp ý: %s", cas.ID)
	}
	v := cs.withFormError(title, c)
	var topics []string
	for _, t := range cas.Topics {
		topics = append(topics, topicName(a, lang, t.ID)+": "+translate(lang, polarityLabels[t.Polarity]))
	}
	_, agencyName, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	scores, err := caseScores(ctx, a.Core, cas, lang)
	if err != nil {
		return err
	}
	route, err := cs.answerRoute(c, cas)
	if err != nil {
		return err
	}
	people, err := assignees(ctx, a.Core, cas.Agency, cas.Assignee)
	if err != nil {
		return err
	}
	now := time.Now()
	draft, _ := c.Locals("answer_draft").(string)
	left, next := core.AnswersLeft(cas, now)
	limits := map[string]any{"PerDay": core.AnswersPerDay, "MaxParts": core.AnswerParts, "Left": left, "Next": locale.DateTime(lang, next.In(a.Zone))}
	v.Data = map[string]any{"Case": server.ViewCase(cas, now), "AgencyName": agencyName(cas.Agency), "Topics": topics,
		"Reason": translate(lang, caseReasons[cas.Reason]), "Low": strings.Join(lowNames(a, lang, cas.Survey, cas.Low), ", "), "Scores": scores,
		"Status": translate(lang, caseStatusLabels[cas.Status]), "Open": cas.Open(), "Closed": cas.Status == store.CaseClosed,
		"Channel": translate(lang, cmp.Or(channelLabels[core.Family(cas.Channel)], cas.Channel)), "Route": route, "Assignees": people,
		"History": history(cas, lang, a.Zone, agencyName), "Limits": limits, "Preview": c.Locals("answer_preview"), "Draft": draft, "Feedback": feedback}
	return cs.show(c, "case", v)
}

// previewAnswer shows the case page with how the answer typed would reach
// the citizen: the message as sent, its SMS parts and encoding. The
// console runs no script, so the count comes from the server, on the
// form's Preview button; the answer stays in the form.
func (cs *console) previewAnswer(c *fiber.Ctx, in core.CaseInput) error {
	pv, err := cs.api.Core.PreviewAnswer(c.UserContext(), server.Principal(c), c.Params("id"), in)
	if err != nil {
		return cs.redo(c, cs.casePage, err)
	}
	c.Locals("answer_preview", pv)
	return cs.casePage(c)
}

// caseAction runs a case action from the console: POST /console/cases/:id/:action.
func (cs *console) caseAction(c *fiber.Ctx) error {
	action := c.Params("action")
	if action == "notes" {
		action = core.CaseNote
	}
	in := core.CaseInput{Text: c.FormValue("text"), Assignee: c.FormValue("assignee"), Status: c.FormValue("status")}
	id := c.Params("id")
	if action == core.CaseAnswer {
		c.Locals("answer_draft", in.Text) // kept in the form if it is refused or previewed
		if c.FormValue("preview") != "" {
			return cs.previewAnswer(c, in)
		}
	}
	if _, err := cs.api.Core.ChangeCase(c.UserContext(), server.Principal(c), id, action, in); err != nil {
		return cs.redo(c, cs.casePage, err)
	}
	done, ok := caseDone[action]
	if !ok {
		done = caseDone[""]
	}
	if action == core.CaseAssign {
		return cs.flash(c, "/console/cases/"+url.PathEscape(id), done, in.Assignee)
	}
	return cs.flash(c, "/console/cases/"+url.PathEscape(id), done)
}
