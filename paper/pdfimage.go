package paper

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"math"

	"golang.org/x/image/ccitt"
)

// This file finds each PDF page's scanned image and decodes it to gray.

const (
	maxTreeDepth    = 64      // page tree levels
	maxTreeSteps    = 100_000 // page tree nodes visited, repeats included
	maxFormDepth    = 8       // form XObjects drawn inside each other
	maxContentBytes = 4 << 20 // decoded content of one page; OCR text takes far less
	maxGStack       = 1024    // q without Q
	minCoverage     = 0.15    // of the page, for an image to be the scan
)

// pdfPage is a leaf of the page tree with what it inherits resolved.
type pdfPage struct {
	dict      pdfDict
	resources pdfDict
	rotate    int
	area      float64 // of the crop or media box, 0 if unknown
}

type pdfSource struct {
	f     *pdfFile
	pages []pdfPage
	lim   Limits
}

func openPDF(data []byte, lim Limits) (pageSource, error) {
	f := newPDF(data)
	xrefErr := f.loadXref()
	if xrefErr == nil && f.trailer["Encrypt"] != nil {
		return nil, encrypted()
	}
	var pages []pdfPage
	err := xrefErr
	if err == nil {
		pages, err = f.pageList(lim)
	}
	if fe, ok := err.(*FormatError); ok {
		return nil, fe
	}
	if err != nil || len(pages) == 0 {
		f.rebuild()
		if f.trailer["Encrypt"] != nil {
			return nil, encrypted()
		}
		if pages, err = f.pageList(lim); err != nil {
			if fe, ok := err.(*FormatError); ok {
				return nil, fe
			}
			return nil, fileError("PDF", "the PDF is damaged and its pages cannot be found (%v): scan again, or %s", err, adviceUpload)
		}
		if len(pages) == 0 {
			return nil, fileError("PDF", "the PDF has no pages, or is damaged: scan again, or %s", adviceUpload)
		}
	}
	return &pdfSource{f: f, pages: pages, lim: lim}, nil
}

func encrypted() *FormatError {
	return fileError("PDF", "the PDF is password-protected or encrypted: scan again without a password, "+
		"or save a copy without protection")
}

type inherited struct {
	resources   pdfDict
	rotate      int
	media, crop float64
}

func (f *pdfFile) pageList(lim Limits) ([]pdfPage, error) {
	root := f.dict(f.trailer["Root"])
	if root == nil {
		return nil, errors.New("no catalog")
	}
	var pages []pdfPage
	seen := map[int]bool{}
	steps := 0 // kids arrays may be shared by many nodes: bound the whole walk
	var walk func(node any, inh inherited, depth int) error
	walk = func(node any, inh inherited, depth int) error {
		if steps++; steps > maxTreeSteps {
			return errTooComplex
		}
		if r, ok := node.(pdfRef); ok {
			if seen[r.num] {
				return nil
			}
			seen[r.num] = true
		}
		d := f.dict(node)
		if d == nil || depth > maxTreeDepth {
			return nil
		}
		if res := f.dict(d["Resources"]); res != nil {
			inh.resources = res
		}
		if _, ok := f.num(d["Rotate"]); ok {
			inh.rotate = f.int(d["Rotate"], 0)
		}
		if a := f.boxArea(d["MediaBox"]); a > 0 {
			inh.media = a
		}
		if a := f.boxArea(d["CropBox"]); a > 0 {
			inh.crop = a
		}
		kids := f.array(d["Kids"])
		if typ := f.name(d["Type"]); typ == "Pages" || typ != "Page" && kids != nil {
			for _, k := range kids {
				if err := walk(k, inh, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
		if len(pages) >= lim.MaxPages {
			return tooManyPages("PDF", lim)
		}
		area := inh.crop
		if area == 0 || inh.media > 0 && inh.media < area {
			area = inh.media
		}
		pages = append(pages, pdfPage{dict: d, resources: inh.resources, rotate: inh.rotate, area: area})
		return nil
	}
	err := walk(root["Pages"], inherited{}, 0)
	return pages, err
}

func (f *pdfFile) boxArea(o any) float64 {
	a := f.array(o)
	if len(a) != 4 {
		return 0
	}
	var v [4]float64
	for i := range v {
		var ok bool
		if v[i], ok = f.num(a[i]); !ok {
			return 0
		}
	}
	area := math.Abs((v[2] - v[0]) * (v[3] - v[1]))
	if math.IsNaN(area) || math.IsInf(area, 0) {
		return 0
	}
	return area
}

func (s *pdfSource) count() int { return len(s.pages) }

func noScan(page int) *FormatError {
	return pageError("PDF", page, "this page has no scanned image: print the form, fill it in and scan it; "+
		"a PDF made from the form itself has no marks to read")
}

func (s *pdfSource) page(i int) (*image.Gray, error) {
	f, p := s.f, s.pages[i]
	cands, parsed := f.drawnImages(p)
	if !parsed {
		cands = f.resourceImages(p.resources, 0, map[*pdfStream]bool{})
	}
	var best *placement
	var bestPixels float64
	for j := range cands {
		c := &cands[j]
		px := float64(f.int(c.img.dict["Width"], 0)) * float64(f.int(c.img.dict["Height"], 0))
		if best == nil || px > bestPixels || px == bestPixels && c.ctm.area() > best.ctm.area() {
			best, bestPixels = c, px
		}
	}
	if best == nil {
		return nil, noScan(i)
	}
	if best.placed && p.area > 0 && best.ctm.area() < minCoverage*p.area {
		return nil, noScan(i) // a logo or a QR code, not a scan of the page
	}
	g, err := f.decodeImage(best.img, i, s.lim)
	if err != nil {
		return nil, err
	}
	t := upright
	if best.placed {
		t = best.ctm.axes()
	}
	for r := ((p.rotate%360 + 360) % 360) / 90; r > 0; r-- {
		t = t.turnedClockwise()
	}
	return transform(g, t), nil
}

// matrix is a PDF transformation [a b c d e f].
type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// times is m then n, as "m cm" inside a state whose matrix is n.
func (m matrix) times(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// area is what the image's unit square covers on the page.
func (m matrix) area() float64 {
	a := math.Abs(m[0]*m[3] - m[1]*m[2])
	if math.IsNaN(a) {
		return 0
	}
	return a
}

// axes reads how an image drawn with m sits on the page. An image's rows
// run along (a, b) in page space, its first row at the top of the unit
// square, so going down its rows moves along (-c, -d); the page's y axis
// points up where an image's points down.
func (m matrix) axes() axes {
	ux, uy := unitStep(m[0], -m[1])
	vx, vy := unitStep(-m[2], m[3])
	if ux == 0 && uy == 0 || vx == 0 && vy == 0 || ux*vx+uy*vy != 0 {
		return upright
	}
	return axes{ux, uy, vx, vy}
}

func unitStep(x, y float64) (int, int) {
	sign := func(v float64) int {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	}
	if math.Abs(x) >= math.Abs(y) {
		return sign(x), 0
	}
	return 0, sign(y)
}

// placement is an image XObject and, when placed, the matrix it is drawn
// with; images found only in resources are not placed.
type placement struct {
	img    *pdfStream
	ctm    matrix
	placed bool
}

// contentRun is one page's walk through its content and the forms it
// draws; work bounds it however often the content draws the same form.
type contentRun struct {
	f     *pdfFile
	work  int // bytes of content that may still be decoded and read
	forms map[*pdfStream]bool
	out   []placement
}

// drawnImages runs the page's content for where images are drawn. parsed
// is false when the content cannot be read and nothing was found in it.
func (f *pdfFile) drawnImages(p pdfPage) ([]placement, bool) {
	var streams []any
	contents, _ := f.resolve(p.dict["Contents"])
	switch c := contents.(type) {
	case *pdfStream:
		streams = []any{c}
	case pdfArray:
		streams = c
	case nil:
		return nil, true // an empty page
	default:
		return nil, false
	}
	run := &contentRun{f: f, work: 4 * maxContentBytes, forms: map[*pdfStream]bool{}}
	var content []byte
	ok := true
	for _, o := range streams {
		s := f.stream(o)
		if s == nil {
			ok = false
			continue
		}
		data, err := f.decodeData(s, max(0, maxContentBytes-len(content)))
		content = append(append(content, data...), '\n')
		if err != nil {
			ok = false
		}
	}
	err := run.content(content, p.resources, identity, 0)
	return run.out, ok && err == nil || len(run.out) > 0
}

// content follows q, Q, cm and Do, recording each image drawn and going
// into form XObjects.
func (run *contentRun) content(content []byte, res pdfDict, ctm matrix, depth int) error {
	l := &lexer{b: content, work: &run.work}
	var stack []matrix
	var ops []any // the operands of the coming operator; only the last few matter
	push := func(o any) {
		if len(ops) == 8 {
			copy(ops, ops[1:])
			ops = ops[:7]
		}
		ops = append(ops, o)
	}
	for {
		t, err := l.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokEOF:
			return nil
		case tokKeyword:
		default:
			o, err := l.objectFrom(t, 0)
			if err != nil {
				return err
			}
			push(o)
			continue
		}
		switch t.s {
		case "true", "false", "null":
			push(nil)
			continue
		case "q":
			if len(stack) >= maxGStack {
				return errors.New("graphics state nested too deeply")
			}
			stack = append(stack, ctm)
		case "Q":
			if n := len(stack); n > 0 {
				ctm, stack = stack[n-1], stack[:n-1]
			}
		case "cm":
			if m, ok := run.f.matrixOf(ops); ok {
				ctm = m.times(ctm)
			}
		case "Do":
			if len(ops) > 0 {
				if n, ok := ops[len(ops)-1].(pdfName); ok {
					run.draw(n, res, ctm, depth)
				}
			}
		case "BI":
			if !l.skipInlineImage() {
				return nil
			}
		}
		ops = ops[:0]
	}
}

func (f *pdfFile) matrixOf(ops []any) (matrix, bool) {
	var m matrix
	if len(ops) < 6 {
		return m, false
	}
	for i, o := range ops[len(ops)-6:] {
		v, ok := f.num(o)
		if !ok {
			return m, false
		}
		m[i] = v
	}
	return m, true
}

func (run *contentRun) draw(n pdfName, res pdfDict, ctm matrix, depth int) {
	f := run.f
	s := f.stream(f.dict(res["XObject"])[n])
	if s == nil {
		return
	}
	switch f.name(s.dict["Subtype"]) {
	case "Image":
		run.out = append(run.out, placement{img: s, ctm: ctm, placed: true})
	case "Form":
		if depth >= maxFormDepth || run.forms[s] || run.work <= 0 {
			return
		}
		run.forms[s] = true
		defer delete(run.forms, s)
		m := identity
		if a := f.array(s.dict["Matrix"]); len(a) == 6 {
			if mm, ok := f.matrixOf(a); ok {
				m = mm
			}
		}
		formRes := f.dict(s.dict["Resources"])
		if formRes == nil {
			formRes = res
		}
		data, err := f.decodeData(s, min(maxContentBytes, run.work))
		run.work -= len(data)
		if err != nil && len(data) == 0 {
			return
		}
		run.content(data, formRes, m.times(ctm), depth+1)
	}
}

// skipInlineImage moves past "… ID data EI"; false when it never ends.
func (l *lexer) skipInlineImage() bool {
	for {
		t, err := l.next()
		if err != nil || t.kind == tokEOF {
			return false
		}
		if t.kind == tokKeyword && t.s == "ID" {
			break
		}
	}
	for i := l.pos + 1; i+2 <= len(l.b); i++ {
		if l.b[i] == 'E' && l.b[i+1] == 'I' && isSpace(l.b[i-1]) && (i+2 == len(l.b) || !isRegular(l.b[i+2])) {
			l.pos = i + 2
			return true
		}
	}
	return false
}

// resourceImages lists the images a page's resources hold, for content that
// cannot be read.
func (f *pdfFile) resourceImages(res pdfDict, depth int, seen map[*pdfStream]bool) []placement {
	var out []placement
	for _, o := range f.dict(res["XObject"]) {
		s := f.stream(o)
		if s == nil || seen[s] {
			continue
		}
		seen[s] = true
		switch f.name(s.dict["Subtype"]) {
		case "Image":
			out = append(out, placement{img: s, ctm: identity})
		case "Form":
			if depth < maxFormDepth {
				out = append(out, f.resourceImages(f.dict(s.dict["Resources"]), depth+1, seen)...)
			}
		}
	}
	return out
}

// filters lists a stream's filters, spelled out, each with its parameters.
func (f *pdfFile) filters(d pdfDict) ([]pdfName, []pdfDict) {
	var names []pdfName
	var parms []pdfDict
	fo, _ := f.resolve(d["Filter"])
	po, _ := f.resolve(d["DecodeParms"])
	switch v := fo.(type) {
	case pdfName:
		names = []pdfName{v}
		parms = []pdfDict{f.dict(po)}
	case pdfArray:
		pa, _ := po.(pdfArray)
		for i, n := range v {
			names = append(names, f.name(n))
			var p pdfDict
			if i < len(pa) {
				p = f.dict(pa[i])
			}
			parms = append(parms, p)
		}
	}
	for i, n := range names {
		if long, ok := filterAbbrev[n]; ok {
			names[i] = long
		}
	}
	return names, parms
}

var filterAbbrev = map[pdfName]pdfName{
	"AHx": "ASCIIHexDecode", "A85": "ASCII85Decode", "LZW": "LZWDecode", "Fl": "FlateDecode",
	"RL": "RunLengthDecode", "CCF": "CCITTFaxDecode", "DCT": "DCTDecode",
}

var errTooBig = errors.New("stream decodes to more than allowed")

// decodeData decodes a stream that is not an image, to at most limit bytes.
// A stream cut short keeps what was decoded, with the error.
func (f *pdfFile) decodeData(s *pdfStream, limit int) ([]byte, error) {
	names, parms := f.filters(s.dict)
	r, err := f.chain(bytes.NewReader(s.data), names, parms)
	if err != nil {
		return nil, err
	}
	return readCapped(r, limit)
}

// readCapped reads r to its end, failing with errTooBig past limit bytes; it
// never holds more than limit+1 bytes, whatever r would go on to produce.
func readCapped(r io.Reader, limit int) ([]byte, error) {
	if limit < 0 {
		return nil, errTooBig
	}
	buf := make([]byte, 0, min(limit+1, 32<<10))
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, errTooBig
			}
			grown := make([]byte, len(buf), min(2*cap(buf), limit+1))
			copy(grown, buf)
			buf = grown
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > limit {
			return nil, errTooBig
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// chain stacks the general-purpose filters; image codecs are not among them.
func (f *pdfFile) chain(r io.Reader, names []pdfName, parms []pdfDict) (io.Reader, error) {
	for i, n := range names {
		var err error
		switch n {
		case "FlateDecode":
			r, err = flateReader(r)
		case "LZWDecode":
			r = lzwReader(r, f.int(parms[i]["EarlyChange"], 1))
		case "ASCIIHexDecode":
			r = &hexReader{r: byteReader(r)}
		case "ASCII85Decode":
			r = ascii85Reader(r)
		case "RunLengthDecode":
			r = &runLengthReader{r: byteReader(r)}
		default:
			return nil, unsupportedFilter(n)
		}
		if err != nil {
			return nil, err
		}
		if n == "FlateDecode" || n == "LZWDecode" {
			if r, err = f.predictor(r, parms[i]); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// filterError is a filter we do not decode; the page's message names it.
type filterError struct{ name pdfName }

func (e *filterError) Error() string { return "unsupported filter " + string(e.name) }

func unsupportedFilter(n pdfName) error { return &filterError{n} }

// decodeImage decodes an image XObject to gray, refusing it by its stated
// size before anything large is allocated.
func (f *pdfFile) decodeImage(s *pdfStream, page int, lim Limits) (*image.Gray, error) {
	d := s.dict
	w, h := f.int(d["Width"], 0), f.int(d["Height"], 0)
	if err := checkPixels("PDF", page, w, h, lim); err != nil {
		return nil, err
	}
	names, parms := f.filters(d)
	codec, codecParms := pdfName(""), pdfDict(nil)
	if n := len(names); n > 0 {
		switch names[n-1] {
		case "DCTDecode", "CCITTFaxDecode", "JBIG2Decode", "JPXDecode":
			codec, codecParms = names[n-1], parms[n-1]
			names, parms = names[:n-1], parms[:n-1]
		}
	}
	r, err := f.chain(bytes.NewReader(s.data), names, parms)
	if err != nil {
		var fe *filterError
		if errors.As(err, &fe) {
			return nil, filterRefused(page, fe.name)
		}
		return nil, damagedImage(page, err)
	}
	isMask := f.bool(d["ImageMask"])
	switch codec {
	case "JBIG2Decode", "JPXDecode":
		return nil, filterRefused(page, codec)
	case "DCTDecode":
		data := s.data
		if len(names) > 0 {
			// A scan's JPEG takes well under a byte a pixel; two is generous,
			// and keeps a Flate bomb around it to twice the gray page.
			var err error
			data, err = readCapped(r, int(min(2*int64(w)*int64(h)+1<<20, math.MaxInt32)))
			if err != nil && len(data) == 0 {
				return nil, damagedImage(page, err)
			}
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return nil, damagedImage(page, err)
		}
		if err := checkPixels("PDF", page, cfg.Width, cfg.Height, lim); err != nil {
			return nil, err
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, damagedImage(page, err)
		}
		g := toGray(img)
		// /Decode [1 0 …] on a CMYK JPEG undoes Adobe's inverted CMYK, which
		// image/jpeg has undone already.
		if _, cmyk := img.(*image.CMYK); !cmyk && f.decodeInverted(d["Decode"], 1) {
			g = copyGray(g)
			invertGray(g)
		}
		return g, nil
	case "CCITTFaxDecode":
		return f.decodeCCITT(r, d, codecParms, h, page, lim)
	}
	return f.decodeSamples(r, d, w, h, isMask, page)
}

// copyGray is needed before changing a gray image that may share memory
// with the decoder's other planes.
func copyGray(g *image.Gray) *image.Gray {
	c := image.NewGray(g.Rect)
	w := g.Rect.Dx()
	for y := 0; y < g.Rect.Dy(); y++ {
		copy(c.Pix[y*c.Stride:y*c.Stride+w], g.Pix[y*g.Stride:y*g.Stride+w])
	}
	return c
}

func filterRefused(page int, n pdfName) *FormatError {
	switch n {
	case "JBIG2Decode":
		return pageError("PDF", page, "JBIG2 compression (common on black-and-white scanners) cannot be read: "+
			"set the scanner to grayscale or colour JPEG")
	case "JPXDecode":
		return pageError("PDF", page, "JPEG 2000 compression cannot be read: set the scanner to JPEG")
	}
	return pageError("PDF", page, "the page's image uses %s, which cannot be read: set the scanner to grayscale or colour JPEG", string(n))
}

func damagedImage(page int, err error) *FormatError {
	return pageError("PDF", page, "the page's image is damaged (%v): scan the form again, or %s", err, adviceUpload)
}

// decodeInverted is whether /Decode maps every component from 1 down to 0,
// which makes a negative of the image.
func (f *pdfFile) decodeInverted(o any, comps int) bool {
	a := f.array(o)
	if len(a) < 2*comps || comps == 0 {
		return false
	}
	for i := 0; i < comps; i++ {
		lo, ok1 := f.num(a[2*i])
		hi, ok2 := f.num(a[2*i+1])
		if !ok1 || !ok2 || lo <= hi {
			return false
		}
	}
	return true
}

// decodeCCITT decodes fax data; an image mask's 0 paints black just as a
// gray image's 0 is black, so masks need nothing of their own.
func (f *pdfFile) decodeCCITT(r io.Reader, d, p pdfDict, h int, page int, lim Limits) (*image.Gray, error) {
	k := f.int(p["K"], 0)
	cols := f.int(p["Columns"], 1728)
	rows := f.int(p["Rows"], 0)
	if rows <= 0 {
		rows = h
	}
	if err := checkPixels("PDF", page, cols, rows, lim); err != nil {
		return nil, err
	}
	var sf ccitt.SubFormat
	switch {
	case k < 0:
		sf = ccitt.Group4
	case k == 0 && f.bool(p["EndOfLine"]):
		sf = ccitt.Group3
	default:
		return nil, pageError("PDF", page, "this page uses CCITT Group 3 fax compression in a form that cannot be "+
			"read: set the scanner to CCITT Group 4, or to grayscale or colour JPEG")
	}
	// The decoder paints black runs 0x00 unless told to invert; the filter
	// writes black as 1 when BlackIs1, and /Decode [1 0] swaps again.
	invert := f.bool(p["BlackIs1"]) != f.decodeInverted(d["Decode"], 1)
	g := image.NewGray(image.Rect(0, 0, cols, rows))
	err := ccitt.DecodeIntoGray(g, r, ccitt.MSB, sf, &ccitt.Options{Align: f.bool(p["EncodedByteAlign"]), Invert: invert})
	if err != nil {
		return nil, damagedImage(page, err)
	}
	return g, nil
}

// colorSpace is what decodeSamples needs of an image's colour space.
type colorSpace struct {
	comps   int
	palette []uint8 // gray of each index, for /Indexed
}

func (f *pdfFile) colorSpace(o any, depth int) (colorSpace, error) {
	o, _ = f.resolve(o)
	var family pdfName
	var a pdfArray
	switch v := o.(type) {
	case pdfName:
		family = v
	case pdfArray:
		if len(v) == 0 {
			return colorSpace{}, errors.New("empty colour space")
		}
		family, a = f.name(v[0]), v
	case nil:
		return colorSpace{}, errors.New("no colour space")
	}
	switch family {
	case "DeviceGray", "CalGray", "G":
		return colorSpace{comps: 1}, nil
	case "DeviceRGB", "CalRGB", "RGB":
		return colorSpace{comps: 3}, nil
	case "DeviceCMYK", "CMYK":
		return colorSpace{comps: 4}, nil
	case "ICCBased":
		if len(a) >= 2 {
			if d := f.dict(a[1]); d != nil {
				switch n := f.int(d["N"], 0); n {
				case 1, 3, 4:
					return colorSpace{comps: n}, nil
				}
			}
		}
		return colorSpace{}, errors.New("ICC profile without a usable /N")
	case "Indexed", "I":
		if len(a) < 4 || depth > 0 {
			return colorSpace{}, errors.New("broken indexed colour space")
		}
		base, err := f.colorSpace(a[1], depth+1)
		if err != nil {
			return colorSpace{}, err
		}
		hival := f.int(a[2], -1)
		if hival < 0 || hival > 255 {
			return colorSpace{}, errors.New("broken indexed colour space")
		}
		var lookup []byte
		switch v := f.value(a[3]).(type) {
		case pdfString:
			lookup = []byte(v)
		case *pdfStream:
			lookup, _ = f.decodeData(v, 64<<10) // 1 kB is used; writers may pad
		}
		cs := colorSpace{comps: 1, palette: make([]uint8, hival+1)}
		for i := range cs.palette {
			e := lookup[min(len(lookup), i*base.comps):min(len(lookup), (i+1)*base.comps)]
			if len(e) < base.comps {
				break // missing entries stay black
			}
			switch base.comps {
			case 1:
				cs.palette[i] = e[0]
			case 3:
				cs.palette[i] = luma(uint32(e[0]), uint32(e[1]), uint32(e[2]))
			case 4:
				cs.palette[i] = cmykGray(e[0], e[1], e[2], e[3])
			}
		}
		return cs, nil
	}
	return colorSpace{}, &colorSpaceError{family}
}

type colorSpaceError struct{ family pdfName }

func (e *colorSpaceError) Error() string { return "unsupported colour space " + string(e.family) }

// value is o resolved, with an unreadable object read as null.
func (f *pdfFile) value(o any) any {
	o, _ = f.resolve(o)
	return o
}

// decodeSamples reads raw samples a row at a time straight into gray, so a
// stream can never decode to more than the image's stated size.
func (f *pdfFile) decodeSamples(r io.Reader, d pdfDict, w, h int, isMask bool, page int) (*image.Gray, error) {
	cs := colorSpace{comps: 1}
	bpc := 1
	if !isMask {
		var err error
		if cs, err = f.colorSpace(d["ColorSpace"], 0); err != nil {
			var ce *colorSpaceError
			if errors.As(err, &ce) {
				return nil, pageError("PDF", page, "the page's image uses the %s colour space, which cannot be read: "+
					"set the scanner to grayscale or colour", string(ce.family))
			}
			return nil, damagedImage(page, err)
		}
		bpc = f.int(d["BitsPerComponent"], 8)
	}
	switch bpc {
	case 1, 2, 4, 8:
	case 16:
		if cs.palette != nil {
			return nil, damagedImage(page, errors.New("16-bit indexed image"))
		}
	default:
		return nil, damagedImage(page, errors.New("unsupported bits per component"))
	}
	comps := cs.comps
	inverted := f.decodeInverted(d["Decode"], comps) && cs.palette == nil
	if isMask {
		inverted = f.decodeInverted(d["Decode"], 1)
	}
	maxV := 1<<min(bpc, 8) - 1 // 16-bit samples are cut to their high byte first
	// One component reads through lut; more are scaled to 8 bits first.
	var lut [256]uint8
	for v := 0; v <= maxV; v++ {
		switch {
		case cs.palette != nil:
			if v < len(cs.palette) {
				lut[v] = cs.palette[v]
			}
		case inverted:
			lut[v] = uint8(255 - v*255/maxV)
		default:
			lut[v] = uint8(v * 255 / maxV)
		}
	}
	// Rows are read a chunk of pixels at a time: a hostile page one row
	// high and millions wide must not cost its raw row on top of its gray.
	const chunk = 4096 // pixels; a whole number of bytes at any depth
	buf := make([]byte, chunk*comps*bpc/8)
	var samples []byte
	if bpc != 8 {
		samples = make([]byte, chunk*comps)
	}
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		out := g.Pix[y*g.Stride : y*g.Stride+w]
		for x0 := 0; x0 < w; x0 += chunk {
			n := min(chunk, w-x0)
			in := buf[:(n*comps*bpc+7)/8]
			if _, err := io.ReadFull(r, in); err != nil {
				return nil, damagedImage(page, err)
			}
			s := in
			switch {
			case bpc == 16:
				s = samples[:n*comps]
				for i := range s {
					s[i] = in[2*i]
				}
			case bpc < 8:
				s = samples[:n*comps]
				unpack(s, in, bpc, comps > 1)
			}
			grayRow(out[x0:x0+n], s, comps, &lut)
		}
	}
	if comps > 1 && inverted {
		invertGray(g)
	}
	return g, nil
}

// grayRow converts one run of samples: one component through lut, three as
// RGB, four as CMYK.
func grayRow(d, s []byte, comps int, lut *[256]uint8) {
	switch comps {
	case 1:
		s = s[:len(d)]
		for x, v := range s {
			d[x] = lut[v]
		}
	case 3:
		s = s[:3*len(d)]
		for x := range d {
			d[x] = luma(uint32(s[3*x]), uint32(s[3*x+1]), uint32(s[3*x+2]))
		}
	case 4:
		s = s[:4*len(d)]
		for x := range d {
			d[x] = cmykGray(s[4*x], s[4*x+1], s[4*x+2], s[4*x+3])
		}
	}
}

// unpack spreads samples of bpc < 8 bits into bytes, scaled to 0–255 when
// scale, else kept as values (a gray level or a palette index for the lut).
func unpack(dst, src []byte, bpc int, scale bool) {
	mask := byte(1<<bpc - 1)
	mul := byte(255 / mask)
	for i := range dst {
		bit := i * bpc
		v := src[bit>>3] >> (8 - bpc - bit&7) & mask
		if scale {
			v *= mul
		}
		dst[i] = v
	}
}
