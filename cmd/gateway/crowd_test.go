package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/generic"
)

// The ways a crowd answers; each is also the channel (or, for kiosks, the
// channel family) its responses carry.
const (
	onWeb   = "web"
	bySMS   = "sms"
	atKiosk = "kiosk"
)

const (
	crowdAgency = "000.00.12.H49"
	crowdSMS    = "sms-crowd"
	// thanksSMS begins the thanks a completing SMS is answered with.
	thanksSMS = "Cam on ong/ba da danh gia"
)

// citizen is one dossier and the person who answers its survey.
type citizen struct {
	kind, dossier string
	worker, n     int
	inv, token    string  // the invitation, and its survey link's token
	phone         string  // by SMS
	tablet        *tablet // at a kiosk
	seq           float64 // the kiosk presentation's number
	cut           bool    // an attempt that reached the gateway got no acknowledgement
	ack           string  // how the gateway acknowledged the answer
}

// refusedDown is what a request gets while the gateway is down: it never
// reached the gateway.
const refusedDown = "refused (down)"

// unanswered notes an attempt that got no acknowledgement: one that may
// have reached the gateway (not refused while it was down) may have
// saved the answer.
func (c *citizen) unanswered(got string) { c.cut = c.cut || got != refusedDown }

func (c *citizen) smsID() string   { return fmt.Sprintf("crowd-sms-%d-%d", c.worker, c.n) }
func (c *citizen) idemKey() string { return fmt.Sprintf("crowd-kiosk-%d-%d", c.worker, c.n) }

// tablet is a desk's paired kiosk.
type tablet struct{ desk, token string }

// crowd is load as real clients make it. Each worker takes one citizen
// after another: the desk software makes the invitation (or presents the
// dossier at the worker's own desk) and the citizen answers it. A request
// the gateway did not acknowledge is sent again unchanged (the same form,
// the same SMS message id, the same kiosk idempotency key) until it is,
// across restarts; so every answer begun is, in the end, acknowledged.
type crowd struct {
	t         *testing.T
	base, key string
	secret    string // the SMS channel's
	workers   map[string]int
	tablets   map[int]*tablet // each kiosk worker's
	gate      sync.RWMutex    // held by pause: no request goes out
	mu        sync.Mutex
	all       []*citizen
	tally     map[string]int // what the attempts got
	wrong     []string       // answers the gateway got wrong
	answering atomic.Int32   // answers on their way to the gateway now
}

// newCrowd sets up what the workers need: the agency, an SMS channel
// and a desk with a paired tablet per kiosk worker.
func newCrowd(t *testing.T, base, key string, workers map[string]int) *crowd {
	cr := &crowd{t: t, base: base, key: key, secret: "crowd-sms-" + randHex(8), workers: workers,
		tablets: map[int]*tablet{}, tally: map[string]int{}}
	cr.setup("PUT", "/api/v1/agencies/"+crowdAgency, map[string]any{"name": "Sở Tư pháp"})
	if workers[bySMS] > 0 {
		cr.setup("PUT", "/api/v1/channels/"+crowdSMS, map[string]any{"type": "sms.generic", "enabled": true,
			"settings": map[string]any{"send_url": "http://127.0.0.1:9/unused"}, "secrets": map[string]any{"secret": cr.secret}})
	}
	for w := range workers[atKiosk] {
		d := fmt.Sprintf("quay-%d", w)
		desk := cr.setup("PUT", "/api/v1/desks/"+d, map[string]any{"agency_code": crowdAgency, "name": "Quầy " + d})
		paired := cr.setup("POST", "/kiosk/api/pair", map[string]any{"code": desk["pairing_code"]})
		cr.tablets[w] = &tablet{desk: d, token: paired["token"].(string)}
	}
	return cr
}

func (cr *crowd) setup(method, path string, body map[string]any) map[string]any {
	b, _ := json.Marshal(body)
	status, out := call(cr.t, method, cr.base+path, cr.key, "application/json", string(b))
	if status != 200 && status != 201 {
		cr.t.Fatalf("%s %s: %d %v", method, path, status, out)
	}
	return out
}

// run works until stop closes, then finishes the citizens under way;
// ctx ending (or giveUp passing) abandons them.
func (cr *crowd) run(ctx context.Context, stop <-chan struct{}, giveUp time.Time) {
	var wg sync.WaitGroup
	for kind, n := range cr.workers {
		for w := range n {
			wg.Add(1)
			go func() { defer wg.Done(); cr.work(ctx, kind, w, stop, giveUp) }()
		}
	}
	wg.Wait()
}

// pause holds every request until resume: a quiet moment, as operators
// choose for gateway rebuild (the live writer keeps its lease while
// answers keep coming).
func (cr *crowd) pause()  { cr.gate.Lock() }
func (cr *crowd) resume() { cr.gate.Unlock() }

// step is one request of a citizen's: done when the gateway acknowledged
// it, what it got (for the tally), and what it got wrong, if it did.
type step func(*citizen) (done bool, got, wrong string)

// work is one worker: citizen after citizen, each request retried until
// acknowledged. A citizen abandoned (see retry) ends the worker: the test
// fails on it anyway.
func (cr *crowd) work(ctx context.Context, kind string, w int, stop <-chan struct{}, giveUp time.Time) {
	steps := map[string][]step{onWeb: {cr.create, cr.open, cr.answerWeb}, bySMS: {cr.create, cr.answerSMS},
		atKiosk: {cr.present, cr.answerKiosk}}[kind]
	for n := 0; ; n++ {
		if !linger(ctx, stop) { // the next citizen comes
			return
		}
		c := &citizen{kind: kind, dossier: fmt.Sprintf("KILL-%s-%d-%04d", kind, w, n), worker: w, n: n, tablet: cr.tablets[w]}
		if kind == bySMS {
			c.phone = fmt.Sprintf("091%d%06d", w, n)
		}
		cr.mu.Lock()
		cr.all = append(cr.all, c)
		cr.mu.Unlock()
		for i, s := range steps {
			if i > 0 && !linger(ctx, nil) { // the citizen takes a moment
				return
			}
			if !cr.retry(ctx, c, s, giveUp) {
				return
			}
		}
	}
}

// linger waits a moment, 50 to 250 ms; false if stop closes or ctx ends
// meanwhile.
func linger(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-stop:
		return false
	case <-ctx.Done():
		return false
	case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
		return true
	}
}

// retry sends a step until the gateway acknowledges it; false when the
// citizen is abandoned (a wrong answer, or time is up).
func (cr *crowd) retry(ctx context.Context, c *citizen, s step, giveUp time.Time) bool {
	for {
		cr.gate.RLock()
		done, got, wrong := s(c)
		cr.gate.RUnlock()
		cr.mu.Lock()
		cr.tally[c.kind+" "+got]++
		if wrong != "" {
			cr.wrong = append(cr.wrong, fmt.Sprintf("%s %s: %s", c.kind, c.dossier, wrong))
		}
		cr.mu.Unlock()
		switch {
		case done:
			return true
		case wrong != "" || ctx.Err() != nil:
			return false
		case time.Now().After(giveUp):
			cr.mu.Lock()
			cr.wrong = append(cr.wrong, fmt.Sprintf("%s %s: not acknowledged in time, last got %s", c.kind, c.dossier, got))
			cr.mu.Unlock()
			return false
		}
		time.Sleep(50 * time.Millisecond) // the client tries again
	}
}

// request sends a JSON (or form) body; got names the outcome for the tally.
func (cr *crowd) request(method, path, auth string, body any, header ...string) (status int, loc string, b []byte, got string) {
	var raw []byte
	switch v := body.(type) {
	case nil:
	case string:
		raw = []byte(v)
	default:
		raw, _ = json.Marshal(v)
		header = append(header, "Content-Type", "application/json")
	}
	status, h, b, err := send(method, cr.base+path, auth, raw, header...)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return 0, "", nil, refusedDown
	case err != nil:
		return 0, "", nil, "cut"
	}
	return status, h.Get("Location"), b, fmt.Sprint(status)
}

// answer sends a citizen's answer: a request as any other, counted while
// it is under way (see answering).
func (cr *crowd) answer(method, path, auth string, body any, header ...string) (int, string, []byte, string) {
	cr.answering.Add(1)
	defer cr.answering.Add(-1)
	return cr.request(method, path, auth, body, header...)
}

// create is the desk software making the invitation; a repeat of a
// request whose answer was lost finds the invitation made (200).
func (cr *crowd) create(c *citizen) (bool, string, string) {
	in := map[string]any{"dossier_code": c.dossier, "agency_code": crowdAgency, "survey": "sipas-5"}
	if c.phone != "" {
		in["phone"] = c.phone
	}
	status, _, b, got := cr.request("POST", "/api/v1/invitations", cr.key, in)
	if status != 200 && status != 201 {
		return false, "create " + got, refused(status, b)
	}
	var inv struct {
		ID        string `json:"id"`
		SurveyURL string `json:"survey_url"`
	}
	if err := json.Unmarshal(b, &inv); err != nil || inv.ID == "" {
		return false, "create " + got, fmt.Sprintf("invitation %s: %v", b, err)
	}
	c.inv, c.token = inv.ID, strings.TrimPrefix(inv.SurveyURL, cr.base+"/s/")
	return true, "create " + got, ""
}

// refused names a 4xx as wrong: the gateway refused a request that is
// right; other failures are tried again.
func refused(status int, b []byte) string {
	if status >= 400 && status < 500 {
		return fmt.Sprintf("refused %d: %s", status, b)
	}
	return ""
}

// open is the citizen opening the survey link.
func (cr *crowd) open(c *citizen) (bool, string, string) {
	status, _, b, got := cr.request("GET", "/s/"+c.token, "", nil)
	return status == 200, "open " + got, refused(status, b)
}

const alreadyWeb = "đã được trả lời trước đó" // the web page of an answered survey

// answerWeb submits the whole form. The thank-you redirect acknowledges
// it; so does the "already answered" page, to the retry of a submit whose
// answer was lost (the first submit was saved).
func (cr *crowd) answerWeb(c *citizen) (bool, string, string) {
	form := url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode()
	status, loc, b, got := cr.answer("POST", "/s/"+c.token, "", form, "Content-Type", "application/x-www-form-urlencoded")
	switch {
	case status == 303 && strings.HasPrefix(loc, "/s/"+c.token+"/done"):
		return cr.acknowledged(c, "thank-you page")
	case status == 200 && strings.Contains(string(b), alreadyWeb) && c.cut:
		return cr.acknowledged(c, "already answered")
	case status == 200 && strings.Contains(string(b), alreadyWeb):
		return false, "submit " + got, "a first submit was told the survey is already answered"
	}
	c.unanswered(got)
	return false, "submit " + got, refused(status, b)
}

// answerSMS delivers the citizen's reply with all five scores, again with
// the same provider message id until it is answered: every delivery must
// be answered with the thanks, as the first one that applied it was.
func (cr *crowd) answerSMS(c *citizen) (bool, string, string) {
	body, _ := json.Marshal(map[string]string{"id": c.smsID(), "from": c.phone, "to": "8079", "text": "5 4 5 4 5"})
	status, _, b, got := cr.answer("POST", "/webhooks/sms/"+crowdSMS, "", string(body),
		"Content-Type", "application/json", "X-Signature", generic.Sign(cr.secret, body))
	if status != 200 {
		c.unanswered(got)
		return false, "reply " + got, refused(status, b)
	}
	var res struct{ Replies []struct{ To, Text string } }
	if err := json.Unmarshal(b, &res); err != nil || len(res.Replies) == 0 || !strings.HasPrefix(res.Replies[0].Text, thanksSMS) {
		return false, "reply " + got, fmt.Sprintf("delivery (after a cut one: %v) answered %s", c.cut, b)
	}
	return cr.acknowledged(c, "thanks")
}

// present is the desk software handing the dossier back at the desk,
// which makes its invitation.
func (cr *crowd) present(c *citizen) (bool, string, string) {
	status, _, b, got := cr.request("POST", "/api/v1/desks/"+c.tablet.desk+"/present", cr.key, map[string]any{"dossier_code": c.dossier})
	if status != 200 {
		return false, "present " + got, refused(status, b)
	}
	var p struct {
		Kiosk struct {
			Seq        float64 `json:"seq"`
			Invitation string  `json:"invitation_id"`
		} `json:"kiosk"`
	}
	if err := json.Unmarshal(b, &p); err != nil || p.Kiosk.Invitation == "" {
		return false, "present " + got, fmt.Sprintf("presented %s: %v", b, err)
	}
	c.inv, c.seq = p.Kiosk.Invitation, p.Kiosk.Seq
	return true, "present " + got, ""
}

// answerKiosk sends the tablet's answer with its idempotency key, again
// with the same key until the gateway settles it (409: a request with the
// key is under way, or died under way). "recorded" acknowledges it; so
// does "already_answered" to a retry after an attempt whose answer was
// lost: the tablet drops the answer either way.
func (cr *crowd) answerKiosk(c *citizen) (bool, string, string) {
	in := map[string]any{"idempotency_key": c.idemKey(), "invitation_id": c.inv, "seq": c.seq, "survey": "sipas-5",
		"answers": map[string]int{"A": 5, "B": 4, "C": 5, "D": 4, "E": 5}}
	status, _, b, got := cr.answer("POST", "/kiosk/api/answer", c.tablet.token, in)
	if status != 200 {
		c.unanswered(got)
		if status == 409 {
			return false, "answer 409", ""
		}
		return false, "answer " + got, refused(status, b)
	}
	var res struct{ Outcome string }
	_ = json.Unmarshal(b, &res)
	switch {
	case res.Outcome == "recorded":
		return cr.acknowledged(c, "recorded")
	case res.Outcome == "already_answered" && c.cut:
		return cr.acknowledged(c, "already answered")
	}
	return false, "answer " + got, fmt.Sprintf("answer (after a cut one: %v) got %s", c.cut, b)
}

func (cr *crowd) acknowledged(c *citizen, how string) (bool, string, string) {
	if c.cut {
		how += " after a cut attempt"
	}
	cr.mu.Lock()
	c.ack = how
	cr.mu.Unlock()
	return true, how, ""
}

// answered returns the citizens whose answer the gateway acknowledged.
func (cr *crowd) answered() []*citizen {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	var out []*citizen
	for _, c := range cr.all {
		if c.ack != "" {
			out = append(out, c)
		}
	}
	return out
}

// summary is the tally, sorted.
func (cr *crowd) summary() string {
	cr.mu.Lock()
	defer cr.mu.Unlock()
	keys := make([]string, 0, len(cr.tally))
	for k := range cr.tally {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s ×%d; ", k, cr.tally[k])
	}
	return strings.TrimSuffix(b.String(), "; ")
}
