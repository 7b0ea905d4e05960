package channels

import "github.com/prometheus/client_golang/prometheus"

// Metrics of the channels, registered by the server into its registry.
var (
	sent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_sms_parts_sent_total", Help: "SMS parts sent, by channel type and kind (invite, reply).",
	}, []string{"type", "kind"})
	webhooks = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "gateway_webhooks_total", Help: "Provider webhooks by channel type and outcome.",
	}, []string{"type", "outcome"})
)

// Collectors lists the metrics for registration.
func Collectors() []prometheus.Collector { return []prometheus.Collector{sent, webhooks} }

// CountSent adds parts sent by a channel type.
func CountSent(typ, kind string, parts int) { sent.WithLabelValues(typ, kind).Add(float64(parts)) }

// CountWebhook counts one webhook outcome (ok, duplicate, unauthenticated, invalid, error).
func CountWebhook(typ, outcome string) { webhooks.WithLabelValues(typ, outcome).Inc() }
