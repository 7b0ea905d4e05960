// Package scansim makes the pages an optical mark reader meets: printed
// forms marked as citizens mark them (pen and pencil crosses, ticks, filled
// boxes, corrections, stray strokes), then scanned or photographed
// (rotation, perspective, resolution, blur, uneven light, shadows, noise,
// JPEG). Each page comes with its truth. It is test code shared by the
// paper package's tests and the omrbench command.
package scansim

import (
	"bufio"
	"bytes"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/survey"
)

// DPI is the resolution forms are rendered at and marked on.
const DPI = 300

// Sheet is one survey's printed form rendered at DPI: what a printer puts
// on paper before anyone writes on it.
type Sheet struct {
	Layout *paper.Layout
	Survey *survey.Survey
	Code   qr.FormCode
	Image  *image.Gray
}

// Render prints surveyID's current form for a test invitation and renders
// it with pdftoppm (poppler-utils) at DPI in gray.
func Render(pdftoppm, surveyID string) (*Sheet, error) {
	def, ok := survey.Builtin().Survey(survey.ID(surveyID))
	if !ok {
		return nil, fmt.Errorf("no survey %s", surveyID)
	}
	l, err := paper.Current(surveyID)
	if err != nil {
		return nil, err
	}
	f := paper.Form{Layout: l, Survey: def, Invitation: "65f0a1b2c3d4e5f601234567",
		Agency: "UBND phường Đống Đa — Bộ phận Một cửa", Dossier: "000.00.12.H13-261205-0042",
		Printed: time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)}
	var b bytes.Buffer
	if err := paper.WritePDF(&b, []paper.Form{f}); err != nil {
		return nil, err
	}
	img, err := renderPDF(pdftoppm, b.Bytes())
	if err != nil {
		return nil, err
	}
	return &Sheet{Layout: l, Survey: def, Code: f.Code(), Image: img}, nil
}

// renderPDF renders a PDF's first page at DPI in gray.
func renderPDF(pdftoppm string, pdf []byte) (*image.Gray, error) {
	dir, err := os.MkdirTemp("", "scansim-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "form.pdf")
	if err := os.WriteFile(path, pdf, 0o644); err != nil {
		return nil, err
	}
	out := filepath.Join(dir, "form")
	if msg, err := exec.Command(pdftoppm, "-r", strconv.Itoa(DPI), "-gray", "-singlefile", "-f", "1", "-l", "1", path, out).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("pdftoppm: %v: %s", err, msg)
	}
	return readPGM(out + ".pgm")
}

// readPGM reads a binary (P5) 8-bit PGM, as pdftoppm -gray writes.
func readPGM(path string) (*image.Gray, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var magic string
	var w, h, maxv int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if magic != "P5" || maxv != 255 || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%s: not an 8-bit binary PGM (%s %d)", path, magic, maxv)
	}
	if _, err := r.ReadByte(); err != nil { // the one whitespace after the header
		return nil, err
	}
	img := image.NewGray(image.Rect(0, 0, w, h))
	if _, err := io.ReadFull(r, img.Pix); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}
