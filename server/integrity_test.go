package server_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/config"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
	"github.com/sipasvn/gateway/survey"
)

// clock is a gateway's clock that a test moves on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// integrityGateway is a test gateway behind a proxy it trusts (so a test
// chooses each request's client address with X-Forwarded-For), with the
// agency tree and a clock the test moves.
func integrityGateway(t *testing.T, options ...func(*config.Config)) (*gwtest.Gateway, *clock) {
	t.Helper()
	g := gwtest.New(t, "", append([]func(*config.Config){func(c *config.Config) { c.TrustedProxies = "0.0.0.0/0" }}, options...)...)
	g.Tree(t)
	clk := &clock{t: time.Now().UTC()}
	g.Core.Clock = clk.now
	return g, clk
}

// browser is one web client: its address and the device cookie the
// gateway gave it.
type browser struct{ ip, cookie string }

func (b *browser) do(g *gwtest.Gateway, method, path, form string) *http.Response {
	req := httptest.NewRequest(method, path, strings.NewReader(form))
	if form != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("X-Forwarded-For", b.ip)
	if b.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "gw_device", Value: b.cookie})
	}
	res := g.Do(req)
	for _, c := range res.Cookies() {
		if c.Name == "gw_device" {
			b.cookie = c.Value
		}
	}
	return res
}

// answer opens a short-form survey's page, takes its time, and submits
// every answer.
func (b *browser) answer(t *testing.T, g *gwtest.Gateway, clk *clock, token string, took time.Duration) {
	t.Helper()
	if res := b.do(g, "GET", "/s/"+token, ""); res.StatusCode != 200 {
		t.Fatalf("page: %d", res.StatusCode)
	}
	clk.add(took)
	if res := b.do(g, "POST", "/s/"+token, "A=5&B=4&C=5&D=4&E=5"); res.StatusCode != 303 {
		t.Fatalf("submit: %d %s", res.StatusCode, gwtest.Body(res))
	}
}

// inviteFrom creates a short-form invitation as a client at ip; it
// returns the invitation's id and survey token.
func inviteFrom(t *testing.T, g *gwtest.Gateway, ip, dossier, agency, phone string) (id, token string) {
	t.Helper()
	body := fmt.Sprintf(`{"dossier_code": %q, "agency_code": %q, "survey": "sipas-5"`, dossier, agency)
	if phone != "" {
		body += fmt.Sprintf(`, "phone": %q`, phone)
	}
	req := httptest.NewRequest("POST", "/api/v1/invitations", strings.NewReader(body+"}"))
	req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
	req.Header.Set("Content-Type", "application/json")
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	if res := g.Do(req); res.StatusCode != 201 {
		t.Fatalf("invite %s: %d %s", dossier, res.StatusCode, gwtest.Body(res))
	}
	inv := g.MustInvitation(dossier)
	return inv.ID, inv.Token
}

// saved is the stored response of an invitation.
func saved(t *testing.T, g *gwtest.Gateway, invitation string) *store.Response {
	t.Helper()
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(context.Background(), invitation)
	if err != nil {
		t.Fatalf("response of %s: %v", invitation, err)
	}
	return r
}

// flagsOf checks the flags a response was saved with.
func flagsOf(t *testing.T, r *store.Response, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if got := append([]string{}, r.Flags...); !slices.Equal(got, want) {
		t.Errorf("response of %s is flagged %v, want %v", r.DossierCode, got, want)
	}
}

// flaggedLater lists the responses a flag was noted for after they were
// saved.
func flaggedLater(t *testing.T, g *gwtest.Gateway, flag string) []string {
	t.Helper()
	cs, err := g.Mongo.Responses.Changes(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range cs {
		if slices.Contains(c.Add, flag) {
			out = append(out, c.Response)
		}
	}
	slices.Sort(out)
	return out
}

var chatSMS = &core.Channel{ID: "sms-int", Type: "sms.generic", Enabled: true}

// texter sends SMS into the engine from phones (84…).
type texter struct {
	t *testing.T
	g *gwtest.Gateway
	n int
}

func (x *texter) say(phone, text string) string {
	x.t.Helper()
	x.n++
	out, err := x.g.Core.Converse(context.Background(), core.Inbound{Channel: chatSMS, From: phone, MessageID: fmt.Sprint("int-", x.n), Text: text, Limit: true, LogSMS: true},
		func(t survey.Text, locale string) string { return t.In(locale) })
	if err != nil {
		x.t.Fatalf("%s says %q: %v", phone, text, err)
	}
	return strings.Join(out.Replies, " | ")
}

// kioskTablet registers a desk of agency and pairs a tablet with it.
func kioskTablet(t *testing.T, g *gwtest.Gateway, desk, agency string) string {
	t.Helper()
	res, out := g.API("PUT", "/api/v1/desks/"+desk, map[string]any{"agency_code": agency, "name": "Quầy " + desk})
	if res.StatusCode != 200 {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}
	res, out = g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": out["pairing_code"]})
	if res.StatusCode != 201 {
		t.Fatalf("pair: %d %v", res.StatusCode, out)
	}
	return out["token"].(string)
}

// onKiosk presents a dossier at desk and answers it from the tablet took
// later; it returns the invitation's id.
func onKiosk(t *testing.T, g *gwtest.Gateway, clk *clock, desk, tablet, dossier string, took time.Duration) string {
	t.Helper()
	res, p := g.API("POST", "/api/v1/desks/"+desk+"/present", map[string]any{"dossier_code": dossier})
	if res.StatusCode != 200 {
		t.Fatalf("present %s: %d %v", dossier, res.StatusCode, p)
	}
	clk.add(took)
	answer := map[string]any{"idempotency_key": "key-" + dossier, "invitation_id": p["id"], "seq": p["kiosk"].(map[string]any)["seq"],
		"survey": "sipas-5", "answers": map[string]int{"A": 5, "B": 4, "C": 5, "D": 4, "E": 5}, "locale": "vi"}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("kiosk answer %s: %d %v", dossier, res.StatusCode, out)
	}
	return p["id"].(string)
}

// Each channel says how its respondent was tied to the dossier and how
// long the answer took, and the web keeps only keyed hashes of the
// client's address and device.
func TestProvenanceOfEachChannel(t *testing.T) {
	g, clk := integrityGateway(t)
	const agency = "000.00.12.H49"

	// The web: a QR code's link, opened, answered a minute later.
	webInv, token := inviteFrom(t, g, "", "D-PV-WEB", agency, "")
	clk.add(10 * time.Minute)
	b := &browser{ip: "203.0.113.20"}
	b.answer(t, g, clk, token, time.Minute)
	r := saved(t, g, webInv)
	p := r.Provenance
	if p == nil || p.VerifiedBy != store.VerifiedToken || p.SecondsToFirstView == nil || *p.SecondsToFirstView != 600 ||
		p.SecondsToComplete != 660 || p.SecondsAnswering == nil || *p.SecondsAnswering != 60 {
		t.Fatalf("web provenance %+v", p)
	}
	if b.cookie == "" || p.Address != g.Core.Sealer.Hash("addr:203.0.113.20") || p.Device != g.Core.Sealer.Hash("device:"+b.cookie) {
		t.Fatalf("web hashes %+v (cookie %q)", p, b.cookie)
	}
	if doc := fmt.Sprintf("%+v", *r); strings.Contains(doc, "203.0.113.20") || strings.Contains(doc, b.cookie) {
		t.Fatalf("the response keeps a raw address or cookie: %s", doc)
	}
	flagsOf(t, r)

	// SMS from the invitation's own phone: no view, no answering time.
	x := &texter{t: t, g: g}
	smsInv, _ := inviteFrom(t, g, "", "D-PV-SMS", agency, "0912345678")
	clk.add(time.Hour)
	x.say("84912345678", "5 4 5 4 5")
	r = saved(t, g, smsInv)
	if p := r.Provenance; p.VerifiedBy != store.VerifiedPhone || p.SecondsToFirstView != nil || p.SecondsAnswering != nil || p.SecondsToComplete != 3600 || p.Address != "" || p.Device != "" {
		t.Fatalf("sms provenance %+v", p)
	}
	flagsOf(t, r)

	// "DG <code>" from a phone the invitation never knew.
	dgInv, _ := inviteFrom(t, g, "", "D-PV-DG", agency, "")
	if reply := x.say("84987654321", "DG D-PV-DG"); !strings.Contains(reply, "5 số") {
		t.Fatalf("DG reply %q", reply)
	}
	x.say("84987654321", "5 4 5 4 5")
	r = saved(t, g, dgInv)
	if p := r.Provenance; p.VerifiedBy != store.VerifiedDossierCode || p.SecondsAnswering != nil || r.Respondent != g.Core.Sealer.Hash("84987654321") {
		t.Fatalf("dossier code provenance %+v, respondent %q", p, r.Respondent)
	}
	flagsOf(t, r, store.FlagUnverifiedPhone)

	// The kiosk: timed from the presentation.
	tablet := kioskTablet(t, g, "quay-pv", agency)
	inviteFrom(t, g, "", "D-PV-KIOSK", agency, "")
	clk.add(time.Hour)
	kioskInv := onKiosk(t, g, clk, "quay-pv", tablet, "D-PV-KIOSK", 45*time.Second)
	r = saved(t, g, kioskInv)
	if p := r.Provenance; p.VerifiedBy != store.VerifiedKiosk || p.SecondsToComplete != 45 || p.SecondsAnswering == nil || *p.SecondsAnswering != 45 || p.Address != "" {
		t.Fatalf("kiosk provenance %+v", p)
	}
	flagsOf(t, r)

	// An operator's entry of the scores read in the citizen's message.
	opInv, _ := inviteFrom(t, g, "", "D-PV-OP", agency, "0911111111")
	u := &store.UnreadReply{ID: "u:sms-int:pv", Invitation: opInv, Survey: "sipas-5", Agency: agency, Channel: "sms-int", Family: "sms", Text: "bốn hết", At: clk.now()}
	if err := g.Mongo.Unread.Record(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if res, out := g.API("POST", "/api/v1/unread-replies/"+u.ID+"/resolve", map[string]any{"scores": map[string]int{"A": 4, "B": 4, "C": 4, "D": 4, "E": 4}}); res.StatusCode != 200 {
		t.Fatalf("resolve: %d %v", res.StatusCode, out)
	}
	r = saved(t, g, opInv)
	if p := r.Provenance; p.VerifiedBy != store.VerifiedOperator || p.By == "" || p.SecondsAnswering != nil {
		t.Fatalf("operator provenance %+v", p)
	}
	flagsOf(t, r)
}

// Answers a unit fills in itself on the web raise their signals; a
// citizen's from elsewhere raise none.
func TestWebSignals(t *testing.T) {
	g, clk := integrityGateway(t)
	const agency = "000.00.12.H49"
	res, out := g.API("PUT", "/api/v1/agencies/000.00.13.H49", map[string]any{"name": "Sở Xây dựng", "parent": "000.00.00.H49",
		"office_networks": []string{"198.51.100.0/24"}})
	if res.StatusCode != 200 {
		t.Fatalf("office networks: %d %v", res.StatusCode, out)
	}
	res, out = g.API("PUT", "/api/v1/agencies/000.00.00.H49", map[string]any{"name": "UBND tỉnh", "dossier_servers": []string{"192.0.2.10"}})
	if res.StatusCode != 200 {
		t.Fatalf("dossier servers: %d %v", res.StatusCode, out)
	}
	answer := func(dossier, creator string, b *browser, wait time.Duration) *store.Response {
		t.Helper()
		id, token := inviteFrom(t, g, creator, dossier, agency, "")
		clk.add(wait)
		b.answer(t, g, clk, token, time.Minute)
		return saved(t, g, id)
	}
	// Staff networks: any agency's, not only the rated one's.
	flagsOf(t, answer("D-W-OFFICE", "", &browser{ip: "198.51.100.7"}, time.Hour), store.FlagOfficeNetwork)
	flagsOf(t, answer("D-W-HOME", "", &browser{ip: "203.0.113.7"}, time.Hour))
	// The address that made the invitation, within a day.
	desk := &browser{ip: "203.0.113.50"}
	flagsOf(t, answer("D-W-CREATOR", "203.0.113.50", desk, time.Hour), store.FlagCreatorAddress)
	flagsOf(t, answer("D-W-CREATOR-LATE", "203.0.113.50", &browser{ip: "203.0.113.50"}, 25*time.Hour))
	// A dossier server (the parent's) makes every citizen's invitation:
	// its address is not kept.
	flagsOf(t, answer("D-W-SERVER", "192.0.2.10", &browser{ip: "192.0.2.10"}, time.Hour))
	if inv := g.MustInvitation("D-W-SERVER"); inv.CreatedFrom != "" {
		t.Fatalf("an invitation from a dossier server keeps %q", inv.CreatedFrom)
	}
	// A page answered in no time: under 2 seconds a question.
	id, token := inviteFrom(t, g, "", "D-W-FAST", agency, "")
	(&browser{ip: "203.0.113.8"}).answer(t, g, clk, token, 9*time.Second)
	flagsOf(t, saved(t, g, id), store.FlagSpeeder)
	// A form posted with no page before it: no view, no time.
	id, token = inviteFrom(t, g, "", "D-W-BLIND", agency, "")
	if res := (&browser{ip: "203.0.113.9"}).do(g, "POST", "/s/"+token, "A=5&B=4&C=5&D=4&E=5"); res.StatusCode != 303 {
		t.Fatalf("blind post: %d", res.StatusCode)
	}
	if r := saved(t, g, id); r.Provenance.Device != "" || !slices.Contains(r.Flags, store.FlagSpeeder) {
		t.Fatalf("blind post: %+v %v", r.Provenance, r.Flags)
	}

	// One browser, three dossiers in a day: the third is flagged as it
	// is saved, the first two after the fact; another's two are not.
	clk.add(48 * time.Hour)
	phone := &browser{ip: "203.0.113.30"}
	var ids []string
	for i := range 3 {
		r := answer(fmt.Sprintf("D-W-DEV-%d", i), "", phone, time.Hour)
		ids = append(ids, r.ID)
		if i < 2 {
			flagsOf(t, r)
		} else {
			flagsOf(t, r, store.FlagDeviceMany)
		}
	}
	other := &browser{ip: "203.0.113.31"}
	answer("D-W-OTHER-1", "", other, time.Hour)
	answer("D-W-OTHER-2", "", other, time.Hour)
	if got, want := flaggedLater(t, g, store.FlagDeviceMany), slices.Sorted(slices.Values(ids[:2])); !slices.Equal(got, want) {
		t.Fatalf("flagged later: %v, want the first two %v", got, want)
	}
	// A day later the same browser starts afresh at another office; at
	// this one it answered three dossiers within 30 days, and a fourth
	// is flagged still (a staff member's own phone, one a day).
	clk.add(25 * time.Hour)
	elsewhere, token := inviteFrom(t, g, "", "D-W-DEV-ELSEWHERE", "000.00.13.H49", "")
	clk.add(time.Hour)
	phone.answer(t, g, clk, token, time.Minute)
	flagsOf(t, saved(t, g, elsewhere))
	flagsOf(t, answer("D-W-DEV-NEXT", "", phone, time.Minute), store.FlagDeviceMany)
	clk.add(31 * 24 * time.Hour)
	flagsOf(t, answer("D-W-DEV-MONTH", "", phone, time.Minute))
}

// The log-time rule: once a form has 100 answering times, one far below
// them is flagged speeder though above the per-question floor; one near
// them is not, nor is the same time before the form has 100.
func TestSpeederByTheFormsTimes(t *testing.T) {
	g, clk := integrityGateway(t)
	took := func(dossier string, d time.Duration) *store.Response {
		t.Helper()
		id, token := inviteFrom(t, g, "", dossier, "000.00.12.H49", "")
		(&browser{ip: "203.0.113.40"}).answer(t, g, clk, token, d)
		return saved(t, g, id)
	}
	flagsOf(t, took("D-S-EARLY", 40*time.Second)) // too few times to judge by
	// About two minutes each (log-times ln 120 ± 0.3).
	if _, err := g.Core.Signals.R.Pipelined(context.Background(), func(p redis.Pipeliner) error {
		for i := range 100 {
			g.Core.Signals.AddMomentIn(context.Background(), p, "sipas-5:token", fmt.Sprint("seed-", i), math.Log(120)+0.3*float64(2*(i%2)-1))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	flagsOf(t, took("D-S-QUICK", 40*time.Second), store.FlagSpeeder)
	flagsOf(t, took("D-S-USUAL", 100*time.Second))
	flagsOf(t, took("D-S-FLOOR", 5*time.Second), store.FlagSpeeder)
}

// A tablet answer finished within 10 seconds of its presentation is
// kiosk_fast (and, under 2 seconds a question, a speeder); one that took
// the citizen a while is neither.
func TestKioskSignals(t *testing.T) {
	g, clk := integrityGateway(t)
	tablet := kioskTablet(t, g, "quay-k", "000.00.12.H49")
	for _, d := range []string{"D-K-FAST", "D-K-SLOW"} {
		inviteFrom(t, g, "", d, "000.00.12.H49", "")
	}
	flagsOf(t, saved(t, g, onKiosk(t, g, clk, "quay-k", tablet, "D-K-FAST", 4*time.Second)), store.FlagKioskFast, store.FlagSpeeder)
	flagsOf(t, saved(t, g, onKiosk(t, g, clk, "quay-k", tablet, "D-K-SLOW", 50*time.Second)))
}

// Phones: "DG <code>" from a phone the invitation never knew is
// unverified_phone, and its third such dossier in 30 days phone_many
// (the first two after the fact); a staff member's phone is staff_phone
// (listed by the agency or one above it); a citizen answering the
// invitations sent to them raises nothing.
func TestPhoneSignals(t *testing.T) {
	g, clk := integrityGateway(t)
	const agency = "000.01.12.H49"
	res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49/staff-phones", map[string]any{"phones": []string{"0977 000 111"}})
	if res.StatusCode != 200 || out["phones"] != 1.0 {
		t.Fatalf("staff phones: %d %v", res.StatusCode, out)
	}
	x := &texter{t: t, g: g}
	var ids []string
	for i := range 3 {
		inv, _ := inviteFrom(t, g, "", fmt.Sprintf("D-P-DG-%d", i), agency, "")
		clk.add(5 * 24 * time.Hour)
		x.say("84966000111", fmt.Sprintf("DG D-P-DG-%d", i))
		x.say("84966000111", "5 5 5 5 5")
		r := saved(t, g, inv)
		ids = append(ids, r.ID)
		if i < 2 {
			flagsOf(t, r, store.FlagUnverifiedPhone)
		} else {
			flagsOf(t, r, store.FlagPhoneMany, store.FlagUnverifiedPhone)
		}
	}
	if got, want := flaggedLater(t, g, store.FlagPhoneMany), slices.Sorted(slices.Values(ids[:2])); !slices.Equal(got, want) {
		t.Fatalf("flagged later: %v, want %v", got, want)
	}
	// A citizen with three dossiers of their own in a month.
	for i := range 3 {
		inv, _ := inviteFrom(t, g, "", fmt.Sprintf("D-P-OWN-%d", i), agency, "0912000111")
		clk.add(24 * time.Hour)
		x.say("84912000111", "4 4 4 4 4")
		flagsOf(t, saved(t, g, inv))
	}
	// The parent's staff list covers its commune office.
	inv, _ := inviteFrom(t, g, "", "D-P-STAFF", agency, "0977000111")
	x.say("84977000111", "5 5 5 5 5")
	flagsOf(t, saved(t, g, inv), store.FlagStaffPhone)
}

// GATEWAY_DOSSIER_CODE_ANSWERS: off answers a phone-less invitation's code
// exactly as a code that does not exist; on lets it in unflagged.
func TestDossierCodeAnswersSetting(t *testing.T) {
	g, _ := integrityGateway(t, func(c *config.Config) { c.DossierCodeAnswers = "off" })
	x := &texter{t: t, g: g}
	inviteFrom(t, g, "", "D-OFF-1", "000.00.12.H49", "")
	missing := x.say("84966000222", "DG D-OFF-NONE")
	if got := x.say("84966000333", "DG D-OFF-1"); got != missing || !strings.Contains(got, "Không tìm thấy") {
		t.Fatalf("off: a phone-less dossier's code answers %q, a missing one %q", got, missing)
	}
	if got := x.say("84966000333", "5 5 5 5 5"); strings.Contains(got, "Cảm ơn") {
		t.Fatalf("off: the code started the survey: %q", got)
	}

	g, _ = integrityGateway(t, func(c *config.Config) { c.DossierCodeAnswers = "on" })
	x = &texter{t: t, g: g}
	inv, _ := inviteFrom(t, g, "", "D-ON-1", "000.00.12.H49", "")
	x.say("84966000444", "DG D-ON-1")
	x.say("84966000444", "5 5 5 5 5")
	r := saved(t, g, inv)
	if r.Provenance.VerifiedBy != store.VerifiedDossierCode {
		t.Fatalf("on: %+v", r.Provenance)
	}
	flagsOf(t, r)
}

// The staff list: numbers checked entry by entry, kept as hashes, never
// answered or audited; set by an admin or the agency's own or a parent's
// key, not another branch's nor a viewer's.
func TestStaffPhonesEndpoint(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	const path = "/api/v1/agencies/000.01.12.H49/staff-phones"
	for body, field := range map[string]string{
		`{"phones": ["0912345678", "0123 777"]}`:    "phones[1]",
		`{"phones": ["0912345678", "call 777"]}`:    "phones[1]",
		`{}`:                                        "phones",
		`{"phones": "0912345678"}`:                  "phones",
		`{"phones": ["0912345678", "0123 777", 5]}`: "phones",
	} {
		req := httptest.NewRequest("PUT", path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		res := g.Do(req)
		if got := gwtest.Body(res); res.StatusCode != 400 || !strings.Contains(got, `"field":"`+field+`"`) || strings.Contains(got, "777") {
			t.Errorf("%s: %d %s, want 400 naming %s without the entry", body, res.StatusCode, got, field)
		}
	}
	phones := []string{"0912345678", "+84 912 345 678", "0988765432"}
	own, parent := g.Key(t, "agency", "000.01.12.H49"), g.Key(t, "agency", "000.00.12.H49")
	for _, key := range []string{gwtest.AdminKey, own, parent} {
		if res, out := g.As(key, "PUT", path, map[string]any{"phones": phones}); res.StatusCode != 200 || out["phones"] != 2.0 || out["agency_code"] != "000.01.12.H49" {
			t.Fatalf("put: %d %v", res.StatusCode, out)
		}
	}
	for _, key := range []string{g.Key(t, "agency", "000.00.13.H49"), g.Key(t, "viewer", "")} {
		if res, _ := g.As(key, "PUT", path, map[string]any{"phones": phones}); res.StatusCode != 403 {
			t.Errorf("another branch's or a viewer's key: %d", res.StatusCode)
		}
	}
	if res, _ := g.API("PUT", "/api/v1/agencies/000.99.12.H49/staff-phones", map[string]any{"phones": phones}); res.StatusCode != 404 {
		t.Errorf("unregistered agency: %d", res.StatusCode)
	}
	// A PUT of the agency keeps the list.
	if res, _ := g.API("PUT", "/api/v1/agencies/000.01.12.H49", map[string]any{"name": "Phòng Hộ tịch", "parent": "000.00.12.H49"}); res.StatusCode != 200 {
		t.Fatal("put agency")
	}
	if a, err := g.Mongo.Agencies.Agency(context.Background(), "000.01.12.H49"); err != nil || len(a.StaffPhones) != 2 || a.StaffPhones[0] == "84912345678" {
		t.Fatalf("stored %v (%v)", a, err)
	}
	g.API("GET", "/api/v1/agencies/000.01.12.H49", nil)
	g.API("GET", "/api/v1/agencies", nil)
	g.API("GET", "/api/v1/audit", nil)
	hash := g.Core.Sealer.Hash("84912345678")
	for _, reply := range g.Replies {
		for _, tok := range strings.FieldsFunc(reply, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
			if tok == "0912345678" || tok == "84912345678" || tok == "912345678" || tok == "0988765432" || tok == hash {
				t.Fatalf("a reply carries a staff number or its hash: %s", reply)
			}
		}
	}
}

// Agencies' networks: each entry checked and named (office_networks[2]),
// a plain address kept as a /32 or /128, host bits cleared; a body
// without the lists keeps them, [] empties them.
func TestAgencyNetworks(t *testing.T) {
	g := gwtest.New(t, "")
	const path = "/api/v1/agencies/000.00.12.H49"
	put := func(body map[string]any) (*http.Response, map[string]any) {
		t.Helper()
		body["name"] = "Sở Tư pháp"
		return g.API("PUT", path, body)
	}
	for _, c := range []struct {
		list  string
		value []string
		field string
	}{
		{"office_networks", []string{"10.1.0.0/16", "192.0.2.7", "intranet"}, "office_networks[2]"},
		{"office_networks", []string{"10.1.0.0/33"}, "office_networks[0]"},
		{"dossier_servers", []string{"2001:db8::/48", "0.0.0.0/0"}, "dossier_servers[1]"},
		{"dossier_servers", []string{"fe80::1%eth0"}, "dossier_servers[0]"},
	} {
		res, out := put(map[string]any{c.list: c.value})
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != c.field || !strings.Contains(e["message"].(string), "/") {
			t.Errorf("%s %v: %d %v, want 400 naming %s with the fix", c.list, c.value, res.StatusCode, out, c.field)
		}
	}
	res, out := put(map[string]any{"office_networks": []string{"10.1.2.3/16", "192.0.2.7", "2001:db8::1", "::ffff:198.51.100.1"}, "dossier_servers": []string{"203.0.113.0/28"}})
	if res.StatusCode != 200 || fmt.Sprint(out["office_networks"]) != "[10.1.0.0/16 192.0.2.7/32 2001:db8::1/128 198.51.100.1/32]" || fmt.Sprint(out["dossier_servers"]) != "[203.0.113.0/28]" {
		t.Fatalf("put: %d %v", res.StatusCode, out)
	}
	if _, out = put(map[string]any{"short_name": "STP"}); fmt.Sprint(out["office_networks"]) != "[10.1.0.0/16 192.0.2.7/32 2001:db8::1/128 198.51.100.1/32]" || out["dossier_servers"] == nil {
		t.Fatalf("a body without the lists: %v", out)
	}
	if _, out = put(map[string]any{"office_networks": []string{}}); out["office_networks"] != nil || out["dossier_servers"] == nil {
		t.Fatalf("an empty list: %v", out)
	}
}

// A rating of a case's answer from the done page, given from a staff
// network, carries the signal in the case's history; the rating stands.
func TestCaseRatingFromAnOfficeNetwork(t *testing.T) {
	g, clk := integrityGateway(t)
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "parent": "000.00.00.H49",
		"office_networks": []string{"198.51.100.0/24"}}); res.StatusCode != 200 {
		t.Fatalf("office networks: %d %v", res.StatusCode, out)
	}
	_, token := inviteFrom(t, g, "", "D-C-RATE", "000.00.12.H49", "")
	citizen := &browser{ip: "203.0.113.60"}
	if res := citizen.do(g, "GET", "/s/"+token, ""); res.StatusCode != 200 {
		t.Fatal("page")
	}
	clk.add(time.Minute)
	if res := citizen.do(g, "POST", "/s/"+token, "A=1&B=1&C=2&D=1&E=1"); res.StatusCode != 303 {
		t.Fatal("submit")
	}
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	cases := list["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("cases %v", list)
	}
	id := cases[0].(map[string]any)["id"].(string)
	if res, out := g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Đã nhắc nhở cán bộ."}); res.StatusCode != 200 {
		t.Fatalf("answer: %d %v", res.StatusCode, out)
	}
	if res := (&browser{ip: "198.51.100.9"}).do(g, "POST", "/s/"+token+"/rate", "r=5"); res.StatusCode != 303 {
		t.Fatalf("rate: %d", res.StatusCode)
	}
	_, c := g.API("GET", "/api/v1/cases/"+id, nil)
	history := c["history"].([]any)
	rated := history[len(history)-1].(map[string]any)
	if c["status"] != "closed" || rated["action"] != "rated" || fmt.Sprint(rated["flags"]) != "[office_network]" {
		t.Fatalf("case after a rating from the office: %v", c)
	}
}

// Exports carry each answer's provenance, flags and review status: JSON
// lines as an object, a list (empty when none) and a status only when
// flagged; CSV in columns of their own at the end of each row.
func TestExportCarriesProvenanceAndFlags(t *testing.T) {
	g, clk := integrityGateway(t)
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "parent": "000.00.00.H49",
		"office_networks": []string{"198.51.100.0/24"}}); res.StatusCode != 200 {
		t.Fatalf("office networks: %d %v", res.StatusCode, out)
	}
	_, token := inviteFrom(t, g, "", "D-X-OFFICE", "000.00.12.H49", "")
	office := &browser{ip: "198.51.100.3"}
	office.answer(t, g, clk, token, time.Minute)
	_, token = inviteFrom(t, g, "", "D-X-HOME", "000.00.12.H49", "")
	(&browser{ip: "203.0.113.3"}).answer(t, g, clk, token, 2*time.Minute)
	g.Drain()

	_, _, body := get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=jsonl")
	lines := map[string]map[string]any{}
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		lines[m["dossier_code"].(string)] = m
	}
	flagged, plain := lines["D-X-OFFICE"], lines["D-X-HOME"]
	prov, _ := flagged["provenance"].(map[string]any)
	if fmt.Sprint(flagged["flags"]) != "[office_network]" || flagged["status"] != "pending" || prov["verified_by"] != "token" ||
		prov["seconds_answering"] != 60.0 || prov["address_hash"] != g.Core.Sealer.Hash("addr:198.51.100.3") || prov["device_hash"] != g.Core.Sealer.Hash("device:"+office.cookie) {
		t.Fatalf("flagged line %v", flagged)
	}
	if flags, ok := plain["flags"].([]any); !ok || len(flags) != 0 || plain["status"] != nil || plain["provenance"] == nil {
		t.Fatalf("plain line %v", plain)
	}

	_, _, body = get(g, gwtest.AdminKey, "/api/v1/responses?survey=sipas-5&format=csv")
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\ufeff"))).ReadAll()
	if err != nil || len(rows) != 3 {
		t.Fatalf("csv %v %v", rows, err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"provenance.verified_by", "provenance.seconds_to_first_view", "provenance.seconds_to_complete", "provenance.seconds_answering",
		"provenance.address_hash", "provenance.device_hash", "flags", "status"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("csv has no column %s: %v", h, rows[0])
		}
	}
	for _, r := range rows[1:] {
		want := map[string][3]string{"D-X-OFFICE": {"office_network", "pending", "60"}, "D-X-HOME": {"", "", "120"}}[r[4]]
		if r[col["flags"]] != want[0] || r[col["status"]] != want[1] || r[col["provenance.seconds_answering"]] != want[2] ||
			r[col["provenance.verified_by"]] != "token" || r[col["provenance.address_hash"]] == "" || strings.Contains(strings.Join(r, ","), "198.51.100.3") {
			t.Fatalf("csv row %v", r)
		}
	}
}

// The survey page gives a browser without one a device cookie: random,
// first-party, HttpOnly, SameSite=Lax, Secure behind https, for 400 days;
// a browser that has one keeps it.
func TestDeviceCookie(t *testing.T) {
	for base, secure := range map[string]bool{"https://ks.example.vn": true, "http://gateway.test": false} {
		g := gwtest.New(t, base)
		token := gwtest.Token(g.Invite("D-COOKIE", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
		res := g.Do(httptest.NewRequest("GET", "/s/"+token, nil))
		var c *http.Cookie
		for _, k := range res.Cookies() {
			if k.Name == "gw_device" {
				c = k
			}
		}
		if c == nil || len(c.Value) != 32 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 400*24*3600 || c.Secure != secure || c.Path != "/" {
			t.Fatalf("%s: device cookie %+v", base, c)
		}
		req := httptest.NewRequest("GET", "/s/"+token, nil)
		req.AddCookie(c)
		if again := g.Do(req).Header.Get("Set-Cookie"); strings.Contains(again, "gw_device") {
			t.Fatalf("%s: a browser with a cookie got another: %s", base, again)
		}
	}
}
