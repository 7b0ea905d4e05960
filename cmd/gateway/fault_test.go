package main

import (
	"fmt"
	"net/url"
	"testing"
	"time"
)

// Real Redis (with AOF) and the Mongo-protocol server are stopped and
// restarted while citizens submit: every acknowledged answer ends up in
// MongoDB exactly once, and the report counts exactly what is stored.
func TestStoresStopAndRestartDuringAStreamOfAnswers(t *testing.T) {
	st := newStack(t, true)
	redis, mongo, base, key := st.redis, st.mongo, st.base, st.key

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
		stored = len(exportedResponses(t, base, key, "sipas-5"))
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
