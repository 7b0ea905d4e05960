package paper

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"golang.org/x/image/tiff"
)

const pageW, pageH = 96, 64 // not square, so a wrong turn shows in the size

func TestJPEGOrientations(t *testing.T) {
	// 101×67 is no multiple of a JPEG block: the luma plane's stride is
	// wider than the page, which the turns must respect.
	for _, size := range []image.Point{{pageW, pageH}, {101, 67}} {
		u := uprightPage(size.X, size.Y)
		for o := 1; o <= 8; o++ {
			for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
				for _, colour := range []bool{false, true} {
					t.Run(fmt.Sprintf("%v orientation %d %v colour=%v", size, o, bo, colour), func(t *testing.T) {
						var img image.Image = stored(u, o)
						if colour {
							img = rgbOf(img.(*image.Gray))
						}
						pages, err := collect(t, withEXIF(encodeJPEG(t, img, 95), o, bo), Limits{})
						if err != nil {
							t.Fatal(err)
						}
						if len(pages) != 1 {
							t.Fatalf("%d pages", len(pages))
						}
						checkUpright(t, pages[0], size.X, size.Y, 12)
					})
				}
			}
		}
	}
}

func TestJPEGWithoutEXIFIsUpright(t *testing.T) {
	pages, err := collect(t, encodeJPEG(t, uprightPage(pageW, pageH), 95), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, pages[0], pageW, pageH, 12)
}

func TestPNG(t *testing.T) {
	u := uprightPage(pageW, pageH)
	nrgba := image.NewNRGBA(u.Rect)
	rgba64 := image.NewRGBA64(u.Rect)
	pal := image.NewPaletted(u.Rect, nil)
	for i := 0; i < 256; i++ {
		pal.Palette = append(pal.Palette, color.RGBA{uint8(i), uint8(i), uint8(i), 255})
	}
	for y := 0; y < pageH; y++ {
		for x := 0; x < pageW; x++ {
			v := u.GrayAt(x, y).Y
			nrgba.Set(x, y, color.NRGBA{v, v, v, 255})
			rgba64.Set(x, y, color.RGBA64{uint16(v) * 257, uint16(v) * 257, uint16(v) * 257, 0xffff})
			pal.SetColorIndex(x, y, v)
		}
	}
	for _, tc := range []struct {
		name string
		img  image.Image
	}{{"gray", u}, {"nrgba", nrgba}, {"rgba64", rgba64}, {"paletted", pal}} {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := png.Encode(&b, tc.img); err != nil {
				t.Fatal(err)
			}
			pages, err := collect(t, b.Bytes(), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkUpright(t, pages[0], pageW, pageH, 1)
		})
	}
}

func TestTIFFSinglePage(t *testing.T) {
	u := uprightPage(pageW, pageH)
	for _, c := range []tiff.CompressionType{tiff.Uncompressed, tiff.Deflate} {
		for _, img := range []image.Image{u, rgbOf(u)} {
			t.Run(fmt.Sprintf("compression %d %T", c, img), func(t *testing.T) {
				var b bytes.Buffer
				if err := tiff.Encode(&b, img, &tiff.Options{Compression: c}); err != nil {
					t.Fatal(err)
				}
				pages, err := collect(t, b.Bytes(), Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if len(pages) != 1 {
					t.Fatalf("%d pages", len(pages))
				}
				checkUpright(t, pages[0], pageW, pageH, 1)
			})
		}
	}
}

func TestTIFFMultiPage(t *testing.T) {
	u := uprightPage(pageW, pageH)
	for _, bo := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		t.Run(bo.String(), func(t *testing.T) {
			file := writeTIFF(bo, []tiffPage{
				{img: u},
				{img: stored(u, 6), orientation: 6},
				{img: image.NewGray(image.Rect(0, 0, 8, 8)), thumbnail: true},
				{img: stored(u, 3), orientation: 3, deflate: zlibBytes(stored(u, 3).Pix)},
				{img: stored(u, 5), orientation: 5},
			})
			pages, err := collect(t, file, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) != 4 {
				t.Fatalf("%d pages, want 4 (the thumbnail is not a page)", len(pages))
			}
			for i, p := range pages {
				t.Run(fmt.Sprint("page ", i), func(t *testing.T) { checkUpright(t, p, pageW, pageH, 0) })
			}
		})
	}
}

func TestTIFFLimits(t *testing.T) {
	u := uprightPage(pageW, pageH)
	three := writeTIFF(binary.LittleEndian, []tiffPage{{img: u}, {img: u}, {img: u}})
	_, err := collect(t, three, Limits{MaxPages: 2})
	wantFormatError(t, err, "TIFF", -1, "more than 2 pages")

	_, err = collect(t, three, Limits{MaxPixels: pageW*pageH - 1})
	wantFormatError(t, err, "TIFF", 0, fmt.Sprintf("the page is %d×%d pixels; scan at 300 dpi or less", pageW, pageH))

	// A strip that inflates far past the page is refused before decoding.
	bomb := writeTIFF(binary.LittleEndian, []tiffPage{{img: u, deflate: zlibZeros(8 << 20)}})
	_, err = collect(t, bomb, Limits{})
	wantFormatError(t, err, "TIFF", 0, "expands beyond")

	jpegInTIFF := writeTIFF(binary.LittleEndian, []tiffPage{{img: u}, {img: u, compression: 7}})
	_, err = collect(t, jpegInTIFF, Limits{})
	wantFormatError(t, err, "TIFF", 1, "JPEG compression inside TIFF")

	tall := image.NewGray(image.Rect(0, 0, 1, 70_000))
	strips := writeTIFF(binary.LittleEndian, []tiffPage{{img: tall, rowsPerStrip: 1}})
	_, err = collect(t, strips, Limits{})
	wantFormatError(t, err, "TIFF", 0, "laid out as no scanner writes them")

	// An IFD chain that loops back reads each page once.
	loop := writeTIFF(binary.BigEndian, []tiffPage{{img: u}, {img: u}})
	first := binary.BigEndian.Uint32(loop[4:])
	last := bytes.LastIndex(loop, []byte{0, 0, 0, 0})
	binary.BigEndian.PutUint32(loop[last:], first)
	pages, err := collect(t, loop, Limits{})
	if err != nil || len(pages) != 2 {
		t.Fatalf("looping IFDs: %d pages, %v", len(pages), err)
	}
}

func TestJPEGLimits(t *testing.T) {
	jpg := encodeJPEG(t, uprightPage(pageW, pageH), 90)
	_, err := collect(t, jpg, Limits{MaxPixels: 100})
	wantFormatError(t, err, "JPEG", -1, fmt.Sprintf("the page is %d×%d pixels", pageW, pageH))
	_, err = collect(t, jpg[:len(jpg)/2], Limits{})
	wantFormatError(t, err, "JPEG", -1, "damaged")
}

func wantFormatError(t *testing.T, err error, format string, page int, msg string) {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a FormatError", err, err)
	}
	if fe.Format != format || fe.Page != page || !strings.Contains(fe.Msg, msg) {
		t.Fatalf("FormatError{%q, %d, %q}, want {%q, %d, …%q…}", fe.Format, fe.Page, fe.Msg, format, page, msg)
	}
}

func TestSniffRefusesOtherFormats(t *testing.T) {
	for _, tc := range []struct {
		data   string
		format string
	}{
		{"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC photo"},
		{"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic", "HEIC photo"},
		{"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF photo"},
		{"GIF89a\x01\x00\x01\x00", "GIF"},
		{"RIFF\x24\x00\x00\x00WEBPVP8 ", "WebP"},
		{"BM" + strings.Repeat("\x00", 40), "BMP"},
		{"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml word/document.xml", "a Word document"},
		{"PK\x03\x04\x14\x00\x06\x00xl/workbook.xml", "an Excel workbook"},
		{"PK\x03\x04 something", "a ZIP archive"},
		{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "an old Office document (Word/Excel)"},
		{"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000 image"},
		{"%!PS-Adobe-3.0\n", "PostScript file"},
		{"<?xml version=\"1.0\"?><svg xmlns=", "an SVG drawing"},
		{"II+\x00\x08\x00\x00\x00", "BigTIFF"},
		{"<!DOCTYPE html><html>", "a web page"},
		{"hello, world", "unknown"},
		{"", "empty file"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			err := Pages([]byte(tc.data), "x.jpg", Limits{}, func(Page) error {
				t.Fatal("called fn")
				return nil
			})
			var fe *FormatError
			if !errors.As(err, &fe) || fe.Format != tc.format || fe.Page != -1 {
				t.Fatalf("error %v, want a FormatError for %q", err, tc.format)
			}
			if !strings.Contains(fe.Msg, "JPEG") || !strings.HasPrefix(err.Error(), "x.jpg: ") {
				t.Errorf("message %q does not say what to upload, or names no file", err.Error())
			}
		})
	}
}

func TestCallbackErrorStops(t *testing.T) {
	u := uprightPage(pageW, pageH)
	file := writeTIFF(binary.LittleEndian, []tiffPage{{img: u}, {img: u}, {img: u}})
	stop := errors.New("stop")
	calls := 0
	err := Pages(file, "f.tif", Limits{}, func(p Page) error {
		calls++
		if p.Index == 1 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 2 {
		t.Fatalf("err %v after %d calls, want the callback's error after 2", err, calls)
	}
}

func TestFormatErrorText(t *testing.T) {
	e := &FormatError{Format: "PDF", Page: 2, Msg: "this page has no scanned image", file: "lop3.pdf"}
	if got, want := e.Error(), "lop3.pdf: PDF page 3: this page has no scanned image"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
	e = &FormatError{Format: "GIF", Page: -1, Msg: "no"}
	if got, want := e.Error(), "GIF: no"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestTransformAllOrientations(t *testing.T) {
	// Bigger than a tile, odd sizes, so tile edges are crossed.
	u := uprightPage(131, 70)
	for o := 1; o <= 8; o++ {
		got := orientGray(stored(u, o), o)
		if !bytes.Equal(got.Pix, u.Pix) || got.Rect != u.Rect {
			t.Errorf("orientation %d: not upright", o)
		}
	}
}

func TestGrayFromOffsetImages(t *testing.T) {
	// Sub-images start away from (0, 0); the page must not.
	u := uprightPage(pageW, pageH)
	rgba := rgbOf(u)
	for _, img := range []image.Image{
		u.SubImage(image.Rect(10, 5, 50, 40)),
		rgba.SubImage(image.Rect(10, 5, 50, 40)),
	} {
		g := toGray(img)
		if g.Rect != image.Rect(0, 0, 40, 35) {
			t.Fatalf("%T: bounds %v", img, g.Rect)
		}
		for y := 0; y < 35; y++ {
			for x := 0; x < 40; x++ {
				if g.GrayAt(x, y) != u.GrayAt(x+10, y+5) {
					t.Fatalf("%T: pixel %d,%d differs", img, x, y)
				}
			}
		}
	}
}

func TestTIFFFax(t *testing.T) {
	f, err := png.Decode(bytes.NewReader(readTestdata(t, "bw-gopher.png")))
	if err != nil {
		t.Fatal(err)
	}
	want := toGray(f)
	negative := copyGray(want)
	invertGray(negative)
	size := image.NewGray(want.Rect)
	g4, g3 := readTestdata(t, "bw-gopher.ccitt_group4"), readTestdata(t, "bw-gopher.ccitt_group3")
	// As libtiff shows them: the data's white runs are 0 bits, coloured by
	// PhotometricInterpretation.
	file := writeTIFF(binary.LittleEndian, []tiffPage{
		{img: size, strip: g4, bps: 1, photometric: 0, compression: 4},
		{img: size, strip: g4, bps: 1, photometric: 1, compression: 4},
		{img: size, strip: g3, bps: 1, photometric: 0, compression: 3},
	})
	pages, err := collect(t, file, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	for i, exp := range []*image.Gray{want, negative, want} {
		t.Run(fmt.Sprint("page ", i), func(t *testing.T) { checkBilevel(t, pages[i], exp) })
	}
}
