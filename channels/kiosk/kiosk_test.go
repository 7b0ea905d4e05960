package kiosk_test

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

// deskWithTablet registers a desk and pairs a tablet with it.
func deskWithTablet(t *testing.T, g *gwtest.Gateway, id, agency, officer string) string {
	t.Helper()
	return deskWithTabletAs(t, g, gwtest.AdminKey, id, agency, officer)
}

// deskWithTabletAs is deskWithTablet with the given API key.
func deskWithTabletAs(t *testing.T, g *gwtest.Gateway, key, id, agency, officer string) string {
	t.Helper()
	res, out := g.As(key, "PUT", "/api/v1/desks/"+id, map[string]any{"agency_code": agency, "name": "Quầy " + id, "officer": officer, "officer_pin": "24681357"})
	code, _ := out["pairing_code"].(string)
	if res.StatusCode != 200 || !regexp.MustCompile(`^[0-9]{8}$`).MatchString(code) {
		t.Fatalf("put desk: %d %v", res.StatusCode, out)
	}
	res, out = g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": code[:4] + " " + code[4:]})
	token, _ := out["token"].(string)
	if res.StatusCode != 201 || !strings.HasPrefix(token, "kt_") {
		t.Fatalf("pair: %d %v", res.StatusCode, out)
	}
	if res, out := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": code}); res.StatusCode != 401 || out["error"].(map[string]any)["field"] != "code" {
		t.Fatalf("a pairing code works once: %d %v", res.StatusCode, out)
	}
	return token
}

// A desk's tablet learns of each dossier the desk hands back, answers it
// once whatever the retries, and the report counts it by desk and officer.
func TestKioskPairPresentAnswer(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	for body, field := range map[string]string{
		`{"agency_code": "000.00.12.H49", "name": "Q"}`:                 "",
		`{"agency_code": "000.00.12.H49"}`:                              "name",
		`{"name": "Quầy 3"}`:                                            "agency_code",
		`{"agency_code": "000.00.12.H49", "name": "Q", "form": "long"}`: "form",
	} {
		req := httptest.NewRequest("PUT", "/api/v1/desks/Bad.Id", strings.NewReader(body))
		if field != "" {
			req = httptest.NewRequest("PUT", "/api/v1/desks/quay-x", strings.NewReader(body))
		}
		req.Header.Set("Authorization", "Bearer "+gwtest.AdminKey)
		req.Header.Set("Content-Type", "application/json")
		res := g.Do(req)
		if want := map[bool]string{true: "id", false: field}[field == ""]; res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), `"field":"`+want+`"`) {
			t.Errorf("%s: %d, want 400 naming %s", body, res.StatusCode, want)
		}
	}
	// An agency's key places desks only in its own subtree.
	other := g.Key(t, "agency", "000.00.13.H49")
	if res, _ := g.As(other, "PUT", "/api/v1/desks/quay-3", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy 3"}); res.StatusCode != 403 {
		t.Fatalf("desk outside the key's agency: %d", res.StatusCode)
	}
	if res, out := g.As("", "POST", "/kiosk/api/pair", map[string]any{"code": "1234"}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "code" {
		t.Fatalf("short code: %d %v", res.StatusCode, out)
	}
	tablet := deskWithTablet(t, g, "quay-3", "000.00.12.H49", "Nguyễn Văn Ân")
	if res, out := g.As(tablet, "GET", "/kiosk/api/desk", nil); res.StatusCode != 200 || out["id"] != "quay-3" || out["form"] != "short" {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}

	// The tablet waits; the desk software presents a dossier (with the
	// citizen's phone, which the tablet never sees).
	g.Invite("H49-K-1", "000.01.12.H49", map[string]any{"phone": "0912345678", "procedure_code": "1.0001"})
	var wg sync.WaitGroup
	var waited map[string]any
	wg.Add(1)
	go func() {
		defer wg.Done()
		res, out := g.As(tablet, "GET", "/kiosk/api/next?after=0&wait=20", nil)
		if res.StatusCode != 200 {
			t.Errorf("next: %d %v", res.StatusCode, out)
		}
		waited = out
	}()
	time.Sleep(300 * time.Millisecond)
	res, out := g.API("POST", "/api/v1/desks/quay-3/present", map[string]any{"dossier_code": "H49-K-1"})
	if res.StatusCode != 200 || out["dossier_code"] != "H49-K-1" {
		t.Fatalf("present: %d %v", res.StatusCode, out)
	}
	wg.Wait()
	raw := g.Replies[len(g.Replies)-2] // the tablet's answer
	if waited["dossier_code"] != "H49-K-1" || waited["form"].(map[string]any)["id"] != "sipas-5" || strings.Contains(raw, "912345678") {
		t.Fatalf("the tablet got %s", raw)
	}
	inv, seq := waited["invitation_id"].(string), waited["seq"].(float64)

	// Answered with a key; the same key again changes nothing; another
	// tablet's (another key's) answer finds it answered.
	answer := map[string]any{"idempotency_key": "key-00000001", "invitation_id": inv, "seq": seq, "survey": "sipas-5",
		"answers": map[string]int{"A": 5, "B": 4, "C": 5, "D": 4, "E": 0}, "comment": "Cán bộ nhiệt tình", "locale": "vi"}
	for i := 0; i < 3; i++ {
		if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
			t.Fatalf("answer %d: %d %v", i, res.StatusCode, out)
		}
	}
	answer["idempotency_key"] = "key-00000002"
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "already_answered" {
		t.Fatalf("second key: %d %v", res.StatusCode, out)
	}
	// The dossier left the screen: the next wait times out.
	if res, _ := g.As(tablet, "GET", "/kiosk/api/next?after="+fmtSeq(seq)+"&wait=1", nil); res.StatusCode != 204 {
		t.Fatalf("answered dossier still shown: %d", res.StatusCode)
	}
	answer["answers"], answer["idempotency_key"] = map[string]int{"A": 5}, "key-00000003"
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "already_answered" {
		t.Fatalf("answer after completion: %d %v", res.StatusCode, out)
	}

	// Another desk's tablet neither sees nor answers this desk's dossiers.
	stranger := deskWithTablet(t, g, "quay-9", "000.00.13.H49", "")
	answer["idempotency_key"] = "key-00000004"
	if res, _ := g.As(stranger, "POST", "/kiosk/api/answer", answer); res.StatusCode != 403 {
		t.Fatalf("stranger's answer: %d", res.StatusCode)
	}
	if res, _ := g.As(stranger, "GET", "/kiosk/api/next?after=0&wait=1", nil); res.StatusCode != 204 {
		t.Fatalf("stranger sees another desk's dossier: %d", res.StatusCode)
	}
	if res, out := g.API("POST", "/api/v1/desks/quay-9/present", map[string]any{"dossier_code": "H49-K-1"}); res.StatusCode != 403 || out["error"].(map[string]any)["field"] != "dossier_code" {
		t.Fatalf("present another agency's dossier: %d %v", res.StatusCode, out)
	}

	// The officer types a new dossier on the tablet, with the desk's PIN:
	// made for the desk's agency. Without it, nothing is shown.
	for _, pin := range []string{"", "13572468"} {
		if res, out := g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": "H49-K-2", "officer_pin": pin}); res.StatusCode != 403 || out["error"].(map[string]any)["field"] != "officer_pin" {
			t.Fatalf("present with PIN %q: %d %v", pin, res.StatusCode, out)
		}
	}
	res, out = g.As(tablet, "POST", "/kiosk/api/present", map[string]any{"dossier_code": "H49-K-2", "officer_pin": "24681357"})
	if res.StatusCode != 200 || out["dossier_code"] != "H49-K-2" || out["answered"] != false {
		t.Fatalf("present on the tablet: %d %v", res.StatusCode, out)
	}
	if got := g.MustInvitation("H49-K-2"); got.AgencyCode != "000.00.12.H49" {
		t.Fatalf("made for %s", got.AgencyCode)
	}
	answer = map[string]any{"idempotency_key": "key-00000005", "invitation_id": out["invitation_id"], "seq": out["seq"], "survey": "sipas-5",
		"answers": map[string]int{"A": 2, "B": 2, "C": 3, "D": 2, "E": 2}}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("second dossier: %d %v", res.StatusCode, out)
	}

	// The report counts each once, under the kiosk family, by desk and officer.
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&group_by=desk", nil)
	groups, _ := rep["groups"].([]any)
	if rep["responses"] != 2.0 || len(groups) != 1 || groups[0].(map[string]any)["group"] != "quay-3" || groups[0].(map[string]any)["responses"] != 2.0 {
		t.Fatalf("by desk: %v", rep)
	}
	_, rep = g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&group_by=officer", nil)
	if groups, _ := rep["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["group"] != "quay-3.nguyen-van-an" {
		t.Fatalf("by officer: %v", rep)
	}
	for _, ch := range []string{"kiosk", "kiosk.quay-3", "kiosk.quay-3.nguyen-van-an"} {
		if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&channel="+ch, nil); rep["responses"] != 2.0 {
			t.Fatalf("channel=%s: %v", ch, rep)
		}
	}
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&channel=kiosk.quay", nil); rep["responses"] != 0.0 {
		t.Fatalf("channel=kiosk.quay matched a longer desk id: %v", rep)
	}
	_, rep = g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&group_by=channel", nil)
	if groups, _ := rep["groups"].([]any); len(groups) != 1 || groups[0].(map[string]any)["group"] != "kiosk.quay-3.nguyen-van-an" {
		t.Fatalf("by channel: %v", rep)
	}

	// Revoking the tablet stops it at once, even mid-wait.
	_, d := g.API("GET", "/api/v1/desks/quay-3", nil)
	devices := d["devices"].([]any)
	device := devices[0].(map[string]any)["id"].(string)
	wg.Add(1)
	go func() { // a timeout would answer 204: a 401 is the revocation reaching the wait
		defer wg.Done()
		if res, _ := g.As(tablet, "GET", "/kiosk/api/next?after=99&wait=20", nil); res.StatusCode != 401 {
			t.Errorf("waiting tablet after revocation: %d", res.StatusCode)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	if res, out := g.API("POST", "/api/v1/desks/quay-3/devices/"+device+"/revoke", nil); res.StatusCode != 200 || out["devices"].([]any)[0].(map[string]any)["revoked_at"] == nil {
		t.Fatalf("revoke: %d %v", res.StatusCode, out)
	}
	wg.Wait()
	if res, _ := g.As(tablet, "GET", "/kiosk/api/desk", nil); res.StatusCode != 401 {
		t.Fatalf("revoked tablet: %d", res.StatusCode)
	}
	g.API("GET", "/api/v1/audit", nil)
	if s := g.Replies[len(g.Replies)-1]; !strings.Contains(s, "kiosk.pair") || !strings.Contains(s, "kiosk.revoke") {
		t.Fatalf("audit: %s", s)
	}
}

// A desk's kiosk traffic is limited: a runaway tablet gets 429s.
func TestKioskRateLimit(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	tablet := deskWithTablet(t, g, "quay-1", "000.00.12.H49", "")
	// The desk software's presentations are counted apart: still served.
	defer func() {
		if res, _ := g.API("POST", "/api/v1/desks/quay-1/present", map[string]any{"dossier_code": "H49-RL-1"}); res.StatusCode != 200 {
			t.Errorf("present after the tablet's burst: %d", res.StatusCode)
		}
	}()
	limited := 0
	for i := 0; i < 130; i++ {
		res, _ := g.As(tablet, "POST", "/kiosk/api/answer", map[string]any{"idempotency_key": "spam-" + fmtSeq(float64(1000+i)), "invitation_id": "x", "answers": map[string]int{}})
		if res.StatusCode == 429 {
			limited++
		} else if res.StatusCode != 403 {
			t.Fatalf("answer %d: %d", i, res.StatusCode)
		}
	}
	if limited != 10 {
		t.Fatalf("%d of 130 limited, want 10", limited)
	}
}

// Only an answer that changes something keeps its idempotency key: one
// that finds the dossier answered keeps none, and its retry still says
// already_answered.
func TestKioskAnswersThatChangeNothingKeepNoKey(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	ctx := context.Background()
	tablet := deskWithTablet(t, g, "quay-k", "000.00.12.H49", "")
	_, out := g.API("POST", "/api/v1/desks/quay-k/present", map[string]any{"dossier_code": "H49-KEYS-1"})
	kiosk := out["kiosk"].(map[string]any)
	answer := func(key, want string) {
		t.Helper()
		a := map[string]any{"idempotency_key": key, "invitation_id": kiosk["invitation_id"], "seq": kiosk["seq"],
			"answers": map[string]int{"A": 3, "B": 3, "C": 3, "D": 3, "E": 3}}
		if res, out := g.As(tablet, "POST", "/kiosk/api/answer", a); res.StatusCode != 200 || out["outcome"] != want {
			t.Fatalf("answer %s: %d %v, want %s", key, res.StatusCode, out, want)
		}
	}
	answer("keys-first", "recorded")
	for _, key := range []string{"keys-again-1", "keys-again-2", "keys-again-3"} {
		answer(key, "already_answered")
	}
	answer("keys-again-1", "already_answered") // a retry of one
	answer("keys-first", "recorded")           // and of the one that counted
	keys, err := g.Core.Kiosks.R.Keys(ctx, redisKey(g, "ans", "quay-k:*")).Result()
	if err != nil || len(keys) != 1 || keys[0] != redisKey(g, "ans", "quay-k:keys-first") {
		t.Fatalf("answer keys kept: %v (%v), want only the one that was recorded", keys, err)
	}
}

// redisKey names a kiosk key in Redis as store.Kiosks does.
func redisKey(g *gwtest.Gateway, kind, id string) string {
	return "gw:kiosk:" + kind + ":{" + g.Core.Kiosks.Name + "}:" + id
}

func fmtSeq(f float64) string { return strconv.FormatFloat(f, 'f', 0, 64) }

// A desk set to the full form asks every SIPAS indicator; a citizen's
// answer to it is checked against that form.
func TestKioskFullForm(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	if res, out := g.API("PUT", "/api/v1/desks/quay-f", map[string]any{"agency_code": "000.00.12.H49", "name": "Quầy F", "form": "full"}); res.StatusCode != 200 || out["form"] != "full" {
		t.Fatalf("desk: %d %v", res.StatusCode, out)
	}
	_, out := g.API("POST", "/api/v1/desks/quay-f/present", map[string]any{"dossier_code": "H49-FULL-1"})
	if out["kiosk"].(map[string]any)["survey"] != "sipas" {
		t.Fatalf("present: %v", out)
	}
	tablet := deskWithTablet(t, g, "quay-f", "000.00.12.H49", "")
	res, p := g.As(tablet, "GET", "/kiosk/api/next?after=0&wait=1", nil)
	if res.StatusCode != 200 || len(p["form"].(map[string]any)["questions"].([]any)) != 22 {
		t.Fatalf("next: %d %v", res.StatusCode, p)
	}
	answers := map[string]int{"A1": 5}
	answer := map[string]any{"idempotency_key": "full-form-1", "invitation_id": p["invitation_id"], "seq": p["seq"], "survey": "sipas", "answers": answers}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 400 {
		t.Fatalf("one of 22 answered: %d %v", res.StatusCode, out)
	}
	for _, q := range p["form"].(map[string]any)["questions"].([]any) {
		answers[q.(map[string]any)["id"].(string)] = 4
	}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("the same key, now complete: %d %v", res.StatusCode, out)
	}
}

// An answer that waited on the tablet is still taken when Redis has lost
// which desk the dossier was presented at: MongoDB keeps it, by _id.
func TestKioskAnswerAfterRedisLostThePresentation(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	tablet := deskWithTablet(t, g, "quay-2", "000.00.12.H49", "")
	_, out := g.API("POST", "/api/v1/desks/quay-2/present", map[string]any{"dossier_code": "H49-LOST-1"})
	kiosk := out["kiosk"].(map[string]any)
	inv := kiosk["invitation_id"].(string)
	if err := g.Core.Kiosks.R.Del(t.Context(), "gw:kiosk:inv:{"+g.Core.Kiosks.Name+"}:"+inv).Err(); err != nil {
		t.Fatal(err)
	}
	answer := map[string]any{"idempotency_key": "lost-key-1", "invitation_id": inv, "seq": kiosk["seq"], "answers": map[string]int{"A": 3, "B": 4, "C": 5, "D": 4, "E": 3}}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("answer: %d %v", res.StatusCode, out)
	}
	other := deskWithTablet(t, g, "quay-8", "000.00.12.H49", "")
	answer["idempotency_key"] = "lost-key-2"
	if res, _ := g.As(other, "POST", "/kiosk/api/answer", answer); res.StatusCode != 403 {
		t.Fatalf("another desk's tablet: %d", res.StatusCode)
	}
}

// A tablet keeps working while MongoDB is down: its desk, the dossier on
// screen and the answer all come from and go to Redis; the answer reaches
// MongoDB once it is back.
func TestKioskAnswersWhileMongoDBIsDown(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	tablet := deskWithTablet(t, g, "quay-4", "000.00.12.H49", "Phạm Thị Dung")
	g.As(tablet, "GET", "/kiosk/api/desk", nil) // as a tablet does at start
	g.API("POST", "/api/v1/desks/quay-4/present", map[string]any{"dossier_code": "H49-DOWN-1"})

	gone, err := store.OpenMongo(context.Background(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(context.Background()) // a closed client stands for MongoDB being down
	up := g.Core.Mongo
	down := *up
	down.Desks, down.Responses, down.Invitations, down.Client = gone.Desks, gone.Responses, gone.Invitations, gone.Client
	g.Core.Mongo = &down

	if res, out := g.As(tablet, "GET", "/kiosk/api/desk", nil); res.StatusCode != 200 || out["officer"] != "Phạm Thị Dung" {
		t.Fatalf("desk while MongoDB is down: %d %v", res.StatusCode, out)
	}
	res, p := g.As(tablet, "GET", "/kiosk/api/next?after=0&wait=1", nil)
	if res.StatusCode != 200 || p["dossier_code"] != "H49-DOWN-1" {
		t.Fatalf("next while MongoDB is down: %d %v", res.StatusCode, p)
	}
	answer := map[string]any{"idempotency_key": "down-key-1", "invitation_id": p["invitation_id"], "seq": p["seq"], "answers": map[string]int{"A": 5, "B": 5, "C": 5, "D": 4, "E": 5}}
	if res, out := g.As(tablet, "POST", "/kiosk/api/answer", answer); res.StatusCode != 200 || out["outcome"] != "recorded" {
		t.Fatalf("answer while MongoDB is down: %d %v", res.StatusCode, out)
	}
	g.Core.Mongo = up
	g.Drain()
	if inv := g.MustInvitation("H49-DOWN-1"); inv.Status != "completed" || inv.CompletedVia != "kiosk.quay-4.pham-thi-dung" {
		t.Fatalf("after the outage: %s via %s", inv.Status, inv.CompletedVia)
	}
}

// A dossier presented unanswered counts once as sent on the kiosk in the
// response rates; one answered elsewhere before it was presented does
// not. A rebuild counts the same, from the record of where each dossier
// was presented: the live count comes from events a rebuild does not see.
func TestKioskSendsCountTheSameInARebuild(t *testing.T) {
	g := gwtest.New(t, "")
	g.Tree(t)
	deskWithTablet(t, g, "quay-5", "000.00.12.H49", "")
	present := func(dossier string) {
		if res, out := g.API("POST", "/api/v1/desks/quay-5/present", map[string]any{"dossier_code": dossier}); res.StatusCode != 200 {
			t.Fatalf("present %s: %d %v", dossier, res.StatusCode, out)
		}
	}
	present("H49-RR-1")
	present("H49-RR-1")
	present("H49-RR-2")
	inv := g.Invite("H49-RR-3", "000.00.12.H49", map[string]any{"survey": "sipas-5"})
	if res := g.Form("/s/"+gwtest.Token(inv), "A=5&B=4&C=5&D=4&E=3"); res.StatusCode != 303 {
		t.Fatalf("web answer: %d", res.StatusCode)
	}
	g.Drain()
	present("H49-RR-3") // answered: the kiosk says so and asks nothing
	g.Drain()
	sent := func(when string) {
		_, rep := g.API("GET", "/api/v1/reports/sipas", nil)
		rates, _ := rep["invitations"].(map[string]any)
		kiosk, _ := rates["by_channel"].(map[string]any)["kiosk"].(map[string]any)
		if kiosk["sent"] != 2.0 {
			t.Fatalf("%s: sent on the kiosk %v, want 2 (%v)", when, kiosk["sent"], rates)
		}
	}
	sent("counted live")
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("the live roll-ups differ from a rebuild: %v %v", diff, err)
	}
	if _, err := g.Applier.Rebuild(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent("rebuilt")
}
