package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// fbFixture is a gateway with a registered agency, its feedback link and
// an SMS channel whose sends a fake provider records.
type fbFixture struct {
	t     *testing.T
	g     *gwtest.Gateway
	fake  *smstest.Fake
	token string // the agency's feedback token
	addr  int    // the next client address
}

const fbAgency = "000.00.12.H49"

func newFeedback(t *testing.T) *fbFixture {
	g := gwtest.New(t, "https://ks.example.vn", gwtest.Citizens)
	f := &fbFixture{t: t, g: g, fake: smstest.NewFake(t, `{"id":"prov-1"}`)}
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": f.fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": "feedback-secret-0123456789"}})
	for _, a := range [][3]string{{"000.00.00.H49", "", "UBND tỉnh Bình Định"}, {fbAgency, "000.00.00.H49", "Sở Tư pháp tỉnh Bình Định"}} {
		if res, out := g.API("PUT", "/api/v1/agencies/"+a[0], map[string]any{"name": a[2], "name_en": "Department " + a[0], "parent": a[1], "short_name": "STP Bình Định"}); res.StatusCode != 200 {
			t.Fatalf("agency: %d %v", res.StatusCode, out)
		}
	}
	res, ag := g.API("GET", "/api/v1/agencies/"+fbAgency, nil)
	link, _ := ag["feedback_url"].(string)
	if res.StatusCode != 200 || !strings.HasPrefix(link, "https://ks.example.vn/g/"+fbAgency+"-") || link != g.Core.FeedbackURL(fbAgency) {
		t.Fatalf("agency's feedback_url: %d %v", res.StatusCode, ag)
	}
	f.token = strings.TrimPrefix(link, "https://ks.example.vn/g/")
	return f
}

// get fetches a page from the fixture's current address.
func (f *fbFixture) get(path string) (*http.Response, string) {
	f.t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("X-Forwarded-For", f.address())
	res := f.g.Do(req)
	return res, gwtest.Body(res)
}

func (f *fbFixture) address() string { return fmt.Sprintf("14.226.%d.%d", f.addr/250, 1+f.addr%250) }

// post sends a form from the fixture's current address.
func (f *fbFixture) post(path string, form url.Values) (*http.Response, string) {
	f.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", f.address())
	res := f.g.Do(req)
	return res, gwtest.Body(res)
}

var nonceField = regexp.MustCompile(`name="nonce" value="([A-Za-z0-9_-]{16})"`)

// form opens the feedback page and returns its form, one-time field set.
func (f *fbFixture) form(typ, text, phone, dossier string) url.Values {
	f.t.Helper()
	res, body := f.get("/g/" + f.token)
	m := nonceField.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		f.t.Fatalf("feedback page: %d\n%s", res.StatusCode, body)
	}
	return url.Values{"type": {typ}, "text": {text}, "phone": {phone}, "dossier_code": {dossier}, "nonce": {m[1]}, "lang": {"vi"}}
}

// send posts a feedback and returns its thank-you page's path.
func (f *fbFixture) send(form url.Values) string {
	f.t.Helper()
	res, body := f.post("/g/"+f.token, form)
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "/g/"+f.token+"/done/") {
		f.t.Fatalf("send feedback: %d %s\n%s", res.StatusCode, loc, body)
	}
	return strings.TrimSuffix(loc, "?lang=vi")
}

// cases lists the cases the API gives for query.
func (f *fbFixture) cases(query string) []map[string]any {
	f.t.Helper()
	res, out := f.g.API("GET", "/api/v1/cases?"+query, nil)
	if res.StatusCode != 200 {
		f.t.Fatalf("cases: %d %v", res.StatusCode, out)
	}
	var cs []map[string]any
	for _, c := range out["cases"].([]any) {
		cs = append(cs, c.(map[string]any))
	}
	return cs
}

// sent is what the fake provider was asked to send, from the n-th on.
func (f *fbFixture) sent(from int) []map[string]string {
	f.t.Helper()
	if err := f.g.Sender.Drain(f.t.Context()); err != nil {
		f.t.Fatal(err)
	}
	var out []map[string]string
	for _, r := range f.fake.Requests()[from:] {
		var m map[string]string
		if err := json.Unmarshal([]byte(r.Body), &m); err != nil {
			f.t.Fatalf("send body %q: %v", r.Body, err)
		}
		out = append(out, m)
	}
	return out
}

var sixDigits = regexp.MustCompile(`\b(\d{6})\b`)

// A feedback opens a case of kind feedback, listed with the others,
// classified and due like them, answerable, counted in the case figures
// as feedback, and never in the index; the form posted again opens no
// second case.
func TestFeedbackOpensACase(t *testing.T) {
	f := newFeedback(t)
	g := f.g
	_, before := g.API("GET", "/api/v1/reports/sipas?survey=all", nil)

	res, page := f.get("/g/" + f.token)
	for _, want := range []string{`<html lang="vi">`, "Hòm thư góp ý", "Gửi góp ý, phản ánh, kiến nghị", "Sở Tư pháp tỉnh Bình Định", `value="suggestion"`, `value="complaint"`, `value="recommendation"`,
		`name="text"`, `type="tel"`, `name="dossier_code"`, `href="/g/` + f.token + `?lang=en"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if res.StatusCode != 200 || strings.Contains(page, "<script") || strings.Contains(page, "style=") || res.Header.Get("Referrer-Policy") != "no-referrer" || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("page: %d %v", res.StatusCode, res.Header)
	}
	if _, en := f.get("/g/" + f.token + "?lang=en"); !strings.Contains(en, `<html lang="en">`) || !strings.Contains(en, "Suggestion box") || !strings.Contains(en, "Department "+fbAgency) {
		t.Fatalf("English page:\n%s", en)
	}
	if res, _ := f.get("/g/" + strings.ToLower(f.token)); res.StatusCode != 200 {
		t.Fatalf("the link typed in lower case: %d", res.StatusCode)
	}

	form := f.form("complaint", "Cán bộ hướng dẫn không rõ, phải chờ lâu quá. Gọi tôi: 0987 654 321", "", "  000.00.12.H49-201105-0042 ")
	done := f.send(form)
	res, page = f.get(done)
	ref := regexp.MustCompile(`id="reference">(PA\d{6}-[A-Z2-7]{8})<`).FindStringSubmatch(page)
	if res.StatusCode != 200 || ref == nil || !strings.Contains(page, "Cảm ơn ông/bà đã gửi ý kiến!") || !strings.Contains(page, "không để lại số điện thoại") || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("thank-you page: %d\n%s", res.StatusCode, page)
	}
	if again := f.send(form); again != done { // a double submit
		t.Fatalf("the same form again went to %s, not %s", again, done)
	}

	cs := f.cases("")
	if len(cs) != 1 {
		t.Fatalf("%d cases, want 1: %v", len(cs), cs)
	}
	c := cs[0]
	if c["id"] != ref[1] || c["kind"] != "feedback" || c["feedback_type"] != "complaint" || c["reason"] != "feedback" || c["status"] != "open" ||
		c["agency_code"] != fbAgency || c["given_dossier_code"] != "000.00.12.H49-201105-0042" || c["dossier_code"] != "" ||
		c["invitation_id"] != "" || c["response_id"] != "" || c["reply_phone"] != nil || c["locale"] != "vi" {
		t.Fatalf("case %v", c)
	}
	if comment := c["comment"].(string); !strings.Contains(comment, "[số điện thoại]") || strings.Contains(comment, "654 321") {
		t.Fatalf("comment not redacted: %q", comment)
	}
	if topics := fmt.Sprint(c["topics"]); !strings.Contains(topics, "waiting") {
		t.Fatalf("topics %s", topics)
	}
	opened, _ := time.Parse(time.RFC3339, c["opened_at"].(string))
	due, _ := time.Parse(time.RFC3339, c["due_at"].(string))
	if days := due.Sub(opened).Hours() / 24; days < 5 || days > 9 {
		t.Fatalf("due %v after opening %v: not 5 working days", due, opened)
	}
	if n := len(f.cases("kind=feedback")); n != 1 {
		t.Fatalf("kind=feedback: %d", n)
	}
	if n := len(f.cases("kind=response")); n != 0 {
		t.Fatalf("kind=response: %d", n)
	}
	if res, out := g.API("GET", "/api/v1/cases?kind=paper", nil); res.StatusCode != 400 || out["error"].(map[string]any)["field"] != "kind" {
		t.Fatalf("kind=paper: %d %v", res.StatusCode, out)
	}
	if n := len(f.cases("from=" + opened.In(time.FixedZone("", 7*3600)).Format("2006-01"))); n != 1 {
		t.Fatalf("the month's cases (the feedback index): %d", n)
	}

	// Listed, answered and closed like any case; no phone: not sent.
	id := c["id"].(string)
	_, c = g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Sở đã bố trí thêm người hướng dẫn tại quầy."})
	if c["status"] != "answered" || c["answer_send"] != "skipped" || !strings.Contains(fmt.Sprint(c["history"]), "answer_not_sent") {
		t.Fatalf("answered without a phone: %v", c)
	}
	if _, page = f.get(done); !strings.Contains(page, "Sở đã bố trí thêm người hướng dẫn tại quầy.") || !strings.Contains(page, "Phản hồi của cơ quan") {
		t.Fatalf("the thank-you page does not show the answer:\n%s", page)
	}
	if len(f.sent(0)) != 0 {
		t.Fatal("something was texted for a feedback without a phone")
	}

	// Counted in the case figures as feedback; nothing in the index.
	g.Drain()
	_, after := g.API("GET", "/api/v1/reports/sipas?survey=all", nil)
	cases := after["cases"].(map[string]any)
	if cases["opened"] != 1.0 || cases["feedback"] != 1.0 || cases["answered"] != 1.0 {
		t.Fatalf("case figures %v", cases)
	}
	if after["responses"] != 0.0 || fmt.Sprint(after["overall"]) != fmt.Sprint(before["overall"]) || fmt.Sprint(after["criteria"]) != fmt.Sprint(before["criteria"]) {
		t.Fatalf("the index moved: before %v, after %v", before, after)
	}
	if n, _ := g.Mongo.DB.Collection("responses").CountDocuments(t.Context(), bson.D{}); n != 0 {
		t.Fatalf("%d responses stored for a feedback", n)
	}
	if diff, err := g.Applier.Compare(t.Context()); err != nil || len(diff) > 0 {
		t.Fatalf("case figures differ from a rebuild: %v %v", diff, err)
	}

}

// A phone typed with a feedback is kept only once the one-time code
// texted to it comes back: wrong codes, a spent code, an expired one and
// too many tries are refused; confirmed, the case's answer goes to that
// phone by SMS and a reply rates it. The number is never in MongoDB in
// plain text nor in an API answer.
func TestFeedbackPhoneNeedsItsCode(t *testing.T) {
	f := newFeedback(t)
	g := f.g
	done := f.send(f.form("suggestion", "Nên có thêm ghế chờ ở tầng 2.", "0912 345 678", ""))
	_, page := f.get(done)
	if !strings.Contains(page, "84******678") || !strings.Contains(page, `name="code"`) || !strings.Contains(page, `autocomplete="one-time-code"`) {
		t.Fatalf("the page does not ask for the code:\n%s", page)
	}
	msgs := f.sent(0)
	if len(msgs) != 1 || msgs[0]["to"] != "84912345678" || !sixDigits.MatchString(msgs[0]["text"]) || strings.Contains(msgs[0]["text"], "ghế") || strings.Contains(msgs[0]["text"], "ghe cho") {
		t.Fatalf("code texts %v", msgs)
	}
	first := sixDigits.FindString(msgs[0]["text"])
	if !strings.Contains(msgs[0]["text"], "STP Binh Dinh") || !strings.Contains(msgs[0]["text"], "10 phut") {
		t.Fatalf("code text %q", msgs[0]["text"])
	}
	wrong := fmt.Sprintf("%06d", (atoi(first)+1)%1_000_000)
	id := f.cases("")[0]["id"].(string)

	try := func(code string, status int, want string) {
		t.Helper()
		res, body := f.post(done, url.Values{"action": {"confirm"}, "code": {code}, "lang": {"vi"}})
		if res.StatusCode != status || !strings.Contains(body, want) {
			t.Fatalf("code %q: %d, want %d with %q\n%s", code, res.StatusCode, status, want, body)
		}
	}
	try("12", 422, "gồm đúng 6 chữ số") // no try spent
	try(wrong, 422, "chưa đúng")
	try(wrong, 422, "chưa đúng")
	try(wrong, 422, "Đã nhập sai 3 lần")
	try(first, 422, "Không có mã nào đang chờ") // spent by the third wrong try
	if _, c := g.API("GET", "/api/v1/cases/"+id, nil); c["reply_phone"] != nil {
		t.Fatalf("the phone was kept unconfirmed: %v", c)
	}

	// A new code; it expires after 10 minutes.
	if res, _ := f.post(done, url.Values{"action": {"resend"}, "lang": {"vi"}}); res.StatusCode != 303 || !strings.HasSuffix(res.Header.Get("Location"), "&sent=1") {
		t.Fatalf("resend: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	msgs = f.sent(1)
	second := sixDigits.FindString(msgs[0]["text"])
	g.Core.Clock = func() time.Time { return time.Now().Add(11 * time.Minute) }
	try(second, 422, "hết hạn")
	g.Core.Clock = nil // the send queue runs on the wall clock

	// The third code of the day, typed right.
	if res, _ := f.post(done, url.Values{"action": {"resend"}, "lang": {"vi"}}); res.StatusCode != 303 {
		t.Fatalf("resend: %d", res.StatusCode)
	}
	third := sixDigits.FindString(f.sent(2)[0]["text"])
	res, _ := f.post(done, url.Values{"action": {"confirm"}, "code": {third}, "lang": {"vi"}})
	if res.StatusCode != 303 {
		t.Fatalf("the right code: %d", res.StatusCode)
	}
	if _, page = f.get(done); !strings.Contains(page, "Đã xác nhận số 84******678") || strings.Contains(page, `name="code"`) {
		t.Fatalf("confirmed page:\n%s", page)
	}
	_, c := g.API("GET", "/api/v1/cases/"+id, nil)
	if c["reply_phone"] != "84******678" || !strings.Contains(fmt.Sprint(c["history"]), "phone_confirmed") {
		t.Fatalf("confirmed case %v", c)
	}
	raw, err := g.Mongo.DB.Collection("cases").FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw.String(), "912345678") || raw.Lookup("reply_phone_sealed").Type != bson.TypeBinary {
		t.Fatalf("the stored case holds the number in plain text, or not sealed: %s", raw)
	}

	// The answer goes to the confirmed phone; a reply of 5 rates it.
	_, c = g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Sở sẽ bổ sung 20 ghế chờ trong tháng này."})
	if c["answer_send"] != "queued" {
		t.Fatalf("answer: %v", c)
	}
	msgs = f.sent(3)
	if len(msgs) != 1 || msgs[0]["to"] != "84912345678" || !strings.Contains(msgs[0]["text"], "bo sung 20 ghe cho") || !strings.Contains(msgs[0]["text"], id) || !strings.Contains(msgs[0]["text"], "1-5") {
		t.Fatalf("answer texts %v", msgs)
	}
	if _, c = g.API("GET", "/api/v1/cases/"+id, nil); c["answer_send"] != "sent" {
		t.Fatalf("after sending: %v", c)
	}
	body := `{"id":"fb-r-1","from":"0912345678","to":"8079","text":"5"}`
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign("feedback-secret-0123456789", []byte(body)))
	if res := g.Do(req); res.StatusCode != 200 {
		t.Fatalf("rating reply: %d", res.StatusCode)
	}
	if _, c = g.API("GET", "/api/v1/cases/"+id, nil); c["status"] != "closed" || c["rating"] != 5.0 {
		t.Fatalf("after the reply 5: %v", c)
	}

	// The number had its three codes today: another feedback with it
	// gets none, and its page says so.
	other := f.send(f.form("recommendation", "Đề nghị mở cửa thứ bảy.", "+84 912 345 678", ""))
	if _, page = f.get(other); !strings.Contains(page, "đã nhận đủ mã xác nhận trong 24 giờ") || strings.Contains(page, `name="code"`) {
		t.Fatalf("fourth code's page:\n%s", page)
	}
	if n := len(f.sent(4)); n != 0 {
		t.Fatalf("%d texts past the limit", n)
	}
	g.Mu().Lock()
	defer g.Mu().Unlock()
	for _, r := range g.Replies {
		if strings.Contains(r, "912345678") {
			t.Fatalf("an API answer holds the number: %s", r)
		}
	}
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = 10*n + int(r-'0')
	}
	return n
}

// Links the gateway did not make, for agencies not (or no longer)
// registered, and tickets not the page's, are 404 pages; bad input comes
// back as the form with what was typed and a message naming each field;
// text over the limit is refused with its length, a body over the
// server's limit with a page; nothing of it opens a case.
func TestFeedbackRefusesHostileInput(t *testing.T) {
	f := newFeedback(t)
	g := f.g
	g.Listen()
	mac := f.token[strings.LastIndexByte(f.token, '-')+1:]
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.13.H49", map[string]any{"name": "Sở Xây dựng"}); res.StatusCode != 200 {
		t.Fatalf("agency: %d %v", res.StatusCode, out)
	}
	deleted := g.Core.FeedbackToken("000.00.13.H49")
	if res, _ := g.API("DELETE", "/api/v1/agencies/000.00.13.H49", nil); res.StatusCode != 204 {
		t.Fatalf("delete agency: %d", res.StatusCode)
	}
	for _, bad := range []string{
		"x", "AAAAAAAAAAAAAAAA", fbAgency, fbAgency + "-" + strings.Repeat("A", 16), "000.00.13.H49-" + mac,
		g.Core.FeedbackToken("000.00.99.H49"), // made with the key, never registered
		deleted,                               // registered once, deleted since
		fbAgency + "-" + mac + "%00", strings.Repeat("9", 300) + "-" + mac, "..%2F..%2Fadmin",
	} {
		for _, method := range []string{"GET", "POST"} {
			var res *http.Response
			var body string
			if method == "GET" {
				res, body = f.get("/g/" + bad)
			} else {
				res, body = f.post("/g/"+bad, url.Values{"type": {"suggestion"}, "text": {"x"}})
			}
			if res.StatusCode != 404 || !strings.Contains(body, "Không tìm thấy hòm thư góp ý") {
				t.Errorf("%s /g/%s: %d\n%s", method, bad, res.StatusCode, body)
			}
		}
	}
	for _, ticket := range []string{"AAAAAAAAAAAAAAAA", "short", strings.Repeat("A", 64)} {
		if res, _ := f.get("/g/" + f.token + "/done/" + ticket); res.StatusCode != 404 {
			t.Errorf("ticket %q: %d", ticket, res.StatusCode)
		}
		if res, _ := f.post("/g/"+f.token+"/done/"+ticket, url.Values{"action": {"resend"}}); res.StatusCode != 404 {
			t.Errorf("resend for ticket %q: %d", ticket, res.StatusCode)
		}
	}

	cases := []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"no type", url.Values{"text": {"Thủ tục rườm rà"}, "phone": {"0912 345 678"}}, []string{"Loại ý kiến: hãy chọn", `value="0912 345 678"`, "Thủ tục rườm rà"}},
		{"forged type", url.Values{"type": {"praise"}, "text": {"Tốt"}}, []string{"Loại ý kiến: hãy chọn"}},
		{"no text", url.Values{"type": {"suggestion"}, "text": {" \u200b\u202e "}}, []string{"Nội dung: hãy viết"}},
		{"text too long", url.Values{"type": {"suggestion"}, "text": {strings.Repeat("ý", 2001)}}, []string{"Nội dung: dài 2001 ký tự, quá giới hạn 2000 ký tự", strings.Repeat("ý", 2001)}},
		{"text far too long", url.Values{"type": {"suggestion"}, "text": {strings.Repeat("a", 40000)}}, []string{"Nội dung: dài 40000 ký tự"}},
		{"bad phone", url.Values{"type": {"complaint"}, "text": {"Chậm"}, "phone": {"12345"}}, []string{"Số điện thoại: không phải số di động Việt Nam", `value="12345"`}},
		{"bad dossier", url.Values{"type": {"complaint"}, "text": {"Chậm"}, "dossier_code": {"H49 <b>0042</b>"}}, []string{"Mã hồ sơ: chỉ gồm chữ", `value="H49 &lt;b&gt;0042&lt;/b&gt;"`}},
		{"markup", url.Values{"text": {`<script>alert(1)</script>`}}, []string{"&lt;script&gt;alert(1)&lt;/script&gt;"}},
	}
	for _, tc := range cases {
		form := f.form("", "", "", "")
		for k, v := range tc.form {
			form[k] = v
		}
		res, body := f.post("/g/"+f.token, form)
		if res.StatusCode != 422 {
			t.Errorf("%s: %d", tc.name, res.StatusCode)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the form lacks %.80q", tc.name, w)
			}
		}
		if strings.Contains(body, "<script>") || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `aria-invalid="true"`) {
			t.Errorf("%s: markup not escaped, or no alert\n%s", tc.name, body)
		}
	}
	// A body over the server's limit: refused on its length, with a page.
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /g/%s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", f.token, 200*1024)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if body := gwtest.Body(res); res.StatusCode != 413 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Nội dung gửi quá dài") {
		t.Errorf("a body over the server's limit: %d\n%s", res.StatusCode, body)
	}
	if cs := f.cases(""); len(cs) != 0 {
		t.Fatalf("hostile input opened cases: %v", cs)
	}
	if n := len(f.sent(0)); n != 0 {
		t.Fatalf("hostile input sent %d texts", n)
	}
}

// The feedback a client address sends, and an agency's page takes, are
// limited per hour: over either, the form comes back (429, Retry-After)
// with what was typed; the page views keep their own limit.
func TestFeedbackIsRateLimited(t *testing.T) {
	f := newFeedback(t)
	g := f.g
	g.Core.FeedbackRate, g.Core.FeedbackAgencyRate = 2, 3
	for i := 0; i < 2; i++ {
		f.send(f.form("suggestion", fmt.Sprintf("Ý kiến số %d", i), "", ""))
	}
	res, body := f.post("/g/"+f.token, f.form("suggestion", "Ý kiến thứ ba từ cùng máy", "", ""))
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Ý kiến thứ ba từ cùng máy") || !strings.Contains(body, "vui lòng gửi lại sau") {
		t.Fatalf("over the address's limit: %d %q\n%s", res.StatusCode, res.Header.Get("Retry-After"), body)
	}
	f.addr++ // another citizen: the agency's third of the hour
	f.send(f.form("suggestion", "Ý kiến của người khác", "", ""))
	f.addr++
	if res, _ := f.post("/g/"+f.token, f.form("complaint", "Ý kiến thứ tư cho cơ quan", "", "")); res.StatusCode != 429 {
		t.Fatalf("over the agency's limit: %d", res.StatusCode)
	}
	if n := len(f.cases("")); n != 3 {
		t.Fatalf("%d cases, want 3", n)
	}
	g.Core.PageRate = 2
	f.addr++
	for i := 0; i < 2; i++ {
		if res, _ := f.get("/g/" + f.token); res.StatusCode != 200 {
			t.Fatalf("view %d: %d", i, res.StatusCode)
		}
	}
	if res, body := f.get("/g/" + f.token); res.StatusCode != 429 || !strings.Contains(body, "Có quá nhiều yêu cầu") {
		t.Fatalf("over the page limit: %d", res.StatusCode)
	}
}

// An erasure request and the retention sweep take a confirmed reply phone
// off its feedback case; the case stays.
func TestFeedbackPhoneIsErased(t *testing.T) {
	f := newFeedback(t)
	g := f.g
	confirm := func(text string) string {
		t.Helper()
		from := len(f.fake.Requests())
		done := f.send(f.form("suggestion", text, "0987 111 222", ""))
		code := sixDigits.FindString(f.sent(from)[0]["text"])
		if res, _ := f.post(done, url.Values{"action": {"confirm"}, "code": {code}}); res.StatusCode != 303 {
			t.Fatalf("confirm: %d", res.StatusCode)
		}
		cs := f.cases("")
		for _, c := range cs {
			if c["comment"] == text && c["reply_phone"] == "84******222" {
				return c["id"].(string)
			}
		}
		t.Fatalf("no confirmed case: %v", cs)
		return ""
	}
	id := confirm("Ý kiến một")
	if res, out := g.API("POST", "/api/v1/erasures", map[string]any{"phone": "0987111222"}); res.StatusCode != 200 || out["erased"].(map[string]any)["cases"] != 1.0 {
		t.Fatalf("erasure: %d %v", res.StatusCode, out)
	}
	if _, c := g.API("GET", "/api/v1/cases/"+id, nil); c["reply_phone"] != nil || c["status"] != "open" {
		t.Fatalf("after the erasure: %v", c)
	}
	if _, c := g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Cảm ơn ông/bà."}); c["answer_send"] != "skipped" {
		t.Fatalf("answered after the erasure: %v", c)
	}
	id = confirm("Ý kiến hai")
	g.Core.Clock = func() time.Time { return time.Now().Add(200 * 24 * time.Hour) }
	defer func() { g.Core.Clock = nil }()
	if n, err := g.Core.Sweep(t.Context(), 180*24*time.Hour); err != nil || n.Phones != 1 {
		t.Fatalf("sweep: %v %v", n, err)
	}
	raw, err := g.Mongo.DB.Collection("cases").FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.LookupErr("reply_phone_sealed"); err == nil {
		t.Fatalf("the sweep left the sealed phone: %s", raw)
	}
}
