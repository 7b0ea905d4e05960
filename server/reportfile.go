package server

import (
	"bytes"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/report/office"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// reportQuery is a report's query as every form of the report reads it.
type reportQuery struct {
	store.Filter
	def     *survey.Survey
	groupBy string
	format  string // json, csv, xlsx or pdf
	lang    string // of the workbook and the printed report
}

// reportRequest reads a report's query: its filters (ReportQuery),
// group_by, format (fixed when the path says it: pdf) and lang. The
// JSON, CSV, workbook and printed forms of the report all read it here,
// so a bad filter is the same 400 in each.
func (a *API) reportRequest(c *fiber.Ctx, format string) (reportQuery, error) {
	q, def, err := a.ReportQuery(c)
	if err != nil {
		return reportQuery{}, err
	}
	rq := reportQuery{Filter: q, def: def, format: format, lang: c.Query("lang", "vi")}
	if rq.groupBy, err = groupByOf(c); err != nil {
		return rq, err
	}
	if format == "" {
		switch rq.format = c.Query("format", "json"); rq.format {
		case "json", "csv", "xlsx":
		default:
			return rq, core.Errorf(core.Invalid, "format", "%q: use json, csv or xlsx (the printed report is GET /api/v1/reports/sipas.pdf)", rq.format)
		}
	}
	if rq.format == "xlsx" || rq.format == "pdf" {
		if rq.groupBy != "" {
			return rq, core.Errorf(core.Invalid, "group_by", "the workbook and the printed report have fixed tables (criteria, indicators, units, previous period): leave group_by out")
		}
		if rq.lang != "vi" && rq.lang != "en" {
			return rq, core.Errorf(core.Invalid, "lang", "%q: use vi or en", rq.lang)
		}
	}
	if rq.groupBy == "procedure" {
		if rq.Procedure != "" || rq.Field != "" {
			return rq, core.Errorf(core.Invalid, "group_by", "group_by=procedure cannot be combined with a procedure or field filter")
		}
		rq.ProcedureFamily = true
	}
	return rq, nil
}

// ReportFile answers the report as a file, format pdf (printed, A4) or
// xlsx (a workbook): the API's GET /api/v1/reports/sipas.pdf and the
// console's links, with the caller's principal and the report's filters.
func (a *API) ReportFile(format string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rq, err := a.reportRequest(c, format)
		if err != nil {
			return err
		}
		return a.sendReportFile(c, rq)
	}
}

func (a *API) sendReportFile(c *fiber.Ctx, rq reportQuery) error {
	doc, err := a.officeReport(c, rq)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if rq.format == "pdf" {
		if err := office.WritePDF(&b, doc); err != nil {
			return err
		}
		return sendPDF(c, b.Bytes(), doc.FileName("pdf"))
	}
	if err := office.WriteXLSX(&b, doc); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+doc.FileName("xlsx")+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Set(fiber.HeaderContentType, xlsxType)
	return c.Send(b.Bytes())
}

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// officeReport computes what the workbook and the printed report show,
// from the roll-ups as the JSON report does: the cells of rq by agency
// (the figures are their sum, the ranking their groups) and the previous
// period's folded cells.
func (a *API) officeReport(c *fiber.Ctx, rq reportQuery) (*office.Report, error) {
	ctx, q := c.UserContext(), rq.Filter
	q.FoldAgencies, q.FoldMonths = false, true
	cells, err := a.Core.Mongo.Rollups.Query(ctx, q)
	if err != nil {
		return nil, err
	}
	compute := a.Computer(q, rq.def)
	doc := &office.Report{Lang: rq.lang, From: q.FromMonth, To: q.ToMonth, Channel: q.Channel, Procedure: q.Procedure, Field: q.Field,
		Printed: time.Now().In(a.Zone), Survey: rq.def, Figures: compute(cells), MinSample: a.RankMin}
	groups, err := report.Groups(ctx, compute, cells, "agency")
	if err != nil {
		return nil, err
	}
	if doc.Unit, doc.Units, err = a.officeUnits(c, rq, groups); err != nil {
		return nil, err
	}
	if doc.Reach, err = a.Reach(ctx, rq.Filter, nil); err != nil {
		return nil, err
	}
	prev, err := a.Compare(ctx, q, compute, doc.Figures)
	if err != nil || prev == nil || prev.Responses == 0 {
		return doc, err
	}
	doc.Previous = &office.Previous{From: prev.Period.From, To: prev.Period.To, Responses: prev.Responses,
		Overall: office.Change{Before: prev.Overall.Figure, Points: prev.Overall.Change, Beyond: prev.Overall.Beyond}}
	for _, ch := range prev.Criteria {
		doc.Previous.Criteria = append(doc.Previous.Criteria, office.Change{Code: ch.Code, Before: ch.Figure, Points: ch.Change, Beyond: ch.Beyond})
	}
	return doc, nil
}

// officeUnits names the report's unit (the agency asked for, the key's,
// or the one root of the tree) and lists every unit in scope: those with
// responses (groups) and the registered units without sub-units that have
// none, so a unit nobody answered for is seen too.
func (a *API) officeUnits(c *fiber.Ctx, rq reportQuery, groups []report.Group) (string, []office.Unit, error) {
	agencies, err := a.VisibleAgencies(c)
	if err != nil {
		return "", nil, err
	}
	byCode, parents, roots := map[string]store.Agency{}, map[string]bool{}, []store.Agency{}
	for _, ag := range agencies {
		byCode[ag.Code] = ag
		parents[ag.Parent] = true
		if ag.Parent == "" {
			roots = append(roots, ag)
		}
	}
	name := func(code string) string {
		ag, ok := byCode[code]
		switch {
		case !ok:
			return code
		case rq.lang == "en" && ag.NameEN != "":
			return ag.NameEN
		}
		return ag.Name
	}
	unit := "Tất cả đơn vị"
	if rq.lang == "en" {
		unit = "All units"
	}
	if ag := c.Query("agency", Principal(c).Agency); ag != "" {
		unit = name(ag)
	} else if len(roots) == 1 {
		unit = name(roots[0].Code)
	}
	var units []office.Unit
	seen := map[string]bool{}
	for _, g := range groups {
		seen[g.Group] = true
		units = append(units, office.Unit{Code: g.Group, Name: name(g.Group), Responses: g.Responses, Overall: g.Overall})
	}
	inScope := func(code string) bool { return len(rq.Agencies) == 0 }
	if len(rq.Agencies) > 0 {
		scope := map[string]bool{}
		for _, code := range rq.Agencies {
			scope[code] = true
		}
		inScope = func(code string) bool { return scope[code] }
	}
	for _, ag := range agencies {
		if !seen[ag.Code] && !parents[ag.Code] && inScope(ag.Code) {
			units = append(units, office.Unit{Code: ag.Code, Name: name(ag.Code)})
		}
	}
	return unit, units, nil
}
