package paper

import (
	"fmt"
	"io"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Poster is an office's standing suggestion-box poster: a QR that opens
// its feedback page, for the wall of the one-stop desk.
type Poster struct {
	Agency  string // the office's name as citizens know it
	URL     string // its feedback page
	Printed time.Time
}

// WritePoster writes the poster as one A4 page.
func WritePoster(w io.Writer, p Poster) error {
	if p.URL == "" {
		return fmt.Errorf("a poster needs the feedback page's address")
	}
	pdf := newDoc(p.Printed)
	pdf.SetTitle("Góp ý, phản ánh, kiến nghị — "+p.Agency, true)
	pdf.AddPage()
	pdf.SetFillColor(0, 0, 0)
	pdf.SetTextColor(0, 0, 0)
	mid := a4W / 2
	pdf.SetFont(fontName, "B", 13)
	wrapCentred(pdf, mid, 28, a4W-40, 6.5, p.Agency)
	pdf.SetFont(fontName, "B", 30)
	centred(pdf, mid, 58, "GÓP Ý, PHẢN ÁNH,")
	centred(pdf, mid, 72, "KIẾN NGHỊ")
	pdf.SetFont(fontName, "", 14)
	centred(pdf, mid, 86, "Ông/bà có ý kiến về việc giải quyết thủ tục hành chính tại đây?")
	const size = 90.0
	if err := drawQR(pdf, p.URL, Rect{mid - size/2, 98, size, size}); err != nil {
		return err
	}
	pdf.SetFont(fontName, "B", 16)
	centred(pdf, mid, 204, "Quét mã QR bằng điện thoại để gửi ý kiến")
	pdf.SetFont(fontName, "", 11.5)
	for i, line := range []string{
		"Không cần đăng nhập hay cài ứng dụng. Có thể ghi số hồ sơ nếu ý kiến về một hồ sơ.",
		"Muốn nhận trả lời qua tin nhắn, để lại số điện thoại: cơ quan gửi mã xác nhận trước.",
		"Hoặc viết vào phiếu góp ý tại quầy và bỏ vào hòm thư góp ý.",
	} {
		centred(pdf, mid, 216+float64(i)*7, line)
	}
	pdf.SetFont(fontName, "", 10)
	text(pdf, 20, 262, a4W-40, "Địa chỉ: "+p.URL)
	pdf.SetFont(fontName, "", 8)
	pdf.SetTextColor(70, 70, 70)
	centred(pdf, mid, 282, "Ý kiến được chuyển đến cơ quan và theo dõi đến khi trả lời. Xin cảm ơn ông/bà.")
	return pdf.Output(w)
}

// wrapCentred prints s centred on x from baseline y, wrapped to width.
func wrapCentred(pdf *fpdf.Fpdf, x, y, width, lineH float64, s string) {
	for i, line := range pdf.SplitText(s, width) {
		centred(pdf, x, y+float64(i)*lineH, line)
	}
}
