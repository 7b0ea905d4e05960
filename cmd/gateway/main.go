// Command gateway runs the SIPAS survey gateway. With no configuration it
// starts on an embedded default (FerretDB and miniredis in-process, files
// under ./data); with GATEWAY_REDIS_URL and GATEWAY_MONGO_URI it uses real
// servers.
//
//	gateway [flags]                 serve
//	gateway rebuild [--check]       recompute report roll-ups from responses, and the search indexes
//	gateway mongo-server [addr]     run only the embedded MongoDB-protocol server
//	gateway openapi [base-url]      print the API's OpenAPI document
package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/sipasvn/gateway/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, getenv, out)
	case "rebuild":
		return rebuild(ctx, args, getenv, out)
	case "mongo-server":
		return mongoServer(ctx, args, getenv, out)
	case "openapi":
		base := cmp.Or(getenv("GATEWAY_BASE_URL"), "http://localhost:8080")
		if len(args) > 0 {
			base = args[0]
		}
		_, err := fmt.Fprintf(out, "%s\n", server.OpenAPI(base))
		return err
	}
	return fmt.Errorf("unknown command %q; use serve, rebuild, mongo-server or openapi", cmd)
}

func newLogger(level, format string, w io.Writer) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: l}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
