package paper

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/jpeg"
	"os"
	"testing"
)

// Corner markers of the test page, as gray levels: each corner differs, so
// every flip and turn puts a different level in the top-left corner.
const (
	markTL = 0
	markTR = 80
	markBL = 170
	markBR = 250
)

// uprightPage is a gray page of w×h with a gradient and a square marker in
// each corner, as a reader should get it back.
func uprightPage(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	s := min(w, h) / 4
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := uint8(110 + 30*x/w)
			switch {
			case x < s && y < s:
				v = markTL
			case x >= w-s && y < s:
				v = markTR
			case x < s && y >= h-s:
				v = markBL
			case x >= w-s && y >= h-s:
				v = markBR
			}
			g.Pix[y*g.Stride+x] = v
		}
	}
	return g
}

// stored is how a camera stores page u when it writes orientation o, written
// out from the TIFF 6.0 wording of each value rather than from the package's
// tables: stored pixel (x, y) shows at upright (X, Y).
func stored(u *image.Gray, o int) *image.Gray {
	W, H := u.Rect.Dx(), u.Rect.Dy()
	w, h := W, H
	if o >= 5 {
		w, h = H, W
	}
	s := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var X, Y int
			switch o {
			case 1:
				X, Y = x, y
			case 2: // 0th row top, 0th column right
				X, Y = w-1-x, y
			case 3: // 0th row bottom, 0th column right
				X, Y = w-1-x, h-1-y
			case 4: // 0th row bottom, 0th column left
				X, Y = x, h-1-y
			case 5: // 0th row left, 0th column top
				X, Y = y, x
			case 6: // 0th row right, 0th column top
				X, Y = h-1-y, x
			case 7: // 0th row right, 0th column bottom
				X, Y = h-1-y, w-1-x
			case 8: // 0th row left, 0th column bottom
				X, Y = y, w-1-x
			}
			s.Pix[y*s.Stride+x] = u.Pix[Y*u.Stride+X]
		}
	}
	return s
}

// checkUpright compares the four corner markers and the size; tol allows for
// lossy compression.
func checkUpright(t *testing.T, g *image.Gray, w, h int, tol int) {
	t.Helper()
	if g == nil {
		t.Fatal("no image")
	}
	if g.Rect != image.Rect(0, 0, w, h) {
		t.Fatalf("bounds %v, want %dx%d", g.Rect, w, h)
	}
	s := min(w, h) / 4
	mean := func(x0, y0 int) int {
		sum, n := 0, 0
		for y := y0 + s/4; y < y0+s*3/4; y++ {
			for x := x0 + s/4; x < x0+s*3/4; x++ {
				sum += int(g.Pix[y*g.Stride+x])
				n++
			}
		}
		return sum / n
	}
	for _, c := range []struct {
		name string
		x, y int
		want int
	}{
		{"top-left", 0, 0, markTL}, {"top-right", w - s, 0, markTR},
		{"bottom-left", 0, h - s, markBL}, {"bottom-right", w - s, h - s, markBR},
	} {
		if got := mean(c.x, c.y); got < c.want-tol || got > c.want+tol {
			t.Errorf("%s corner is %d, want %d", c.name, got, c.want)
		}
	}
}

// rgbOf paints a gray image in colour (gray plus a tint that luma maps
// back to about the same level), so colour paths are exercised.
func rgbOf(g *image.Gray) *image.RGBA {
	m := image.NewRGBA(g.Rect)
	for i, v := range g.Pix {
		m.Pix[4*i+0] = v
		m.Pix[4*i+1] = v
		m.Pix[4*i+2] = v
		m.Pix[4*i+3] = 255
	}
	return m
}

func encodeJPEG(t testing.TB, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF inserts an APP1 EXIF segment holding Orientation o right after
// SOI, as cameras do; a JFIF APP0 is fine before or after it.
func withEXIF(jpg []byte, o int, bo binary.ByteOrder) []byte {
	var t bytes.Buffer
	if bo == binary.BigEndian {
		t.WriteString("MM\x00*")
	} else {
		t.WriteString("II*\x00")
	}
	put32 := func(v uint32) { binary.Write(&t, bo, v) }
	put16 := func(v uint16) { binary.Write(&t, bo, v) }
	put32(8)
	put16(2)
	// An unrelated entry first (Make, ASCII, offset to "Go\0\0"), then Orientation.
	put16(0x010f)
	put16(2)
	put32(4)
	put32(8 + 2 + 2*12 + 4)
	put16(0x0112)
	put16(3)
	put32(1)
	put16(uint16(o))
	put16(0)
	put32(0)
	t.WriteString("Go\x00\x00")
	seg := append([]byte("Exif\x00\x00"), t.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xff, 0xe1})
	binary.Write(&out, binary.BigEndian, uint16(len(seg)+2))
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

func zlibBytes(b []byte) []byte {
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(b)
	w.Close()
	return z.Bytes()
}

// tiffPage is one page for writeTIFF: 8-bit gray, one strip.
type tiffPage struct {
	img          *image.Gray
	orientation  int  // 0 = no tag
	thumbnail    bool // NewSubfileType 1
	deflate      []byte
	compression  uint16 // stated instead of what the strip holds, to test refusals
	rowsPerStrip uint32 // likewise

	// A strip already encoded (fax data), its bits per sample and its
	// PhotometricInterpretation; img then only gives the size.
	strip       []byte
	bps         uint16
	photometric uint16
}

// writeTIFF lays out a multi-page TIFF by hand (x/image/tiff writes one
// page): the header, then for each page its strip and its IFD, each IFD
// linking to the next.
func writeTIFF(bo binary.ByteOrder, pages []tiffPage) []byte {
	var b bytes.Buffer
	if bo == binary.BigEndian {
		b.WriteString("MM\x00*")
	} else {
		b.WriteString("II*\x00")
	}
	binary.Write(&b, bo, uint32(0)) // patched below
	linkAt := 4
	for _, p := range pages {
		w, h := p.img.Rect.Dx(), p.img.Rect.Dy()
		strip := p.img.Pix
		compression := uint16(1)
		if p.deflate != nil {
			strip, compression = p.deflate, 8
		}
		if p.compression != 0 {
			compression = p.compression
		}
		bps, photometric := uint16(8), uint16(1)
		if p.strip != nil {
			strip, bps, photometric = p.strip, p.bps, p.photometric
		}
		stripOff := b.Len()
		b.Write(strip)
		if b.Len()%2 == 1 {
			b.WriteByte(0)
		}
		ifdOff := b.Len()
		bo.PutUint32(b.Bytes()[linkAt:], uint32(ifdOff))
		type entry struct {
			tag, typ uint16
			val      uint32
		}
		var es []entry
		if p.thumbnail {
			es = append(es, entry{254, 4, 1})
		}
		es = append(es, entry{256, 4, uint32(w)}, entry{257, 4, uint32(h)}, entry{258, 3, uint32(bps)},
			entry{259, 3, uint32(compression)}, entry{262, 3, uint32(photometric)}, entry{273, 4, uint32(stripOff)})
		if p.orientation != 0 {
			es = append(es, entry{274, 3, uint32(p.orientation)})
		}
		rps := uint32(h)
		if p.rowsPerStrip != 0 {
			rps = p.rowsPerStrip
		}
		es = append(es, entry{277, 3, 1}, entry{278, 4, rps}, entry{279, 4, uint32(len(strip))})
		binary.Write(&b, bo, uint16(len(es)))
		for _, e := range es {
			binary.Write(&b, bo, e.tag)
			binary.Write(&b, bo, e.typ)
			binary.Write(&b, bo, uint32(1))
			if e.typ == 3 {
				binary.Write(&b, bo, uint16(e.val))
				binary.Write(&b, bo, uint16(0))
			} else {
				binary.Write(&b, bo, e.val)
			}
		}
		linkAt = b.Len()
		binary.Write(&b, bo, uint32(0))
	}
	return b.Bytes()
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collect decodes all pages of an upload.
func collect(t testing.TB, data []byte, lim Limits) ([]*image.Gray, error) {
	t.Helper()
	var out []*image.Gray
	err := Pages(data, "upload", lim, func(p Page) error {
		if p.Index != len(out) {
			t.Errorf("page index %d, want %d", p.Index, len(out))
		}
		out = append(out, p.Gray)
		return nil
	})
	return out, err
}
