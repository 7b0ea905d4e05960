package main

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/internal/testenv"
)

// replica is one gateway process of a pair; its output is drained into log
// so that a chatty process never blocks on a full pipe.
type replica struct {
	name, base string
	mu         sync.Mutex
	log        strings.Builder
}

func (r *replica) logs() string { r.mu.Lock(); defer r.mu.Unlock(); return r.log.String() }

// pair is two gateway processes behind one (imaginary) load balancer: one
// redis-server, one MongoDB database, the same secret and admin keys, and
// data folders of their own, so nothing is shared through files.
type pair struct {
	bin   string
	reps  [2]*replica
	key   string
	store []string // the environment that names the shared stores
}

func startPair(t *testing.T, bin, redisAddr string, extra ...string) *pair {
	t.Helper()
	db := testenv.Mongo(t).DB.Name() // a fresh database, dropped when the test ends
	pr := &pair{bin: bin, key: "scale-admin-" + randHex(12), store: []string{
		"GATEWAY_REDIS_URL=redis://" + redisAddr, "GATEWAY_MONGO_URI=" + testenv.MongoURI(t),
		"GATEWAY_MONGO_DATABASE=" + db, "GATEWAY_SECRET_KEY=" + randHex(24)}}
	procs := [2]*proc{}
	for i, name := range []string{"A", "B"} {
		addr := freeAddr(t)
		pr.reps[i] = &replica{name: name, base: "http://" + addr}
		env := append([]string{"GATEWAY_ADDR=" + addr, "GATEWAY_BASE_URL=" + publicURL,
			"GATEWAY_DATA_DIR=" + t.TempDir(), "GATEWAY_ADMIN_KEY=" + pr.key, "GATEWAY_LOG_LEVEL=warn"}, pr.store...)
		procs[i] = start(t, bin, append(env, extra...)...)
	}
	for i, p := range procs {
		p.expect(t, `listening on`)
		r := pr.reps[i]
		r.log.WriteString(p.log.String())
		go func() {
			for l := range p.lines {
				r.mu.Lock()
				r.log.WriteString(l + "\n")
				r.mu.Unlock()
			}
		}()
	}
	return pr
}

// dump shows both replicas' output when the test fails.
func (pr *pair) dump(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			for _, r := range pr.reps {
				t.Logf("replica %s output:\n%s", r.name, r.logs())
			}
		}
	})
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// send is a request safe to make from any goroutine: it returns errors
// instead of failing the test.
func send(method, u, key string, body []byte, header ...string) (int, http.Header, []byte, error) {
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, b, err
}

// both runs f for replica 0 and replica 1 at the same moment.
func both(f func(rep int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for rep := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; f(rep) }()
	}
	close(start)
	wg.Wait()
}

// scaleInv is one invitation of the test and how it is answered.
type scaleInv struct {
	id, token, phone string
	created          string // replica that answered 201
}

const (
	scaleN      = 40
	sipas5      = "sipas-5"
	smsChannel  = "sms-scale"
	alreadyPage = "đã được trả lời trước đó"
	// publicURL is the load balancer's address in the links of both replicas.
	publicURL = "https://khaosat.example.gov.vn"
)

var (
	webScores = []float64{5, 4, 5, 4, 3}
	smsScores = []int{5, 4, 3, 2, 1} // all different: a doubled or lost message shifts them
)

// Two gateway processes share one redis-server and one MongoDB database and
// split the work: invitations are created through either, the same survey is
// submitted through both at once, one SMS conversation hops between them
// with the same provider message delivered to both. Every invitation ends
// with exactly one response, both replicas report the same, and the
// roll-ups equal a rebuild. A page rate limit is one budget across both.
func TestTwoReplicasShareTheLoad(t *testing.T) {
	bin := binary(t)
	redisBin := testenv.Tool(t, "redis-server")
	testenv.MongoURI(t) // fails loudly when the test command did not start one
	rAddr := freeAddr(t)
	_, rPort, _ := net.SplitHostPort(rAddr)
	redis := &storeProc{t: t, addr: rAddr, args: []string{redisBin, "--port", rPort, "--bind", "127.0.0.1",
		"--dir", t.TempDir(), "--save", "", "--appendonly", "no"}}
	redis.start()
	t.Cleanup(redis.stop)

	t.Run("answers", func(t *testing.T) { replicasShareAnswers(t, bin, rAddr) })
	t.Run("page rate", func(t *testing.T) { replicasSharePageRate(t, bin, rAddr) })
}

func replicasShareAnswers(t *testing.T, bin, redisAddr string) {
	pr := startPair(t, bin, redisAddr, "GATEWAY_PAGE_RATE=0")
	pr.dump(t)
	invs := pr.createInvitations(t)
	secret := "scale-sms-" + randHex(8)
	body, _ := json.Marshal(map[string]any{"type": "sms.generic", "enabled": true,
		"settings": map[string]any{"send_url": "http://127.0.0.1:9/unused"}, "secrets": map[string]any{"secret": secret}})
	if status, _, b, err := send("PUT", pr.reps[0].base+"/api/v1/channels/"+smsChannel, pr.key, body, "Content-Type", "application/json"); err != nil || status != 200 && status != 201 {
		t.Fatalf("put channel through A: %d %s %v", status, b, err)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	outcomes := map[string]int{}
	note := func(k string) { mu.Lock(); outcomes[k]++; mu.Unlock() }
	jobs := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if invs[i].phone == "" {
					pr.answerWeb(t, invs[i], i, note)
				} else {
					pr.converse(t, invs[i], i, secret, note)
				}
			}
		}()
	}
	for i := range invs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	stored := pr.settle(t, len(invs))
	pr.checkExport(t, invs, stored)
	pr.checkInvitations(t, invs)
	pr.checkRollups(t, len(invs))
	t.Logf("%d invitations (%d web, %d SMS) across two replicas; outcomes %v; %d responses stored, one each",
		len(invs), count(invs, false), count(invs, true), outcomes, len(stored))
}

func count(invs []*scaleInv, phone bool) int {
	n := 0
	for _, in := range invs {
		if (in.phone != "") == phone {
			n++
		}
	}
	return n
}

// createInvitations makes scaleN invitations, alternately through A and B;
// every tenth is sent to both at once (desk software retrying through the
// other replica) and must come back as one invitation.
func (pr *pair) createInvitations(t *testing.T) []*scaleInv {
	invs := make([]*scaleInv, scaleN)
	for i := range invs {
		in := map[string]any{"dossier_code": fmt.Sprintf("SCALE-%03d", i), "agency_code": "000.00.12.H49", "survey": sipas5}
		inv := &scaleInv{}
		if i%5 < 2 {
			inv.phone = fmt.Sprintf("0912%06d", i)
			in["phone"] = inv.phone
		}
		body, _ := json.Marshal(in)
		reps := []int{i % 2}
		if i%10 == 9 {
			reps = []int{0, 1}
		}
		var statuses [2]int
		var ids, urls [2]string
		var errs [2]error
		both(func(rep int) {
			if !contains(reps, rep) {
				return
			}
			var b []byte
			statuses[rep], _, b, errs[rep] = send("POST", pr.reps[rep].base+"/api/v1/invitations", pr.key, body, "Content-Type", "application/json")
			var got map[string]any
			_ = json.Unmarshal(b, &got)
			ids[rep], _ = got["id"].(string)
			urls[rep], _ = got["survey_url"].(string)
		})
		for _, rep := range reps {
			if errs[rep] != nil || statuses[rep] != 201 && statuses[rep] != 200 {
				t.Fatalf("create %d through %s: %d %v", i, pr.reps[rep].name, statuses[rep], errs[rep])
			}
			if statuses[rep] == 201 {
				if inv.created != "" {
					t.Fatalf("dossier %d created twice (through A and B): ids %v", i, ids)
				}
				inv.created, inv.id, inv.token = pr.reps[rep].name, ids[rep], strings.TrimPrefix(urls[rep], publicURL+"/s/")
			}
		}
		if inv.created == "" || len(reps) == 2 && (ids[0] != ids[1] || urls[0] != urls[1]) || inv.token == "" || strings.Contains(inv.token, "/") {
			t.Fatalf("dossier %d: statuses %v ids %v survey URLs %v", i, statuses, ids, urls)
		}
		invs[i] = inv
	}
	return invs
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// answerWeb opens the survey through one replica, then submits it through
// both at the same moment: one submit saves, the other finds it answered
// (303 to the thank-you page, or the "already answered" page); never a 5xx.
func (pr *pair) answerWeb(t *testing.T, inv *scaleInv, i int, note func(string)) {
	if status, _, _, err := send("GET", pr.reps[(i+1)%2].base+"/s/"+inv.token, "", nil); err != nil || status != 200 {
		t.Errorf("open %d through %s: %d %v", i, pr.reps[(i+1)%2].name, status, err)
		return
	}
	form := []byte(url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode())
	both(func(rep int) {
		status, h, b, err := send("POST", pr.reps[rep].base+"/s/"+inv.token, "", form, "Content-Type", "application/x-www-form-urlencoded")
		switch {
		case err != nil:
			t.Errorf("submit %d through %s: %v", i, pr.reps[rep].name, err)
		case status == 303 && strings.HasPrefix(h.Get("Location"), "/s/"+inv.token+"/done"):
			note("web 303")
		case status == 200 && strings.Contains(string(b), alreadyPage):
			note("web 200 already answered")
		default:
			t.Errorf("submit %d through %s: %d %s\n%s", i, pr.reps[rep].name, status, h.Get("Location"), b)
		}
	})
	for rep := range 2 { // afterwards either replica shows "already answered"
		if status, _, b, err := send("GET", pr.reps[rep].base+"/s/"+inv.token, "", nil); err != nil || status != 200 || !strings.Contains(string(b), alreadyPage) {
			t.Errorf("reopen %d through %s: %d %v", i, pr.reps[rep].name, status, err)
		}
	}
}

// converse answers by SMS one score at a time, each message through the
// other replica than the last; every other message is also delivered to
// both replicas at once (a provider retrying), and at the end the first and
// last messages are delivered again. Every delivery of a message gets the
// replies of the one that applied it.
func (pr *pair) converse(t *testing.T, inv *scaleInv, i int, secret string, note func(string)) {
	deliver := func(rep, k int) (int, error) {
		body, _ := json.Marshal(map[string]string{"id": fmt.Sprintf("scale-%d-%d", i, k), "from": inv.phone, "to": "8079", "text": strconv.Itoa(smsScores[k])})
		status, _, b, err := send("POST", pr.reps[rep].base+"/webhooks/sms/"+smsChannel, "", body,
			"Content-Type", "application/json", "X-Signature", generic.Sign(secret, body))
		var res struct {
			Replies []struct{ To, Text string }
		}
		if err == nil && (status != 200 || json.Unmarshal(b, &res) != nil) {
			err = fmt.Errorf("status %d: %s", status, b)
		}
		return len(res.Replies), err
	}
	for k := range smsScores {
		var replies [2]int
		var errs [2]error
		if k%2 == 0 {
			both(func(rep int) { replies[rep], errs[rep] = deliver(rep, k) })
			note("sms delivered twice at once")
		} else {
			rep := (i + k) % 2
			replies[rep], errs[rep] = deliver(rep, k)
		}
		want := [2]int{1, 1}
		if k%2 != 0 {
			want[(i+k+1)%2] = 0 // not delivered there
		}
		if errs[0] != nil || errs[1] != nil || replies != want {
			t.Errorf("SMS %d message %d: replies %v (want %v), errors %v", i, k, replies, want, errs)
			return
		}
	}
	for _, k := range []int{0, len(smsScores) - 1} { // late redeliveries change nothing but hear the same
		if n, err := deliver((i+k+1)%2, k); err != nil || n != 1 {
			t.Errorf("SMS %d message %d delivered again: %d replies, %v", i, k, n, err)
		}
		note("sms redelivered late")
	}
}

// settle waits until the outbox is empty and both replicas' reports count
// every answer, and returns the export.
func (pr *pair) settle(t *testing.T, want int) map[string]exportRecord {
	deadline := time.Now().Add(30 * time.Second)
	for {
		stored := pr.export(t)
		_, ready := call(t, "GET", pr.reps[0].base+"/readyz", "", "", "")
		counts := [2]any{}
		for rep, r := range pr.reps {
			_, rep2 := call(t, "GET", r.base+"/api/v1/reports/sipas?survey="+sipas5, pr.key, "", "")
			counts[rep] = rep2["responses"]
		}
		if len(stored) >= want && ready["outbox_pending"] == 0.0 && ready["events_pending"] == 0.0 &&
			counts[0] == float64(len(stored)) && counts[1] == float64(len(stored)) {
			return stored
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not settle: %d stored (want %d), readyz %v, reports count %v", len(stored), want, ready, counts)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type exportRecord struct {
	InvitationID string `json:"invitation_id"`
	Channel      string `json:"channel"`
	Answers      []struct {
		Question string  `json:"question"`
		Score    float64 `json:"score"`
	} `json:"answers"`
}

// export reads every response through replica B, failing on an invitation
// with two.
func (pr *pair) export(t *testing.T) map[string]exportRecord {
	return exportedResponses(t, pr.reps[1].base, pr.key, sipas5)
}

func (pr *pair) checkExport(t *testing.T, invs []*scaleInv, stored map[string]exportRecord) {
	if len(stored) != len(invs) {
		t.Errorf("%d responses stored for %d invitations", len(stored), len(invs))
	}
	for i, inv := range invs {
		r, ok := stored[inv.id]
		wantCh, want := "web", webScores
		if inv.phone != "" {
			wantCh, want = "sms", nil
			for _, s := range smsScores {
				want = append(want, float64(s))
			}
		}
		var got []float64
		for _, a := range r.Answers {
			got = append(got, a.Score)
		}
		if !ok || r.Channel != wantCh || !reflect.DeepEqual(got, want) {
			t.Errorf("invitation %d (%s): stored %v, channel %q, scores %v; want %s %v", i, inv.id, ok, r.Channel, got, wantCh, want)
		}
	}
}

// checkInvitations reads each invitation through the replica that did not
// create it.
func (pr *pair) checkInvitations(t *testing.T, invs []*scaleInv) {
	for i, inv := range invs {
		other := pr.reps[0]
		if inv.created == "A" {
			other = pr.reps[1]
		}
		wantVia := map[bool]string{false: "web", true: "sms"}[inv.phone != ""]
		status, got := call(t, "GET", other.base+"/api/v1/invitations/"+inv.id, pr.key, "", "")
		if status != 200 || got["status"] != "completed" || got["completed_via"] != wantVia {
			t.Errorf("invitation %d (%s), whose one response is stored: through %s HTTP %d, status %v, completed_via %v, want completed via %s",
				i, inv.id, other.name, status, got["status"], got["completed_via"], wantVia)
		}
	}
}

// checkRollups: both replicas serve the same report, the saved-response
// counters of the two processes add up to one per invitation, and the
// roll-ups equal a rebuild from the raw responses.
func (pr *pair) checkRollups(t *testing.T, n int) {
	var reports [2]map[string]any
	saved := 0
	for rep, r := range pr.reps {
		_, reports[rep] = call(t, "GET", r.base+"/api/v1/reports/sipas?survey="+sipas5, pr.key, "", "")
		m := regexp.MustCompile(`(?m)^gateway_responses_saved_total (\d+)$`).FindStringSubmatch(getBody(t, r.base+"/metrics", ""))
		if m == nil {
			t.Fatalf("replica %s: no gateway_responses_saved_total in /metrics", r.name)
		}
		k, _ := strconv.Atoi(m[1])
		t.Logf("replica %s wrote %d responses to MongoDB", r.name, k)
		saved += k
	}
	if !reflect.DeepEqual(reports[0], reports[1]) || reports[0]["responses"] != float64(n) {
		t.Errorf("reports differ or miscount (want %d):\nA %v\nB %v", n, reports[0], reports[1])
	}
	if saved != n {
		t.Errorf("the replicas wrote %d responses to MongoDB in all, want %d", saved, n)
	}
	// A reply's cost-log record is written a moment before its spend is
	// noted, and the message log has no pending count to wait on: a check
	// that differs is run again while the traffic's last writes land. The
	// traffic is over, so a double count would never agree.
	deadline := time.Now().Add(15 * time.Second)
	for {
		cmd := exec.Command(pr.bin, "rebuild", "--check")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "GATEWAY_DATA_DIR=" + t.TempDir(), "GATEWAY_LOG_LEVEL=warn"}, pr.store...)
		out, err := cmd.CombinedOutput()
		if err == nil && strings.Contains(string(out), "roll-ups match the responses") {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("rebuild --check: %v\n%s", err, out)
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A page limit of 5 per client per minute is one budget across both
// replicas: of 12 page loads from one address, 6 through each replica at
// once, exactly 5 are served and each replica refuses some with 429.
func replicasSharePageRate(t *testing.T, bin, redisAddr string) {
	const limit, perReplica = 5, 6
	pr := startPair(t, bin, redisAddr, "GATEWAY_PAGE_RATE="+strconv.Itoa(limit))
	pr.dump(t)
	status, inv := call(t, "POST", pr.reps[0].base+"/api/v1/invitations", pr.key, "application/json",
		`{"dossier_code":"SCALE-RATE","agency_code":"000.00.12.H49","survey":"sipas-5"}`)
	if status != 201 {
		t.Fatalf("create: %d %v", status, inv)
	}
	token := strings.TrimPrefix(inv["survey_url"].(string), publicURL+"/s/")
	var mu sync.Mutex
	got := [2]map[int]int{{}, {}}
	both(func(rep int) {
		var wg sync.WaitGroup
		for range perReplica {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, h, _, err := send("GET", pr.reps[rep].base+"/s/"+token, "", nil)
				if err != nil || status == 429 && h.Get("Retry-After") == "" {
					t.Errorf("page through %s: %d %v, Retry-After %q", pr.reps[rep].name, status, err, h.Get("Retry-After"))
				}
				mu.Lock()
				got[rep][status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
	})
	served := got[0][200] + got[1][200]
	if served != limit || got[0][429] == 0 || got[1][429] == 0 || served+got[0][429]+got[1][429] != 2*perReplica {
		t.Fatalf("statuses A %v, B %v: want %d served in all and 429 from both", got[0], got[1], limit)
	}
	t.Logf("page loads with a limit of %d/min: A %v, B %v", limit, got[0], got[1])
}
