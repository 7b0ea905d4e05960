package paper

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
)

// This file parses the part of PDF that scans need: objects, the
// cross-reference table or stream, object streams, and, when the
// cross-reference is broken, a rebuild by scanning for "N G obj".

// PDF objects, as parsed.
type (
	pdfName   string
	pdfString string
	pdfRef    struct{ num, gen int }
	pdfArray  []any
	pdfDict   map[pdfName]any
	pdfStream struct {
		dict pdfDict
		data []byte // still encoded; a slice of the file or of an object stream
	}
	pdfKeyword string // an operator, or a word that is not an object
)

const (
	maxNesting   = 32       // arrays and dictionaries inside each other
	maxRefHops   = 32       // references to references
	maxLoadDepth = 16       // objects needed to load an object (a /Length in an object stream…)
	maxCachedRaw = 64 << 20 // decoded object and cross-reference streams kept
)

var errSyntax = errors.New("PDF syntax error")

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokInt
	tokReal
	tokName
	tokString
	tokArrayOpen
	tokArrayClose
	tokDictOpen
	tokDictClose
	tokKeyword
)

type token struct {
	kind tokKind
	i    int64
	f    float64
	s    string
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// lexer reads PDF tokens from b starting at pos. Every byte it moves over
// is charged to *work, so that no file, however it is built, can make the
// parser go over the same bytes without end.
type lexer struct {
	b    []byte
	pos  int
	work *int
}

var errTooComplex = errors.New("PDF too complex to read")

func (l *lexer) skipSpace() {
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '%':
			for l.pos < len(l.b) && l.b[l.pos] != '\n' && l.b[l.pos] != '\r' {
				l.pos++
			}
		default:
			return
		}
	}
}

func (l *lexer) next() (token, error) {
	if *l.work <= 0 {
		return token{}, errTooComplex
	}
	start := l.pos
	t, err := l.token()
	*l.work -= l.pos - start
	if *l.work < 0 {
		return token{}, errTooComplex
	}
	return t, err
}

func (l *lexer) token() (token, error) {
	l.skipSpace()
	if l.pos >= len(l.b) {
		return token{kind: tokEOF}, nil
	}
	c := l.b[l.pos]
	switch c {
	case '[':
		l.pos++
		return token{kind: tokArrayOpen}, nil
	case ']':
		l.pos++
		return token{kind: tokArrayClose}, nil
	case '<':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '<' {
			l.pos += 2
			return token{kind: tokDictOpen}, nil
		}
		return l.hexString()
	case '>':
		if l.pos+1 < len(l.b) && l.b[l.pos+1] == '>' {
			l.pos += 2
			return token{kind: tokDictClose}, nil
		}
		l.pos++
		return token{}, errSyntax
	case '(':
		return l.literalString()
	case ')':
		l.pos++
		return token{}, errSyntax
	case '/':
		return l.name(), nil
	case '{', '}':
		l.pos++
		return token{kind: tokKeyword, s: string(c)}, nil
	}
	start := l.pos
	for l.pos < len(l.b) && isRegular(l.b[l.pos]) {
		l.pos++
	}
	word := l.b[start:l.pos]
	if looksNumeric(word) {
		if i, err := strconv.ParseInt(string(word), 10, 64); err == nil {
			return token{kind: tokInt, i: i}, nil
		}
		if f, err := strconv.ParseFloat(string(word), 64); err == nil {
			return token{kind: tokReal, f: f}, nil
		}
	}
	return token{kind: tokKeyword, s: string(word)}, nil
}

func looksNumeric(w []byte) bool {
	for _, c := range w {
		if (c < '0' || c > '9') && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return len(w) > 0
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (l *lexer) name() token {
	l.pos++ // '/'
	var b []byte
	for l.pos < len(l.b) && isRegular(l.b[l.pos]) {
		c := l.b[l.pos]
		if c == '#' && l.pos+2 < len(l.b) {
			hi, ok1 := unhex(l.b[l.pos+1])
			lo, ok2 := unhex(l.b[l.pos+2])
			if ok1 && ok2 {
				b = append(b, hi<<4|lo)
				l.pos += 3
				continue
			}
		}
		b = append(b, c)
		l.pos++
	}
	return token{kind: tokName, s: string(b)}
}

func (l *lexer) hexString() (token, error) {
	l.pos++ // '<'
	var b []byte
	var hi byte
	odd := false
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		if c == '>' {
			if odd {
				b = append(b, hi<<4)
			}
			return token{kind: tokString, s: string(b)}, nil
		}
		v, ok := unhex(c)
		if !ok {
			if isSpace(c) {
				continue
			}
			return token{}, errSyntax
		}
		if odd {
			b = append(b, hi<<4|v)
		} else {
			hi = v
		}
		odd = !odd
	}
	return token{}, errSyntax
}

func (l *lexer) literalString() (token, error) {
	l.pos++ // '('
	var b []byte
	depth := 1
	for l.pos < len(l.b) {
		c := l.b[l.pos]
		l.pos++
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return token{kind: tokString, s: string(b)}, nil
			}
		case '\\':
			if l.pos >= len(l.b) {
				return token{}, errSyntax
			}
			e := l.b[l.pos]
			l.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if l.pos < len(l.b) && l.b[l.pos] == '\n' {
					l.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && l.pos < len(l.b) && l.b[l.pos] >= '0' && l.b[l.pos] <= '7'; k++ {
						v = v*8 + int(l.b[l.pos]-'0')
						l.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		b = append(b, c)
	}
	return token{}, errSyntax
}

// object reads one object. A keyword that is not true, false or null comes
// back as a pdfKeyword, which callers treat as the end of what they read.
func (l *lexer) object(depth int) (any, error) {
	t, err := l.next()
	if err != nil {
		return nil, err
	}
	return l.objectFrom(t, depth)
}

func (l *lexer) objectFrom(t token, depth int) (any, error) {
	if depth > maxNesting {
		return nil, errors.New("PDF objects nested too deeply")
	}
	switch t.kind {
	case tokInt:
		save := l.pos
		if t2, err := l.next(); err == nil && t2.kind == tokInt {
			if t3, err := l.next(); err == nil && t3.kind == tokKeyword && t3.s == "R" {
				if t.i >= 0 && t.i <= 1<<30 && t2.i >= 0 && t2.i <= 1<<30 {
					return pdfRef{int(t.i), int(t2.i)}, nil
				}
				return nil, nil
			}
		}
		l.pos = save
		return t.i, nil
	case tokReal:
		return t.f, nil
	case tokName:
		return pdfName(t.s), nil
	case tokString:
		return pdfString(t.s), nil
	case tokArrayOpen:
		var a pdfArray
		for {
			t, err := l.next()
			if err != nil {
				return nil, err
			}
			switch t.kind {
			case tokArrayClose:
				return a, nil
			case tokEOF, tokDictClose:
				return nil, errSyntax
			}
			v, err := l.objectFrom(t, depth+1)
			if err != nil {
				return nil, err
			}
			if _, bad := v.(pdfKeyword); bad {
				return nil, errSyntax // most likely the next object's "obj": stop here
			}
			a = append(a, v)
		}
	case tokDictOpen:
		d := pdfDict{}
		for {
			t, err := l.next()
			if err != nil {
				return nil, err
			}
			switch t.kind {
			case tokDictClose:
				return d, nil
			case tokName:
			default:
				return nil, errSyntax
			}
			v, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			if _, bad := v.(pdfKeyword); bad {
				return nil, errSyntax
			}
			if v != nil {
				d[pdfName(t.s)] = v
			}
		}
	case tokKeyword:
		switch t.s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return pdfKeyword(t.s), nil
	}
	return nil, errSyntax
}

// xrefEntry says where object num is: at offset off in the file (inStream
// false), or as the idx-th object of object stream stm.
type xrefEntry struct {
	inStream bool
	off      int64
	stm, idx int
}

// pdfFile is an opened PDF. It is used by one goroutine at a time.
type pdfFile struct {
	data    []byte
	xref    map[int]xrefEntry
	trailer pdfDict

	cache   map[int]any
	loading map[int]bool
	depth   int
	objStms map[int]*objStm
	rawLeft int // bytes that decoded object and xref streams may still take

	scanned map[int]int64 // "N G obj" offsets, found when first needed
	work    int           // bytes the lexer may still move over
}

// lex reads the file's own bytes (or an object stream's), charged to the file.
func (f *pdfFile) lex(b []byte, pos int) *lexer {
	return &lexer{b: b, pos: pos, work: &f.work}
}

type objStm struct {
	data  []byte
	first int
	nums  []int
	offs  []int
}

func newPDF(data []byte) *pdfFile {
	return &pdfFile{data: data, xref: map[int]xrefEntry{}, cache: map[int]any{},
		loading: map[int]bool{}, objStms: map[int]*objStm{}, rawLeft: maxCachedRaw,
		work: 16*len(data) + 4<<20}
}

// resolve follows references; a missing object is null, as the spec says.
func (f *pdfFile) resolve(o any) (any, error) {
	for hops := 0; ; hops++ {
		r, ok := o.(pdfRef)
		if !ok {
			return o, nil
		}
		if hops >= maxRefHops {
			return nil, errors.New("PDF references loop")
		}
		var err error
		if o, err = f.load(r.num); err != nil {
			return nil, err
		}
	}
}

func (f *pdfFile) dict(o any) pdfDict {
	o, _ = f.resolve(o)
	switch d := o.(type) {
	case pdfDict:
		return d
	case *pdfStream:
		return d.dict
	}
	return nil
}

func (f *pdfFile) stream(o any) *pdfStream {
	o, _ = f.resolve(o)
	s, _ := o.(*pdfStream)
	return s
}

func (f *pdfFile) array(o any) pdfArray {
	o, _ = f.resolve(o)
	a, _ := o.(pdfArray)
	return a
}

func (f *pdfFile) name(o any) pdfName {
	o, _ = f.resolve(o)
	n, _ := o.(pdfName)
	return n
}

// num reads an integer or real; ok is false for anything else.
func (f *pdfFile) num(o any) (float64, bool) {
	o, _ = f.resolve(o)
	switch v := o.(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}

// int reads a whole number within ±2^31, or def.
func (f *pdfFile) int(o any, def int) int {
	v, ok := f.num(o)
	if !ok || v != float64(int64(v)) || v > 1<<31 || v < -(1<<31) {
		return def
	}
	return int(v)
}

func (f *pdfFile) bool(o any) bool {
	o, _ = f.resolve(o)
	b, _ := o.(bool)
	return b
}

func (f *pdfFile) load(num int) (any, error) {
	if o, ok := f.cache[num]; ok {
		return o, nil
	}
	if f.loading[num] || f.depth >= maxLoadDepth {
		return nil, errors.New("PDF objects depend on each other in a loop")
	}
	f.loading[num] = true
	f.depth++
	defer func() {
		delete(f.loading, num)
		f.depth--
	}()
	o, err := f.loadUncached(num)
	f.cache[num] = o // an unreadable object stays null, and is not read again
	return o, err
}

func (f *pdfFile) loadUncached(num int) (any, error) {
	e, ok := f.xref[num]
	if ok && e.inStream {
		if o, err := f.fromObjStm(e.stm, e.idx, num); err == nil {
			return o, nil
		}
	} else if ok {
		if o, err := f.readIndirect(e.off, num); err == nil {
			return o, nil
		}
	}
	// Missing or misplaced: writers that patch files often get offsets wrong.
	if off, found := f.scanIndex()[num]; found && (!ok || e.inStream || off != e.off) {
		return f.readIndirect(off, num)
	}
	if ok {
		return nil, fmt.Errorf("PDF object %d cannot be read", num)
	}
	return nil, nil
}

// readIndirect parses "num gen obj … endobj" at off, with a stream's data.
func (f *pdfFile) readIndirect(off int64, num int) (any, error) {
	if off < 0 || off >= int64(len(f.data)) {
		return nil, errSyntax
	}
	l := f.lex(f.data, int(off))
	t1, _ := l.next()
	t2, _ := l.next()
	t3, _ := l.next()
	if t1.kind != tokInt || t2.kind != tokInt || t3.kind != tokKeyword || t3.s != "obj" || t1.i != int64(num) {
		return nil, fmt.Errorf("PDF object %d is not where the file says", num)
	}
	o, err := l.object(0)
	if err != nil {
		return nil, err
	}
	d, ok := o.(pdfDict)
	if !ok {
		return o, nil
	}
	save := l.pos
	if t, err := l.next(); err != nil || t.kind != tokKeyword || t.s != "stream" {
		l.pos = save
		return d, nil
	}
	start := l.pos
	if start < len(f.data) && f.data[start] == '\r' {
		start++
	}
	if start < len(f.data) && f.data[start] == '\n' {
		start++
	}
	data := f.streamData(d, start)
	if f.work < 0 {
		return nil, errTooComplex
	}
	return &pdfStream{dict: d, data: data}, nil
}

// streamData trusts /Length only when "endstream" follows it; otherwise it
// looks for "endstream", as viewers do with hand-edited or truncated files.
func (f *pdfFile) streamData(d pdfDict, start int) []byte {
	rest := f.data[start:]
	if n := f.int(d["Length"], -1); n >= 0 && n <= len(rest) {
		after := f.lex(rest, n)
		if t, _ := after.next(); t.kind == tokKeyword && t.s == "endstream" {
			return rest[:n:n]
		}
	}
	end := bytes.Index(rest, []byte("endstream"))
	if end < 0 {
		f.work -= len(rest)
		return rest[:len(rest):len(rest)]
	}
	f.work -= end
	data := rest[:end]
	if bytes.HasSuffix(data, []byte("\r\n")) {
		data = data[:len(data)-2]
	} else if bytes.HasSuffix(data, []byte("\n")) || bytes.HasSuffix(data, []byte("\r")) {
		data = data[:len(data)-1]
	}
	return data[:len(data):len(data)]
}

func (f *pdfFile) fromObjStm(stmNum, idx, num int) (any, error) {
	s, err := f.objStm(stmNum)
	if err != nil {
		return nil, err
	}
	i := -1
	if idx >= 0 && idx < len(s.nums) && s.nums[idx] == num {
		i = idx
	} else {
		for j, n := range s.nums {
			if n == num {
				i = j
			}
		}
	}
	if i < 0 {
		return nil, fmt.Errorf("PDF object %d is not in its object stream", num)
	}
	pos := s.first + s.offs[i]
	if pos < 0 || pos >= len(s.data) {
		return nil, errSyntax
	}
	l := f.lex(s.data, pos)
	o, err := l.object(0)
	if _, bad := o.(pdfKeyword); bad {
		return nil, errSyntax
	}
	return o, err
}

func (f *pdfFile) objStm(num int) (*objStm, error) {
	if s, ok := f.objStms[num]; ok {
		if s == nil {
			return nil, errors.New("broken PDF object stream")
		}
		return s, nil
	}
	f.objStms[num] = nil // a failed or recursive load stays failed
	e, ok := f.xref[num]
	if ok && e.inStream {
		return nil, errors.New("PDF object stream inside an object stream")
	}
	st := f.stream(pdfRef{num, 0})
	if st == nil || f.name(st.dict["Type"]) != "ObjStm" {
		return nil, errors.New("PDF object stream missing")
	}
	data, err := f.decodeRaw(st)
	if err != nil {
		return nil, err
	}
	n, first := f.int(st.dict["N"], 0), f.int(st.dict["First"], 0)
	if n < 0 || n > len(data)/2 || first < 0 || first > len(data) {
		return nil, errors.New("broken PDF object stream")
	}
	s := &objStm{data: data, first: first}
	l := f.lex(data[:first], 0)
	for range n {
		t1, _ := l.next()
		t2, _ := l.next()
		if t1.kind != tokInt || t2.kind != tokInt || t2.i < 0 || t2.i > int64(len(data)) {
			break
		}
		s.nums = append(s.nums, int(min(t1.i, 1<<30)))
		s.offs = append(s.offs, int(t2.i))
	}
	f.objStms[num] = s
	return s, nil
}

// decodeRaw decodes an object, cross-reference or content stream, charging
// what it keeps to the file's budget.
func (f *pdfFile) decodeRaw(s *pdfStream) ([]byte, error) {
	data, err := f.decodeData(s, f.rawLeft)
	if err != nil {
		return nil, err
	}
	f.rawLeft -= len(data)
	return data, nil
}

// loadXref reads the cross-reference sections from startxref back along
// /Prev, and the trailer of the newest one.
func (f *pdfFile) loadXref() error {
	sx := bytes.LastIndex(f.data, []byte("startxref"))
	if sx < 0 {
		return errors.New("no startxref")
	}
	l := f.lex(f.data, sx+len("startxref"))
	t, _ := l.next()
	if t.kind != tokInt {
		return errors.New("no startxref offset")
	}
	off := t.i
	seen := map[int64]bool{}
	for len(seen) < 256 && !seen[off] {
		seen[off] = true
		trailer, err := f.xrefSection(off)
		if err != nil {
			if f.trailer == nil {
				return err
			}
			break // older sections are damaged; the newest ones stand
		}
		if f.trailer == nil {
			f.trailer = trailer
		}
		if xs := f.int(trailer["XRefStm"], -1); xs >= 0 {
			f.xrefStream(int64(xs))
		}
		prev := f.int(trailer["Prev"], -1)
		if prev < 0 {
			break
		}
		off = int64(prev)
	}
	if f.trailer == nil {
		return errors.New("no trailer")
	}
	return nil
}

func (f *pdfFile) add(num int, e xrefEntry) {
	if _, ok := f.xref[num]; !ok && num >= 0 {
		f.xref[num] = e
	}
}

// xrefSection reads a classic table with its trailer, or a cross-reference
// stream, at off.
func (f *pdfFile) xrefSection(off int64) (pdfDict, error) {
	if off < 0 || off >= int64(len(f.data)) {
		return nil, errors.New("xref offset outside the file")
	}
	l := f.lex(f.data, int(off))
	if t, _ := l.next(); t.kind != tokKeyword || t.s != "xref" {
		return f.xrefStream(off)
	}
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokKeyword && t.s == "trailer" {
			o, err := l.object(0)
			if err != nil {
				return nil, err
			}
			d, ok := o.(pdfDict)
			if !ok {
				return nil, errors.New("trailer is not a dictionary")
			}
			return d, nil
		}
		t2, _ := l.next()
		if t.kind != tokInt || t2.kind != tokInt || t.i < 0 || t2.i < 0 || t.i > 1<<30 || t2.i > 1<<30 {
			return nil, errors.New("broken xref table")
		}
		for i := int64(0); i < t2.i; i++ {
			a, _ := l.next()
			b, _ := l.next()
			c, _ := l.next()
			if a.kind != tokInt || b.kind != tokInt || c.kind != tokKeyword {
				return nil, errors.New("broken xref entry")
			}
			if c.s == "n" {
				f.add(int(t.i+i), xrefEntry{off: a.i})
			}
		}
	}
}

// xrefStream reads a PDF 1.5 cross-reference stream at off.
func (f *pdfFile) xrefStream(off int64) (pdfDict, error) {
	l := f.lex(f.data, int(off))
	t1, _ := l.next()
	if t1.kind != tokInt {
		return nil, errors.New("no xref at offset")
	}
	o, err := f.readIndirect(off, int(t1.i))
	if err != nil {
		return nil, err
	}
	s, ok := o.(*pdfStream)
	if !ok || f.name(s.dict["Type"]) != "XRef" {
		return nil, errors.New("no xref stream at offset")
	}
	data, err := f.decodeRaw(s)
	if err != nil {
		return nil, err
	}
	var w [3]int
	wa := f.array(s.dict["W"])
	if len(wa) != 3 {
		return nil, errors.New("xref stream without /W")
	}
	for i := range w {
		if w[i] = f.int(wa[i], -1); w[i] < 0 || w[i] > 8 {
			return nil, errors.New("bad xref stream /W")
		}
	}
	row := w[0] + w[1] + w[2]
	if row == 0 {
		return nil, errors.New("bad xref stream /W")
	}
	index := f.array(s.dict["Index"])
	if index == nil {
		index = pdfArray{int64(0), s.dict["Size"]}
	}
	pos := 0
	field := func(n int, def int64) int64 {
		if n == 0 {
			return def
		}
		var v int64
		for _, c := range data[pos : pos+n] {
			v = v<<8 | int64(c)
		}
		pos += n
		return v
	}
	for k := 0; k+1 < len(index); k += 2 {
		start, count := f.int(index[k], -1), f.int(index[k+1], -1)
		if start < 0 || count < 0 {
			break
		}
		for i := 0; i < count && pos+row <= len(data); i++ {
			typ, a, b := field(w[0], 1), field(w[1], 0), field(w[2], 0)
			switch typ {
			case 1:
				f.add(start+i, xrefEntry{off: a})
			case 2:
				if a >= 0 && a <= 1<<30 && b >= 0 && b <= 1<<30 {
					f.add(start+i, xrefEntry{inStream: true, stm: int(a), idx: int(b)})
				}
			}
		}
	}
	return s.dict, nil
}

// scanIndex finds every "N G obj" in the file; later ones win, as they
// would in an incremental update.
func (f *pdfFile) scanIndex() map[int]int64 {
	if f.scanned != nil {
		return f.scanned
	}
	f.scanned = map[int]int64{}
	b := f.data
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("obj"))
		if j < 0 {
			break
		}
		p := i + j
		i = p + 3
		if i < len(b) && isRegular(b[i]) {
			continue
		}
		// Walk back over: space, gen digits, space, num digits.
		q := p
		sp := func() bool {
			s := q
			for q > 0 && isSpace(b[q-1]) {
				q--
			}
			return q < s
		}
		digits := func() (int, bool) {
			e := q
			for q > 0 && b[q-1] >= '0' && b[q-1] <= '9' && e-q < 10 {
				q--
			}
			if q == e {
				return 0, false
			}
			n, err := strconv.Atoi(string(b[q:e]))
			return n, err == nil
		}
		if !sp() {
			continue
		}
		if _, ok := digits(); !ok || !sp() {
			continue
		}
		num, ok := digits()
		if !ok || (q > 0 && isRegular(b[q-1])) {
			continue
		}
		f.scanned[num] = int64(q)
	}
	return f.scanned
}

// rebuild replaces the cross-reference with what a scan of the file finds,
// including the contents of object streams, and finds a trailer or catalog.
func (f *pdfFile) rebuild() {
	f.xref = map[int]xrefEntry{}
	f.cache = map[int]any{}
	f.objStms = map[int]*objStm{}
	f.rawLeft = maxCachedRaw
	oldTrailer := f.trailer
	f.trailer = nil
	for num, off := range f.scanIndex() {
		f.xref[num] = xrefEntry{off: off}
	}
	starts := f.objectStarts()
	for _, num := range f.mentioning(starts, "/ObjStm") {
		s, err := f.objStm(num)
		if err != nil {
			continue
		}
		for i, n := range s.nums {
			f.add(n, xrefEntry{inStream: true, stm: num, idx: i})
		}
	}
	// The last classic trailer, else the newest xref stream's dictionary,
	// else the one the broken cross-reference gave, else the newest catalog.
	if t := bytes.LastIndex(f.data, []byte("trailer")); t >= 0 {
		if d, ok := mustDict(f.lex(f.data, t+len("trailer")).object(0)); ok && d["Root"] != nil {
			f.trailer = d
			return
		}
	}
	xrefs := f.mentioning(starts, "/XRef")
	for i := len(xrefs) - 1; i >= 0; i-- {
		if d := f.dict(pdfRef{xrefs[i], 0}); d != nil && d["Root"] != nil {
			f.trailer = d
			return
		}
	}
	if oldTrailer != nil && oldTrailer["Root"] != nil {
		f.trailer = oldTrailer
		return
	}
	f.trailer = pdfDict{}
	catalogs := f.mentioning(starts, "/Catalog")
	for i := len(catalogs) - 1; i >= 0; i-- {
		if f.name(f.dict(pdfRef{catalogs[i], 0})["Type"]) == "Catalog" {
			f.trailer["Root"] = pdfRef{catalogs[i], 0}
			return
		}
	}
}

// objStart is where a scanned object begins.
type objStart struct {
	off int64
	num int
}

func (f *pdfFile) objectStarts() []objStart {
	starts := make([]objStart, 0, len(f.scanned))
	for num, off := range f.scanned {
		starts = append(starts, objStart{off, num})
	}
	slices.SortFunc(starts, func(a, b objStart) int { return cmp.Compare(a.off, b.off) })
	return starts
}

// mentioning lists, in file order, the objects within whose text word
// occurs: one pass over the file, however many objects it has.
func (f *pdfFile) mentioning(starts []objStart, word string) []int {
	var nums []int
	last := -1
	for i := 0; ; {
		j := bytes.Index(f.data[i:], []byte(word))
		if j < 0 {
			return nums
		}
		at := int64(i + j)
		i += j + len(word)
		k := sort.Search(len(starts), func(k int) bool { return starts[k].off > at }) - 1
		if k >= 0 && k != last {
			nums = append(nums, starts[k].num)
			last = k
		}
	}
}

func mustDict(o any, err error) (pdfDict, bool) {
	d, ok := o.(pdfDict)
	return d, ok && err == nil
}
