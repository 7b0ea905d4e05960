package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// gen makes the gateway's requests. Worker w sends to targets[w % n].
type gen struct {
	targets []string
	key     string
	client  *http.Client // measured requests
	setup   *http.Client // everything else
	run     string
	conns   int
	sink    string
}

func (g *gen) target(w int) string { return g.targets[w%len(g.targets)] }

// api makes a setup request, waiting out a busy gateway (503 or 429 with
// Retry-After) up to five times, as desk software would.
func (g *gen) api(w int, method, path string, body any) (map[string]any, error) {
	b, _ := json.Marshal(body)
	for try := 1; ; try++ {
		req, _ := http.NewRequest(method, g.target(w)+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+g.key)
		req.Header.Set("Content-Type", "application/json")
		res, err := g.setup.Do(req)
		if err != nil {
			return nil, err
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if (res.StatusCode == 503 || res.StatusCode == 429) && try < 5 {
			wait, _ := strconv.Atoi(res.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(wait, 1)) * time.Second)
			continue
		}
		if res.StatusCode >= 300 {
			return out, fmt.Errorf("%s %s: %d %v", method, path, res.StatusCode, out)
		}
		return out, nil
	}
}

func (g *gen) invite() (maker, error) {
	return func(w, i int) (*http.Request, error) {
		body := fmt.Sprintf(`{"dossier_code":"LOAD-%s-I%02d-%07d","agency_code":"000.00.12.H49","survey":"sipas-5"}`, g.run, w, i)
		req, err := http.NewRequest("POST", g.target(w)+"/api/v1/invitations", strings.NewReader(body))
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+g.key)
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}, nil
}

// invitations makes n invitations from conns workers; phone(i), when set,
// gives invitation i a phone. It returns the survey tokens.
func (g *gen) invitations(n int, prefix string, phone func(i int) string) ([]string, error) {
	toks := make([]string, n)
	return toks, parallel(g.conns, n, func(w, i int) error {
		body := map[string]any{"dossier_code": fmt.Sprintf("LOAD-%s-%s%06d", g.run, prefix, i), "agency_code": "000.00.12.H49", "survey": "sipas-5"}
		if phone != nil {
			body["phone"] = phone(i)
		}
		inv, err := g.api(w, "POST", "/api/v1/invitations", body)
		if err != nil {
			return err
		}
		su, _ := inv["survey_url"].(string)
		toks[i] = su[strings.LastIndex(su, "/")+1:]
		return nil
	})
}

// parallel runs fn for 0..n-1 from conns workers and returns the first error.
func parallel(conns, n int, fn func(w, i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for w := 0; w < conns; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				if err := fn(w, i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// opened opens each survey once, as the citizen's scan of the QR code
// does before they answer: the scenarios then measure the pages and submits
// that follow, not an invitation's first read from MongoDB.
func (g *gen) opened(toks []string) error {
	return parallel(g.conns, len(toks), func(w, i int) error {
		res, err := g.setup.Get(g.target(w) + "/s/" + toks[i])
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("open survey: %d", res.StatusCode)
		}
		return nil
	})
}

func (g *gen) page() (maker, error) {
	toks, err := g.invitations(200, "P", nil)
	if err == nil {
		err = g.opened(toks)
	}
	if err != nil {
		return nil, err
	}
	return func(w, i int) (*http.Request, error) {
		req, err := http.NewRequest("GET", g.target(w)+"/s/"+toks[(w*7919+i)%len(toks)], nil)
		if err == nil {
			req.Header.Set("Accept-Encoding", "gzip")
		}
		return req, err
	}, nil
}

// submit completes each of pool invitations once (a whole-survey POST).
func (g *gen) submit(pool int) (maker, error) {
	toks, err := g.invitations(pool, "S", nil)
	if err == nil {
		err = g.opened(toks)
	}
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	return func(w, _ int) (*http.Request, error) {
		i := int(next.Add(1) - 1)
		if i >= len(toks) {
			return nil, errDone
		}
		req, err := http.NewRequest("POST", g.target(w)+"/s/"+toks[i], strings.NewReader(answers))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return req, err
	}, nil
}

// answers is a whole survey's answers, as a submit posts them.
var answers = url.Values{"A": {"5"}, "B": {"4"}, "C": {"5"}, "D": {"4"}, "E": {"3"}}.Encode()

// answer is a citizen's whole web answer, one per invitation of pool: the
// first view of the survey page, then the submit. The submit scenario
// views its pages in its setup, so their first view (and the writes it
// leaves) is outside its figures; here both are inside.
func (g *gen) answer(pool int) (func(w, i int) error, error) {
	toks, err := g.invitations(pool, "A", nil)
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	return func(w, _ int) error {
		i := int(next.Add(1) - 1)
		if i >= len(toks) {
			return errDone
		}
		u := g.target(w) + "/s/" + toks[i]
		req, err := http.NewRequest("GET", u, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Accept-Encoding", "gzip")
		if err := send(g.client, req); err != nil {
			return fmt.Errorf("view: %w", err)
		}
		if req, err = http.NewRequest("POST", u, strings.NewReader(answers)); err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(g.client, req)
	}, nil
}

// smsSink accepts the gateway's outbound SMS (invitations, replies) so the
// sender has somewhere to deliver.
func (g *gen) smsSink() (string, error) {
	if g.sink != "" {
		return g.sink, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) }))
	}()
	g.sink = "http://" + ln.Addr().String() + "/send"
	return g.sink, nil
}

// sms sets up a generic SMS channel and pool invitations with phones (label,
// one digit, keeps the phones of two runs apart), then
// sends signed inbound messages. Each worker holds its own conversations in
// turn: even ones answer all five scores in one reply, odd ones one score a
// message; every twentieth request repeats the one before (a provider's
// duplicate delivery).
func (g *gen) sms(label string, pool int) (maker, error) {
	sink, err := g.smsSink()
	if err != nil {
		return nil, err
	}
	secret, ch := "loadgen-secret-"+g.run, "load-"+g.run
	if _, err := g.api(0, "PUT", "/api/v1/channels/"+ch, map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": sink}, "secrets": map[string]any{"secret": secret}}); err != nil {
		return nil, err
	}
	seed := int(time.Now().Unix() % 90)
	phone := func(i int) string { return fmt.Sprintf("09%02d%s%05d", 10+seed, label, i%100000) }
	if _, err := g.invitations(pool, "M"+label, phone); err != nil {
		return nil, err
	}
	type worker struct {
		conv, msg int
		last      []byte
	}
	ws := make([]worker, g.conns)
	scores := []string{"5", "4", "5", "4", "3"}
	return func(w, i int) (*http.Request, error) {
		st := &ws[w]
		body := st.last
		if i%20 != 19 || body == nil {
			k := w + g.conns*st.conv
			if k >= pool {
				return nil, errDone
			}
			text := "5 4 5 4 3"
			if k%2 == 1 {
				text = scores[st.msg]
			}
			body, _ = json.Marshal(map[string]string{"id": fmt.Sprintf("%s-%s-%d-%d", g.run, label, k, st.msg), "from": phone(k), "to": "8079", "text": text})
			if st.msg++; k%2 == 0 || st.msg == len(scores) {
				st.conv, st.msg = st.conv+1, 0
			}
			st.last = body
		}
		req, err := http.NewRequest("POST", g.target(w)+"/webhooks/sms/"+ch, bytes.NewReader(body))
		if err == nil {
			m := hmac.New(sha256.New, []byte(secret))
			m.Write(body)
			req.Header.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
			req.Header.Set("Content-Type", "application/json")
		}
		return req, err
	}, nil
}

// kiosk registers a desk, pairs a tablet with it and presents pool
// dossiers through the desk API (setup), then sends each dossier's answer
// once, with its own idempotency key, as the tablet does.
func (g *gen) kiosk(pool int) (maker, error) {
	desk := "load-" + g.run
	d, err := g.api(0, "PUT", "/api/v1/desks/"+desk, map[string]any{"agency_code": "000.00.12.H49", "name": "Load " + g.run})
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(map[string]any{"code": d["pairing_code"]})
	res, err := g.setup.Post(g.target(0)+"/kiosk/api/pair", "application/json", bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var paired struct {
		Token string `json:"token"`
	}
	err = json.NewDecoder(res.Body).Decode(&paired)
	res.Body.Close()
	if err != nil || paired.Token == "" {
		return nil, fmt.Errorf("pair a tablet: %d %v", res.StatusCode, err)
	}
	bodies := make([][]byte, pool)
	err = parallel(g.conns, pool, func(w, i int) error {
		out, err := g.api(w, "POST", "/api/v1/desks/"+desk+"/present", map[string]any{"dossier_code": fmt.Sprintf("LOAD-%s-K%06d", g.run, i)})
		if err != nil {
			return err
		}
		k, _ := out["kiosk"].(map[string]any)
		bodies[i], _ = json.Marshal(map[string]any{"idempotency_key": fmt.Sprintf("load-%s-%06d", g.run, i), "invitation_id": k["invitation_id"], "seq": k["seq"],
			"survey": k["survey"], "answers": map[string]int{"A": 5, "B": 4, "C": 5, "D": 4, "E": 3}})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var next atomic.Int64
	return func(w, _ int) (*http.Request, error) {
		i := int(next.Add(1) - 1)
		if i >= len(bodies) {
			return nil, errDone
		}
		req, err := http.NewRequest("POST", g.target(w)+"/kiosk/api/answer", bytes.NewReader(bodies[i]))
		if err == nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+paired.Token)
		}
		return req, err
	}, nil
}
