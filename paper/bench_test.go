package paper

import (
	"encoding/binary"
	"image"
	"math/rand/v2"
	"testing"
)

// scanLike is an A4 page at 300 dpi as a phone or scanner would colour it:
// off-white paper with a slight gradient, ruled boxes and speckled marks.
func scanLike(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := 235 + 10*y/h + rng.IntN(6)
			if y%120 < 3 || (x%400 < 3 && y%120 < 60) {
				v = 40 + rng.IntN(30) // ruled lines and box edges
			}
			if (x/8+y/8)%97 == 0 {
				v = 60 // scattered pen marks
			}
			i := m.PixOffset(x, y)
			m.Pix[i], m.Pix[i+1], m.Pix[i+2], m.Pix[i+3] = uint8(v), uint8(v-3), uint8(v-8), 255
		}
	}
	return m
}

func BenchmarkPagesJPEG300dpi(b *testing.B) {
	data := encodeJPEG(b, scanLike(2480, 3508), 85)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		err := Pages(data, "a4.jpg", Limits{}, func(p Page) error {
			if p.Gray.Rect.Dx() != 2480 {
				b.Fatal("wrong size")
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPagesJPEG300dpiTurned(b *testing.B) {
	data := withEXIF(encodeJPEG(b, scanLike(3508, 2480), 85), 6, binary.LittleEndian)
	b.ReportAllocs()
	for b.Loop() {
		if err := Pages(data, "a4.jpg", Limits{}, func(Page) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
