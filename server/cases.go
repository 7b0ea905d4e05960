package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// CaseView is a follow-up case as the API shows it.
type CaseView struct {
	store.Case
	Overdue bool `json:"overdue" doc:"still waiting for the agency past due_at"`
}

type caseList struct {
	Cases   []CaseView `json:"cases"`
	Partial bool       `json:"partial,omitempty" doc:"a search word was too common to read whole: some cases may be missing; add words"`
}

func ViewCase(c *store.Case, now time.Time) CaseView {
	v := CaseView{Case: *c, Overdue: c.Overdue(now)}
	if v.FirstDueAt == nil { // a case stored before it was kept: its due time is the first
		first := c.DueAt
		v.FirstDueAt = &first
	}
	v.Topics, v.Low, v.Notes, v.History = nonNil(v.Topics), nonNil(v.Low), nonNil(v.Notes), nonNil(v.History)
	return v
}

// cases lists follow-up cases: GET /api/v1/cases?agency=&status=&overdue=true&criterion=&kind=&from=&to=&limit=,
// and searches them with q= (words of the text), dossier= and assignee=.
func (a *API) cases(c *fiber.Ctx) error {
	q := core.CaseQuery{Agency: c.Query("agency"), Status: c.Query("status"), Criterion: c.Query("criterion"), Kind: c.Query("kind"),
		FromMonth: c.Query("from"), ToMonth: c.Query("to"), Limit: c.QueryInt("limit", 200),
		Q: c.Query("q"), Dossier: c.Query("dossier"), Assignee: c.Query("assignee")}
	switch c.Query("overdue") {
	case "", "false":
	case "true":
		q.Overdue = true
	default:
		return core.Errorf(core.Invalid, "overdue", "%q: use true or false", c.Query("overdue"))
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return core.Errorf(core.Invalid, "limit", "use 1 to 1000")
	}
	var list []store.Case
	var partial bool
	var err error
	if q.Searching() {
		list, partial, err = a.Core.SearchCases(c.UserContext(), Principal(c), q)
	} else {
		list, err = a.Core.Cases(c.UserContext(), Principal(c), q)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	out := caseList{Cases: make([]CaseView, len(list)), Partial: partial}
	for i := range list {
		out.Cases[i] = ViewCase(&list[i], now)
	}
	return c.JSON(out)
}

// getCase is GET /api/v1/cases/{id}.
func (a *API) getCase(c *fiber.Ctx) error {
	cs, err := a.Core.Case(c.UserContext(), Principal(c), c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(ViewCase(cs, time.Now()))
}

// changeCase runs a case action: POST /api/v1/cases/{id}/{action}.
func (a *API) changeCase(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in core.CaseInput
		if len(c.Body()) > 0 {
			if err := decodeJSON(c, &in); err != nil {
				return err
			}
		}
		cs, err := a.Core.ChangeCase(c.UserContext(), Principal(c), c.Params("id"), action, in)
		if err != nil {
			return err
		}
		return c.JSON(ViewCase(cs, time.Now()))
	}
}
