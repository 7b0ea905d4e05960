package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"path/filepath"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/image/draw"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/store"
)

// MaxScanPages bounds the pages of one upload, across its files.
const MaxScanPages = 50

// ScannedPage is what became of one uploaded page.
type ScannedPage struct {
	ID           string         `json:"id,omitempty" doc:"the kept page, for the review queue"`
	File         string         `json:"file"`
	Page         int            `json:"page" doc:"1-based within the file"`
	Status       string         `json:"status" doc:"recorded, review, duplicate or unreadable"`
	Reason       string         `json:"reason,omitempty"`
	InvitationID string         `json:"invitation_id,omitempty"`
	DossierCode  string         `json:"dossier_code,omitempty"`
	Answers      map[string]int `json:"answers,omitempty" doc:"question → 1–5, 0 no opinion: recorded, or the reader's proposal"`
}

type scanResult struct {
	Pages []ScannedPage `json:"pages"`
}

// scans reads a stack of scanned forms: POST /api/v1/forms/scans,
// multipart, field file (repeatable), through ReadUpload.
func (a *API) scans(c *fiber.Ctx) error {
	pages, err := a.ReadUpload(c.UserContext(), Principal(c), c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	return c.JSON(scanResult{Pages: pages})
}

// ReadUpload reads a multipart/form-data body (contentType its
// Content-Type) of scanned forms in fields named file, each file through
// ReadScans, at most MaxScanPages pages in all: what became of each page,
// in order. Each file is read a page at a time and each page filed before
// the next is decoded, so memory holds the body, one file's bytes and one
// page. An error is core.Invalid (field file) for a body that is not such
// an upload, or ReadScans's: the pages returned with it were filed.
func (a *API) ReadUpload(ctx context.Context, p *core.Principal, contentType string, body []byte) ([]ScannedPage, error) {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil || params["boundary"] == "" {
		return nil, core.Errorf(core.Invalid, "file", "send multipart/form-data with the scans in fields named file")
	}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	out := []ScannedPage{}
	files, pages := 0, 0
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, core.Errorf(core.Invalid, "file", "the multipart body is malformed: %v", err)
		}
		if part.FormName() != "file" {
			continue
		}
		files++
		name := filepath.Base(part.FileName())
		if name == "." || name == "/" {
			name = fmt.Sprintf("file %d", files)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return out, core.Errorf(core.Invalid, "file", "%s could not be read: %v", name, err)
		}
		got, err := a.ReadScans(ctx, p, name, data, MaxScanPages-pages)
		pages += len(got)
		out = append(out, got...)
		if err != nil {
			return out, err // the pages before were filed: recorded or in the review queue
		}
	}
	if files == 0 {
		return out, core.Errorf(core.Invalid, "file", "no file: send the scans in multipart fields named file")
	}
	return out, nil
}

// ReadScans reads one uploaded file of scanned forms, at most room pages
// (what is left of an upload's MaxScanPages), and files each page before
// decoding the next: what became of each, in order. A file that cannot
// be decoded is one unreadable entry saying why; an error means the
// pages listed were filed and the rest were not.
func (a *API) ReadScans(ctx context.Context, p *core.Principal, name string, data []byte, room int) ([]ScannedPage, error) {
	if room <= 0 {
		return []ScannedPage{{File: name, Status: store.ScanUnreadable,
			Reason: fmt.Sprintf("not read: an upload takes at most %d pages; send this file again on its own", MaxScanPages)}}, nil
	}
	var out []ScannedPage
	err := paper.Pages(data, name, paper.Limits{MaxPages: room}, func(pg paper.Page) error {
		sc, err := a.Core.FilePaper(ctx, p, readPage(name, pg))
		if err != nil {
			return err
		}
		out = append(out, ScannedPage{ID: sc.ID, File: name, Page: sc.Page, Status: sc.Status, Reason: sc.Reason,
			InvitationID: sc.InvitationID, DossierCode: sc.Dossier, Answers: sc.Answers})
		return nil
	})
	var fe *paper.FormatError
	if errors.As(err, &fe) {
		return append(out, ScannedPage{File: name, Page: fe.Page + 1, Status: store.ScanUnreadable, Reason: fe.Error()}), nil
	}
	return out, err
}

// readPage reads one page with the mark reader and makes what is kept of
// it: the page straightened to the form's layout at 100 dpi (or, when no
// form was found, as it came, downscaled) and the comment's area.
func readPage(file string, pg paper.Page) core.PaperPage {
	out := core.PaperPage{File: file, Page: pg.Index + 1}
	r, err := paper.Read(pg.Gray)
	slip := err == nil && r.Layout != nil && r.Layout.Survey == paper.Slip && r.Transform != nil
	if err != nil || r.Status == paper.StatusUnreadable && !slip {
		out.Unreadable = "no form found on the page"
		if r != nil && r.Reason != "" {
			out.Unreadable = r.Reason
		}
		out.Image = jpegOf(shrink(pg.Gray, 1100), 60)
		return out
	}
	code := r.Code
	out.Code = &code
	out.Straight = true
	out.Image = jpegOf(r.Rectified(100), 70)
	comment := r.Crop(r.Layout.Comment, 150)
	if slip || paper.HasInk(comment) { // a slip's writing is all there is
		out.Comment = true
		out.CommentImage = jpegOf(comment, 75)
	}
	out.Answers = r.Answers
	for _, q := range r.Questions {
		switch q.Status {
		case paper.QuestionOK, paper.QuestionBlank:
		default:
			out.Unsure = append(out.Unsure, store.ScanQuestion{Question: q.Question, Status: q.Status, Marked: q.Marked})
		}
	}
	if r.Status == paper.StatusReview {
		out.Review = r.Reason
	}
	return out
}

// shrink scales img down so its longer side is at most max pixels.
func shrink(img *image.Gray, max int) image.Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= max && h <= max {
		return img
	}
	scale := float64(max) / float64(w)
	if h > w {
		scale = float64(max) / float64(h)
	}
	dst := image.NewGray(image.Rect(0, 0, int(float64(w)*scale), int(float64(h)*scale)))
	draw.ApproxBiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	return dst
}

func jpegOf(img image.Image, quality int) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil
	}
	return b.Bytes()
}
