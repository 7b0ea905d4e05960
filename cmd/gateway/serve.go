package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/web"

	"github.com/sipasvn/gateway/channels"
	_ "github.com/sipasvn/gateway/channels/all" // every channel and provider
)

func serve(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	cfg, err := config.Load(args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.LogLevel, cfg.LogFormat, out)
	if limit := tuneGC(getenv, cgroupLimits); limit > 0 {
		log.Info("memory limit for the collector: three quarters of the container's", "bytes", limit)
	}
	adminGiven := cfg.AdminKey != ""
	adminMade, err := fillKeys(&cfg)
	if err != nil {
		return err
	}
	st, err := openStores(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer st.close(context.Background())

	rt := server.NewRuntime(cfg, st.redis, st.mongo, log, web.Mount)
	svc, applier, sender, app := rt.Core, rt.Applier, rt.Sender, rt.App
	server.WatchOutbox(svc)
	server.WatchKiosks(svc)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("GATEWAY_ADDR %s: %w", cfg.Addr, err)
	}
	workCtx, stopWork := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); applier.Run(workCtx, cfg.RollupEvery) }()
	go func() { defer wg.Done(); sender.Run(workCtx, time.Second) }()
	wg.Add(2)
	go func() { defer wg.Done(); svc.RunSweeper(workCtx, cfg.Retention, log.With("comp", "retention")) }()
	wg.Add(1)
	go func() { defer wg.Done(); svc.RunCaseSweeper(workCtx, 10*time.Minute, log.With("comp", "cases")) }()
	wg.Add(1)
	go func() { defer wg.Done(); svc.RunNotices(workCtx, consumerName(), log.With("comp", "notices")) }()
	go func() { defer wg.Done(); svc.RunOutbox(workCtx, log.With("comp", "outbox")) }()
	wg.Add(2)
	go func() { defer wg.Done(); svc.WatchChannels(workCtx) }()
	wg.Add(1)
	go func() { // after Redis lost its data: every open invitation's working copy
		defer wg.Done()
		if n, err := svc.Cache.Warm(workCtx, st.mongo.Invitations, cfg.MongoDatabase); err != nil && workCtx.Err() == nil {
			log.Error("copy open invitations to Redis; a miss reads MongoDB meanwhile", "comp", "cache", "err", err)
		} else if n > 0 {
			log.Info("open invitations copied to Redis", "comp", "cache", "invitations", n)
		}
		if n, err := svc.IndexOpenCases(workCtx); err != nil && workCtx.Err() == nil {
			log.Error("index open follow-up cases; the work list reads the months' cases meanwhile", "comp", "cases", "err", err)
		} else if n > 0 {
			log.Info("open follow-up cases indexed", "comp", "cases", "cases", n)
		}
		if n, err := svc.IndexUnread(workCtx); err != nil && workCtx.Err() == nil {
			log.Error("index open unread replies; the console's menu shows no count of them meanwhile", "comp", "unread", "err", err)
		} else if n > 0 {
			log.Info("open unread replies indexed", "comp", "unread", "replies", n)
		}
		// The search indexes, after Redis lost its data (or on the first
		// start with them): resumed where a cut run stopped.
		if n, err := svc.IndexSearch(workCtx, cfg.Retention, false); err != nil && workCtx.Err() == nil {
			log.Error("index dossier codes and cases for search; searches say they may be incomplete meanwhile", "comp", "search", "err", err)
		} else if n != (core.SearchIndexed{}) {
			log.Info("dossier codes and cases indexed for search", "comp", "search", "invitations", n.Invitations, "cases", n.Cases)
		}
		// Then the phone index, whole: strangers' messages stop asking MongoDB.
		if n, err := svc.IndexOpenInvitations(workCtx); err != nil && workCtx.Err() == nil {
			log.Error("index open invitations by phone; first messages query MongoDB meanwhile", "comp", "cache", "err", err)
		} else if n > 0 {
			log.Info("open invitations indexed by phone", "comp", "cache", "invitations", n)
		}
	}()
	go func() { defer wg.Done(); svc.RunMessageLog(workCtx, consumerName(), log.With("comp", "messages")) }()
	for _, w := range channels.Workers() {
		wg.Add(1)
		go func() { defer wg.Done(); w.Run(workCtx, channels.Deps{Core: svc, Log: log}) }()
	}

	fmt.Fprintf(out, "SIPAS gateway listening on %s — public URL %s\n", ln.Addr(), cfg.BaseURL)
	fmt.Fprintf(out, "console: %s/console (sign in with the admin key)\n", strings.TrimRight(cfg.BaseURL, "/"))
	if st.embedded != nil {
		fmt.Fprintf(out, "embedded stores: MongoDB %s Redis %s (password in %s)\n",
			redacted(st.embedded.MongoURI), redacted(st.embedded.RedisURL), st.embedded.RedisURLFile)
	}
	printAdminKey(out, cfg, adminMade, adminGiven, args, getenv)

	errc := make(chan error, 1)
	go func() { errc <- app.Listener(ln) }()
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down: finishing in-flight requests", "grace", cfg.ShutdownGrace.String())
		_ = svc.Kiosks.Close() // tablets waiting here try another replica
		err = app.ShutdownWithTimeout(cfg.ShutdownGrace)
	}
	stopWork()
	wg.Wait()
	// A last pass so that what citizens sent during shutdown reaches
	// MongoDB (answers, records, opt-outs) and is counted now.
	drainCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if derr := svc.FlushOutbox(drainCtx); derr != nil {
		log.Warn("final outbox pass failed; the answers wait in Redis for the next start", "err", derr)
	}
	if derr := svc.DrainMessages(drainCtx, consumerName(), -1); derr != nil {
		log.Warn("final message-log pass failed; the records wait in Redis for the next start", "err", derr)
	}
	if derr := applier.Drain(drainCtx); derr != nil {
		log.Warn("final roll-up pass failed; the next start counts what is left", "err", derr)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// redacted is a store URL fit to print: the password becomes xxxxx (the
// output goes to every log collector).
func redacted(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(an unreadable URL)"
	}
	return u.Redacted()
}

// consumerName names this process in Redis stream groups: host and pid, so
// replicas on one host differ and a restart takes its own old entries.
func consumerName() string {
	host, _ := os.Hostname()
	return host + "-" + strconv.Itoa(os.Getpid())
}
