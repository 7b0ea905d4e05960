package server

import (
	"bytes"
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/paper"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// formPDF is one invitation's printable form.
func (a *API) formPDF(c *fiber.Ctx) error {
	inv, err := a.Core.Invitation(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	f, err := a.Core.PaperForm(c.UserContext(), Principal(c), inv, c.Query("survey"), "")
	if err != nil {
		return err
	}
	return SendForms(c, []paper.Form{f}, "phieu-"+inv.DossierCode+".pdf")
}

// FormsRequest names the invitations of a desk's day, by id or by
// dossier code (one list or the other), and optionally the form.
type FormsRequest struct {
	InvitationIDs []string `json:"invitation_ids,omitempty"`
	DossierCodes  []string `json:"dossier_codes,omitempty"`
	Survey        string   `json:"survey,omitempty" doc:"the form to print (sipas, sipas-5, overall); default: each invitation's survey"`
}

// forms prints many invitations' forms as one PDF, a form per page. One
// dossier that cannot have a form (answered, expired, unknown) refuses
// the whole request, naming it, so a desk never hands out a form that
// will not count.
func (a *API) forms(c *fiber.Ctx) error {
	var req FormsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	field, keys := "invitation_ids", req.InvitationIDs
	switch {
	case len(req.InvitationIDs) > 0 && len(req.DossierCodes) > 0:
		return core.Errorf(core.Invalid, "dossier_codes", "give invitation_ids or dossier_codes, not both")
	case len(req.DossierCodes) > 0:
		field, keys = "dossier_codes", req.DossierCodes
	case len(keys) == 0:
		return core.Errorf(core.Invalid, "invitation_ids", "required: the invitations to print, or dossier_codes")
	}
	if len(keys) > core.MaxForms {
		return core.Errorf(core.Invalid, field, "at most %d forms a request; split the list", core.MaxForms)
	}
	ctx, p := c.UserContext(), Principal(c)
	forms := make([]paper.Form, 0, len(keys))
	seen := map[string]bool{}
	for i, key := range keys {
		at := fmt.Sprintf("%s[%d]", field, i)
		find := a.Core.Invitation
		if field == "dossier_codes" {
			find = a.Core.InvitationByDossier
		}
		inv, err := find(ctx, key)
		if err != nil {
			if e, ok := err.(*core.Error); ok {
				return core.Errorf(e.Code, at, "%s", e.Message)
			}
			return err
		}
		if seen[inv.ID] {
			return core.Errorf(core.Invalid, at, "dossier %s is listed twice", inv.DossierCode)
		}
		seen[inv.ID] = true
		f, err := a.Core.PaperForm(ctx, p, inv, req.Survey, at)
		if err != nil {
			return err
		}
		forms = append(forms, f)
	}
	return SendForms(c, forms, "phieu-khao-sat.pdf")
}

// SendForms answers forms as one PDF, a form per page, named name (the
// API's and the console's print).
func SendForms(c *fiber.Ctx, forms []paper.Form, name string) error {
	var b bytes.Buffer
	if err := paper.WritePDF(&b, forms); err != nil {
		return err
	}
	return sendPDF(c, b.Bytes(), name)
}

func sendPDF(c *fiber.Ctx, pdf []byte, name string) error {
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+name+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	c.Type("pdf")
	return c.Send(pdf)
}

// formLayout is a form's geometry, for scanning vendors and tests.
func (a *API) formLayout(c *fiber.Ctx) error {
	id := c.Query("survey", "sipas")
	if _, ok := a.Core.Surveys.Survey(survey.ID(id)); !ok {
		return core.Errorf(core.Invalid, "survey", "unknown survey %q; forms exist for %v", id, paper.Surveys())
	}
	var l *paper.Layout
	var err error
	if v := c.Query("version"); v != "" {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return core.Errorf(core.Invalid, "version", "a layout version is a whole number from 1")
		}
		l, err = paper.Get(id, n)
	} else {
		l, err = paper.Current(id)
	}
	if err != nil {
		return core.Errorf(core.NotFound, "version", "%v", err)
	}
	c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
	return c.JSON(l)
}

// scanReview lists the scanned pages waiting for an operator.
func (a *API) scanReview(c *fiber.Ctx) error {
	limit, offset, err := pageArgs(c, 50)
	if err != nil {
		return err
	}
	page, err := a.Core.ScansInReview(c.UserContext(), Principal(c), c.Query("agency"), limit, offset)
	if err != nil {
		return err
	}
	for i := range page.Scans {
		a.scanLinks(&page.Scans[i])
	}
	return c.JSON(page)
}

// scanLinks fills a page's image addresses.
func (a *API) scanLinks(sc *store.Scan) {
	base := "/api/v1/forms/review/" + sc.ID
	sc.ImageURL = base + "/page.jpg"
	if sc.Comment {
		sc.CommentImageURL = base + "/comment.jpg"
	}
}

// ScanImage serves a kept page's image, or its comment's, to a principal
// who may see the page (the API's and the console's).
func (a *API) ScanImage(comment bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		sc, err := a.Core.Scan(c.UserContext(), Principal(c), c.Params("id"))
		if err != nil {
			return err
		}
		img := sc.Image
		if comment {
			img = sc.CommentImage
		}
		if len(img) == 0 {
			return core.Errorf(core.NotFound, "", "page %s has no such image (the retention sweep removes them)", sc.ID)
		}
		c.Set(fiber.HeaderCacheControl, "private, max-age=3600")
		c.Type("jpg")
		return c.Send(img)
	}
}

// resolveScan settles a page in review.
func (a *API) resolveScan(c *fiber.Ctx) error {
	var r core.Resolution
	if err := decodeJSON(c, &r); err != nil {
		return err
	}
	sc, err := a.Core.ResolveScan(c.UserContext(), Principal(c), c.Params("id"), r)
	if err != nil {
		return err
	}
	a.scanLinks(sc)
	return c.JSON(sc)
}

// poster is an office's suggestion-box poster: a QR to its feedback page.
func (a *API) poster(c *fiber.Ctx) error {
	f, err := a.Core.Poster(c.UserContext(), Principal(c), c.Params("code"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := paper.WritePoster(&b, f); err != nil {
		return err
	}
	return sendPDF(c, b.Bytes(), "hom-thu-gop-y-"+c.Params("code")+".pdf")
}

// slips are an office's blank suggestion-box slips, read back like forms.
func (a *API) slips(c *fiber.Ctx) error {
	n := c.QueryInt("count", 20)
	if n < 1 || n > 200 {
		return core.Errorf(core.Invalid, "count", "print 1 to 200 slips at a time")
	}
	f, err := a.Core.Slips(c.UserContext(), Principal(c), c.Params("code"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := paper.WriteSlips(&b, f, n); err != nil {
		return err
	}
	return sendPDF(c, b.Bytes(), "phieu-gop-y-"+c.Params("code")+".pdf")
}
