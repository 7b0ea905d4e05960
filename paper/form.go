package paper

import (
	_ "embed"
	"fmt"
	"io"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/survey"
)

// DejaVu Sans Condensed covers every Vietnamese letter (Latin Extended
// Additional included) and is free to embed; condensed, the longest SIPAS
// indicator fits one line of the question column. fpdf embeds only the
// glyphs a document uses.
var (
	//go:embed fonts/DejaVuSansCondensed.ttf
	fontRegular []byte
	//go:embed fonts/DejaVuSansCondensed-Bold.ttf
	fontBold []byte
)

// FontName is the family NewDoc registers the embedded fonts under:
// "" for regular, "B" for bold.
const FontName = "dejavu"

const fontName = FontName

// Form is one printed form: an invitation's dossier on a survey's layout.
type Form struct {
	Layout     *Layout
	Survey     *survey.Survey
	Invitation string
	Agency     string // the agency's name as citizens know it
	Dossier    string
	Printed    time.Time
}

// Code is the text of the form's QR.
func (f *Form) Code() qr.FormCode {
	return qr.FormCode{Survey: f.Layout.Survey, Version: f.Layout.Version, Invitation: f.Invitation}
}

// NewDoc is an A4 document in millimetres with the embedded Vietnamese
// fonts (FontName) and its dates fixed at at, no margins and no automatic
// page breaks: what the forms, posters and the printed report start from.
func NewDoc(at time.Time) *fpdf.Fpdf { return newDoc(at) }

// newDoc is an A4 document with the embedded fonts and fixed dates, so the
// same forms give the same bytes.
func newDoc(at time.Time) *fpdf.Fpdf {
	pdf := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "mm", SizeStr: "A4"})
	pdf.SetMargins(0, 0, 0)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes(fontName, "", fontRegular)
	pdf.AddUTF8FontFromBytes(fontName, "B", fontBold)
	pdf.SetCreationDate(at)
	pdf.SetModificationDate(at)
	pdf.SetCreator("SIPAS gateway", true)
	return pdf
}

// WritePDF writes forms as one PDF, a form per page.
func WritePDF(w io.Writer, forms []Form) error {
	if len(forms) == 0 {
		return fmt.Errorf("no forms to print")
	}
	pdf := newDoc(forms[0].Printed)
	pdf.SetTitle("Phiếu khảo sát mức độ hài lòng", true)
	for i := range forms {
		if err := drawForm(pdf, &forms[i]); err != nil {
			return err
		}
	}
	return pdf.Output(w)
}

// columnHeads name the answer columns in the order of Values.
var columnHeads = [][2]string{
	{"Rất không", "hài lòng"}, {"Không", "hài lòng"}, {"Bình", "thường"},
	{"Hài lòng", ""}, {"Rất", "hài lòng"}, {"Không", "ý kiến"},
}

func drawForm(pdf *fpdf.Fpdf, f *Form) error {
	l, def := f.Layout, f.Survey
	pdf.AddPage()
	pdf.SetTextColor(0, 0, 0)
	pdf.SetFillColor(0, 0, 0)
	for _, m := range l.Marks {
		pdf.Rect(m.X, m.Y, m.W, m.H, "F")
	}
	if err := drawQR(pdf, f.Code().String(), l.QR); err != nil {
		return err
	}
	// The header: what this is, whose dossier, how to mark.
	left, width := l.Header.X, l.QR.X-l.Header.X-4
	pdf.SetFont(fontName, "B", 12.5)
	text(pdf, left, 19.5, width, "PHIẾU KHẢO SÁT MỨC ĐỘ HÀI LÒNG")
	pdf.SetFont(fontName, "", 9)
	text(pdf, left, 24.5, width, def.Title.VI)
	pdf.SetFont(fontName, "B", 10)
	text(pdf, left, 30, width, f.Agency)
	pdf.SetFont(fontName, "", 10)
	text(pdf, left, 35, width, "Mã hồ sơ: "+f.Dossier+"    Ngày in: "+f.Printed.Format("02/01/2006"))
	pdf.SetFont(fontName, "", 7.6)
	text(pdf, left, 40, width, "Mỗi câu đánh dấu X hoặc tô kín MỘT ô. Nếu đánh nhầm, tô kín ô nhầm và đánh")
	text(pdf, left, 43.5, width, "dấu X vào ô đúng: cán bộ sẽ xem lại. Xin đừng viết lên mã QR và bốn ô đen ở góc.")

	// The table's head: the scale's words and numbers above each column.
	pdf.SetFont(fontName, "B", 8)
	text(pdf, l.Text.X, l.Header.Y+6, l.Text.W, "Nội dung đánh giá")
	for i, c := range l.Columns {
		pdf.SetFont(fontName, "", 6.3)
		centred(pdf, c, l.Header.Y+2.6, columnHeads[i][0])
		centred(pdf, c, l.Header.Y+5.1, columnHeads[i][1])
		pdf.SetFont(fontName, "B", 7)
		label := strconv.Itoa(Values[i])
		if Values[i] == 0 {
			label = "0"
		}
		centred(pdf, c, l.Header.Y+8.2, "("+label+")")
	}
	pdf.SetDrawColor(120, 120, 120)
	pdf.SetLineWidth(0.15)
	pdf.Line(l.Header.X, l.Header.Y+l.Header.H, l.Header.X+l.Header.W, l.Header.Y+l.Header.H)

	// The rows: criterion headings in bold, questions with their boxes.
	pdf.SetDrawColor(0, 0, 0)
	for _, r := range l.Rows {
		if r.Question == "" {
			c := criterion(def, r.Criterion)
			pdf.SetFont(fontName, "B", 8.2)
			text(pdf, l.Text.X, r.Y+r.H-1.4, l.Header.W, c.Code+". "+c.Title.VI)
			continue
		}
		q, ok := def.Question(survey.QuestionID(r.Question))
		if !ok {
			return fmt.Errorf("layout %s v%d names question %s, not in the survey", l.Survey, l.Version, r.Question)
		}
		drawQuestion(pdf, l, r, q, len(l.Rows) == len(def.Questions))
		pdf.SetDrawColor(200, 200, 200)
		pdf.SetLineWidth(0.1)
		pdf.Line(l.Header.X, r.Y+r.H, l.Header.X+l.Header.W, r.Y+r.H)
	}
	pdf.SetDrawColor(0, 0, 0)
	pdf.SetLineWidth(0.3)
	for _, b := range l.Boxes {
		pdf.Rect(b.X, b.Y, b.W, b.H, "D")
	}

	// The comment's area and the footer between the bottom marks.
	c := l.Comment
	pdf.SetFont(fontName, "B", 8.2)
	text(pdf, c.X, c.Y-1.6, c.W, def.Comment.VI)
	pdf.SetDrawColor(110, 110, 110)
	pdf.SetLineWidth(0.2)
	pdf.Rect(c.X, c.Y, c.W, c.H, "D")
	pdf.SetFont(fontName, "", 6.5)
	pdf.SetTextColor(60, 60, 60)
	centred(pdf, l.Page.W/2, l.Page.H-10.5, fmt.Sprintf("Mẫu phiếu %s v%d · Nộp lại phiếu tại Bộ phận Một cửa hoặc bỏ vào hòm thư góp ý · Xin cảm ơn ông/bà.", l.Survey, l.Version))
	return nil
}

// drawQuestion prints a question's wording on one line, or two when it
// does not fit; short forms print larger.
func drawQuestion(pdf *fpdf.Fpdf, l *Layout, r Row, q survey.Question, short bool) {
	words := string(q.ID) + ". " + q.Text.VI
	size := 8.6
	if short {
		size = 10.5
	}
	pdf.SetFont(fontName, "", size)
	if pdf.GetStringWidth(words) <= l.Text.W {
		text(pdf, l.Text.X, r.Y+r.H/2+size*0.125, l.Text.W, words)
		return
	}
	lines := pdf.SplitText(words, l.Text.W)
	if len(lines) > 2 {
		size *= 0.9
		pdf.SetFont(fontName, "", size)
		lines = pdf.SplitText(words, l.Text.W)
	}
	lh := size * 0.42
	y := r.Y + r.H/2 - lh*float64(len(lines)-1)/2 + size*0.125
	for _, line := range lines {
		text(pdf, l.Text.X, y, l.Text.W, line)
		y += lh
	}
}

func criterion(def *survey.Survey, code string) survey.Criterion {
	for _, c := range def.Criteria {
		if c.Code == code {
			return c
		}
	}
	return survey.Criterion{Code: code}
}

// text prints s with its baseline at y, cut to width.
func text(pdf *fpdf.Fpdf, x, y, width float64, s string) {
	for pdf.GetStringWidth(s) > width && len(s) > 0 {
		r := []rune(s)
		s = string(r[:len(r)-1])
	}
	pdf.Text(x, y, s)
}

// centred prints s centred on x with its baseline at y.
func centred(pdf *fpdf.Fpdf, x, y float64, s string) {
	pdf.Text(x-pdf.GetStringWidth(s)/2, y, s)
}

// drawQR draws the code's dark modules as filled squares in area, a row's
// runs merged into one rectangle each.
func drawQR(pdf *fpdf.Fpdf, content string, area Rect) error {
	m, err := qr.Modules(content)
	if err != nil {
		return err
	}
	unit := area.W / float64(len(m))
	pdf.SetFillColor(0, 0, 0)
	for y, row := range m {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			end := x
			for end < len(row) && row[end] {
				end++
			}
			// a hair more than a module, so no white seams between rows
			pdf.Rect(area.X+float64(x)*unit, area.Y+float64(y)*unit, float64(end-x)*unit+0.01, unit+0.01, "F")
			x = end
		}
	}
	return nil
}
