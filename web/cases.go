package web

import (
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// caseRow is a case as the console's list shows it.
type caseRow struct {
	ID, Dossier, Agency, Status, Due, Reason, Assignee string
	Overdue, DueSoon                                   bool
}

// caseStatusLabels name case statuses in both languages.
var caseStatusLabels = map[store.CaseStatus]string{
	store.CaseOpen: "Mới · Open", store.CaseInProgress: "Đang xử lý · In progress", store.CaseAnswered: "Đã trả lời · Answered",
	store.CaseClosed: "Đã đóng · Closed", store.CaseReopened: "Mở lại · Reopened",
}

var caseReasons = map[string]string{"low_score": "Điểm thấp · Low score", "complaint": "Phàn nàn · Complaint", "topic": "Chủ đề cần theo dõi · Watched topic"}

// casesPage lists follow-up cases: GET /console/cases?agency=&status=&overdue=true.
func (cs *console) casesPage(c *fiber.Ctx) error {
	a := cs.api
	q := core.CaseQuery{Agency: c.Query("agency"), Status: c.Query("status"), Criterion: c.Query("criterion"), Overdue: c.Query("overdue") == "true", Limit: 200}
	list, err := a.Core.Cases(c.UserContext(), server.Principal(c), q)
	if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	now := time.Now()
	rows := make([]caseRow, len(list))
	for i, cs := range list {
		rows[i] = caseRow{ID: cs.ID, Dossier: cs.Dossier, Agency: name(cs.Agency), Status: caseStatusLabels[cs.Status], Due: cs.DueAt.In(a.Zone).Format("2006-01-02"),
			Reason: caseReasons[cs.Reason] + " " + strings.Join(cs.Low, ", "), Assignee: cs.Assignee, Overdue: cs.Overdue(now),
			DueSoon: cs.Open() && !cs.Overdue(now) && cs.DueAt.Sub(now) <= 24*time.Hour}
	}
	v := cs.view(c, "Theo dõi, phản hồi · Follow-up cases")
	var statuses []struct{ Code, Label string }
	for _, s := range []store.CaseStatus{store.CaseOpen, store.CaseInProgress, store.CaseAnswered, store.CaseReopened, store.CaseClosed} {
		statuses = append(statuses, struct{ Code, Label string }{string(s), caseStatusLabels[s]})
	}
	v.Data = map[string]any{"Rows": rows, "Agencies": agencies, "Statuses": statuses,
		"Q": map[string]string{"Agency": q.Agency, "Status": q.Status, "Overdue": c.Query("overdue"), "Criterion": q.Criterion}}
	return cs.render(c, 200, "cases", v)
}

// casePage shows one case with its actions: GET /console/cases/:id.
func (cs *console) casePage(c *fiber.Ctx) error {
	a := cs.api
	cas, err := a.Core.Case(c.UserContext(), server.Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	v := cs.withFormError(cs.view(c, "Hồ sơ "+cas.Dossier+" · Case"), c)
	var topics []string
	for _, t := range cas.Topics {
		topics = append(topics, a.TopicName(t.ID)+": "+polarityLabels[t.Polarity])
	}
	agency := cas.Agency
	if ag, err := a.Core.Mongo.Agencies.Agency(c.UserContext(), cas.Agency); err == nil {
		agency = ag.Name + " · " + cas.Agency
	}
	v.Data = map[string]any{"Case": server.ViewCase(cas, time.Now()), "AgencyName": agency, "Topics": topics,
		"Reason": caseReasons[cas.Reason], "Status": caseStatusLabels[cas.Status], "Open": cas.Open(), "Closed": cas.Status == store.CaseClosed}
	return cs.show(c, "case", v)
}

// caseAction runs a case action from the console: POST /console/cases/:id/:action.
func (cs *console) caseAction(c *fiber.Ctx) error {
	action := c.Params("action")
	if action == "notes" {
		action = core.CaseNote
	}
	in := core.CaseInput{Text: c.FormValue("text"), Assignee: c.FormValue("assignee"), Status: c.FormValue("status")}
	id := c.Params("id")
	if _, err := cs.api.Core.ChangeCase(c.UserContext(), server.Principal(c), id, action, in); err != nil {
		return cs.redo(c, cs.casePage, err)
	}
	return c.Redirect("/console/cases/"+url.PathEscape(id), fiber.StatusSeeOther)
}
