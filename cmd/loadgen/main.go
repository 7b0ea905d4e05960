// Command loadgen drives a running gateway's real HTTP paths for a bounded
// time and prints throughput, latency percentiles and errors, each next to
// a baseline measured in the same run: a bare fiber handler that answers
// 200, served from this process under the same load.
//
//	loadgen -url http://127.0.0.1:8080 -key <admin key> -duration 10s -conns 16
//
// Only loopback targets are accepted.
package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
)

type scenario struct {
	name string
	// prepare runs once before the load and returns the request maker.
	prepare func() (func(i int) (*http.Request, error), error)
}

type result struct {
	name      string
	n, errors int64
	elapsed   time.Duration
	lat       []time.Duration
}

func main() {
	target := flag.String("url", "http://127.0.0.1:8080", "the gateway (loopback only)")
	key := flag.String("key", "", "an admin API key")
	duration := flag.Duration("duration", 10*time.Second, "how long each scenario runs")
	conns := flag.Int("conns", 16, "concurrent connections")
	only := flag.String("only", "", "comma-separated scenarios to run (baseline always runs)")
	flag.Parse()
	if err := run(*target, *key, *duration, *conns, *only); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(target, key string, d time.Duration, conns int, only string) error {
	u, err := url.Parse(target)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
		return fmt.Errorf("-url must be a loopback address, not %s", u.Host)
	}
	if key == "" {
		return fmt.Errorf("-key is required (the admin key the gateway printed)")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	base, stop, err := baseline()
	if err != nil {
		return err
	}
	defer stop()
	g := &gen{target: strings.TrimRight(target, "/"), key: key, client: client}
	all := []scenario{
		{"baseline", func() (func(int) (*http.Request, error), error) {
			return func(int) (*http.Request, error) { return http.NewRequest("GET", base, nil) }, nil
		}},
		{"invitation create", g.invite},
		{"survey page load", g.page},
		{"survey submit", g.submit},
		{"sms webhook", g.sms},
	}
	var results []result
	for _, s := range all {
		if only != "" && s.name != "baseline" && !strings.Contains(only, strings.Fields(s.name)[0]) {
			continue
		}
		mk, err := s.prepare()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		results = append(results, load(s.name, client, mk, d, conns))
	}
	report(os.Stdout, results, conns, d)
	return nil
}

// baseline serves a bare 200 from this process.
func baseline() (string, func(), error) {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/", func(c *fiber.Ctx) error { return c.SendString("ok") })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	go func() { _ = app.Listener(ln) }()
	return "http://" + ln.Addr().String() + "/", func() { _ = app.Shutdown() }, nil
}

// load runs mk from conns goroutines for d.
func load(name string, client *http.Client, mk func(int) (*http.Request, error), d time.Duration, conns int) result {
	var n, errs, seq atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				req, err := mk(int(seq.Add(1)))
				if err != nil {
					errs.Add(1)
					break
				}
				t0 := time.Now()
				res, err := client.Do(req)
				el := time.Since(t0)
				n.Add(1)
				if err != nil {
					errs.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode >= 400 {
					errs.Add(1)
				}
				mine = append(mine, el)
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return result{name: name, n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), lat: lat}
}

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(p*float64(len(l))))]
}

func report(w io.Writer, rs []result, conns int, d time.Duration) {
	fmt.Fprintf(w, "loadgen: %d connections, %s per scenario\n", conns, d)
	fmt.Fprintf(w, "%-20s %9s %7s %10s %8s %9s %9s %9s %9s\n", "scenario", "requests", "errors", "req/s", "ratio", "p50", "p90", "p99", "max")
	var baseRPS float64
	for _, r := range rs {
		rps := float64(r.n) / r.elapsed.Seconds()
		if r.name == "baseline" {
			baseRPS = rps
		}
		ratio := 0.0
		if baseRPS > 0 {
			ratio = rps / baseRPS
		}
		fmt.Fprintf(w, "%-20s %9d %7d %10.0f %8.3f %9s %9s %9s %9s\n", r.name, r.n, r.errors, rps, ratio,
			pct(r.lat, .5).Round(time.Microsecond), pct(r.lat, .9).Round(time.Microsecond), pct(r.lat, .99).Round(time.Microsecond), pct(r.lat, 1).Round(time.Microsecond))
	}
}

// gen makes the gateway's requests.
type gen struct {
	target, key string
	client      *http.Client
	run         string
	tokens      []string
}

func (g *gen) api(method, path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, g.target+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+g.key)
	req.Header.Set("Content-Type", "application/json")
	res, err := g.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode >= 300 {
		return out, fmt.Errorf("%s %s: %d %v", method, path, res.StatusCode, out)
	}
	return out, nil
}

func (g *gen) runID() string {
	if g.run == "" {
		g.run = fmt.Sprintf("%x", rand.Uint64()&0xffffff)
	}
	return g.run
}

func (g *gen) invite() (func(int) (*http.Request, error), error) {
	return func(i int) (*http.Request, error) {
		body := fmt.Sprintf(`{"dossier_code":"LOAD-%s-I%07d","agency_code":"000.00.12.H49","survey":"sipas-5"}`, g.runID(), i)
		req, err := http.NewRequest("POST", g.target+"/api/v1/invitations", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.key)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}, nil
}

// tokenPool makes n invitations to answer.
func (g *gen) tokenPool(n int, prefix string) ([]string, error) {
	var out []string
	for i := 0; i < n; i++ {
		inv, err := g.api("POST", "/api/v1/invitations", map[string]any{"dossier_code": fmt.Sprintf("LOAD-%s-%s%06d", g.runID(), prefix, i), "agency_code": "000.00.12.H49", "survey": "sipas-5"})
		if err != nil {
			return nil, err
		}
		su := inv["survey_url"].(string)
		out = append(out, su[strings.LastIndex(su, "/")+1:])
	}
	return out, nil
}

func (g *gen) page() (func(int) (*http.Request, error), error) {
	toks, err := g.tokenPool(200, "P")
	if err != nil {
		return nil, err
	}
	return func(i int) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.target+"/s/"+toks[i%len(toks)], nil)
		if err == nil {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		return req, err
	}, nil
}

func (g *gen) submit() (func(int) (*http.Request, error), error) {
	toks, err := g.tokenPool(3000, "S")
	if err != nil {
		return nil, err
	}
	form := url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode()
	return func(i int) (*http.Request, error) {
		req, err := http.NewRequest("POST", g.target+"/s/"+toks[i%len(toks)], strings.NewReader(form))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}, nil
}

// sms sets up a generic SMS channel and invitations with phones, then sends
// signed inbound messages: most answer all five scores at once, some one at
// a time, and 5% repeat an earlier message id.
func (g *gen) sms() (func(int) (*http.Request, error), error) {
	secret := "loadgen-" + g.runID()
	ch := "load-" + g.runID()
	if _, err := g.api("PUT", "/api/v1/channels/"+ch, map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": "http://127.0.0.1:9/unused"}, "secrets": map[string]any{"secret": secret}}); err != nil {
		return nil, err
	}
	const phones = 2000
	for i := 0; i < phones; i++ {
		if _, err := g.api("POST", "/api/v1/invitations", map[string]any{"dossier_code": fmt.Sprintf("LOAD-%s-M%06d", g.runID(), i),
			"agency_code": "000.00.12.H49", "phone": fmt.Sprintf("09%08d", 10000000+i)}); err != nil {
			return nil, err
		}
	}
	return func(i int) (*http.Request, error) {
		id, p := i, i%phones
		text := "5 4 5 4 5"
		if i%5 == 0 {
			text = fmt.Sprint(1 + i%5) // one score at a time
		}
		if i%20 == 0 && i > 0 {
			id = i - 1 // a duplicate delivery
		}
		body, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%d", g.runID(), id), "from": fmt.Sprintf("09%08d", 10000000+p), "to": "8079", "text": text})
		req, err := http.NewRequest("POST", g.target+"/webhooks/sms/"+ch, bytes.NewReader(body))
		if err == nil {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(body)
			req.Header.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}, nil
}
