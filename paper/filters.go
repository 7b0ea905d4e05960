package paper

import (
	"bufio"
	"compress/flate"
	"compress/lzw"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"

	tifflzw "golang.org/x/image/tiff/lzw"
)

// PDF's general-purpose filters, each a streaming reader so that decoding
// stops as soon as the caller has what it asked for: a compressed bomb
// costs only what the reader reads.

// flateReader accepts a raw deflate stream too, which some writers emit
// without the zlib header.
func flateReader(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	h, _ := br.Peek(2)
	if len(h) == 2 && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
		return zlib.NewReader(br)
	}
	return flate.NewReader(br), nil
}

// lzwReader: PDF's default EarlyChange 1 is the TIFF variant of LZW.
func lzwReader(r io.Reader, earlyChange int) io.Reader {
	if earlyChange == 0 {
		return lzw.NewReader(r, lzw.MSB, 8)
	}
	return tifflzw.NewReader(r, tifflzw.MSB, 8)
}

func byteReader(r io.Reader) io.ByteReader {
	if br, ok := r.(io.ByteReader); ok {
		return br
	}
	return bufio.NewReader(r)
}

type hexReader struct {
	r    io.ByteReader
	done bool
}

func (h *hexReader) Read(p []byte) (int, error) {
	n := 0
	var hi byte
	odd := false
	for n < len(p) && !h.done {
		c, err := h.r.ReadByte()
		if err == io.EOF || c == '>' {
			h.done = true
			break
		}
		if err != nil {
			return n, err
		}
		v, ok := unhex(c)
		if !ok {
			if isSpace(c) {
				continue
			}
			return n, errors.New("bad ASCIIHex data")
		}
		if odd {
			p[n] = hi<<4 | v
			n++
		} else {
			hi = v
		}
		odd = !odd
	}
	if odd && h.done {
		p[n] = hi << 4 // a lone last digit is followed by 0
		n++
	}
	if h.done && n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ascii85Reader stops at "~>", which encoding/ascii85 does not know.
func ascii85Reader(r io.Reader) io.Reader {
	return ascii85.NewDecoder(&untilTilde{r: byteReader(r)})
}

type untilTilde struct {
	r    io.ByteReader
	done bool
}

func (u *untilTilde) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) && !u.done {
		c, err := u.r.ReadByte()
		if err != nil || c == '~' {
			u.done = true
			break
		}
		p[n] = c
		n++
	}
	if n == 0 && u.done {
		return 0, io.EOF
	}
	return n, nil
}

type runLengthReader struct {
	r       io.ByteReader
	run     int
	literal bool
	b       byte
	done    bool
}

func (rl *runLengthReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if rl.run == 0 {
			if rl.done {
				break
			}
			c, err := rl.r.ReadByte()
			if err != nil || c == 128 {
				rl.done = true
				break
			}
			if c < 128 {
				rl.run, rl.literal = int(c)+1, true
			} else {
				if rl.b, err = rl.r.ReadByte(); err != nil {
					rl.done = true
					break
				}
				rl.run, rl.literal = 257-int(c), false
			}
		}
		if rl.literal {
			c, err := rl.r.ReadByte()
			if err != nil {
				rl.done, rl.run = true, 0
				break
			}
			rl.b = c
		}
		p[n] = rl.b
		n++
		rl.run--
	}
	if n == 0 && rl.done {
		return 0, io.EOF
	}
	return n, nil
}

// maxPredictorRow bounds the two rows a predictor keeps, whatever /Columns
// a hostile file states.
const maxPredictorRow = 4 << 20

func (f *pdfFile) predictor(r io.Reader, p pdfDict) (io.Reader, error) {
	pred := f.int(p["Predictor"], 1)
	if pred == 1 {
		return r, nil
	}
	colors, bpc, cols := f.int(p["Colors"], 1), f.int(p["BitsPerComponent"], 8), f.int(p["Columns"], 1)
	if colors < 1 || colors > 32 || bpc < 1 || bpc > 16 || cols < 1 || int64(cols)*int64(colors)*int64(bpc) > 8*maxPredictorRow {
		return nil, errors.New("bad predictor parameters")
	}
	rowLen := (cols*colors*bpc + 7) / 8
	bpp := max(1, (colors*bpc+7)/8)
	switch {
	case pred == 2:
		if bpc != 8 {
			return nil, fmt.Errorf("TIFF predictor with %d bits per component", bpc)
		}
		return &predictReader{r: r, tiff: true, bpp: bpp, cur: make([]byte, rowLen), prev: make([]byte, rowLen)}, nil
	case pred >= 10 && pred <= 15:
		return &predictReader{r: r, bpp: bpp, cur: make([]byte, rowLen+1), prev: make([]byte, rowLen)}, nil
	}
	return nil, fmt.Errorf("predictor %d", pred)
}

// predictReader undoes PNG predictors (a filter-type byte before each row)
// or the TIFF horizontal predictor, a row at a time.
type predictReader struct {
	r    io.Reader
	tiff bool
	bpp  int
	cur  []byte // the row as read
	prev []byte // the last decoded row, which out reads from
	out  []byte
	err  error
}

func (p *predictReader) Read(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		if len(p.out) == 0 {
			if p.err != nil {
				return n, p.err
			}
			if _, err := io.ReadFull(p.r, p.cur); err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF // a partial last row is dropped
				}
				p.err = err
				continue
			}
			if err := p.undo(); err != nil {
				p.err = err
				continue
			}
			p.out = p.prev
		}
		c := copy(b[n:], p.out)
		p.out = p.out[c:]
		n += c
	}
	return n, nil
}

func (p *predictReader) undo() error {
	if p.tiff {
		row := p.cur
		for i := p.bpp; i < len(row); i++ {
			row[i] += row[i-p.bpp]
		}
		copy(p.prev, row)
		return nil
	}
	typ, row, prev, bpp := p.cur[0], p.cur[1:], p.prev, p.bpp
	switch typ {
	case 0:
	case 1:
		for i := bpp; i < len(row); i++ {
			row[i] += row[i-bpp]
		}
	case 2:
		for i := range row {
			row[i] += prev[i]
		}
	case 3:
		for i := range row {
			left := 0
			if i >= bpp {
				left = int(row[i-bpp])
			}
			row[i] += byte((left + int(prev[i])) / 2)
		}
	case 4:
		for i := range row {
			var a, c int
			if i >= bpp {
				a, c = int(row[i-bpp]), int(prev[i-bpp])
			}
			row[i] += paeth(a, int(prev[i]), c)
		}
	default:
		return fmt.Errorf("PNG predictor type %d", typ)
	}
	copy(p.prev, row)
	return nil
}

func paeth(a, b, c int) byte {
	p := a + b - c
	pa, pb, pc := abs(p-a), abs(p-b), abs(p-c)
	switch {
	case pa <= pb && pa <= pc:
		return byte(a)
	case pb <= pc:
		return byte(b)
	}
	return byte(c)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
