// Package gwtest builds a whole gateway on the real test servers (see
// testenv), for handler and end-to-end tests.
package gwtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	_ "github.com/sipasvn/gateway/channels/all"
	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/report"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/web"
)

// AdminKey is the admin key of every test gateway.
const AdminKey = "test-admin-key-0123456789"

// Gateway is a gateway under test.
type Gateway struct {
	T       testing.TB
	App     *fiber.App
	Core    *core.Service
	Mongo   *store.Mongo
	Applier *report.Applier
	Sender  *channels.Dispatcher
	// URL is set by Listen.
	URL string
	// Replies holds every API answer body, to search for leaked secrets.
	Replies []string
	mu      sync.Mutex
	skew    atomic.Int64 // how far AnswerAsCitizen moved the clock
}

// New builds a gateway on a fresh database, wired as cmd/gateway wires one
// (server.NewRuntime) with the default settings, rate limits included.
// baseURL may be empty; each option may change the settings (say, turn
// profiles on) before it is built.
func New(t testing.TB, baseURL string, options ...func(*config.Config)) *Gateway {
	t.Helper()
	if baseURL == "" {
		baseURL = "http://gateway.test"
	}
	m := testenv.Mongo(t)
	r := testenv.Redis(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := config.Defaults()
	cfg.BaseURL, cfg.MongoDatabase, cfg.AdminKey = baseURL, m.DB.Name(), AdminKey
	cfg.RedisURL, cfg.MongoURI = "redis://"+testenv.RedisServer(t), testenv.MongoURI(t) // servers, not the embedded default
	cfg.SecretKey = "test-secret-" + strings.Repeat(testenv.RandomID(), 4)
	AnyHour(&cfg)
	for _, o := range options {
		o(&cfg)
	}
	rt := server.NewRuntime(cfg, r, m, log, web.Mount)
	t.Cleanup(func() { _ = rt.Core.Kiosks.Close() })
	if _, err := rt.Core.IndexOpenCases(context.Background()); err != nil { // as cmd/gateway does at start
		t.Fatal(err)
	}
	if _, err := rt.Core.IndexUnread(context.Background()); err != nil { // as cmd/gateway does at start
		t.Fatal(err)
	}
	if _, err := rt.Core.IndexSearch(context.Background(), cfg.Retention, false); err != nil {
		t.Fatal(err)
	}
	return &Gateway{T: t, App: rt.App, Core: rt.Core, Mongo: m, Applier: rt.Applier, Sender: rt.Sender}
}

// Work runs the roll-up writer (every period) and the outbox writer in the
// background until the test ends, as cmd/gateway does.
func (g *Gateway) Work(every time.Duration) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.Applier.Run(ctx, every) }()
	go func() { defer wg.Done(); g.Core.RunOutbox(ctx, slog.New(slog.DiscardHandler)) }()
	g.T.Cleanup(func() { stop(); wg.Wait() })
}

// AnyHour lets messages go at any hour, with no reminder and no limit per
// phone, which New sets (a test's texts must not wait for the morning when
// it runs at night); ReachDefaults puts the defaults back.
func AnyHour(c *config.Config) {
	c.SendHours, c.CallHours, c.ReminderAfter, c.ContactEvery, c.DailyMessages = "00:00-24:00", "00:00-24:00", 0, 0, 0
}

// ReachDefaults restores the send hours, reminder and limits of
// config.Defaults that New turned off.
func ReachDefaults(c *config.Config) {
	d := config.Defaults()
	c.SendHours, c.CallHours, c.ReminderAfter, c.ContactEvery, c.DailyMessages = d.SendHours, d.CallHours, d.ReminderAfter, d.ContactEvery, d.DailyMessages
}

// NoRateLimits turns the page, phone and kiosk rate limits off, as the load tool's
// runs do (GATEWAY_PAGE_RATE=0, GATEWAY_PHONE_RATE=0, GATEWAY_KIOSK_RATE=0).
func NoRateLimits(c *config.Config) { c.PageRate, c.PhoneRate, c.KioskRate = 0, 0, 0 }

// Listen serves the app on a free loopback port with the base URL set to it.
func (g *Gateway) Listen() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		g.T.Fatal(err)
	}
	g.URL = "http://" + ln.Addr().String()
	g.Core.BaseURL = g.URL
	go func() { _ = g.App.Listener(ln) }()
	g.T.Cleanup(func() { _ = g.App.ShutdownWithTimeout(5 * time.Second) })
}

// noFollow answers redirects as they are, like app.Test.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Do sends req through app.Test or, once the gateway listens, over the
// network (fasthttp races when one app both serves app.Test and shuts down
// a listener), and checks the answer against the OpenAPI document.
func (g *Gateway) Do(req *http.Request) *http.Response {
	g.T.Helper()
	if g.URL != "" {
		u, err := url.Parse(g.URL + req.URL.RequestURI())
		if err != nil {
			g.T.Fatal(err)
		}
		req.URL, req.Host, req.RequestURI = u, u.Host, ""
		res, err := noFollow.Do(req)
		if err != nil {
			g.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
		}
		g.T.Cleanup(func() { res.Body.Close() })
		g.checkAnswer(req, res)
		return res
	}
	res, err := g.App.Test(req, 30_000)
	if err != nil {
		g.T.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	g.checkAnswer(req, res)
	return res
}

// API calls an operator endpoint with the admin key and a JSON body (nil for none).
func (g *Gateway) API(method, path string, body any) (*http.Response, map[string]any) {
	g.T.Helper()
	return g.As(AdminKey, method, path, body)
}

// As calls an operator endpoint with the given key.
func (g *Gateway) As(key, method, path string, body any) (*http.Response, map[string]any) {
	g.T.Helper()
	res, raw := g.Raw(key, method, path, body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return res, out
}

// Raw calls an operator endpoint with the given key and returns the
// answer's body as it came (a PDF, an image).
func (g *Gateway) Raw(key, method, path string, body any) (*http.Response, []byte) {
	g.T.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res := g.Do(req)
	raw, _ := io.ReadAll(res.Body)
	g.mu.Lock()
	g.Replies = append(g.Replies, string(raw))
	g.mu.Unlock()
	return res, raw
}

// Invite creates an invitation and returns the API's answer.
func (g *Gateway) Invite(dossier, agency string, extra map[string]any) map[string]any {
	g.T.Helper()
	body := map[string]any{"dossier_code": dossier, "agency_code": agency}
	for k, v := range extra {
		body[k] = v
	}
	res, out := g.API("POST", "/api/v1/invitations", body)
	if res.StatusCode != 201 {
		g.T.Fatalf("create invitation: %d %v", res.StatusCode, out)
	}
	return out
}

// Token is the survey token of an invitation answer.
func Token(inv map[string]any) string {
	u := inv["survey_url"].(string)
	return u[strings.LastIndex(u, "/")+1:]
}

// Citizens trusts the test requests' peers as proxies, so AnswerAsCitizen
// can give each answer an address of its own (X-Forwarded-For).
func Citizens(c *config.Config) { c.TrustedProxies = "0.0.0.0,127.0.0.1" }

// citizens numbers the addresses AnswerAsCitizen answers from.
var citizens atomic.Int64

// AnswerAsCitizen answers the survey of tok as a citizen does, raising no
// integrity signal: from an address of its own (with the Citizens
// option), not the one that made the invitation, opening the page and
// submitting form a minute later (the gateway's clock is moved on a
// minute), so it is no speeder. It returns the submit's answer.
func (g *Gateway) AnswerAsCitizen(tok, form string) *http.Response {
	g.T.Helper()
	n := citizens.Add(1)
	addr := fmt.Sprintf("113.161.%d.%d", n/250%250, 1+n%250)
	view := httptest.NewRequest("GET", "/s/"+tok, nil)
	view.Header.Set("X-Forwarded-For", addr)
	if res := g.Do(view); res.StatusCode != 200 {
		g.T.Fatalf("survey page: %d", res.StatusCode)
	}
	g.Later(time.Minute)
	req := httptest.NewRequest("POST", "/s/"+tok, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	return g.Do(req)
}

// Later moves the gateway's clock on by d (a citizen taking their time).
func (g *Gateway) Later(d time.Duration) {
	if g.Core.Clock == nil {
		g.Core.Clock = func() time.Time { return time.Now().Add(time.Duration(g.skew.Load())) }
	}
	g.skew.Add(int64(d))
}

// Form posts a form to path.
func (g *Gateway) Form(path, form string) *http.Response {
	g.T.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return g.Do(req)
}

// Drain writes every accepted response to MongoDB, counts them into the
// roll-ups and writes every queued message record now, as the gateway's
// workers do.
func (g *Gateway) Drain() {
	g.T.Helper()
	g.Flush()
	// Messages first: their records note what they cost, which the
	// roll-up writer then counts.
	if err := g.Core.DrainMessages(context.Background(), "test", -1); err != nil {
		g.T.Fatal(err)
	}
	if err := g.Applier.Drain(context.Background()); err != nil {
		g.T.Fatal(err)
	}
}

// Flush writes every accepted response from the outbox to MongoDB now, as
// the outbox writer does, without counting them.
func (g *Gateway) Flush() {
	g.T.Helper()
	if err := g.Core.FlushOutbox(context.Background()); err != nil {
		g.T.Fatal(err)
	}
}

// Body reads a response body.
func Body(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// DecodeQR reads a QR PNG with Debian's zbarimg, a decoder we did not write.
func DecodeQR(t testing.TB, png []byte) string {
	t.Helper()
	cmd := exec.Command(testenv.Tool(t, "zbarimg"), "--raw", "-q", "-")
	cmd.Stdin = bytes.NewReader(png)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("zbarimg: %v", err)
	}
	return strings.TrimRight(string(out), "\n")
}

// MustInvitation returns the stored invitation of a dossier.
func (g *Gateway) MustInvitation(dossier string) *store.Invitation {
	g.T.Helper()
	inv, err := g.Mongo.Invitations.ByDossier(context.Background(), dossier)
	if err != nil {
		g.T.Fatal(err)
	}
	return inv
}

// Mu guards Replies.
func (g *Gateway) Mu() *sync.Mutex { return &g.mu }
