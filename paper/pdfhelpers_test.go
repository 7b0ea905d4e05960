package paper

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"strings"
	"testing"
)

// A PDF written by hand, for tests: one page per entry, each drawing its
// images as its content says.

type pdfImage struct {
	dict string // image dictionary entries besides /Type, /Subtype, /Length
	data []byte
}

type pdfPageSpec struct {
	images  []pdfImage // named /Im0, /Im1, …
	content string     // the page's content stream
	extra   string     // more page dictionary entries, e.g. "/Rotate 90"
}

type pdfOptions struct {
	xrefStream bool // cross-reference stream, with non-stream objects in an object stream
	flateText  bool // compress content streams
	trailer    string
}

// fullPage draws image /Im0 over the whole of an A4 page.
const fullPage = "q 595 0 0 842 0 0 cm /Im0 Do Q"

func buildPDF(pages []pdfPageSpec, o pdfOptions) []byte {
	type obj struct {
		body   string // dictionary or other object
		stream []byte // nil for no stream
	}
	objs := []obj{{body: "<< /Type /Catalog /Pages 2 0 R >>"}, {}}
	var kids []string
	for _, p := range pages {
		pageNum := len(objs) + 1
		kids = append(kids, fmt.Sprintf("%d 0 R", pageNum))
		objs = append(objs, obj{})
		content := []byte(p.content)
		cdict := ""
		if o.flateText {
			content, cdict = zlibBytes(content), "/Filter /FlateDecode "
		}
		contentNum := len(objs) + 1
		objs = append(objs, obj{body: "<< " + cdict, stream: content})
		var xo []string
		for i, im := range p.images {
			xo = append(xo, fmt.Sprintf("/Im%d %d 0 R", i, len(objs)+1))
			objs = append(objs, obj{body: "<< /Type /XObject /Subtype /Image " + im.dict + " ", stream: im.data})
		}
		objs[pageNum-1].body = fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "+
			"/Resources << /XObject << %s >> >> /Contents %d 0 R %s >>", strings.Join(xo, " "), contentNum, p.extra)
	}
	objs[1].body = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))

	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, len(objs)+3)
	inStm := map[int]int{} // object number -> index in the object stream
	var stmHead, stmBody bytes.Buffer
	for i, ob := range objs {
		num := i + 1
		if o.xrefStream && ob.stream == nil {
			inStm[num] = len(inStm)
			fmt.Fprintf(&stmHead, "%d %d ", num, stmBody.Len())
			stmBody.WriteString(ob.body + "\n")
			continue
		}
		offsets[num] = b.Len()
		if ob.stream == nil {
			fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", num, ob.body)
			continue
		}
		fmt.Fprintf(&b, "%d 0 obj\n%s/Length %d >>\nstream\n", num, ob.body, len(ob.stream))
		b.Write(ob.stream)
		b.WriteString("\nendstream\nendobj\n")
	}
	size := len(objs) + 1
	if !o.xrefStream {
		xref := b.Len()
		fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", size)
		for num := 1; num < size; num++ {
			fmt.Fprintf(&b, "%010d 00000 n \n", offsets[num])
		}
		fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", size, o.trailer, xref)
		return b.Bytes()
	}
	stmNum := size
	stmData := zlibBytes(append(append(stmHead.Bytes(), '\n'), stmBody.Bytes()...))
	offsets[stmNum] = b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n",
		stmNum, len(inStm), stmHead.Len()+1, len(stmData))
	b.Write(stmData)
	b.WriteString("\nendstream\nendobj\n")
	xrefNum := stmNum + 1
	offsets[xrefNum] = b.Len()
	// Rows of type (1 byte), offset or stream (4), generation or index (2),
	// PNG-predicted with "Up" as writers do.
	var rows bytes.Buffer
	prev := make([]byte, 7)
	for num := 0; num <= xrefNum; num++ {
		row := make([]byte, 7)
		switch idx, ok := inStm[num]; {
		case num == 0:
			row[5], row[6] = 0xff, 0xff
		case ok:
			row[0] = 2
			binary.BigEndian.PutUint32(row[1:], uint32(stmNum))
			binary.BigEndian.PutUint16(row[5:], uint16(idx))
		default:
			row[0] = 1
			binary.BigEndian.PutUint32(row[1:], uint32(offsets[num]))
		}
		rows.WriteByte(2)
		for i := range row {
			rows.WriteByte(row[i] - prev[i])
		}
		prev = row
	}
	xdata := zlibBytes(rows.Bytes())
	fmt.Fprintf(&b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s /Filter /FlateDecode "+
		"/DecodeParms << /Predictor 12 /Columns 7 >> /Length %d >>\nstream\n", xrefNum, xrefNum+1, o.trailer, len(xdata))
	b.Write(xdata)
	fmt.Fprintf(&b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", offsets[xrefNum])
	return b.Bytes()
}

// jpegImage is a page's image as a DCT stream.
func jpegImage(t testing.TB, img image.Image) pdfImage {
	b := img.Bounds()
	cs := "/DeviceRGB"
	if _, ok := img.(*image.Gray); ok {
		cs = "/DeviceGray"
	}
	return pdfImage{
		dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace %s /BitsPerComponent 8 /Filter /DCTDecode", b.Dx(), b.Dy(), cs),
		data: encodeJPEG(t, img, 90),
	}
}

// pngPredicted applies PNG filter types to rows of rowLen bytes of bpp
// bytes per pixel, cycling through all five so each is undone in the test.
func pngPredicted(raw []byte, rowLen, bpp int) []byte {
	var out []byte
	prev := make([]byte, rowLen)
	for y := 0; y*rowLen < len(raw); y++ {
		row := raw[y*rowLen : (y+1)*rowLen]
		typ := byte(y % 5)
		out = append(out, typ)
		for i := range row {
			var a, b, c int
			if i >= bpp {
				a, c = int(row[i-bpp]), int(prev[i-bpp])
			}
			b = int(prev[i])
			var p int
			switch typ {
			case 1:
				p = a
			case 2:
				p = b
			case 3:
				p = (a + b) / 2
			case 4:
				p = int(paethRef(a, b, c))
			}
			out = append(out, row[i]-byte(p))
		}
		prev = row
	}
	return out
}

func paethRef(a, b, c int) byte {
	p := a + b - c
	da, db, dc := p-a, p-b, p-c
	if da < 0 {
		da = -da
	}
	if db < 0 {
		db = -db
	}
	if dc < 0 {
		dc = -dc
	}
	if da <= db && da <= dc {
		return byte(a)
	}
	if db <= dc {
		return byte(b)
	}
	return byte(c)
}

// flateGrayImage stores g as 8-bit gray, Flate with PNG predictors.
func flateGrayImage(g *image.Gray) pdfImage {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	return pdfImage{
		dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode "+
			"/DecodeParms << /Predictor 15 /Colors 1 /Columns %d >>", w, h, w),
		data: zlibBytes(pngPredicted(g.Pix, w, 1)),
	}
}

// flateRGBImage stores g as 8-bit RGB in an ICC-based colour space.
func flateRGBImage(g *image.Gray, iccRef string) pdfImage {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	raw := make([]byte, 0, 3*w*h)
	for _, v := range g.Pix {
		raw = append(raw, v, v, v)
	}
	return pdfImage{
		dict: fmt.Sprintf("/Width %d /Height %d /ColorSpace [/ICCBased %s] /BitsPerComponent 8 /Filter [/FlateDecode] "+
			"/DecodeParms [<< /Predictor 12 /Colors 3 /Columns %d >>]", w, h, iccRef, w),
		data: zlibBytes(pngPredicted(raw, 3*w, 3)),
	}
}

// bilevel thresholds g at 128 into 1-bit rows, 1 = white as in DeviceGray.
func bilevel(g *image.Gray) []byte {
	w, h := g.Rect.Dx(), g.Rect.Dy()
	rowLen := (w + 7) / 8
	out := make([]byte, rowLen*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if g.Pix[y*g.Stride+x] >= 128 {
				out[y*rowLen+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	return out
}
