package scansim

import (
	"image"
	"math"
	"math/rand/v2"

	"github.com/sipasvn/gateway/paper"
)

// Ink is how a writing tool marks paper at DPI.
type Ink struct {
	Width  float64 // stroke width, mm
	Absorb float64 // share of the light the ink takes: pen 0.6–0.95, pencil 0.3–0.55
	Grain  float64 // pencil's graphite leaves paper showing: 0 for a pen
}

// pt is a point on the page in millimetres.
type pt struct{ X, Y float64 }

func (p pt) add(q pt) pt                           { return pt{p.X + q.X, p.Y + q.Y} }
func (p pt) sub(q pt) pt                           { return pt{p.X - q.X, p.Y - q.Y} }
func (p pt) mul(k float64) pt                      { return pt{p.X * k, p.Y * k} }
func (p pt) len() float64                          { return math.Hypot(p.X, p.Y) }
func (p pt) rot(a float64) pt                      { s, c := math.Sincos(a); return pt{c*p.X - s*p.Y, s*p.X + c*p.Y} }
func uniform(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// curve is a hand's line from a to b: a quadratic bow of bend (a share of
// its length, either side) with a little tremor, as a polyline.
func curve(r *rand.Rand, a, b pt, bend float64) []pt {
	d := b.sub(a)
	n := pt{-d.Y, d.X}
	c := a.add(d.mul(0.5)).add(n.mul(uniform(r, -bend, bend)))
	steps := max(4, int(d.len()/0.8))
	out := make([]pt, 0, steps+1)
	for i := 0; i <= steps; i++ {
		t := float64(i) / float64(steps)
		p := a.mul((1 - t) * (1 - t)).add(c.mul(2 * t * (1 - t))).add(b.mul(t * t))
		out = append(out, p)
	}
	return out
}

// stroke draws a polyline (mm) in ink: each pixel darkens by the share of
// it the stroke's width covers (anti-aliased), multiplied into the paper
// so crossing strokes darken further.
func stroke(img *image.Gray, line []pt, ink Ink, r *rand.Rand) {
	if len(line) < 2 {
		return
	}
	const px = DPI / 25.4
	half := ink.Width * px / 2
	reach := half + 0.5 // beyond it a pixel is not covered at all
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	p := make([]pt, len(line))
	for i, q := range line {
		p[i] = q.mul(px)
		minX, minY = math.Min(minX, p[i].X), math.Min(minY, p[i].Y)
		maxX, maxY = math.Max(maxX, p[i].X), math.Max(maxY, p[i].Y)
	}
	b := img.Bounds()
	x0, y0 := max(b.Min.X, int(minX-reach-1)), max(b.Min.Y, int(minY-reach-1))
	x1, y1 := min(b.Max.X, int(maxX+reach+2)), min(b.Max.Y, int(maxY+reach+2))
	if x0 >= x1 || y0 >= y1 {
		return
	}
	// The nearest distance from each pixel to the line, segment by
	// segment, each over the pixels of its own reach only.
	w := x1 - x0
	dist := make([]float64, w*(y1-y0))
	for i := range dist {
		dist[i] = math.Inf(1)
	}
	for i := 1; i < len(p); i++ {
		a, c := p[i-1], p[i]
		sy0, sy1 := max(y0, int(math.Min(a.Y, c.Y)-reach-1)), min(y1, int(math.Max(a.Y, c.Y)+reach+2))
		sx0, sx1 := max(x0, int(math.Min(a.X, c.X)-reach-1)), min(x1, int(math.Max(a.X, c.X)+reach+2))
		dx, dy := c.X-a.X, c.Y-a.Y
		l2 := dx*dx + dy*dy
		for y := sy0; y < sy1; y++ {
			fy := float64(y) + 0.5
			// The columns within reach of the segment's line on this row.
			lo, hi := sx0, sx1
			if l := math.Sqrt(l2); l > 0 && math.Abs(dy) > 1e-9 {
				// |(x-a.X)·dy - (fy-a.Y)·dx| / l <= reach
				xc := a.X + (fy-a.Y)*dx/dy
				span := reach * l / math.Abs(dy)
				lo, hi = max(lo, int(xc-span)-1), min(hi, int(xc+span)+2)
			}
			row := dist[(y-y0)*w:]
			for x := lo; x < hi; x++ {
				fx := float64(x) + 0.5
				t := 0.0
				if l2 > 0 {
					t = math.Max(0, math.Min(1, ((fx-a.X)*dx+(fy-a.Y)*dy)/l2))
				}
				ex, ey := fx-a.X-t*dx, fy-a.Y-t*dy
				if d := ex*ex + ey*ey; d < row[x-x0] {
					row[x-x0] = d
				}
			}
		}
	}
	for y := y0; y < y1; y++ {
		img := img.Pix[(y-b.Min.Y)*img.Stride:]
		row := dist[(y-y0)*w:]
		for x := x0; x < x1; x++ {
			d2 := row[x-x0]
			if d2 >= reach*reach {
				continue
			}
			c := math.Min(1, reach-math.Sqrt(d2))
			a := ink.Absorb
			if ink.Grain > 0 {
				a *= 1 - ink.Grain*r.Float64()
			}
			v := float64(img[x-b.Min.X]) * (1 - a*c)
			img[x-b.Min.X] = uint8(v + 0.5)
		}
	}
}

// Mark is how a citizen marks a box.
type Mark int

const (
	Cross Mark = iota // an X
	Tick              // a check mark
	Fill              // the box inked solid (also how a wrong mark is struck out)
)

func (m Mark) String() string { return [...]string{"cross", "tick", "fill"}[m] }

// drawMark marks box b: slightly off centre, strokes overshooting the
// border a little, as hands do.
func drawMark(img *image.Gray, b paper.Rect, m Mark, ink Ink, r *rand.Rand) {
	for _, s := range markStrokes(b, m, ink, r) {
		stroke(img, s, ink, r)
	}
}

func markStrokes(b paper.Rect, m Mark, ink Ink, r *rand.Rand) [][]pt {
	w := b.W
	c := pt{b.X + w/2 + uniform(r, -0.1, 0.1)*w, b.Y + b.H/2 + uniform(r, -0.1, 0.1)*w}
	// Points stay within the box plus a millimetre: a mark overshoots a
	// little, not into the next box or row.
	clamp := func(p pt) pt {
		return pt{math.Max(b.X-1, math.Min(b.X+w+1, p.X)), math.Max(b.Y-1, math.Min(b.Y+b.H+1, p.Y))}
	}
	switch m {
	case Cross:
		var out [][]pt
		for _, dir := range []pt{{1, 1}, {1, -1}} {
			e1, e2 := w*uniform(r, 0.3, 0.6), w*uniform(r, 0.3, 0.6)
			a := clamp(c.sub(dir.mul(e1)).add(pt{uniform(r, -0.08, 0.08) * w, uniform(r, -0.08, 0.08) * w}))
			z := clamp(c.add(dir.mul(e2)).add(pt{uniform(r, -0.08, 0.08) * w, uniform(r, -0.08, 0.08) * w}))
			out = append(out, curve(r, a, z, 0.06))
		}
		return out
	case Tick:
		s := w * uniform(r, 0.75, 1.15)
		rot := uniform(r, -0.2, 0.2)
		at := func(x, y float64) pt { return clamp(c.add(pt{x * s, y * s}.rot(rot))) }
		a, v, z := at(-0.34, -0.02), at(-0.1, 0.3), at(0.42+uniform(r, -0.05, 0.1), -0.44+uniform(r, -0.05, 0.1))
		return [][]pt{curve(r, a, v, 0.05), curve(r, v, z, 0.08)}
	default:
		return [][]pt{hatch(b, ink, r)}
	}
}

// hatch is a box filled in by hand: back and forth strokes a little
// closer than the pen is wide, at some angle, reaching the border or a
// little past it (or short of it).
func hatch(b paper.Rect, ink Ink, r *rand.Rand) []pt {
	over := func() float64 { return uniform(r, -0.25, 0.8) }
	x0, y0, x1, y1 := b.X-over(), b.Y-over(), b.X+b.W+over(), b.Y+b.H+over()
	theta := []float64{0, math.Pi / 4, math.Pi / 2, -math.Pi / 4}[r.IntN(4)] + uniform(r, -0.2, 0.2)
	d := pt{math.Cos(theta), math.Sin(theta)}
	n := pt{-d.Y, d.X}
	corners := []pt{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range corners {
		t := p.X*n.X + p.Y*n.Y
		lo, hi = math.Min(lo, t), math.Max(hi, t)
	}
	step := ink.Width * uniform(r, 0.55, 0.9)
	var out []pt
	flip := false
	for t := lo + step/2; t < hi; t += step {
		// The line {p·n = t} clipped to the rectangle.
		base := n.mul(t)
		smin, smax := math.Inf(-1), math.Inf(1)
		clip := func(dc, bc, lo, hi float64) {
			if math.Abs(dc) < 1e-9 {
				if bc < lo || bc > hi {
					smin, smax = 1, 0
				}
				return
			}
			a, z := (lo-bc)/dc, (hi-bc)/dc
			if a > z {
				a, z = z, a
			}
			smin, smax = math.Max(smin, a), math.Min(smax, z)
		}
		clip(d.X, base.X, x0, x1)
		clip(d.Y, base.Y, y0, y1)
		if smin >= smax {
			continue
		}
		jit := func() float64 { return uniform(r, -0.3, 0.3) }
		a, z := base.add(d.mul(smin+jit())), base.add(d.mul(smax+jit()))
		if flip {
			a, z = z, a
		}
		flip = !flip
		out = append(out, a, z)
	}
	return out
}

// clearance is how far a stroke keeps from a box, a corner mark or the QR.
const clearance = 0.4

// strayStroke is a stroke that marks no box: a question's words
// underlined, a line between rows or columns of boxes, a doodle in a
// margin. It keeps clear of every box, corner mark and the QR.
func strayStroke(l *paper.Layout, ink Ink, r *rand.Rand) []pt {
	for try := 0; try < 50; try++ {
		var line []pt
		switch r.IntN(4) {
		case 0: // a question's words underlined
			row := questionRows(l)[r.IntN(len(questionRows(l)))]
			y := row.Y + row.H*uniform(r, 0.7, 0.95)
			x := uniform(r, l.Text.X, l.Text.X+l.Text.W*0.5)
			line = curve(r, pt{x, y}, pt{x + uniform(r, 15, 50), y + uniform(r, -1, 1)}, 0.03)
		case 1: // between two rows of boxes, across a few columns
			rows := questionRows(l)
			i := r.IntN(len(rows))
			b := boxOf(l, rows[i].Question, 1)
			y := b.Y + b.H + (rows[i].Y+rows[i].H-(b.Y+b.H))*uniform(r, 0.9, 1.1)
			if i+1 < len(rows) && rows[i+1].Question != "" {
				nb := boxOf(l, rows[i+1].Question, 1)
				y = (b.Y + b.H + nb.Y) / 2
			}
			c := r.IntN(4)
			x0 := l.Columns[c] - uniform(r, 0, 6)
			x1 := l.Columns[c+1+r.IntN(len(l.Columns)-c-1)] + uniform(r, 0, 6)
			line = curve(r, pt{x0, y + uniform(r, -0.1, 0.1)}, pt{x1, y + uniform(r, -0.1, 0.1)}, 0.002)
		case 2: // down the gap between two columns
			c := r.IntN(len(l.Columns) - 1)
			x := (l.Columns[c] + l.Columns[c+1]) / 2
			y := uniform(r, l.Header.Y+l.Header.H, l.Text.Y+l.Text.H-15)
			line = curve(r, pt{x + uniform(r, -1, 1), y}, pt{x + uniform(r, -1, 1), y + uniform(r, 5, 15)}, 0.05)
		default: // a doodle in the left margin or under the table
			var a pt
			if r.IntN(2) == 0 {
				a = pt{uniform(r, 2, 12), uniform(r, 30, 260)}
			} else {
				a = pt{uniform(r, 20, 150), uniform(r, l.Text.Y+l.Text.H+1, l.Comment.Y-3)}
			}
			line = curve(r, a, a.add(pt{uniform(r, -8, 8), uniform(r, -8, 8)}), 0.3)
		}
		if keepsClear(l, line, ink.Width/2+clearance) {
			return line
		}
	}
	return nil
}

// handwriting is a comment written in the comment's area: lines of loops.
func handwriting(l *paper.Layout, img *image.Gray, ink Ink, r *rand.Rand) {
	c := l.Comment
	lines := 1 + r.IntN(3)
	for i := 0; i < lines; i++ {
		y := c.Y + 6 + float64(i)*7
		if y > c.Y+c.H-3 {
			break
		}
		x := c.X + 3
		end := c.X + uniform(r, 40, c.W-5)
		for x < end {
			word := uniform(r, 6, 18)
			var line []pt
			for t := 0.0; t < word; t += 0.35 {
				line = append(line, pt{x + t, y - 1.2 + 1.4*math.Sin(t*2.6+uniform(r, 0, 0.5))})
			}
			stroke(img, line, ink, r)
			x += word + uniform(r, 2, 4)
		}
	}
}

func questionRows(l *paper.Layout) []paper.Row {
	var rows []paper.Row
	for _, row := range l.Rows {
		if row.Question != "" {
			rows = append(rows, row)
		}
	}
	return rows
}

func boxOf(l *paper.Layout, q string, v int) paper.Rect {
	for _, b := range l.Boxes {
		if b.Question == q && b.Value == v {
			return b.Rect
		}
	}
	panic("no box " + q)
}

// keepsClear tells whether every point of line keeps gap from the boxes, the
// corner marks (3 mm: a stroke touching one would change its shape) and
// the QR, and stays on the page.
func keepsClear(l *paper.Layout, line []pt, gap float64) bool {
	if len(line) < 2 {
		return false
	}
	var dense []pt
	for i := 1; i < len(line); i++ {
		d := line[i].sub(line[i-1])
		n := max(1, int(d.len()/0.2))
		for k := 0; k <= n; k++ {
			dense = append(dense, line[i-1].add(d.mul(float64(k)/float64(n))))
		}
	}
	for _, p := range dense {
		if p.X < 2 || p.Y < 2 || p.X > l.Page.W-2 || p.Y > l.Page.H-2 {
			return false
		}
		for _, b := range l.Boxes {
			if rectDist(p, b.Rect) < gap {
				return false
			}
		}
		for _, m := range l.Marks {
			if rectDist(p, m) < gap+3 {
				return false
			}
		}
		if rectDist(p, l.QR) < gap+2 {
			return false
		}
	}
	return true
}

func rectDist(p pt, r paper.Rect) float64 {
	dx := math.Max(0, math.Max(r.X-p.X, p.X-(r.X+r.W)))
	dy := math.Max(0, math.Max(r.Y-p.Y, p.Y-(r.Y+r.H)))
	return math.Hypot(dx, dy)
}
