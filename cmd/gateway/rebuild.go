package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/store/embedded"
)

// rebuild recomputes the report roll-ups from raw responses. With --check it
// only compares and exits non-zero when they differ.
func rebuild(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	check := false // --check: compare the stored roll-ups with a rebuild; change nothing
	var rest []string
	for _, a := range args {
		if a == "--check" || a == "-check" {
			check = true
		} else {
			rest = append(rest, a)
		}
	}
	cfg, err := config.Load(rest, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, out)
	if _, err := fillKeys(&cfg); err != nil {
		return err
	}
	st, err := openStores(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer st.close(context.Background())
	applier := report.NewApplier(st.mongo, &store.Locks{R: st.redis}, log)
	if applier.Lexicon, err = cfg.Lexicon(); err != nil {
		return err
	}
	if check {
		diff, err := applier.Compare(ctx)
		if err != nil {
			return err
		}
		for _, d := range diff {
			fmt.Fprintln(out, d)
		}
		if len(diff) > 0 {
			return fmt.Errorf("%d roll-up cells differ from the responses; run gateway rebuild", len(diff))
		}
		fmt.Fprintln(out, "roll-ups match the responses")
		return nil
	}
	n, err := applier.Rebuild(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "rebuilt roll-ups from %d responses\n", n)
	return reindexSearch(ctx, cfg, st, out)
}

// reindexSearch runs the search indexes' backfill whole (resumed where a
// cut one stopped): invitations filled straight into MongoDB, or
// restored from a backup, become searchable.
func reindexSearch(ctx context.Context, cfg config.Config, st *stores, out io.Writer) error {
	name := cfg.MongoDatabase
	svc := &core.Service{Mongo: st.mongo, Locks: &store.Locks{R: st.redis}, Dossiers: &store.Dossiers{R: st.redis, Name: name},
		OpenCases: &store.OpenCases{R: st.redis, Name: name, Search: &store.CaseSearch{R: st.redis, Name: name}}}
	n, err := svc.IndexSearch(ctx, cfg.Retention, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "search indexes: %d invitations and %d cases indexed\n", n.Invitations, n.Cases)
	return nil
}

// mongoServer runs only the embedded MongoDB-protocol server, for tests and
// local tools: gateway mongo-server [addr] (default 127.0.0.1:27017).
func mongoServer(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	addr := "127.0.0.1:27017"
	if len(args) > 0 {
		addr = args[0]
	}
	dir := getenv("GATEWAY_DATA_DIR")
	if dir == "" {
		dir = config.Defaults().DataDir
	}
	log := newLogger("warn", "text", out)
	uri, stop, err := embedded.StartMongo(dir, addr, log)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(out, uri)
	<-ctx.Done()
	return nil
}
