package office

import (
	"io"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// numberFormats are the workbook's formats by kind: Excel shows them with
// the reader's own decimal and thousands marks (95,76% on a Vietnamese
// system). Shares are stored as fractions (0.9576), Excel's own way, so
// formulas over them work.
var numberFormats = map[kind]string{
	count:  "#,##0",
	share:  "0.00%",
	score:  "0.00",
	points: "+0.00;-0.00;0.00",
	span:   "0.00%",
	day:    "dd/mm/yyyy",
}

// WriteXLSX writes r as an Excel workbook, a sheet per table of the
// printed report: numbers stored as numbers with their formats, the head
// row frozen, the columns sized to their contents.
func WriteXLSX(w io.Writer, r *Report) error {
	f := excelize.NewFile()
	defer f.Close()
	styles := map[kind]int{}
	for k, code := range numberFormats {
		id, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return err
		}
		styles[k] = id
	}
	var err error
	if styles[text], err = f.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}}); err != nil {
		return err
	}
	head, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E1E1E1"}},
		Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	if err != nil {
		return err
	}
	for i, t := range r.tables() {
		if i == 0 {
			err = f.SetSheetName(f.GetSheetName(0), t.sheet)
		} else {
			_, err = f.NewSheet(t.sheet)
		}
		if err == nil {
			err = r.sheet(f, t, styles, head)
		}
		if err != nil {
			return err
		}
	}
	title := r.t("Chỉ số hài lòng SIPAS", "SIPAS satisfaction index") + " — " + r.Unit + ", " + r.Period()
	if err := f.SetDocProps(&excelize.DocProperties{Title: title, Creator: "SIPAS gateway", Language: r.Lang, Created: r.Printed.UTC().Format("2006-01-02T15:04:05Z")}); err != nil {
		return err
	}
	_, err = f.WriteTo(w)
	return err
}

// sheet writes t on its sheet: its head in row 1 (frozen), a row per
// row, then its note. An interval takes two columns, from and to.
func (r *Report) sheet(f *excelize.File, t table, styles map[kind]int, head int) error {
	at := make([]int, len(t.cols)) // each column's first sheet column
	widths := map[int]float64{}
	n := 1
	for i, c := range t.cols {
		at[i] = n
		heads := []string{c.head}
		if c.kind == span {
			heads = []string{c.head + r.t(": từ", ": from"), c.head + r.t(": đến", ": to")}
		}
		for _, h := range heads {
			if err := r.put(f, t.sheet, n, 1, txt(h), head); err != nil {
				return err
			}
			widths[n] = max(c.width/1.9, min(float64(utf8.RuneCountInString(h))+2, 24), 10)
			n++
		}
	}
	for y, row := range t.rows {
		for i, c := range row {
			if err := r.put(f, t.sheet, at[i], y+2, c, styles[c.kind]); err != nil {
				return err
			}
			if c.kind == text {
				widths[at[i]] = min(max(widths[at[i]], float64(utf8.RuneCountInString(c.s))+2), 70)
			}
		}
	}
	if t.note != "" {
		if err := r.put(f, t.sheet, 1, len(t.rows)+3, txt(t.note), 0); err != nil {
			return err
		}
	}
	for col, w := range widths {
		name, _ := excelize.ColumnNumberToName(col)
		if err := f.SetColWidth(t.sheet, name, name, w); err != nil {
			return err
		}
	}
	return f.SetPanes(t.sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"})
}

// put writes one cell at (col, row) with style: a number as a number, an
// interval as two numbers side by side, no figure as an empty cell.
func (r *Report) put(f *excelize.File, sheet string, col, row int, c cell, style int) error {
	addr, _ := excelize.CoordinatesToCellName(col, row)
	var err error
	switch {
	case c.none:
		return nil
	case c.kind == text:
		err = f.SetCellStr(sheet, addr, c.s)
	case c.kind == day:
		err = f.SetCellValue(sheet, addr, c.t)
	case c.kind == share:
		err = f.SetCellFloat(sheet, addr, c.v/100, -1, 64)
	case c.kind == span:
		next, _ := excelize.CoordinatesToCellName(col+1, row)
		if err = f.SetCellFloat(sheet, addr, c.lo/100, -1, 64); err == nil {
			err = f.SetCellFloat(sheet, next, c.hi/100, -1, 64)
		}
		if err == nil {
			err = f.SetCellStyle(sheet, next, next, style)
		}
	default:
		err = f.SetCellFloat(sheet, addr, c.v, -1, 64)
	}
	if err == nil && style != 0 {
		err = f.SetCellStyle(sheet, addr, addr, style)
	}
	return err
}
