package server_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// The follow-up loop over the API: a low answer and a complaint open one
// case each (a happy answer none, a replay no second), the agency works
// on it, answers, the answer goes out by SMS, the citizen's rating 1–3
// reopens it and 4–5 closes it; scopes, transitions and rules hold.
func TestFollowUpCases(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": "case-secret-0123456789"}})
	for _, a := range [][2]string{{"000.00.00.H49", ""}, {"000.00.12.H49", "000.00.00.H49"}, {"000.00.13.H49", "000.00.00.H49"}} {
		if res, out := g.API("PUT", "/api/v1/agencies/"+a[0], map[string]any{"name": "Đơn vị " + a[0], "parent": a[1]}); res.StatusCode != 200 {
			t.Fatalf("agency: %d %v", res.StatusCode, out)
		}
	}
	answer := func(dossier, agency, phone, scores, comment string) {
		t.Helper()
		extra := map[string]any{"survey": "sipas-5"}
		if phone != "" {
			extra["phone"] = phone
		}
		tok := gwtest.Token(g.Invite(dossier, agency, extra))
		v := url.Values{"comment": {comment}}
		for i, q := range []string{"A", "B", "C", "D", "E"} {
			v.Set(q, scores[i:i+1])
		}
		if res := g.Form("/s/"+tok, v.Encode()); res.StatusCode != 303 {
			t.Fatalf("submit %s: %d", dossier, res.StatusCode)
		}
	}
	answer("CASE-LOW", "000.00.12.H49", "0912345678", "12345", "Cán bộ cáu gắt, gọi 0987 654 321")
	answer("CASE-HAPPY", "000.00.12.H49", "", "55554", "Rất hài lòng")
	answer("CASE-COMPLAINT", "000.00.13.H49", "", "33333", "Phải chờ lâu quá")
	g.Drain()
	g.Drain() // a second pass changes nothing

	list := func(key, query string) []map[string]any {
		t.Helper()
		res, out := g.As(key, "GET", "/api/v1/cases?"+query, nil)
		if res.StatusCode != 200 {
			t.Fatalf("cases %s: %d %v", query, res.StatusCode, out)
		}
		var cs []map[string]any
		for _, c := range out["cases"].([]any) {
			cs = append(cs, c.(map[string]any))
		}
		return cs
	}
	all := list(gwtest.AdminKey, "")
	if len(all) != 2 {
		t.Fatalf("%d cases, want 2: %v", len(all), all)
	}
	byDossier := map[string]map[string]any{}
	for _, c := range all {
		byDossier[c["dossier_code"].(string)] = c
	}
	low, complaint := byDossier["CASE-LOW"], byDossier["CASE-COMPLAINT"]
	if low == nil || complaint == nil || low["reason"] != "low_score" || fmt.Sprint(low["low_criteria"]) != "[A B]" || complaint["reason"] != "complaint" {
		t.Fatalf("cases %v", all)
	}
	if low["status"] != "open" || low["overdue"] != false || strings.Contains(fmt.Sprint(low), "654 321") || strings.Contains(fmt.Sprint(low), "912345678") || !strings.Contains(low["comment"].(string), "[số điện thoại]") {
		t.Fatalf("case %v", low)
	}
	opened, _ := time.Parse(time.RFC3339, low["opened_at"].(string))
	due, _ := time.Parse(time.RFC3339, low["due_at"].(string))
	if days := due.Sub(opened).Hours() / 24; days < 5 || days > 9 {
		t.Fatalf("due %v after opening %v: not 5 working days", due, opened)
	}
	id := low["id"].(string)
	path := "/api/v1/cases/" + id

	// Scopes: the other department's key sees its own case only.
	_, k := g.API("POST", "/api/v1/keys", map[string]any{"name": "xd", "role": "agency", "agency": "000.00.13.H49"})
	other := k["key"].(string)
	if cs := list(other, ""); len(cs) != 1 || cs[0]["dossier_code"] != "CASE-COMPLAINT" {
		t.Fatalf("agency key sees %v", cs)
	}
	if res, out := g.As(other, "GET", path, nil); res.StatusCode != 403 || strings.Contains(fmt.Sprint(out), "000.00.12.H49") {
		t.Fatalf("another agency's case: %d %v", res.StatusCode, out) // refused without naming the case's agency
	}
	if res, _ := g.As(other, "POST", path+"/close", nil); res.StatusCode != 403 {
		t.Fatalf("another agency closed a case: %d", res.StatusCode)
	}
	if cs := list(gwtest.AdminKey, "criterion=B"); len(cs) != 1 || cs[0]["id"] != id {
		t.Fatalf("criterion filter %v", cs)
	}
	if res, out := g.API("GET", "/api/v1/cases?status=lost", nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "status" {
		t.Fatalf("bad status: %d %v", res.StatusCode, out)
	}

	do := func(action string, body any, want int) map[string]any {
		t.Helper()
		res, out := g.API("POST", path+"/"+action, body)
		if res.StatusCode != want {
			t.Fatalf("%s: %d %v", action, res.StatusCode, out)
		}
		return out
	}
	do("assign", map[string]any{"assignee": "Chị Lan, tổ một cửa"}, 200)
	do("status", map[string]any{"status": "in_progress"}, 200)
	do("notes", map[string]any{"text": "Đã gặp cán bộ, nhắc nhở thái độ"}, 200)
	do("answer", map[string]any{"text": ""}, 400)
	c := do("answer", map[string]any{"text": "Sở đã nhắc nhở cán bộ và xin lỗi ông/bà."}, 200)
	if c["status"] != "answered" || c["answer_send"] != "queued" || c["answered_at"] == nil {
		t.Fatalf("answered %v", c)
	}
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := fake.Requests()
	if len(sent) != 1 || !strings.Contains(sent[0].Body, "nhac nho can bo") || !strings.Contains(sent[0].Body, "1-5") {
		t.Fatalf("sent %v", sent)
	}
	_, c = g.API("GET", path, nil)
	if c["answer_send"] != "sent" {
		t.Fatalf("after sending %v", c)
	}

	// The citizen rates it 2 by SMS: reopened; answered again and rated 5: closed.
	rate := func(msgID, text string) []any {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"from":"0912345678","to":"8079","text":%q}`, msgID, text)
		req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", generic.Sign("case-secret-0123456789", []byte(body)))
		res := g.Do(req)
		var out struct{ Replies []any }
		_ = json.Unmarshal([]byte(gwtest.Body(res)), &out)
		if res.StatusCode != 200 {
			t.Fatalf("webhook %d", res.StatusCode)
		}
		return out.Replies
	}
	if r := rate("r-1", "2"); len(r) != 1 || !strings.Contains(fmt.Sprint(r), "danh gia cau tra loi") {
		t.Fatalf("rating reply %v", r)
	}
	if _, c = g.API("GET", path, nil); c["status"] != "reopened" || c["rating"] != 2.0 {
		t.Fatalf("after a rating of 2: %v", c)
	}
	do("answer", map[string]any{"text": "Sở đã đổi cán bộ tiếp nhận."}, 200)
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	rate("r-2", "5")
	if _, c = g.API("GET", path, nil); c["status"] != "closed" || c["rating"] != 5.0 || c["closed_at"] == nil {
		t.Fatalf("after a rating of 5: %v", c)
	}
	do("close", nil, 409)
	var actions []string
	for _, e := range c["history"].([]any) {
		e := e.(map[string]any)
		actions = append(actions, e["action"].(string))
		if e["action"] == "reopen" && (e["by"] != "citizen" || !strings.HasPrefix(e["detail"].(string), "due moved to")) {
			t.Fatalf("the citizen's reopen %v", e)
		}
	}
	if got := strings.Join(actions, " "); got != "opened assign status note answer answer_sent rated reopen answer answer_sent rated" {
		t.Fatalf("history %s", got)
	}
	_, audit := g.API("GET", "/api/v1/audit", nil)
	if !strings.Contains(fmt.Sprint(audit), "case.answer") {
		t.Fatalf("no audit entry: %v", audit)
	}

	// A web answer without a phone: the answer cannot be sent by SMS; the
	// survey's done page shows it, and a tap there rates it.
	cid := complaint["id"].(string)
	if _, c = g.API("POST", "/api/v1/cases/"+cid+"/answer", map[string]any{"text": "Đã bố trí thêm quầy."}); c["answer_send"] != "skipped" {
		t.Fatalf("no phone: %v", c)
	}
	inv := g.MustInvitation("CASE-COMPLAINT")
	done := gwtest.Body(g.Do(httptest.NewRequest("GET", "/s/"+inv.Token+"/done", nil)))
	if !strings.Contains(done, "Đã bố trí thêm quầy.") || !strings.Contains(done, `name="r" value="4"`) {
		t.Fatalf("done page %s", done)
	}
	if res := g.Form("/s/"+inv.Token+"/rate", "r=9"); res.StatusCode != 200 || !strings.Contains(gwtest.Body(res), `name="r" value="4"`) { // the page again, buttons and all
		t.Fatalf("a rating of 9: %d", res.StatusCode)
	}
	if _, c = g.API("GET", "/api/v1/cases/"+cid, nil); c["status"] != "answered" {
		t.Fatalf("a rating of 9 was taken: %v", c)
	}
	if res := g.Form("/s/"+inv.Token+"/rate", "r=4"); res.StatusCode != 303 {
		t.Fatalf("rate on the page: %d", res.StatusCode)
	}
	if _, c = g.API("GET", "/api/v1/cases/"+cid, nil); c["status"] != "closed" || c["rating"] != 4.0 {
		t.Fatalf("after the page's rating: %v", c)
	}

	// The figures count it: opened, first answers (in time), the working
	// days they took, the ratings; and they equal a rebuild's.
	g.Drain()
	_, rep := g.API("GET", "/api/v1/reports/sipas?survey=all&group_by=agency", nil)
	cases := rep["cases"].(map[string]any)
	if cases["opened"] != 2.0 || cases["answered"] != 2.0 || cases["answered_in_time"] != 2.0 || cases["in_time_rate"] != 100.0 ||
		cases["ratings"] != 3.0 || cases["rating_mean"] != 3.67 || cases["median_days_to_answer"] != 0.0 || len(cases["by_agency"].([]any)) != 2 {
		t.Fatalf("case figures %v", cases)
	}
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("case figures differ from a rebuild: %v %v", diff, err)
	}

	// A rule turned off for an agency opens no case there.
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.13.H49", map[string]any{"name": "Sở Xây dựng", "parent": "000.00.00.H49", "case_rule": map[string]any{"off": true}}); res.StatusCode != 200 {
		t.Fatalf("rule: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.13.H49", map[string]any{"name": "Sở Xây dựng", "case_rule": map[string]any{"max_score": 4}}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "case_rule.max_score" {
		t.Fatalf("bad rule: %d %v", res.StatusCode, out)
	}
	answer("CASE-OFF", "000.00.13.H49", "", "11111", "")
	g.Drain()
	if cs := list(gwtest.AdminKey, ""); len(cs) != 0 {
		t.Fatalf("the work list holds closed cases or one where the rule is off: %v", cs)
	}
	if cs := list(gwtest.AdminKey, "from="+store.MonthOf(time.Now())); len(cs) != 2 {
		t.Fatalf("this month's cases, closed too: %v", cs)
	}

	// A rule that watches a topic opens a case for a complaint about it,
	// whatever the scores.
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "parent": "000.00.00.H49", "case_rule": map[string]any{"topics": []string{"bribes"}}}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "case_rule.topics" {
		t.Fatalf("unknown topic: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "parent": "000.00.00.H49", "case_rule": map[string]any{"topics": []string{"payments"}}}); res.StatusCode != 200 {
		t.Fatalf("topic rule: %d %v", res.StatusCode, out)
	}
	answer("CASE-TOPIC", "000.00.12.H49", "", "55555", "Nhanh, nhưng phải bồi dưỡng cho cán bộ")
	g.Drain()
	found := false
	for _, c := range list(gwtest.AdminKey, "") {
		found = found || (c["dossier_code"] == "CASE-TOPIC" && c["reason"] == "topic")
	}
	if !found {
		t.Fatalf("no case for a watched topic: %v", list(gwtest.AdminKey, ""))
	}
}

// A case still open past its due time is escalated to the parent agency
// once: its keys see it from then on, and it is in the case's history.
func TestOverdueCasesEscalate(t *testing.T) {
	g := gwtest.New(t, "")
	for _, a := range [][2]string{{"000.00.00.H49", ""}, {"000.00.12.H49", "000.00.00.H49"}} {
		if res, out := g.API("PUT", "/api/v1/agencies/"+a[0], map[string]any{"name": "Đơn vị " + a[0], "parent": a[1]}); res.StatusCode != 200 {
			t.Fatalf("agency: %d %v", res.StatusCode, out)
		}
	}
	tok := gwtest.Token(g.Invite("ESC-1", "000.00.12.H49", map[string]any{"survey": "sipas-5"}))
	if res := g.Form("/s/"+tok, "A=1&B=1&C=1&D=1&E=1"); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	g.Drain()
	if n, err := g.Core.EscalateOverdue(t.Context()); err != nil || n != 0 {
		t.Fatalf("escalated %d before the due time (%v)", n, err)
	}
	if n, err := g.Core.RemindDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("reminded %d a week ahead (%v)", n, err)
	}
	_, one := g.API("GET", "/api/v1/cases", nil)
	due, _ := time.Parse(time.RFC3339, one["cases"].([]any)[0].(map[string]any)["due_at"].(string))
	g.Core.Clock = func() time.Time { return due.Add(-2 * time.Hour) }
	for want := range []int{1, 0} {
		if n, err := g.Core.RemindDue(t.Context()); err != nil || n != 1-want {
			t.Fatalf("reminder pass %d: %d (%v)", want, n, err)
		}
	}
	g.Core.Clock = func() time.Time { return time.Now().Add(10 * 24 * time.Hour) }
	defer func() { g.Core.Clock = nil }()
	for want := range []int{1, 0} {
		if n, err := g.Core.EscalateOverdue(t.Context()); err != nil || n != 1-want {
			t.Fatalf("pass %d escalated %d (%v)", want, n, err)
		}
	}
	_, out := g.API("GET", "/api/v1/cases?overdue=true", nil)
	cs := out["cases"].([]any)
	if len(cs) != 1 || cs[0].(map[string]any)["escalated_to"] != "000.00.00.H49" || !strings.Contains(fmt.Sprint(cs[0]), "escalated") {
		t.Fatalf("overdue cases %v", out)
	}
}

// An agency with a webhook is told of its cases, signed with its secret;
// a receiver that fails gets the notice again on a later pass; the secret
// is never shown.
func TestCaseWebhook(t *testing.T) {
	g := gwtest.New(t, "")
	var mu sync.Mutex
	var got []*http.Request
	var bodies []string
	status := 500
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, string(b))
		w.WriteHeader(status)
	}))
	defer recv.Close()
	const secret = "hook-secret-0123456789"
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "webhook": map[string]any{"url": "ftp://x", "secret": secret}}); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "webhook.url" {
		t.Fatalf("bad url: %d %v", res.StatusCode, out)
	}
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "webhook": map[string]any{"url": recv.URL + "/sipas", "secret": secret}}); res.StatusCode != 200 || strings.Contains(fmt.Sprint(out), secret) {
		t.Fatalf("webhook: %d %v", res.StatusCode, out)
	}
	tok := gwtest.Token(g.Invite("HOOK-1", "000.00.12.H49", map[string]any{"survey": "sipas-5", "phone": "0912345678"}))
	if res := g.Form("/s/"+tok, "A=1&B=2&C=3&D=4&E=5"); res.StatusCode != 303 {
		t.Fatal(res.StatusCode)
	}
	g.Drain()
	if failed, err := g.Core.DeliverNotices(t.Context(), "test", http.DefaultClient); err != nil || !failed {
		t.Fatalf("a failing receiver: failed %v, %v", failed, err)
	}
	if n, _ := g.Core.Notices.Pending(t.Context()); n != 1 {
		t.Fatalf("%d notices waiting after a failure, want 1", n)
	}
	mu.Lock()
	status = 204
	mu.Unlock()
	if failed, err := g.Core.DeliverNotices(t.Context(), "test", http.DefaultClient); err != nil || failed {
		t.Fatalf("delivery: failed %v, %v", failed, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[1].Header.Get("X-Event") != "case.opened" || got[1].URL.Path != "/sipas" {
		t.Fatalf("received %d requests", len(got))
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(bodies[1]))
	if got[1].Header.Get("X-Signature") != hex.EncodeToString(m.Sum(nil)) {
		t.Fatal("the signature does not match the body")
	}
	if !strings.Contains(bodies[1], `"dossier_code":"HOOK-1"`) || strings.Contains(bodies[1], "912345678") {
		t.Fatalf("notice %s", bodies[1])
	}
	if n, _ := g.Core.Notices.Pending(t.Context()); n != 0 {
		t.Fatalf("%d notices left", n)
	}
}

// A survey under way keeps its scores: after an answer that waits for a
// rating, a new survey's first score is that survey's, not the rating.
func TestRatingWaitsWhileASurveyIsUnderWay(t *testing.T) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	const secret = "wait-secret-0123456789"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	sms := func(id, text string) string {
		t.Helper()
		body := fmt.Sprintf(`{"id":%q,"from":"0912345678","to":"8079","text":%q}`, id, text)
		req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
		return gwtest.Body(g.Do(req))
	}
	g.Invite("WAIT-1", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	sms("w-1", "1 1 1 1 1")
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	id := list["cases"].([]any)[0].(map[string]any)["id"].(string)
	g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Đã xử lý."})
	if err := g.Sender.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	g.Invite("WAIT-2", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	if r := sms("w-2", "DG WAIT-2"); !strings.Contains(r, "Nhan 5 so 1-5") {
		t.Fatalf("a new survey: %s", r)
	}
	if r := sms("w-3", "5"); !strings.Contains(r, "Cau 2/5") {
		t.Fatalf("the survey's first score: %s", r)
	}
	if _, c := g.API("GET", "/api/v1/cases/"+id, nil); c["status"] != "answered" {
		t.Fatalf("the case was rated by a survey's score: %v", c)
	}
}
