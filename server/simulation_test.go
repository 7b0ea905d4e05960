package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/survey"
)

// A simulated province: eight units, two of which fill part of their own
// surveys through the routes a dishonest unit has: staff open the survey
// links on office computers (one unit lists its staff network, the other
// makes invitations from its desks' own computers) and on their own
// phones, one a day; answer phone-less dossiers by "DG <code>" from one
// SIM; put their own phone on dossiers; tap the desk tablet before the
// citizen can. Citizens answer as citizens do: on their phones hours
// after the dossier, by SMS, on the office's guest Wi-Fi minutes after,
// on the desk tablet, two dossiers of one family on one phone, a few of
// them very fast. The signals must catch at least 90% of the planted
// answers and flag at most 2% of the genuine ones (the rates per route
// and signal are logged); nothing is dropped; after a review the index
// and index_excluding_flagged are what recounting the exported answers
// with their statuses gives.
func TestSimulatedProvinceSignals(t *testing.T) {
	sim := newSimulation(t, 20261205)
	sim.run()
	sim.judge()
}

// simAnswer is one answer the simulation gave, and how.
type simAnswer struct {
	dossier string
	route   string // genuine routes start with "citizen"
	planted bool
}

type simulation struct {
	t   *testing.T
	g   *gwtest.Gateway
	rnd *rand.Rand
	mu  sync.Mutex
	now time.Time
	// events in time order: each makes invitations or answers.
	events  []simEvent
	answers []simAnswer
	sms     *core.Channel
	units   []string
	tablets []string // each unit's desk tablet (kiosk token)
	seqs    []float64
	msg     int
}

type simEvent struct {
	at time.Time
	do func()
}

const (
	simProvince       = "000.00.00.H49"
	simDishonestUnits = 2
	simUnits          = 8
	simDossiers       = 90 // a unit's dossiers with a QR, over the simulated weeks
)

func newSimulation(t *testing.T, seed uint64) *simulation {
	s := &simulation{t: t, rnd: rand.New(rand.NewPCG(seed, 1)), now: time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)}
	s.g = gwtest.New(t, "", gwtest.NoRateLimits, func(c *config.Config) { c.TrustedProxies = "127.0.0.1" })
	s.g.Core.Clock = func() time.Time {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.now
	}
	s.g.Listen()
	s.sms = &core.Channel{ID: "sms-sim", Type: "sms.generic", Enabled: true}
	if res, out := s.g.API("PUT", "/api/v1/agencies/"+simProvince, map[string]any{"name": "UBND tỉnh"}); res.StatusCode != 200 {
		t.Fatalf("province: %d %v", res.StatusCode, out)
	}
	for u := range simUnits {
		code := fmt.Sprintf("000.%02d.10.H49", u+1)
		s.units = append(s.units, code)
		body := map[string]any{"name": fmt.Sprintf("UBND xã số %d", u+1), "parent": simProvince,
			// staff networks (not the citizens' guest Wi-Fi), and the
			// province's dossier server that creates every invitation
			"office_networks": []string{fmt.Sprintf("10.%d.1.0/24", u+1)},
			"dossier_servers": []string{"172.16.0.10"}}
		if u == 1 {
			// This one listed no staff network, and its desks make
			// invitations from their own computers.
			delete(body, "office_networks")
		}
		if res, out := s.g.API("PUT", "/api/v1/agencies/"+code, body); res.StatusCode != 200 {
			t.Fatalf("unit %s: %d %v", code, res.StatusCode, out)
		}
		res, out := s.g.API("PUT", fmt.Sprintf("/api/v1/desks/quay-%d", u+1), map[string]any{"agency_code": code, "name": fmt.Sprintf("Quầy %d", u+1), "officer": "Trần Văn Minh", "officer_pin": "24681357"})
		if res.StatusCode != 200 {
			t.Fatalf("desk of %s: %d %v", code, res.StatusCode, out)
		}
		res, out = s.g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": out["pairing_code"]})
		if res.StatusCode != 201 {
			t.Fatalf("pair the tablet of %s: %d %v", code, res.StatusCode, out)
		}
		s.tablets, s.seqs = append(s.tablets, out["token"].(string)), append(s.seqs, 0)
		if u < simDishonestUnits {
			res, out := s.g.API("PUT", "/api/v1/agencies/"+code+"/staff-phones", map[string]any{"phones": []string{staffPhone(u, 0), staffPhone(u, 1)}})
			if res.StatusCode != 200 {
				t.Fatalf("staff phones of %s: %d %v", code, res.StatusCode, out)
			}
		}
	}
	return s
}

func staffPhone(unit, i int) string { return fmt.Sprintf("0912%03d%03d", unit, i) }

// at schedules fn at the simulated time.
func (s *simulation) at(when time.Time, fn func()) { s.events = append(s.events, simEvent{when, fn}) }

// run plays every event in time order, the gateway's clock following.
func (s *simulation) run() {
	for u, unit := range s.units {
		s.plan(u, unit)
	}
	sort.SliceStable(s.events, func(i, j int) bool { return s.events[i].at.Before(s.events[j].at) })
	for _, e := range s.events {
		s.mu.Lock()
		s.now = e.at
		s.mu.Unlock()
		e.do()
	}
	s.g.Drain()
	s.g.Drain() // the flags raised after the fact
}

// working is a moment in office hours of day d (Vietnam time, UTC+7).
func (s *simulation) working(d int) time.Time {
	return time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC).AddDate(0, 0, d).Add(time.Duration(s.rnd.IntN(8*3600)) * time.Second)
}

// lognormal seconds with the given median and spread.
func (s *simulation) lognormal(median, sigma float64) time.Duration {
	return time.Duration(median * math.Exp(sigma*s.rnd.NormFloat64()) * float64(time.Second))
}

func (s *simulation) device() string {
	return fmt.Sprintf("%016x%016x", s.rnd.Uint64(), s.rnd.Uint64())
}

func (s *simulation) mobileIP() string {
	return fmt.Sprintf("113.%d.%d.%d", 160+s.rnd.IntN(30), s.rnd.IntN(256), 1+s.rnd.IntN(250))
}

// plan schedules one unit's dossiers: each made by the dossier server
// when it is returned, then answered by its citizen, or, in a dishonest
// unit, part of them by staff.
func (s *simulation) plan(u int, unit string) {
	dishonest := u < simDishonestUnits
	officePC := fmt.Sprintf("10.%d.1.%d", u+1, 20+s.rnd.IntN(10))
	staffDevice := s.device()
	guestWiFi := fmt.Sprintf("10.%d.200.%d", u+1, 5+s.rnd.IntN(100)) // the citizens' Wi-Fi: not a staff network
	family := s.device()
	familyUses := 0
	for i := range simDossiers {
		day := i * 28 / simDossiers
		made := s.working(day)
		dossier := fmt.Sprintf("%s-2611%02d-%04d", unit, 2+day, i)
		// Phone-less dossiers (the citizen gave no number) are the DG
		// route's prey; dossiers with a phone are answered by SMS.
		withPhone := i%3 == 0
		phone := fmt.Sprintf("09%08d", 10_000_000+u*1_000_000+i)
		route := "citizen-web"
		switch {
		case dishonest && i%6 == 1:
			route = "staff-office-pc"
		case dishonest && i%6 == 2:
			route = "staff-own-phone-browser"
		case dishonest && i%6 == 4 && !withPhone:
			route = "staff-dg-code"
		case dishonest && withPhone && i%6 == 3:
			route, phone = "staff-phone-on-dossier", staffPhone(u, i%2)
		case dishonest && i%6 == 5:
			route = "staff-kiosk-tap"
		case i%9 == 7:
			route = "citizen-kiosk"
		case withPhone:
			route = "citizen-sms"
		case i%7 == 5:
			route = "citizen-guest-wifi"
		case i%11 == 3 && familyUses < 2:
			route = "citizen-family-device"
			familyUses++
		case i%5 == 0:
			route = "citizen-no-answer"
		}
		extra := map[string]any{"survey": "sipas-5"}
		if withPhone {
			extra["phone"] = phone
		}
		var token string
		creator := "172.16.0.10"
		if u == 1 {
			creator = officePC
		}
		s.at(made, func() { token = s.create(dossier, unit, extra, creator) })
		planted := strings.HasPrefix(route, "staff")
		if route != "citizen-no-answer" {
			s.answers = append(s.answers, simAnswer{dossier: dossier, route: route, planted: planted})
		}
		scores := s.scores(planted)
		switch route {
		case "citizen-web":
			view := made.Add(time.Duration(2+s.rnd.IntN(70)) * time.Hour)
			s.web(view, func() string { return token }, s.mobileIP(), s.device(), s.lognormal(75, 0.8), scores)
		case "citizen-guest-wifi":
			view := made.Add(time.Duration(5+s.rnd.IntN(40)) * time.Minute)
			s.web(view, func() string { return token }, guestWiFi, s.device(), s.lognormal(75, 0.8), scores)
		case "citizen-family-device":
			view := made.Add(time.Duration(3+s.rnd.IntN(48)) * time.Hour)
			s.web(view, func() string { return token }, s.mobileIP(), family, s.lognormal(75, 0.8), scores)
		case "citizen-sms":
			s.at(made.Add(time.Duration(20+s.rnd.IntN(600))*time.Minute), func() { s.text(phone, scores) })
		case "staff-office-pc":
			view := made.Add(time.Duration(1+s.rnd.IntN(30)) * time.Minute)
			s.web(view, func() string { return token }, officePC, staffDevice, s.lognormal(12, 0.4), scores)
		case "staff-own-phone-browser":
			view := made.Add(time.Duration(1+s.rnd.IntN(120)) * time.Minute)
			s.web(view, func() string { return token }, s.mobileIP(), staffDevice, s.lognormal(15, 0.4), scores)
		case "staff-dg-code":
			sim := staffPhone(u, 7) // a SIM kept in a drawer, not on the staff list
			s.at(made.Add(time.Duration(1+s.rnd.IntN(90))*time.Minute), func() {
				s.say(sim, "DG "+dossier)
				s.text(sim, scores)
			})
		case "staff-phone-on-dossier":
			s.at(made.Add(time.Duration(1+s.rnd.IntN(60))*time.Minute), func() { s.text(phone, scores) })
		case "citizen-kiosk":
			s.kiosk(u, dossier, made.Add(time.Second), s.lognormal(40, 0.8), scores)
		case "staff-kiosk-tap": // the officer taps fives before the citizen can
			s.kiosk(u, dossier, made.Add(time.Second), time.Duration(3+s.rnd.IntN(6))*time.Second, scores)
		}
	}
}

// scores: citizens answer a spread around "satisfied"; staff give fives.
func (s *simulation) scores(planted bool) [5]int {
	var out [5]int
	for i := range out {
		if planted {
			out[i] = 5
			continue
		}
		out[i] = []int{2, 3, 4, 4, 4, 5, 5, 5}[s.rnd.IntN(8)]
	}
	return out
}

// create makes an invitation as a desk's software does, from addr.
func (s *simulation) create(dossier, unit string, extra map[string]any, addr string) string {
	body := map[string]any{"dossier_code": dossier, "agency_code": unit}
	for k, v := range extra {
		body[k] = v
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.g.URL+"/api/v1/invitations", strings.NewReader(string(raw)))
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	res := s.g.Do(req)
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 201 {
		s.t.Fatalf("create %s: %d %v", dossier, res.StatusCode, out)
	}
	return gwtest.Token(out)
}

// web opens the survey page at view and submits every answer took later,
// from addr with the device cookie.
func (s *simulation) web(view time.Time, token func() string, addr, device string, took time.Duration, scores [5]int) {
	req := func(method, body string) *http.Request {
		r, _ := http.NewRequest(method, s.g.URL+"/s/"+token(), strings.NewReader(body))
		r.Header.Set("X-Forwarded-For", addr)
		r.AddCookie(&http.Cookie{Name: "gw_device", Value: device})
		if body != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		return r
	}
	s.at(view, func() {
		if res := s.g.Do(req("GET", "")); res.StatusCode != 200 {
			s.t.Fatalf("survey page: %d", res.StatusCode)
		}
	})
	s.at(view.Add(took), func() {
		form := url.Values{}
		for i, c := range []string{"A", "B", "C", "D", "E"} {
			form.Set(c, fmt.Sprint(scores[i]))
		}
		if res := s.g.Do(req("POST", form.Encode())); res.StatusCode != 303 {
			s.t.Fatalf("submit: %d %s", res.StatusCode, gwtest.Body(res))
		}
	})
}

// kiosk: the desk presents the dossier at shown on unit u's tablet,
// which is answered took later.
func (s *simulation) kiosk(u int, dossier string, shown time.Time, took time.Duration, scores [5]int) {
	s.at(shown, func() {
		if res, out := s.g.API("POST", fmt.Sprintf("/api/v1/desks/quay-%d/present", u+1), map[string]any{"dossier_code": dossier}); res.StatusCode != 200 {
			s.t.Fatalf("present %s: %d %v", dossier, res.StatusCode, out)
		}
	})
	s.at(shown.Add(took), func() {
		res, next := s.g.As(s.tablets[u], "GET", fmt.Sprintf("/kiosk/api/next?after=%v&wait=1", s.seqs[u]), nil)
		if res.StatusCode != 200 || next["dossier_code"] != dossier {
			s.t.Fatalf("the tablet shows %d %v, want %s", res.StatusCode, next, dossier)
		}
		s.seqs[u] = next["seq"].(float64)
		answers := map[string]int{}
		for i, c := range []string{"A", "B", "C", "D", "E"} {
			answers[c] = scores[i]
		}
		body := map[string]any{"idempotency_key": fmt.Sprintf("key-%x", dossier), "invitation_id": next["invitation_id"], "seq": next["seq"],
			"survey": "sipas-5", "answers": answers, "locale": "vi"}
		if res, out := s.g.As(s.tablets[u], "POST", "/kiosk/api/answer", body); res.StatusCode != 200 || out["outcome"] != "recorded" {
			s.t.Fatalf("kiosk answer %s: %d %v", dossier, res.StatusCode, out)
		}
	})
}

// say sends one SMS from phone (0… form) into the gateway.
func (s *simulation) say(phone, text string) {
	s.msg++
	from := "84" + strings.TrimPrefix(phone, "0")
	render := func(t survey.Text, locale string) string { return t.In(locale) }
	if _, err := s.g.Core.Converse(context.Background(), core.Inbound{Channel: s.sms, From: from, MessageID: fmt.Sprint("sim-", s.msg), Text: text, Limit: true}, render); err != nil {
		s.t.Fatalf("%s says %q: %v", phone, text, err)
	}
}

func (s *simulation) text(phone string, scores [5]int) {
	s.say(phone, strings.Trim(fmt.Sprint(scores[:]), "[]"))
}

// exported reads the JSON lines export.
func (s *simulation) exported() []map[string]any {
	req, _ := http.NewRequest("GET", s.g.URL+"/api/v1/responses?survey=sipas-5&format=jsonl", nil)
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	res := s.g.Do(req)
	if res.StatusCode != 200 {
		s.t.Fatalf("export: %d", res.StatusCode)
	}
	var out []map[string]any
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, row)
	}
	return out
}

// judge measures the catch and false-flag rates, per route and signal,
// reviews the planted answers as a parent would, and checks the report
// against a recount of the export.
func (s *simulation) judge() {
	t := s.t
	rows := s.exported()
	byDossier := map[string]map[string]any{}
	for _, r := range rows {
		byDossier[r["dossier_code"].(string)] = r
	}
	if len(rows) != len(s.answers) {
		t.Fatalf("%d answers given, %d exported", len(s.answers), len(rows))
	}
	type tally struct{ n, flagged int }
	routes := map[string]*tally{}
	signals := map[string]*[2]int{} // planted, genuine
	var planted, genuine tally
	for _, a := range s.answers {
		r := byDossier[a.dossier]
		if r == nil {
			t.Fatalf("the answer to %s (%s) was dropped", a.dossier, a.route)
		}
		flags, _ := r["flags"].([]any)
		if routes[a.route] == nil {
			routes[a.route] = &tally{}
		}
		rt := routes[a.route]
		rt.n++
		side := &genuine
		if a.planted {
			side = &planted
		}
		side.n++
		if len(flags) > 0 {
			rt.flagged++
			side.flagged++
		}
		for _, f := range flags {
			if signals[f.(string)] == nil {
				signals[f.(string)] = &[2]int{}
			}
			if a.planted {
				signals[f.(string)][0]++
			} else {
				signals[f.(string)][1]++
			}
		}
	}
	var names []string
	for r := range routes {
		names = append(names, r)
	}
	sort.Strings(names)
	for _, r := range names {
		t.Logf("route %-26s %3d answers, %3d flagged (%.0f%%)", r, routes[r].n, routes[r].flagged, 100*float64(routes[r].flagged)/float64(routes[r].n))
	}
	names = names[:0]
	for f := range signals {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		t.Logf("signal %-18s planted %3d of %d (%.1f%%), genuine %3d of %d (%.2f%%)", f, signals[f][0], planted.n,
			100*float64(signals[f][0])/float64(planted.n), signals[f][1], genuine.n, 100*float64(signals[f][1])/float64(genuine.n))
	}
	catch, false_ := float64(planted.flagged)/float64(planted.n), float64(genuine.flagged)/float64(genuine.n)
	t.Logf("caught %d of %d planted (%.1f%%); flagged %d of %d genuine (%.2f%%)", planted.flagged, planted.n, 100*catch, genuine.flagged, genuine.n, 100*false_)
	if catch < 0.90 || false_ > 0.02 {
		t.Errorf("the signals caught %.1f%% of the planted answers (want ≥ 90%%) and flagged %.2f%% of the genuine ones (want ≤ 2%%)", 100*catch, 100*false_)
	}

	// The province confirms the planted answers it checks and clears the
	// genuine ones flagged; then the figures are recounted from the export.
	for _, a := range s.answers {
		r := byDossier[a.dossier]
		if flags, _ := r["flags"].([]any); len(flags) == 0 {
			continue
		}
		action := "clear"
		if a.planted {
			action = "confirm"
		}
		if res, out := s.g.API("POST", "/api/v1/flagged/"+r["id"].(string)+"/"+action, map[string]any{"note": "kiểm tra camera và sổ tiếp nhận"}); res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %v", action, a.dossier, res.StatusCode, out)
		}
	}
	// The case sweep (every 10 minutes in the gateway) counts the cases
	// the simulated weeks left past due, as a recount does.
	if _, err := s.g.Core.NoteDue(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.g.Drain()
	if diff, err := s.g.Applier.Compare(context.Background()); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a recount: %v %v", diff, err)
	}
	_, rep := s.g.API("GET", "/api/v1/reports/sipas?survey=sipas-5", nil)
	rows = s.exported()
	var all, unflagged [5][2]int // per criterion: satisfied, valid
	counted := 0
	for _, r := range rows {
		if r["status"] == "confirmed" {
			continue
		}
		counted++
		clean := r["status"] == "" || r["status"] == nil || r["status"] == "cleared"
		for _, a := range r["answers"].([]any) {
			a := a.(map[string]any)
			i := strings.Index("ABCDE", a["question"].(string))
			v, _ := a["score"].(float64)
			if i < 0 || v < 1 {
				continue
			}
			sat := 0
			if v >= 4 {
				sat = 1
			}
			all[i][0] += sat
			all[i][1]++
			if clean {
				unflagged[i][0] += sat
				unflagged[i][1]++
			}
		}
	}
	rate := func(cs [5][2]int) float64 {
		sum := 0.0
		for _, c := range cs {
			sum += 100 * float64(c[0]) / float64(c[1])
		}
		return math.Round(100*sum/5) / 100
	}
	if got := rep["responses"].(float64); int(got) != counted {
		t.Errorf("the report counts %v responses; the export less the confirmed ones %d", got, counted)
	}
	if got, want := rep["overall"].(map[string]any)["satisfaction_rate"].(float64), rate(all); got != want {
		t.Errorf("the index is %v; recounted from the export %v", got, want)
	}
	if got, want := rep["index_excluding_flagged"].(map[string]any)["satisfaction_rate"].(float64), rate(unflagged); got != want {
		t.Errorf("index_excluding_flagged is %v; recounted from the export %v", got, want)
	}
	t.Logf("after review: index %v over %d responses (%v confirmed)", rep["overall"].(map[string]any)["satisfaction_rate"], counted, rep["confirmed"])
}
