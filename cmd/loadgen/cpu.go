package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sipasvn/gateway/store"
)

// CPU per request, per process, read from /proc: with -cpu the tool reads
// each named process's user+system time around every scenario, after the
// processes have gone quiet on both sides (so the writes a scenario leaves
// queued, drained to MongoDB after the last answer, are counted in it), and
// prints it divided by the scenario's requests. The load tool's own time is
// printed beside them, not subtracted; the baseline's bare handler then
// runs in a child process of its own, so its figure is the server's alone.

// proc is one measured process.
type proc struct {
	name string
	pid  int
}

// parseProcs reads -cpu: "gateway=123,redis=456,mongo=789".
func parseProcs(s string) ([]proc, error) {
	var ps []proc
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		name, pid, ok := strings.Cut(f, "=")
		n, err := strconv.Atoi(pid)
		if !ok || name == "" || err != nil || n <= 0 {
			return nil, fmt.Errorf("-cpu: %q is not name=pid (for example gateway=1234)", f)
		}
		if _, err := cpuTime(n); err != nil {
			return nil, fmt.Errorf("-cpu: %s: %w", name, err)
		}
		ps = append(ps, proc{name, n})
	}
	return ps, nil
}

// clockTick is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture Go runs on.
const clockTick = 10 * time.Millisecond

// cpuTime is a process's user plus system time so far, all threads.
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces: count from its ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", pid)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64) // utime, field 14
	k, err2 := strconv.ParseInt(f[12], 10, 64) // stime, field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unreadable /proc/%d/stat", pid)
	}
	return time.Duration(u+k) * clockTick, nil
}

// cpuSample is every measured process's CPU time at one moment, then this
// process's own.
type cpuSample []time.Duration

func sample(ps []proc) cpuSample {
	s := make(cpuSample, len(ps)+1)
	for i, p := range ps {
		s[i], _ = cpuTime(p.pid)
	}
	s[len(ps)], _ = cpuTime(os.Getpid())
	return s
}

// quiet waits, at most max, until the measured processes together use
// less than a twentieth of a core over half a second: what the last
// requests queued has been written and only idle timers are left.
func quiet(ps []proc, max time.Duration) {
	const window = 500 * time.Millisecond
	end := time.Now().Add(max)
	a := sample(ps)
	for time.Now().Before(end) {
		time.Sleep(window)
		b := sample(ps)
		var used time.Duration
		for i := range ps {
			used += b[i] - a[i]
		}
		if used < window/20 {
			return
		}
		a = b
	}
}

// counters read what a scenario costs beyond CPU; each may be nil.
type counters struct {
	calls func() int64                    // Redis's command count
	heap  func() (bytes, objects float64) // the gateways' allocations so far; -1 when unknown
}

// measured runs f (one scenario) between two quiet points and notes its
// CPU: each process's time over the scenario and its drain; with cs, the
// Redis commands it took and what the gateways allocated too.
func measured(ps []proc, cs counters, f func() result) result {
	if len(ps) == 0 {
		return f()
	}
	quiet(ps, 30*time.Second)
	a := sample(ps)
	var c0 int64
	if cs.calls != nil {
		c0 = cs.calls()
	}
	h0, o0 := float64(-1), float64(-1)
	if cs.heap != nil {
		h0, o0 = cs.heap()
	}
	fmt.Fprintln(os.Stderr, "loadgen: measuring (setup done)")
	r := f()
	quiet(ps, 60*time.Second)
	b := sample(ps)
	if cs.calls != nil {
		r.redisCalls = cs.calls() - c0 - 1 // less the INFO that read it
	}
	r.heapBytes, r.heapObjects = -1, -1
	if cs.heap != nil && h0 >= 0 {
		if h1, o1 := cs.heap(); h1 >= 0 {
			r.heapBytes, r.heapObjects = h1-h0, o1-o0
		}
	}
	r.cpu = make(cpuSample, len(b))
	for i := range b {
		r.cpu[i] = b[i] - a[i]
	}
	return r
}

// redisCalls returns a reader of the commands a Redis server has run
// (INFO commandstats, every command's calls summed; a script's own
// commands count as well as the script), or nil without redisURL.
func redisCalls(redisURL string) (func() int64, func(), error) {
	if redisURL == "" {
		return nil, func() {}, nil
	}
	ctx := context.Background()
	r, err := store.OpenRedis(ctx, redisURL)
	if err != nil {
		return nil, nil, err
	}
	return func() int64 {
		info, err := r.Info(ctx, "commandstats").Result()
		if err != nil {
			return 0
		}
		var n int64
		for _, line := range strings.Split(info, "\n") {
			_, rest, ok := strings.Cut(line, ":calls=")
			if !ok {
				continue
			}
			v, _, _ := strings.Cut(rest, ",")
			c, _ := strconv.ParseInt(v, 10, 64)
			n += c
		}
		return n
	}, func() { _ = r.Close() }, nil
}

// cpuReport prints CPU per request for each scenario that has figures.
func cpuReport(w io.Writer, ps []proc, rs []result) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "\nCPU per request, from /proc (user+system, each process over the scenario and until it went quiet; µs):\n")
	fmt.Fprintf(w, "%-22s", "scenario")
	for _, p := range ps {
		fmt.Fprintf(w, " %9s", p.name)
	}
	fmt.Fprintf(w, " %9s %10s %11s %8s %9s %8s\n", "total", "load tool", "redis cmds", "gw KB", "gw allocs", "gw÷load")
	for _, r := range rs {
		if r.cpu == nil || r.n == 0 {
			continue
		}
		per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(r.n) }
		fmt.Fprintf(w, "%-22s", r.name)
		var total time.Duration
		for i := range ps {
			if r.name == "baseline" {
				// The bare handler is its own process: the gateway and the
				// stores are idle.
				fmt.Fprintf(w, " %9s", "-")
				continue
			}
			total += r.cpu[i]
			fmt.Fprintf(w, " %9.0f", per(r.cpu[i]))
		}
		if r.name == "baseline" {
			total = r.bare
		}
		fmt.Fprintf(w, " %9.0f %10.0f", per(total), per(r.cpu[len(ps)]))
		if r.redisCalls > 0 {
			fmt.Fprintf(w, " %11.1f", float64(r.redisCalls)/float64(r.n))
		} else {
			fmt.Fprintf(w, " %11s", "-")
		}
		if r.name != "baseline" {
			if r.heapBytes >= 0 {
				fmt.Fprintf(w, " %8.1f %9.0f", r.heapBytes/1024/float64(r.n), r.heapObjects/float64(r.n))
			} else {
				fmt.Fprintf(w, " %8s %9s", "-", "-")
			}
			var gw time.Duration
			for i, p := range ps {
				if strings.HasPrefix(p.name, "gateway") {
					gw += r.cpu[i]
				}
			}
			if load := r.cpu[len(ps)]; gw > 0 && load > 0 {
				fmt.Fprintf(w, " %8.2f", float64(gw)/float64(load))
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "baseline total: the bare fiber handler's own process (a child of the load tool, on its core); redis cmds: commands per request (INFO commandstats, a script's own commands included); gw KB, gw allocs: what the gateways allocated per request, drain included (go_memstats_alloc_bytes_total and go_memstats_mallocs_total of /metrics); gw÷load: the gateways' CPU over the load tool's, whose work per request is fixed, so the machine's own drift between runs largely cancels out (compare changes with it, not the µs alone).")
}

// bareEnv, when set, makes this program the baseline's bare handler: it
// serves GET / with "ok" on a loopback port it prints on its first line.
const bareEnv = "LOADGEN_BARE"

func bareMain() {
	url, _, err := baseline()
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/"))
	select {}
}

// bareChild starts the bare handler as a child process (this executable
// again, with bareEnv set) and returns its URL, its pid and how to stop it.
func bareChild() (string, int, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", 0, nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), bareEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", 0, nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", 0, nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	line = strings.TrimSpace(line)
	if err != nil || strings.HasPrefix(line, "error:") {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", 0, nil, fmt.Errorf("bare handler: %q %v", line, err)
	}
	return "http://" + line + "/", cmd.Process.Pid, func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }, nil
}

// allocated returns a reader of the bytes and objects the gateways at
// targets have allocated so far, -1 when one cannot tell (a /metrics
// behind a token).
func allocated(c *http.Client, targets []string) func() (bytes, objects float64) {
	return func() (float64, float64) {
		var b, o float64
		for _, t := range targets {
			v, err := metrics(c, t, "go_memstats_alloc_bytes_total", "go_memstats_mallocs_total")
			if err != nil {
				return -1, -1
			}
			b, o = b+v[0], o+v[1]
		}
		return b, o
	}
}
