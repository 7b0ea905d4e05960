package paper

import (
	"fmt"
	"io"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/sipasvn/gateway/qr"
)

// Slip is the layout name of the suggestion-box slip: a form with no
// dossier, read like the others (corner marks, QR), whose writing is kept
// as an image for an operator to type.
const Slip = "gopy"

// SlipKinds are the slip's boxes, by value: what the citizen brings.
var SlipKinds = map[int]string{1: "gop_y", 2: "phan_anh", 3: "kien_nghi"}

// slipLabels are their printed words, in the boxes' order.
var slipLabels = []string{"Góp ý", "Phản ánh", "Kiến nghị"}

// SlipForm is an office's blank slips for its suggestion box.
type SlipForm struct {
	Agency  string // the office's name
	ID      string // 24 hex digits naming the office (core keeps id → office)
	Printed time.Time
}

// layoutSlipV1 places the slip: three kind boxes on one row, the text's
// area, then a line each for an optional phone and dossier code.
func layoutSlipV1() *Layout {
	l := &Layout{
		Survey: Slip, Version: 1, Page: Size{a4W, a4H},
		Marks:  cornersV1(),
		QR:     qrV1,
		Header: Rect{textLeft, tableTop, 178, 12},
	}
	const box = 7.0
	for i := range slipLabels {
		x := textLeft + 2 + float64(i)*50
		l.Columns = append(l.Columns, x+box/2)
		l.Boxes = append(l.Boxes, Box{Question: "kind", Value: i + 1, Rect: Rect{x, tableTop + 2.5, box, box}})
	}
	l.Rows = []Row{{Criterion: "", Question: "kind", Y: tableTop, H: 12}}
	// Comment is everything written: the text, the phone and the dossier.
	l.Comment = Rect{textLeft, 66, 178, 209}
	l.Text = Rect{textLeft, 66, 178, 175}
	return l
}

// WriteSlips writes n blank slips, one A4 page each.
func WriteSlips(w io.Writer, f SlipForm, n int) error {
	if n < 1 || n > 200 {
		return fmt.Errorf("print 1 to 200 slips at a time")
	}
	l, err := Current(Slip)
	if err != nil {
		return err
	}
	pdf := newDoc(f.Printed)
	pdf.SetTitle("Phiếu góp ý — "+f.Agency, true)
	code := qr.FormCode{Survey: Slip, Version: l.Version, Invitation: f.ID}.String()
	for range n {
		if err := drawSlip(pdf, l, f, code); err != nil {
			return err
		}
	}
	return pdf.Output(w)
}

func drawSlip(pdf *fpdf.Fpdf, l *Layout, f SlipForm, code string) error {
	pdf.AddPage()
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFillColor(0, 0, 0)
	for _, m := range l.Marks {
		pdf.Rect(m.X, m.Y, m.W, m.H, "F")
	}
	if err := drawQR(pdf, code, l.QR); err != nil {
		return err
	}
	left, width := l.Header.X, l.QR.X-l.Header.X-4
	pdf.SetFont(fontName, "B", 15)
	text(pdf, left, 21, width, "PHIẾU GÓP Ý, PHẢN ÁNH, KIẾN NGHỊ")
	pdf.SetFont(fontName, "B", 10.5)
	text(pdf, left, 28, width, f.Agency)
	pdf.SetFont(fontName, "", 8.2)
	for i, line := range []string{
		"Đánh dấu X vào một ô, viết ý kiến vào khung dưới đây rồi bỏ phiếu vào hòm thư góp ý.",
		"Muốn được trả lời qua tin nhắn, ghi số điện thoại: cơ quan nhắn mã xác nhận trước khi trả lời.",
		"Xin đừng viết lên mã QR và bốn ô đen ở góc.",
	} {
		text(pdf, left, 34+float64(i)*3.8, width, line)
	}
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetLineWidth(0.3)
	pdf.SetFont(fontName, "", 11)
	for i, b := range l.Boxes {
		pdf.Rect(b.X, b.Y, b.W, b.H, "D")
		pdf.Text(b.X+b.W+2.5, b.Y+b.H-1.6, slipLabels[i])
	}
	t := l.Text
	pdf.SetFont(fontName, "B", 9)
	text(pdf, t.X, t.Y-1.6, t.W, "Nội dung:")
	pdf.SetDrawColor(110, 110, 110)
	pdf.SetLineWidth(0.2)
	pdf.Rect(t.X, t.Y, t.W, t.H, "D")
	pdf.SetDrawColor(215, 215, 215)
	pdf.SetLineWidth(0.15)
	for y := t.Y + 10; y < t.Y+t.H-2; y += 10 {
		pdf.Line(t.X+3, y, t.X+t.W-3, y)
	}
	pdf.SetFont(fontName, "", 10)
	pdf.SetDrawColor(110, 110, 110)
	pdf.Text(t.X, t.Y+t.H+12, "Số điện thoại (nếu muốn được trả lời):")
	pdf.Line(t.X+66, t.Y+t.H+12.5, t.X+t.W, t.Y+t.H+12.5)
	pdf.Text(t.X, t.Y+t.H+24, "Mã hồ sơ (nếu ý kiến về một hồ sơ):")
	pdf.Line(t.X+66, t.Y+t.H+24.5, t.X+t.W, t.Y+t.H+24.5)
	pdf.SetFont(fontName, "", 6.5)
	pdf.SetTextColor(60, 60, 60)
	centred(pdf, l.Page.W/2, l.Page.H-10.5, fmt.Sprintf("Mẫu phiếu góp ý v%d · Ý kiến được chuyển đến cơ quan và theo dõi đến khi trả lời.", l.Version))
	return nil
}
