package paper

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image"
	"image/png"
	"runtime"
	"strings"
	"testing"
)

func TestPDFImages(t *testing.T) {
	u := uprightPage(pageW, pageH)
	iccRGB := "<< /N 3 >>" // the profile's stream is not needed to read /N
	for _, tc := range []struct {
		name string
		img  pdfImage
		tol  int
	}{
		{"gray JPEG", jpegImage(t, u), 12},
		{"colour JPEG", jpegImage(t, rgbOf(u)), 12},
		{"Flate gray with PNG predictors", flateGrayImage(u), 0},
		{"Flate RGB, ICC-based", flateRGBImage(u, iccRGB), 1},
		{"Flate then DCT", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "+
				"/Filter [/FlateDecode /DCTDecode]", pageW, pageH),
			data: zlibBytes(encodeJPEG(t, u, 90)),
		}, 12},
		{"ASCIIHex gray", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /CalGray /BitsPerComponent 8 /Filter /AHx", pageW, pageH),
			data: []byte(fmt.Sprintf("%x>", u.Pix)),
		}, 0},
		{"16-bit gray", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 16 /Filter /FlateDecode", pageW, pageH),
			data: zlibBytes(widen(u.Pix)),
		}, 0},
		{"2-bit gray", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 2", pageW, pageH),
			data: twoBit(u),
		}, 6},
		{"CMYK", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceCMYK /BitsPerComponent 8 /Filter /FlateDecode", pageW, pageH),
			data: zlibBytes(blackInk(u.Pix)),
		}, 0},
		{"negative gray with /Decode [1 0]", pdfImage{
			dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Decode [1 0]", pageW, pageH),
			data: negative(u.Pix),
		}, 0},
	} {
		for _, opts := range []pdfOptions{{}, {xrefStream: true, flateText: true}} {
			t.Run(fmt.Sprintf("%s xref stream=%v", tc.name, opts.xrefStream), func(t *testing.T) {
				file := buildPDF([]pdfPageSpec{{images: []pdfImage{tc.img}, content: fullPage}}, opts)
				pages, err := collect(t, file, Limits{})
				if err != nil {
					t.Fatal(err)
				}
				if len(pages) != 1 {
					t.Fatalf("%d pages", len(pages))
				}
				checkUpright(t, pages[0], pageW, pageH, tc.tol)
			})
		}
	}
}

func negative(b []byte) []byte {
	out := make([]byte, len(b))
	for i, v := range b {
		out[i] = ^v
	}
	return out
}

// bilevelPage is a page that survives thresholding: markers black or white.
func bilevelPage() *image.Gray {
	g := uprightPage(pageW, pageH)
	for i, v := range g.Pix {
		g.Pix[i] = 0
		if v >= 128 {
			g.Pix[i] = 255
		}
	}
	return g
}

func checkBilevel(t *testing.T, got, want *image.Gray) {
	t.Helper()
	if got.Rect != want.Rect {
		t.Fatalf("bounds %v, want %v", got.Rect, want.Rect)
	}
	for y := 0; y < want.Rect.Dy(); y++ {
		for x := 0; x < want.Rect.Dx(); x++ {
			if got.GrayAt(x, y) != want.GrayAt(x, y) {
				t.Fatalf("pixel %d,%d is %d, want %d", x, y, got.GrayAt(x, y).Y, want.GrayAt(x, y).Y)
			}
		}
	}
}

func TestPDFBilevel(t *testing.T) {
	want := bilevelPage()
	bits := bilevel(want)
	dims := fmt.Sprintf("/Width %d /Height %d ", pageW, pageH)
	for _, tc := range []struct {
		name string
		img  pdfImage
	}{
		{"Flate 1-bit gray", pdfImage{dims + "/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /FlateDecode", zlibBytes(bits)}},
		{"image mask", pdfImage{dims + "/ImageMask true /Decode [1 0] /Filter /FlateDecode", zlibBytes(negative(bits))}},
		{"indexed 1-bit", pdfImage{dims + "/ColorSpace [/Indexed /DeviceRGB 1 <FFFFFF000000>] /BitsPerComponent 1", negative(bits)}},
		{"RunLength 1-bit", pdfImage{dims + "/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /RunLengthDecode", runLength(bits)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, err := collect(t, buildPDF([]pdfPageSpec{{images: []pdfImage{tc.img}, content: fullPage}}, pdfOptions{}), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkBilevel(t, pages[0], want)
		})
	}
}

// runLength writes PDF RunLengthDecode data: literal runs of up to 128.
func runLength(b []byte) []byte {
	var out []byte
	for len(b) > 0 {
		n := min(len(b), 128)
		out = append(out, byte(n-1))
		out = append(out, b[:n]...)
		b = b[n:]
	}
	return append(out, 128)
}

func TestPDFCCITT(t *testing.T) {
	f, err := png.Decode(bytes.NewReader(readTestdata(t, "bw-gopher.png")))
	if err != nil {
		t.Fatal(err)
	}
	want := toGray(f)
	w, h := want.Rect.Dx(), want.Rect.Dy()
	g4, g3 := readTestdata(t, "bw-gopher.ccitt_group4"), readTestdata(t, "bw-gopher.ccitt_group3")
	for _, tc := range []struct {
		name   string
		parms  string
		data   []byte
		invert bool
	}{
		{"Group 4", "/K -1", g4, false},
		{"Group 4, BlackIs1", "/K -1 /BlackIs1 true", g4, true},
		{"Group 3 with EOLs", "/K 0 /EndOfLine true", g3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := pdfImage{
				dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode "+
					"/DecodeParms << %s /Columns %d /Rows %d >>", w, h, tc.parms, w, h),
				data: tc.data,
			}
			pages, err := collect(t, buildPDF([]pdfPageSpec{{images: []pdfImage{img}, content: fullPage}}, pdfOptions{xrefStream: true}), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			exp := want
			if tc.invert {
				exp = copyGray(want)
				invertGray(exp)
			}
			checkBilevel(t, pages[0], exp)
		})
	}
	img := pdfImage{
		dict: fmt.Sprintf("/Width %d /Height %d /BitsPerComponent 1 /ColorSpace /DeviceGray /Filter /CCITTFaxDecode /DecodeParms << /K 0 /Columns %d >>", w, h, w),
		data: g3,
	}
	_, err = collect(t, buildPDF([]pdfPageSpec{{images: []pdfImage{img}, content: fullPage}}, pdfOptions{}), Limits{})
	wantFormatError(t, err, "PDF", 0, "CCITT Group 4")
}

func TestPDFOrientation(t *testing.T) {
	u := uprightPage(pageW, pageH)
	turned := stored(u, 6) // what a page shown turned 90° clockwise stores
	for _, tc := range []struct {
		name    string
		img     *image.Gray
		content string
		extra   string
	}{
		{"Rotate 90", turned, "q 842 0 0 595 0 0 cm /Im0 Do Q", "/Rotate 90"},
		{"Rotate -270", turned, "q 842 0 0 595 0 0 cm /Im0 Do Q", "/Rotate -270"},
		{"Rotate 180", stored(u, 3), fullPage, "/Rotate 180"},
		// The image turned by the matrix it is drawn with instead.
		{"matrix turns 90", turned, "q 0 -842 595 0 0 842 cm /Im0 Do Q", ""},
		{"matrix mirrors", stored(u, 2), "q -595 0 0 842 595 0 cm /Im0 Do Q", ""},
		{"matrix flips, inside a form", stored(u, 4), "q 1 0 0 -1 0 842 cm /Fm0 Do Q", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := pdfPageSpec{images: []pdfImage{flateGrayImage(tc.img)}, content: tc.content, extra: tc.extra}
			file := buildPDF([]pdfPageSpec{spec}, pdfOptions{})
			if strings.Contains(tc.content, "/Fm0") {
				file = withForm(file)
			}
			pages, err := collect(t, file, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkUpright(t, pages[0], pageW, pageH, 0)
		})
	}
}

// withForm rewrites the one-page file so that the page draws form /Fm0,
// which draws /Im0 over the page; the file is then read through the broken
// cross-reference, which exercises the rebuild too.
func withForm(file []byte) []byte {
	form := "99 0 obj\n<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Length 30 >>\nstream\nq 595 0 0 842 0 0 cm /Im0 Do Q\nendstream\nendobj\n"
	s := strings.Replace(string(file), "/XObject << /Im0", "/XObject << /Fm0 99 0 R /Im0", 1)
	i := strings.Index(s, "xref\n")
	return []byte(s[:i] + form + s[i:])
}

func TestPDFPages(t *testing.T) {
	u := uprightPage(pageW, pageH)
	var specs []pdfPageSpec
	for i := 0; i < 3; i++ {
		specs = append(specs, pdfPageSpec{images: []pdfImage{jpegImage(t, u)}, content: fullPage})
	}
	for _, opts := range []pdfOptions{{}, {xrefStream: true}} {
		file := buildPDF(specs, opts)
		pages, err := collect(t, file, Limits{})
		if err != nil || len(pages) != 3 {
			t.Fatalf("xref stream=%v: %d pages, %v", opts.xrefStream, len(pages), err)
		}
		_, err = collect(t, file, Limits{MaxPages: 2})
		wantFormatError(t, err, "PDF", -1, "more than 2 pages")
		_, err = collect(t, file, Limits{MaxPixels: pageW * pageH / 2})
		wantFormatError(t, err, "PDF", 0, fmt.Sprintf("the page is %d×%d pixels", pageW, pageH))
	}
}

func TestPDFPicksTheScan(t *testing.T) {
	u := uprightPage(pageW, pageH)
	logo := flateGrayImage(image.NewGray(image.Rect(0, 0, 20, 20)))
	// The scan is the largest image, whatever order the page lists them in.
	spec := pdfPageSpec{images: []pdfImage{logo, flateGrayImage(u)},
		content: "q 50 0 0 50 10 780 cm /Im0 Do Q q 595 0 0 842 0 0 cm /Im1 Do Q BT /F1 12 Tf (a (nested\\) string) Tj ET"}
	pages, err := collect(t, buildPDF([]pdfPageSpec{spec}, pdfOptions{flateText: true}), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, pages[0], pageW, pageH, 0)

	// An inline image before the scan is stepped over.
	spec.content = "q 10 0 0 10 0 0 cm BI /W 2 /H 2 /CS /G /BPC 8 ID \x00EI\xff\x00 EI Q " + fullPage
	spec.images = []pdfImage{flateGrayImage(u)}
	if _, err := collect(t, buildPDF([]pdfPageSpec{spec}, pdfOptions{}), Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestPDFNoScan(t *testing.T) {
	vector := "0.5 w 50 50 m 545 50 l S 50 700 495 40 re S BT /F1 14 Tf 60 760 Td (Phieu khao sat) Tj ET"
	logo := flateGrayImage(image.NewGray(image.Rect(0, 0, 200, 200)))
	for _, tc := range []struct {
		name string
		spec pdfPageSpec
	}{
		{"the form itself, vector only", pdfPageSpec{content: vector}},
		{"the form with a small logo", pdfPageSpec{images: []pdfImage{logo}, content: vector + " q 60 0 0 60 40 770 cm /Im0 Do Q"}},
		{"an image listed but never drawn", pdfPageSpec{images: []pdfImage{logo}, content: vector}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := buildPDF([]pdfPageSpec{tc.spec, tc.spec}, pdfOptions{flateText: true})
			_, err := collect(t, file, Limits{})
			wantFormatError(t, err, "PDF", 0, "this page has no scanned image: print the form, fill it in and scan it")
		})
	}
}

func TestPDFRefusals(t *testing.T) {
	dims := fmt.Sprintf("/Width %d /Height %d /BitsPerComponent 8 ", pageW, pageH)
	for _, tc := range []struct {
		name  string
		img   pdfImage
		opts  pdfOptions
		page  int
		words string
	}{
		{"JBIG2", pdfImage{dims + "/ColorSpace /DeviceGray /Filter /JBIG2Decode", []byte("x")}, pdfOptions{}, 0,
			"JBIG2 compression (common on black-and-white scanners) cannot be read: set the scanner to grayscale or colour JPEG"},
		{"JPEG 2000", pdfImage{dims + "/Filter /JPXDecode", []byte("x")}, pdfOptions{}, 0, "JPEG 2000"},
		{"Lab", pdfImage{dims + "/ColorSpace [/Lab << /WhitePoint [1 1 1] >>]", make([]byte, 3*pageW*pageH)}, pdfOptions{}, 0, "Lab colour space"},
		{"encrypted", pdfImage{dims + "/ColorSpace /DeviceGray", make([]byte, pageW*pageH)},
			pdfOptions{trailer: "/Encrypt << /Filter /Standard /V 2 >>"}, -1, "password-protected"},
		{"encrypted, xref stream", pdfImage{dims + "/ColorSpace /DeviceGray", make([]byte, pageW*pageH)},
			pdfOptions{xrefStream: true, trailer: "/Encrypt << /Filter /Standard /V 2 >>"}, -1, "password-protected"},
		{"truncated samples", pdfImage{dims + "/ColorSpace /DeviceGray", make([]byte, pageW*pageH/2)}, pdfOptions{}, 0, "damaged"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := buildPDF([]pdfPageSpec{{images: []pdfImage{tc.img}, content: fullPage}}, tc.opts)
			_, err := collect(t, file, Limits{})
			wantFormatError(t, err, "PDF", tc.page, tc.words)
		})
	}
}

func TestPDFFlateBomb(t *testing.T) {
	// 48 MB of zeros behind a 100×100 page: only the page's 10 kB is read.
	huge := zlibZeros(48 << 20)
	img := pdfImage{dict: "/Width 100 /Height 100 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode", data: huge}
	file := buildPDF([]pdfPageSpec{{images: []pdfImage{img}, content: fullPage}}, pdfOptions{})
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	pages, err := collect(t, file, Limits{})
	runtime.ReadMemStats(&after)
	if err != nil || len(pages) != 1 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4<<20 {
		t.Errorf("allocated %d bytes for a 10 kB page", grew)
	}

	// The same bomb as a content stream is cut off at the content limit.
	spec := pdfPageSpec{images: []pdfImage{flateGrayImage(uprightPage(pageW, pageH))}, content: fullPage}
	file = buildPDF([]pdfPageSpec{spec}, pdfOptions{})
	file = bytes.Replace(file, []byte("/Contents 4 0 R"), []byte("/Contents [4 0 R 99 0 R]"), 1)
	i := bytes.Index(file, []byte("xref\n"))
	bomb := append([]byte(fmt.Sprintf("99 0 obj\n<< /Filter /FlateDecode /Length %d >>\nstream\n", len(huge))), huge...)
	bomb = append(bomb, "\nendstream\nendobj\n"...)
	file = append(file[:i:i], append(bomb, file[i:]...)...)
	runtime.GC()
	runtime.ReadMemStats(&before)
	pages, err = collect(t, file, Limits{})
	runtime.ReadMemStats(&after)
	if err != nil || len(pages) != 1 {
		t.Fatalf("content bomb: %d pages, %v", len(pages), err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 4*maxContentBytes+4<<20 {
		t.Errorf("allocated %d bytes for a content stream", grew)
	}
}

func TestPDFDamagedCrossReference(t *testing.T) {
	u := uprightPage(pageW, pageH)
	good := buildPDF([]pdfPageSpec{
		{images: []pdfImage{flateGrayImage(u)}, content: fullPage},
		{images: []pdfImage{jpegImage(t, u)}, content: fullPage, extra: "/Rotate 0"},
	}, pdfOptions{})
	for _, tc := range []struct {
		name string
		edit func(string) string
	}{
		{"offsets shifted", func(s string) string { return "garbage before the header\n" + s }},
		{"no startxref", func(s string) string { return strings.Replace(s, "startxref", "startxrfe", 1) }},
		{"table overwritten", func(s string) string {
			i := strings.Index(s, "xref\n0 ")
			return s[:i] + strings.Repeat("x", len(s)-i)
		}},
		{"wrong /Length", func(s string) string { return strings.Replace(s, "/Length ", "/Length 1", -1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pages, err := collect(t, []byte(tc.edit(string(good))), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(pages) != 2 {
				t.Fatalf("%d pages", len(pages))
			}
			checkUpright(t, pages[0], pageW, pageH, 0)
			checkUpright(t, pages[1], pageW, pageH, 12)
		})
	}
}

func TestPDFInheritedResourcesAndCycles(t *testing.T) {
	u := uprightPage(pageW, pageH)
	file := buildPDF([]pdfPageSpec{{images: []pdfImage{flateGrayImage(u)}, content: fullPage}}, pdfOptions{})
	s := string(file)
	// Move the page's resources up to its parent, and make the parent list
	// itself as a kid too.
	res := "/Resources << /XObject << /Im0 5 0 R >> >>"
	s = strings.Replace(s, res, strings.Repeat(" ", len(res)), 1)
	s = strings.Replace(s, "/Kids [3 0 R] /Count 1", "/Kids [3 0 R 2 0 R] /Count 1 "+res, 1)
	pages, err := collect(t, []byte(s), Limits{})
	if err != nil || len(pages) != 1 {
		t.Fatalf("%d pages, %v", len(pages), err)
	}
	checkUpright(t, pages[0], pageW, pageH, 0)
}

// zlibZeros compresses n zeros quickly: a bomb for the tests.
func zlibZeros(n int) []byte {
	var z bytes.Buffer
	w, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	w.Write(make([]byte, n))
	w.Close()
	return z.Bytes()
}

func TestPDFContentPastTheLimit(t *testing.T) {
	// Three content streams, the first filling the page's content limit:
	// the rest are not read, and the image drawn first is still found.
	u := uprightPage(pageW, pageH)
	filler := fullPage + strings.Repeat(" ", maxContentBytes-len(fullPage))
	file := buildPDF([]pdfPageSpec{{images: []pdfImage{flateGrayImage(u)}, content: filler}}, pdfOptions{flateText: true})
	file = bytes.Replace(file, []byte("/Contents 4 0 R"), []byte("/Contents [4 0 R 4 0 R 4 0 R]"), 1)
	pages, err := collect(t, file, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	checkUpright(t, pages[0], pageW, pageH, 0)
}

// widen makes 16-bit samples whose high byte is the gray level.
func widen(b []byte) []byte {
	out := make([]byte, 0, 2*len(b))
	for _, v := range b {
		out = append(out, v, 0x55)
	}
	return out
}

// blackInk paints gray levels with black ink alone.
func blackInk(b []byte) []byte {
	out := make([]byte, 0, 4*len(b))
	for _, v := range b {
		out = append(out, 0, 0, 0, 255-v)
	}
	return out
}

// twoBit quantises g to four levels, four pixels to a byte.
func twoBit(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	rowLen := (2*w + 7) / 8
	out := make([]byte, rowLen*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			q := (int(g.Pix[y*g.Stride+x])*3 + 127) / 255
			out[y*rowLen+x/4] |= byte(q) << (6 - 2*(x%4))
		}
	}
	return out
}

func TestPDFWideRows(t *testing.T) {
	// Rows longer than the chunk they are read in, in RGB and 1-bit.
	const w, h = 9001, 3
	g := image.NewGray(image.Rect(0, 0, w, h))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7 % 251)
	}
	bw := image.NewGray(g.Rect)
	for i := range bw.Pix {
		if i%3 == 0 {
			bw.Pix[i] = 255
		}
	}
	for _, tc := range []struct {
		name string
		img  pdfImage
		want *image.Gray
	}{
		{"RGB", flateRGBImage(g, "<< /N 3 >>"), g},
		{"1-bit", pdfImage{fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1", w, h), bilevel(bw)}, bw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			file := buildPDF([]pdfPageSpec{{images: []pdfImage{tc.img}, content: "q 595 0 0 1 0 400 cm /Im0 Do Q"}}, pdfOptions{})
			file = bytes.Replace(file, []byte("/MediaBox [0 0 595 842]"), []byte("/MediaBox [0 0 595 1]   "), 1)
			pages, err := collect(t, file, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkBilevel(t, pages[0], tc.want)
		})
	}
}
