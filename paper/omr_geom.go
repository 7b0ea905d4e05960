package paper

import (
	"image"
	"math"
)

// Homography maps a point of the layout (millimetres, origin at the page's
// top left) to the image (pixels from the image's top left corner,
// Bounds().Min, pixel centres at +0.5): a projective map, which a
// photograph of a flat page in perspective is.
type Homography [9]float64

// Point maps layout millimetres (x, y) to image pixels.
func (h *Homography) Point(x, y float64) (float64, float64) {
	w := h[6]*x + h[7]*y + h[8]
	return (h[0]*x + h[1]*y + h[2]) / w, (h[3]*x + h[4]*y + h[5]) / w
}

// Scale is the image's pixels per millimetre of layout at (x, y), the
// geometric mean of the two axes'.
func (h *Homography) Scale(x, y float64) float64 {
	x0, y0 := h.Point(x, y)
	x1, y1 := h.Point(x+1, y)
	x2, y2 := h.Point(x, y+1)
	return math.Sqrt(math.Abs((x1-x0)*(y2-y0) - (x2-x0)*(y1-y0)))
}

// fitHomography solves for the map taking each from point to its to point:
// exactly for four, in the least-squares sense for more. ok is false when
// the points are degenerate (three in a line, or two the same).
func fitHomography(from, to [][2]float64) (Homography, bool) {
	// Normal equations of the 8 unknowns (h[8] = 1).
	var ata [8][8]float64
	var atb [8]float64
	add := func(row [8]float64, b float64) {
		for i := 0; i < 8; i++ {
			for j := 0; j < 8; j++ {
				ata[i][j] += row[i] * row[j]
			}
			atb[i] += row[i] * b
		}
	}
	for k := range from {
		x, y, u, v := from[k][0], from[k][1], to[k][0], to[k][1]
		add([8]float64{x, y, 1, 0, 0, 0, -u * x, -u * y}, u)
		add([8]float64{0, 0, 0, x, y, 1, -v * x, -v * y}, v)
	}
	sol, ok := solve8(ata, atb)
	if !ok {
		return Homography{}, false
	}
	var h Homography
	copy(h[:8], sol[:])
	h[8] = 1
	return h, true
}

// solve8 solves a x = b by Gaussian elimination with partial pivoting.
func solve8(a [8][8]float64, b [8]float64) ([8]float64, bool) {
	var x [8]float64
	scale := 0.0
	for i := range a {
		for j := range a[i] {
			scale = math.Max(scale, math.Abs(a[i][j]))
		}
	}
	if scale == 0 {
		return x, false
	}
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		if math.Abs(a[p][c]) < 1e-12*scale {
			return x, false
		}
		a[c], a[p] = a[p], a[c]
		b[c], b[p] = b[p], b[c]
		for r := c + 1; r < 8; r++ {
			f := a[r][c] / a[c][c]
			for k := c; k < 8; k++ {
				a[r][k] -= f * a[c][k]
			}
			b[r] -= f * b[c]
		}
	}
	for c := 7; c >= 0; c-- {
		s := b[c]
		for k := c + 1; k < 8; k++ {
			s -= a[c][k] * x[k]
		}
		x[c] = s / a[c][c]
	}
	return x, true
}

// sampler reads a gray image at real coordinates (pixel centres at +0.5).
type sampler struct {
	pix    []uint8
	stride int
	w, h   int
}

func newSampler(img *image.Gray) sampler {
	b := img.Bounds()
	return sampler{pix: img.Pix[img.PixOffset(b.Min.X, b.Min.Y):], stride: img.Stride, w: b.Dx(), h: b.Dy()}
}

// nearest is the pixel under (x, y), or -1 off the image.
func (s sampler) nearest(x, y float64) int {
	if x < 0 || y < 0 {
		return -1
	}
	ix, iy := int(x), int(y)
	if ix >= s.w || iy >= s.h {
		return -1
	}
	return int(s.pix[iy*s.stride+ix])
}

// bilinear interpolates between the four pixels around (x, y); off the
// image it is white.
func (s sampler) bilinear(x, y float64) float64 {
	x -= 0.5
	y -= 0.5
	if x < 0 || y < 0 || x >= float64(s.w-1) || y >= float64(s.h-1) {
		if v := s.nearest(x+0.5, y+0.5); v >= 0 {
			return float64(v)
		}
		return 255
	}
	ix, iy := int(x), int(y)
	ax, ay := x-float64(ix), y-float64(iy)
	o := iy*s.stride + ix
	p := s.pix
	top := float64(p[o])*(1-ax) + float64(p[o+1])*ax
	bot := float64(p[o+s.stride])*(1-ax) + float64(p[o+s.stride+1])*ax
	return top*(1-ay) + bot*ay
}

// render draws the layout's area at dpi through h from src.
func render(src *image.Gray, h *Homography, area Rect, dpi float64) *image.Gray {
	ppm := dpi / 25.4
	w, ht := max(1, int(math.Round(area.W*ppm))), max(1, int(math.Round(area.H*ppm)))
	out := image.NewGray(image.Rect(0, 0, w, ht))
	s := newSampler(src)
	// A pixel of the output may cover several of the source: average a
	// few samples then, so thin lines survive the reduction.
	n := 1
	if k := h.Scale(area.X+area.W/2, area.Y+area.H/2) / ppm; k > 1.5 {
		n = min(4, int(math.Ceil(k)))
	}
	inv := 1 / float64(n)
	for y := 0; y < ht; y++ {
		row := out.Pix[y*out.Stride:]
		for x := 0; x < w; x++ {
			sum := 0.0
			for j := 0; j < n; j++ {
				my := area.Y + (float64(y)+(float64(j)+0.5)*inv)/ppm
				for i := 0; i < n; i++ {
					mx := area.X + (float64(x)+(float64(i)+0.5)*inv)/ppm
					px, py := h.Point(mx, my)
					sum += s.bilinear(px, py)
				}
			}
			row[x] = uint8(math.Min(255, sum*inv*inv+0.5))
		}
	}
	return out
}
