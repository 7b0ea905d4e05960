package main

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The gateway is SIGKILLed while citizens submit; after a restart every
// answer it acknowledged is there exactly once, and the report counts
// exactly the stored answers (no roll-up batch applied twice).
func TestKillUnderLoadLosesNothingAcknowledged(t *testing.T) {
	bin, data, addr := binary(t), t.TempDir(), freeAddr(t)
	base := "http://" + addr
	env := []string{"GATEWAY_DATA_DIR=" + data, "GATEWAY_ADDR=" + addr, "GATEWAY_BASE_URL=" + base, "GATEWAY_PAGE_RATE=0", "GATEWAY_LOG_LEVEL=warn"}
	p := start(t, bin, env...)
	p.expect(t, `listening on`)
	key := p.expect(t, `admin key \(new, kept in .*\): ([0-9a-f]{64})$`)[1]

	const n = 60
	urls := make([]string, n)
	for i := range urls {
		status, inv := call(t, "POST", base+"/api/v1/invitations", key, "application/json",
			fmt.Sprintf(`{"dossier_code":"KILL-%03d","agency_code":"000.00.12.H49","survey":"sipas-5"}`, i))
		if status != 201 {
			t.Fatalf("create %d: %d", i, status)
		}
		urls[i] = inv["survey_url"].(string)
	}
	form := url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode()
	var acked sync.Map
	var sent atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < n; i += 4 {
				sent.Add(1)
				if status, ok := post(urls[i], form); ok && status == 303 {
					acked.Store(i, true)
				}
			}
		}(w)
	}
	for sent.Load() < n/2 {
		time.Sleep(time.Millisecond)
	}
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no shutdown, no final roll-up pass
		t.Fatal(err)
	}
	wg.Wait()
	_, _ = p.cmd.Process.Wait()

	p = start(t, bin, env...)
	p.expect(t, `listening on`)
	// The roll-up writer, which also completes invitations whose response
	// was saved just before the kill, catches up first.
	stored := len(exportedResponses(t, base, key, "sipas-5"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, rep := call(t, "GET", base+"/api/v1/reports/sipas?survey=sipas-5", key, "", "")
		if rep["responses"] == float64(stored) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("report counts %v responses, %d are stored", rep["responses"], stored)
		}
		time.Sleep(100 * time.Millisecond)
	}
	ackedCount := 0
	acked.Range(func(k, _ any) bool {
		ackedCount++
		for wait := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			status, inv := call(t, "GET", base+"/api/v1/invitations?dossier_code="+fmt.Sprintf("KILL-%03d", k.(int)), key, "", "")
			if status == 200 && inv["status"] == "completed" {
				break
			}
			if time.Now().After(wait) {
				t.Errorf("acknowledged answer %d lost: %d %v", k, status, inv)
				break
			}
		}
		return true
	})
	if stored < ackedCount {
		t.Fatalf("%d stored < %d acknowledged", stored, ackedCount)
	}
	t.Logf("killed after %d of %d submits: %d acknowledged, %d stored (the difference was in flight, never acknowledged), report counts %d",
		n/2, n, ackedCount, stored, stored)
}

func post(u, form string) (int, bool) {
	status, _, err := rawPost(u, form)
	return status, err == nil
}
