// Package web is the survey page a QR code opens: server-rendered HTML that
// works without JavaScript, one step per criterion, progress kept in Redis so
// a citizen can close the tab and come back; and, in the same look, the
// feedback page a suggestion box's poster opens (feedback.go).
package web

import (
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

func init() { channels.Register(channel{}) }

// channel is the registered type; each Mount makes its own handler.
type channel struct{}

var _ channels.Channel = channel{}

// Type is "web", the value responses record as their channel.
func (channel) Type() channels.Type { return "web" }

// Mount adds /s/{token}, /s/{token}/done, the feedback pages under
// /g/{token} and /static/app.css.
func (channel) Mount(app *fiber.App, d channels.Deps) {
	h := &handler{core: d.Core, log: d.Log.With("comp", "web")}
	app.Get("/static/app.css", h.css)
	app.Get("/s/:token", h.open(h.show))
	app.Post("/s/:token", h.open(h.submit))
	app.Get("/s/:token/done", h.wrap(h.done))
	app.Post("/s/:token/rate", h.wrap(h.rate))
	h.mountFeedback(app)
}

type handler struct {
	core *core.Service
	log  *slog.Logger
}

func (h *handler) css(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=86400")
	c.Type("css", "utf-8")
	return c.Send(appCSS)
}

// wrap turns an error into a page in the survey's style: a citizen never
// sees a bare error string. It logs only what is our fault.
func (h *handler) wrap(fn func(*fiber.Ctx) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := h.core.Allow(c.UserContext(), "page", channels.ClientIP(c))
		if err == nil {
			err = fn(c)
		}
		if err == nil {
			return nil
		}
		p := newPage(c.Query("lang", c.FormValue("lang")), "/s/"+c.Params("token")+"?")
		status := core.CodeOf(err).Status()
		switch core.CodeOf(err) {
		case core.NotFound:
			p.Kind, p.Title, p.Body = "bad", p.T["notfound_t"], p.T["notfound"]
		case core.Gone:
			p.Kind, p.Title, p.Body = "bad", p.T["gone_t"], p.T["gone"]
		case core.RateLimited:
			p.Kind, p.Title, p.Body = "bad", p.T["retry_t"], p.T["slow"]
			c.Set(fiber.HeaderRetryAfter, "60")
		default:
			h.log.Error("survey page failed", "path", c.Path(), "err", err)
			status = fiber.StatusServiceUnavailable
			p.Kind, p.Title, p.Body = "bad", p.T["retry_t"], p.T["retry"]
			c.Set(fiber.HeaderRetryAfter, "60")
		}
		return h.send(c, status, "message", p)
	}
}

func (h *handler) send(c *fiber.Ctx, status int, name string, p *page) error {
	b, err := render(name, p)
	if err != nil {
		return err
	}
	return h.sendBytes(c, status, b)
}

// sendBytes sends a rendered page.
func (h *handler) sendBytes(c *fiber.Ctx, status int, b []byte) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Type("html", "utf-8")
	return c.Status(status).Send(b)
}

func (h *handler) localeOf(c *fiber.Ctx, ss *core.Session) string {
	if l := c.Query("lang", c.FormValue("lang")); l != "" {
		return lang(l)
	}
	return lang(ss.Invitation.Locale)
}

// open finds the token's open survey and its saved progress and hands them
// to fn; a completed survey gets the "already answered" page instead.
func (h *handler) open(fn func(*fiber.Ctx, *core.Session, *page, map[string]string) error) fiber.Handler {
	return h.wrap(func(c *fiber.Ctx) error {
		ss, saved, err := h.core.OpenWithProgress(c.UserContext(), c.Params("token"))
		if err != nil {
			return err
		}
		h.device(c)
		p := newPage(h.localeOf(c, ss), "/s/"+ss.Invitation.Token+"?")
		if ss.Completed() {
			return h.already(c, p, ss)
		}
		return fn(c, ss, p, saved)
	})
}

// show renders the asked step, or the first step with unanswered questions.
func (h *handler) show(c *fiber.Ctx, ss *core.Session, p *page, saved map[string]string) error {
	n := c.QueryInt("step", 0)
	if n < 1 || n > len(steps(ss.Survey)) {
		n = resumeStep(ss.Survey, saved)
	}
	if len(saved) > 0 {
		return h.send(c, fiber.StatusOK, "step", stepPage(p, ss, n, saved, nil))
	}
	blank, err := blankStepOf(p, ss, n)
	if err != nil {
		return err
	}
	coding, b := blank.encoded(func(name string) bool { return c.Request().Header.HasAcceptEncoding(name) })
	if coding != "" { // sent as kept: the compress middleware leaves an encoded body alone
		c.Set(fiber.HeaderContentEncoding, coding)
		c.Vary(fiber.HeaderAcceptEncoding)
	}
	return h.sendBytes(c, fiber.StatusOK, b)
}

// already is the page of a survey answered before: the QR link a citizen
// scans again, after a follow-up answer, shows that answer and its rating
// form as the done page does.
func (h *handler) already(c *fiber.Ctx, p *page, ss *core.Session) error {
	p.Kind, p.Title, p.Body, p.Dossier = "ok", p.T["already_t"], p.T["already"], ss.Invitation.DossierCode
	h.withAnswer(c, p, ss)
	return h.send(c, fiber.StatusOK, "message", p)
}

// withAnswer adds the agency's answer to the citizen's follow-up case to
// p, with a tap to rate it while it waits for one.
func (h *handler) withAnswer(c *fiber.Ctx, p *page, ss *core.Session) {
	if cs, err := h.core.AnsweredCase(c.UserContext(), ss.Invitation.ID); err == nil && cs != nil {
		p.Answer, p.Token = cs.Answer, ss.Invitation.Token
		p.Rate = cs.Status == store.CaseAnswered
		p.Rated = cs.Rating
	}
}

// resumeStep is the first step with an unanswered question, else the last.
func resumeStep(def *survey.Survey, saved map[string]string) int {
	all := steps(def)
	for i, cr := range all {
		for _, q := range def.QuestionsOf(cr.Code) {
			if saved[string(q.ID)] == "" {
				return i + 1
			}
		}
	}
	return len(all)
}

func (h *handler) done(c *fiber.Ctx) error {
	ss, err := h.core.Open(c.UserContext(), c.Params("token"))
	if err != nil {
		return err
	}
	if !ss.Completed() {
		return c.Redirect("/s/"+ss.Invitation.Token, fiber.StatusSeeOther)
	}
	p := newPage(h.localeOf(c, ss), "/s/"+ss.Invitation.Token+"/done?")
	p.Kind, p.Title, p.Body, p.Dossier = "ok", p.T["done_t"], p.T["done"], ss.Invitation.DossierCode
	h.withAnswer(c, p, ss)
	return h.send(c, fiber.StatusOK, "message", p)
}

// rate takes the citizen's rating of the answer to their case from the
// done page: POST /s/{token}/rate r=1..5.
func (h *handler) rate(c *fiber.Ctx) error {
	ss, err := h.core.Open(c.UserContext(), c.Params("token"))
	if err != nil {
		return err
	}
	done := "/s/" + ss.Invitation.Token + "/done"
	r, err := strconv.Atoi(c.FormValue("r"))
	if err != nil || r < 1 || r > 5 {
		return h.done(c) // only a tampered form: the page again, with its buttons
	}
	cs, err := h.core.AnsweredCase(c.UserContext(), ss.Invitation.ID)
	if err != nil {
		return err
	}
	if cs == nil {
		return core.Errorf(core.NotFound, "", "no answer to rate for this dossier")
	}
	if err := h.core.RateAnswerOnWeb(c.UserContext(), ss.Invitation, cs.ID, r, channels.ClientIP(c)); err != nil {
		return err
	}
	return c.Redirect(done, fiber.StatusSeeOther)
}
