package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
)

// The feedback page (hòm thư góp ý) a suggestion box's poster opens:
// /g/{agency token} takes a góp ý, phản ánh or kiến nghị; its thank-you
// page, /g/{token}/done/{ticket}, gives the reference number, takes the
// one-time code that confirms a phone for the answer, and shows the
// answer once the agency gave it. Same look, same rules as the survey
// page: no script, Vietnamese first.

// fbPage is what the feedback templates get.
type fbPage struct {
	Lang, Title, Self string
	T                 map[string]string
	Agency, Action    string
	// the form
	Nonce, Type, Text, Phone, Dossier string
	Types                             []fbType
	Problems                          []fbProblem
	Bad                               map[string]bool // fields with a problem
	Max                               int
	// the thank-you page
	Status           *core.FeedbackStatus
	PhoneLine, Flash string
	FlashBad         bool
}

type fbType struct{ Value, Label, Hint string }

// fbProblem is a field's problem as the page says it: the field's id
// (for the link to it) and the message.
type fbProblem struct{ Field, Message string }

func init() {
	tmpl["feedback"] = parse("feedback")
	tmpl["feedbackdone"] = parse("feedbackdone")
}

// mountFeedback adds the feedback pages.
func (h *handler) mountFeedback(app *fiber.App) {
	app.Get("/g/:token", h.fbWrap(h.fbForm))
	app.Post("/g/:token", h.fbWrap(h.fbSubmit))
	app.Get("/g/:token/done/:ticket", h.fbWrap(h.fbDone))
	app.Post("/g/:token/done/:ticket", h.fbWrap(h.fbCode))
}

// fbWrap finds the token's agency for fn, within the page rate limit,
// and turns an error into a page in the feedback's words.
func (h *handler) fbWrap(fn func(*fiber.Ctx, *store.Agency, *fbPage) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		l := lang(c.Query("lang", c.FormValue("lang")))
		err := h.core.Allow(c.UserContext(), "page", channels.ClientIP(c))
		var ag *store.Agency
		if err == nil {
			ag, err = h.core.FeedbackAgency(c.UserContext(), c.Params("token"))
		}
		if err == nil {
			err = fn(c, ag, h.fbPage(c, ag, l))
		}
		if err == nil {
			return nil
		}
		p := &page{Lang: l, T: fbWords[l], Self: c.Path() + "?"}
		status := core.CodeOf(err).Status()
		switch core.CodeOf(err) {
		case core.NotFound:
			p.Kind, p.Title, p.Body = "bad", p.T["notfound_t"], p.T["notfound"]
		case core.RateLimited:
			p.Kind, p.Title, p.Body = "bad", p.T["retry_t"], p.T["slow"]
			c.Set(fiber.HeaderRetryAfter, "60")
		default:
			h.log.Error("feedback page failed", "path", c.Route().Path, "err", err)
			status = fiber.StatusServiceUnavailable
			p.Kind, p.Title, p.Body = "bad", p.T["retry_t"], p.T["retry"]
			c.Set(fiber.HeaderRetryAfter, "60")
		}
		return h.send(c, status, "message", p)
	}
}

func (h *handler) fbPage(c *fiber.Ctx, ag *store.Agency, l string) *fbPage {
	p := &fbPage{Lang: l, T: fbWords[l], Self: c.Path() + "?", Agency: ag.Name, Max: core.MaxFeedback,
		Action: "/g/" + url.PathEscape(c.Params("token"))}
	if l == "en" && ag.NameEN != "" {
		p.Agency = ag.NameEN
	}
	for _, t := range core.FeedbackTypes {
		p.Types = append(p.Types, fbType{Value: t, Label: p.T["type_"+t], Hint: p.T["hint_"+t]})
	}
	return p
}

func (h *handler) fbSend(c *fiber.Ctx, status int, name string, p *fbPage) error {
	var b bytes.Buffer
	if err := tmpl[name].ExecuteTemplate(&b, "layout", p); err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b.Bytes())
}

// fbForm shows the empty form, with its one-time field.
func (h *handler) fbForm(c *fiber.Ctx, _ *store.Agency, p *fbPage) error {
	p.Title, p.Nonce = p.T["title"], string(qr.NewToken())
	return h.fbSend(c, fiber.StatusOK, "feedback", p)
}

// fbSubmit takes the form: a case, then the thank-you page (303); bad
// input, the form again (422) with what was typed and a message naming
// each field at fault; over a limit, the form again (429).
func (h *handler) fbSubmit(c *fiber.Ctx, ag *store.Agency, p *fbPage) error {
	in := core.FeedbackInput{Type: c.FormValue("type"), Text: c.FormValue("text"), Phone: c.FormValue("phone"),
		Dossier: c.FormValue("dossier_code"), Nonce: c.FormValue("nonce"), Locale: p.Lang, Address: channels.ClientIP(c)}
	rec, err := h.core.SubmitFeedback(c.UserContext(), ag, in)
	if err == nil {
		return c.Redirect(p.Action+"/done/"+rec.Ticket+"?lang="+p.Lang, fiber.StatusSeeOther)
	}
	p.Title, p.Nonce = p.T["title"], in.Nonce
	if _, err := qr.ParseToken(in.Nonce); err != nil {
		p.Nonce = string(qr.NewToken())
	}
	p.Type, p.Text, p.Phone, p.Dossier = in.Type, in.Text, in.Phone, in.Dossier
	var probs core.FeedbackProblems
	var ce *core.Error
	switch {
	case errors.As(err, &probs):
		p.Bad = map[string]bool{}
		for _, pr := range probs {
			msg := p.T["bad_"+pr.Field+"_"+pr.Problem]
			if pr.Problem == "too_long" {
				msg = fmt.Sprintf(msg, pr.Length, core.MaxFeedback)
			}
			p.Problems = append(p.Problems, fbProblem{Field: pr.Field, Message: msg})
			p.Bad[pr.Field] = true
		}
		return h.fbSend(c, fiber.StatusUnprocessableEntity, "feedback", p)
	case errors.As(err, &ce) && ce.Code == core.RateLimited:
		p.Problems = []fbProblem{{Message: fmt.Sprintf(p.T["limited"], waitText(ce.RetryAfter, p.Lang))}}
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(ce.RetryAfter.Seconds())+1))
		return h.fbSend(c, fiber.StatusTooManyRequests, "feedback", p)
	}
	return err
}

// waitText says how long to wait, in minutes (at least one).
func waitText(d time.Duration, l string) string {
	m := int(d.Minutes()) + 1
	if l == "en" {
		return strconv.Itoa(m) + " min"
	}
	return strconv.Itoa(m) + " phút"
}

// fbDone is the thank-you page of ticket.
func (h *handler) fbDone(c *fiber.Ctx, ag *store.Agency, p *fbPage) error {
	return h.fbShowDone(c, ag, p, fiber.StatusOK)
}

func (h *handler) fbShowDone(c *fiber.Ctx, ag *store.Agency, p *fbPage, status int) error {
	ticket := c.Params("ticket")
	if _, err := qr.ParseToken(ticket); err != nil {
		return core.Errorf(core.NotFound, "", "unknown feedback ticket")
	}
	st, err := h.core.FeedbackTicket(c.UserContext(), ag, ticket)
	if err != nil {
		return err
	}
	if c.Query("lang", c.FormValue("lang")) == "" && st.Lang != p.Lang { // the language the feedback was written in
		flash, bad := p.Flash, p.FlashBad
		*p = *h.fbPage(c, ag, lang(st.Lang))
		p.Flash, p.FlashBad = flash, bad
	}
	p.Title, p.Status, p.Action = p.T["done_t"], st, p.Action+"/done/"+ticket
	if p.Flash == "" && c.Query("sent") == "1" {
		p.Flash = p.T["code_resent"]
	}
	switch st.Phone {
	case store.PhonePending:
		p.PhoneLine = fmt.Sprintf(p.T["phone_pending"], st.Mask)
		if !st.CodeSent {
			p.PhoneLine = p.T["phone_nocode"]
		}
	case store.PhoneConfirmed:
		p.PhoneLine = fmt.Sprintf(p.T["phone_confirmed"], st.Mask)
	case store.PhoneUnsent:
		p.PhoneLine = fmt.Sprintf(p.T["phone_unsent_"+st.Why], st.Mask)
	default:
		p.PhoneLine = p.T["phone_none"]
	}
	return h.fbSend(c, status, "feedbackdone", p)
}

// fbCode takes the thank-you page's form: the one-time code
// (action=confirm), or a request for a new one (action=resend).
func (h *handler) fbCode(c *fiber.Ctx, ag *store.Agency, p *fbPage) error {
	ticket := c.Params("ticket")
	if _, err := qr.ParseToken(ticket); err != nil {
		return core.Errorf(core.NotFound, "", "unknown feedback ticket")
	}
	done := p.Action + "/done/" + ticket + "?lang=" + p.Lang
	if c.FormValue("action") == "resend" {
		err := h.core.ResendFeedbackCode(c.UserContext(), ag, ticket)
		var ce *core.Error
		switch {
		case err == nil:
			return c.Redirect(done+"&sent=1", fiber.StatusSeeOther)
		case errors.As(err, &ce) && ce.Code == core.RateLimited:
			p.Flash, p.FlashBad = fmt.Sprintf(p.T["codes_limited"], h.core.FeedbackCodes), true
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(ce.RetryAfter.Seconds())+1))
			return h.fbShowDone(c, ag, p, fiber.StatusTooManyRequests)
		case errors.As(err, &ce) && ce.Code == core.Conflict:
			return c.Redirect(done, fiber.StatusSeeOther) // nothing waits: the page says why
		}
		return err
	}
	out, err := h.core.ConfirmFeedbackPhone(c.UserContext(), ag, ticket, c.FormValue("code"))
	if err != nil {
		return err
	}
	if out == store.CodeRight {
		return c.Redirect(done, fiber.StatusSeeOther)
	}
	p.Flash, p.FlashBad = p.T["code_"+out], true
	return h.fbShowDone(c, ag, p, fiber.StatusUnprocessableEntity)
}
