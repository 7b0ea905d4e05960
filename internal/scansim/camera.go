package scansim

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"
	"math/rand/v2"
)

// Camera is how a marked page becomes an image: a scanner's or a phone's.
type Camera struct {
	DPI        float64 // resolution of the page on the image
	Rotate     float64 // degrees the page lies turned on the image
	UpsideDown bool    // the page fed or photographed upside down
	Keystone   float64 // perspective: one edge of the page shorter by this share (0–0.15)
	Jitter     float64 // each corner moved up to this share of the page's width more
	Margin     float64 // background around the page, a share of its size
	Background uint8   // the table under a photographed page (a scanner's lid is white)
	White      float64 // paper as the image shows it (scanner 235–250, phone 170–235)
	Black      float64 // black print as the image shows it
	Blur       float64 // Gaussian blur, sigma in mm on the page
	Light      float64 // uneven light: the darkest side of the page gets 1-Light
	Shadow     float64 // a shadow's depth across part of the page, 0 for none
	ShadowSoft float64 // width of the shadow's edge, mm
	Noise      float64 // sensor noise, sigma in gray levels
	JPEG       int     // JPEG quality the image is stored at; 0 keeps it lossless
}

// Shoot images src (a page at DPI) as the camera does. It returns the
// image as decoded and, when the camera stores JPEG, the file's bytes.
func (c Camera) Shoot(src *image.Gray, r *rand.Rand) (*image.Gray, []byte) {
	s := c.DPI / DPI
	sw, sh := float64(src.Rect.Dx()), float64(src.Rect.Dy())
	pw, ph := sw*s, sh*s
	// The page's corners on the image: centred, turned, in perspective.
	corners := []pt{{-pw / 2, -ph / 2}, {pw / 2, -ph / 2}, {pw / 2, ph / 2}, {-pw / 2, ph / 2}}
	if c.Keystone > 0 {
		side := r.IntN(4) // the edge farther from the lens
		a, b := corners[side], corners[(side+1)%4]
		mid := a.add(b).mul(0.5)
		k := c.Keystone
		corners[side] = a.add(mid.sub(a).mul(k))
		corners[(side+1)%4] = b.add(mid.sub(b).mul(k))
	}
	for i := range corners {
		corners[i] = corners[i].add(pt{uniform(r, -1, 1), uniform(r, -1, 1)}.mul(c.Jitter * pw))
		a := c.Rotate * math.Pi / 180
		if c.UpsideDown {
			a += math.Pi
		}
		corners[i] = corners[i].rot(a)
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range corners {
		minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
		maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
	}
	mx, my := c.Margin*pw, c.Margin*ph
	W, H := int(maxX-minX+2*mx+0.5), int(maxY-minY+2*my+0.5)
	for i := range corners {
		corners[i] = corners[i].add(pt{mx - minX, my - minY})
	}
	// inv maps the image's pixels to the page's.
	fwd := homography([4]pt{{0, 0}, {sw, 0}, {sw, sh}, {0, sh}}, [4]pt(corners))
	inv := fwd.inverse()

	// Light: a gradient across the scene and a soft-edged shadow, a disc
	// whose rim crosses the page.
	gdir := pt{1, 0}.rot(uniform(r, 0, 2*math.Pi))
	gmin, gmax := math.Inf(1), math.Inf(-1)
	for _, p := range []pt{{0, 0}, {float64(W), 0}, {float64(W), float64(H)}, {0, float64(H)}} {
		t := p.X*gdir.X + p.Y*gdir.Y
		gmin, gmax = math.Min(gmin, t), math.Max(gmax, t)
	}
	ppm := c.DPI / 25.4
	var sc pt
	var sr float64
	if c.Shadow > 0 {
		// A disc of radius 0.6–2 page widths whose rim passes through a
		// point on the page: from a third to most of the page in shadow.
		sr = uniform(r, 0.6, 2) * pw
		on := pt{uniform(r, 0.2, 0.8) * float64(W), uniform(r, 0.2, 0.8) * float64(H)}
		sc = on.add(pt{1, 0}.rot(uniform(r, 0, 2*math.Pi)).mul(sr))
	}
	soft := math.Max(1, c.ShadowSoft*ppm)

	out := image.NewGray(image.Rect(0, 0, W, H))
	span := c.White - c.Black
	// Down-sampling by point sampling would drop thin lines: average the
	// source first when the image is much coarser.
	srcS := src
	scale := 1.0
	if s <= 0.6 {
		srcS = halve(src)
		scale = 0.5
	}
	sp, sstride := srcS.Pix, srcS.Stride
	swi, shi := srcS.Rect.Dx(), srcS.Rect.Dy()
	sx0, sy0, sx1, sy1 := 0.0, 0.0, float64(swi-1), float64(shi-1)
	for y := 0; y < H; y++ {
		row := out.Pix[y*out.Stride:]
		fy := float64(y) + 0.5
		// inv's numerators and denominator grow by a constant each pixel.
		nx, ny, nw := inv[1]*fy+inv[2]+inv[0]*0.5, inv[4]*fy+inv[5]+inv[3]*0.5, inv[7]*fy+inv[8]+inv[6]*0.5
		gy := fy * gdir.Y
		for x := 0; x < W; x++ {
			fx := float64(x) + 0.5
			qx, qy := nx/nw*scale-0.5, ny/nw*scale-0.5
			nx, ny, nw = nx+inv[0], ny+inv[3], nw+inv[6]
			var v float64
			if qx < sx0 || qy < sy0 || qx >= sx1 || qy >= sy1 {
				v = float64(c.Background)
			} else {
				ix, iy := int(qx), int(qy)
				ax, ay := qx-float64(ix), qy-float64(iy)
				o := iy*sstride + ix
				top := float64(sp[o])*(1-ax) + float64(sp[o+1])*ax
				bot := float64(sp[o+sstride])*(1-ax) + float64(sp[o+sstride+1])*ax
				v = c.Black + span*(top*(1-ay)+bot*ay)/255
			}
			l := 1.0
			if c.Light > 0 {
				l -= c.Light * (fx*gdir.X + gy - gmin) / (gmax - gmin)
			}
			if c.Shadow > 0 {
				ex, ey := fx-sc.X, fy-sc.Y
				d := sr - math.Sqrt(ex*ex+ey*ey) // inside the disc > 0
				if t := d/soft + 0.5; t >= 1 {
					l *= 1 - c.Shadow
				} else if t > 0 {
					l *= 1 - c.Shadow*t*t*(3-2*t)
				}
			}
			row[x] = clamp8(v * l)
		}
	}
	if sigma := c.Blur * ppm; sigma > 0.3 {
		gaussBlur(out, sigma)
	}
	if c.Noise > 0 {
		addNoise(out, c.Noise, r)
	}
	if c.JPEG == 0 {
		return out, nil
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, out, &jpeg.Options{Quality: c.JPEG}); err != nil {
		panic(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		panic(err)
	}
	return img.(*image.Gray), b.Bytes()
}

func clamp8(v float64) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// halve averages 2×2 pixels.
func halve(src *image.Gray) *image.Gray {
	w, h := src.Rect.Dx()/2, src.Rect.Dy()/2
	out := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		a := src.Pix[2*y*src.Stride:]
		b := src.Pix[(2*y+1)*src.Stride:]
		o := out.Pix[y*out.Stride:]
		for x := 0; x < w; x++ {
			o[x] = uint8((int(a[2*x]) + int(a[2*x+1]) + int(b[2*x]) + int(b[2*x+1]) + 2) / 4)
		}
	}
	return out
}

// gaussBlur blurs img in place by three box blurs each way, which come
// within a few percent of a Gaussian of sigma.
func gaussBlur(img *image.Gray, sigma float64) {
	// Box widths for three passes (Kovesi's method).
	wIdeal := math.Sqrt(12*sigma*sigma/3 + 1)
	wl := int(wIdeal)
	if wl%2 == 0 {
		wl--
	}
	wu := wl + 2
	m := int(math.Round((12*sigma*sigma - 3*float64(wl*wl) - 12*float64(wl) - 9) / (-4*float64(wl) - 4)))
	w, h := img.Rect.Dx(), img.Rect.Dy()
	buf := make([]uint8, max(w, h))
	for pass := 0; pass < 3; pass++ {
		rad := (wl - 1) / 2
		if pass >= m {
			rad = (wu - 1) / 2
		}
		if rad < 1 {
			continue
		}
		for y := 0; y < h; y++ {
			boxLine(img.Pix[y*img.Stride:y*img.Stride+w], 1, w, rad, buf)
		}
		for x := 0; x < w; x++ {
			boxLine(img.Pix[x:], img.Stride, h, rad, buf)
		}
	}
}

// boxLine averages n values spaced stride apart over a window of 2rad+1,
// the edges repeated.
func boxLine(p []uint8, stride, n, rad int, buf []uint8) {
	for i := 0; i < n; i++ {
		buf[i] = p[i*stride]
	}
	at := func(i int) int { return int(buf[min(max(i, 0), n-1)]) }
	win := 2*rad + 1
	sum := 0
	for i := -rad; i <= rad; i++ {
		sum += at(i)
	}
	for i := 0; i < n; i++ {
		p[i*stride] = uint8((sum + win/2) / win)
		sum += at(i+rad+1) - at(i-rad)
	}
}

// addNoise adds Gaussian noise of sigma gray levels.
func addNoise(img *image.Gray, sigma float64, r *rand.Rand) {
	var table [4096]int16
	for i := range table {
		table[i] = int16(math.Round(r.NormFloat64() * sigma))
	}
	state := r.Uint64() | 1
	for i, v := range img.Pix {
		state ^= state << 13
		state ^= state >> 7
		state ^= state << 17
		n := int(v) + int(table[state&4095])
		img.Pix[i] = uint8(min(255, max(0, n)))
	}
}

// matrix is a 3×3 homography acting on (x, y, 1).
type matrix [9]float64

func (m matrix) apply(p pt) pt {
	w := m[6]*p.X + m[7]*p.Y + m[8]
	return pt{(m[0]*p.X + m[1]*p.Y + m[2]) / w, (m[3]*p.X + m[4]*p.Y + m[5]) / w}
}

func (m matrix) inverse() matrix {
	a, b, c, d, e, f, g, h, i := m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8]
	A, B, C := e*i-f*h, -(d*i - f*g), d*h-e*g
	det := a*A + b*B + c*C
	return matrix{
		A / det, -(b*i - c*h) / det, (b*f - c*e) / det,
		B / det, (a*i - c*g) / det, -(a*f - c*d) / det,
		C / det, -(a*h - b*g) / det, (a*e - b*d) / det,
	}
}

// homography maps the four points from onto to.
func homography(from, to [4]pt) matrix {
	var a [8][9]float64
	for k := 0; k < 4; k++ {
		x, y, u, v := from[k].X, from[k].Y, to[k].X, to[k].Y
		a[2*k] = [9]float64{x, y, 1, 0, 0, 0, -u * x, -u * y, u}
		a[2*k+1] = [9]float64{0, 0, 0, x, y, 1, -v * x, -v * y, v}
	}
	for c := 0; c < 8; c++ {
		p := c
		for r := c + 1; r < 8; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[p][c]) {
				p = r
			}
		}
		a[c], a[p] = a[p], a[c]
		for r := 0; r < 8; r++ {
			if r != c {
				f := a[r][c] / a[c][c]
				for k := c; k < 9; k++ {
					a[r][k] -= f * a[c][k]
				}
			}
		}
	}
	var m matrix
	for i := 0; i < 8; i++ {
		m[i] = a[i][8] / a[i][i]
	}
	m[8] = 1
	return m
}
