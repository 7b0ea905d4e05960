package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
)

// TestMain lets the test binary stand in for loadgen as the baseline's
// bare handler (bareChild runs this executable again with bareEnv set).
func TestMain(m *testing.M) {
	if os.Getenv(bareEnv) != "" {
		bareMain()
	}
	os.Exit(m.Run())
}

// With -cpu, every scenario gets a CPU-per-request row: here the gateway
// runs in the test's own process, so its figure is this process's time
// and must be more than nothing; the baseline's figure is the bare
// handler's own child process.
func TestCPUPerRequestIsPrinted(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Listen()
	var out bytes.Buffer
	err := run(&out, config{targets: []string{g.URL}, key: gwtest.AdminKey, duration: 400 * time.Millisecond, conns: 2, pool: 12,
		only: "page,sms", cpu: fmt.Sprintf("gateway=%d", os.Getpid())})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	_, table, ok := strings.Cut(text, "CPU per request, from /proc")
	if !ok {
		t.Fatalf("no CPU table in:\n%s", text)
	}
	for _, name := range []string{"baseline", "survey page load", "sms webhook"} {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\s+(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+|-)(?:\s+([\d.]+)\s+(\d+)\s+([\d.]+))?$`).FindStringSubmatch(table)
		if m == nil {
			t.Fatalf("no %q row in:\n%s", name, table)
		}
		gw, total := m[1], m[2]
		if name == "baseline" {
			if gw != "-" {
				t.Fatalf("baseline charged to the gateway: %s", m[0])
			}
			continue
		}
		// The gateway shares this process with the load tool, so its
		// time includes the tool's; what matters is that it was read.
		if n, _ := strconv.Atoi(gw); n <= 0 || gw != total {
			t.Fatalf("%s: gateway %s µs, total %s µs:\n%s", name, gw, total, table)
		}
		// Likewise its allocations, read from its /metrics.
		if kb, _ := strconv.ParseFloat(m[5], 64); kb <= 0 || m[6] == "0" {
			t.Fatalf("%s: gateway allocated %q KB in %q objects per request:\n%s", name, m[5], m[6], table)
		}
		// And its CPU over the load tool's: both are this process here,
		// so about 1; what matters is that it is printed.
		if ratio, _ := strconv.ParseFloat(m[7], 64); ratio <= 0 {
			t.Fatalf("%s: gw÷load %q:\n%s", name, m[7], table)
		}
	}
}

func TestProcsAreNamePidPairs(t *testing.T) {
	for _, bad := range []string{"gateway", "gateway=x", "=12", "gateway=-1", "gateway=999999999"} {
		if _, err := parseProcs(bad); err == nil || !strings.Contains(err.Error(), "-cpu") {
			t.Errorf("parseProcs(%q) = %v, want an error naming -cpu", bad, err)
		}
	}
	ps, err := parseProcs(fmt.Sprintf("gateway=%d, redis=%d", os.Getpid(), os.Getpid()))
	if err != nil || len(ps) != 2 || ps[1].name != "redis" {
		t.Fatalf("parseProcs = %v, %v", ps, err)
	}
}
