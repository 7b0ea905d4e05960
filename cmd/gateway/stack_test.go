package main

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/testenv"
)

// storeProc is a store process the test stops and restarts.
type storeProc struct {
	t    *testing.T
	addr string
	args []string
	env  []string
	cmd  *exec.Cmd
}

func (s *storeProc) start() {
	s.cmd = exec.Command(s.args[0], s.args[1:]...)
	s.cmd.Env = append(os.Environ(), s.env...)
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s did not listen on %s", s.args[0], s.addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *storeProc) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _, _ = s.cmd.Process.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// stack is the gateway binary and its stores. External ones are deployed
// as in production: a redis-server of its own with AOF (fsync always) and
// the embedded FerretDB as a process of its own (gateway mongo-server),
// so that the gateway, a store or a subcommand can be stopped or killed
// and started again while the data stays. Without them, the gateway runs
// on its embedded default, in one data folder.
type stack struct {
	t            *testing.T
	bin          string
	redis, mongo *storeProc // nil on the embedded default
	base, key    string
	env          []string // the gateway's, and its subcommands'
	gw           *proc    // the gateway running now
	runs         []*proc  // every start, whose output a failure shows
}

// newStack starts the stores (when external) and the gateway; extra
// settings override the stack's own.
func newStack(t *testing.T, external bool, extra ...string) *stack {
	t.Helper()
	addr := freeAddr(t)
	s := &stack{t: t, bin: binary(t), base: "http://" + addr, key: "stack-admin-" + randHex(12)}
	s.env = []string{"GATEWAY_ADDR=" + addr, "GATEWAY_BASE_URL=" + s.base, "GATEWAY_DATA_DIR=" + t.TempDir(),
		"GATEWAY_ADMIN_KEY=" + s.key, "GATEWAY_PAGE_RATE=0", "GATEWAY_LOG_LEVEL=error"}
	if external {
		rAddr, mAddr := freeAddr(t), freeAddr(t)
		_, rPort, _ := net.SplitHostPort(rAddr)
		s.redis = &storeProc{t: t, addr: rAddr, args: []string{testenv.Tool(t, "redis-server"), "--port", rPort, "--bind", "127.0.0.1",
			"--dir", t.TempDir(), "--appendonly", "yes", "--appendfsync", "always", "--save", ""}}
		s.mongo = &storeProc{t: t, addr: mAddr, args: []string{s.bin, "mongo-server", mAddr}, env: []string{"GATEWAY_DATA_DIR=" + t.TempDir()}}
		s.redis.start()
		s.mongo.start()
		t.Cleanup(func() { s.redis.stop(); s.mongo.stop() })
		s.env = append(s.env, "GATEWAY_REDIS_URL=redis://"+rAddr, "GATEWAY_MONGO_URI="+s.mongoURI(),
			"GATEWAY_SECRET_KEY="+randHex(24))
	}
	s.env = append(s.env, extra...) // the last of a repeated name wins
	t.Cleanup(func() {
		if t.Failed() {
			for i, p := range s.runs {
				t.Logf("gateway start %d output:\n%s", i+1, p.output())
			}
		}
	})
	s.startGateway()
	return s
}

func (s *stack) mongoURI() string { return "mongodb://" + s.mongo.addr + "/" }

// startGateway starts the gateway and waits until it listens.
func (s *stack) startGateway() {
	s.t.Helper()
	s.gw = start(s.t, s.bin, s.env...)
	s.runs = append(s.runs, s.gw)
	s.gw.expect(s.t, `listening on`)
	s.gw.follow()
}

// kill SIGKILLs the gateway: no shutdown, no last outbox or roll-up pass.
func (s *stack) kill() {
	s.t.Helper()
	if err := s.gw.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	_, _ = s.gw.cmd.Process.Wait()
}

// command is a gateway subcommand on the stack's stores.
func (s *stack) command(args ...string) *exec.Cmd {
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + s.t.TempDir()}, s.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// exportedResponses reads every response of survey through the JSON
// lines export, failing on an invitation with two.
func exportedResponses(t *testing.T, base, key, survey string) map[string]exportRecord {
	t.Helper()
	body := getBody(t, base+"/api/v1/responses?survey="+survey+"&format=jsonl", key)
	out := map[string]exportRecord{}
	for _, line := range strings.Split(strings.TrimSpace(body), "\n") {
		if line == "" {
			continue
		}
		var r exportRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("export line %q: %v", line, err)
		}
		if _, dup := out[r.InvitationID]; dup {
			t.Fatalf("invitation %s has two responses", r.InvitationID)
		}
		out[r.InvitationID] = r
	}
	return out
}
