package scansim

import (
	"fmt"
	"image"
	"math/rand/v2"
	"slices"

	"github.com/sipasvn/gateway/paper"
)

// Kinds are the distortions a corpus is made of, each alone, then all
// together.
var Kinds = []string{"clean", "rotation", "perspective", "lowdpi", "jpeg50", "blur", "light", "shadow", "pencil", "combined"}

// Roles of pages in a corpus.
const (
	Clear      = "clear"       // every mark is clear: must be read, not sent to review
	Ambiguous  = "ambiguous"   // a corrected or double mark: must go to review
	Faint      = "faint"       // a mark too light to tell from a smudge: never stored; review, or read blank
	BlankSheet = "blank-sheet" // no form on it: unreadable, "no form found"
	Unmarked   = "unmarked"    // a form with no box marked: unreadable, "blank form"
	Defaced    = "defaced"     // the QR inked over: unreadable, "the QR cannot be read"
)

// Truth is what a page holds.
type Truth struct {
	Role   string
	Survey string
	// Answers are the questions a reader must store, with their values:
	// every clearly and singly marked question. Blank questions are absent.
	Answers map[string]int
	// Marked are the values each question has a clear mark on (a
	// correction's filled box too); Faint the boxes marked too lightly to
	// tell, which a reader may call faint or marked but must not store.
	Marked map[string][]int
	Faint  map[string]int
	// Why names the trouble of an ambiguous or faint page's question:
	// corrected, multiple or faint.
	Why map[string]string
	// Style names how each question was marked: cross, tick or fill.
	Style      map[string]string
	Pencil     bool
	UpsideDown bool
	Camera     Camera
}

// Page is one image of a corpus with its truth.
type Page struct {
	Kind  string
	Index int
	Image *image.Gray
	JPEG  []byte // the file, when the camera stored JPEG
	Truth Truth
}

// Corpus makes pages from rendered forms.
type Corpus struct {
	Sheets map[string]*Sheet // by survey id
	Seed   uint64
}

// NewCorpus renders every survey's form once.
func NewCorpus(pdftoppm string, seed uint64) (*Corpus, error) {
	c := &Corpus{Sheets: map[string]*Sheet{}, Seed: seed}
	for _, id := range paper.Surveys() {
		s, err := Render(pdftoppm, id)
		if err != nil {
			return nil, err
		}
		c.Sheets[id] = s
	}
	return c, nil
}

// RoleOf is the role of the i-th page of every kind: one in 25 a blank
// sheet, one an unmarked form, one a form whose QR is inked over; one in
// ten ambiguous, one in twenty with a faint mark; the rest clear.
func RoleOf(i int) string {
	switch {
	case i%25 == 0:
		return BlankSheet
	case i%25 == 12:
		return Unmarked
	case i%25 == 19:
		return Defaced
	case i%10 == 3:
		return Ambiguous
	case i%20 == 8:
		return Faint
	}
	return Clear
}

// Page makes the i-th page of kind: the same (seed, kind, i) always gives
// the same page, so pages can be made in any order and in parallel.
func (c *Corpus) Page(kind string, i int) *Page {
	k := slices.Index(Kinds, kind)
	if k < 0 {
		panic(fmt.Sprintf("scansim: no kind %q", kind))
	}
	r := rand.New(rand.NewPCG(c.Seed, uint64(k)<<32|uint64(i)))
	role := RoleOf(i)
	// Most forms are the long SIPAS one; some the short ones.
	id := "sipas"
	switch x := r.Float64(); {
	case x < 0.15:
		id = "sipas-5"
	case x < 0.22:
		id = "overall"
	}
	sheet := c.Sheets[id]
	t := Truth{Role: role, Survey: id, Answers: map[string]int{}, Marked: map[string][]int{},
		Faint: map[string]int{}, Why: map[string]string{}, Style: map[string]string{}}
	cam := CameraOf(kind, r)
	t.Pencil = kind == "pencil" || (kind == "combined" && r.Float64() < 0.3) || r.Float64() < 0.08
	t.UpsideDown = cam.UpsideDown

	var img *image.Gray
	if role == BlankSheet {
		img = image.NewGray(sheet.Image.Rect)
		for i := range img.Pix {
			img.Pix[i] = 255
		}
	} else {
		img = sheet.Blank()
		fill(sheet, img, &t, r)
	}
	out, jpg := cam.Shoot(img, r)
	t.Camera = cam
	return &Page{Kind: kind, Index: i, Image: out, JPEG: jpg, Truth: t}
}

// PenInk is a ballpoint or felt pen as a gray scan shows it (blue ink is
// lighter than black).
func PenInk(r *rand.Rand) Ink {
	return Ink{Width: uniform(r, 0.4, 0.7), Absorb: uniform(r, 0.6, 0.92)}
}

// PencilInk is a graphite pencil: grey, grainy.
func PencilInk(r *rand.Rand) Ink {
	return Ink{Width: uniform(r, 0.35, 0.6), Absorb: uniform(r, 0.3, 0.55), Grain: uniform(r, 0.2, 0.5)}
}

// fill marks a form as its page's role wants.
func fill(s *Sheet, img *image.Gray, t *Truth, r *rand.Rand) {
	l := s.Layout
	ink := PenInk(r)
	if t.Pencil {
		ink = PencilInk(r)
	}
	vary := func() Ink { // a hand presses harder or lighter from mark to mark
		k := ink
		k.Width *= uniform(r, 0.9, 1.1)
		k.Absorb = min(0.95, k.Absorb*uniform(r, 0.9, 1.08))
		return k
	}
	// A person's habit: crosses, ticks or filled boxes, now and then another.
	habit := Mark(r.IntN(3))
	if r.Float64() < 0.3 {
		habit = Cross
	}
	// Comments and stray strokes happen on every kind of form.
	if r.Float64() < 0.35 {
		handwriting(l, img, vary(), r)
	}
	for n := r.IntN(4); n > 0; n-- {
		k := vary()
		if line := strayStroke(l, k, r); line != nil {
			stroke(img, line, k, r)
		}
	}
	if t.Role == Unmarked {
		return
	}
	questions := questionRows(l)
	trouble := -1
	if t.Role == Ambiguous || t.Role == Faint {
		trouble = r.IntN(len(questions))
	}
	answered := 0
	for qi, row := range questions {
		q := row.Question
		mark := habit
		if r.Float64() < 0.15 {
			mark = Mark(r.IntN(3))
		}
		v := pickValue(r)
		if qi == trouble {
			why := []string{"corrected", "multiple"}[r.IntN(2)]
			if t.Role == Faint {
				why = "faint"
			}
			t.Why[q] = why
			switch why {
			case "corrected": // filled the wrong box, crossed the right one
				w := otherValue(r, v)
				drawMark(img, boxOf(l, q, w), Fill, vary(), r)
				drawMark(img, boxOf(l, q, v), Cross, vary(), r)
				t.Marked[q] = []int{w, v}
			case "multiple":
				w := otherValue(r, v)
				m := Mark(r.IntN(2))
				drawMark(img, boxOf(l, q, v), m, vary(), r)
				drawMark(img, boxOf(l, q, w), m, vary(), r)
				t.Marked[q] = []int{v, w}
			case "faint": // a stroke so light it could be a smudge
				drawMark(img, boxOf(l, q, v), Cross, FaintInk(r), r)
				t.Faint[q] = v
			}
			continue
		}
		if r.Float64() < 0.12 && !(answered == 0 && qi == len(questions)-1) {
			continue // left blank
		}
		drawMark(img, boxOf(l, q, v), mark, vary(), r)
		t.Style[q] = mark.String()
		t.Marked[q] = []int{v}
		t.Answers[q] = v
		answered++
	}
	if t.Role == Defaced {
		// The QR scribbled over in heavy ink.
		s.InkOverQR(img, r)
	}
}

// FaintInk is a stroke so light it could be a smudge.
func FaintInk(r *rand.Rand) Ink {
	return Ink{Width: uniform(r, 0.28, 0.32), Absorb: uniform(r, 0.13, 0.16), Grain: 0.3}
}

// Blank is a copy of the sheet's image, to mark.
func (s *Sheet) Blank() *image.Gray {
	img := image.NewGray(s.Image.Rect)
	copy(img.Pix, s.Image.Pix)
	return img
}

// Draw marks the box of question q's value v on img (a copy of the
// sheet's) with m in ink.
func (s *Sheet) Draw(img *image.Gray, q string, v int, m Mark, ink Ink, r *rand.Rand) {
	drawMark(img, boxOf(s.Layout, q, v), m, ink, r)
}

// InkOverQR scribbles over three quarters of the QR in heavy ink.
func (s *Sheet) InkOverQR(img *image.Gray, r *rand.Rand) {
	k := Ink{Width: 0.8, Absorb: 0.92}
	qr := s.Layout.QR
	area := paper.Rect{X: qr.X + qr.W*uniform(r, 0, 0.15), Y: qr.Y + qr.H*uniform(r, 0, 0.15), W: qr.W * 0.75, H: qr.H * 0.75}
	stroke(img, hatch(area, k, r), k, r)
}

// pickValue draws an answer as citizens give them: mostly satisfied.
func pickValue(r *rand.Rand) int {
	x := r.Float64()
	for _, c := range []struct {
		v int
		p float64
	}{{1, 0.06}, {2, 0.1}, {3, 0.2}, {4, 0.35}, {5, 0.22}, {0, 0.07}} {
		if x < c.p {
			return c.v
		}
		x -= c.p
	}
	return 4
}

func otherValue(r *rand.Rand, v int) int {
	for {
		if w := paper.Values[r.IntN(len(paper.Values))]; w != v {
			return w
		}
	}
}

// CameraOf is the scanner or phone of a kind of distortion, its settings
// drawn at random within the kind's range.
func CameraOf(kind string, r *rand.Rand) Camera {
	scanner := Camera{DPI: 300, Rotate: uniform(r, -0.5, 0.5), White: uniform(r, 235, 250), Black: uniform(r, 12, 28),
		Background: 250, Blur: 0.03, Noise: 2, JPEG: 90, UpsideDown: r.Float64() < 0.25}
	phone := scanner
	phone.DPI = uniform(r, 180, 300)
	phone.Rotate = uniform(r, -3, 3)
	phone.Margin = uniform(r, 0.03, 0.08)
	phone.Background = uint8(uniform(r, 40, 140))
	phone.White, phone.Black = uniform(r, 180, 235), uniform(r, 25, 55)
	phone.Blur = uniform(r, 0.04, 0.08)
	phone.Keystone = uniform(r, 0, 0.04)
	phone.Light = uniform(r, 0, 0.15)
	phone.Noise = uniform(r, 2, 4)
	phone.JPEG = int(uniform(r, 80, 92))
	switch kind {
	case "clean":
		scanner.JPEG = 0
		return scanner
	case "rotation":
		scanner.Rotate = uniform(r, -10, 10)
		return scanner
	case "perspective":
		phone.Keystone = uniform(r, 0.05, 0.15)
		phone.Jitter = 0.015
		return phone
	case "lowdpi":
		scanner.DPI = 150
		scanner.Rotate = uniform(r, -2, 2)
		return scanner
	case "jpeg50":
		scanner.DPI = uniform(r, 200, 300)
		scanner.Rotate = uniform(r, -2, 2)
		scanner.JPEG = 50
		return scanner
	case "blur":
		phone.Blur = uniform(r, 0.1, 0.25)
		return phone
	case "light":
		phone.Light = uniform(r, 0.3, 0.55)
		return phone
	case "shadow":
		phone.Shadow = uniform(r, 0.35, 0.6)
		phone.ShadowSoft = uniform(r, 5, 25)
		return phone
	case "pencil":
		scanner.Rotate = uniform(r, -2, 2)
		return scanner
	case "combined":
		phone.DPI = uniform(r, 150, 300)
		phone.Rotate = uniform(r, -10, 10)
		phone.Keystone = uniform(r, 0, 0.15)
		phone.Jitter = 0.01
		phone.Blur = uniform(r, 0.04, 0.2)
		phone.Light = uniform(r, 0, 0.5)
		if r.Float64() < 0.5 {
			phone.Shadow = uniform(r, 0.2, 0.5)
			phone.ShadowSoft = uniform(r, 5, 25)
		}
		phone.Noise = uniform(r, 2, 5)
		phone.JPEG = int(uniform(r, 50, 90))
		return phone
	}
	panic("scansim: no camera for " + kind)
}
