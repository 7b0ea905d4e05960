package web

import (
	"cmp"
	"fmt"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

// dashFilters are the dashboard's filters as the page's links carry
// them: every link down the units table, every period preset and every
// column sort keeps the others.
type dashFilters struct {
	Agency, Desk, From, To, Channel, Survey, Sort string
}

func filtersOf(c *fiber.Ctx, survey string) dashFilters {
	return dashFilters{Agency: c.Query("agency"), Desk: c.Query("desk"), From: c.Query("from"), To: c.Query("to"),
		Channel: c.Query("channel"), Survey: survey, Sort: c.Query("sort")}
}

// link is the dashboard with f, empty filters left out.
func (f dashFilters) link() string {
	v := url.Values{}
	for k, x := range map[string]string{"agency": f.Agency, "desk": f.Desk, "from": f.From, "to": f.To, "channel": f.Channel, "survey": f.Survey, "sort": f.Sort} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return "/console/dashboard?" + v.Encode()
}

// preset is a period link beside the month pickers.
type preset struct {
	Label, Link string
	Current     bool
}

// presets are the periods an operator asks for most, as links that fill
// from and to (no script): this and last month, quarter and year, the
// last six months, and the period chosen a year earlier.
func presets(lang string, now time.Time, f dashFilters) []preset {
	m := func(t time.Time, add int) string { return t.AddDate(0, add, 0).Format("2006-01") }
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	quarter := month.AddDate(0, -int(month.Month()-1)%3, 0)
	year := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	spans := []struct{ label, from, to string }{
		{translate(lang, "Tháng này"), m(month, 0), m(month, 0)},
		{translate(lang, "Tháng trước"), m(month, -1), m(month, -1)},
		{translate(lang, "Quý này"), m(quarter, 0), m(quarter, 2)},
		{translate(lang, "Quý trước"), m(quarter, -3), m(quarter, -1)},
		{translate(lang, "6 tháng gần nhất"), m(month, -5), m(month, 0)},
		{translate(lang, "Năm nay"), m(year, 0), m(year, 11)},
		{translate(lang, "Năm trước"), m(year, -12), m(year, -1)},
	}
	from, to := cmp.Or(f.From, m(month, 0)), cmp.Or(f.To, f.From, m(month, 0))
	if a, errA := time.Parse("2006-01", from); errA == nil {
		if b, errB := time.Parse("2006-01", to); errB == nil {
			spans = append(spans, struct{ label, from, to string }{translate(lang, "Cùng kỳ năm trước"), m(a, -12), m(b, -12)})
		}
	}
	out := make([]preset, len(spans))
	for i, s := range spans {
		g := f
		g.From, g.To = s.from, s.to
		out[i] = preset{Label: s.label + " (" + locale.Months(lang, s.from, s.to) + ")", Link: g.link(), Current: f.From == s.from && f.To == s.to}
	}
	return out
}

// band is the band of a unit's index in the table, with its words: from
// b.Good (GATEWAY_INDEX_GOOD) đạt, from b.Fair cần cải thiện, below thấp.
func band(lang string, b server.Bands, rate float64) (class, label string) {
	switch {
	case rate >= b.Good:
		return "good", translate(lang, "Đạt")
	case rate >= b.Fair:
		return "fair", translate(lang, "Cần cải thiện")
	}
	return "low", translate(lang, "Thấp")
}

// bandNote says the bands in words under the table.
func bandNote(lang string, b server.Bands) string {
	pct := func(v float64) string {
		places := 0
		if v != math.Trunc(v) {
			places = 2
		}
		return locale.Percent(lang, v, places)
	}
	return translate(lang, "Mức: Đạt từ %s, Cần cải thiện từ %s, Thấp dưới %s.", pct(b.Good), pct(b.Fair), pct(b.Fair))
}

// unitLine is one row of the dashboard's units table.
type unitLine struct {
	Key, Name, Link, Index, Interval, Mean, Band, BandLabel string
	Why                                                     string // the unit's drivers page
	Responses                                               int64
	Rate                                                    float64
	TooFew, None                                            bool
}

// unitTable is the dashboard's table of every unit at one level of the
// drill-down (units, a unit's desks, a desk's officers), sorted.
type unitTable struct {
	Caption, NameCol string
	Min              int
	BandNote         string
	Rows             []unitLine
	Cols             []sortCol
}

// sortCol is a column header: its link sorts by it, the other way when it
// is the sort already; Aria is its aria-sort.
type sortCol struct {
	Label, Link, Aria, Class string
}

// sortKeys are the units table's sorts: by index (lowest first, the
// default), responses, or name; "-" before one reverses it.
var sortKeys = []string{"index", "responses", "name"}

func sortOf(s string) (key string, desc bool) {
	key, desc = strings.TrimPrefix(s, "-"), strings.HasPrefix(s, "-")
	if !slices.Contains(sortKeys, key) {
		return "index", false
	}
	return key, desc
}

// sortLines sorts rows by sort; units with too few answers to rank go
// after those ranked on the index sort, as their rate swings too far.
func sortLines(rows []unitLine, sort string) {
	key, desc := sortOf(sort)
	slices.SortStableFunc(rows, func(x, y unitLine) int {
		var c int
		switch key {
		case "responses":
			c = cmp.Compare(x.Responses, y.Responses)
		case "name":
			c = cmp.Compare(strings.ToLower(x.Name), strings.ToLower(y.Name))
		default:
			if x.TooFew != y.TooFew {
				return cmp.Compare(boolInt(x.TooFew), boolInt(y.TooFew))
			}
			c = cmp.Compare(x.Rate, y.Rate)
		}
		if desc {
			c = -c
		}
		return cmp.Or(c, cmp.Compare(x.Name, y.Name))
	})
}

// columns are the table's sortable headers for f.
func columns(lang string, f dashFilters, nameCol string) []sortCol {
	key, desc := sortOf(f.Sort)
	out := []sortCol{}
	for _, c := range []struct{ key, label, class string }{{"name", nameCol, ""}, {"index", translate(lang, "Chỉ số hài lòng"), "num"}, {"responses", translate(lang, "Số phiếu (n)"), "num"}} {
		g := f
		col := sortCol{Label: c.label, Aria: "none", Class: c.class}
		g.Sort = c.key
		if key == c.key {
			col.Aria = "ascending"
			if desc {
				col.Aria = "descending"
			} else {
				g.Sort = "-" + c.key
			}
		}
		col.Link = g.link()
		out = append(out, col)
	}
	return out
}

// lineOf is a group's row; link opens its level.
func lineOf(lang string, b server.Bands, name, link string, g report.Group, min int) unitLine {
	l := unitLine{Key: g.Group, Name: name, Link: link, Responses: g.Responses, Rate: g.Overall.SatisfactionRate, TooFew: g.Responses < int64(min), None: g.Responses == 0}
	if !l.None {
		l.Index = locale.Percent(lang, g.Overall.SatisfactionRate, 2)
		l.Mean = locale.Fixed(lang, g.Overall.MeanScore, 2)
		l.Interval = interval(lang, g.Overall.Interval)
		l.Band, l.BandLabel = band(lang, b, g.Overall.SatisfactionRate)
	}
	return l
}

// interval says a 95% interval in words: "khoảng tin cậy 95%: 52,3–72,0%".
func interval(lang string, i report.Interval) string {
	return translate(lang, "khoảng tin cậy 95%%: %s–%s", locale.Fixed(lang, i.Low, 1), locale.Percent(lang, i.High, 1))
}

// unitsTable is the table of where the dashboard stands in the
// drill-down: the units of a province or department, one unit's desks
// (a unit with desks of its own, or with no unit below it), or one
// desk's officers.
func (cs *console) unitsTable(c *fiber.Ctx, f dashFilters, q store.Filter, compute func(store.Cells) report.Report, cells store.Cells, agencies []store.Agency, agencyName func(string) string) (unitTable, error) {
	lang, ctx, min := langOf(c), c.UserContext(), cs.api.RankMin
	t := unitTable{Min: min, BandNote: bandNote(lang, cs.api.Bands)}
	switch {
	case f.Desk != "":
		t.Caption, t.NameCol = translate(lang, "Cán bộ tại quầy"), translate(lang, "Cán bộ")
		gs, err := report.Groups(ctx, compute, cells, "officer")
		if err != nil {
			return t, err
		}
		_, officers, err := cs.kioskNames(c)
		if err != nil {
			return t, err
		}
		for _, g := range gs {
			t.Rows = append(t.Rows, lineOf(lang, cs.api.Bands, cmp.Or(officers[g.Group], translate(lang, "Cán bộ chưa đăng ký")), "", g, min))
		}
	case f.Agency != "" && (len(q.Agencies) == 1 || len(ownDesks(cells, f.Agency)) > 0): // a unit's desks
		t.Caption, t.NameCol = translate(lang, "Quầy của đơn vị"), translate(lang, "Quầy")
		gs, err := report.Groups(ctx, compute, ownDesks(cells, f.Agency), "desk")
		if err != nil {
			return t, err
		}
		desks, _, err := cs.kioskNames(c)
		if err != nil {
			return t, err
		}
		for _, g := range gs {
			down := f
			down.Desk, down.Sort = g.Group, ""
			t.Rows = append(t.Rows, lineOf(lang, cs.api.Bands, cmp.Or(desks[g.Group], translate(lang, "Quầy chưa đăng ký")), down.link(), g, min))
		}
	default:
		t.Caption, t.NameCol = translate(lang, "Mọi đơn vị"), translate(lang, "Đơn vị")
		gs, err := report.Groups(ctx, compute, cells, "agency")
		if err != nil {
			return t, err
		}
		seen := map[string]bool{}
		add := func(g report.Group) {
			seen[g.Group] = true
			down := f
			down.Agency, down.Desk, down.Sort = g.Group, "", ""
			l := lineOf(lang, cs.api.Bands, agencyName(g.Group), down.link(), g, min)
			if !l.None {
				l.Why = "/console/drivers?" + url.Values{"agency": {g.Group}, "from": {f.From}, "to": {f.To}}.Encode()
			}
			t.Rows = append(t.Rows, l)
		}
		for _, g := range gs {
			add(g)
		}
		in := map[string]bool{}
		for _, a := range q.Agencies {
			in[a] = true
		}
		for _, a := range agencies { // every unit, those without answers too
			if !seen[a.Code] && (len(q.Agencies) == 0 || in[a.Code]) {
				add(report.Group{Group: a.Code})
			}
		}
	}
	sortLines(t.Rows, f.Sort)
	t.Cols = columns(lang, f, t.NameCol)
	return t, nil
}

// kioskNames are the desks' names by id and the officers' by their
// report group: names alone, as the table shows them.
func (cs *console) kioskNames(c *fiber.Ctx) (desks, officers map[string]string, err error) {
	list, err := cs.api.Core.Desks(c.UserContext(), server.Principal(c))
	if err != nil {
		return nil, nil, err
	}
	desks, officers = map[string]string{}, map[string]string{}
	for _, d := range list {
		desks[d.ID] = d.Name
		if g := d.OfficerGroup(); g != "" {
			officers[g] = d.Officer
		}
	}
	return desks, officers, nil
}

// channelName names a channel for the page: a kiosk's by its desk's and
// officer's names ("kiosk · Quầy 3 · Trần Văn Minh"), never its id.
func channelName(lang, channel string, desks, officers map[string]string) string {
	d := store.KioskDesk(channel)
	if d == "" {
		return channelWords(lang, channel)
	}
	name := store.KioskFamily + " · " + cmp.Or(desks[d], translate(lang, "Quầy chưa đăng ký"))
	if o := store.KioskOfficer(channel); o != "" {
		name += " · " + cmp.Or(officers[o], translate(lang, "Cán bộ chưa đăng ký"))
	}
	return name
}

// ownDesks keeps the kiosk cells of the agency's own desks.
func ownDesks(cells store.Cells, agency string) store.Cells {
	out := store.Cells{}
	for k, n := range cells {
		if k.Agency == agency && store.KioskDesk(k.Channel) != "" {
			out[k] = n
		}
	}
	return out
}

// onlyDesk keeps the cells of one desk's kiosk.
func onlyDesk(cells store.Cells, desk string) store.Cells {
	out := store.Cells{}
	for k, n := range cells {
		if store.KioskDesk(k.Channel) == desk {
			out[k] = n
		}
	}
	return out
}

// crumb is one step of the drill-down's trail.
type crumb struct{ Name, Link string }

// trail is the way back up: province, unit, desk.
func trail(lang string, f dashFilters, agencyName func(string) string, deskName string) []crumb {
	top := f
	top.Agency, top.Desk, top.Sort = "", "", ""
	out := []crumb{{translate(lang, "Toàn tỉnh"), top.link()}}
	if f.Agency != "" {
		u := top
		u.Agency = f.Agency
		out = append(out, crumb{agencyName(f.Agency), u.link()})
	}
	if f.Desk != "" {
		out = append(out, crumb{cmp.Or(deskName, translate(lang, "Quầy chưa đăng ký")), ""})
	}
	return out
}

// point is one month of the trend chart.
type point struct {
	X, Y                 int
	Month, Value, Detail string
}

// trendChart is the monthly index drawn as a line with each month's value
// written on it: months without answers are left out.
type trendChart struct {
	Points string
	Marks  []point
	Width  int
}

// trendOf places each month's index: 70 px a month, 0–100 % over 160 px.
func trendOf(lang string, gs []report.Group) trendChart {
	t := trendChart{Width: max(620, 60+70*len(gs))}
	var pts []string
	for i, g := range gs {
		x, y := 70+i*70, 190-int(g.Overall.SatisfactionRate*1.6)
		pts = append(pts, fmt.Sprintf("%d,%d", x, y))
		t.Marks = append(t.Marks, point{X: x, Y: y, Month: locale.Month(lang, g.Group), Value: locale.Percent(lang, g.Overall.SatisfactionRate, 1),
			Detail: translate(lang, "%s · n = %s phiếu", interval(lang, g.Overall.Interval), locale.Int(lang, g.Responses))})
	}
	t.Points = strings.Join(pts, " ")
	return t
}

// now is the console's clock (the service's, which tests set).
func (cs *console) now() time.Time {
	if cs.api.Core.Clock != nil {
		return cs.api.Core.Clock().In(cs.api.Zone)
	}
	return time.Now().In(cs.api.Zone)
}

// onTime is the follow-up cases' answered-in-time rate over the cases
// that are due: answered, or past their due time unanswered; a case
// opened today and not yet due is not late. The figures are the report
// API's (in_time_rate), from the roll-ups.
type onTime struct {
	InTime, Due int64
	Rate        string
}

func onTimeOf(lang string, cf *server.CaseFigures) onTime {
	out := onTime{InTime: cf.AnsweredInTime, Due: cf.Due}
	if out.Due > 0 {
		out.Rate = locale.Percent(lang, cf.InTimeRate, 2)
	}
	return out
}
