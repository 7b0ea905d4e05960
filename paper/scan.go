package paper

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"strings"
)

// Page is one page image of an upload, in reading order, as 8-bit gray,
// already turned upright per EXIF/TIFF orientation (and, in a PDF, per the
// page's /Rotate and the way its image is drawn). Gray's bounds start at
// (0, 0); it is decoded afresh for fn, which may keep or change it.
type Page struct {
	Index int // 0-based within the file
	Gray  *image.Gray
}

// Limits bound what one upload may cost.
type Limits struct {
	MaxPages  int // pages across the file; 0 = 50
	MaxPixels int // per page, width*height; 0 = 40_000_000
}

const (
	defaultMaxPages  = 50
	defaultMaxPixels = 40_000_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxPages <= 0 {
		l.MaxPages = defaultMaxPages
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = defaultMaxPixels
	}
	return l
}

// FormatError says why a file (or one page of it) cannot be read, in words
// an operator can act on: which format, and what to scan instead.
type FormatError struct {
	Format string // what the file is, or looks like: "PDF", "HEIC photo"
	Page   int    // 0-based page the error is about; -1 = whole file
	Msg    string // what is wrong and what to upload instead

	file string // the upload's name, for Error only
}

// Error names the file and, for a page, counts pages from 1 as people do.
func (e *FormatError) Error() string {
	var b strings.Builder
	if e.file != "" {
		b.WriteString(e.file)
		b.WriteString(": ")
	}
	b.WriteString(e.Format)
	if e.Page >= 0 {
		fmt.Fprintf(&b, " page %d", e.Page+1)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// adviceUpload is what an operator can always fall back to.
const adviceUpload = "scan as PDF with JPEG pages, or take the photo as JPEG/PNG"

func fileError(format, msg string, args ...any) *FormatError {
	return &FormatError{Format: format, Page: -1, Msg: fmt.Sprintf(msg, args...)}
}

func pageError(format string, page int, msg string, args ...any) *FormatError {
	return &FormatError{Format: format, Page: page, Msg: fmt.Sprintf(msg, args...)}
}

// pageSource is one opened upload: how many pages it has, and each page
// decoded on demand so that only one is in memory at a time.
type pageSource interface {
	count() int
	page(i int) (*image.Gray, error)
}

// recoverPanics is turned off by the fuzz target so that a bug shows as a
// crash there instead of as a FormatError.
var recoverPanics = true

// Pages decodes data (one uploaded file; name is only for messages) and
// calls fn with each page, decoding the next only after fn returns, so at
// most one decoded page is in memory. fn's error stops it and is returned.
//
// A file or page that cannot be read stops it with a *FormatError; the pages
// before that one have been passed to fn.
func Pages(data []byte, name string, lim Limits, fn func(Page) error) error {
	lim = lim.withDefaults()
	format := sniff(data)
	var src pageSource
	err := guard(format, -1, func() (err error) {
		src, err = open(data, format, lim)
		return err
	})
	if err != nil {
		return named(err, name)
	}
	for i := 0; i < src.count(); i++ {
		var g *image.Gray
		err := guard(format, i, func() (err error) {
			g, err = src.page(i)
			return err
		})
		if err != nil {
			return named(err, name)
		}
		if err := fn(Page{Index: i, Gray: g}); err != nil {
			return err
		}
	}
	return nil
}

// guard runs one decoding step, turning a panic in it (a bug here or in a
// decoder we call) into a FormatError: the last line of defence, not the
// way errors are meant to travel.
func guard(format string, page int, f func() error) (err error) {
	if recoverPanics {
		defer func() {
			if r := recover(); r != nil {
				err = &FormatError{Format: format, Page: page,
					Msg: fmt.Sprintf("the file is damaged and cannot be read (%v): %s", r, adviceUpload)}
			}
		}()
	}
	return f()
}

func named(err error, name string) error {
	if fe, ok := err.(*FormatError); ok {
		c := *fe
		c.file = name
		return &c
	}
	return err
}

func open(data []byte, format string, lim Limits) (pageSource, error) {
	switch format {
	case "JPEG", "PNG":
		return &single{format: format, data: data, lim: lim}, nil
	case "TIFF":
		return openTIFF(data, lim)
	case "PDF":
		return openPDF(data, lim)
	case "empty file":
		return nil, fileError(format, "the upload is empty: %s", adviceUpload)
	default:
		return nil, unsupported(format)
	}
}

// unsupported explains formats that people do upload but we cannot read.
func unsupported(format string) *FormatError {
	switch format {
	case "HEIC photo":
		return fileError(format, "HEIC photos cannot be read: take the photo as JPEG "+
			"(on iPhone: Settings > Camera > Formats > Most Compatible), or scan as PDF with JPEG pages")
	case "BigTIFF":
		return fileError(format, "BigTIFF files cannot be read: %s", adviceUpload)
	}
	return fileError(format, "this is %s, not a scan we can read: %s", article(format), adviceUpload)
}

func article(format string) string {
	switch {
	case format == "unknown":
		return "a file of unknown type"
	case strings.HasPrefix(format, "a ") || strings.HasPrefix(format, "an "):
		return format
	case strings.ContainsRune("AEIOU", rune(format[0])):
		return "an " + format
	}
	return "a " + format
}

// sniff tells the format from the bytes: uploads are often renamed, and a
// name says nothing about what a phone really saved.
func sniff(b []byte) string {
	has := func(off int, s string) bool {
		return len(b) >= off+len(s) && string(b[off:off+len(s)]) == s
	}
	switch {
	case len(b) == 0:
		return "empty file"
	case has(0, "\xff\xd8\xff"):
		return "JPEG"
	case has(0, "\x89PNG\r\n\x1a\n"):
		return "PNG"
	case has(0, "II*\x00"), has(0, "MM\x00*"):
		return "TIFF"
	case has(0, "II+\x00"), has(0, "MM\x00+"):
		return "BigTIFF"
	case bytes.Contains(b[:min(len(b), 1024)], []byte("%PDF-")):
		return "PDF"
	case has(0, "GIF87a"), has(0, "GIF89a"):
		return "GIF"
	case has(0, "RIFF") && has(8, "WEBP"):
		return "WebP"
	case has(0, "BM") && len(b) >= 26:
		return "BMP"
	case has(4, "ftyp"):
		return isoBrand(b)
	case has(0, "\x00\x00\x00\x0cjP  \r\n\x87\n"), has(0, "\xff\x4f\xff\x51"):
		return "JPEG 2000 image"
	case has(0, "\x97JB2\r\n\x1a\n"):
		return "JBIG2 image"
	case has(0, "PK\x03\x04"):
		return zipKind(b)
	case has(0, "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
		return "an old Office document (Word/Excel)"
	case has(0, "{\\rtf"):
		return "an RTF document"
	case has(0, "%!PS"):
		return "PostScript file"
	}
	head := bytes.ToLower(b[:min(len(b), 512)])
	switch {
	case bytes.Contains(head, []byte("<svg")):
		return "an SVG drawing"
	case bytes.Contains(head, []byte("<html")), bytes.Contains(head, []byte("<!doctype html")):
		return "a web page"
	}
	return "unknown"
}

func isoBrand(b []byte) string {
	if len(b) < 12 {
		return "unknown"
	}
	switch string(b[8:12]) {
	case "heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1":
		return "HEIC photo"
	case "avif", "avis":
		return "AVIF photo"
	}
	return "a video"
}

func zipKind(b []byte) string {
	head := b[:min(len(b), 4096)]
	switch {
	case bytes.Contains(head, []byte("word/")):
		return "a Word document"
	case bytes.Contains(head, []byte("xl/")):
		return "an Excel workbook"
	case bytes.Contains(head, []byte("ppt/")):
		return "a PowerPoint file"
	case bytes.Contains(head, []byte("opendocument")):
		return "an OpenDocument file"
	}
	return "a ZIP archive"
}

// checkPixels refuses a page before it is decoded, so that its size alone
// cannot exhaust memory.
func checkPixels(format string, page, w, h int, lim Limits) error {
	if w <= 0 || h <= 0 {
		return pageError(format, page, "the page has no pixels (%d×%d): the file is damaged; %s", w, h, adviceUpload)
	}
	if int64(w)*int64(h) > int64(lim.MaxPixels) {
		return pageError(format, page, "the page is %d×%d pixels; scan at 300 dpi or less", w, h)
	}
	return nil
}

// single is a one-page JPEG or PNG upload.
type single struct {
	format string
	data   []byte
	lim    Limits
}

func (s *single) count() int { return 1 }

// page reports errors about the whole file: a photo has no other pages.
func (s *single) page(int) (*image.Gray, error) {
	const whole = -1
	decodeConfig, decode := png.DecodeConfig, png.Decode
	orient := 1
	if s.format == "JPEG" {
		decodeConfig, decode = jpeg.DecodeConfig, jpeg.Decode
		orient = jpegOrientation(s.data)
	}
	cfg, err := decodeConfig(bytes.NewReader(s.data))
	if err != nil {
		return nil, damaged(s.format, whole, err)
	}
	if err := checkPixels(s.format, whole, cfg.Width, cfg.Height, s.lim); err != nil {
		return nil, err
	}
	img, err := decode(bytes.NewReader(s.data))
	if err != nil {
		return nil, damaged(s.format, whole, err)
	}
	return orientGray(toGray(img), orient), nil
}

// damaged reports a decoder's complaint with the decoder's own words kept
// for whoever debugs it, and what the operator should do.
func damaged(format string, page int, err error) *FormatError {
	return pageError(format, page, "the image data is damaged (%v): %s", err, adviceUpload)
}
