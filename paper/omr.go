package paper

import (
	"errors"
	"fmt"
	"image"
	"math"
	"slices"
	"strings"

	"github.com/sipasvn/gateway/qr"
)

// Statuses of a Reading.
const (
	// StatusRead: every question was decided with confidence and at least
	// one box is marked; the answers can be stored as they are.
	StatusRead = "read"
	// StatusReview: the form was found and its code read, but a person
	// must look at some question (see Reason and each question's Status).
	StatusReview = "review"
	// StatusUnreadable: no form, no code, or no box marked.
	StatusUnreadable = "unreadable"
)

// Statuses of a QuestionReading.
const (
	QuestionOK        = "ok"        // one box clearly marked: Value
	QuestionBlank     = "blank"     // no box marked: left unanswered
	QuestionMultiple  = "multiple"  // two or more boxes marked
	QuestionCorrected = "corrected" // a box filled in and another marked: a correction, for a person to confirm
	QuestionFaint     = "faint"     // the only mark too light to tell from a smudge
	QuestionUncertain = "uncertain" // a clear mark and a faint one elsewhere
)

// Reading is what Read saw on one page.
type Reading struct {
	Status string
	// Reason says in plain words why a page is not StatusRead, for the
	// operator who looks at it; empty when it is.
	Reason string
	// Code is the form's QR, when read; Layout the layout it names.
	Code   qr.FormCode
	Layout *Layout
	// Answers holds the decided questions: question id → 1..5, or 0 for
	// "no opinion". A question left blank, or one for review, is absent.
	Answers map[string]int
	// Questions has every question of the layout, in its order.
	Questions []QuestionReading
	// Transform maps layout millimetres to the page image's pixels; nil
	// when the corner marks were not found.
	Transform *Homography
	// Registered is the share of boxes whose printed square was found
	// where the transform puts it: under 0.9 the page goes to review.
	Registered float64
	// DPI is the page's resolution on the image (pixels per inch of
	// paper), from the transform; 0 without it.
	DPI float64

	page *image.Gray
}

// QuestionReading is one question's boxes as read.
type QuestionReading struct {
	Question string
	// Value is the answer (1..5, 0 for no opinion) when Status is
	// QuestionOK, else -1.
	Value int
	// Marked lists the values whose boxes look marked.
	Marked []int
	// Fill is each box's ink, by value: the share of the box's inside
	// covered in black, after the page's blank level is taken off (about
	// 0 for a blank box, 0.2–0.4 for a pen's cross, near 1 filled solid).
	Fill map[int]float64
	// Confidence is how far the boxes' fills are from the thresholds
	// between blank, faint and marked: 1 certain, below 0.5 undecided.
	Confidence float64
	Status     string
}

// Thresholds on a box's measures, each less what the blank paper around
// it reads. stroke is the share of the box's inside (3.8 mm square in a
// 5.5 mm box) covered in black strokes; peak the darkness of its darkest
// cells (0.25 mm), a line's; solid the inside's darkness against the
// paper beside the box. On the corpus omrbench makes, a blank box reads a
// stroke under 0.015 (a steep shadow's edge to 0.022) and a peak under
// 0.085; a pencil's lightest tick 0.02 and 0.18, a pen's cross 0.1–0.4;
// a box filled in 0.2 (pencil) to 0.9 solid. A stroke too light to tell
// from a smudge (0.13 of black, 0.3 mm) reads 0.01–0.025 and peaks
// under 0.12: faint, or blank, never marked.
const (
	markFill    = 0.032 // stroke at or above: marked
	lineFill    = 0.014 // a lighter stroke is marked when it peaks at linePeak
	linePeak    = 0.15
	faintFill   = 0.018 // stroke at or above (more where light varies): faint
	faintSpread = 0.02
	faintPeak   = 0.1 // peak at or above: faint
	// A box is filled in when it reads solidFill darker than the paper
	// beside it, more where that paper's light varies (spread, 0..1: a
	// shadow's edge); from solidFaint less it is faint.
	solidFill   = 0.12
	solidSpread = 0.9
	solidFaint  = 0.06
)

// Read reads one page image: an 8-bit gray scan or photograph, upright
// as its EXIF says (the form on it may still be turned by any angle up to
// 15°, upside down or sideways, and in perspective), the form filling at
// least 40% of its short side, at 150–300 dpi. The error is only for a
// missing image; a page that cannot be read is a Reading with
// StatusUnreadable and a Reason. Read keeps page for Rectified and Crop;
// it may be called from several goroutines at once.
func Read(page *image.Gray) (*Reading, error) {
	if page == nil || page.Bounds().Dx() < 64 || page.Bounds().Dy() < 64 {
		return nil, errors.New("paper: Read needs a page image of 64×64 pixels at least")
	}
	r := &Reading{Status: StatusUnreadable, Answers: map[string]int{}, page: page}
	s := reduce(page)
	geom := geometryOf(anyLayout())
	geom.minShare, geom.imageShort = 0.4, min(s.w, s.h)
	quads := findQuads(s.markCandidates(), geom)
	if len(quads) == 0 {
		if s.blank() {
			r.Reason = "no form found: the page is blank"
			return r, nil
		}
		r.Reason = "no form found: the four black corner squares are not all on the page"
		if code, _, ok := decodeQRPage(page); ok {
			r.Code = code
			r.Reason = "the form's four black corner squares are not all on the page (its QR reads " + code.Invitation + "): photograph the whole page"
		}
		return r, nil
	}
	// Each quadrilateral of marks, the largest first, until the QR reads
	// where one puts it.
	var first []orientation // the first whose four marks were all found
	var ink float64
	var code qr.FormCode
	found := false
	for qi, q := range quads {
		if qi == maxQuads {
			break
		}
		os, inkRatio, ok := orientations(page, s, q, geom)
		if !ok {
			continue
		}
		if first == nil {
			first, ink = os, inkRatio
		}
		for i := range os {
			if c, ok := decodeQRArea(page, &os[i].h, geom.qr); ok {
				code, found = c, true
				h := os[i].h
				r.Transform, ink = &h, inkRatio
				break
			}
		}
		if found {
			break
		}
	}
	if first == nil {
		r.Reason = "no form found: the four black corner squares are not all clear on the page"
		return r, nil
	}
	if !found {
		// The code is not where the marks put it: read it from the whole
		// page, and let its finder patterns tell the orientation.
		h := first[0].h
		r.Transform = &h
		if c, finders, ok := decodeQRPage(page); ok && len(finders) == 3 {
			var hs []Homography
			for _, o := range first {
				hs = append(hs, o.h)
			}
			if mods, err := qr.Modules(c.String()); err == nil {
				h := hs[closestOrientation(hs, finderCentres(geom.qr, len(mods)), finders)]
				code, found, r.Transform = c, true, &h
			}
		}
	}
	if !found {
		r.Reason = "the QR cannot be read"
		r.setDPI()
		return r, nil
	}
	r.Code = code
	l, err := Get(code.Survey, code.Version)
	if err != nil {
		r.Reason = fmt.Sprintf("the QR names a form this reader has no layout for (%s version %d)", code.Survey, code.Version)
		return r, nil
	}
	r.Layout = l
	if g := geometryOf(l); g.centres != geom.centres {
		var to [][2]float64
		for i := 0; i < 4; i++ {
			x, y := r.Transform.Point(geom.centres[i][0], geom.centres[i][1])
			to = append(to, [2]float64{x, y})
		}
		if h, ok := fitHomography(g.centres[:], to); ok {
			r.Transform = &h
		}
	}
	r.setDPI()
	fills := measureBoxes(page, r.Transform, l, ink)
	r.decide(l, fills)
	// The boxes must be where the marks put them: a page folded or
	// curled, or a mark misplaced, shifts them.
	registered := 0
	for _, f := range fills {
		if f.sides >= 3 {
			registered++
		}
	}
	r.Registered = float64(registered) / float64(len(fills))
	if r.Registered < 0.9 && r.Status != StatusUnreadable {
		r.Status = StatusReview
		r.Reason = fmt.Sprintf("only %d of %d boxes are where the corner squares put them (is the page folded or curled?)", registered, len(fills))
		clear(r.Answers)
		for i := range r.Questions {
			if q := &r.Questions[i]; q.Status == QuestionOK {
				q.Status, q.Value = QuestionUncertain, -1
			}
		}
	}
	return r, nil
}

func (r *Reading) setDPI() {
	if r.Transform != nil {
		r.DPI = r.Transform.Scale(105, 148) * 25.4
	}
}

// maxQuads is how many quadrilaterals of marks Read tries.
const maxQuads = 4

// orientation is one way four marks can be the page's corners.
type orientation struct {
	h     Homography
	score float64
}

// orientations locates the quad's four marks at full resolution and
// lists the four ways they can be the page's corners, the likelier
// first: the page's long side between the right marks, the QR's area
// dark. It also gives the marks' black over their paper (the median
// mark's). It is false when a mark is not a clear dark square.
func orientations(page *image.Gray, s *small, q quad, geom markGeometry) ([]orientation, float64, bool) {
	var pts [4][2]float64
	var inkRatio []float64
	for i, b := range q {
		m, ok := refine(page, s, b)
		if !ok {
			return nil, 0, false
		}
		pts[i] = [2]float64{m.x, m.y}
		inkRatio = append(inkRatio, m.ink/m.paper)
	}
	slices.Sort(inkRatio)
	var os []orientation
	for k := 0; k < 4; k++ {
		var to [][2]float64
		for i := 0; i < 4; i++ {
			to = append(to, pts[(i+k)%4])
		}
		h, ok := fitHomography(geom.centres[:], to)
		if !ok {
			continue
		}
		score := s.darkShare(&h, geom.qr)
		// The short side is between TL and TR.
		a := math.Hypot(to[1][0]-to[0][0], to[1][1]-to[0][1]) + math.Hypot(to[3][0]-to[2][0], to[3][1]-to[2][1])
		b := math.Hypot(to[2][0]-to[1][0], to[2][1]-to[1][1]) + math.Hypot(to[0][0]-to[3][0], to[0][1]-to[3][1])
		if a > b {
			score -= 1
		}
		os = append(os, orientation{h, score})
	}
	slices.SortStableFunc(os, func(a, b orientation) int { return -cmpFloat(a.score, b.score) })
	return os, (inkRatio[1] + inkRatio[2]) / 2, len(os) > 0
}

// anyLayout is a layout to find a page's marks and QR by before its code
// says which layout it is: every layout so far puts them in the same
// places.
func anyLayout() *Layout {
	for _, id := range Surveys() {
		return layouts[id][0]
	}
	panic("paper: no layouts")
}

// blank tells a page with nothing on it: no dark blob away from the
// image's edges (where a table around a photographed page may be).
func (s *small) blank() bool {
	ink := 0
	for _, b := range s.blobs() {
		if b.x0 > 0 && b.y0 > 0 && b.x1 < s.w-1 && b.y1 < s.h-1 {
			ink += b.area
		}
	}
	return ink*2000 < s.w*s.h
}

// darkShare is the share of dark pixels in a layout area through h.
func (s *small) darkShare(h *Homography, a Rect) float64 {
	const n = 12
	dark, all := 0, 0
	for j := 0; j < n; j++ {
		for i := 0; i < n; i++ {
			x, y := h.Point(a.X+a.W*(float64(i)+0.5)/n, a.Y+a.H*(float64(j)+0.5)/n)
			sx, sy := int((x-s.off)/float64(s.f)+0.5), int((y-s.off)/float64(s.f)+0.5)
			if sx < 0 || sy < 0 || sx >= s.w || sy >= s.h {
				continue
			}
			all++
			if s.dark[sy*s.w+sx] {
				dark++
			}
		}
	}
	if all == 0 {
		return 0
	}
	return float64(dark) / float64(all)
}

// Rectified renders the page in the layout's frame (rotation and
// perspective undone) at dpi: to keep as a small image of the form, and to
// show an operator with the layout's boxes drawn over it. Without a
// transform (the form was not found) it is the page image scaled to an
// A4 page at dpi.
func (r *Reading) Rectified(dpi float64) *image.Gray {
	if r.Transform == nil {
		b := r.page.Bounds()
		w, h := float64(b.Dx()), float64(b.Dy())
		k := math.Min(210/w, 297/h) // mm per pixel, fitting A4
		scale := Homography{1 / k, 0, 0, 0, 1 / k, 0, 0, 0, 1}
		return render(r.page, &scale, Rect{0, 0, w * k, h * k}, dpi)
	}
	page := Size{210, 297}
	if r.Layout != nil {
		page = r.Layout.Page
	}
	return render(r.page, r.Transform, Rect{0, 0, page.W, page.H}, dpi)
}

// Crop renders one area of the layout (the comment's, say) rectified at
// dpi; nil when the form was not found.
func (r *Reading) Crop(area Rect, dpi float64) *image.Gray {
	if r.Transform == nil {
		return nil
	}
	return render(r.page, r.Transform, area, dpi)
}

// boxFill is a box's ink two ways (see measureBoxes).
type boxFill struct {
	stroke float64 // against the paper under the strokes
	solid  float64 // against the paper beside the box
	spread float64 // how much the light varies beside the box, 0..1
	sides  int     // sides of the printed square found where expected
	peak   float64 // the darkest strokes inside: the 95th percentile of cells' stroke ink
}

// Geometry of the measure, in millimetres from the box's printed square:
// the inside read starts boxInset in from it (the square's 0.3 mm outline,
// blur and a little misregistration do not count); a ring from ringIn to
// ringOut around it is blank paper but for the overshoot of marks; beside
// it, from ringOut to farOut left and right, is blank paper that no mark's
// overshoot reaches (columns of boxes are 5 mm apart at least).
const (
	boxInset = 0.85
	ringIn   = 0.55
	ringOut  = 1.25
	farOut   = 3.0
	cellMM   = 0.25 // the side of the cells the area is read in
	closeMM  = 1.0  // strokes up to twice as wide are ink to the closing
)

// measureBoxes reads each box's ink, not yet less the page's blank
// level. A box and the paper around it are read in cells of cellMM (each
// the mean of its pixels, so a cell's darkness adds up as ink does). A
// cell's ink is how much darker it is than the paper there, against how
// much darker black print is than its paper (ink: the corner marks'
// ratio). Two levels of paper are used:
//
//   - stroke: a closing of the cells (the brightest within closeMM, then
//     the darkest within that), which removes dark strokes up to about
//     2 mm wide and follows light that changes smoothly, a shadow's edge
//     included. A cross, a tick, a pencil's line count whole; a shadow, a
//     gradient, a box filled in count nothing.
//   - solid: the paper beside the box, left and right (three readings a
//     side, each the brightest tenth of its cells), interpolated across.
//     A box filled in counts whole, even between filled boxes above and
//     below it; a shadow's edge across the box counts too, which spread
//     (how much those readings differ) tells.
//
// Each measure is less what it reads on the blank paper around the box
// (noise lifts a closing's level, the more where the page is dark).
func measureBoxes(page *image.Gray, h *Homography, l *Layout, ink float64) []boxFill {
	s := newSampler(page)
	out := make([]boxFill, len(l.Boxes))
	black := 1 - math.Min(ink, 0.6)
	var cells, coarse, tmp, closedC, closed, buf, ringS, farF, inS []float64
	for i, b := range l.Boxes {
		ppm := h.Scale(b.X+b.W/2, b.Y+b.H/2)
		nx := int(math.Ceil((b.W + 2*farOut) / cellMM))
		ny := int(math.Ceil((b.H + 2*ringOut) / cellMM))
		cw, ch := (b.W+2*farOut)/float64(nx), (b.H+2*ringOut)/float64(ny)
		k := max(1, min(3, int(math.Round(cellMM*ppm)))) // k×k pixels a cell
		cells = grow(cells, nx*ny)
		if !readCells(s, h, cells, b.X-farOut, b.Y-ringOut, cw, ch, nx, ny, k) {
			continue // off the image: reads blank, and the page has other troubles
		}
		// A cell's centre relative to the box's top left, mm.
		xOf := func(cx int) float64 { return (float64(cx)+0.5)*cw - farOut }
		yOf := func(cy int) float64 { return (float64(cy)+0.5)*ch - ringOut }

		// The closing runs on cells of twice the side (a quarter of the
		// work); each cell takes its coarse cell's value.
		cnx, cny := (nx+1)/2, (ny+1)/2
		coarse = grow(coarse, cnx*cny)
		for cy := 0; cy < cny; cy++ {
			for cx := 0; cx < cnx; cx++ {
				sum, m := 0.0, 0
				for y := 2 * cy; y < min(ny, 2*cy+2); y++ {
					for x := 2 * cx; x < min(nx, 2*cx+2); x++ {
						sum += cells[y*nx+x]
						m++
					}
				}
				coarse[cy*cnx+cx] = sum / float64(m)
			}
		}
		tmp, closedC = grow(tmp, cnx*cny), grow(closedC, cnx*cny)
		closing(coarse, tmp, closedC, cnx, cny, max(1, int(math.Round(closeMM/(2*cellMM)))))
		closed = grow(closed, nx*ny)
		for cy := 0; cy < ny; cy++ {
			for cx := 0; cx < nx; cx++ {
				closed[cy*nx+cx] = closedC[(cy/2)*cnx+cx/2]
			}
		}

		// Beside the box: the brightest tenth of each third of each side.
		var side [2][3]float64
		for j := 0; j < 3; j++ {
			y0, y1 := b.H*float64(j)/3, b.H*float64(j+1)/3
			for lr := 0; lr < 2; lr++ {
				buf = buf[:0]
				for cy := 0; cy < ny; cy++ {
					if y := yOf(cy); y < y0 || y >= y1 {
						continue
					}
					for cx := 0; cx < nx; cx++ {
						x := xOf(cx)
						if (lr == 0 && x < -ringOut) || (lr == 1 && x > b.W+ringOut) {
							buf = append(buf, cells[cy*nx+cx])
						}
					}
				}
				side[lr][j] = 255
				if len(buf) > 0 {
					slices.Sort(buf)
					side[lr][j] = buf[len(buf)*9/10]
				}
			}
		}
		lo, hi := 255.0, 0.0
		for _, sd := range side {
			for _, v := range sd {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		thirds := []float64{b.H / 6, b.H / 2, b.H * 5 / 6}
		ink := func(cx, cy int) (stroke, solid float64) {
			c := cells[cy*nx+cx]
			bgS := math.Max(8, math.Min(closed[cy*nx+cx], hi))
			u := math.Max(0, math.Min(1, xOf(cx)/b.W))
			y := yOf(cy)
			bgF := math.Max(8, (1-u)*lerp(side[0][:], thirds, y)+u*lerp(side[1][:], thirds, y))
			return math.Max(-0.5, math.Min(1.2, (bgS-c)/(bgS*black))), math.Max(-0.5, math.Min(1.2, (bgF-c)/(bgF*black)))
		}
		var sumS, sumF float64
		n := 0
		ringS, farF, inS = ringS[:0], farF[:0], inS[:0]
		for cy := 0; cy < ny; cy++ {
			y := yOf(cy)
			for cx := 0; cx < nx; cx++ {
				x := xOf(cx)
				out := math.Max(math.Max(-x, x-b.W), math.Max(-y, y-b.H)) // mm outside the box
				switch {
				case x >= boxInset && x <= b.W-boxInset && y >= boxInset && y <= b.H-boxInset:
					dS, dF := ink(cx, cy)
					sumS += dS
					sumF += dF
					inS = append(inS, dS)
					n++
				case out >= ringIn && out <= ringOut:
					dS, _ := ink(cx, cy)
					ringS = append(ringS, dS)
				case out > ringOut && y >= 0 && y <= b.H:
					_, dF := ink(cx, cy)
					farF = append(farF, dF)
				}
			}
		}
		if n == 0 || len(ringS) == 0 || len(farF) == 0 {
			continue
		}
		// The printed square's sides: a line of dark cells where each
		// should be, give or take a cell. Misregistration by half a
		// millimetre or more loses them.
		sides := 0
		for side := 0; side < 4; side++ {
			best := 0.0
			for off := -1; off <= 1; off++ {
				sum, m := 0.0, 0
				for t := 0.2; t <= 0.8; t += 0.05 {
					var cx, cy int
					switch side {
					case 0, 1: // top, bottom
						cx = int((b.W*t + farOut) / cw)
						cy = int((b.H*float64(side) + ringOut) / ch)
						cy += off
					default: // left, right
						cx = int((b.W*float64(side-2) + farOut) / cw)
						cy = int((b.H*t + ringOut) / ch)
						cx += off
					}
					if cx < 0 || cy < 0 || cx >= nx || cy >= ny {
						continue
					}
					dS, dF := ink(cx, cy)
					sum += math.Max(dS, dF)
					m++
				}
				if m > 0 {
					best = math.Max(best, sum/float64(m))
				}
			}
			if best >= 0.25 {
				sides++
			}
		}

		out[i] = boxFill{
			stroke: sumS/float64(n) - median(ringS),
			solid:  sumF/float64(n) - median(farF),
			spread: (hi - lo) / math.Max(hi, 8),
			sides:  sides,
			peak:   percentileOf(inS, 0.95) - median(ringS),
		}
	}
	return out
}

// readCells fills cells (nx × ny, each cw × ch mm, the first centred half
// a cell from (x0, y0) mm) with the mean of k×k pixels around each
// centre's place on the page. It is false when a cell is off the page.
func readCells(s sampler, h *Homography, cells []float64, x0, y0, cw, ch float64, nx, ny, k int) bool {
	inv := 1 / float64(k*k)
	for cy := 0; cy < ny; cy++ {
		my := y0 + (float64(cy)+0.5)*ch
		for cx := 0; cx < nx; cx++ {
			px, py := h.Point(x0+(float64(cx)+0.5)*cw, my)
			ix, iy := int(px)-k/2, int(py)-k/2
			if ix < 0 || iy < 0 || ix+k > s.w || iy+k > s.h {
				return false
			}
			sum := 0
			for yy := 0; yy < k; yy++ {
				row := s.pix[(iy+yy)*s.stride+ix:]
				for xx := 0; xx < k; xx++ {
					sum += int(row[xx])
				}
			}
			cells[cy*nx+cx] = float64(sum) * inv
		}
	}
	return true
}

func grow(s []float64, n int) []float64 {
	if cap(s) < n {
		return make([]float64, n)
	}
	return s[:n]
}

// closing sets dst to the closing of src over a (2r+1)² square window
// (clipped at the grid's edges): the largest within the window, then the
// smallest of those within the window. tmp is scratch.
func closing(src, tmp, dst []float64, nx, ny, r int) {
	pass(src, tmp, nx, ny, 1, nx, r, true)
	pass(tmp, dst, nx, ny, nx, 1, r, true)
	pass(dst, tmp, nx, ny, 1, nx, r, false)
	pass(tmp, dst, nx, ny, nx, 1, r, false)
}

// pass takes the largest (or smallest) over 2r+1 values along one axis:
// step between neighbours, stride between lines; the first axis has nx
// values a line when step is 1, ny when it is nx.
func pass(src, dst []float64, nx, ny, step, stride, r int, largest bool) {
	n, lines := nx, ny
	if step != 1 {
		n, lines = ny, nx
	}
	for l := 0; l < lines; l++ {
		base := l * stride
		for i := 0; i < n; i++ {
			lo, hi := max(0, i-r), min(n-1, i+r)
			v := src[base+lo*step]
			for k := lo + 1; k <= hi; k++ {
				w := src[base+k*step]
				if largest == (w > v) {
					v = w
				}
			}
			dst[base+i*step] = v
		}
	}
}

// percentileOf is the value below which share of v lies; it reorders v.
func percentileOf(v []float64, share float64) float64 {
	slices.Sort(v)
	return v[min(len(v)-1, int(share*float64(len(v))))]
}

// median is the middle value of v (the upper of two), which it reorders.
func median(v []float64) float64 {
	k := len(v) / 2
	lo, hi := 0, len(v)-1
	for lo < hi {
		// Hoare's selection with the middle element as pivot.
		p := v[(lo+hi)/2]
		i, j := lo, hi
		for i <= j {
			for v[i] < p {
				i++
			}
			for v[j] > p {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return v[k]
		}
	}
	return v[k]
}

// lerp interpolates ys, given at increasing xs, at x (clamped).
func lerp(ys, xs []float64, x float64) float64 {
	if x <= xs[0] {
		return ys[0]
	}
	for i := 1; i < len(xs); i++ {
		if x <= xs[i] {
			a := (x - xs[i-1]) / (xs[i] - xs[i-1])
			return ys[i-1]*(1-a) + ys[i]*a
		}
	}
	return ys[len(ys)-1]
}

// A box reads as one of these.
type boxClass int

const (
	boxBlank boxClass = iota
	boxFaint
	boxMarked
	boxSolid // filled in
)

// classify tells what a box holds from its measures (less the page's
// blank levels), and how sure that is (0.5 at a threshold, 1 far from
// any). Its fill is the stroke ink, or the solid ink when filled in.
func classify(stroke, peak, solid, spread float64) (c boxClass, fill, conf float64) {
	sure := func(x float64) float64 { return 0.5 + 0.5*math.Max(0, math.Min(1, x)) }
	// A box filled in reads dark against the paper beside it, and not as
	// strokes. A shadow's edge can darken a box against the paper beside
	// it too: the more that paper's light varies, the more it takes to
	// call the box filled; a little less is at least faint.
	thr := solidFill + solidSpread*spread
	faintAt := faintFill + faintSpread*spread
	switch {
	case solid >= thr && stroke < 0.6*solid:
		return boxSolid, solid, sure((solid - thr) / thr)
	case stroke >= markFill || stroke >= lineFill && peak >= linePeak:
		return boxMarked, stroke, sure(math.Max((stroke-markFill)/markFill, math.Min((peak-linePeak)/linePeak, (stroke-lineFill)/lineFill)))
	case stroke >= faintAt || peak >= faintPeak || solid >= thr-solidFaint:
		return boxFaint, stroke, 0.3
	}
	return boxBlank, stroke, sure(1 - math.Max(math.Max(stroke/faintAt, peak/faintPeak), solid/(thr-solidFaint)))
}

// decide turns the boxes' measures into each question's reading and the
// page's status.
func (r *Reading) decide(l *Layout, raw []boxFill) {
	// The page's blank levels: most boxes are blank, so the median box is.
	base := func(f func(boxFill) float64) float64 {
		v := make([]float64, len(raw))
		for i := range raw {
			v[i] = f(raw[i])
		}
		return math.Max(-0.05, math.Min(0.06, median(v)))
	}
	baseS := base(func(b boxFill) float64 { return b.stroke })
	baseF := base(func(b boxFill) float64 { return b.solid })
	type boxRead struct {
		value int
		class boxClass
		conf  float64
	}
	idx := map[string]int{}
	var boxes [][]boxRead // by question
	for i, b := range l.Boxes {
		k, ok := idx[b.Question]
		if !ok {
			k = len(r.Questions)
			idx[b.Question] = k
			r.Questions = append(r.Questions, QuestionReading{Question: b.Question, Value: -1, Fill: map[int]float64{}})
			boxes = append(boxes, nil)
		}
		c, fill, conf := classify(raw[i].stroke-baseS, raw[i].peak, raw[i].solid-baseF, raw[i].spread)
		r.Questions[k].Fill[b.Value] = math.Round(fill*1000) / 1000
		boxes[k] = append(boxes[k], boxRead{b.Value, c, conf})
	}
	var problems []string
	marked := 0
	for i := range r.Questions {
		q := &r.Questions[i]
		faint, solids := 0, 0
		q.Confidence = 1
		for _, v := range Values {
			for _, b := range boxes[i] {
				if b.value != v {
					continue
				}
				q.Confidence = math.Min(q.Confidence, b.conf)
				switch b.class {
				case boxSolid:
					solids++
					q.Marked = append(q.Marked, v)
				case boxMarked:
					q.Marked = append(q.Marked, v)
				case boxFaint:
					faint++
				}
			}
		}
		marked += len(q.Marked)
		switch {
		case len(q.Marked) == 0 && faint == 0:
			q.Status = QuestionBlank
		case len(q.Marked) == 0:
			q.Status = QuestionFaint
			problems = append(problems, fmt.Sprintf("question %s has only a faint mark", q.Question))
		case len(q.Marked) == 1 && faint == 0:
			q.Status, q.Value = QuestionOK, q.Marked[0]
			r.Answers[q.Question] = q.Value
		case len(q.Marked) == 1:
			q.Status = QuestionUncertain
			problems = append(problems, fmt.Sprintf("question %s has a mark and a faint one", q.Question))
		case len(q.Marked) == 2 && solids == 1:
			q.Status = QuestionCorrected
			problems = append(problems, fmt.Sprintf("question %s has a box filled in and another marked: a correction", q.Question))
		default:
			q.Status = QuestionMultiple
			problems = append(problems, fmt.Sprintf("question %s has %d marks", q.Question, len(q.Marked)))
		}
		if q.Status != QuestionOK && q.Status != QuestionBlank {
			q.Confidence = math.Min(q.Confidence, 0.4)
		}
		q.Confidence = math.Round(q.Confidence*100) / 100
	}
	switch {
	case marked == 0 && len(problems) == 0:
		r.Status, r.Reason = StatusUnreadable, "blank form: no box is marked"
	case len(problems) > 0:
		r.Status = StatusReview
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("%d more", len(problems)-3))
		}
		r.Reason = strings.Join(problems, "; ")
	default:
		r.Status = StatusRead
	}
}
