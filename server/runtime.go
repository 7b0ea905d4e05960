package server

import (
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// Runtime is one running gateway: the service, its background workers and
// its HTTP app. NewRuntime builds it the same way for cmd/gateway and for
// the test gateway, so tests run with production's rate limits, caches and
// wake-ups.
type Runtime struct {
	Core    *core.Service
	Applier *report.Applier
	Sender  *channels.Dispatcher
	App     *fiber.App
}

// NewRuntime wires a gateway over open stores with the settings of cfg
// (SecretKey and AdminKey must be set), with the given frontends (web.Mount
// for the console).
func NewRuntime(cfg config.Config, r redis.UniversalClient, m *store.Mongo, log *slog.Logger, frontends ...Frontend) *Runtime {
	name := cfg.MongoDatabase
	locks := &store.Locks{R: r}
	applier := report.NewApplier(m, locks, log.With("comp", "rollups"))
	applier.Lexicon, _ = cfg.Lexicon()   // checked by cfg.Validate
	applier.Calendar, _ = cfg.Calendar() // checked by cfg.Validate
	applier.Notices = &store.Stream{R: r, Key: "gw:notices:" + name, Group: "gateway"}
	applier.OpenCases = &store.OpenCases{R: r, Name: name, Search: &store.CaseSearch{R: r, Name: name}}
	svc := &core.Service{
		Surveys: survey.Builtin(), Topics: applier.Lexicon, Calendar: applier.Calendar, Notices: applier.Notices, OpenCases: applier.OpenCases, Mongo: m, Drafts: &store.Progress{R: r},
		Conversations: &store.Conversations{R: r, TTL: cfg.ConversationTTL, Name: name},
		Queue:         &store.SendQueue{R: r, Name: name},
		Calls:         &store.Calls{R: r, Name: name},
		Locks:         locks,
		Limiter:       &store.Limiter{R: r, Name: name}, PageRate: cfg.PageRate, PhoneRate: cfg.PhoneRate, KioskRate: cfg.KioskRate, RequireAgencies: cfg.RequireAgencies, MaxMonths: cfg.MaxMonths, AgencyNames: &sync.Map{},
		SignIns: &core.SignInLimits{
			ByIP:   &store.Lockout{R: r, Name: name + ":signin-ip", Threshold: 20, Base: 30 * time.Second, Max: time.Hour, Window: time.Hour},
			ByUser: &store.Lockout{R: r, Name: name + ":signin-user", Threshold: 5, Base: 30 * time.Second, Max: time.Hour, Window: time.Hour},
		},
		Warnings: &store.Warnings{R: r, Name: name},
		Inbox:    &store.Stream{R: r, Key: "gw:inbox:" + name, Group: "gateway"},
		Outbox:   store.NewOutbox(r, name), AckAfterMongo: cfg.AckAfterMongo(),
		MessageLog:   &store.Stream{R: r, Key: "gw:msglog:" + name, Group: "gateway"},
		Funnel:       store.NewFunnel(r, m),
		Dossiers:     &store.Dossiers{R: r, Name: name},
		Channels:     &core.ChannelCache{Changes: &store.Changes{R: r, Key: "gw:changes:channels:" + name}},
		Started:      store.NewStarted(r, name),
		FlaggedIndex: store.NewFlaggedIndex(r, name),
		ScanQueue:    store.NewScanQueue(r, name),
		OptOuts:      &store.OptOutView{R: r, Name: name},
		Cache:        &store.InvitationCache{R: r, TTL: cfg.InvitationTTL},
		Health:       &core.Health{},
		Sealer:       store.NewSealer(cfg.SecretKey), BaseURL: cfg.BaseURL, InvitationTTL: cfg.InvitationTTL,
		Saved:       func(n int) { applier.Kick(); ResponseSaved(n) },
		Kiosks:      &store.Kiosks{R: r, Name: name},
		UnreadIndex: &store.UnreadIndex{R: r, Name: name},

		Signals: store.NewSignals(r, name), Lists: &core.AgencyLists{},
		Feedback: &store.FeedbackTickets{R: r, Name: name}, FeedbackRate: cfg.FeedbackRate, FeedbackAgencyRate: cfg.FeedbackAgencyRate, FeedbackCodes: cfg.FeedbackCodes,
		DossierCodeAnswers: cfg.DossierCodeAnswers, SpeederSeconds: cfg.SpeederSeconds, KioskFastSeconds: cfg.KioskFastSeconds,
	}
	sendHours, callHours := cfg.Hours() // checked by cfg.Validate
	svc.Reach = &core.Reach{Send: sendHours, Call: callHours, ReminderAfter: cfg.ReminderAfter, ContactEvery: cfg.ContactEvery,
		DailyMessages: cfg.DailyMessages, Contacts: &store.Contacts{R: r, Name: name}}
	applier.Started, applier.Funnel, applier.Flagged, applier.Outbox, applier.Cache = svc.Started, svc.Funnel, svc.FlaggedIndex, svc.Outbox, svc.Cache
	applier.Now = func() time.Time { // the service's clock, which tests set
		if svc.Clock != nil {
			return svc.Clock()
		}
		return time.Now()
	}
	kioskLog := log.With("comp", "kiosk")
	svc.PairingAlarm = func(n int64) {
		kioskLog.Warn("kiosk pairing tries above the alarm: someone may be guessing pairing codes", "tries", n, "alarm", core.PairAlarm, "window", "10m")
	}
	sender := channels.NewDispatcher(svc, log)
	svc.Queued = sender.Kick
	proxies, _ := cfg.Proxies()  // checked by cfg.Validate
	prices, _ := cfg.PriceList() // checked by cfg.Validate
	app := New(Deps{Core: svc, Redis: r, AdminKey: cfg.AdminKey, Log: log, Pprof: cfg.Pprof, Proxies: proxies, MetricsToken: cfg.MetricsToken, RankMin: cfg.RankMin, Bands: Bands{Good: cfg.IndexGood, Fair: cfg.IndexFair}, PlanThreshold: cfg.PlanThreshold, Prices: prices, Zone: cfg.Location(), Frontends: frontends, ScanMaxBytes: cfg.ScanMaxBytes})
	return &Runtime{Core: svc, Applier: applier, Sender: sender, App: app}
}
