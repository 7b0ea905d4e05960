// Package channels is the registry of the ways citizens answer (the web
// survey page, SMS providers, Zalo). Each channel lives in its own folder,
// registers itself at init and mounts its routes on the server; a channel
// talks to the core service only, never to a store directly.
package channels

import (
	"context"
	"fmt"
	"log/slog"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

// Type names a channel type, e.g. "web" or "sms.generic".
type Type string

// Deps is what a channel gets to work with.
type Deps struct {
	Core *core.Service
	Log  *slog.Logger
}

// Channel is one registered way in.
type Channel interface {
	// Type is the registered name.
	Type() Type
	// Mount adds the channel's routes.
	Mount(app *fiber.App, deps Deps)
}

var registry = map[Type]Channel{}

// Register adds a channel type. An empty or duplicate type is a programming
// error, so it panics at start-up rather than silently replacing one.
func Register(c Channel) {
	t := c.Type()
	if t == "" {
		panic("channels: register with an empty type")
	}
	if _, dup := registry[t]; dup {
		panic(fmt.Sprintf("channels: type %q registered twice", t))
	}
	registry[t] = c
}

// Worker is a channel's background job (processing queued webhook events,
// refreshing tokens); every replica runs each registered worker.
type Worker interface {
	Run(ctx context.Context, d Deps)
}

var workers []Worker

// RegisterWorker adds a background job.
func RegisterWorker(w Worker) { workers = append(workers, w) }

// Workers returns the registered background jobs.
func Workers() []Worker { return workers }

// All returns the registered channels in type order.
func All() []Channel {
	out := make([]Channel, 0, len(registry))
	for _, c := range registry {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Type() < out[j].Type() })
	return out
}

// ClientIPKey is where the HTTP layer leaves the client's address (the
// peer's, or the one a trusted proxy forwarded).
const ClientIPKey = "client_ip"

// ClientIP is the client's address for rate limits.
func ClientIP(c *fiber.Ctx) string {
	if ip, ok := c.Locals(ClientIPKey).(string); ok && ip != "" {
		return ip
	}
	return c.IP()
}
