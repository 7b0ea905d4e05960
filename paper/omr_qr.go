package paper

import (
	"image"
	"math"

	"github.com/makiuchi-d/gozxing"
	qrcode "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/sipasvn/gateway/qr"
)

// qrPPM is the resolution the QR's area is rectified at to be decoded:
// about 7 pixels a module for the printed 26 mm code of 29 modules.
const qrPPM = 8.0

// decodeQRArea reads the form code in the layout's QR area through h: it
// renders the area (and a millimetre around it) upright at qrPPM,
// stretches its contrast and pads it with a white quiet zone, then
// decodes it as a pure code (fast), or by finding its finder patterns.
func decodeQRArea(page *image.Gray, h *Homography, area Rect) (qr.FormCode, bool) {
	const margin, pad = 0.8, 4.0 // mm read around the code; mm of white added
	in := Rect{area.X - margin, area.Y - margin, area.W + 2*margin, area.H + 2*margin}
	crop := render(page, h, in, qrPPM*25.4)
	// Stretch: the paper's level to white, the modules' to black.
	var hist [256]int
	for _, v := range crop.Pix {
		hist[v]++
	}
	lo, hi := percentile(&hist, len(crop.Pix), 0.03), percentile(&hist, len(crop.Pix), 0.97)
	if hi-lo < 24 {
		return qr.FormCode{}, false
	}
	p := int(pad * qrPPM)
	w, ht := crop.Rect.Dx()+2*p, crop.Rect.Dy()+2*p
	buf := make([]uint8, w*ht)
	for i := range buf {
		buf[i] = 255
	}
	var lut [256]uint8
	for v := range lut {
		lut[v] = uint8(min(255, max(0, (v-lo)*255/(hi-lo))))
	}
	for y := 0; y < crop.Rect.Dy(); y++ {
		row := buf[(y+p)*w+p:]
		for x, v := range crop.Pix[y*crop.Stride : y*crop.Stride+crop.Rect.Dx()] {
			row[x] = lut[v]
		}
	}
	for _, pure := range []bool{true, false} {
		if c, ok := decodeQR(buf, w, ht, pure); ok {
			return c, true
		}
	}
	return qr.FormCode{}, false
}

// decodeQR decodes a gray image holding one form code.
func decodeQR(pix []uint8, w, h int, pure bool) (qr.FormCode, bool) {
	c, _, ok := decodeQRPoints(pix, w, h, pure)
	return c, ok
}

func decodeQRPoints(pix []uint8, w, h int, pure bool) (qr.FormCode, []gozxing.ResultPoint, bool) {
	src, err := gozxing.NewPlanarYUVLuminanceSource(pix, w, h, 0, 0, w, h, false)
	if err != nil {
		return qr.FormCode{}, nil, false
	}
	bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src))
	if err != nil {
		return qr.FormCode{}, nil, false
	}
	hints := map[gozxing.DecodeHintType]interface{}{}
	if pure {
		hints[gozxing.DecodeHintType_PURE_BARCODE] = true
	} else {
		hints[gozxing.DecodeHintType_TRY_HARDER] = true
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
	if err != nil {
		return qr.FormCode{}, nil, false
	}
	code, err := qr.ParseFormCode(res.GetText())
	if err != nil {
		return qr.FormCode{}, nil, false
	}
	return code, res.GetResultPoints(), true
}

// decodeQRPage looks for the form's code on the whole page, reduced to
// about 150 dpi for an A4 page: slow (a few hundred milliseconds), for when
// the corner marks mislead or the code is not where they put it. It
// returns the code and the centres of its three finder patterns (bottom
// left, top left, top right) in page pixels.
func decodeQRPage(page *image.Gray) (qr.FormCode, [][2]float64, bool) {
	b := page.Bounds()
	W, H := b.Dx(), b.Dy()
	f := max(1, int(math.Round(float64(max(W, H))/1750)))
	w, h := W/f, H/f
	pix := make([]uint8, w*h)
	src := page.Pix[page.PixOffset(b.Min.X, b.Min.Y):]
	n := f * f
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sum := 0
			for dy := 0; dy < f; dy++ {
				row := src[(y*f+dy)*page.Stride+x*f:]
				for dx := 0; dx < f; dx++ {
					sum += int(row[dx])
				}
			}
			pix[y*w+x] = uint8(sum / n)
		}
	}
	code, pts, ok := decodeQRPoints(pix, w, h, false)
	if !ok || len(pts) < 3 {
		return code, nil, ok
	}
	var out [][2]float64
	for _, p := range pts[:3] {
		out = append(out, [2]float64{(p.GetX() + 0.5) * float64(f), (p.GetY() + 0.5) * float64(f)})
	}
	return code, out, true
}

// finderCentres are the centres of a code's finder patterns in the
// layout, in the order gozxing reports them: bottom left, top left, top
// right. The code is drawn without a quiet zone over area; its finder
// patterns are 7 modules wide.
func finderCentres(area Rect, modules int) [][2]float64 {
	m := area.W / float64(modules)
	c := 3.5 * m
	return [][2]float64{
		{area.X + c, area.Y + area.H - c},
		{area.X + c, area.Y + c},
		{area.X + area.W - c, area.Y + c},
	}
}

// closestOrientation is the index of the candidate map that puts the
// layout's finder centres nearest those found on the page.
func closestOrientation(hs []Homography, layoutPts, pagePts [][2]float64) int {
	best, bestD := -1, math.Inf(1)
	for i := range hs {
		d := 0.0
		for k := range layoutPts {
			x, y := hs[i].Point(layoutPts[k][0], layoutPts[k][1])
			d += math.Hypot(x-pagePts[k][0], y-pagePts[k][1])
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best
}
