package server

import (
	"context"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
)

// Metrics live in one registry of the process, as Prometheus expects.
var (
	registry = prometheus.NewRegistry()
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "gateway_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route"})
)

var (
	responsesSaved = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "gateway_responses_saved_total", Help: "Responses written to MongoDB.",
	})
	storeErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_store_errors_total", Help: "Requests that failed because a store was unreachable, by route.",
	}, []string{"route"})
)

// ResponseSaved counts n responses written to MongoDB.
func ResponseSaved(n int) { responsesSaved.Add(float64(n)) }

// scrape reads a figure from a store at each scrape: -1 when it cannot.
func scrape(f func(context.Context) (float64, error)) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := f(ctx)
		if err != nil {
			return -1
		}
		return v
	}
}

// WatchOutbox exports the outbox's depth and the age of its oldest entry,
// read at each scrape. Call it once per process.
func WatchOutbox(c *core.Service) {
	registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_outbox_depth", Help: "Responses accepted and waiting for MongoDB (-1: Redis unreachable)."},
			scrape(func(ctx context.Context) (float64, error) { n, err := c.Outbox.Pending(ctx); return float64(n), err })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_outbox_oldest_seconds", Help: "Age of the oldest waiting response."},
			scrape(func(ctx context.Context) (float64, error) { d, err := c.Outbox.OldestAge(ctx); return d.Seconds(), err })),
	)
}

// KioskCollectors are the kiosks' figures, read from Redis at each
// scrape: the gateway-wide pairing tries in the current 10-minute window,
// every replica's together. Above core.PairAlarm someone is likely
// guessing codes: alert on it (the log warns too); it refuses nobody.
func KioskCollectors(c *core.Service) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "gateway_kiosk_pairing_tries",
			Help: "Kiosk pairing tries on the whole gateway in the current 10-minute window; above " + strconv.Itoa(core.PairAlarm) + " someone is likely guessing codes (-1: Redis unreachable)."},
			scrape(func(ctx context.Context) (float64, error) { n, err := c.PairingTries(ctx); return float64(n), err })),
	}
}

// WatchKiosks exports KioskCollectors. Call it once per process.
func WatchKiosks(c *core.Service) { registry.MustRegister(KioskCollectors(c)...) }

func init() {
	registry.MustRegister(responsesSaved, storeErrors)
	registry.MustRegister(channels.Collectors()...)
	registry.MustRegister(requests, latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}

func observe(route, method string, status int, d time.Duration) {
	requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	latency.WithLabelValues(route).Observe(d.Seconds())
}

func metricsHandler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
}
