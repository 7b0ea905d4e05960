package web

import (
	"cmp"
	"context"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
)

// flagCount is one signal's count in a unit, linked to its queue.
type flagCount struct {
	Name, Link string
	N          int64
}

// unitRow is a unit (its own answers, not its subtree's) as the panel
// shows it.
type unitRow struct {
	Code, Name, Queue string
	// Answers counts every answer received: those in the index and the
	// confirmed ones it left out.
	Answers, Flagged, Pending, Confirmed, Paper int64
	FlaggedShare, PaperShare                    float64
	ByFlag                                      []flagCount
	Index                                       report.Figure
	Excluding                                   *report.Figure
	Quick                                       report.GroupSignal
	// Raised counts the unit's raised group signals: its own and its
	// desks' and officers'.
	Raised int
}

// signalRow is a desk or an officer with its all-top signal.
type signalRow struct {
	Name, Agency string
	Signal       report.GroupSignal
}

// signalTable is the desks' or officers' table.
type signalTable struct {
	ID, Caption string
	Rows        []signalRow
}

// integrityPage is the integrity panel: per unit, how many answers raised
// a signal and how their review stands, the index with and without
// them, and the group signals, units to visit first: GET
// /console/integrity?agency=&from=&to=.
func (cs *console) integrityPage(c *fiber.Ctx) error {
	ctx, lang := c.UserContext(), langOf(c)
	q, compute, cells, err := cs.integrityCells(c)
	if err != nil {
		return err
	}
	province, err := cs.provinceIntegrity(ctx, q, compute, cells)
	if err != nil {
		return err
	}
	agencyGroups, _ := report.Groups(ctx, compute, cells, "agency")
	deskGroups, _ := report.Groups(ctx, compute, cells, "desk")
	officerGroups, _ := report.Groups(ctx, compute, cells, "officer")
	paper := paperCounts(ctx, compute, cells)
	if err := ctx.Err(); err != nil {
		return err // the client left: the groups above stopped half-way
	}
	agencies, agencyName, err := cs.api.AgencyNamer(c)
	if err != nil {
		return err
	}
	byCode := map[string]*report.Group{}
	for i := range agencyGroups {
		byCode[agencyGroups[i].Group] = &agencyGroups[i]
	}
	tables, raised, err := cs.signalTables(c, cells, byCode, deskGroups, officerGroups, agencyName)
	if err != nil {
		return err
	}
	units := make([]unitRow, len(agencyGroups))
	for i, g := range agencyGroups {
		units[i] = unitOf(lang, g, agencyName(g.Group), province, paper[g.Group], raised[g.Group])
	}
	slices.SortStableFunc(units, func(x, y unitRow) int {
		return cmp.Or(-cmp.Compare(x.Raised, y.Raised), -cmp.Compare(x.FlaggedShare, y.FlaggedShare),
			-cmp.Compare(x.Pending, y.Pending), cmp.Compare(x.Code, y.Code))
	})
	answerSignals, groupSignals := legend(lang)
	v := cs.view(c, "Độ tin cậy của chỉ số")
	v.Data = map[string]any{"Units": units, "Tables": tables, "Agencies": agencies, "Min": report.GroupSignalMin, "AnswerSignals": answerSignals, "GroupSignals": groupSignals,
		"Queue": "/console/flagged?" + url.Values{"agency": {c.Query("agency")}}.Encode(),
		"Q":     map[string]string{"Agency": c.Query("agency"), "From": c.Query("from"), "To": c.Query("to")}}
	return cs.render(c, 200, "integrity", v)
}

// integrityCells reads the panel's cells, every form and channel of the
// period and agencies asked, and how to compute them.
func (cs *console) integrityCells(c *fiber.Ctx) (store.Filter, func(store.Cells) report.Report, store.Cells, error) {
	args := c.Request().URI().QueryArgs()
	args.Set("survey", report.AllForms)
	args.Del("channel")
	args.Del("procedure")
	args.Del("field")
	q, def, err := cs.api.ReportQuery(c)
	if err != nil {
		return q, nil, nil, err
	}
	cells, _, err := cs.api.ReadCells(c.UserContext(), q)
	return q, cs.api.Computer(q, def), cells, err
}

// signalTables are the desks' and the officers' all-top signals, and how
// many each agency raised.
func (cs *console) signalTables(c *fiber.Ctx, cells store.Cells, byCode map[string]*report.Group, desks, officers []report.Group, agencyName func(string) string) ([]signalTable, map[string]int, error) {
	lang, agencyOf, raised := langOf(c), kioskAgencies(cells), map[string]int{}
	var deskNames, officerNames map[string]string
	if len(desks)+len(officers) > 0 {
		var err error
		if deskNames, officerNames, err = cs.kioskNames(c); err != nil { // names alone, never ids
			return nil, nil, err
		}
	}
	var tables []signalTable
	if len(desks) > 0 {
		rows := allTopRows(desks, agencyOf, byCode, func(id string) string { return cmp.Or(deskNames[id], translate(lang, "Quầy chưa đăng ký")) }, agencyName, raised)
		tables = append(tables, signalTable{"desk-signal", translate(lang, "Theo quầy"), rows})
	}
	if len(officers) > 0 {
		rows := allTopRows(officers, agencyOf, byCode, func(slug string) string {
			return cmp.Or(officerNames[slug], translate(lang, "Cán bộ chưa đăng ký"))
		}, agencyName, raised)
		tables = append(tables, signalTable{"officer-signal", translate(lang, "Theo cán bộ"), rows})
	}
	return tables, raised, nil
}

// kioskAgencies is the agency of each desk and officer: their channel
// names them, their cells the agency.
func kioskAgencies(cells store.Cells) map[string]string {
	out := map[string]string{}
	for k := range cells {
		if d := store.KioskDesk(k.Channel); d != "" {
			out[d] = k.Agency
			if o := store.KioskOfficer(k.Channel); o != "" {
				out[o] = k.Agency
			}
		}
	}
	return out
}

// allTopRows judges each desk's or officer's all-top share against its
// agency's (byCode: the agency groups), raised ones first, and counts
// those raised in raised by agency.
func allTopRows(gs []report.Group, agencyOf map[string]string, byCode map[string]*report.Group, name, agencyName func(string) string, raised map[string]int) []signalRow {
	rows := make([]signalRow, 0, len(gs))
	for _, g := range gs {
		ag := agencyOf[g.Group]
		var agency report.Group
		if u := byCode[ag]; u != nil {
			agency = *u
		}
		r := signalRow{Name: cmp.Or(name(g.Group), g.Group), Agency: agencyName(ag),
			Signal: report.AllTopSignal(g.Integrity, agency.Integrity, g.Responses, agency.Responses)}
		if r.Signal.Raised {
			raised[ag]++
		}
		rows = append(rows, r)
	}
	slices.SortStableFunc(rows, func(x, y signalRow) int {
		return cmp.Or(-cmp.Compare(boolInt(x.Signal.Raised), boolInt(y.Signal.Raised)),
			-cmp.Compare(x.Signal.Share-x.Signal.Expected, y.Signal.Share-y.Signal.Expected), cmp.Compare(x.Name, y.Name))
	})
	return rows
}

// unitOf is one unit's row; province is what its quick signal is judged
// against.
func unitOf(lang string, g report.Group, name string, province report.Integrity, paper int64, raised int) unitRow {
	u := unitRow{Code: g.Group, Name: name, Answers: g.Responses + g.Confirmed, Flagged: g.Flagged, Pending: g.PendingReview,
		Confirmed: g.Confirmed, Paper: paper, Index: g.Overall, Excluding: g.IndexExcludingFlagged,
		Queue: "/console/flagged?" + url.Values{"agency": {g.Group}, "status": {""}}.Encode()}
	u.FlaggedShare = percent(u.Flagged, u.Answers)
	u.PaperShare = percent(paper, g.Responses)
	u.Quick = report.QuickSignal(g.Integrity, province)
	u.Raised = raised + boolInt(u.Quick.Raised)
	for _, f := range store.Flags {
		if n := g.ByFlag[f]; n > 0 {
			u.ByFlag = append(u.ByFlag, flagCount{Name: signalName(lang, f), N: n,
				Link: "/console/flagged?" + url.Values{"agency": {g.Group}, "flag": {f}, "status": {""}}.Encode()})
		}
	}
	return u
}

// provinceIntegrity is the whole province's counts in q's period, what a
// unit's quick answers are judged against whichever units the page
// shows: cells when they cover every agency, else one more read, folded.
func (cs *console) provinceIntegrity(ctx context.Context, q store.Filter, compute func(store.Cells) report.Report, cells store.Cells) (report.Integrity, error) {
	if len(q.Agencies) == 0 {
		return compute(cells).Integrity, nil
	}
	pq := q
	pq.Agencies, pq.FoldAgencies, pq.FoldMonths = nil, true, true
	pcells, err := cs.api.Core.Mongo.Rollups.Query(ctx, pq)
	if err != nil {
		return report.Integrity{}, err
	}
	return compute(pcells).Integrity, nil
}

// paperFamily is the channel family of scanned paper forms.
const paperFamily = "paper"

// paperCounts is each agency's answers through the paper channel family
// (scanned forms), counted from the channel breakdown of the index's
// cells as every other figure is.
func paperCounts(ctx context.Context, compute func(store.Cells) report.Report, cells store.Cells) map[string]int64 {
	paper := store.Cells{}
	for k, n := range cells {
		if family, _, _ := strings.Cut(k.Channel, "."); family == paperFamily {
			paper[k] = n
		}
	}
	out := map[string]int64{}
	gs, _ := report.Groups(ctx, compute, paper, "agency")
	for _, g := range gs {
		out[g.Group] = g.Responses
	}
	return out
}

func percent(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) * 100 / float64(whole)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
