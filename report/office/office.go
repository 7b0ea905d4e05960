// Package office writes the SIPAS report as offices exchange it: a
// print-ready A4 PDF (WritePDF) and an Excel workbook (WriteXLSX). Both
// lay out the same tables, built once here from figures the caller
// computed from the roll-ups; this package reads no store.
package office

import (
	"cmp"
	"fmt"
	"sort"
	"time"

	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/survey"
)

// Report is what the printed report and the workbook show.
type Report struct {
	Lang     string // "vi" or "en"
	Unit     string // the province's or unit's name
	From, To string // the period's months, YYYY-MM; either may be empty (open)
	// Channel, Procedure and Field are the report's other filters, shown
	// in the summary when set.
	Channel, Procedure, Field string
	Printed                   time.Time // in the zone the console shows
	Survey                    *survey.Survey
	Figures                   report.Report
	Units                     []Unit // every unit in scope, in any order
	MinSample                 int    // responses a unit needs to be ranked
	Previous                  *Previous
	// Reach is how far the period's invitations got and what they cost
	// (nil: no invitation in the period).
	Reach *report.Reach
}

// Unit is one agency's own figures.
type Unit struct {
	Code, Name string
	Responses  int64
	Overall    report.Figure
}

// Previous is the period of the same length just before the report's:
// its figures, and each rate's change in points (nil: no such period, or
// no answers in it).
type Previous struct {
	From, To  string
	Responses int64
	Overall   Change
	Criteria  []Change
}

// Change is one rate then and how it moved; Beyond when the two 95%
// intervals do not overlap.
type Change struct {
	Code   string
	Before report.Figure
	Points float64
	Beyond bool
}

// t picks the report's language.
func (r *Report) t(vi, en string) string {
	if r.Lang == "en" {
		return en
	}
	return vi
}

// Period is the report's period in words, as reports write it: "Tháng
// 01/2025 – 12/2025", "Tháng 03/2025", "Từ tháng 01/2025".
func (r *Report) Period() string { return r.period(r.From, r.To) }

func (r *Report) period(from, to string) string {
	m := func(s string) string { return locale.Month(r.Lang, s) }
	switch {
	case from != "" && from == to:
		return r.t("Tháng ", "") + m(from)
	case from != "" && to != "":
		return r.t("Tháng ", "") + m(from) + " – " + m(to)
	case from != "":
		return r.t("Từ tháng ", "From ") + m(from)
	case to != "":
		return r.t("Đến tháng ", "Up to ") + m(to)
	}
	return r.t("Toàn bộ thời gian", "All time")
}

// FileName is the report's file name: sipas-2025-01-2025-12.pdf.
func (r *Report) FileName(ext string) string {
	name := cmp.Or(r.Figures.Survey, "sipas")
	for _, m := range []string{r.From, r.To} {
		if m != "" {
			name += "-" + m
		}
	}
	return name + "." + ext
}

// kind is how a cell's value is written: in words on paper (through
// package locale), as a number with its format in the workbook.
type kind int

const (
	text   kind = iota
	count       // a whole number: 1.234
	share       // a percentage: 95,76%
	score       // a mean on the 1–5 scale: 3,69
	points      // a change in percentage points: +1,25
	span        // a 95% interval: from lo to hi percent (two columns in the workbook)
	day         // a date: 06/12/2026
)

type cell struct {
	kind       kind
	s          string
	v, lo, hi  float64
	t          time.Time
	none       bool // no figure: "–" on paper, empty in the workbook
	strong     bool
	titleBlock bool // said in the printed report's title block: not repeated in its summary table
}

type column struct {
	head  string
	kind  kind
	width float64 // millimetres on the A4 page (180 mm across); the workbook's width follows
}

type table struct {
	sheet, title string
	cols         []column
	rows         [][]cell
	note         string
}

func txt(s string) cell          { return cell{kind: text, s: s} }
func num(k kind, v float64) cell { return cell{kind: k, v: v} }

// figureCells are a figure's rate, its interval, its mean and its count,
// or no figure when nobody answered.
func figureCells(f report.Figure) []cell {
	if f.Answers == 0 {
		return []cell{{kind: share, none: true}, {kind: span, none: true}, {kind: score, none: true}, num(count, 0)}
	}
	return []cell{num(share, f.SatisfactionRate), {kind: span, lo: f.Interval.Low, hi: f.Interval.High}, num(score, f.MeanScore), num(count, float64(f.Answers))}
}

func (r *Report) figureCols(first, name string, nameWidth float64, answers string) []column {
	return []column{{first, text, 12}, {name, text, nameWidth}, {r.t("Tỉ lệ hài lòng", "Satisfied"), share, 22},
		{r.t("Khoảng tin cậy 95%", "95% interval"), span, 38}, {r.t("Điểm TB (1–5)", "Mean (1–5)"), score, 16}, {answers, count, 180 - 12 - nameWidth - 22 - 38 - 16}}
}

func (r *Report) summary() table {
	f := r.Figures
	rows := [][]cell{
		{txt(r.t("Đơn vị", "Unit")), {kind: text, s: r.Unit, titleBlock: true}},
		{txt(r.t("Kỳ báo cáo", "Period")), {kind: text, s: r.Period(), titleBlock: true}},
	}
	surveyName := r.Survey.Title.In(r.Lang)
	if f.Survey == report.AllForms {
		surveyName = r.t("Mọi mẫu phiếu SIPAS (tính theo tiêu chí)", "Every SIPAS form (at criterion level)")
	}
	rows = append(rows, []cell{txt(r.t("Mẫu phiếu", "Survey")), txt(surveyName)})
	for _, fl := range [][3]string{{r.t("Kênh", "Channel"), r.Channel}, {r.t("Thủ tục", "Procedure"), r.Procedure}, {r.t("Lĩnh vực", "Field"), r.Field}} {
		if fl[1] != "" {
			rows = append(rows, []cell{txt(fl[0]), txt(fl[1])})
		}
	}
	o := figureCells(f.Overall)
	rows = append(rows,
		[]cell{txt(r.t("Số phiếu trả lời", "Responses")), num(count, float64(f.Responses))},
		[]cell{txt(r.t("Chỉ số hài lòng chung", "Overall satisfaction index")), o[0]},
		[]cell{txt(r.t("Khoảng tin cậy 95% của chỉ số", "The index's 95% interval")), o[1]},
		[]cell{txt(r.t("Điểm trung bình (1–5)", "Mean score (1–5)")), o[2]},
		[]cell{txt(r.t("Ngày in", "Printed")), {kind: day, t: r.Printed, titleBlock: true}})
	return table{sheet: r.t("Tổng hợp", "Summary"), title: r.t("Tổng hợp", "Summary"),
		cols: []column{{r.t("Mục", "Item"), text, 70}, {r.t("Giá trị", "Value"), text, 110}}, rows: rows}
}

func (r *Report) criteria() table {
	t := table{sheet: r.t("Tiêu chí", "Criteria"), title: r.t("Tiêu chí", "Criteria"),
		cols: r.figureCols(r.t("Mã", "Code"), r.t("Tiêu chí", "Criterion"), 70, r.t("Số câu trả lời", "Answers"))}
	for _, c := range r.Figures.Criteria {
		t.rows = append(t.rows, append([]cell{txt(c.Code), txt(r.criterionName(c.Code))}, figureCells(c.Figure)...))
	}
	return t
}

func (r *Report) indicators() table {
	t := table{sheet: r.t("Chỉ số", "Indicators"), title: r.t("Chỉ số thành phần", "Indicators"),
		cols: r.figureCols(r.t("Mã", "Code"), r.t("Chỉ số thành phần", "Indicator"), 70, r.t("Số câu trả lời", "Answers"))}
	for _, in := range r.Figures.Indicators {
		name := in.ID
		if q, ok := r.Survey.Question(survey.QuestionID(in.ID)); ok {
			name = q.Text.In(r.Lang)
		}
		t.rows = append(t.rows, append([]cell{txt(in.ID), txt(name)}, figureCells(in.Figure)...))
	}
	if len(t.rows) == 0 {
		t.note = r.t("Không có số liệu theo chỉ số thành phần: các mẫu phiếu không có chung chỉ số, xem theo tiêu chí.",
			"No indicator figures: the forms share no indicators; see the criteria.")
	}
	return t
}

func (r *Report) criterionName(code string) string {
	for _, c := range r.Survey.Criteria {
		if c.Code == code {
			return c.Title.In(r.Lang)
		}
	}
	return code
}

// ranking lists every unit: those with at least MinSample responses
// ranked by their index, highest first (equal indexes share a rank), then
// the others marked, not left out.
func (r *Report) ranking() table {
	units := append([]Unit(nil), r.Units...)
	ranked := func(u Unit) bool { return u.Responses >= int64(r.MinSample) }
	sort.SliceStable(units, func(i, j int) bool {
		a, b := units[i], units[j]
		if ranked(a) != ranked(b) {
			return ranked(a)
		}
		if ranked(a) && a.Overall.SatisfactionRate != b.Overall.SatisfactionRate {
			return a.Overall.SatisfactionRate > b.Overall.SatisfactionRate
		}
		return a.Code < b.Code
	})
	t := table{sheet: r.t("Xếp hạng đơn vị", "Unit ranking"), title: r.t("Xếp hạng đơn vị", "Unit ranking"),
		cols: []column{{r.t("Hạng", "Rank"), count, 12}, {r.t("Mã đơn vị", "Code"), text, 24}, {r.t("Đơn vị", "Unit"), text, 33}, {r.t("Số phiếu", "Responses"), count, 17},
			{r.t("Tỉ lệ hài lòng", "Satisfied"), share, 19}, {r.t("Khoảng tin cậy 95%", "95% interval"), span, 38}, {r.t("Điểm TB", "Mean"), score, 13}, {r.t("Ghi chú", "Note"), text, 24}},
		note: fmt.Sprintf(r.t("Xếp hạng các đơn vị có từ %s phiếu trả lời trở lên; đơn vị ít phiếu hơn được ghi “chưa đủ mẫu”.",
			"Units with %s responses or more are ranked; units with fewer are marked “too few answers”."), locale.Int(r.Lang, int64(r.MinSample)))}
	rank := 0
	for i, u := range units {
		f := figureCells(u.Overall)
		rankCell, note := cell{kind: count, none: true}, txt(r.t("chưa đủ mẫu", "too few answers"))
		if ranked(u) {
			if i == 0 || u.Overall.SatisfactionRate != units[i-1].Overall.SatisfactionRate {
				rank = i + 1
			}
			rankCell, note = num(count, float64(rank)), txt("")
		}
		t.rows = append(t.rows, []cell{rankCell, txt(u.Code), txt(u.Name), num(count, float64(u.Responses)), f[0], f[1], f[2], note})
	}
	if len(units) == 0 {
		t.note = r.t("Không có đơn vị nào có phiếu trả lời trong kỳ.", "No unit has responses in the period.")
	}
	return t
}

// comparison sets this period's rates beside the previous period's.
func (r *Report) comparison() table {
	title := r.t("So sánh với kỳ trước", "Change against the previous period")
	if p := r.Previous; p != nil {
		title += " (" + r.period(p.From, p.To) + ")"
	}
	t := table{sheet: r.t("So sánh kỳ trước", "Previous period"), title: title,
		cols: []column{{r.t("Mục", "Item"), text, 62}, {r.t("Kỳ này", "This period"), share, 22}, {r.t("Kỳ trước", "Previous"), share, 22},
			{r.t("Thay đổi (điểm)", "Change (points)"), points, 22}, {r.t("Nhận định", "Reading"), text, 52}},
		note: r.t("Một thay đổi được coi là rõ khi hai khoảng tin cậy 95% không chồng lên nhau.",
			"A change is clear when the two 95% intervals do not overlap.")}
	row := func(name string, now report.Figure, ch *Change) {
		nowCell := cell{kind: share, v: now.SatisfactionRate, none: now.Answers == 0}
		if ch == nil || ch.Before.Answers == 0 || now.Answers == 0 {
			reading := r.t("không có số liệu kỳ trước", "no figures for the previous period")
			if now.Answers == 0 && ch != nil && ch.Before.Answers > 0 {
				reading = r.t("không có số liệu kỳ này", "no figures for this period")
			}
			before := cell{kind: share, none: true}
			if ch != nil && ch.Before.Answers > 0 {
				before = num(share, ch.Before.SatisfactionRate)
			}
			t.rows = append(t.rows, []cell{txt(name), nowCell, before, {kind: points, none: true}, txt(reading)})
			return
		}
		reading := r.t("trong khoảng tin cậy: có thể do ngẫu nhiên", "within the intervals: may be chance")
		if ch.Beyond {
			reading = r.t("vượt khoảng tin cậy: thay đổi rõ", "beyond the intervals: a clear change")
		}
		t.rows = append(t.rows, []cell{txt(name), nowCell, num(share, ch.Before.SatisfactionRate), num(points, ch.Points), txt(reading)})
	}
	var overall *Change
	if r.Previous != nil {
		overall = &r.Previous.Overall
	}
	row(r.t("Chỉ số hài lòng chung", "Overall index"), r.Figures.Overall, overall)
	for _, c := range r.Figures.Criteria {
		var ch *Change
		if r.Previous != nil {
			for i := range r.Previous.Criteria {
				if r.Previous.Criteria[i].Code == c.Code {
					ch = &r.Previous.Criteria[i]
				}
			}
		}
		row(c.Code+". "+r.criterionName(c.Code), c.Figure, ch)
	}
	return t
}

// definition is the index's definition, in the printed report's footer.
func (r *Report) definition() string {
	return r.t("Chỉ số hài lòng: tỉ lệ câu trả lời mức 4 (hài lòng) hoặc 5 (rất hài lòng) trên các câu trả lời từ 1 đến 5 (không tính “không ý kiến”); "+
		"tiêu chí là trung bình các chỉ số thành phần của nó, chỉ số chung là trung bình mọi chỉ số thành phần.",
		"Satisfaction index: the share of answers at 4 (satisfied) or 5 (very satisfied) among answers from 1 to 5 (“no opinion” left out); "+
			"a criterion is the mean of its indicators, the overall index the mean of all indicators.")
}

// reachTable is how far the invitations got on each channel, and what an
// answer cost: the funnel as the dashboard shows it.
func (r *Report) reachTable() table {
	t := table{sheet: r.t("Tiếp cận và chi phí", "Reach and cost"), title: r.t("Tiếp cận và chi phí", "Reach and cost"),
		cols: []column{{r.t("Kênh", "Channel"), text, 24}, {r.t("Mời", "Invited"), count, 19}, {r.t("Đã gửi", "Sent"), count, 19},
			{r.t("Đã nhắc", "Reminded"), count, 19}, {r.t("Đã mở", "Opened"), count, 19}, {r.t("Hoàn thành", "Completed"), count, 21},
			{r.t("Tỉ lệ hoàn thành", "Completion"), share, 25}, {r.t("Chi phí/phiếu (đ)", "Cost per answer (đ)"), count, 34}},
		note: r.t("Tỉ lệ hoàn thành của SMS, Zalo và gọi điện tính trên số đã gửi, của các kênh khác trên số được mời. Lời mời tính theo tháng tạo; chi phí theo bảng giá của tỉnh (GATEWAY_PRICES), “–” khi chưa đặt giá.",
			"SMS, Zalo and call completion is over those sent, other channels' over those invited. Invitations count in the month they were made; cost at the province's prices (GATEWAY_PRICES), “–” where none is set.")}
	names := map[string]string{"web": r.t("Web/QR", "Web/QR"), "sms": "SMS", "zalo": "Zalo", "kiosk": r.t("Kiosk tại quầy", "Desk kiosk"), "voice": r.t("Gọi điện", "Call")}
	row := func(name string, f report.ReachFigures) []cell {
		opt := func(v *int64) cell {
			if v == nil {
				return cell{kind: count, none: true}
			}
			return num(count, float64(*v))
		}
		return []cell{txt(name), num(count, float64(f.Invited)), num(count, float64(f.Sent)), num(count, float64(f.Reminded)),
			opt(f.Opened), num(count, float64(f.Completed)), num(share, f.Rates.Completed.Rate), opt(f.CostPerAnswer)}
	}
	t.rows = append(t.rows, row(r.t("Tất cả", "All"), r.Reach.ReachFigures))
	for _, fam := range []string{"web", "sms", "zalo", "kiosk", "voice"} {
		if f, ok := r.Reach.ByChannel[fam]; ok && (f.Invited > 0 || f.Completed > 0) {
			t.rows = append(t.rows, row(names[fam], f))
		}
	}
	return t
}

// tables are the report's tables, in the workbook's order of sheets.
func (r *Report) tables() []table {
	ts := []table{r.summary(), r.criteria(), r.indicators(), r.ranking(), r.comparison()}
	if r.Reach != nil {
		ts = append(ts, r.reachTable())
	}
	return ts
}
