package paper

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"image"
	"io"

	"golang.org/x/image/tiff"
	"golang.org/x/image/tiff/lzw"
)

// TIFF tags this file reads itself; x/image/tiff reads the rest.
const (
	tagNewSubfileType  = 254
	tagWidth           = 256
	tagHeight          = 257
	tagBitsPerSample   = 258
	tagCompression     = 259
	tagPhotometric     = 262
	tagStripOffsets    = 273
	tagSamplesPerPixel = 277
	tagRowsPerStrip    = 278
	tagStripByteCounts = 279
	tagTileWidth       = 322
	tagTileLength      = 323
	tagTileOffsets     = 324
	tagTileByteCounts  = 325
	tagT4Options       = 292
)

// tiffFile is a TIFF upload; each full-resolution IFD is a page.
// x/image/tiff decodes only the IFD the header points at, so each page is
// decoded through a view of the file whose header points at that page's IFD.
type tiffFile struct {
	t     tiffData
	pages []uint32 // IFD offsets in file order
	lim   Limits
}

// reducedImage is NewSubfileType's bit for a thumbnail of another page.
const reducedImage = 1

func openTIFF(data []byte, lim Limits) (pageSource, error) {
	t, off, ok := parseTIFFHeader(data)
	if !ok {
		return nil, fileError("TIFF", "the file is damaged (no TIFF header): %s", adviceUpload)
	}
	f := &tiffFile{t: t, lim: lim}
	seen := map[uint32]bool{}
	// Thumbnails may sit between pages, so allow some more IFDs than pages.
	for walked := 0; off != 0 && !seen[off]; walked++ {
		if walked > 2*lim.MaxPages+2 {
			return nil, tooManyPages("TIFF", lim)
		}
		seen[off] = true
		entries, next, ok := t.ifd(off)
		if !ok {
			if len(f.pages) == 0 {
				return nil, fileError("TIFF", "the file is damaged (its first page cannot be found): %s", adviceUpload)
			}
			break // a broken link after the last page: keep the pages we have
		}
		if t.first(entries, tagNewSubfileType, 0)&reducedImage == 0 {
			f.pages = append(f.pages, off)
		}
		off = next
	}
	if len(f.pages) > lim.MaxPages {
		return nil, tooManyPages("TIFF", lim)
	}
	if len(f.pages) == 0 {
		return nil, fileError("TIFF", "the file has no pages: %s", adviceUpload)
	}
	return f, nil
}

func tooManyPages(format string, lim Limits) *FormatError {
	return fileError(format, "the file has more than %d pages: upload at most %d pages per file", lim.MaxPages, lim.MaxPages)
}

func (f *tiffFile) count() int { return len(f.pages) }

func (f *tiffFile) page(i int) (*image.Gray, error) {
	t := f.t
	entries, _, ok := t.ifd(f.pages[i])
	if !ok {
		return nil, pageError("TIFF", i, "the page is damaged: %s", adviceUpload)
	}
	c := t.first(entries, tagCompression, 1)
	switch c {
	case 1, 3, 4, 5, 8, 32946, 32773: // none, CCITT fax, LZW, Deflate, PackBits
	case 6, 7:
		return nil, pageError("TIFF", i, "this TIFF uses JPEG compression inside TIFF, which cannot be read: "+
			"%s, or save the TIFF with LZW or no compression", adviceUpload)
	default:
		return nil, pageError("TIFF", i, "this TIFF uses compression type %d, which cannot be read: "+
			"%s, or save the TIFF with LZW or no compression", c, adviceUpload)
	}
	if c == 3 && t.first(entries, tagT4Options, 0)&1 != 0 {
		return nil, pageError("TIFF", i, "this TIFF uses two-dimensional Group 3 fax compression, which cannot "+
			"be read: save it with Group 4 (CCITT G4) or LZW compression, or %s", adviceUpload)
	}
	// The size as x/image/tiff reads it is the size it will allocate.
	view := &headerView{data: t.b, bo: t.bo, ifd: f.pages[i]}
	cfg, err := tiff.DecodeConfig(view)
	if err != nil {
		return nil, damaged("TIFF", i, err)
	}
	w, h := cfg.Width, cfg.Height
	if err := checkPixels("TIFF", i, w, h, f.lim); err != nil {
		return nil, err
	}
	layout, ok := t.layout(entries, w, h)
	if !ok {
		return nil, pageError("TIFF", i, "the page's strips or tiles are laid out as no scanner writes them: "+
			"the file is damaged; %s", adviceUpload)
	}
	// Uncompressed and fax data cannot outgrow the page; the others might.
	if c != 1 && c != 3 && c != 4 && !f.expandsWithin(entries, layout, c) {
		return nil, pageError("TIFF", i, "the page's compressed data expands beyond its "+
			"stated size: the file is damaged; %s", adviceUpload)
	}
	img, err := tiff.Decode(&headerView{data: t.b, bo: t.bo, ifd: f.pages[i]})
	if err != nil {
		return nil, damaged("TIFF", i, err)
	}
	g := toGray(img)
	// Fax data codes white and black runs as 0 and 1 bits, which libtiff,
	// and so every viewer, then colours by PhotometricInterpretation: in a
	// black-is-zero page the "white" runs show black. x/image/tiff paints
	// them white whatever the photometric says, so such a page is turned
	// back here. White-is-zero, what scanners write, needs nothing.
	if (c == 3 || c == 4) && t.first(entries, tagPhotometric, 0) == 1 {
		invertGray(g)
	}
	return orientGray(g, validOrientation(t.first(entries, tagOrientation, 1))), nil
}

// blockLayout is how a page is cut into strips or tiles.
type blockLayout struct {
	w, h             int64 // of one block
	count            int64 // blocks the page is made of
	offTag, countTag uint16
}

// maxTIFFBlocks is far more strips or tiles than a scanner writes; each
// costs the decoder a fresh decompressor, so a million of them would not.
const maxTIFFBlocks = 1 << 16

func (t tiffData) layout(entries []ifdEntry, w, h int) (blockLayout, bool) {
	l := blockLayout{w: int64(w), h: int64(t.first(entries, tagRowsPerStrip, uint32(h))),
		offTag: tagStripOffsets, countTag: tagStripByteCounts}
	l.h = min(max(l.h, 1), int64(h))
	if _, tiled := findEntry(entries, tagTileWidth); tiled {
		l.w, l.h = int64(t.first(entries, tagTileWidth, 0)), int64(t.first(entries, tagTileLength, 0))
		l.offTag, l.countTag = tagTileOffsets, tagTileByteCounts
		if l.w <= 0 || l.h <= 0 || l.w > 2*int64(w)+16 || l.h > 2*int64(h)+16 {
			return l, false
		}
	}
	l.count = (int64(h) + l.h - 1) / l.h * ((int64(w) + l.w - 1) / l.w)
	return l, l.count <= maxTIFFBlocks
}

// expandsWithin decompresses each strip or tile into nothing and checks it
// stays within what the page's size allows. x/image/tiff would otherwise
// buffer up to 8 bytes per pixel of a block before checking anything.
func (f *tiffFile) expandsWithin(entries []ifdEntry, l blockLayout, compression uint32) bool {
	t := f.t
	spp := int64(t.first(entries, tagSamplesPerPixel, 1))
	bps := int64(t.first(entries, tagBitsPerSample, 1))
	if e, ok := findEntry(entries, tagBitsPerSample); ok {
		if all := t.ints(e); len(all) > 0 {
			bps = 0
			for _, b := range all {
				bps += int64(b)
			}
			spp = 1 // the sum already counts every sample
		}
	}
	if bps <= 0 || bps > 128 || spp <= 0 || spp > 16 {
		return false // no decoder here reads such samples; refuse rather than guess
	}
	rowBytes := (l.w*spp*bps + 7) / 8
	limit := rowBytes*(l.h+1) + 1024
	oe, ok1 := findEntry(entries, l.offTag)
	ce, ok2 := findEntry(entries, l.countTag)
	if !ok1 || !ok2 {
		return true // nothing to expand; the decoder reports what is missing
	}
	offs, counts := t.ints(oe), t.ints(ce)
	// Only the blocks the page is made of are decoded; more listed are ignored.
	var z io.ReadCloser
	for j := 0; j < len(offs) && j < len(counts) && int64(j) < l.count; j++ {
		sec := io.NewSectionReader(bytes.NewReader(t.b), int64(offs[j]), int64(counts[j]))
		var r io.Reader
		switch compression {
		case 5:
			r = lzw.NewReader(sec, lzw.MSB, 8)
		case 32773:
			r = &packBitsReader{r: bufio.NewReader(sec)}
		default:
			var err error
			if z == nil {
				z, err = zlib.NewReader(sec)
			} else {
				err = z.(zlib.Resetter).Reset(sec, nil)
			}
			if err != nil {
				continue // the decoder reports it
			}
			r = z
		}
		n, _ := io.CopyN(io.Discard, r, limit+1)
		if c, ok := r.(io.Closer); ok && r != z {
			c.Close()
		}
		if n > limit {
			return false
		}
	}
	return true
}

// packBitsReader expands TIFF PackBits just far enough to count its output.
type packBitsReader struct {
	r       io.ByteReader
	run     int  // bytes left in the current run
	literal bool // the run copies input bytes rather than repeating one
	b       byte
}

func (p *packBitsReader) Read(out []byte) (int, error) {
	n := 0
	for n < len(out) {
		if p.run == 0 {
			c, err := p.r.ReadByte()
			if err != nil {
				return n, err
			}
			switch h := int8(c); {
			case h >= 0:
				p.run, p.literal = int(h)+1, true
			case h != -128:
				if p.b, err = p.r.ReadByte(); err != nil {
					return n, err
				}
				p.run, p.literal = 1-int(h), false
			}
			continue
		}
		if p.literal {
			c, err := p.r.ReadByte()
			if err != nil {
				return n, err
			}
			p.b = c
		}
		out[n] = p.b
		n++
		p.run--
	}
	return n, nil
}

// headerView is the TIFF file with its first-IFD offset replaced, so that
// x/image/tiff decodes the IFD at ifd. It reads from the file in place: no
// page costs a copy of the upload.
type headerView struct {
	data []byte
	bo   binary.ByteOrder
	ifd  uint32
	pos  int64
}

func (v *headerView) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= int64(len(v.data)) {
		return 0, io.EOF
	}
	n := copy(p, v.data[off:])
	// Patch the bytes of the header's offset field that this read covers.
	var hdr [4]byte
	v.bo.PutUint32(hdr[:], v.ifd)
	for i := int64(4); i < 8; i++ {
		if i >= off && i < off+int64(n) {
			p[i-off] = hdr[i-4]
		}
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (v *headerView) Read(p []byte) (int, error) {
	n, err := v.ReadAt(p, v.pos)
	v.pos += int64(n)
	return n, err
}
