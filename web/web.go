// Package web is the operators' console under /console: server-rendered
// pages over the API's helpers, with its templates and stylesheet embedded
// beside it and its texts in one table (words.go).
package web

import (
	"embed"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
)

//go:embed console/*.html console/console.css
var files embed.FS

// Mount is the console as a server.Frontend: pass it to server.NewRuntime.
func Mount(app *fiber.App, a *server.API, d server.Deps) {
	cs := newConsole(a, &store.Sessions{R: d.Redis, TTL: 12 * time.Hour}, d.AdminKey, d.Log.With("comp", "console"))
	cs.scanMax = d.ScanLimit()
	cs.mount(app)
}
