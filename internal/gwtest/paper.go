package gwtest

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/scansim"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
)

// PDFPages renders a PDF's pages as gray PNGs at dpi with Debian's
// pdftoppm, in page order.
func PDFPages(t testing.TB, pdf []byte, dpi int) [][]byte {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "forms.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(testenv.Tool(t, "pdftoppm"), "-r", strconv.Itoa(dpi), "-gray", "-png", path, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "p-*.png")) // numbered with zeros: sorted is in order
	pages := make([][]byte, len(files))
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		pages[i] = b
	}
	return pages
}

// PDFText is a PDF's text as pdftotext -layout reads it (NFC), and the
// lines pdffonts prints of its fonts that are not embedded (none: nil).
func PDFText(t testing.TB, pdf []byte) (text string, notEmbedded []string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(testenv.Tool(t, "pdftotext"), "-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	fonts, err := exec.Command(testenv.Tool(t, "pdffonts"), path).Output()
	if err != nil {
		t.Fatalf("pdffonts: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(fonts)), "\n")
	if len(lines) < 3 {
		t.Fatalf("pdffonts lists no font:\n%s", fonts)
	}
	for _, line := range lines[2:] {
		if f := strings.Fields(line); len(f) < 5 || f[len(f)-5] != "yes" { // the emb column
			notEmbedded = append(notEmbedded, line)
		}
	}
	return norm.NFC.String(string(out)), notEmbedded
}

// PDFCodes reads the form code of each page of a PDF of printed forms,
// rendered at 150 dpi, with zbarimg.
func PDFCodes(t testing.TB, pdf []byte) []qr.FormCode {
	t.Helper()
	var codes []qr.FormCode
	for i, png := range PDFPages(t, pdf, 150) {
		c, err := qr.ParseFormCode(DecodeQR(t, png))
		if err != nil {
			t.Fatalf("page %d: %v", i+1, err)
		}
		codes = append(codes, c)
	}
	return codes
}

// PaperPage is the page the mark reader would make of a dossier's form on
// surveyID's layout ("" for the invitation's own), with marks (question →
// values crossed by hand) and, when scribble, handwriting in the comment
// area: the form printed, rendered at 100 dpi (the straightened scan's
// resolution), marked and kept as JPEG. Answers, Unsure, Review and
// Comment are the caller's to set: what the reader is meant to have made
// of it. File it with g.Core.FilePaper.
func (g *Gateway) PaperPage(t testing.TB, dossier, surveyID string, marks map[string][]int, scribble bool) core.PaperPage {
	t.Helper()
	admin := &core.Principal{Role: core.RoleAdmin}
	f, err := g.Core.PaperForm(context.Background(), admin, g.MustInvitation(dossier), surveyID, "")
	if err != nil {
		t.Fatal(err)
	}
	var pdf bytes.Buffer
	if err := paper.WritePDF(&pdf, []paper.Form{f}); err != nil {
		t.Fatal(err)
	}
	src, err := png.Decode(bytes.NewReader(PDFPages(t, pdf.Bytes(), 100)[0]))
	if err != nil {
		t.Fatal(err)
	}
	page := image.NewGray(src.Bounds())
	draw.Draw(page, page.Bounds(), src, image.Point{}, draw.Src)
	px := func(mm float64) int { return int(mm * 100 / 25.4) }
	ink := color.Gray{Y: 30}
	for _, b := range f.Layout.Boxes {
		if !slices.Contains(marks[b.Question], b.Value) {
			continue
		}
		x0, y0, w := px(b.X), px(b.Y), px(b.W)
		for i := 2; i < w-2; i++ { // a cross, two pixels thick
			for d := 0; d < 2; d++ {
				page.SetGray(x0+i+d, y0+i, ink)
				page.SetGray(x0+w-i-d, y0+i, ink)
			}
		}
	}
	c := f.Layout.Comment
	area := image.Rect(px(c.X), px(c.Y), px(c.X+c.W), px(c.Y+c.H))
	if scribble {
		for x := area.Min.X + 20; x < area.Min.X+area.Dx()*2/3; x++ {
			for line := 0; line < 3; line++ {
				y := area.Min.Y + 25 + line*22 + int(5*math.Sin(float64(x)/4))
				page.SetGray(x, y, ink)
				page.SetGray(x, y+1, ink)
			}
		}
	}
	pg := core.PaperPage{File: "phieu-quet.pdf", Page: 1, Straight: true, Image: jpegOf(t, page),
		Code: &qr.FormCode{Survey: f.Layout.Survey, Version: f.Layout.Version, Invitation: f.Invitation}}
	if scribble {
		pg.CommentImage = jpegOf(t, page.SubImage(area))
	}
	return pg
}

func jpegOf(t testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 70}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Photo prints a dossier's form on surveyID's layout through the API,
// marks it by hand (question → values; two values: a double mark) and
// photographs it with a phone: turned, in perspective, uneven light,
// JPEG.
func (g *Gateway) Photo(t testing.TB, dossier, surveyID string, marks map[string][]int, seed uint64) []byte {
	t.Helper()
	id := g.MustInvitation(dossier).ID
	res, pdf := g.Raw(AdminKey, "GET", "/api/v1/invitations/"+id+"/form.pdf?survey="+surveyID, nil)
	if res.StatusCode != 200 {
		t.Fatalf("form.pdf: %d", res.StatusCode)
	}
	img, err := scansim.RenderPDF(testenv.Tool(t, "pdftoppm"), pdf)
	if err != nil {
		t.Fatal(err)
	}
	l, err := paper.Current(surveyID)
	if err != nil {
		t.Fatal(err)
	}
	i := 0
	for q, vs := range marks {
		for _, v := range vs {
			scansim.MarkBox(img, l, q, v, scansim.Mark(i%3), seed+uint64(i))
			i++
		}
	}
	r := rand.New(rand.NewPCG(seed, 1))
	cam := scansim.Camera{DPI: 200, Rotate: 4, Keystone: 0.05, Margin: 0.05, Background: 90, White: 215, Black: 40,
		Blur: 0.06, Light: 0.25, Noise: 3, JPEG: 80}
	_, jpg := cam.Shoot(img, r)
	return jpg
}

// FileForReview files a page of dossier's form (on its own survey) as
// the reader would when it could not decide one question: answers read,
// unsure's question left out of them, its marks crossed on the page, and
// a handwritten comment. It returns the page's id, in the review queue.
func (g *Gateway) FileForReview(t testing.TB, dossier string, answers map[string]int, unsure store.ScanQuestion) string {
	t.Helper()
	marks := map[string][]int{unsure.Question: unsure.Marked}
	for q, v := range answers {
		marks[q] = []int{v}
	}
	pg := g.PaperPage(t, dossier, "", marks, true)
	pg.Answers, pg.Comment, pg.Review = answers, true, "question "+unsure.Question+" is unsure"
	pg.Unsure = []store.ScanQuestion{unsure}
	sc, err := g.Core.FilePaper(context.Background(), &core.Principal{Role: core.RoleAdmin}, pg)
	if err != nil || sc.Status != store.ScanReview {
		t.Fatalf("file %s: %+v %v", dossier, sc, err)
	}
	return sc.ID
}
