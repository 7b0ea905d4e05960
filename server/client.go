package server

import (
	"context"
	"errors"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// stopWithClient gives an operator's read (a GET or HEAD under /api/v1/ or
// /console) a context that ends when its client closes the connection, so
// the loops of a report, an export or a comment search stop with it
// rather than run on for nobody; fasthttp's own context never ends
// before the server does. Writes keep theirs: they are short and are
// better finished than cut half-way. A read stopped this way answers 499
// (nginx's "client closed request") and logs no error: nobody is there.
func stopWithClient(c *fiber.Ctx) (err error) {
	if m := c.Method(); (m != fiber.MethodGet && m != fiber.MethodHead) || !operatorPath(c.Path()) {
		return c.Next()
	}
	over := make(chan struct{})
	c.Locals(watchOverKey, over)
	ctx, stop := untilClientLeaves(c.UserContext(), c.Context().Conn())
	defer func() { // also when the handler panics: the watch must be over before fasthttp reads again
		left := stop()
		close(over)
		if left && errors.Is(err, context.Canceled) {
			c.Status(499)
			err = nil
		}
	}()
	c.SetUserContext(ctx)
	return c.Next()
}

// watchOverKey names the channel stopWithClient closes once its watch of
// the connection is over.
const watchOverKey = "gw:watch-over"

// streamWatch is how a body stream writer (an export) watches its client:
// it is written after the handler returns, whose context ends then. Its
// watch waits until the handler's is over: two on one connection would
// take turns at the socket and wake each other.
func streamWatch(c *fiber.Ctx) func(parent context.Context) (context.Context, func() bool) {
	conn := c.Context().Conn()
	over, _ := c.Locals(watchOverKey).(chan struct{})
	return func(parent context.Context) (context.Context, func() bool) {
		if over != nil {
			<-over
		}
		return untilClientLeaves(parent, conn)
	}
}

func operatorPath(p string) bool {
	return strings.HasPrefix(p, "/api/v1/") || p == "/console" || strings.HasPrefix(p, "/console/")
}

// untilClientLeaves returns a context that ends when the peer of conn
// closes or resets the connection; stop ends the watch, waits for it to
// be over (the connection must not be read by two at once) and says
// whether the client had left. It must be called before fasthttp reads
// the connection again. A connection whose socket cannot be watched (TLS
// served by the gateway itself, app.Test's) ends the context at stop only.
func untilClientLeaves(parent context.Context, conn net.Conn) (context.Context, func() bool) {
	ctx, cancel := context.WithCancelCause(parent)
	unwatch := watchPeer(conn, func() { cancel(errClientLeft) })
	return ctx, func() bool {
		if unwatch != nil {
			unwatch() // fasthttp sets its own deadline before it reads the next request
		}
		left := errors.Is(context.Cause(ctx), errClientLeft)
		cancel(context.Canceled)
		return left
	}
}

var errClientLeft = errors.New("the client closed the connection")
