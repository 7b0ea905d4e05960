package web

import (
	"cmp"
	"errors"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/survey"
)

// quadrantLabels say a driver's quadrant (report.Drivers) in words.
var quadrantLabels = map[string]string{
	report.ImportantLow:  "Quan trọng và còn thấp: ưu tiên khắc phục",
	report.ImportantFine: "Quan trọng, đang tốt: giữ vững",
	report.MinorLow:      "Ít ảnh hưởng, còn thấp",
	report.MinorFine:     "Ít ảnh hưởng, đang tốt",
	report.TooFewAnswers: "chưa đủ mẫu",
}

// driverRow is a question as the page shows it.
type driverRow struct {
	Name, Quadrant, QuadrantCode, Unit, Compared, Gap, GapInterval, Importance string
	Below, TooFew                                                              bool
}

// lowRow is a desk, officer, channel or procedure in a lowest list.
type lowRow struct {
	Name, Index, Interval string
	Responses             int64
	Ranked                bool
}

// lowTable is one lowest list of the page.
type lowTable struct {
	ID, Title string
	Rows      []lowRow
}

// driversPage shows why a unit is low: GET /console/drivers?agency=&from=&to=&survey=.
func (cs *console) driversPage(c *fiber.Ctx) error {
	a, lang := cs.api, langOf(c)
	v := cs.view(c, "Vì sao chỉ số thấp")
	q, def, err := a.ReportQuery(c)
	var ce *core.Error
	if errors.As(err, &ce) {
		v.Error = formError(lang, ce)
		return cs.show(c, "drivers", v)
	}
	if err != nil {
		return err
	}
	if q.Survey == "" {
		def, _ = a.Core.Surveys.Survey(survey.SIPAS)
		q.Survey = string(def.ID)
	}
	if q.FromMonth == "" && q.ToMonth == "" { // the last twelve months
		now := cs.now()
		q.ToMonth, q.FromMonth = now.Format("2006-01"), now.AddDate(0, -11, 0).Format("2006-01")
	}
	agency := c.Query("agency", server.Principal(c).Agency)
	d, err := a.Drivers(c.UserContext(), q, def, agency)
	if err != nil {
		return err
	}
	_, agencyName, err := a.AgencyNamer(c)
	if err != nil {
		return err
	}
	desks, officers, err := cs.kioskNames(c)
	if err != nil {
		return err
	}
	rows := make([]driverRow, 0, len(d.Questions))
	for _, x := range d.Questions {
		r := driverRow{Name: criterionName(a.Core.Surveys, lang, q.Survey, x.ID), QuadrantCode: x.Quadrant, Quadrant: translate(lang, quadrantLabels[x.Quadrant]),
			Unit: percentOf(lang, x.Unit), TooFew: x.Quadrant == report.TooFewAnswers, Below: x.Gap != nil && x.Gap.Significant && x.Gap.Points < 0}
		if x.Compared != nil {
			r.Compared = percentOf(lang, *x.Compared)
		}
		if x.Gap != nil {
			r.Gap = locale.Signed(lang, x.Gap.Points, 1)
			r.GapInterval = translate(lang, "khoảng tin cậy 95%%: %s đến %s điểm", locale.Signed(lang, x.Gap.Interval.Low, 1), locale.Signed(lang, x.Gap.Interval.High, 1))
		}
		if x.Importance != nil {
			r.Importance = locale.Fixed(lang, x.Importance.Correlation, 2)
		}
		rows = append(rows, r)
	}
	lows := func(gs []server.LowGroup, name func(string) string) []lowRow {
		out := make([]lowRow, 0, len(gs))
		for _, g := range gs {
			out = append(out, lowRow{Name: name(g.Group), Index: locale.Percent(lang, g.Overall.SatisfactionRate, 2), Interval: interval(lang, g.Overall.Interval), Responses: g.Responses, Ranked: g.Ranked})
		}
		return out
	}
	topics := make([]map[string]any, 0, len(d.Topics))
	for _, t := range d.Topics {
		var trend []string
		for _, m := range t.Months {
			if m.Responses > 0 {
				trend = append(trend, locale.Month(lang, m.Month)+": "+locale.Int(lang, m.Complaints))
			}
		}
		topics = append(topics, map[string]any{"Name": topicName(a, lang, t.Topic), "Complaints": locale.Int(lang, t.Complaints), "Per100": locale.Fixed(lang, t.Per100, 1), "Trend": trend})
	}
	keep := url.Values{"agency": {agency}, "from": {q.FromMonth}, "to": {q.ToMonth}}
	forms := []map[string]any{}
	for _, id := range []survey.ID{survey.SIPAS, survey.SIPAS5} {
		if s, ok := a.Core.Surveys.Survey(id); ok {
			k := url.Values{"agency": keep["agency"], "from": keep["from"], "to": keep["to"], "survey": {string(id)}}
			forms = append(forms, map[string]any{"Title": s.Title.In(lang), "Link": "/console/drivers?" + k.Encode(), "Current": string(id) == q.Survey})
		}
	}
	data := map[string]any{"Unit": cmp.Or(agencyName(agency), translate(lang, "Toàn tỉnh")), "AgencyCode": agency, "From": q.FromMonth, "To": q.ToMonth, "Period": locale.Months(lang, q.FromMonth, q.ToMonth),
		"Survey": q.Survey, "Forms": forms, "Responses": locale.Int(lang, d.Responses), "Overall": percentOf(lang, d.Overall), "Rows": rows, "Topics": topics, "Min": d.MinResponses,
		"Lows": []lowTable{
			{"desks", translate(lang, "Quầy có chỉ số thấp nhất"), lows(d.Desks, func(id string) string { return cmp.Or(desks[id], translate(lang, "Quầy chưa đăng ký")) })},
			{"officers", translate(lang, "Cán bộ có chỉ số thấp nhất"), lows(d.Officers, func(id string) string { return cmp.Or(officers[id], translate(lang, "Cán bộ chưa đăng ký")) })},
			{"channels", translate(lang, "Kênh có chỉ số thấp nhất"), lows(d.Channels, func(ch string) string { return channelWords(lang, ch) })},
			{"procedures", translate(lang, "Thủ tục có chỉ số thấp nhất"), lows(d.Procedures, func(code string) string { return code })},
		},
		"Dashboard": "/console/dashboard?" + keep.Encode()}
	if cw := d.ComparedWith; cw != nil {
		data["ComparedName"], data["Compared"] = agencyName(cw.Agency), percentOf(lang, cw.Overall)
	}
	v.Data = data
	return cs.show(c, "drivers", v)
}

// percentOf writes a figure's share satisfied with its answers.
func percentOf(lang string, f report.Figure) string {
	if f.Answers == 0 {
		return "—"
	}
	return locale.Percent(lang, f.SatisfactionRate, 1)
}
