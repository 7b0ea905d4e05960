package main

import (
	"bytes"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
)

// A short run against a real gateway (redis-server, the test MongoDB):
// every scenario sends requests and none fails, the raw insert loop and the
// memory figures are printed, and the seeded conversations are removed.
func TestLoadgenDrivesEveryScenario(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Listen()
	var out bytes.Buffer
	err := run(&out, config{targets: []string{g.URL}, key: gwtest.AdminKey, duration: 300 * time.Millisecond, conns: 2, pool: 12,
		mongo: testenv.MongoURI(t), raw: true, half: true})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	text := out.String()
	for _, name := range []string{"baseline", "invitation create", "survey page load", "survey submit", "web answer", "kiosk answer", "raw driver insert", "raw driver InsertMany", "sms webhook", "sms webhook @", "invitation get", "search code start", "search code part", "list filtered", "case search words", "case search code", "sipas report"} {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + `\S*\s+(\d+)\s+(\d+)\s`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no %q line in:\n%s", name, text)
		}
		if n, _ := strconv.Atoi(m[1]); n == 0 {
			t.Fatalf("%s sent nothing:\n%s", name, text)
		}
		if m[2] != "0" {
			t.Fatalf("%s had %s errors:\n%s", name, m[2], text)
		}
	}
	for _, want := range []string{"completions: ", "drain: completions "} {
		if !strings.Contains(text, want) {
			t.Fatalf("no %q in:\n%s", want, text)
		}
	}
}

// Seeding conversations adds their three keys each and measures them;
// finishing removes exactly those.
func TestSeededConversationsAreMeasuredAndRemoved(t *testing.T) {
	r := testenv.Redis(t)
	count := func() int {
		keys, err := r.Keys(t.Context(), "gw:conv:*").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys)
	}
	before := count()
	m, err := seedConversations("redis://"+testenv.RedisServer(t), 40, 4)
	if err != nil {
		t.Fatal(err)
	}
	if got := count() - before; got != 3*40 || m.sampleKeys != 3 || m.sample <= 0 || m.after <= m.before {
		t.Fatalf("seeded %d keys (want 120); sample %d keys %d bytes; memory %d → %d", got, m.sampleKeys, m.sample, m.before, m.after)
	}
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Listen()
	var out bytes.Buffer
	if err := m.finish(&out, &gen{targets: []string{g.URL}, key: gwtest.AdminKey, client: http.DefaultClient, setup: http.DefaultClient, run: "t"}); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`40 seeded .* bytes per conversation .*open invitation: MEMORY USAGE of its working copy = [1-9]\d* bytes .*resident memory with them open: \d`).MatchString(strings.ReplaceAll(out.String(), "\n", " ")) {
		t.Fatalf("report:\n%s", out.String())
	}
	// The seeded ones are gone; the invitation made for the memory figure
	// (with a phone) keeps its citizen's index, as any invitation does.
	if got := count(); got != before+1 {
		t.Fatalf("%d conversation keys after finishing, %d before (+1 for the measured invitation)", got, before)
	}
}
