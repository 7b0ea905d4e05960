package paper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/png"
	"testing"

	"golang.org/x/image/tiff"
)

// fuzzSeeds are small valid files of every kind Pages reads.
func fuzzSeeds(t testing.TB) [][]byte {
	u := uprightPage(16, 12)
	var pngFile, tiffFile bytes.Buffer
	png.Encode(&pngFile, rgbOf(u))
	tiff.Encode(&tiffFile, u, &tiff.Options{Compression: tiff.Deflate})
	page := func(img pdfImage) []pdfPageSpec {
		return []pdfPageSpec{{images: []pdfImage{img}, content: fullPage, extra: "/Rotate 90"}}
	}
	gopher := pdfImage{
		dict: "/Width 153 /Height 55 /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode " +
			"/DecodeParms << /K -1 /Columns 153 /Rows 55 >>",
		data: readTestdata(t, "bw-gopher.ccitt_group4"),
	}
	bits := pdfImage{
		dict: "/Width 16 /Height 12 /ImageMask true /Filter [/ASCIIHexDecode /FlateDecode]",
		data: []byte(fmt.Sprintf("%x>", zlibBytes(bilevel(u)))),
	}
	return [][]byte{
		withEXIF(encodeJPEG(t, stored(u, 6), 75), 6, binary.BigEndian),
		withEXIF(encodeJPEG(t, rgbOf(stored(u, 7)), 75), 7, binary.LittleEndian),
		pngFile.Bytes(),
		tiffFile.Bytes(),
		writeTIFF(binary.BigEndian, []tiffPage{{img: u}, {img: stored(u, 8), orientation: 8, deflate: zlibBytes(stored(u, 8).Pix)}}),
		buildPDF(page(jpegImage(t, u)), pdfOptions{}),
		buildPDF(page(flateGrayImage(u)), pdfOptions{xrefStream: true, flateText: true}),
		buildPDF(page(flateRGBImage(u, "<< /N 3 >>")), pdfOptions{}),
		buildPDF(page(gopher), pdfOptions{}),
		buildPDF(page(bits), pdfOptions{xrefStream: true}),
		withForm(buildPDF([]pdfPageSpec{{images: []pdfImage{flateGrayImage(u)}, content: "q 1 0 0 -1 0 842 cm /Fm0 Do Q"}}, pdfOptions{})),
	}
}

// FuzzPages checks that no input makes Pages panic, return anything but a
// FormatError, or hand over a page outside the limits.
func FuzzPages(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	recoverPanics = false
	f.Cleanup(func() { recoverPanics = true })
	lim := Limits{MaxPages: 4, MaxPixels: 1 << 20}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := 0
		err := Pages(data, "fuzz", lim, func(p Page) error {
			g := p.Gray
			if p.Index != n || g == nil || g.Rect.Min != (image.Point{}) {
				t.Fatalf("page %d: index %d, image %v", n, p.Index, g)
			}
			w, h := g.Rect.Dx(), g.Rect.Dy()
			if w*h > lim.MaxPixels || w*h > 0 && len(g.Pix) < (h-1)*g.Stride+w {
				t.Fatalf("page %d is %dx%d with %d bytes", n, w, h, len(g.Pix))
			}
			n++
			return nil
		})
		var fe *FormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a FormatError", err)
		}
		if n > lim.MaxPages {
			t.Fatalf("%d pages", n)
		}
	})
}

// FuzzEXIF feeds the orientation readers directly, far faster than through
// JPEG decoding.
func FuzzEXIF(f *testing.F) {
	u := uprightPage(8, 8)
	f.Add(withEXIF(encodeJPEG(f, u, 50), 5, binary.BigEndian))
	f.Add(withEXIF(encodeJPEG(f, u, 50), 8, binary.LittleEndian))
	f.Fuzz(func(t *testing.T, data []byte) {
		if o := jpegOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if o := exifOrientation(data); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
		if td, off, ok := parseTIFFHeader(data); ok {
			for range 4 {
				entries, next, ok := td.ifd(off)
				if !ok {
					break
				}
				for _, e := range entries {
					td.ints(e)
				}
				off = next
			}
		}
	})
}
