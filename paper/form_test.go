package paper

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"

	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/survey"
)

// vietnamese is every letter of the Vietnamese alphabet with every tone,
// lower and upper case, composed (NFC) as text arrives.
func vietnamese() []rune {
	var out []rune
	for _, v := range []string{"a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"} {
		for _, tone := range []string{"", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"} {
			for _, r := range norm.NFC.String(v + tone) {
				out = append(out, r, unicode.ToUpper(r))
			}
		}
	}
	for _, r := range "bcdđghklmnpqrstvx" {
		out = append(out, r, unicode.ToUpper(r))
	}
	return out
}

func TestFontsCoverVietnamese(t *testing.T) {
	letters := vietnamese()
	if len(letters) != 2*(72+17) {
		t.Fatalf("%d letters: the alphabet is wrong", len(letters))
	}
	for name, b := range map[string][]byte{"regular": fontRegular, "bold": fontBold} {
		f, err := sfnt.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		var buf sfnt.Buffer
		for _, r := range letters {
			if g, err := f.GlyphIndex(&buf, r); err != nil || g == 0 {
				t.Errorf("%s font has no glyph for %q (U+%04X)", name, r, r)
			}
		}
	}
}

func testForm(t *testing.T, id string) Form {
	t.Helper()
	def, ok := survey.Builtin().Survey(survey.ID(id))
	if !ok {
		t.Fatalf("no survey %s", id)
	}
	l, err := Current(id)
	if err != nil {
		t.Fatal(err)
	}
	return Form{Layout: l, Survey: def, Invitation: "65f0a1b2c3d4e5f601234567",
		Agency: "UBND phường Đống Đa — Bộ phận Một cửa", Dossier: "000.00.12.H13-261205-0042",
		Printed: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
}

// TestFormPDF prints each survey's form and reads it back as a user's
// tools would: its text (every Vietnamese letter intact), its embedded
// fonts, and its QR from a 150 dpi rendering.
func TestFormPDF(t *testing.T) {
	pdftotext, pdffonts := testenv.Tool(t, "pdftotext"), testenv.Tool(t, "pdffonts")
	pdftoppm, zbarimg := testenv.Tool(t, "pdftoppm"), testenv.Tool(t, "zbarimg")
	dir := t.TempDir()
	for _, id := range Surveys() {
		f := testForm(t, id)
		var b bytes.Buffer
		if err := WritePDF(&b, []Form{f}); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, id+".pdf")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(pdftotext, "-layout", path, "-").Output()
		if err != nil {
			t.Fatal(err)
		}
		txt := strings.Join(strings.Fields(norm.NFC.String(string(out))), " ")
		for _, want := range []string{"PHIẾU KHẢO SÁT MỨC ĐỘ HÀI LÒNG", "Mã hồ sơ: " + f.Dossier, f.Agency, "Rất không", f.Survey.Comment.VI} {
			if !strings.Contains(txt, want) {
				t.Errorf("%s: the form does not read %q:\n%s", id, want, txt)
			}
		}
		for _, q := range f.Survey.Questions {
			if !strings.Contains(txt, q.Text.VI) {
				t.Errorf("%s: question %s is not printed whole: %q", id, q.ID, q.Text.VI)
			}
		}
		fonts, err := exec.Command(pdffonts, path).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(fonts), "\n")[2:] {
			if line != "" && !strings.Contains(line, " yes ") {
				t.Errorf("%s: a font is not embedded: %s", id, line)
			}
		}
		// fpdf embeds only the glyphs used (it does not name the subset):
		// the two fonts' 1.3 MB would otherwise be in every form.
		if b.Len() > 120<<10 {
			t.Errorf("%s: the form is %d KB: are the fonts embedded whole?", id, b.Len()>>10)
		}
		png := filepath.Join(dir, id)
		if out, err := exec.Command(pdftoppm, "-r", "150", "-gray", "-png", "-singlefile", path, png).CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v %s", err, out)
		}
		got, err := exec.Command(zbarimg, "-q", "--raw", png+".png").Output()
		if err != nil {
			t.Fatalf("%s: zbarimg read no code: %v", id, err)
		}
		code, err := qr.ParseFormCode(strings.TrimSpace(string(got)))
		if err != nil || code != f.Code() {
			t.Errorf("%s: the QR reads %q: %+v, %v", id, got, code, err)
		}
	}
}

// TestEveryLetterPrints prints the whole alphabet and reads it back.
func TestEveryLetterPrints(t *testing.T) {
	pdftotext := testenv.Tool(t, "pdftotext")
	pdf := newDoc(time.Unix(0, 0))
	pdf.AddPage()
	runes := vietnamese()
	letters := string(runes)
	for i, style := range []string{"", "B"} {
		pdf.SetFont(fontName, style, 10)
		for j := 0; j < len(runes); j += 40 {
			pdf.Text(10, 20+float64(i*5+j/40)*6, string(runes[j:min(j+40, len(runes))]))
		}
	}
	path := filepath.Join(t.TempDir(), "letters.pdf")
	if err := pdf.OutputFileAndClose(path); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(norm.NFC.String(string(out))), "")
	if want := letters + letters; got != want {
		t.Errorf("printed letters read back as\n%s\nwant\n%s", got, want)
	}
}

// TestPoster prints an office's poster: its words read back and its QR
// opens the feedback page.
func TestPoster(t *testing.T) {
	pdftotext, pdftoppm, zbarimg := testenv.Tool(t, "pdftotext"), testenv.Tool(t, "pdftoppm"), testenv.Tool(t, "zbarimg")
	dir := t.TempDir()
	path := filepath.Join(dir, "poster.pdf")
	var b bytes.Buffer
	url := "https://khaosat.quangnam.gov.vn/g/Xk3_9aQ2bZ7mN1pR"
	if err := WritePoster(&b, Poster{Agency: "UBND phường Đống Đa — Bộ phận Một cửa", URL: url}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	txt := strings.Join(strings.Fields(norm.NFC.String(string(out))), " ")
	for _, want := range []string{"GÓP Ý, PHẢN ÁNH,", "KIẾN NGHỊ", "Quét mã QR", "Bộ phận Một cửa", url} {
		if !strings.Contains(txt, want) {
			t.Errorf("the poster does not read %q:\n%s", want, txt)
		}
	}
	if out, err := exec.Command(pdftoppm, "-r", "100", "-gray", "-png", "-singlefile", path, filepath.Join(dir, "poster")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	got, err := exec.Command(zbarimg, "-q", "--raw", filepath.Join(dir, "poster.png")).Output()
	if err != nil || strings.TrimSpace(string(got)) != url {
		t.Fatalf("the poster's QR reads %q, %v", got, err)
	}
}

// TestSlips prints an office's suggestion-box slips: a page each, their
// QR naming the office's slip id, the kind boxes clear of the rest.
func TestSlips(t *testing.T) {
	pdftoppm, zbarimg, pdftotext := testenv.Tool(t, "pdftoppm"), testenv.Tool(t, "zbarimg"), testenv.Tool(t, "pdftotext")
	id := "0123456789abcdef01234567"
	dir := t.TempDir()
	path := filepath.Join(dir, "slips.pdf")
	var b bytes.Buffer
	if err := WriteSlips(&b, SlipForm{Agency: "Sở Tư pháp tỉnh Quảng Nam", ID: id}, 2); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(pdftotext, path, "-").Output()
	for _, want := range []string{"PHIẾU GÓP Ý, PHẢN ÁNH, KIẾN NGHỊ", "Phản ánh", "Kiến nghị", "Số điện thoại"} {
		if !strings.Contains(norm.NFC.String(string(out)), want) {
			t.Errorf("the slip does not read %q", want)
		}
	}
	if out, err := exec.Command(pdftoppm, "-r", "150", "-gray", "-png", path, filepath.Join(dir, "s")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pages, _ := filepath.Glob(filepath.Join(dir, "s-*.png"))
	if len(pages) != 2 {
		t.Fatalf("%d pages, want 2", len(pages))
	}
	got, err := exec.Command(zbarimg, "-q", "--raw", pages[1]).Output()
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.ParseFormCode(strings.TrimSpace(string(got)))
	if err != nil || code.Survey != Slip || code.Invitation != id {
		t.Fatalf("the slip's QR reads %q: %+v %v", got, code, err)
	}
	l, _ := Current(Slip)
	for _, b := range l.Boxes {
		if overlap(b.Rect, l.Comment) || overlap(b.Rect, l.QR) {
			t.Errorf("kind box %d overlaps the writing or the QR", b.Value)
		}
	}
}
