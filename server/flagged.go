package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// flaggedView is a flagged response as the review queue shows it: what
// came, how, which signals it raised and how its review stands (no phone
// number, no raw address).
type flaggedView struct {
	ID           string              `json:"id"`
	InvitationID string              `json:"invitation_id"`
	Agency       string              `json:"agency"`
	DossierCode  string              `json:"dossier_code"`
	Survey       string              `json:"survey"`
	Channel      string              `json:"channel"`
	SubmittedAt  time.Time           `json:"submitted_at"`
	Answers      []store.Answer      `json:"answers"`
	Comment      string              `json:"comment,omitempty"`
	Provenance   *store.Provenance   `json:"provenance,omitempty"`
	Flags        []string            `json:"flags"`
	Status       string              `json:"status" doc:"pending (counted until reviewed), confirmed (left out of the index) or cleared"`
	History      []store.ReviewEvent `json:"history,omitempty"`
}

type flaggedList struct {
	Total     int           `json:"total"`
	Responses []flaggedView `json:"responses"`
}

func viewFlagged(r *store.Response) flaggedView {
	v := flaggedView{ID: r.ID, InvitationID: r.InvitationID, Agency: r.AgencyCode, DossierCode: r.DossierCode, Survey: r.Survey,
		Channel: r.Channel, SubmittedAt: r.SubmittedAt, Answers: r.Answers, Comment: r.Comment, Provenance: r.Provenance,
		Flags: r.Flags, Status: store.StandingOf(r).Status}
	if v.Flags == nil {
		v.Flags = []string{}
	}
	if r.Review != nil {
		v.History = r.Review.History
	}
	return v
}

// flagged lists the review queue:
// GET /api/v1/flagged?agency=&flag=&status=&limit=&offset=.
func (a *API) flagged(c *fiber.Ctx) error {
	limit, offset, err := pageArgs(c, 100)
	if err != nil {
		return err
	}
	page, err := a.Core.Flagged(c.UserContext(), Principal(c), core.FlaggedFilter{Agency: c.Query("agency"), Flag: c.Query("flag"),
		Status: c.Query("status"), Limit: limit, Offset: offset})
	if err != nil {
		return err
	}
	out := flaggedList{Total: page.Total, Responses: make([]flaggedView, len(page.Responses))}
	for i := range page.Responses {
		out.Responses[i] = viewFlagged(&page.Responses[i])
	}
	return c.JSON(out)
}

// review confirms or clears a flagged response:
// POST /api/v1/flagged/{response_id}/confirm|clear {"note": "…"}.
func (a *API) review(action string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		var in core.ReviewInput
		if err := decodeJSON(c, &in); err != nil {
			return err
		}
		r, err := a.Core.Review(c.UserContext(), Principal(c), c.Params("id"), action, in)
		if err != nil {
			return err
		}
		return c.JSON(viewFlagged(r))
	}
}

// pageArgs reads a list's limit (1–500, def by default), offset and
// agency filter.
func pageArgs(c *fiber.Ctx, def int) (limit, offset int, err error) {
	limit, offset = c.QueryInt("limit", def), c.QueryInt("offset", 0)
	if limit < 1 || limit > 500 {
		return 0, 0, core.Errorf(core.Invalid, "limit", "use 1 to 500")
	}
	if offset < 0 {
		return 0, 0, core.Errorf(core.Invalid, "offset", "use 0 or more")
	}
	if ag := c.Query("agency"); ag != "" && !core.ValidAgencyCode(ag) {
		return 0, 0, core.Errorf(core.Invalid, "agency", "%q is not an agency code (digits, capital letters and dots)", ag)
	}
	return limit, offset, nil
}
