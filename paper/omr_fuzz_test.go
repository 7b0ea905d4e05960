package paper_test

import (
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sipasvn/gateway/internal/scansim"
	"github.com/sipasvn/gateway/paper"
)

// FuzzRead paints up to eight rectangles of any grey anywhere on a marked
// form, photographs it and reads it. Whatever the paint covers (a corner
// mark, the QR, a box), the reader must not panic, and an answer it
// stores for a question the paint left alone must be the one marked:
// a smudge elsewhere never moves an answer, it only sends the page to
// review or makes it unreadable.
func FuzzRead(f *testing.F) {
	sh := sheet(f, "sipas-5")
	truth := map[string]int{"A": 5, "B": 4, "C": 1, "D": 0} // E blank
	marked := image.NewGray(sh.Image.Rect)
	copy(marked.Pix, sh.Image.Pix)
	for q, v := range truth {
		scansim.MarkBox(marked, sh.Layout, q, v, scansim.Cross, 1)
	}
	l := sh.Layout
	f.Add([]byte{})
	f.Add([]byte{0, 0, 40, 40, 0})                       // the top left corner mark inked
	f.Add([]byte{200, 10, 200, 200, 255})                // the QR whited out
	f.Add([]byte{120, 90, 10, 3, 0, 130, 120, 6, 6, 90}) // smudges among the boxes
	// Photographed once, a little turned; the paint goes on the photo,
	// placed by the page's transform as first read.
	cam := scansim.Camera{DPI: 100, Rotate: 1.5, White: 240, Black: 25, Background: 250}
	photo, _ := cam.Shoot(marked, rand.New(rand.NewPCG(1, 2)))
	first, err := paper.Read(photo)
	if err != nil || first.Status != paper.StatusRead || first.Transform == nil {
		f.Fatalf("the unpainted photo reads %v, %v", first, err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		img := image.NewGray(photo.Rect)
		copy(img.Pix, photo.Pix)
		var paint []paper.Rect
		for i := 0; i+5 <= len(data) && len(paint) < 8; i += 5 {
			r := paper.Rect{X: float64(data[i]) * l.Page.W / 255, Y: float64(data[i+1]) * l.Page.H / 255,
				W: float64(data[i+2]) / 4, H: float64(data[i+3]) / 4}
			paint = append(paint, r)
			x0, y0 := first.Transform.Point(r.X, r.Y)
			x1, y1 := first.Transform.Point(r.X+r.W, r.Y+r.H)
			box := image.Rect(int(x0), int(y0), int(x1)+1, int(y1)+1) // turned 1.5°: near enough
			draw.Draw(img, box, &image.Uniform{color.Gray{Y: data[i+4]}}, image.Point{}, draw.Src)
		}
		rd, err := paper.Read(img)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains([]string{paper.StatusRead, paper.StatusReview, paper.StatusUnreadable}, rd.Status) {
			t.Fatalf("status %q", rd.Status)
		}
		if rd.Status == paper.StatusUnreadable {
			return
		}
		if rd.Code != sh.Code || rd.Layout != l {
			t.Fatalf("read code %v layout %v, printed %v", rd.Code, rd.Layout, sh.Code)
		}
		for q, v := range rd.Answers {
			if touched(l, q, paint) {
				if v < 0 || v > 5 {
					t.Fatalf("question %s: %d", q, v)
				}
				continue
			}
			if want, ok := truth[q]; !ok || v != want {
				t.Fatalf("%s: question %s read %d, marked %d (%v), paint %v", rd.Status, q, v, want, ok, paint)
			}
		}
	})
}

// touched tells whether any painted rectangle comes within 2 mm of one
// of question's boxes.
func touched(l *paper.Layout, question string, paint []paper.Rect) bool {
	for _, b := range l.Boxes {
		if b.Question != question {
			continue
		}
		for _, p := range paint {
			if p.X < b.X+b.W+2 && b.X-2 < p.X+p.W && p.Y < b.Y+b.H+2 && b.Y-2 < p.Y+p.H {
				return true
			}
		}
	}
	return false
}
