package server

import (
	"net/http/pprof"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/sipasvn/gateway/core"
)

// mountProfiles serves the Go runtime's profiles under /debug/pprof/ to admin
// keys, for `go tool pprof` under load. The wildcard is pprof.Index: the page
// itself and every named profile (heap, allocs, goroutine, block, mutex,
// threadcreate). fiber's pprof middleware is not used because it also serves
// /debug/pprof/cmdline, which would show an admin key holder a secret given
// as a flag (-secret-key, -redis-url with a password); here cmdline is an
// unknown profile and answers 404.
func mountProfiles(app *fiber.App, authn fiber.Handler) {
	g := app.Group("/debug/pprof", authn, Allow(core.RoleAdmin))
	g.Get("/profile", adaptor.HTTPHandlerFunc(pprof.Profile))
	g.Get("/trace", adaptor.HTTPHandlerFunc(pprof.Trace))
	g.Get("/symbol", adaptor.HTTPHandlerFunc(pprof.Symbol))
	g.Post("/symbol", adaptor.HTTPHandlerFunc(pprof.Symbol))
	g.Get("/*", adaptor.HTTPHandlerFunc(pprof.Index))
}
