package office

import (
	"fmt"
	"io"
	"strings"

	"codeberg.org/go-pdf/fpdf"

	"github.com/sipasvn/gateway/internal/locale"
	"github.com/sipasvn/gateway/paper"
)

// The printed page: A4 portrait, 15 mm margins, the footer below bottom.
const (
	left, right = 15.0, 195.0
	top, bottom = 15.0, 272.0
	pad         = 1.2 // inside a table cell
)

// printer draws the report on pages, y its current height.
type printer struct {
	pdf *fpdf.Fpdf
	r   *Report
	y   float64
}

// WritePDF writes r as a print-ready A4 report: a title block, the
// summary, the criteria with their indicators, the units' ranking and the
// change against the previous period; tables that run over a page repeat
// their head, and every page has its number and the index's definition.
func WritePDF(w io.Writer, r *Report) error {
	pdf := paper.NewDoc(r.Printed)
	p := &printer{pdf: pdf, r: r}
	title := r.t("Báo cáo chỉ số hài lòng về sự phục vụ hành chính", "Report on satisfaction with public administrative services")
	pdf.SetTitle(title+" — "+r.Unit+", "+r.Period(), true)
	pdf.SetLang(r.Lang)
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(p.footer)
	pdf.AddPage()
	p.y = top

	p.font("B", 14)
	p.centred(strings.ToUpper(title), 6.5)
	p.font("B", 12.5)
	p.centred(r.Unit, 6)
	p.font("", 11)
	p.centred(r.Period(), 6)
	p.font("", 9)
	p.centred(r.t("Ngày in: ", "Printed: ")+locale.Date(r.Lang, r.Printed), 5)
	p.y += 4

	ts := r.tables()
	sum := ts[0]
	var rows [][]cell
	for _, row := range sum.rows {
		if !row[1].titleBlock {
			rows = append(rows, row)
		}
	}
	sum.rows = rows
	sum.title = "1. " + sum.title
	p.table(sum)
	p.table(criteriaAndIndicators(r, ts[1], ts[2]))
	ts[3].title, ts[4].title = "3. "+ts[3].title, "4. "+ts[4].title
	p.table(ts[3])
	p.table(ts[4])
	if len(ts) > 5 {
		ts[5].title = "5. " + ts[5].title
		p.table(ts[5])
	}
	return pdf.Output(w)
}

// criteriaAndIndicators is one table of each criterion followed by its
// indicators, as SIPAS reports print them.
func criteriaAndIndicators(r *Report, crit, ind table) table {
	t := crit
	t.title = "2. " + r.t("Tiêu chí và chỉ số thành phần", "Criteria and indicators")
	t.cols = append([]column(nil), crit.cols...)
	t.cols[1].head = r.t("Tiêu chí, chỉ số thành phần", "Criterion, indicator")
	t.rows, t.note = nil, ind.note
	for i, row := range crit.rows {
		strong := make([]cell, len(row))
		for j, c := range row {
			c.strong = true
			strong[j] = c
		}
		t.rows = append(t.rows, strong)
		for k, in := range r.Figures.Indicators {
			if in.Criterion == r.Figures.Criteria[i].Code {
				t.rows = append(t.rows, ind.rows[k])
			}
		}
	}
	return t
}

func (p *printer) font(style string, size float64) { p.pdf.SetFont(paper.FontName, style, size) }

// centred prints s centred across the page and moves down by lineH.
func (p *printer) centred(s string, lineH float64) {
	for _, line := range p.pdf.SplitText(s, right-left) {
		p.y += lineH
		p.pdf.Text((left+right)/2-p.pdf.GetStringWidth(line)/2, p.y-lineH*0.25, line)
	}
}

func (p *printer) footer() {
	pdf, r := p.pdf, p.r
	pdf.SetDrawColor(150, 150, 150)
	pdf.SetLineWidth(0.2)
	pdf.Line(left, bottom+4, right, bottom+4)
	pdf.SetTextColor(70, 70, 70)
	p.font("", 6.8)
	y := bottom + 7.5
	for _, line := range pdf.SplitText(r.definition(), right-left-22) {
		pdf.Text(left, y, line)
		y += 3
	}
	page := fmt.Sprintf(r.t("Trang %d/{nb}", "Page %d of {nb}"), pdf.PageNo())
	pdf.Text(right-pdf.GetStringWidth(page), bottom+7.5, page)
	pdf.SetTextColor(0, 0, 0)
}

// words is a cell as the page writes it.
func (r *Report) words(c cell) string {
	if c.none {
		return "–"
	}
	switch c.kind {
	case count:
		return locale.Int(r.Lang, int64(c.v))
	case share:
		return locale.Percent(r.Lang, c.v, 2)
	case score:
		return locale.Fixed(r.Lang, c.v, 2)
	case points:
		return locale.Signed(r.Lang, c.v, 2)
	case span:
		return fmt.Sprintf(r.t("từ %s đến %s", "%s to %s"), locale.Percent(r.Lang, c.lo, 2), locale.Percent(r.Lang, c.hi, 2))
	case day:
		return locale.Date(r.Lang, c.t)
	}
	return c.s
}

const (
	bodySize = 8.2
	lineH    = 3.6
)

// lines splits each cell's words to its column.
func (p *printer) lines(cols []column, row []cell) ([][]string, float64) {
	out := make([][]string, len(row))
	n := 1
	for i, c := range row {
		style := ""
		if c.strong {
			style = "B"
		}
		p.font(style, bodySize)
		out[i] = p.pdf.SplitText(p.r.words(c), cols[i].width-2*pad)
		n = max(n, len(out[i]))
	}
	return out, float64(n)*lineH + 2*pad
}

// row draws one row of cells at y, their words right-aligned when numbers.
func (p *printer) row(cols []column, row []cell, head bool) {
	words, h := p.lines(cols, row)
	pdf, x := p.pdf, left
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.15)
	for i, c := range row {
		style, fill := "", ""
		switch {
		case head:
			pdf.SetFillColor(225, 225, 225)
			style, fill = "B", "F"
		case c.strong:
			pdf.SetFillColor(242, 242, 242)
			style, fill = "B", "F"
		}
		pdf.Rect(x, p.y, cols[i].width, h, "D"+fill)
		p.font(style, bodySize)
		for j, line := range words[i] {
			tx := x + pad
			if !head && cols[i].kind != text { // numbers line up on the right
				tx = x + cols[i].width - pad - pdf.GetStringWidth(line)
			}
			pdf.Text(tx, p.y+pad+float64(j+1)*lineH-0.9, line)
		}
		x += cols[i].width
	}
	p.y += h
}

// table draws t under its title; a row that does not fit starts a new
// page, which repeats the table's head.
func (p *printer) table(t table) {
	head := make([]cell, len(t.cols))
	for i, c := range t.cols {
		head[i] = cell{kind: text, s: c.head}
	}
	_, headH := p.lines(t.cols, head)
	first := headH + 10
	if len(t.rows) > 0 {
		_, h := p.lines(t.cols, t.rows[0])
		first += h
	}
	if p.y+first > bottom {
		p.newPage()
	}
	p.y += 4
	p.font("B", 11)
	p.pdf.Text(left, p.y+4, t.title)
	p.y += 6.5
	p.row(t.cols, head, true)
	for _, row := range t.rows {
		if _, h := p.lines(t.cols, row); p.y+h > bottom {
			p.newPage()
			p.row(t.cols, head, true)
		}
		p.row(t.cols, row, false)
	}
	if t.note != "" {
		p.font("", 7.5)
		for _, line := range p.pdf.SplitText(t.note, right-left) {
			if p.y+lineH+1 > bottom {
				p.newPage()
			}
			p.y += lineH
			p.pdf.Text(left, p.y+0.5, line)
		}
		p.y += 1
	}
}

func (p *printer) newPage() {
	p.pdf.AddPage()
	p.y = top
}
