package main

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
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

// Real Redis (with AOF) and the Mongo-protocol server are stopped and
// restarted while citizens submit: every acknowledged answer ends up in
// MongoDB exactly once, and the report counts exactly what is stored.
func TestStoresStopAndRestartDuringAStreamOfAnswers(t *testing.T) {
	bin := binary(t)
	redisBin := testenv.Tool(t, "redis-server")
	rAddr, mAddr, gAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	_, rPort, _ := net.SplitHostPort(rAddr)
	redis := &storeProc{t: t, addr: rAddr, args: []string{redisBin, "--port", rPort, "--bind", "127.0.0.1", "--dir", t.TempDir(),
		"--appendonly", "yes", "--appendfsync", "always", "--save", ""}}
	mongo := &storeProc{t: t, addr: mAddr, args: []string{bin, "mongo-server", mAddr}, env: []string{"GATEWAY_DATA_DIR=" + t.TempDir()}}
	redis.start()
	mongo.start()
	t.Cleanup(func() { redis.stop(); mongo.stop() })

	base, key := "http://"+gAddr, "fault-admin-key-0123456789"
	p := start(t, bin, "GATEWAY_ADDR="+gAddr, "GATEWAY_BASE_URL="+base, "GATEWAY_DATA_DIR="+t.TempDir(),
		"GATEWAY_REDIS_URL=redis://"+rAddr, "GATEWAY_MONGO_URI=mongodb://"+mAddr+"/", "GATEWAY_ADMIN_KEY="+key,
		"GATEWAY_SECRET_KEY=fault-secret-key-0123456789abcdef0123", "GATEWAY_PAGE_RATE=0", "GATEWAY_LOG_LEVEL=error")
	p.expect(t, `listening on`)

	const n = 60
	urls := make([]string, n)
	for i := range urls {
		status, inv := call(t, "POST", base+"/api/v1/invitations", key, "application/json",
			fmt.Sprintf(`{"dossier_code":"FAULT-%03d","agency_code":"000.00.12.H49","survey":"sipas-5"}`, i))
		if status != 201 {
			t.Fatalf("create %d: %d %v", i, status, inv)
		}
		urls[i] = inv["survey_url"].(string)
		if status, _ := rawGet(urls[i]); status != 200 { // each citizen opens the link first
			t.Fatalf("open %d: %d", i, status)
		}
	}
	form := url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode()
	acked, byPhase := map[int]bool{}, map[string]int{}
	phase := "all up"
	for i := 0; i < n; i++ {
		switch i {
		case 15:
			mongo.stop()
			phase = "MongoDB stopped"
		case 30:
			mongo.start()
			phase = "MongoDB back"
		case 40:
			redis.stop()
			phase = "Redis stopped"
		case 50:
			redis.start()
			phase = "Redis back"
		}
		if status, _, err := rawPost(urls[i], form); err == nil && status == 303 {
			acked[i] = true
			byPhase[phase]++
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Everything drains: the outbox empties, the roll-ups catch up.
	var stored int
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, ready := call(t, "GET", base+"/readyz", "", "", "")
		_, rep := call(t, "GET", base+"/api/v1/reports/sipas?survey=sipas-5", key, "", "")
		stored = exported(t, base, key)
		if ready["outbox_pending"] == 0.0 && rep["responses"] == float64(stored) && stored >= len(acked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not settle: readyz %v, report %v, stored %d, acknowledged %d", ready, rep["responses"], stored, len(acked))
		}
		time.Sleep(200 * time.Millisecond)
	}
	for i := range acked {
		status, inv := call(t, "GET", base+"/api/v1/invitations?dossier_code="+fmt.Sprintf("FAULT-%03d", i), key, "", "")
		if status != 200 || inv["status"] != "completed" {
			t.Errorf("acknowledged answer %d is not stored: %v", i, inv)
		}
	}
	t.Logf("%d submits: %d acknowledged (%v), %d stored, each once; report counts %d", n, len(acked), byPhase, stored, stored)
	if byPhase["MongoDB stopped"] == 0 {
		t.Errorf("no answer was accepted while MongoDB was down: the outbox did not absorb the outage")
	}
}

func rawGet(u string) (int, error) {
	res, err := (&httpClient).Get(u)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}
