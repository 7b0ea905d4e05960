// Package kiosk is the desk's tablet: /kiosk pairs with a desk once, then
// shows each dossier the desk hands back, asks its survey with large
// faces, and sends the answer; answers taken offline wait on the tablet
// and go out with an idempotency key when the network returns, and a
// service worker keeps the page itself for a reload while offline.
package kiosk

import (
	"embed"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

func init() { channels.Register(channel{}) }

type channel struct{}

// Type is "kiosk", the family of the answers' channels (kiosk.<desk>…).
func (channel) Type() channels.Type { return core.KioskFamily }

//go:embed static
var static embed.FS

// csp lets the page run its own script and nothing else.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; manifest-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

// longPoll is how long GET /kiosk/api/next waits for a dossier.
const longPoll = 25 * time.Second

// Mount adds the page, its script and stylesheet, and the tablet's API.
func (channel) Mount(app *fiber.App, d channels.Deps) {
	h := &handler{core: d.Core}
	file := func(name, typ string, cache string) fiber.Handler {
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			panic(err)
		}
		return func(c *fiber.Ctx) error {
			c.Set("Content-Security-Policy", csp)
			c.Set(fiber.HeaderCacheControl, cache)
			c.Set(fiber.HeaderContentType, typ+"; charset=utf-8")
			return c.Send(b)
		}
	}
	app.Get("/kiosk", file("kiosk.html", "text/html", "no-cache"))
	app.Get("/kiosk/app.js", file("app.js", "text/javascript", "no-cache"))
	app.Get("/kiosk/app.css", file("app.css", "text/css", "no-cache"))
	sw := file("sw.js", "text/javascript", "no-cache")
	app.Get("/kiosk/sw.js", func(c *fiber.Ctx) error {
		c.Set("Service-Worker-Allowed", "/kiosk") // its scope is the page, one level up
		return sw(c)
	})
	app.Post("/kiosk/api/pair", h.pair)
	app.Get("/kiosk/api/desk", h.auth(h.desk))
	app.Get("/kiosk/api/next", h.auth(h.next))
	app.Post("/kiosk/api/present", h.auth(h.present))
	app.Post("/kiosk/api/answer", h.auth(h.answer))
}

type handler struct{ core *core.Service }

// auth admits a paired tablet: Authorization: Bearer <device token>.
func (h *handler) auth(next func(*fiber.Ctx, *core.Kiosk) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderCacheControl, "no-store")
		token, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		k, err := h.core.KioskOf(c.UserContext(), channels.ClientIP(c), strings.TrimSpace(token))
		if err != nil {
			return err
		}
		return next(c, k)
	}
}

// Desk is what a tablet shows of its desk.
type Desk struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Agency  string `json:"agency_code"`
	Officer string `json:"officer,omitempty"`
	Form    string `json:"form"`
	Device  string `json:"device"`
}

func deskOf(k *core.Kiosk) Desk {
	return Desk{ID: k.Desk.ID, Name: k.Desk.Name, Agency: k.Desk.Agency, Officer: k.Desk.Officer, Form: k.Desk.Form, Device: k.Device}
}

// Paired answers a pairing: the device token, shown this once.
type Paired struct {
	Token string `json:"token"`
	Desk  Desk   `json:"desk"`
}

func (h *handler) pair(c *fiber.Ctx) error {
	in, err := readPairing(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	token, k, err := h.core.Pair(c.UserContext(), channels.ClientIP(c), in.Code)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(Paired{Token: token, Desk: deskOf(k)})
}

func (h *handler) desk(c *fiber.Ctx, k *core.Kiosk) error { return c.JSON(deskOf(k)) }

// Dossier is a dossier on the kiosk with the survey to ask.
type Dossier struct {
	store.Presented
	Form *survey.Survey `json:"form"`
}

func (h *handler) dossier(c *fiber.Ctx, p *store.Presented) error {
	def, ok := h.core.Surveys.Survey(survey.ID(p.Survey))
	if !ok {
		return core.Errorf(core.Internal, "", "survey %s is not known", p.Survey)
	}
	return c.JSON(Dossier{Presented: *p, Form: def})
}

// next waits for the next dossier handed back at the desk: 200 with it,
// 204 when none came within the long poll.
func (h *handler) next(c *fiber.Ctx, k *core.Kiosk) error {
	after, _ := strconv.ParseInt(c.Query("after"), 10, 64)
	wait := longPoll
	if s := c.QueryInt("wait"); s >= 1 && s < int(longPoll/time.Second) {
		wait = time.Duration(s) * time.Second
	}
	p, err := h.core.KioskNext(c.UserContext(), k, after, wait)
	if err != nil {
		return err
	}
	if p == nil {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return h.dossier(c, p)
}

// Presentation is the officer typing or scanning a dossier code on the
// tablet, with the desk's officer PIN.
type Presentation struct {
	Dossier string `json:"dossier_code"`
	PIN     string `json:"officer_pin"`
}

// present is the officer showing a dossier from the tablet.
func (h *handler) present(c *fiber.Ctx, k *core.Kiosk) error {
	in, err := readPresentation(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	p, err := h.core.PresentOnTablet(c.UserContext(), k, in.Dossier, in.PIN, channels.ClientIP(c))
	if err != nil {
		return err
	}
	return h.dossier(c, p)
}

// Answered is the outcome of an answer: recorded, or already_answered.
type Answered struct {
	Outcome string `json:"outcome"`
}

func (h *handler) answer(c *fiber.Ctx, k *core.Kiosk) error {
	in, err := readAnswer(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	outcome, err := h.core.AnswerOnKiosk(c.UserContext(), k, in)
	if err != nil {
		return err
	}
	return c.JSON(Answered{Outcome: outcome})
}
