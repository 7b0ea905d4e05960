package channels

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/sipasvn/gateway/core"
)

// Provider is a channel type a province configures (an SMS provider, a Zalo
// OA): what it needs, and how it sends a text to a phone number.
type Provider interface {
	Kind() core.ChannelKind
	// Send delivers an invitation and returns the provider's message id.
	// Failures are *SendError.
	Send(ctx context.Context, d Deps, ch *core.Channel, msg Outgoing) (string, error)
}

// ChatSender is a provider that can write to a chat user (Zalo OA): the
// answer to a follow-up case goes back to the chat the survey was in.
type ChatSender interface {
	SendChat(ctx context.Context, d Deps, ch *core.Channel, user, text string) error
}

// Checker is a provider that can check its credentials without sending a
// message (Zalo: the OA's profile with a fresh token).
type Checker interface {
	Check(ctx context.Context, d Deps, ch *core.Channel) (string, error)
}

// Outgoing is an invitation to send.
type Outgoing struct {
	To         string // phone, 84…
	Text       string // the text message, for providers that send text
	Invitation string // invitation id (Zalo's tracking_id)
	Dossier    string
	SurveyURL  string
}

var providers = map[string]Provider{}

// RegisterProvider adds a configurable type; empty or duplicate panics.
func RegisterProvider(p Provider) {
	t := p.Kind().Type
	if t == "" {
		panic("channels: provider with an empty type")
	}
	if _, dup := providers[t]; dup {
		panic(fmt.Sprintf("channels: provider %q registered twice", t))
	}
	providers[t] = p
}

// ProviderOf returns the provider of a type.
func ProviderOf(typ string) (Provider, bool) {
	p, ok := providers[typ]
	return p, ok
}

// Types lists the registered types, sorted.
func Types() []string {
	out := make([]string, 0, len(providers))
	for t := range providers {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// SendError is a provider's refusal or failure, typed once from its reply.
type SendError struct {
	Provider string
	Status   int    // HTTP status, 0 for a network failure
	Code     string // the provider's own error code, if any
	Message  string
	// Temporary failures (network, 5xx, 429, provider busy) are retried.
	Temporary bool
	// Fallback asks to send through the invitation's SMS channel instead
	// (a Zalo user out of reach); Message says why.
	Fallback bool
}

func (e *SendError) Error() string {
	s := fmt.Sprintf("%s: %s", e.Provider, e.Message)
	if e.Code != "" {
		s += " (code " + e.Code + ")"
	}
	if e.Status != 0 {
		s += fmt.Sprintf(" [HTTP %d]", e.Status)
	}
	return s
}

// Retryable says whether sending again later may succeed.
func (e *SendError) Retryable() bool { return e.Temporary }

// HTTPFailure types a failed exchange: network errors, 5xx and 429 are
// temporary; other statuses are not.
func HTTPFailure(provider string, res *http.Response, err error, code, msg string) *SendError {
	if err != nil {
		return &SendError{Provider: provider, Message: err.Error(), Temporary: true}
	}
	temp := res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests
	if msg == "" {
		msg = http.StatusText(res.StatusCode)
	}
	return &SendError{Provider: provider, Status: res.StatusCode, Code: code, Message: msg, Temporary: temp}
}

// HTTP is the client providers use: bounded, so a stuck provider cannot hold
// a sender forever.
var HTTP = &http.Client{Timeout: 15 * time.Second}

// Freshness: a provider that puts a message's time under its signature
// lets the gateway refuse a captured message replayed later. Its channel's
// settings.max_age (a Go duration) bounds how old a message may be;
// MaxSkew how far ahead of the gateway's clock.
const (
	DefaultMaxAge = 10 * time.Minute
	MaxSkew       = 2 * time.Minute
	// MaxMaxAge is the longest max_age: a message id stays claimed per
	// channel for longer (store.ClaimTTL), so a replay within the window
	// is always found.
	MaxMaxAge = 24 * time.Hour
)

// CheckMaxAge validates settings.max_age: a Go duration from 1m to 24h.
func CheckMaxAge(s map[string]any) error {
	v, ok := s["max_age"]
	if !ok {
		return nil
	}
	str, _ := v.(string)
	d, err := time.ParseDuration(str)
	if err != nil || d < time.Minute || d > MaxMaxAge {
		return core.Errorf(core.Invalid, "settings.max_age", "%v: give a duration from 1m to 24h, e.g. \"10m\"", v)
	}
	return nil
}

// MaxAge is a channel's max_age, or def when it is not set (0: no check).
func MaxAge(ch *core.Channel, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(ch.Setting("max_age")); err == nil && d > 0 {
		return d
	}
	return def
}

// CheckFresh refuses a message sent at at, as its provider says, that is
// older than maxAge or more than MaxSkew ahead of now; field names where
// the time came from.
func CheckFresh(at, now time.Time, maxAge time.Duration, field string) error {
	switch age := now.Sub(at); {
	case age > maxAge:
		return core.Errorf(core.Invalid, field, "the message is %s old; this channel refuses messages older than %s (settings.max_age), so a captured message cannot be replayed", age.Round(time.Second), maxAge)
	case -age > MaxSkew:
		return core.Errorf(core.Invalid, field, "the message is dated %s ahead of the gateway's clock (at most %s allowed); check the provider's clock and time zone", (-age).Round(time.Second), MaxSkew)
	}
	return nil
}

// Warner is a provider that can warn of a risky configuration; a
// channel's GET shows its warnings.
type Warner interface {
	Warnings(settings map[string]any) []string
}

// Warnings returns what a channel type's provider warns of its settings.
func Warnings(typ string, settings map[string]any) []string {
	if w, ok := providers[typ].(Warner); ok {
		return w.Warnings(settings)
	}
	return nil
}
