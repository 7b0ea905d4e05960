// Package server wires the gateway's HTTP face: the fiber app, the one error
// handler, operator authentication, the operator API, service endpoints and
// every registered channel.
package server

import (
	"cmp"
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/store"
)

// Deps is everything the HTTP layer needs, built by cmd/gateway.
type Deps struct {
	Core     *core.Service
	Redis    redis.UniversalClient
	AdminKey string
	Log      *slog.Logger
	// Pprof serves /debug/pprof/ to admin keys (GATEWAY_PPROF); off, those paths are 404.
	Pprof bool
	// Proxies are the reverse proxies whose X-Forwarded-For is believed
	// (GATEWAY_TRUSTED_PROXIES).
	Proxies []*net.IPNet
	// MetricsToken, when set, guards /metrics (GATEWAY_METRICS_TOKEN).
	MetricsToken string
	// RankMin is the responses a unit needs to be ranked (GATEWAY_RANK_MIN_RESPONSES).
	RankMin int
	// Bands are the dashboard's index bands (GATEWAY_INDEX_GOOD,
	// GATEWAY_INDEX_FAIR; zero: 90 and 80).
	Bands Bands
	// PlanThreshold is the share satisfied (percent) below which a unit
	// without a plan is listed (GATEWAY_PLAN_THRESHOLD; 0 = 80).
	PlanThreshold float64
	// Prices are đồng per unit sent by channel family (GATEWAY_PRICES).
	Prices map[string]int64
	// Zone is the time zone the console and exports show times in
	// (GATEWAY_TIMEZONE; nil = Vietnam).
	Zone *time.Location
	// Frontends are the pages built over the API, mounted before the
	// channels and the 404: the operators' console (package web).
	Frontends []Frontend
	// ScanMaxBytes bounds one upload of scanned forms
	// (GATEWAY_SCAN_MAX_BYTES; 0 = 25 MB).
	ScanMaxBytes int
}

// ScanLimit is the largest upload of scanned forms, in bytes.
func (d Deps) ScanLimit() int { return cmp.Or(d.ScanMaxBytes, 25<<20) }

// A Frontend mounts pages that work through the API's helpers.
type Frontend func(app *fiber.App, a *API, d Deps)

// BodyLimit bounds request bodies.
const BodyLimit = 64 * 1024

// New builds the fiber app with every route.
func New(d Deps) *fiber.App {
	app := fiber.New(fiber.Config{
		AppName:               "sipas-gateway",
		BodyLimit:             BodyLimit,
		ReadTimeout:           15 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		ErrorHandler:          errorHandler(d.Log),
		// multipart bodies are parsed by their handler, from the body
		// read within its limit (never spilled to temporary files)
		DisablePreParseMultipartForm: true,
	})
	app.Use(recover.New())
	app.Use(requestid.New())
	app.Use(accessLog(d.Log))
	app.Use(clientAddress(d.Proxies))
	app.Use(securityHeaders(strings.HasPrefix(d.Core.BaseURL, "https://")))
	app.Use(identityBodies) // before every route: nothing may decode a body first
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))
	app.Use(stopWithClient)

	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(health{Status: "ok"}) })
	// The front door is the operators' console (citizens come by their
	// survey links).
	app.Get("/", func(c *fiber.Ctx) error { return c.Redirect("/console", fiber.StatusFound) })
	app.Get("/readyz", readyz(d))
	app.Get("/metrics", metricsGuard(d.MetricsToken), metricsHandler())

	spec := OpenAPI(cmp.Or(d.Core.BaseURL, "/"))
	app.Get("/api/v1/openapi.json", func(c *fiber.Ctx) error {
		c.Type("json", "utf-8")
		return c.Send(spec)
	})
	zone := d.Zone
	if zone == nil {
		zone = core.Vietnam
	}
	if d.Bands == (Bands{}) {
		d.Bands = Bands{Good: 90, Fair: 80}
	}
	api := &API{Core: d.Core, log: d.Log, RankMin: max(d.RankMin, 1), Bands: d.Bands, PlanThreshold: cmp.Or(d.PlanThreshold, 80), Zone: zone, Prices: d.Prices}
	api.AllowUpload(ScansPath, bearer(d.Core, d.AdminKey))
	api.promptUploader = bearer(d.Core, d.AdminKey)
	app.Server().HeaderReceived = uploadLimit(api, d.ScanLimit())
	authn := authenticate(d.Core, d.AdminKey)
	if d.Pprof {
		mountProfiles(app, authn)
	}
	v1 := app.Group("/api/v1", authn)
	anyone := Allow(core.RoleAdmin, core.RoleAgency, core.RoleViewer)
	desk := Allow(core.RoleAdmin, core.RoleAgency)
	admin := Allow(core.RoleAdmin)
	v1.Post("/invitations", desk, api.createInvitation)
	v1.Get("/invitations", desk, api.findInvitation)
	v1.Get("/invitations/:id", desk, api.invitation)
	v1.Get("/invitations/:id/qr.png", desk, api.qrPNG)
	v1.Get("/invitations/:id/messages", desk, api.invitationMessages)
	v1.Get("/invitations/:id/form.pdf", desk, api.formPDF)
	v1.Post("/forms", desk, api.forms)
	v1.Post(strings.TrimPrefix(ScansPath, "/api/v1"), desk, api.scans)
	v1.Get("/forms/layout", anyone, api.formLayout)
	v1.Get("/forms/review", desk, api.scanReview)
	v1.Get("/forms/review/:id/page.jpg", desk, api.ScanImage(false))
	v1.Get("/forms/review/:id/comment.jpg", desk, api.ScanImage(true))
	v1.Post("/forms/review/:id/resolve", desk, api.resolveScan)
	v1.Get("/surveys", anyone, api.surveys)
	v1.Get("/surveys/:id", anyone, api.survey)
	v1.Get("/reports/sipas", anyone, api.report)
	v1.Get("/reports/sipas/drivers", anyone, api.drivers)
	v1.Get("/reports/sipas.pdf", anyone, api.ReportFile("pdf"))
	v1.Get("/responses", anyone, api.responsesExport)
	v1.Get("/agencies", anyone, api.agencies)
	v1.Get("/agencies/:code", anyone, api.agency)
	v1.Post("/agencies/import", admin, api.importAgencies)
	v1.Put("/agencies/:code", admin, api.putAgency)
	v1.Delete("/agencies/:code", admin, api.deleteAgency)
	v1.Put("/agencies/:code/staff-phones", desk, api.putStaffPhones)
	v1.Get("/agencies/:code/poster.pdf", desk, api.poster)
	v1.Get("/agencies/:code/slips.pdf", desk, api.slips)
	v1.Get("/channels", admin, api.channelList)
	v1.Get("/channels/:id", admin, api.channel)
	v1.Put("/channels/:id", admin, api.putChannel)
	v1.Delete("/channels/:id", admin, api.deleteChannel)
	v1.Post("/channels/:id/test", admin, api.testChannel)
	v1.Put("/channels/:id/prompts/:name", admin, api.putPrompt)
	v1.Post("/keys", admin, api.createKey)
	v1.Get("/keys", admin, api.keys)
	v1.Delete("/keys/:id", admin, api.revokeKey)
	v1.Get("/audit", admin, api.audit)
	v1.Get("/comments", anyone, api.Comments)
	v1.Get("/unread-replies", desk, api.unreadReplies)
	v1.Get("/unread-replies/:id", desk, api.unreadReply)
	v1.Post("/unread-replies/:id/resolve", desk, api.resolveUnread)
	v1.Post("/unread-replies/:id/dismiss", desk, api.dismissUnread)
	v1.Get("/flagged", desk, api.flagged)
	v1.Post("/flagged/:id/confirm", desk, api.review("confirm"))
	v1.Post("/flagged/:id/clear", desk, api.review("clear"))
	v1.Post("/erasures", admin, api.erase)
	v1.Get("/cases", anyone, api.cases)
	v1.Get("/cases/:id", anyone, api.getCase)
	for _, action := range []string{core.CaseAssign, core.CaseStart, core.CaseAnswer, core.CaseClose, core.CaseReopen} {
		v1.Post("/cases/:id/"+action, desk, api.changeCase(action))
	}
	v1.Post("/cases/:id/notes", desk, api.changeCase(core.CaseNote))
	v1.Get("/plans", anyone, api.plans)
	v1.Get("/plans/missing", anyone, api.missingPlans)
	v1.Get("/agencies/:code/plans/:id", anyone, api.plan)
	v1.Put("/agencies/:code/plans/:id", desk, api.putPlan)
	v1.Get("/desks", anyone, api.desks)
	v1.Get("/desks/:id", anyone, api.desk)
	v1.Put("/desks/:id", desk, api.putDesk)
	v1.Delete("/desks/:id", desk, api.deleteDesk)
	v1.Post("/desks/:id/present", desk, api.present)
	v1.Post("/desks/:id/devices/:device/revoke", desk, api.revokeDevice)

	for _, mount := range d.Frontends {
		mount(app, api, d)
	}
	for _, ch := range channels.All() {
		ch.Mount(app, channels.Deps{Core: d.Core, Log: d.Log})
	}
	app.Use(func(c *fiber.Ctx) error {
		return core.Errorf(core.NotFound, "", "no route %s %s", c.Method(), c.Path())
	})
	return app
}

type health struct {
	Status string `json:"status"`
}

type readiness struct {
	Status        string            `json:"status" doc:"ok, degraded (MongoDB down: answers still accepted into the outbox) or unavailable"`
	Checks        map[string]string `json:"checks" doc:"redis and mongo: ok, or down with the error"`
	OutboxPending *int64            `json:"outbox_pending,omitempty" doc:"answers accepted, not yet in MongoDB"`
	EventsPending *int64            `json:"events_pending,omitempty" doc:"invitation and reach events noted (made, sent, reminded, opened, started, spent), not yet counted in the roll-ups"`
	Warnings      map[string]string `json:"warnings,omitempty" doc:"serving, but an operator must act"`
}

// errorAnswer is every error's body.
type errorAnswer struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    core.Code `json:"code"`
	Message string    `json:"message"`
	Field   string    `json:"field,omitempty" doc:"the request field at fault"`
}

// readyz answers 200 when both stores answer, 503 naming what is down.
func readyz(d Deps) fiber.Handler {
	return func(c *fiber.Ctx) error {
		ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
		defer cancel()
		checks := map[string]string{}
		down := false
		if err := d.Redis.Ping(ctx).Err(); err != nil {
			checks["redis"], down = "down: "+err.Error(), true
		} else {
			checks["redis"] = "ok"
		}
		if err := d.Core.Mongo.Ping(ctx); err != nil {
			checks["mongo"], down = "down: "+err.Error(), true
		} else {
			checks["mongo"] = "ok"
		}
		if down {
			status := "unavailable"
			code := fiber.StatusServiceUnavailable
			if checks["redis"] == "ok" {
				status = "degraded" // answers are still accepted into the outbox
				if c.Query("accept") == "degraded" {
					code = fiber.StatusOK // a load balancer should keep sending answers here
				}
			}
			return c.Status(code).JSON(readiness{Status: status, Checks: checks})
		}
		body := readiness{Status: "ok", Checks: checks}
		if n, err := d.Core.Outbox.Pending(ctx); err == nil {
			body.OutboxPending = &n
		}
		if d.Core.Funnel != nil {
			if n, err := d.Core.Funnel.Pending(ctx); err == nil {
				body.EventsPending = &n
			}
		}
		if w, err := d.Core.Warnings.All(ctx); err == nil && len(w) > 0 {
			body.Warnings = w
		}
		return c.JSON(body)
	}
}

// errorHandler is the one place errors become JSON bodies and get logged.
func errorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		code, field, msg := core.Internal, "", "internal error"
		var ce *core.Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &ce):
			code, field, msg = ce.Code, ce.Field, ce.Message
			if ce.RetryAfter > 0 {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(ce.RetryAfter.Seconds()))))
			}
		case errors.As(err, &fe):
			code, msg = fiberCode(fe.Code), fe.Message
		case errors.Is(err, store.ErrNotFound):
			code, msg = core.NotFound, "not found"
		case store.Unavailable(err):
			code, msg = core.Unavailable, "a data store is unreachable; nothing was changed; try again in a minute"
			c.Set(fiber.HeaderRetryAfter, "60")
			storeErrors.WithLabelValues(strings.Clone(c.Route().Path)).Inc()
		}
		if code == core.Internal || code == core.Unavailable {
			log.Error("request failed", "method", c.Method(), "path", c.Path(), "request_id", c.Locals("requestid"), "err", err)
		}
		if page, ok := citizenPages[code]; ok && CitizenPage(c.Path()) {
			c.Type("html", "utf-8") // a citizen's browser: a page, not JSON
			return c.Status(code.Status()).SendString(page)
		}
		return c.Status(code.Status()).JSON(errorAnswer{Error: errorBody{Code: code, Message: msg, Field: field}})
	}
}

// CitizenPage says whether path is a citizen's page (the survey page,
// /s/…, and the feedback page, /g/…): its errors are pages, not JSON,
// and it sends no referrer (its address carries a token).
func CitizenPage(path string) bool {
	return strings.HasPrefix(path, "/s/") || strings.HasPrefix(path, "/g/")
}

// citizenPages answer the citizen pages' errors that their handlers
// never see, refused before them.
var citizenPages = map[core.Code]string{core.TooLarge: tooLargePage, core.UnsupportedEncoding: encodingPage}

// tooLargePage answers a survey form too large to read.
const tooLargePage = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>Nội dung quá dài · Too long</title><link rel="stylesheet" href="/static/app.css"></head>` +
	`<body><main><h1>Nội dung gửi quá dài</h1><p>Vui lòng rút ngắn ý kiến rồi gửi lại.</p><p lang="en">What you sent is too long. Please shorten your comment and send it again.</p></main></body></html>`

func fiberCode(status int) core.Code {
	switch status {
	case fiber.StatusRequestHeaderFieldsTooLarge:
		return core.HeadersTooLarge
	case fiber.StatusBadRequest, fiber.StatusUnprocessableEntity:
		return core.Invalid
	case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
		return core.NotFound
	case fiber.StatusRequestEntityTooLarge:
		return core.TooLarge
	case fiber.StatusTooManyRequests:
		return core.RateLimited
	case fiber.StatusServiceUnavailable:
		return core.Unavailable
	case fiber.StatusUnauthorized:
		return core.Unauthenticated
	}
	return core.Internal
}

func accessLog(log *slog.Logger) fiber.Handler {
	log = log.With("comp", "http")
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			var fe *fiber.Error
			status = core.CodeOf(err).Status()
			if errors.As(err, &fe) {
				status = fe.Code
			}
		}
		// fiber's strings point into reused buffers: copy before they outlive the request.
		route, method := strings.Clone(c.Route().Path), strings.Clone(c.Method())
		observe(route, method, status, time.Since(start))
		log.Info("request", "method", method, "path", route, "status", status,
			"ms", time.Since(start).Milliseconds(), "request_id", c.Locals("requestid"))
		return err
	}
}

// securityHeaders are set on every answer; the survey pages need no script
// and no inline style, so the policy allows neither. Citizens' pages (the
// survey and feedback links, which carry tokens, and the kiosk) send no referrer at
// all; the rest send it to the gateway's own pages only, because under
// no-referrer browsers send Origin "null" on form posts and the console's
// sign-in checks the real Origin. Over https, browsers are told to use
// nothing else.
func securityHeaders(https bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		c.Set("X-Content-Type-Options", "nosniff")
		c.Set("Referrer-Policy", referrerPolicy(c.Path()))
		c.Set("X-Frame-Options", "DENY")
		if https {
			c.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return c.Next()
	}
}

func referrerPolicy(path string) string {
	if CitizenPage(path) || path == "/kiosk" || strings.HasPrefix(path, "/kiosk/") {
		return "no-referrer"
	}
	return "same-origin"
}

// clientAddress finds the client's address for rate limits and sign-in
// locks: the peer's, unless the peer is a trusted proxy; then the nearest
// address in X-Forwarded-For that is not one of the proxies (read from
// the right: the left end is whatever the client wrote).
func clientAddress(proxies []*net.IPNet) fiber.Handler {
	trusted := func(ip net.IP) bool {
		for _, n := range proxies {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return func(c *fiber.Ctx) error {
		addr := c.Context().RemoteIP()
		if len(proxies) > 0 && trusted(addr) {
			// Every X-Forwarded-For line, in order (a proxy may add its own
			// line rather than extend the client's).
			var hops []string
			for _, v := range c.Request().Header.PeekAll(fiber.HeaderXForwardedFor) {
				hops = append(hops, strings.Split(string(v), ",")...)
			}
			for i := len(hops) - 1; i >= 0; i-- {
				ip := parseHop(hops[i])
				if ip == nil {
					break // a hop we cannot read: the nearest we could read stands
				}
				addr = ip
				if !trusted(ip) {
					break
				}
			}
		}
		c.Locals(channels.ClientIPKey, addr.String())
		return c.Next()
	}
}

// parseHop reads one X-Forwarded-For hop: an address, with or without a
// port ("1.2.3.4:5678", "[2001:db8::1]:443").
func parseHop(h string) net.IP {
	h = strings.TrimSpace(h)
	if ip := net.ParseIP(h); ip != nil {
		return ip
	}
	if host, _, err := net.SplitHostPort(h); err == nil {
		return net.ParseIP(host)
	}
	return nil
}

// metricsGuard asks for the bearer token when one is set.
func metricsGuard(token string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if token == "" {
			return c.Next()
		}
		got, _ := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
		if subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="metrics"`)
			return core.Errorf(core.Unauthenticated, "", "/metrics needs Authorization: Bearer <GATEWAY_METRICS_TOKEN>")
		}
		return c.Next()
	}
}
