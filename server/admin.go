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
		Agencies []agencyEntry `json:"agencies"`
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

func (a *api) putAgency(c *fiber.Ctx) error {
	var in core.AgencyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	ag, err := a.core.PutAgency(c.UserContext(), principal(c), c.Params("code"), in)
	if err != nil {
		return err
	}
	return c.JSON(ag)
}

func (a *api) agency(c *fiber.Ctx) error {
	ag, err := a.core.Mongo.Agencies.Agency(c.UserContext(), c.Params("code"))
	if err != nil {
		return err
	}
	if err := a.scope(c.UserContext(), principal(c), ag.Code); err != nil {
		return err
	}
	return c.JSON(ag)
}

func (a *api) agencies(c *fiber.Ctx) error {
	all, err := a.agencyViews(c)
	if err != nil {
		return err
	}
	return c.JSON(agencyList{Agencies: all})
}

// agencyEntry is an agency with how many invitations name it. Codes
// invitations name that nobody registered are listed too, with
// registered false, until an operator names them and places them in the
// tree (GATEWAY_REQUIRE_AGENCIES refuses them instead).
type agencyEntry struct {
	store.Agency
	Registered  bool  `json:"registered"`
	Invitations int64 `json:"invitations"`
}

// agencyViews lists the principal's agencies with their invitation counts,
// read from the response-rate roll-ups (never by counting invitations);
// unregistered codes only for keys bound to no agency.
func (a *api) agencyViews(c *fiber.Ctx) ([]agencyEntry, error) {
	all, err := a.visibleAgencies(c)
	if err != nil {
		return nil, err
	}
	cells, err := a.core.Mongo.Rollups.Query(c.UserContext(), store.Filter{Survey: store.FunnelSurvey, FoldMonths: true})
	if err != nil {
		return nil, err
	}
	made := map[string]int64{}
	for k, n := range cells {
		if k.Question == store.FunnelCreated {
			made[k.Agency] += n.Responses
		}
	}
	out := make([]agencyEntry, 0, len(all))
	for _, ag := range all {
		out = append(out, agencyEntry{Agency: ag, Registered: true, Invitations: made[ag.Code]})
		delete(made, ag.Code)
	}
	if principal(c).Agency != "" {
		return out, nil
	}
	var codes []string
	for code := range made {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		out = append(out, agencyEntry{Agency: store.Agency{Code: code}, Invitations: made[code]})
	}
	return out, nil
}

// agencyNamer returns the agencies the principal sees and a function that
// names a code (the code itself when it is not registered).
func (a *api) agencyNamer(c *fiber.Ctx) ([]store.Agency, func(string) string, error) {
	agencies, err := a.visibleAgencies(c)
	if err != nil {
		return nil, nil, err
	}
	names := make(map[string]string, len(agencies))
	for _, ag := range agencies {
		names[ag.Code] = ag.Name
	}
	return agencies, func(code string) string {
		if n := names[code]; n != "" {
			return n
		}
		return code
	}, nil
}

// visibleAgencies is the tree, cut to the principal's subtree when bound.
func (a *api) visibleAgencies(c *fiber.Ctx) ([]store.Agency, error) {
	all, err := a.core.Mongo.Agencies.All(c.UserContext())
	p := principal(c)
	if err != nil || p.Agency == "" {
		return all, err
	}
	codes, err := a.core.Subtree(c.UserContext(), p.Agency)
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

func (a *api) deleteAgency(c *fiber.Ctx) error {
	code := c.Params("code")
	if err := a.core.DeleteAgency(c.UserContext(), principal(c), code); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// importAgencies takes a CSV body: code,name,name_en,parent,level.
func (a *api) importAgencies(c *fiber.Ctx) error {
	n, err := a.core.ImportAgencies(c.UserContext(), principal(c), bytes.NewReader(c.Body()))
	if err != nil {
		return err
	}
	return c.JSON(imported{Imported: n})
}

func (a *api) createKey(c *fiber.Ctx) error {
	var in core.KeyInput
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	k, value, err := a.core.CreateKey(c.UserContext(), principal(c), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(createdKey{APIKey: *k, Key: value})
}

func (a *api) keys(c *fiber.Ctx) error {
	all, err := a.core.Mongo.Keys.All(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(keyList{Keys: nonNil(all)})
}

func (a *api) revokeKey(c *fiber.Ctx) error {
	if err := a.core.RevokeKey(c.UserContext(), principal(c), c.Params("id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (a *api) audit(c *fiber.Ctx) error {
	limit := c.QueryInt("limit", 100)
	if limit < 1 || limit > 1000 {
		return core.Errorf(core.Invalid, "limit", "use 1 to 1000")
	}
	entries, err := a.core.Mongo.Audit.Recent(c.UserContext(), int64(limit))
	if err != nil {
		return err
	}
	return c.JSON(auditLog{Entries: nonNil(entries)})
}

// erase carries out an erasure request: POST /api/v1/erasures {"phone": "…"}.
func (a *api) erase(c *fiber.Ctx) error {
	var in struct {
		Phone string `json:"phone"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	e, err := a.core.Erase(c.UserContext(), principal(c), in.Phone)
	if err != nil {
		return err
	}
	return c.JSON(erasure{Erased: e})
}
