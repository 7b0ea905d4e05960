package paper

import (
	"image"
	"math"
	"slices"
)

// small is a reduced copy of a page, about 50 dpi for an A4 page filling
// the image, where the corner marks are found: a mark is then about 14
// pixels wide, and the whole page is 0.25 MP.
type small struct {
	pix  []uint8
	w, h int
	f    int     // page pixels per small pixel
	off  float64 // a small pixel's centre in page coordinates: i*f + off
	dark []bool  // locally dark pixels
}

// smallSide is the long side a page is reduced to.
const smallSide = 600

func reduce(page *image.Gray) *small {
	b := page.Bounds()
	W, H := b.Dx(), b.Dy()
	f := max(1, max(W, H)/smallSide)
	// Average a few pixels spread over each f×f block: every pixel is not
	// needed to find 7 mm squares, and reading 9 MP once costs most of
	// the time otherwise.
	step := max(1, f/3)
	var offs []int
	for o := step / 2; o < f; o += step {
		offs = append(offs, o)
	}
	s := &small{w: W / f, h: H / f, f: f}
	mean := 0.0
	for _, o := range offs {
		mean += float64(o)
	}
	s.off = mean/float64(len(offs)) + 0.5
	s.pix = make([]uint8, s.w*s.h)
	n := len(offs) * len(offs)
	src := page.Pix[page.PixOffset(b.Min.X, b.Min.Y):]
	stride := page.Stride
	sums := make([]int, s.w)
	for y := 0; y < s.h; y++ {
		clear(sums)
		for _, oy := range offs {
			row := src[(y*f+oy)*stride:]
			for _, ox := range offs {
				r := row[ox:]
				for x := range sums {
					sums[x] += int(r[x*f])
				}
			}
		}
		out := s.pix[y*s.w:]
		for x, v := range sums {
			out[x] = uint8((v + n/2) / n)
		}
	}
	s.threshold()
	return s
}

// threshold marks pixels clearly darker than their neighbourhood (a
// window about twice a mark's size): uneven light and shadows move the
// neighbourhood with the pixel.
func (s *small) threshold() {
	w, h := s.w, s.h
	r := max(3, max(w, h)/40)
	integ := make([]int32, (w+1)*(h+1))
	for y := 0; y < h; y++ {
		var run int32
		for x := 0; x < w; x++ {
			run += int32(s.pix[y*w+x])
			integ[(y+1)*(w+1)+x+1] = integ[y*(w+1)+x+1] + run
		}
	}
	s.dark = make([]bool, w*h)
	for y := 0; y < h; y++ {
		y0, y1 := max(0, y-r), min(h, y+r+1)
		for x := 0; x < w; x++ {
			x0, x1 := max(0, x-r), min(w, x+r+1)
			sum := integ[y1*(w+1)+x1] - integ[y0*(w+1)+x1] - integ[y1*(w+1)+x0] + integ[y0*(w+1)+x0]
			n := int32((y1 - y0) * (x1 - x0))
			v := int32(s.pix[y*w+x]) * n
			// darker than 0.65 of the mean, and by 20 levels at least
			s.dark[y*w+x] = v*100 < sum*65 && sum-v > 20*n
		}
	}
}

// blob is a connected set of dark small pixels.
type blob struct {
	area           int
	cx, cy         float64 // centroid, small pixels
	x0, y0, x1, y1 int     // bounding box, inclusive
	side           float64 // the side of a square of its spread
	solid, square  float64 // how filled and how square its spread is
}

// blobs labels the dark pixels' 8-connected components.
func (s *small) blobs() []blob {
	w, h := s.w, s.h
	seen := make([]bool, w*h)
	var stack []int
	var out []blob
	for start := range s.dark {
		if !s.dark[start] || seen[start] {
			continue
		}
		b := blob{x0: w, y0: h, x1: -1, y1: -1}
		var sx, sy, sxx, syy, sxy float64
		stack = append(stack[:0], start)
		seen[start] = true
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%w, p/w
			b.area++
			fx, fy := float64(x), float64(y)
			sx, sy, sxx, syy, sxy = sx+fx, sy+fy, sxx+fx*fx, syy+fy*fy, sxy+fx*fy
			b.x0, b.y0, b.x1, b.y1 = min(b.x0, x), min(b.y0, y), max(b.x1, x), max(b.y1, y)
			for dy := -1; dy <= 1; dy++ {
				ny := y + dy
				if ny < 0 || ny >= h {
					continue
				}
				for dx := -1; dx <= 1; dx++ {
					nx := x + dx
					if nx < 0 || nx >= w {
						continue
					}
					q := ny*w + nx
					if s.dark[q] && !seen[q] {
						seen[q] = true
						stack = append(stack, q)
					}
				}
			}
		}
		n := float64(b.area)
		b.cx, b.cy = sx/n, sy/n
		vxx, vyy, vxy := sxx/n-b.cx*b.cx+1.0/12, syy/n-b.cy*b.cy+1.0/12, sxy/n-b.cx*b.cy
		det := vxx*vyy - vxy*vxy
		tr := vxx + vyy
		disc := math.Sqrt(math.Max(0, tr*tr/4-det))
		l1, l2 := tr/2+disc, tr/2-disc
		if det > 0 && l2 > 0 {
			// A solid square of side a has both variances a²/12; an affine
			// image of it (a square in perspective) keeps area/(12√det) = 1.
			b.side = math.Sqrt(12 * math.Sqrt(det))
			b.solid = n / (12 * math.Sqrt(det))
			b.square = l2 / l1
		}
		out = append(out, b)
	}
	return out
}

// markCandidates are the blobs that could be corner marks: solid squares
// (seen at any angle) of a plausible size for an A4 page on the image.
func (s *small) markCandidates() []blob {
	long := float64(max(s.w, s.h))
	var out []blob
	for _, b := range s.blobs() {
		if b.side < math.Max(2.5, 0.006*long) || b.side > 0.05*long {
			continue
		}
		box := float64((b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1))
		if b.solid < 0.75 || b.solid > 1.35 || b.square < 0.6 || float64(b.area)/box < 0.45 {
			continue
		}
		out = append(out, b)
	}
	return outermost(out, 5)
}

// outermost keeps, of many candidates, the k farthest out in each of
// eight directions: the corner marks are the corners of the
// quadrilateral that holds all the page's print, and a corner is the
// farthest point of it in some direction. Filled boxes inside need not
// be tried as corners (22 of them make 60,000 quadrilaterals).
func outermost(c []blob, k int) []blob {
	if len(c) <= 3*k {
		return c
	}
	keep := make([]bool, len(c))
	order := make([]int, len(c))
	for d := 0; d < 8; d++ {
		dx, dy := math.Cos(float64(d)*math.Pi/4), math.Sin(float64(d)*math.Pi/4)
		for i := range order {
			order[i] = i
		}
		slices.SortFunc(order, func(a, b int) int {
			return -cmpFloat(c[a].cx*dx+c[a].cy*dy, c[b].cx*dx+c[b].cy*dy)
		})
		for _, i := range order[:k] {
			keep[i] = true
		}
	}
	var out []blob
	for i, b := range c {
		if keep[i] {
			out = append(out, b)
		}
	}
	return out
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// quad is four marks in clockwise order on the image (y down).
type quad [4]blob

// findQuads lists, largest first, the sets of four candidates that lie
// as the corner marks do: the corners of a convex quadrilateral with the
// page's proportions (a rectangle 187 × 274 mm between mark centres, seen
// in perspective), of similar sizes, each mark a plausible share of the
// page. The marks are the outermost print on a page: filled boxes or the
// QR's finder patterns, which may look like marks, lie inside them; a
// dark patch off the page (a shadow's corner) may pass for one, which
// reading the QR through the quadrilateral then rules out.
func findQuads(c []blob, geom markGeometry) []quad {
	type found struct {
		q    quad
		area float64
	}
	var all []found
	n := len(c)
	var idx [4]int
	var try func(k, from int)
	try = func(k, from int) {
		if k == 4 {
			q := quad{c[idx[0]], c[idx[1]], c[idx[2]], c[idx[3]]}
			if a, ok := q.check(geom); ok {
				all = append(all, found{q.clockwise(), a})
			}
			return
		}
		for i := from; i < n; i++ {
			ok := true
			for _, j := range idx[:k] {
				// sizes within a factor of 1.5 of each other
				if r := c[i].side / c[j].side; r > 1.5 || r < 1/1.5 {
					ok = false
					break
				}
			}
			if ok {
				idx[k] = i
				try(k+1, i+1)
			}
		}
	}
	try(0, 0)
	slices.SortFunc(all, func(a, b found) int { return -cmpFloat(a.area, b.area) })
	var out []quad
	for _, f := range all {
		out = append(out, f.q)
	}
	return out
}

// clockwise orders the quad's points by angle around their centre.
func (q quad) clockwise() quad {
	cx, cy := 0.0, 0.0
	for _, b := range q {
		cx += b.cx / 4
		cy += b.cy / 4
	}
	slices.SortFunc(q[:], func(a, b blob) int {
		return cmpFloat(math.Atan2(a.cy-cy, a.cx-cx), math.Atan2(b.cy-cy, b.cx-cx))
	})
	return q
}

// check tells whether the quad can be the corner marks, and its area.
func (q quad) check(g markGeometry) (float64, bool) {
	q = q.clockwise()
	var e [4]float64
	cross := 0.0
	area := 0.0
	for i := 0; i < 4; i++ {
		a, b, c := q[i], q[(i+1)%4], q[(i+2)%4]
		e[i] = math.Hypot(b.cx-a.cx, b.cy-a.cy)
		if e[i] == 0 {
			return 0, false
		}
		// convex, with corners of 55°–125°
		ux, uy, vx, vy := b.cx-a.cx, b.cy-a.cy, c.cx-b.cx, c.cy-b.cy
		z := ux*vy - uy*vx
		if i == 0 {
			cross = z
		} else if z*cross <= 0 {
			return 0, false
		}
		cos := -(ux*vx + uy*vy) / (math.Hypot(ux, uy) * math.Hypot(vx, vy))
		if math.Abs(cos) > 0.574 {
			return 0, false
		}
		area += a.cx*b.cy - b.cx*a.cy
	}
	// Opposite sides alike, the long pair about the page's proportion
	// longer than the short.
	if r := e[0] / e[2]; r > 1.45 || r < 1/1.45 {
		return 0, false
	}
	if r := e[1] / e[3]; r > 1.45 || r < 1/1.45 {
		return 0, false
	}
	a, b := (e[0]+e[2])/2, (e[1]+e[3])/2
	short, long := math.Min(a, b), math.Max(a, b)
	if r := long / short / g.aspect; r < 0.82 || r > 1.22 {
		return 0, false
	}
	// The page fills a good part of the image: a photograph of it from
	// farther than that has too few pixels a box anyway.
	if short < g.minShare*float64(g.imageShort) {
		return 0, false
	}
	side := (q[0].side + q[1].side + q[2].side + q[3].side) / 4
	if r := side / short / g.markShare; r < 0.6 || r > 1.6 {
		return 0, false
	}
	return math.Abs(area) / 2, true
}

// markGeometry is what the finder knows of a page before reading its QR:
// where the marks and the QR are, the same on every layout so far.
type markGeometry struct {
	centres   [4][2]float64 // TL, TR, BR, BL: clockwise
	aspect    float64       // long over short distance between centres
	markShare float64       // a mark's side over the short distance
	qr        Rect
	// minShare is the least share of the image's short side (imageShort
	// pixels of the reduced image) the marks' short side spans.
	minShare   float64
	imageShort int
}

func geometryOf(l *Layout) markGeometry {
	var g markGeometry
	for i, k := range []int{0, 1, 3, 2} { // TL, TR, BL, BR → clockwise
		m := l.Marks[k]
		g.centres[i] = [2]float64{m.X + m.W/2, m.Y + m.H/2}
	}
	w := g.centres[1][0] - g.centres[0][0]
	h := g.centres[3][1] - g.centres[0][1]
	g.aspect = math.Max(w, h) / math.Min(w, h)
	g.markShare = math.Sqrt(l.Marks[0].W*l.Marks[0].H) / math.Min(w, h)
	g.qr = l.QR
	return g
}

// mark is a corner mark located on the page image.
type mark struct {
	x, y  float64 // centre, page pixels
	ink   float64 // its black's level
	paper float64 // the paper's around it
	area  int     // pixels
}

// refine finds the mark seen as b on the reduced image at full
// resolution: the centroid of the dark component around its centre. Dark
// is below a share of the way from the mark's black to the window's
// paper: a third first, less when that component leaks out of the window
// (a shadow beside the mark can be darker than a third) or is not about
// the mark's size.
func refine(page *image.Gray, s *small, b blob) (mark, bool) {
	bounds := page.Bounds()
	W, H := bounds.Dx(), bounds.Dy()
	f := float64(s.f)
	cx, cy := b.cx*f+s.off, b.cy*f+s.off
	half := 1.2 * b.side * f
	x0, y0 := max(0, int(cx-half)), max(0, int(cy-half))
	x1, y1 := min(W, int(cx+half)+1), min(H, int(cy+half)+1)
	if x1-x0 < 5 || y1-y0 < 5 {
		return mark{}, false
	}
	ww, wh := x1-x0, y1-y0
	pix := page.Pix[page.PixOffset(bounds.Min.X, bounds.Min.Y):]
	var hist [256]int
	for y := y0; y < y1; y++ {
		for _, v := range pix[y*page.Stride+x0 : y*page.Stride+x1] {
			hist[v]++
		}
	}
	total := ww * wh
	ink, paper := percentile(&hist, total, 0.03), percentile(&hist, total, 0.97)
	if paper-ink < 20 {
		return mark{}, false
	}
	want := b.side * f * b.side * f
	seen := make([]bool, ww*wh)
	var stack []int
	for _, share := range []float64{0.33, 0.2, 0.12} {
		thr := uint8(float64(ink) + share*float64(paper-ink))
		// Flood from the dark pixel nearest the centre.
		start := -1
		for r := 0; r <= int(half/3) && start < 0; r++ {
			for dy := -r; dy <= r && start < 0; dy++ {
				for dx := -r; dx <= r; dx++ {
					x, y := int(cx)+dx, int(cy)+dy
					if x >= x0 && x < x1 && y >= y0 && y < y1 && pix[y*page.Stride+x] < thr {
						start = (y-y0)*ww + (x - x0)
						break
					}
				}
			}
		}
		if start < 0 {
			continue
		}
		clear(seen)
		stack = append(stack[:0], start)
		seen[start] = true
		var sx, sy float64
		var inkHist [256]int
		n := 0
		edge := false
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := p%ww, p/ww
			inkHist[pix[(y+y0)*page.Stride+x+x0]]++
			sx += float64(x)
			sy += float64(y)
			n++
			if x == 0 || y == 0 || x == ww-1 || y == wh-1 {
				edge = true
			}
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= ww || ny >= wh {
					continue
				}
				q := ny*ww + nx
				if !seen[q] && pix[(ny+y0)*page.Stride+nx+x0] < thr {
					seen[q] = true
					stack = append(stack, q)
				}
			}
		}
		if edge || float64(n) < 0.35*want || float64(n) > 2.2*want {
			continue
		}
		return mark{
			x: float64(x0) + sx/float64(n) + 0.5, y: float64(y0) + sy/float64(n) + 0.5,
			ink: float64(percentile(&inkHist, n, 0.3)), paper: float64(paper), area: n,
		}, true
	}
	return mark{}, false
}

// percentile is the value below which share of a histogram's n counts lie.
func percentile(h *[256]int, n int, share float64) int {
	want := int(share * float64(n))
	acc := 0
	for v, c := range h {
		acc += c
		if acc > want {
			return v
		}
	}
	return 255
}
