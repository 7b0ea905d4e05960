package server

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/core"
)

// listen serves the gateway's app, with the test's own console pages
// mounted as a frontend is, on a loopback port.
func listen(t *testing.T, pages func(app *fiber.App)) string {
	t.Helper()
	app := New(Deps{Core: &core.Service{BaseURL: "http://gw.test"}, Log: slog.New(slog.DiscardHandler),
		Frontends: []Frontend{func(app *fiber.App, _ *API, _ Deps) { pages(app) }}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	t.Cleanup(func() { _ = app.ShutdownWithTimeout(5 * time.Second) })
	return ln.Addr().String()
}

// ended waits for a context's end, for as long as a broken build may hang
// (nothing is timed: a working one ends at once).
func ended(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-time.After(30 * time.Second):
		return false
	}
}

// An operator's read stops when its client leaves: the handler's context
// ends once the connection is closed, so the loops that watch it (the
// report's grouping, the comment pages, MongoDB's cursors) stop too.
// Before, the context was fasthttp's, which ends only with the server:
// four wide comment searches kept both cores busy for two minutes after
// their clients had gone.
func TestReadsStopWhenTheClientLeaves(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan bool, 1)
	addr := listen(t, func(app *fiber.App) {
		app.Get("/console/slow", func(c *fiber.Ctx) error {
			close(started)
			stopped <- ended(c.UserContext())
			return c.UserContext().Err()
		})
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /console/slow HTTP/1.1\r\nHost: gw.test\r\n\r\n")
	<-started
	conn.Close()
	if !<-stopped {
		t.Fatal("the read went on after its client had left")
	}
}

// A streamed answer (an export) watches its client while it writes, after
// the handler has returned: the stream's context ends when the client
// leaves.
func TestStreamsStopWhenTheClientLeaves(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan bool, 1)
	addr := listen(t, func(app *fiber.App) {
		app.Get("/console/stream", func(c *fiber.Ctx) error {
			watch := streamWatch(c) // as the export does
			c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
				ctx, stop := watch(context.Background())
				defer stop()
				_, _ = w.WriteString("first line\n")
				_ = w.Flush()
				close(started)
				stopped <- ended(ctx)
			})
			return nil
		})
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /console/stream HTTP/1.1\r\nHost: gw.test\r\n\r\n")
	<-started
	conn.Close()
	if !<-stopped {
		t.Fatal("the stream went on after its client had left")
	}
}

// Watching the client takes nothing from the connection: a client that
// stays gets its answers, streamed or not, on a kept-alive connection and
// with requests sent ahead (pipelined), and nothing is stopped.
func TestWatchingTheClientKeepsItsConnection(t *testing.T) {
	var mu sync.Mutex
	var canceled []string
	addr := listen(t, func(app *fiber.App) {
		app.Get("/console/echo/:n", func(c *fiber.Ctx) error {
			if c.UserContext().Err() != nil {
				mu.Lock()
				canceled = append(canceled, c.Params("n"))
				mu.Unlock()
			}
			return c.SendString("echo " + c.Params("n"))
		})
		app.Get("/console/stream/:n", func(c *fiber.Ctx) error {
			watch, n := streamWatch(c), c.Params("n")
			c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
				ctx, stop := watch(context.Background())
				defer stop()
				if ctx.Err() != nil {
					mu.Lock()
					canceled = append(canceled, n)
					mu.Unlock()
				}
				_, _ = w.WriteString("echo " + n)
			})
			return nil
		})
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	r := bufio.NewReader(conn)
	read := func(n string) {
		t.Helper()
		res, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("answer %s: %v", n, err)
		}
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(b) != "echo "+n {
			t.Fatalf("answer %s: %d %q", n, res.StatusCode, b)
		}
	}
	req := func(n string) string { return "GET /console/echo/" + n + " HTTP/1.1\r\nHost: gw.test\r\n\r\n" }
	fmt.Fprint(conn, req("1"))
	read("1")
	fmt.Fprint(conn, req("2"))
	read("2")
	fmt.Fprint(conn, req("3")+req("4")+req("5"))
	read("3")
	read("4")
	read("5")
	stream := func(n string) string { return "GET /console/stream/" + n + " HTTP/1.1\r\nHost: gw.test\r\n\r\n" }
	fmt.Fprint(conn, stream("6"))
	read("6")
	fmt.Fprint(conn, req("7"))
	read("7")
	fmt.Fprint(conn, stream("8")+req("9"))
	read("8")
	read("9")
	mu.Lock()
	defer mu.Unlock()
	if len(canceled) > 0 {
		t.Fatalf("requests %s were stopped while their client stayed", strings.Join(canceled, ", "))
	}
}

// The watch outlasts fasthttp's read deadline (the 15 s read timeout,
// set when the request came in): a report slower than that still stops
// when its client leaves. The deadline is made to pass at once, not
// waited for.
func TestTheWatchOutlastsTheReadDeadline(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan bool, 1)
	addr := listen(t, func(app *fiber.App) {
		app.Get("/console/slow", func(c *fiber.Ctx) error {
			_ = c.Context().Conn().SetReadDeadline(time.Now())
			close(started)
			stopped <- ended(c.UserContext())
			return c.UserContext().Err()
		})
	})
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(conn, "GET /console/slow HTTP/1.1\r\nHost: gw.test\r\n\r\n")
	<-started
	time.Sleep(20 * time.Millisecond) // lets the watch meet the deadline first; nothing is timed
	conn.Close()
	if !<-stopped {
		t.Fatal("the read went on after its client had left")
	}
}

// A connection closed under the watch (fasthttp closes it once a write
// to a gone client fails, which may come before the watch sees the client
// leave) ends the context too.
func TestTheWatchEndsWhenItsConnectionIsClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := untilClientLeaves(context.Background(), server)
	time.Sleep(20 * time.Millisecond) // lets the watch start first; nothing is timed
	_ = server.Close()
	if !ended(ctx) || !stop() {
		t.Fatal("the watch went on after its connection was closed")
	}
}
