package paper

import (
	"image"
	"image/color"
	"image/draw"
)

// toGray turns a decoded image into 8-bit gray. Scans are big, so the common
// types get a loop over Pix; JPEG's luma plane is taken as it is.
func toGray(img image.Image) *image.Gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.Gray:
		return atOrigin(m)
	case *image.YCbCr:
		return atOrigin(&image.Gray{Pix: m.Y, Stride: m.YStride, Rect: m.Rect})
	}
	dst := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		d := dst.Pix[y*dst.Stride : y*dst.Stride+w]
		switch m := img.(type) {
		case *image.NRGBA:
			nrgbaRow(d, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], 1)
		case *image.NRGBA64:
			nrgbaRow(d, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], 2)
		case *image.RGBA:
			rgbaRow(d, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], 1)
		case *image.RGBA64:
			rgbaRow(d, m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):], 2)
		case *image.Gray16:
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range d {
				d[x] = s[2*x]
			}
		case *image.CMYK:
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			s = s[:4*w]
			for x := range d {
				p := s[4*x : 4*x+4 : 4*x+4]
				d[x] = cmykGray(p[0], p[1], p[2], p[3])
			}
		case *image.Paletted:
			lut := paletteGray(m.Palette)
			s := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			s = s[:w]
			for x, c := range s {
				d[x] = lut[c]
			}
		default:
			return slowGray(img)
		}
	}
	return dst
}

// atOrigin re-slices g so that its bounds start at (0, 0), which the rest of
// the package (and the mark reader) may assume.
func atOrigin(g *image.Gray) *image.Gray {
	r := g.Rect
	if r.Min == (image.Point{}) {
		return g
	}
	if r.Empty() {
		return image.NewGray(image.Rectangle{})
	}
	return &image.Gray{Pix: g.Pix[g.PixOffset(r.Min.X, r.Min.Y):], Stride: g.Stride,
		Rect: image.Rect(0, 0, r.Dx(), r.Dy())}
}

// luma weighs 8-bit RGB as color.GrayModel does.
func luma(r, g, b uint32) uint8 {
	return uint8((19595*r + 38470*g + 7471*b + 1<<15) >> 16)
}

// nrgbaRow converts straight-alpha pixels of size bytes per channel (taking
// the high byte), laid over white paper.
func nrgbaRow(d, s []byte, size int) {
	s = s[:4*size*len(d)]
	for x := range d {
		p := s[4*size*x : 4*size*x+4*size]
		y := uint32(luma(uint32(p[0]), uint32(p[size]), uint32(p[2*size])))
		if a := uint32(p[3*size]); a != 0xff {
			y = (y*a + 0xff*(0xff-a) + 0x7f) / 0xff
		}
		d[x] = uint8(y)
	}
}

// rgbaRow converts premultiplied pixels, laid over white paper.
func rgbaRow(d, s []byte, size int) {
	s = s[:4*size*len(d)]
	for x := range d {
		p := s[4*size*x : 4*size*x+4*size]
		y := uint32(luma(uint32(p[0]), uint32(p[size]), uint32(p[2*size]))) + 0xff - uint32(p[3*size])
		d[x] = uint8(min(y, 0xff))
	}
}

func cmykGray(c, m, y, k uint8) uint8 {
	w := 0xff - uint32(k)
	r := (0xff - uint32(c)) * w / 0xff
	g := (0xff - uint32(m)) * w / 0xff
	b := (0xff - uint32(y)) * w / 0xff
	return luma(r, g, b)
}

// paletteGray is the gray of each palette index; indices past the palette
// (which decoders normally reject) read as black.
func paletteGray(p color.Palette) *[256]uint8 {
	var lut [256]uint8
	for i := 0; i < len(p) && i < len(lut); i++ {
		lut[i] = color.GrayModel.Convert(overWhite(p[i])).(color.Gray).Y
	}
	return &lut
}

func overWhite(c color.Color) color.Color {
	r, g, b, a := c.RGBA()
	return color.RGBA64{R: uint16(r + 0xffff - a), G: uint16(g + 0xffff - a), B: uint16(b + 0xffff - a), A: 0xffff}
}

// slowGray handles the rare types through image/draw, over white paper.
func slowGray(img image.Image) *image.Gray {
	b := img.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx(), b.Dy()))
	for i := range dst.Pix {
		dst.Pix[i] = 0xff
	}
	draw.Draw(dst, dst.Rect, img, b.Min, draw.Over)
	return dst
}

// invertGray turns a negative into a positive in place.
func invertGray(g *image.Gray) {
	w := g.Rect.Dx()
	for y := 0; y < g.Rect.Dy(); y++ {
		row := g.Pix[y*g.Stride : y*g.Stride+w]
		for x, v := range row {
			row[x] = ^v
		}
	}
}

// axes says where a stored image's axes point once it is shown upright: a
// step right along a stored row moves (ux, uy) in the upright image, a step
// down a stored column moves (vx, vy). Each is a unit step along x or y, so
// the eight values are the eight flips and quarter turns.
type axes struct{ ux, uy, vx, vy int }

var upright = axes{1, 0, 0, 1}

// exifAxes is indexed by EXIF/TIFF Orientation (1–8), as the TIFF 6.0 spec
// words them: e.g. 6 = "the 0th row is the visual right-hand side, the 0th
// column the visual top", i.e. the stored image must turn 90° clockwise.
var exifAxes = [9]axes{
	0: upright,
	1: upright,
	2: {-1, 0, 0, 1},
	3: {-1, 0, 0, -1},
	4: {1, 0, 0, -1},
	5: {0, 1, 1, 0},
	6: {0, 1, -1, 0},
	7: {0, -1, -1, 0},
	8: {0, -1, 1, 0},
}

func orientationAxes(o int) axes {
	if o < 1 || o > 8 {
		return upright
	}
	return exifAxes[o]
}

// turnedClockwise is t followed by a quarter turn clockwise, as PDF's
// /Rotate shows a page: upright (x, y) goes to (-y, x) in y-down terms.
func (t axes) turnedClockwise() axes {
	return axes{-t.uy, t.ux, -t.vy, t.vx}
}

func orientGray(g *image.Gray, orientation int) *image.Gray {
	return transform(g, orientationAxes(orientation))
}

// transform copies g into its upright form. It walks the source in 64×64
// tiles so that quarter turns, which write down columns, stay in cache.
func transform(src *image.Gray, t axes) *image.Gray {
	if t == upright {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if t.ux == 0 {
		dw, dh = h, w
	}
	dst := image.NewGray(image.Rect(0, 0, dw, dh))
	if w == 0 || h == 0 {
		return dst
	}
	// Source (x, y) lands at X = ux*x + vx*y + ox, Y = uy*x + vy*y + oy.
	ox, oy := 0, 0
	if t.ux < 0 {
		ox += w - 1
	}
	if t.vx < 0 {
		ox += h - 1
	}
	if t.uy < 0 {
		oy += w - 1
	}
	if t.vy < 0 {
		oy += h - 1
	}
	step := t.ux + t.uy*dw
	const tile = 64
	for ty := 0; ty < h; ty += tile {
		ye := min(ty+tile, h)
		for tx := 0; tx < w; tx += tile {
			xe := min(tx+tile, w)
			for y := ty; y < ye; y++ {
				row := src.Pix[y*src.Stride+tx : y*src.Stride+xe]
				di := t.ux*tx + t.vx*y + ox + (t.uy*tx+t.vy*y+oy)*dw
				for _, p := range row {
					dst.Pix[di] = p
					di += step
				}
			}
		}
	}
	return dst
}
