package main

import (
	"bufio"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sipasvn/gateway/store"
)

// binary is the gateway as a user runs it: test.sh builds it once
// (GATEWAY_TEST_BIN_DIR); otherwise the test builds it.
func binary(t *testing.T) string {
	if dir := os.Getenv("GATEWAY_TEST_BIN_DIR"); dir != "" {
		if p := filepath.Join(dir, "gateway"); fileExists(p) {
			return p
		}
	}
	p := filepath.Join(t.TempDir(), "gateway")
	out, err := exec.Command("go", "build", "-o", p, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

type proc struct {
	cmd   *exec.Cmd
	lines chan string
	mu    sync.Mutex
	log   strings.Builder
}

// start runs the gateway with only the given environment (no GATEWAY_*
// from the test's own), as on a fresh machine.
func start(t *testing.T, bin string, env ...string) *proc {
	p := &proc{cmd: exec.Command(bin), lines: make(chan string, 100)}
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	out, _ := p.cmd.StdoutPipe()
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
	}()
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _, _ = p.cmd.Process.Wait() })
	return p
}

// expect waits for a line matching re and returns its submatches.
func (p *proc) expect(t *testing.T, re string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				t.Fatalf("gateway exited before printing %q:\n%s", re, p.log.String())
			}
			p.note(l)
			if m := rx.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line %q within 90s:\n%s", re, p.log.String())
		}
	}
}

func (p *proc) note(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.log.WriteString(line + "\n")
}

// follow keeps the rest of the output in the log, once the test expects
// no more lines, so a chatty process never blocks on a full pipe.
func (p *proc) follow() {
	go func() {
		for l := range p.lines {
			p.note(l)
		}
	}()
}

// output is what the process printed so far (all of it, once followed).
func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.log.String()
}

// freeAddr is an address for a gateway to listen on. It is free when
// chosen but closed before the gateway binds it, so it is taken below the
// kernel's ephemeral range: whatever listens on port 0 meanwhile (the
// gateway's own embedded stores, other test packages) or dials out cannot
// take it. A port 0 listener's address, as before, would be in that range.
func freeAddr(t *testing.T) string {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	for range 200 {
		if low <= 20000 {
			break
		}
		port := 20000 + rand.IntN(low-20000)
		if l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			_ = l.Close()
			return l.Addr().String()
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func call(t *testing.T, method, u, key, ctype, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return res.StatusCode, out
}

// The README's run command: no configuration, embedded stores, real
// traffic; then SIGTERM, a restart on the same data folder, and the data
// is still there.
func TestEmbeddedDefaultServesAndKeepsDataAcrossRestart(t *testing.T) {
	bin, data, addr := binary(t), t.TempDir(), freeAddr(t)
	base := "http://" + addr
	env := []string{"GATEWAY_DATA_DIR=" + data, "GATEWAY_ADDR=" + addr, "GATEWAY_BASE_URL=" + base}

	p := start(t, bin, env...)
	p.expect(t, `listening on `+regexp.QuoteMeta(addr))
	p.expect(t, `^console: `+regexp.QuoteMeta(base)+`/console `)
	key := p.expect(t, `admin key \(new, kept in .*\): ([0-9a-f]{64})$`)[1]
	if res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(base + "/"); err != nil || res.StatusCode != 302 || res.Header.Get("Location") != "/console" {
		t.Fatalf("the front door: %v %v", res, err)
	}

	status, inv := call(t, "POST", base+"/api/v1/invitations", key, "application/json",
		`{"dossier_code":"000.00.12.H49-261125-0007","agency_code":"000.00.12.H49","survey":"sipas-5"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, inv)
	}
	status, _ = call(t, "POST", inv["survey_url"].(string), "", "application/x-www-form-urlencoded", url.Values{
		"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"3"}, "E": {"0"}, "comment": {"Nhanh gọn"}}.Encode())
	if status != 303 {
		t.Fatalf("submit: %d", status)
	}
	waitResponses(t, base, key, 1)
	metrics := getBody(t, base+"/metrics", "")
	for _, want := range []string{"gateway_responses_saved_total 1", "gateway_outbox_depth 0", `gateway_http_requests_total{method="POST",route="/s/:token",status="303"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Wait(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, p.log.String())
	}

	p = start(t, bin, env...)
	p.expect(t, `listening on`)
	p.expect(t, `admin key \(kept in `+regexp.QuoteMeta(filepath.Join(data, "admin.key"))+` since an earlier start; not shown\)$`)
	if strings.Contains(p.log.String(), key) {
		t.Fatalf("a restart printed the kept admin key:\n%s", p.log.String())
	}
	status, got := call(t, "GET", base+"/api/v1/invitations/"+inv["id"].(string), key, "", "")
	if status != 200 || got["status"] != "completed" || got["completed_via"] != "web" {
		t.Fatalf("after restart: %d %v", status, got)
	}
	waitResponses(t, base, key, 1)
	if status, _ := call(t, "GET", base+"/readyz", "", "", ""); status != 200 {
		t.Fatalf("readyz %d", status)
	}
}

// A given admin key is never printed: only one the gateway just made is.
func TestGivenAdminKeyIsNotPrinted(t *testing.T) {
	bin, key := binary(t), "given-admin-key-0123456789abcdef"
	keyFile := filepath.Join(t.TempDir(), "admin-key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ env, line string }{
		{"GATEWAY_ADMIN_KEY=" + key, `admin key \(from GATEWAY_ADMIN_KEY; not shown\)$`},
		{"GATEWAY_ADMIN_KEY_FILE=" + keyFile, `admin key \(from GATEWAY_ADMIN_KEY_FILE ` + regexp.QuoteMeta(keyFile) + `; not shown\)$`},
	} {
		addr, data := freeAddr(t), t.TempDir()
		p := start(t, bin, c.env, "GATEWAY_DATA_DIR="+data, "GATEWAY_ADDR="+addr, "GATEWAY_BASE_URL=http://"+addr)
		p.expect(t, c.line)
		if strings.Contains(p.log.String(), key) {
			t.Errorf("%s: the key was printed:\n%s", c.env, p.log.String())
		}
		if status, _ := call(t, "GET", "http://"+addr+"/api/v1/reports/sipas?survey=sipas-5", key, "", ""); status != 200 {
			t.Errorf("%s: the given key gets %d", c.env, status)
		}
		if fileExists(filepath.Join(data, "admin.key")) {
			t.Errorf("%s: an admin.key was made beside the given key", c.env)
		}
		_ = p.cmd.Process.Kill()
		_, _ = p.cmd.Process.Wait()
	}
}

// The embedded Redis password never reaches the output (and so no log
// collector): the start-up line shows the URL redacted. The whole URL is
// kept in the data folder, readable by this user only, for tools that
// connect beside the gateway (bench-scale.sh's rebuild).
func TestEmbeddedRedisPasswordIsNotPrinted(t *testing.T) {
	bin, data, addr := binary(t), t.TempDir(), freeAddr(t)
	p := start(t, bin, "GATEWAY_DATA_DIR="+data, "GATEWAY_ADDR="+addr, "GATEWAY_BASE_URL=http://"+addr)
	shown := p.expect(t, `^embedded stores: MongoDB \S+ Redis (\S+)`)[1]
	p.expect(t, `^admin key`)
	if u, err := url.Parse(shown); err != nil || u.User.String() != ":xxxxx" {
		t.Fatalf("the start-up line shows the embedded Redis URL %s, password and all", shown)
	}
	file := filepath.Join(data, "redis.url")
	b, err := os.ReadFile(file)
	if fi, _ := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the embedded Redis URL is not kept for this user only in %s: %v", file, err)
	}
	r, err := store.OpenRedis(t.Context(), strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("the kept URL does not connect: %v", err)
	}
	_ = r.Close()
	u, _ := url.Parse(strings.TrimSpace(string(b)))
	password, _ := u.User.Password()
	if len(password) < 20 || u.Redacted() != shown {
		t.Fatalf("kept %s, shown %s", u.Redacted(), shown)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for l := range p.lines { // everything it printed, to its exit
		p.log.WriteString(l + "\n")
	}
	if strings.Contains(p.log.String(), password) {
		t.Fatalf("the embedded Redis password was printed:\n%s", p.log.String())
	}
}

func waitResponses(t *testing.T, base, key string, n float64) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, rep := call(t, "GET", base+"/api/v1/reports/sipas?survey=sipas-5", key, "", "")
		if rep["responses"] == n {
			if o := rep["overall"].(map[string]any); o["satisfaction_rate"] != 75.0 || o["mean_score"] != 4.25 {
				t.Fatalf("report %v", rep)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("report shows %v responses, want %v", rep["responses"], n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestBadConfigurationExitsNamingTheSetting(t *testing.T) {
	p := start(t, binary(t), "GATEWAY_DATA_DIR="+t.TempDir(), "GATEWAY_BASE_URL=khaosat.example")
	p.expect(t, `GATEWAY_BASE_URL: "khaosat.example" is not an http\(s\) URL`)
	if err := p.cmd.Wait(); err == nil {
		t.Fatal("exit status 0 on a bad setting")
	}
}

func TestRebuildCommand(t *testing.T) {
	bin, data := binary(t), t.TempDir()
	for _, args := range [][]string{{"rebuild"}, {"rebuild", "--check"}} {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "GATEWAY_DATA_DIR=" + data}
		out, err := cmd.CombinedOutput()
		want := map[int]string{1: "rebuilt roll-ups from 0 responses", 2: "roll-ups match the responses"}[len(args)]
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
}

func rawPost(u, form string) (int, string, error) {
	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

func getBody(t *testing.T, u, key string) string {
	req, _ := http.NewRequest("GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

var httpClient = http.Client{Timeout: 10 * time.Second}
