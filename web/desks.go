package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// deskRow is a desk as the console lists it, with its figures.
type deskRow struct {
	store.Desk
	AgencyName, Channel string
	Tablets             []store.KioskDevice
	Figures             *report.Group // nil: no answers yet
	TooFew              bool
}

// desksPage lists the desks with their tablets and figures, and registers
// desks: GET /console/desks.
func (cs *console) desksPage(c *fiber.Ctx) error {
	a := cs.api
	desks, err := a.Core.Desks(c.UserContext(), server.Principal(c))
	if err != nil {
		return err
	}
	agencies, name, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	c.Request().URI().QueryArgs().Set("survey", report.AllForms)
	q, def, err := a.ReportQuery(c)
	if err != nil {
		return err
	}
	cells, _, err := a.ReadCells(c.UserContext(), q)
	if err != nil {
		return err
	}
	groups, _ := report.Groups(c.UserContext(), a.Computer(q, def), cells, "desk")
	byDesk := map[string]*report.Group{}
	for i := range groups {
		byDesk[groups[i].Group] = &groups[i]
	}
	rows := make([]deskRow, len(desks))
	for i, d := range desks {
		rows[i] = deskRow{Desk: d, AgencyName: name(d.Agency), Channel: d.Channel(), Tablets: d.DeviceList(), Figures: byDesk[d.ID]}
		rows[i].TooFew = rows[i].Figures != nil && rows[i].Figures.Responses < int64(a.RankMin)
	}
	v := cs.withFormError(cs.view(c, "Quầy và máy đánh giá"), c)
	data := map[string]any{"Desks": rows, "Agencies": agencies, "Min": a.RankMin}
	if p, ok := c.Locals("pairing").(map[string]string); ok {
		data["Pairing"] = p
	}
	v.Data = data
	return cs.show(c, "desks", v)
}

// putDesk registers or changes a desk and shows its new pairing code.
func (cs *console) putDesk(c *fiber.Ctx) error {
	in := core.DeskInput{AgencyCode: c.FormValue("agency_code"), Name: c.FormValue("name"), Officer: c.FormValue("officer"), Form: c.FormValue("form"),
		OfficerPIN: strings.TrimSpace(c.FormValue("officer_pin"))}
	d, code, err := cs.api.Core.PutDesk(c.UserContext(), server.Principal(c), strings.TrimSpace(c.FormValue("id")), in)
	if err != nil {
		return cs.redo(c, cs.desksPage, err)
	}
	c.Locals("pairing", map[string]string{"Desk": d.Name, "Code": code[:4] + " " + code[4:]})
	return cs.desksPage(c)
}

// revokeDevice unpairs a tablet: POST /console/desks/:id/devices/:device/revoke.
func (cs *console) revokeDevice(c *fiber.Ctx) error {
	if err := cs.api.Core.RevokeDevice(c.UserContext(), server.Principal(c), c.Params("id"), c.Params("device")); err != nil {
		return cs.redo(c, cs.desksPage, err)
	}
	return c.Redirect("/console/desks", fiber.StatusSeeOther)
}
