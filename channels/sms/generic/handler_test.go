package generic_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/internal/testenv"
	"github.com/sipasvn/gateway/store"
)

const secret = "generic-channel-secret"

func setup(t *testing.T) (*gwtest.Gateway, *smstest.Fake) {
	g := gwtest.New(t, "https://ks.example.vn")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	return g, fake
}

// mo builds a signed webhook request from a body.
func mo(body string, sign bool) *http.Request {
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sign {
		req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
	}
	return req
}

func testdata(t *testing.T, name string) string {
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func text(from, id, txt string) string {
	b, _ := json.Marshal(map[string]string{"id": id, "from": from, "to": "8079", "text": txt})
	return string(b)
}

// replies reads the synchronous answer's texts.
func replies(t *testing.T, g *gwtest.Gateway, body string) []string {
	t.Helper()
	res := g.Do(mo(body, true))
	var out struct {
		Replies []struct{ To, Text string } `json:"replies"`
	}
	b := gwtest.Body(res)
	if res.StatusCode != 200 || json.Unmarshal([]byte(b), &out) != nil {
		t.Fatalf("webhook: %d %s", res.StatusCode, b)
	}
	var texts []string
	for _, r := range out.Replies {
		if !strings.HasPrefix(r.To, "849") || len(r.To) != 11 {
			t.Fatalf("reply to %q", r.To)
		}
		texts = append(texts, r.Text)
	}
	return texts
}

func TestChannelConfiguration(t *testing.T) {
	g, fake := setup(t)
	res, ch := g.API("GET", "/api/v1/channels/gen", nil)
	if res.StatusCode != 200 || fmt.Sprint(ch["secrets_set"]) != "[secret]" || strings.Contains(fmt.Sprint(ch), secret) {
		t.Fatalf("GET channel: %d %v", res.StatusCode, ch)
	}
	if ch["webhook_url"] != "https://ks.example.vn/webhooks/sms/gen" {
		t.Fatalf("webhook_url %v", ch["webhook_url"])
	}
	raw, _ := g.Mongo.DB.Collection("channels").FindOne(t.Context(), map[string]any{"_id": "gen"}).Raw()
	if strings.Contains(raw.String(), secret) {
		t.Fatal("the secret is stored in the clear")
	}
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"type": "sms.nope"}, "type"},
		{map[string]any{"type": "sms.generic", "secrets": map[string]any{"secret": secret}}, "settings.send_url"},
		{map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": "ftp://x"}, "secrets": map[string]any{"secret": secret}}, "settings.send_url"},
		{map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL, "colour": "red"}, "secrets": map[string]any{"secret": secret}}, "settings.colour"},
		{map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL}}, "secrets.secret"},
		{map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL}, "secrets": map[string]any{"secret": "x"}}, "secrets.secret"}, // too short to sign
		{map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL}, "secrets": map[string]any{"secret": secret, "token": "y"}}, "secrets.token"},
	} {
		res, out := g.API("PUT", "/api/v1/channels/other", tc.body)
		if e, _ := out["error"].(map[string]any); res.StatusCode != 400 || e["field"] != tc.field {
			t.Errorf("%v: %d %v", tc.body, res.StatusCode, out)
		}
	}
	// Settings change without resending the secret; it is kept.
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL + "/v2", "default": true}})
	if res := g.Do(mo(testdata(t, "mo_words.json"), true)); res.StatusCode != 200 {
		t.Fatalf("secret lost on update: %d", res.StatusCode)
	}
	if res, _ := g.API("DELETE", "/api/v1/channels/gen", nil); res.StatusCode != 204 {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := g.Do(mo(testdata(t, "mo_words.json"), true)); res.StatusCode != 404 {
		t.Fatalf("webhook of a deleted channel: %d", res.StatusCode)
	}
}

func TestWebhookCases(t *testing.T) {
	g, _ := setup(t)
	g.Invite("D-GEN-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	smstest.Run(t, g, []smstest.Case{
		{Name: "missing signature", Req: func() *http.Request { return mo(testdata(t, "mo_all_scores.json"), false) }, Status: 401, Body: `"unauthenticated"`},
		{Name: "bad signature", Req: func() *http.Request {
			r := mo(testdata(t, "mo_all_scores.json"), false)
			r.Header.Set("X-Signature", generic.Sign("wrong", []byte(testdata(t, "mo_all_scores.json"))))
			return r
		}, Status: 401, Body: `"unauthenticated"`},
		{Name: "not JSON", Req: func() *http.Request { return mo(testdata(t, "mo_not_json.txt"), true) }, Status: 400, Body: `invalid_argument`},
		{Name: "no id", Req: func() *http.Request { return mo(testdata(t, "mo_no_id.json"), true) }, Status: 400, Body: `"field":"id"`},
		{Name: "unknown channel", Req: func() *http.Request {
			return httptest.NewRequest("POST", "/webhooks/sms/nope", strings.NewReader("{}"))
		}, Status: 404, Body: `not_found`},
		{Name: "foreign number ignored", Req: func() *http.Request { return mo(testdata(t, "mo_foreign_number.json"), true) }, Status: 200, Body: `"replies":[]`},
	})
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses stored from refused webhooks", n)
	}
	smstest.Run(t, g, []smstest.Case{
		{Name: "all scores", Req: func() *http.Request { return mo(testdata(t, "mo_all_scores.json"), true) }, Status: 200, Body: `"text":"Cam on ong/ba da danh gia!`},
		{Name: "same message again: the same thanks", Req: func() *http.Request { return mo(testdata(t, "mo_all_scores.json"), true) }, Status: 200, Body: `"text":"Cam on ong/ba da danh gia!`},
	})
	if n := smstest.Responses(t, g); n != 1 {
		t.Fatalf("%d responses, want 1", n)
	}
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), invID(t, g, "D-GEN-1"))
	if err != nil || r.Survey != "sipas-5" || r.Channel != "sms" || r.Comment != "can bo nhiet tinh" || r.Answers[1].Score != 4 || r.Respondent == "" {
		t.Fatalf("response %+v %v", r, err)
	}
}

func invID(t *testing.T, g *gwtest.Gateway, dossier string) string {
	inv, err := g.Mongo.Invitations.ByDossier(t.Context(), dossier)
	if err != nil {
		t.Fatal(err)
	}
	return inv.ID
}

// An operator sends an invitation by SMS; the citizen answers in one reply;
// the report counts it. Two messages are sent in all.
func TestInvitationBySMSOneReply(t *testing.T) {
	g, fake := setup(t)
	inv := g.Invite("000.00.12.H49-261125-0001", "000.00.12.H49", map[string]any{"phone": "0912 345 678", "send": []string{"sms"}})
	if s := inv["sends"].(map[string]any)["gen"].(map[string]any); s["status"] != "queued" {
		t.Fatalf("send status %v", s)
	}
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d sends", len(reqs))
	}
	var sent struct{ ID, To, Text string }
	_ = json.Unmarshal([]byte(reqs[0].Body), &sent)
	if reqs[0].Header.Get("X-Signature") != generic.Sign(secret, []byte(reqs[0].Body)) || sent.To != "84912345678" {
		t.Fatalf("send request %+v", reqs[0])
	}
	if !strings.Contains(sent.Text, "Nhan 5 so 1-5") || !strings.Contains(sent.Text, inv["survey_url"].(string)) || len(sent.Text) > 160 {
		t.Fatalf("invitation text (%d chars): %q", len(sent.Text), sent.Text)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if s := got["sends"].(map[string]any)["gen"].(map[string]any); s["status"] != "sent" || s["parts"] != 1.0 {
		t.Fatalf("after send: %v", s)
	}

	if r := replies(t, g, text("0912345678", "m1", "5 4 5 4 5")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("replies %v", r)
	}
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&channel=sms", nil)
	if rep["responses"] != 1.0 || rep["overall"].(map[string]any)["mean_score"] != 4.6 {
		t.Fatalf("report %v", rep)
	}
	// The response rate comes from roll-ups: made, sent and completed once
	// each, though the creation is asked for again and the send retold.
	if res, _ := g.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "000.00.12.H49-261125-0001", "agency_code": "000.00.12.H49"}); res.StatusCode != 200 {
		t.Fatalf("repeated create: %d", res.StatusCode)
	}
	if err := g.Core.NoteSent(t.Context(), g.MustInvitation("000.00.12.H49-261125-0001"), "sms"); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	// The rate is the invitation's survey's (sipas), though the SMS
	// answered its short form.
	_, rep = g.API("GET", "/api/v1/reports/sipas?survey=sipas", nil)
	rates := rep["invitations"].(map[string]any)
	if sms := rates["by_channel"].(map[string]any)["sms"].(map[string]any); rates["created"] != 1.0 || sms["sent"] != 1.0 || sms["completed"] != 1.0 || sms["response_rate"] != 100.0 {
		t.Fatalf("response rates %v", rates)
	}
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("roll-ups differ from a rebuild: %v %v", diff, err)
	}
	_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
	if msgs["parts"] != 2.0 || kinds(msgs) != "invite received reply" || msgs["phone_masked"] != "84******678" {
		t.Fatalf("a one-reply survey cost %v parts: %v", msgs["parts"], msgs)
	}
	lines := msgs["messages"].([]any)
	if sent := lines[0].(map[string]any)["text"].(string); !strings.HasSuffix(sent, "https://ks.example.vn/s/…") || strings.Contains(sent, gwtest.Token(inv)) {
		t.Fatalf("the transcript keeps the survey link's token: %q", sent)
	}
	if got := lines[1].(map[string]any)["text"]; got != "5 4 5 4 5" {
		t.Fatalf("received %q", got)
	}
	_, got = g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got["status"] != "completed" || got["completed_via"] != "sms" {
		t.Fatalf("invitation %v", got)
	}
}

func TestOneScoreAtATimeConversation(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-STEP", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	steps := []struct{ in, want string }{
		{"5", "Cau 2/5"}, {"hai long", "Cau 3/5"}, {"xin chao", "Chua doc duoc"}, {"ok", "Chua doc duoc. Cau 3/5"},
		{"HD", "Nhan 5 so 1-5 cho"}, {"binh thuong", "Cau 4/5"}, {"0", "Cau 5/5"}, {"rhl phong cho nong", "Cam on"},
		{"5", "da duoc tra loi"}, {"5", ""},
	}
	for i, s := range steps {
		r := replies(t, g, text("0912345678", fmt.Sprint("s", i), s.in))
		if (s.want == "" && len(r) != 0) || (s.want != "" && (len(r) != 1 || !strings.Contains(r[0], s.want))) {
			t.Fatalf("reply %d %q: got %v, want %q", i, s.in, r, s.want)
		}
	}
	g.Flush()
	resp, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || resp.Comment != "phong cho nong" {
		t.Fatalf("%+v %v", resp, err)
	}
	want := []int{5, 4, 3, 0, 5}
	for i, a := range resp.Answers {
		if a.Score != want[i] {
			t.Fatalf("answers %+v", resp.Answers)
		}
	}
	g.Drain() // message records reach MongoDB from a Redis stream
	_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
	// 4 questions, a hint, the third question again with the survey link
	// (2 parts), a help, the thanks and one "already answered".
	t.Logf("one score at a time (with a hint, a help and a late reply): %v parts sent", msgs["parts"])
	if msgs["parts"] != 10.0 {
		t.Fatalf("parts %v", msgs["parts"])
	}
}

func TestOptOutAndDossierStart(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-OPT", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	if r := replies(t, g, text("0912345678", "o1", "HUY")); len(r) != 1 || !strings.Contains(r[0], "khong nhan them") {
		t.Fatalf("opt out reply %v", r)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	if got["status"] != "opted_out" {
		t.Fatalf("status %v", got["status"])
	}
	// A later invitation to the same number is not sent.
	later := g.Invite("D-OPT-2", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"gen"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, got = g.API("GET", "/api/v1/invitations/"+later["id"].(string), nil)
	if s := got["sends"].(map[string]any)["gen"].(map[string]any); s["status"] != "skipped" {
		t.Fatalf("send to an opted-out number: %v", s)
	}
	// DG <code> from another phone is refused for an invitation with a phone;
	// from its own phone it starts (and withdraws the opt-out).
	if r := replies(t, g, text("0987654321", "d1", "DG D-OPT-2")); len(r) != 1 || !strings.Contains(r[0], "Khong tim thay") {
		t.Fatalf("DG from another phone: %v", r)
	}
	if r := replies(t, g, text("0912345678", "d2", "DG D-OPT-2")); len(r) != 1 || !strings.HasPrefix(r[0], "Nhan 5 so") {
		t.Fatalf("DG: %v", r)
	}
	if r := replies(t, g, text("0912345678", "d3", "54545")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("after DG: %v", r)
	}
	// An invitation without a phone can be started from any phone.
	g.Invite("D-NOPHONE", "000.00.12.H49", map[string]any{"survey": "overall"})
	if r := replies(t, g, text("0987654321", "d4", "dg D-NOPHONE")); len(r) != 1 || !strings.HasPrefix(r[0], "Nhan 1 so") {
		t.Fatalf("DG without phone: %v", r)
	}
	if r := replies(t, g, text("0987654321", "d5", "rat hai long")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("overall by SMS: %v", r)
	}
	// A stranger with nothing open hears one hint, then nothing.
	if r := replies(t, g, text("0977777777", "x1", "5")); len(r) != 1 || !strings.Contains(r[0], "DG <ma ho so>") {
		t.Fatalf("stranger: %v", r)
	}
	if r := replies(t, g, text("0977777777", "x2", "5")); len(r) != 0 {
		t.Fatalf("stranger again: %v", r)
	}
}

// With MongoDB down, a citizen's SMS answers an invitation no one opened
// yet: its working copy, the citizen's index and the channel are in Redis
// and in the process; the answer, the message records and the counts
// reach MongoDB when it is back.
func TestRepliesWhileMongoDBIsDown(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-DOWN", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	if err := g.Core.WarmChannels(t.Context()); err != nil { // as the gateway does at start
		t.Fatal(err)
	}
	gone, err := store.OpenMongo(t.Context(), testenv.MongoURI(t), g.Mongo.DB.Name())
	if err != nil {
		t.Fatal(err)
	}
	_ = gone.Close(t.Context())
	g.Core.Mongo = gone // every MongoDB call now fails
	if r := replies(t, g, text("0912345678", "down-1", "5 4 5 4 5")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("replies while MongoDB is down: %v", r)
	}

	g.Core.Mongo = g.Mongo
	if _, err := g.Core.DrainOutbox(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	g.Drain()
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
	if got["status"] != "completed" || got["completed_via"] != "sms" || kinds(msgs) != "received reply" {
		t.Fatalf("after MongoDB is back: %v, messages %v", got, msgs)
	}
}

// The same message delivered 100 times at once has one effect, and every
// delivery is answered as the first; different messages from one phone at
// once lose no answer. (Without the per-phone rate limit: 100 deliveries
// from one phone would pass it.)
func TestConcurrentDeliveries(t *testing.T) {
	g, _ := setup(t)
	g.Core.PhoneRate = 0 // what gwtest.NoRateLimits sets
	inv := g.Invite("D-RACE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	var wg sync.WaitGroup
	var mu sync.Mutex
	answers := map[string]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := replies(t, g, text("0912345678", "dup-1", "5"))
			mu.Lock()
			answers[strings.Join(r, "|")]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	for a, n := range answers {
		if !strings.Contains(a, "Cau 2/5") || n != 100 {
			t.Fatalf("100 deliveries of one message were answered %v", answers)
		}
	}
	// Questions 2..5 arrive at once as separate messages.
	for i, s := range []string{"4", "3", "2", "1"} {
		wg.Add(1)
		go func() { defer wg.Done(); replies(t, g, text("0912345678", fmt.Sprint("par-", i), s)) }()
	}
	wg.Wait()
	g.Flush()
	resp, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil {
		t.Fatalf("no response after five answers: %v", err)
	}
	seen := map[int]int{}
	for _, a := range resp.Answers {
		seen[a.Score]++
	}
	if resp.Answers[0].Score != 5 || seen[1] != 1 || seen[2] != 1 || seen[3] != 1 || seen[4] != 1 {
		t.Fatalf("answers %+v", resp.Answers)
	}
	if n := smstest.Responses(t, g); n != 1 {
		t.Fatalf("%d responses", n)
	}
}

// Item 12: deliveries of a completing message racing each other store one
// response and all thank the citizen (none says "already answered"), with
// one reply recorded and nothing sent through the send queue.
func TestConcurrentCompletingDeliveriesAllThank(t *testing.T) {
	g, fake := setup(t)
	g.Core.PhoneRate = 0
	inv := g.Invite("D-RACE-5", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	for round := 0; round < 5; round++ { // the race is not lost every time: run it a few times
		dossier := fmt.Sprint("D-RACE-5-", round)
		if round > 0 {
			inv = g.Invite(dossier, "000.00.12.H49", map[string]any{"phone": "0912345678"})
		}
		var wg sync.WaitGroup
		got := make([][]string, 10)
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got[i] = replies(t, g, text("0912345678", fmt.Sprint("all-", round), "5 4 5 4 5"))
			}()
		}
		wg.Wait()
		for i, r := range got {
			if len(r) != 1 || !strings.HasPrefix(r[0], "Cam on ong/ba da danh gia!") {
				t.Fatalf("round %d, delivery %d answered %q", round, i, r)
			}
		}
		g.Drain()
		_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
		if kinds(msgs) != "received reply" {
			t.Fatalf("round %d: %v", round, msgs)
		}
	}
	if n := smstest.Responses(t, g); n != 5 {
		t.Fatalf("%d responses from 5 messages", n)
	}
	if n := len(fake.Requests()); n != 0 {
		t.Fatalf("%d SMS sent through the provider's API", n)
	}
}

// With settings.max_age, received_at is required and must be fresh; it is
// under the signature like the rest of the body.
func TestReceivedAtIsCheckedWhenMaxAgeIsSet(t *testing.T) {
	g, fake := setup(t)
	g.Invite("D-AGE", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	at := func(id string, d time.Duration) func() *http.Request {
		return func() *http.Request {
			b, _ := json.Marshal(map[string]string{"id": id, "from": "0912345678", "text": "5", "received_at": time.Now().Add(d).Format(time.RFC3339)})
			return mo(string(b), true)
		}
	}
	smstest.Run(t, g, []smstest.Case{ // off unless set
		{Name: "a day old, no max_age", Req: at("age-1", -24*time.Hour), Status: 200, Body: "Cau 2/5"},
	})
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic", "settings": map[string]any{"send_url": fake.URL, "max_age": "5m", "default": true}})
	smstest.Run(t, g, []smstest.Case{
		{Name: "no received_at", Req: func() *http.Request { return mo(text("0912345678", "age-2", "5"), true) }, Status: 400, Body: `"field":"received_at"`},
		{Name: "stale", Req: at("age-3", -6*time.Minute), Status: 400, Body: `"field":"received_at"`},
		{Name: "ahead", Req: at("age-4", 3*time.Minute), Status: 400, Body: `"field":"received_at"`},
		{Name: "fresh", Req: at("age-5", -4*time.Minute), Status: 200, Body: "Cau 3/5"},
	})
}

func TestSendFailuresAreTypedAndRetried(t *testing.T) {
	g, fake := setup(t)
	fake.SetReply(503, "busy")
	inv := g.Invite("D-RETRY", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, got := g.API("GET", "/api/v1/invitations/"+inv["id"].(string), nil)
	s := got["sends"].(map[string]any)["gen"].(map[string]any)
	if s["status"] != "retrying" || !strings.Contains(s["error"].(string), "HTTP 503") {
		t.Fatalf("after 503: %v", s)
	}
	if n, _ := g.Core.Queue.Len(t.Context()); n != 1 {
		t.Fatalf("queue holds %d jobs", n)
	}
	fake.SetReply(400, "bad number")
	inv2 := g.Invite("D-FAIL", "000.00.12.H49", map[string]any{"phone": "0987654321", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, got = g.API("GET", "/api/v1/invitations/"+inv2["id"].(string), nil)
	if s := got["sends"].(map[string]any)["gen"].(map[string]any); s["status"] != "failed" || !strings.Contains(s["error"].(string), "bad number") {
		t.Fatalf("after 400: %v", s)
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"mo_all_scores.json", "mo_words.json", "mo_not_json.txt", "mo_no_id.json", "mo_foreign_number.json"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := generic.Parse(body)
		if err == nil && (m.ID == "" || m.From == "") {
			t.Fatalf("accepted %q without id or sender", body)
		}
	})
}

// Sent by SMS and answered one score at a time: invitation, four questions
// and the thanks, six messages of one part each.
func TestOneAtATimeCostsSixMessages(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-SIX", "000.00.12.H49", map[string]any{"phone": "0912345678", "send": []string{"sms"}})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	for i, s := range []string{"5", "4", "5", "4", "5"} {
		if r := replies(t, g, text("0912345678", fmt.Sprint("six-", i), s)); len(r) != 1 {
			t.Fatalf("reply %d: %v", i, r)
		}
	}
	g.Drain()
	_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
	if msgs["parts"] != 6.0 || kinds(msgs) != "invite"+strings.Repeat(" received reply", 5) {
		t.Fatalf("one score at a time cost %v parts: %v", msgs["parts"], msgs)
	}
}

// A conversation whose invitation was answered on the web meanwhile moves to
// the citizen's newer invitation instead of answering the closed one.
func TestReplyGoesToTheNewerInvitation(t *testing.T) {
	g, _ := setup(t)
	a := g.Invite("D-OLD", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	replies(t, g, text("0912345678", "n1", "5"))
	res := g.Form("/s/"+gwtest.Token(a), "A1=5&A2=5&A3=5&A4=5&B1=5&B2=5&B3=5&B4=5&B5=5&C1=5&C2=5&C3=5&C4=5&C5=5&C6=5&D1=5&D2=5&D3=5&E1=5&E2=5&E3=5&E4=5")
	if res.StatusCode != 303 {
		t.Fatalf("web submit %d", res.StatusCode)
	}
	b := g.Invite("D-NEW", "000.00.13.H49", map[string]any{"phone": "0912345678"})
	if r := replies(t, g, text("0912345678", "n2", "4 4 4 4 4")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("replies %v", r)
	}
	g.Flush()
	resp, err := g.Mongo.Responses.ByInvitation(t.Context(), b["id"].(string))
	if err != nil || resp.AgencyCode != "000.00.13.H49" || resp.Answers[0].Score != 4 {
		t.Fatalf("%+v %v", resp, err)
	}
}

// Repeating a create with send asks for sends that were never made.
func TestRepeatedCreateSendsWhereNothingWasSent(t *testing.T) {
	g, fake := setup(t)
	g.Invite("D-REPEAT", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	res, inv := g.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "D-REPEAT", "agency_code": "000.00.12.H49", "phone": "0912345678", "send": []string{"sms"}})
	if res.StatusCode != 200 || inv["sends"].(map[string]any)["gen"].(map[string]any)["status"] != "queued" {
		t.Fatalf("repeat with send: %d %v", res.StatusCode, inv)
	}
	_ = g.Sender.Drain(t.Context())
	g.API("POST", "/api/v1/invitations", map[string]any{"dossier_code": "D-REPEAT", "agency_code": "000.00.12.H49", "phone": "0912345678", "send": []string{"sms"}})
	_ = g.Sender.Drain(t.Context())
	if n := len(fake.Requests()); n != 1 {
		t.Fatalf("%d sends for one invitation", n)
	}
}

func TestChannelTestMessage(t *testing.T) {
	g, fake := setup(t)
	if res, out := g.API("POST", "/api/v1/channels/gen/test", nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "phone" {
		t.Fatalf("no phone: %d %v", res.StatusCode, out)
	}
	res, out := g.API("POST", "/api/v1/channels/gen/test", map[string]any{"phone": "0912 345 678"})
	if res.StatusCode != 200 || out["ok"] != true || len(fake.Requests()) != 1 || !strings.Contains(fake.Requests()[0].Body, "Test message") {
		t.Fatalf("test message: %d %v", res.StatusCode, out)
	}
	if strings.Contains(fmt.Sprint(out), "912345678") {
		t.Fatalf("the answer shows the whole phone number: %v", out)
	}
	fake.SetReply(401, "bad secret")
	if res, out := g.API("POST", "/api/v1/channels/gen/test", map[string]any{"phone": "0912345678"}); res.StatusCode != 502 || !strings.Contains(out["error"].(string), "bad secret") {
		t.Fatalf("failing provider: %d %v", res.StatusCode, out)
	}
}

func TestInboundSMSIsRateLimitedPerPhone(t *testing.T) {
	g, _ := setup(t)
	g.Core.PhoneRate = 2
	g.Invite("D-RL", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	replies(t, g, text("0912345678", "rl-1", "5"))
	replies(t, g, text("0912345678", "rl-2", "4"))
	res := g.Do(mo(text("0912345678", "rl-3", "5"), true))
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(gwtest.Body(res), "rate_limited") {
		t.Fatalf("third message in the hour: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Another phone is not affected.
	replies(t, g, text("0987654321", "rl-4", "5"))
}

// Without Redis the webhook answers 503, so the provider retries later.
func TestWebhookWithoutRedisAsksTheProviderToRetry(t *testing.T) {
	g, _ := setup(t)
	g.Invite("D-NOREDIS", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	dead := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	g.Core.Conversations = &store.Conversations{R: dead, TTL: time.Hour}
	res := g.Do(mo(text("0912345678", "nr-1", "5 5 5 5 5"), true))
	if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("webhook without Redis: %d %s", res.StatusCode, gwtest.Body(res))
	}
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses", n)
	}
}

// A reply the reader is unsure of is asked back in one SMS, counted like
// any reply, and nothing is stored until the citizen confirms.
func TestUnsureReplyIsConfirmedFirst(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-CONFIRM", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	r := replies(t, g, text("0912345678", "cf-1", "Dạ 54 545 ạ"))
	if len(r) != 1 || r[0] != "Ong/ba cham A5 B4 C5 D4 E5? Tra loi C de xac nhan, hoac gui lai diem." {
		t.Fatalf("asked back: %v", r)
	}
	if n := smstest.Responses(t, g); n != 0 {
		t.Fatalf("%d responses stored before the confirmation", n)
	}
	if r := replies(t, g, text("0912345678", "cf-2", "C")); len(r) != 1 || !strings.HasPrefix(r[0], "Cam on") {
		t.Fatalf("after C: %v", r)
	}
	g.Drain()
	resp, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || resp.Answers[1].Score != 4 || resp.Answers[4].Score != 5 {
		t.Fatalf("%+v %v", resp, err)
	}
	_, msgs := g.API("GET", "/api/v1/invitations/"+inv["id"].(string)+"/messages", nil)
	if msgs["parts"] != 2.0 {
		t.Fatalf("the confirmation and the thanks should cost 2 parts: %v", msgs)
	}
}

// A reply the reader cannot read is kept for operators, phone masked; the
// rated agency's own operators cannot enter what it meant, a parent's can,
// and then it counts like any answer, marked as read by an operator.
func TestNotUnderstoodRepliesAreReadByAParentAgency(t *testing.T) {
	g, _ := setup(t)
	for _, a := range [][2]string{{"000.00.00.H49", ""}, {"000.00.12.H49", "000.00.00.H49"}} {
		if res, out := g.API("PUT", "/api/v1/agencies/"+a[0], map[string]any{"name": "Đơn vị " + a[0], "parent": a[1]}); res.StatusCode != 200 {
			t.Fatalf("agency: %d %v", res.StatusCode, out)
		}
	}
	keyOf := func(agency string) string {
		_, out := g.API("POST", "/api/v1/keys", map[string]any{"name": "k " + agency, "role": "agency", "agency": agency})
		return out["key"].(string)
	}
	own, parent := keyOf("000.00.12.H49"), keyOf("000.00.00.H49")
	inv := g.Invite("D-UNREAD", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	msg := "Cán bộ tận tình lắm, tôi rất ưng"
	if r := replies(t, g, text("0912345678", "ur-1", msg)); len(r) != 1 || !strings.HasPrefix(r[0], "Chua doc duoc") {
		t.Fatalf("hint: %v", r)
	}
	replies(t, g, text("0912345678", "ur-1", msg)) // delivered twice: kept once
	g.Drain()

	res, out := g.As(own, "GET", "/api/v1/unread-replies", nil)
	list, _ := out["replies"].([]any)
	if res.StatusCode != 200 || len(list) != 1 {
		t.Fatalf("list: %d %v", res.StatusCode, out)
	}
	u := list[0].(map[string]any)
	if u["text"] != msg || u["phone_masked"] != "84******678" || u["agency_code"] != "000.00.12.H49" || u["status"] != "open" || strings.Contains(gwtest.Body(res), "912345678") {
		t.Fatalf("kept reply: %v", u)
	}
	id := u["id"].(string)
	scores := map[string]any{"A": 5, "B": 5, "C": 5, "D": 5, "E": 0}
	if res, out := g.As(own, "POST", "/api/v1/unread-replies/"+id+"/resolve", map[string]any{"scores": scores}); res.StatusCode != 403 {
		t.Fatalf("the rated agency resolved its own reply: %d %v", res.StatusCode, out)
	}
	if res, out := g.As(parent, "POST", "/api/v1/unread-replies/"+id+"/resolve", map[string]any{"scores": map[string]any{"A": 5, "B": 9}}); res.StatusCode != 400 {
		t.Fatalf("bad scores: %d %v", res.StatusCode, out)
	}
	res, out = g.As(parent, "POST", "/api/v1/unread-replies/"+id+"/resolve", map[string]any{"scores": scores, "comment": "Cán bộ tận tình"})
	if res.StatusCode != 200 || out["reply"].(map[string]any)["status"] != "resolved" {
		t.Fatalf("resolve: %d %v", res.StatusCode, out)
	}
	if tc := out["reply"].(map[string]any)["test_case"]; tc != `{"", "Cán bộ tận tình lắm, tôi rất ưng", "S:5,5,5,5,0|Cán bộ tận tình"},` {
		t.Fatalf("test case: %v", tc)
	}
	if res, _ := g.As(parent, "POST", "/api/v1/unread-replies/"+id+"/resolve", map[string]any{"scores": scores}); res.StatusCode != 409 {
		t.Fatalf("resolved twice: %d", res.StatusCode)
	}
	g.Drain()
	resp, err := g.Mongo.Responses.ByInvitation(t.Context(), inv["id"].(string))
	if err != nil || resp.Channel != "sms" || resp.CitizenText != msg || !strings.Contains(resp.EnteredBy, "k 000.00.00.H49") || resp.Answers[4].Score != 0 {
		t.Fatalf("response %+v %v", resp, err)
	}
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5", nil)
	if rep["responses"] != 1.0 || rep["read_by_operators"] != 1.0 {
		t.Fatalf("report: %v", rep)
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	if !strings.Contains(fmt.Sprint(audit), "unread.resolve") {
		t.Fatalf("audit: %v", audit)
	}
}

// kinds lists the kinds of a conversation's lines, in order.
func kinds(conv map[string]any) string {
	var k []string
	for _, l := range conv["messages"].([]any) {
		k = append(k, l.(map[string]any)["kind"].(string))
	}
	return strings.Join(k, " ")
}

// A conversation is kept with its texts: a phone number the citizen wrote is
// redacted, a delivery retried adds nothing, another agency's key cannot
// read it, and erasure and the retention sweep delete it.
func TestConversationTranscript(t *testing.T) {
	g, _ := setup(t)
	inv := g.Invite("D-CONV", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	msg := text("0912345678", "conv-1", "5 4 5 4 5 can bo nhiet tinh, goi lai 0987 654 321 nhe")
	replies(t, g, msg)
	replies(t, g, msg) // the provider delivers it again
	g.Drain()
	path := "/api/v1/invitations/" + inv["id"].(string) + "/messages"
	_, conv := g.API("GET", path, nil)
	if kinds(conv) != "received reply" {
		t.Fatalf("conversation %v", conv)
	}
	got := conv["messages"].([]any)[0].(map[string]any)["text"].(string)
	if got != "5 4 5 4 5 can bo nhiet tinh, goi lai [số điện thoại] nhe" {
		t.Fatalf("received text kept as %q", got)
	}
	if res, _ := g.API("PUT", "/api/v1/agencies/000.00.13.H49", map[string]any{"name": "Sở Xây dựng"}); res.StatusCode != 200 {
		t.Fatal(res.StatusCode)
	}
	_, k := g.API("POST", "/api/v1/keys", map[string]any{"name": "other", "role": "agency", "agency": "000.00.13.H49"})
	if res, out := g.As(k["key"].(string), "GET", path, nil); res.StatusCode != 403 {
		t.Fatalf("another agency read the conversation: %d %v", res.StatusCode, out)
	}
	g.Core.Clock = func() time.Time { return time.Now().Add(200 * 24 * time.Hour) }
	if n, err := g.Core.Sweep(t.Context(), 180*24*time.Hour); err != nil || n.Transcripts != 1 {
		t.Fatalf("retention sweep: %+v %v", n, err)
	}
	g.Core.Clock = nil
	if _, conv = g.API("GET", path, nil); kinds(conv) != "" {
		t.Fatalf("after the sweep: %v", conv)
	}
	// Erasure deletes the texts of a person's conversations.
	replies(t, g, text("0912345678", "conv-2", "cam on"))
	g.Drain()
	if _, conv = g.API("GET", path, nil); kinds(conv) == "" {
		t.Fatalf("no line after a new message: %v", conv)
	}
	if res, out := g.API("POST", "/api/v1/erasures", map[string]any{"phone": "0912345678"}); res.StatusCode != 200 || out["erased"].(map[string]any)["transcripts"] != 1.0 {
		t.Fatalf("erase: %d %v", res.StatusCode, out)
	}
	if _, conv = g.API("GET", path, nil); kinds(conv) != "" || conv["phone_masked"] != nil {
		t.Fatalf("after erasure: %v", conv)
	}
}
