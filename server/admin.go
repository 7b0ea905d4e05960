package server

import (
	"bytes"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// Answers of the admin endpoints (their schemas in the OpenAPI document
// come from these types).
type (
	agencyList struct {
		Agencies []AgencyEntry `json:"agencies"`
	}
	imported struct {
		Imported int `json:"imported" doc:"agencies created or replaced"`
	}
	createdKey struct {
		store.APIKey
		Key string `json:"key" doc:"the key's value, shown this once"`
	}
	keyList struct {
		Keys []store.APIKey `json:"keys"`
	}
	auditLog struct {
		Entries []store.AuditEntry `json:"entries"`
	}
	erasure struct {
		Erased store.Erased `json:"erased"`
	}
)

// nonNil is s, or an empty slice for nil: a list answers [], not null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *API) putAgency(c *fiber.Ctx) error {
	var in core.AgencyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ag, err := a.Core.PutAgency(c.UserContext(), Principal(c), c.Params("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(a.ViewAgency(ag))
}

// putStaffPhones is PUT /api/v1/agencies/{code}/staff-phones: it answers
// with how many numbers the list holds, never with them.
func (a *API) putStaffPhones(c *fiber.Ctx) error {
	var in core.StaffPhonesInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	out, err := a.Core.PutStaffPhones(c.UserContext(), Principal(c), c.Params("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (a *API) agency(c *fiber.Ctx) error {
	ag, err := a.Core.Mongo.Agencies.Agency(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := a.Scope(c.UserContext(), Principal(c), ag.Code); err != nil {
		return err
	}
	return c.JSON(a.ViewAgency(ag))
}

// AgencyView is a registered agency as the API shows it, with the link
// of its suggestion box.
type AgencyView struct {
	store.Agency
	FeedbackURL string `json:"feedback_url" doc:"the agency's standing feedback page (hòm thư góp ý), /g/{token}: for its poster and QR code; the token cannot be guessed or forged from the code"`
}

// ViewAgency is ag as the API shows it.
func (a *API) ViewAgency(ag *store.Agency) AgencyView {
	return AgencyView{Agency: *ag, FeedbackURL: a.Core.FeedbackURL(ag.Code)}
}

func (a *API) agencies(c *fiber.Ctx) error {
	all, err := a.AgencyViews(c)
	if err != nil {
		return err
	}
	return c.JSON(agencyList{Agencies: all})
}

// AgencyEntry is an agency with how many invitations name it. Codes
// invitations name that nobody registered are listed too, with
// registered false, until an operator names them and places them in the
// tree (GATEWAY_REQUIRE_AGENCIES refuses them instead).
type AgencyEntry struct {
	store.Agency
	Registered  bool  `json:"registered"`
	Invitations int64 `json:"invitations"`
	// FeedbackURL is the registered agency's feedback page.
	FeedbackURL string `json:"feedback_url,omitempty" doc:"a registered agency's standing feedback page (hòm thư góp ý)"`
}

// AgencyViews lists the principal's agencies with their invitation counts,
// read from the response-rate roll-ups (never by counting invitations);
// unregistered codes only for keys bound to no agency.
func (a *API) AgencyViews(c *fiber.Ctx) ([]AgencyEntry, error) {
	all, err := a.VisibleAgencies(c)
	if err != nil {
		return nil, err
	}
	cells, err := a.Core.Mongo.Rollups.Query(c.UserContext(), store.Filter{Survey: store.FunnelSurvey, FoldMonths: true})
	if err != nil {
		return nil, err
	}
	made := map[string]int64{}
	for k, n := range cells {
		if k.Question == store.FunnelCreated {
			made[k.Agency] += n.Responses
		}
	}
	out := make([]AgencyEntry, 0, len(all))
	for _, ag := range all {
		out = append(out, AgencyEntry{Agency: ag, Registered: true, Invitations: made[ag.Code], FeedbackURL: a.Core.FeedbackURL(ag.Code)})
		delete(made, ag.Code)
	}
	if Principal(c).Agency != "" {
		return out, nil
	}
	var codes []string
	for code := range made {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		out = append(out, AgencyEntry{Agency: store.Agency{Code: code}, Invitations: made[code]})
	}
	return out, nil
}

// AgencyNamer returns the agencies the principal sees and a function that
// names a code (the code itself when it is not registered).
func (a *API) AgencyNamer(c *fiber.Ctx) ([]store.Agency, func(string) string, error) {
	agencies, err := a.VisibleAgencies(c)
	if err != nil {
		return nil, nil, err
	}
	return agencies, namer(agencies), nil
}

// namer names the agencies by code (the code itself when it is not among
// them or has no name).
func namer(agencies []store.Agency) func(string) string {
	names := make(map[string]string, len(agencies))
	for _, ag := range agencies {
		names[ag.Code] = ag.Name
	}
	return func(code string) string {
		if n := names[code]; n != "" {
			return n
		}
		return code
	}
}

// VisibleAgencies is the tree, cut to the principal's subtree when bound.
func (a *API) VisibleAgencies(c *fiber.Ctx) ([]store.Agency, error) {
	all, err := a.Core.Mongo.Agencies.All(c.UserContext())
	p := Principal(c)
	if err != nil || p.Agency == "" {
		return all, err
	}
	codes, err := a.Core.Subtree(c.UserContext(), p.Agency)
	if err != nil {
		return nil, err
	}
	in := map[string]bool{}
	for _, code := range codes {
		in[code] = true
	}
	out := []store.Agency{}
	for _, ag := range all {
		if in[ag.Code] {
			out = append(out, ag)
		}
	}
	return out, nil
}

func (a *API) deleteAgency(c *fiber.Ctx) error {
	code := c.Params("code")
	if err := a.Core.DeleteAgency(c.UserContext(), Principal(c), code); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// importAgencies takes a CSV body: code,name,name_en,short_name,parent,level
// (columns by the header, short_name optional; see core.ImportAgencies).
func (a *API) importAgencies(c *fiber.Ctx) error {
	n, err := a.Core.ImportAgencies(c.UserContext(), Principal(c), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	return c.JSON(imported{Imported: n})
}

func (a *API) createKey(c *fiber.Ctx) error {
	var in core.KeyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	k, value, err := a.Core.CreateKey(c.UserContext(), Principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createdKey{APIKey: *k, Key: value})
}

func (a *API) keys(c *fiber.Ctx) error {
	all, err := a.Core.Mongo.Keys.All(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(keyList{Keys: nonNil(all)})
}

func (a *API) revokeKey(c *fiber.Ctx) error {
	if err := a.Core.RevokeKey(c.UserContext(), Principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *API) audit(c *fiber.Ctx) error {
	limit := c.QueryInt("limit", 100)
	if limit < 1 || limit > 1000 {
		return core.Errorf(core.Invalid, "limit", "use 1 to 1000")
	}
	entries, err := a.Core.Mongo.Audit.Recent(c.UserContext(), int64(limit))
	if err != nil {
		return err
	}
	return c.JSON(auditLog{Entries: nonNil(entries)})
}

// erase carries out an erasure request: POST /api/v1/erasures {"phone": "…"}.
func (a *API) erase(c *fiber.Ctx) error {
	var in struct {
		Phone string `json:"phone"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := a.Core.Erase(c.UserContext(), Principal(c), in.Phone)
	if err != nil {
		return err
	}
	return c.JSON(erasure{Erased: e})
}
