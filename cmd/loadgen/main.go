// Command loadgen drives a running gateway's real HTTP paths for a bounded
// time and prints throughput, latency percentiles and errors, each next to
// a baseline measured in the same run: a bare fiber handler that answers
// 200, served from this process under the same load.
//
//	loadgen -url http://127.0.0.1:8080 -key <admin key> -duration 10s -conns 16
//
// Several -url values (comma-separated) split the load between replicas.
// With -mongo it also measures a raw driver insert loop against that server
// (the bound for completed responses); with -redis and -conversations it
// seeds open conversations and reports Redis memory per conversation and
// the gateways' resident memory. Only loopback targets are accepted.
//
// For measuring at scale: -fill N first brings the store (-mongo, database
// -db) to N invitations written in bulk, as real ones look, without the API
// (alone, without -key, it stops there); the get and report scenarios read
// invitations and the SIPAS report; -csv appends each scenario's figures to
// a file, and -chart draws such a file as an SVG chart and prints it as a
// table:
//
//	loadgen -fill 100000 -mongo mongodb://127.0.0.1:27017/
//	loadgen -chart docs/bench/scale.csv -out docs/bench/scale.svg
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

	"github.com/sipasvn/gateway/store"
)

type config struct {
	targets       []string
	key           string
	duration      time.Duration
	conns         int
	rate          float64 // requests per second in all; 0 = as fast as possible
	only          string
	pool          int
	mongo, redis  string
	conversations int
	fill          int         // filler invitations the store should hold first (-fill)
	fillWorkers   int         // goroutines inserting batches
	db            string      // the gateway's database
	mode          string      // the -csv rows' mode label
	csv           string      // append rows here
	half          bool        // the SMS scenario again at half its rate
	raw           bool        // the raw insert loop (with -mongo)
	reportConns   int         // connections for the report scenarios (0: conns)
	cpu           string      // -cpu: name=pid,... to measure CPU per request
	fillIDs       []string    // filler invitations for the get scenario
	search        *searchable // filler codes for the search scenarios
}

func main() {
	if os.Getenv(bareEnv) != "" {
		bareMain()
	}
	var o config
	targets := flag.String("url", "http://127.0.0.1:8080", "the gateway, or several replicas comma-separated (loopback only)")
	flag.StringVar(&o.key, "key", "", "an admin API key")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs")
	flag.IntVar(&o.conns, "conns", 16, "concurrent connections")
	flag.Float64Var(&o.rate, "rate", 0, "requests per second in all (0: as fast as the gateway answers)")
	flag.StringVar(&o.only, "only", "", "comma-separated scenarios to run: invite,page,submit,answer (a first view then a submit),kiosk,sms,get,search,report (baseline always runs; search: dossier codes, the filtered list and cases)")
	flag.IntVar(&o.pool, "pool", 2000, "invitations made ahead for each of the submit and SMS scenarios (a scenario ends early when they are used up)")
	flag.StringVar(&o.mongo, "mongo", "", "the gateway's MongoDB URI: for -fill, and to measure a raw driver insert loop against it (see -raw)")
	flag.StringVar(&o.redis, "redis", "", "the gateway's Redis URL: with -conversations, measure memory per open conversation")
	flag.IntVar(&o.conversations, "conversations", 0, "open conversations to seed in Redis before the SMS scenario (needs -redis)")
	flag.IntVar(&o.fill, "fill", 0, "first bring the store (-mongo, -db) to this many invitations written in bulk by the filler; without -key, stop there")
	flag.IntVar(&o.fillWorkers, "fill-workers", 4, "goroutines inserting the filler's batches of 1,000")
	flag.StringVar(&o.db, "db", "sipas", "the gateway's MongoDB database (GATEWAY_MONGO_DATABASE)")
	flag.StringVar(&o.mode, "mode", "", "a label for the -csv rows, e.g. embedded or servers")
	flag.StringVar(&o.csv, "csv", "", "append a row per scenario to this CSV file (mode,n,scenario,requests,errors,rps,p50_ms,p99_ms,ratio)")
	flag.BoolVar(&o.half, "half", true, "run the SMS scenario again at half the rate it reached")
	flag.BoolVar(&o.raw, "raw", true, "with -mongo, measure a raw driver insert loop")
	flag.IntVar(&o.reportConns, "report-conns", 0, "concurrent connections for the report scenarios (0: as -conns); their requests may take 30 s")
	flag.StringVar(&o.cpu, "cpu", "", "processes whose CPU per request to print, from /proc: name=pid,... (e.g. gateway=12,redis=34,mongo=56); the baseline's bare handler then runs in a child process")
	chart := flag.String("chart", "", "draw this -csv file as an SVG chart (to -out) and print it as a table, then exit")
	out := flag.String("out", "", "with -chart: the SVG file to write")
	rpsLog := flag.Bool("rps-log", false, "with -chart: a logarithmic req/s axis")
	flag.Parse()
	o.targets = strings.Split(*targets, ",")
	if *chart != "" {
		if err := chartMain(os.Stdout, *chart, *out, *rpsLog); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		return
	}
	if o.fill > 0 {
		if o.mongo == "" {
			fmt.Fprintln(os.Stderr, "loadgen: -fill needs -mongo (the gateway's MongoDB URI)")
			os.Exit(2)
		}
		if err := fillFirst(&o); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen:", err)
			os.Exit(1)
		}
		if o.key == "" {
			return
		}
	}
	if err := run(os.Stdout, o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(w io.Writer, o config) error {
	for i, t := range o.targets {
		u, err := url.Parse(t)
		if err != nil {
			return err
		}
		if ip := net.ParseIP(u.Hostname()); (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
			return fmt.Errorf("-url must be loopback addresses, not %s", u.Host)
		}
		o.targets[i] = strings.TrimRight(t, "/")
	}
	if o.key == "" {
		return fmt.Errorf("-key is required (the admin key the gateway printed)")
	}
	if o.only != "" {
		for _, s := range strings.Split(o.only, ",") {
			if !strings.Contains(",invite,page,submit,answer,kiosk,sms,get,search,report,", ","+s+",") {
				return fmt.Errorf("-only: unknown scenario %q; use invite,page,submit,answer,kiosk,sms,get,search,report", s)
			}
		}
	}
	if o.conversations > 0 && o.redis == "" {
		return fmt.Errorf("-conversations needs -redis (the gateway's Redis URL)")
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	procs, err := parseProcs(o.cpu)
	if err != nil {
		return err
	}
	// With -cpu the bare handler is a process of its own, so its CPU is
	// told apart from the load tool's.
	var base string
	var stop func()
	barePID := 0
	if len(procs) > 0 {
		base, barePID, stop, err = bareChild()
	} else {
		base, stop, err = baseline()
	}
	if err != nil {
		return err
	}
	defer stop()
	// Setting up (invitations, channels) may wait on a busy store longer
	// than a measured request should.
	setup := &http.Client{Timeout: 2 * time.Minute, Transport: client.Transport, CheckRedirect: client.CheckRedirect}
	g := &gen{targets: o.targets, key: o.key, client: client, setup: setup, run: fmt.Sprintf("%x", time.Now().UnixNano()&0xffffff), conns: o.conns}
	fmt.Fprintf(w, "loadgen: %d connections, %s per scenario, %s, targets %s\n", o.conns, o.duration, rateText(o.rate), strings.Join(o.targets, " "))
	var rs []result
	add := func(r result) {
		rs = append(rs, r)
		fmt.Fprintln(os.Stderr, "loadgen: done:", r.name)
	}
	var cs counters
	if len(procs) > 0 {
		var closeCalls func()
		if cs.calls, closeCalls, err = redisCalls(o.redis); err != nil {
			return fmt.Errorf("-redis: %w", err)
		}
		defer closeCalls()
		cs.heap = allocated(setup, o.targets)
	}
	measure := func(name string, mk maker, conns int, rate float64, c *http.Client) result {
		return measured(procs, cs, func() result { return load(name, c, mk, o.duration, conns, rate) })
	}
	b0, _ := cpuTime(barePID)
	r := measure("baseline", func(int, int) (*http.Request, error) { return http.NewRequest("GET", base, nil) }, o.conns, 0, client)
	if barePID > 0 {
		b1, _ := cpuTime(barePID)
		r.bare = b1 - b0
	}
	add(r)
	want := func(s string) bool { return o.only == "" || strings.Contains(","+o.only+",", ","+s+",") }
	type scenario struct {
		key, name string
		prepare   func() (maker, error)
	}
	for _, s := range []scenario{
		{"invite", "invitation create", g.invite},
		{"page", "survey page load", g.page},
		{"submit", "survey submit", func() (maker, error) { return g.submit(o.pool) }},
		{"kiosk", "kiosk answer", func() (maker, error) { return g.kiosk(o.pool) }},
	} {
		if !want(s.key) {
			continue
		}
		mk, err := s.prepare()
		if err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		add(measure(s.name, mk, o.conns, o.rate, client))
	}
	if want("answer") {
		op, err := g.answer(o.pool)
		if err != nil {
			return fmt.Errorf("web answer: %w", err)
		}
		add(measured(procs, cs, func() result { return drive("web answer", o.duration, o.conns, o.rate, op) }))
	}
	if o.mongo != "" && o.raw && want("submit") {
		for _, batch := range []bool{false, true} {
			r, err := rawInserts(o.mongo, o.duration, o.conns, batch)
			if err != nil {
				return fmt.Errorf("raw insert loop: %w", err)
			}
			add(r)
		}
	}
	var mem *memory
	if want("sms") {
		if o.conversations > 0 {
			if mem, err = seedConversations(o.redis, o.conversations, o.conns); err != nil {
				return fmt.Errorf("seed conversations: %w", err)
			}
		}
		mk, err := g.sms("1", o.pool)
		if err != nil {
			return fmt.Errorf("sms webhook: %w", err)
		}
		full := measure("sms webhook", mk, o.conns, o.rate, client)
		add(full)
		if o.half && o.rate == 0 && full.rps() > 0 {
			// The latency target is at half the rate the gateway sustains.
			half := full.rps() / 2
			if mk, err = g.sms("2", o.pool); err != nil {
				return fmt.Errorf("sms webhook at half rate: %w", err)
			}
			add(measure(fmt.Sprintf("sms webhook @%.0f/s", half), mk, o.conns, half, client))
		}
	}
	if want("get") {
		mk, err := g.get(o.fillIDs)
		if err != nil {
			return fmt.Errorf("invitation get: %w", err)
		}
		add(measure("invitation get", mk, o.conns, o.rate, client))
	}
	if want("search") {
		if err := g.searches(o, add); err != nil {
			return err
		}
	}
	if want("report") {
		// A report on a large store takes seconds: give it longer than a
		// page, so what is measured is the gateway's answer (its own
		// MongoDB timeout is 10 s an operation), not the tool giving up.
		conns := cmp.Or(o.reportConns, o.conns)
		slow := &http.Client{Timeout: 30 * time.Second, Transport: client.Transport, CheckRedirect: client.CheckRedirect}
		for _, by := range []string{"", "agency"} {
			name := "sipas report"
			if by != "" {
				name += " by " + by
			}
			add(measure(name, g.report(time.Now(), by), conns, o.rate, slow))
		}
	}
	report(w, rs)
	cpuReport(w, procs, rs)
	if o.csv != "" {
		if err := appendCSV(o.csv, o.mode, o.fill, rs); err != nil {
			return fmt.Errorf("-csv: %w", err)
		}
	}
	if mem != nil {
		if err := mem.finish(w, g); err != nil {
			return err
		}
	}
	return nil
}

// fillFirst fills the store to o.fill and, when the get scenario is to
// run, picks the invitations it reads, before any load starts.
func fillFirst(o *config) error {
	ctx := context.Background()
	m, err := store.OpenMongo(ctx, o.mongo, o.db)
	if err != nil {
		return err
	}
	defer m.Close(ctx)
	anchor, err := fill(os.Stdout, m, o.db, o.fill, o.fillWorkers)
	if err != nil || o.key == "" {
		return err
	}
	want := func(s string) bool { return o.only == "" || strings.Contains(","+o.only+",", ","+s+",") }
	if want("get") {
		if o.fillIDs, err = fillIDs(m, o.fill, 300, anchor); err != nil {
			return err
		}
	}
	if want("search") {
		o.search, err = fillSearchable(o.fill, 300, anchor)
	}
	return err
}

func rateText(r float64) string {
	if r == 0 {
		return "full speed"
	}
	return fmt.Sprintf("%.0f req/s", r)
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

// maker makes worker w's i-th request; errDone ends that worker early.
type maker func(w, i int) (*http.Request, error)

var errDone = errors.New("no more work")

type result struct {
	name       string
	n, errors  int64
	elapsed    time.Duration
	lat        []time.Duration
	note       string
	cpu        cpuSample     // with -cpu: each process's CPU over the run, then the load tool's
	bare       time.Duration // with -cpu, the baseline: the bare handler's CPU
	redisCalls int64         // with -cpu and -redis: Redis commands over the run
	// with -cpu: what the gateways allocated over the run (-1: unknown)
	heapBytes, heapObjects float64
}

func (r result) rps() float64 { return float64(r.n) / r.elapsed.Seconds() }

// load runs mk's requests from conns workers for d (see drive).
func load(name string, client *http.Client, mk maker, d time.Duration, conns int, rate float64) result {
	return drive(name, d, conns, rate, func(w, i int) error {
		req, err := mk(w, i)
		if err != nil {
			return err
		}
		return send(client, req)
	})
}

// send makes one request and reads its answer; a 4xx or 5xx is an error.
func send(client *http.Client, req *http.Request) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode >= 400 {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// drive runs op from conns workers for d, each pacing itself to its share
// of rate when rate > 0, and times each call; errDone ends a worker early.
func drive(name string, d time.Duration, conns int, rate float64, op func(w, i int) error) result {
	var n, errs atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			var every time.Duration
			if rate > 0 {
				every = time.Duration(float64(conns) / rate * float64(time.Second))
			}
			next := start.Add(time.Duration(w) * every / time.Duration(conns))
			for i := 0; ; i++ {
				if every > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(every)
				}
				if !time.Now().Before(deadline) {
					break
				}
				t0 := time.Now()
				err := op(w, i)
				if errors.Is(err, errDone) {
					break
				}
				mine = append(mine, time.Since(t0))
				n.Add(1)
				if err != nil {
					errs.Add(1)
				}
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	sortDurations(lat)
	return result{name: name, n: n.Load(), errors: errs.Load(), elapsed: time.Since(start), lat: lat}
}

func sortDurations(l []time.Duration) { sort.Slice(l, func(i, j int) bool { return l[i] < l[j] }) }

func pct(l []time.Duration, p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	return l[min(len(l)-1, int(p*float64(len(l))))]
}

func report(w io.Writer, rs []result) {
	fmt.Fprintf(w, "%-22s %9s %7s %10s %8s %9s %9s %9s %9s\n", "scenario", "requests", "errors", "req/s", "ratio", "p50", "p90", "p99", "max")
	var baseRPS, rawRPS, rawDocs float64
	for _, r := range rs {
		switch r.name {
		case "baseline":
			baseRPS = r.rps()
		case "raw driver insert":
			rawRPS = r.rps()
		case "raw driver InsertMany":
			rawDocs = r.rps() * rawBatch
		}
	}
	for _, r := range rs {
		ratio := 0.0
		if baseRPS > 0 {
			ratio = r.rps() / baseRPS
		}
		fmt.Fprintf(w, "%-22s %9d %7d %10.0f %8.3f %9s %9s %9s %9s%s\n", r.name, r.n, r.errors, r.rps(), ratio,
			pct(r.lat, .5).Round(time.Microsecond), pct(r.lat, .9).Round(time.Microsecond), pct(r.lat, .99).Round(time.Microsecond), pct(r.lat, 1).Round(time.Microsecond), r.note)
	}
	for _, r := range rs {
		if r.name == "survey submit" && rawRPS > 0 {
			fmt.Fprintf(w, "completions: %.0f/s = %.2f × a raw driver insert loop (%.0f inserts/s) on the same server\n", r.rps(), r.rps()/rawRPS, rawRPS)
		}
		if r.name == "survey submit" && rawDocs > 0 {
			fmt.Fprintf(w, "drain: completions %.0f/s = %.3f × a raw InsertMany loop (%.0f documents/s in batches of %d) on the same server\n", r.rps(), r.rps()/rawDocs, rawDocs, rawBatch)
		}
	}
}
