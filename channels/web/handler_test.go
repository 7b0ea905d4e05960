package web_test

import (
	"io"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/report"
)

func get(g *gwtest.Gateway, path string) (int, string) {
	res := g.Do(httptest.NewRequest("GET", path, nil))
	return res.StatusCode, gwtest.Body(res)
}

func checked(body, q string) string {
	m := regexp.MustCompile(`name="` + q + `" value="(\d)" checked`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

func TestPagesForEveryState(t *testing.T) {
	g := gwtest.New(t, "")
	done := gwtest.Token(g.Invite("W-DONE", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+done, "O=5"); res.StatusCode != 303 || res.Header.Get("Location") != "/s/"+done+"/done?lang=vi" {
		t.Fatalf("complete: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	open := gwtest.Token(g.Invite("W-OPEN", "000.00.12.H49", nil))
	cases := []struct {
		path, want string
		status     int
	}{
		{"/s/short", "Không tìm thấy phiếu khảo sát", 404},
		{"/s/AAAAAAAAAAAAAAAA", "Không tìm thấy phiếu khảo sát", 404},
		{"/s/AAAAAAAAAAAAAAAA?lang=en", "Survey not found", 404},
		{"/s/" + done, "Phiếu đã được trả lời", 200},
		{"/s/" + done + "/done", "Cảm ơn ông/bà!", 200},
		{"/s/" + done + "/done?lang=en", "Thank you!", 200},
		{"/s/" + open, "Tiếp cận dịch vụ", 200},
		{"/s/" + open + "?lang=en", "Access to the service", 200},
	}
	for _, tc := range cases {
		status, body := get(g, tc.path)
		if status != tc.status || !strings.Contains(body, tc.want) || !strings.Contains(body, `<link rel="stylesheet" href="/static/app.css">`) {
			t.Errorf("GET %s: %d, want %d with %q", tc.path, status, tc.status, tc.want)
		}
	}
	// Submitting again changes nothing and says it was answered.
	res := g.Form("/s/"+done, "O=1")
	if body := gwtest.Body(res); res.StatusCode != 200 || !strings.Contains(body, "Phiếu đã được trả lời") {
		t.Fatalf("second submit: %d", res.StatusCode)
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), mustID(g, "W-DONE"))
	if err != nil || r.Answers[0].Score != 5 {
		t.Fatalf("stored response %+v %v", r, err)
	}
	// The open invitation's done page sends the citizen back to the survey.
	if res := g.Do(httptest.NewRequest("GET", "/s/"+open+"/done", nil)); res.StatusCode != 303 {
		t.Fatalf("done before completion: %d", res.StatusCode)
	}
	// Past its expiry the link answers 410.
	g.Core.Clock = func() time.Time { return time.Now().Add(31 * 24 * time.Hour) }
	if status, body := get(g, "/s/"+open); status != 410 || !strings.Contains(body, "Phiếu khảo sát đã đóng") {
		t.Fatalf("expired: %d", status)
	}
	if res := g.Form("/s/"+open, "A1=5"); res.StatusCode != 410 {
		t.Fatalf("post to expired: %d", res.StatusCode)
	}
}

func mustID(g *gwtest.Gateway, dossier string) string {
	inv, err := g.Mongo.Invitations.ByDossier(g.T.(*testing.T).Context(), dossier)
	if err != nil {
		g.T.Fatal(err)
	}
	return inv.ID
}

func TestStepsKeepProgressAndMarkMissing(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("W-STEP", "000.00.12.H49", nil))
	base := "/s/" + tok

	// Step 1 with A3 and A4 missing: 422, A1 and A2 kept, the rest marked.
	res := g.Form(base, "step=1&lang=vi&A1=5&A2=0")
	body := gwtest.Body(res)
	if res.StatusCode != 422 || checked(body, "A1") != "5" || checked(body, "A2") != "0" {
		t.Fatalf("incomplete step: %d A1=%q A2=%q", res.StatusCode, checked(body, "A1"), checked(body, "A2"))
	}
	if strings.Count(body, `aria-invalid="true"`) != 2 || !strings.Contains(body, `id="q-A3" aria-invalid="true"`) {
		t.Fatalf("missing questions not marked:\n%s", body)
	}
	// Listed at the top with links, and the page opens on the first.
	if !strings.Contains(body, `<li><a href="#q-A3">`) || !strings.Contains(body, `<li><a href="#q-A4">`) || strings.Count(body, " autofocus") != 1 ||
		!regexp.MustCompile(`name="A3" value="\d"[^>]* autofocus`).MatchString(body) {
		t.Fatalf("missing questions not listed or focused:\n%s", body)
	}
	// Completing the step moves on; the invitation is now in progress.
	res = g.Form(base, "step=1&lang=vi&A3=4&A4=3")
	if res.StatusCode != 303 || res.Header.Get("Location") != base+"?step=2&lang=vi" {
		t.Fatalf("next step: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, inv := g.API("GET", "/api/v1/invitations/"+mustID(g, "W-STEP"), nil)
	if inv["status"] != "in_progress" {
		t.Fatalf("status %v", inv["status"])
	}
	// The roll-up writer carries the start to MongoDB, once it is a few
	// minutes old (an invitation answered by then is written once).
	g.Drain()
	if stored, err := g.Mongo.Invitations.ByDossier(t.Context(), "W-STEP"); err != nil || stored.Status != "pending" {
		t.Fatalf("stored before the start was due: %+v %v", stored, err)
	}
	g.Later(report.StartedAfter)
	g.Drain()
	if stored, err := g.Mongo.Invitations.ByDossier(t.Context(), "W-STEP"); err != nil || stored.Status != "in_progress" || stored.StartedAt == nil {
		t.Fatalf("stored after the writer's pass: %+v %v", stored, err)
	}
	// Coming back later resumes at step 2; step 1 still shows the answers.
	if _, body := get(g, base); !strings.Contains(body, "Bước 2 trên 5") {
		t.Fatal("did not resume at step 2")
	}
	if _, body := get(g, base+"?step=1"); checked(body, "A1") != "5" || checked(body, "A4") != "3" {
		t.Fatal("step 1 lost its answers")
	}
	// Back from step 2 goes to step 1 and keeps what step 2 had.
	res = g.Form(base, "step=2&lang=en&nav=back&B1=4")
	if res.StatusCode != 303 || res.Header.Get("Location") != base+"?step=1&lang=en" {
		t.Fatalf("back: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// A whole-survey POST that still lacks answers: 422 on the first step
	// with a gap, answers kept.
	res = g.Form(base, "B2=5&B3=5&B4=5&B5=5")
	body = gwtest.Body(res)
	if res.StatusCode != 422 || !strings.Contains(body, "Bước 3 trên 5") || !strings.Contains(body, `id="q-C1" aria-invalid="true"`) {
		t.Fatalf("whole POST with gaps: %d", res.StatusCode)
	}
	// A bad value is refused and nothing is saved for it.
	if res := g.Form(base, "step=3&C1=9"); res.StatusCode != 422 {
		t.Fatalf("bad score: %d", res.StatusCode)
	}
	rest := url.Values{}
	for _, q := range []string{"C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
		rest.Set(q, "4")
	}
	rest.Set("step", "5")
	rest.Set("comment", "  Cán bộ nhiệt tình, chu đáo  ")
	res = g.Form(base, rest.Encode())
	if res.StatusCode != 303 || !strings.HasSuffix(res.Header.Get("Location"), "/done?lang=vi") {
		t.Fatalf("final step: %d %s", res.StatusCode, gwtest.Body(res))
	}
	g.Flush()
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), mustID(g, "W-STEP"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Channel != "web" || r.Comment != "Cán bộ nhiệt tình, chu đáo" || len(r.Answers) != 22 || r.Answers[0].Score != 5 || r.Answers[1].Score != 0 || r.Answers[4].Score != 4 {
		t.Fatalf("response %+v", r)
	}
	if r.AgencyCode != "000.00.12.H49" || r.DossierCode != "W-STEP" || r.SurveyVersion != 1 || r.Month == "" {
		t.Fatalf("response fields %+v", r)
	}
	// Answered step by step: started at the first step, not at the last.
	if !r.StartedAt.Before(r.SubmittedAt) {
		t.Fatalf("started_at %v, submitted_at %v: the start of a step-wise answer was lost", r.StartedAt, r.SubmittedAt)
	}
}

func TestPageIsSmallAccessibleAndHardened(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("W-SIZE", "000.00.12.H49", nil))
	total := 0
	for _, p := range []string{"/s/" + tok + "?step=3", "/static/app.css"} {
		req := httptest.NewRequest("GET", p, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res := g.Do(req)
		b, _ := io.ReadAll(res.Body)
		total += len(b)
		if res.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("%s is not compressed", p)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options"} {
			if res.Header.Get(h) == "" {
				t.Errorf("%s lacks %s", p, h)
			}
		}
	}
	t.Logf("largest step page + stylesheet, gzip: %d bytes", total)
	if total > 30*1024 {
		t.Fatalf("page weight %d bytes, over 30 KB", total)
	}
	_, body := get(g, "/s/"+tok+"?step=3")
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || regexp.MustCompile(`(src|href)="https?://`).MatchString(body) {
		t.Fatal("the page carries scripts, inline styles or third-party references")
	}
	// Criterion C: one fieldset for the criterion, six for its questions,
	// each radio inside a label.
	if n := strings.Count(body, "<fieldset"); n != 7 {
		t.Fatalf("%d fieldsets, want 7", n)
	}
	if n := strings.Count(body, "<legend>"); n != 7 {
		t.Fatalf("%d legends, want 7", n)
	}
	if n := len(regexp.MustCompile(`<label class="o\d"><input type="radio"`).FindAllString(body, -1)); n != 36 {
		t.Fatalf("%d labelled radios, want 36", n)
	}
	if !strings.Contains(body, `<html lang="vi">`) {
		t.Fatal("language not declared")
	}
	// A blank step is sent as kept, in the coding the browser prefers, and
	// reads as the plain page; with answers saved it is compressed per
	// request.
	for _, c := range []struct{ accept, coding string }{{"gzip, deflate, br", "br"}, {"gzip", "gzip"}, {"deflate", "deflate"}, {"", ""}} {
		req := httptest.NewRequest("GET", "/s/"+tok+"?step=3", nil)
		req.Header.Set("Accept-Encoding", c.accept)
		res := g.Do(req)
		raw, _ := io.ReadAll(res.Body)
		var plain []byte
		var err error
		switch res.Header.Get("Content-Encoding") {
		case "br":
			plain, err = fasthttp.AppendUnbrotliBytes(nil, raw)
		case "gzip":
			plain, err = fasthttp.AppendGunzipBytes(nil, raw)
		case "deflate":
			plain, err = fasthttp.AppendInflateBytes(nil, raw)
		default:
			plain = raw
		}
		if got := res.Header.Get("Content-Encoding"); got != c.coding || err != nil || string(plain) != body ||
			c.coding != "" && !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Fatalf("Accept-Encoding %q: coded %q (Vary %q), decodes to the page %v (%v)", c.accept, got, res.Header.Get("Vary"), string(plain) == body, err)
		}
	}
	if res := g.Form("/s/"+tok, "step=1&lang=vi&A1=5"); res.StatusCode != 422 { // A1 kept, the rest missing
		t.Fatalf("save a step: %d", res.StatusCode)
	}
	req := httptest.NewRequest("GET", "/s/"+tok+"?step=1", nil)
	req.Header.Set("Accept-Encoding", "br")
	res := g.Do(req)
	raw, _ := io.ReadAll(res.Body)
	plain, err := fasthttp.AppendUnbrotliBytes(nil, raw)
	if res.Header.Get("Content-Encoding") != "br" || err != nil || checked(string(plain), "A1") != "5" {
		t.Fatalf("a step with a saved answer: coded %q, A1 %q (%v)", res.Header.Get("Content-Encoding"), checked(string(plain), "A1"), err)
	}
}

func TestPagesAreRateLimitedPerClient(t *testing.T) {
	g := gwtest.New(t, "")
	g.Core.PageRate = 3
	tok := gwtest.Token(g.Invite("W-RATE", "000.00.12.H49", nil))
	for i := 0; i < 3; i++ {
		if status, _ := get(g, "/s/"+tok); status != 200 {
			t.Fatalf("request %d: %d", i, status)
		}
	}
	res := g.Do(httptest.NewRequest("GET", "/s/"+tok, nil))
	body := gwtest.Body(res)
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Vui lòng thử lại sau một phút") {
		t.Fatalf("over the limit: %d %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
}

// The page names the agency being rated when it is registered.
func TestPageNamesTheAgency(t *testing.T) {
	g := gwtest.New(t, "")
	if res, out := g.API("PUT", "/api/v1/agencies/000.00.12.H49", map[string]any{"name": "Sở Tư pháp", "name_en": "Department of Justice"}); res.StatusCode != 200 {
		t.Fatalf("register: %d %v", res.StatusCode, out)
	}
	named := gwtest.Token(g.Invite("W-NAMED", "000.00.12.H49", nil))
	stray := gwtest.Token(g.Invite("W-STRAY", "000.00.77.H49", nil))
	if _, body := get(g, "/s/"+named); !strings.Contains(body, "Đánh giá việc giải quyết hồ sơ tại <strong>Sở Tư pháp</strong>") {
		t.Fatalf("the page does not name the agency:\n%s", body)
	}
	if _, body := get(g, "/s/"+stray); strings.Contains(body, `class="agency"`) {
		t.Fatal("an unregistered code is named")
	}
}

// The citizen who scans the QR code again after the agency answered
// their follow-up case sees that answer and rates it there, as on the
// done page: the link printed on the dossier is what they keep.
func TestQRLinkShowsTheAnswerToRate(t *testing.T) {
	g := gwtest.New(t, "")
	tok := gwtest.Token(g.Invite("W-CASE", "000.00.12.H49", map[string]any{"survey": "overall"}))
	if res := g.Form("/s/"+tok, "O=1&comment=Ph%E1%BA%A3i+ch%E1%BB%9D+l%C3%A2u"); res.StatusCode != 303 {
		t.Fatalf("complete: %d", res.StatusCode)
	}
	g.Drain()
	if _, body := get(g, "/s/"+tok); !strings.Contains(body, "Phiếu đã được trả lời") || strings.Contains(body, `name="r"`) {
		t.Fatalf("before an answer the link only says it was answered:\n%s", body)
	}
	_, list := g.API("GET", "/api/v1/cases", nil)
	cases, _ := list["cases"].([]any)
	if len(cases) != 1 {
		t.Fatalf("a score of 1 opens one case: %v", list)
	}
	id := cases[0].(map[string]any)["id"].(string)
	if res, out := g.API("POST", "/api/v1/cases/"+id+"/answer", map[string]any{"text": "Sở đã bố trí thêm quầy."}); res.StatusCode != 200 {
		t.Fatalf("answer: %d %v", res.StatusCode, out)
	}
	for _, path := range []string{"/s/" + tok, "/s/" + tok + "?lang=en"} {
		status, body := get(g, path)
		if status != 200 || !strings.Contains(body, "Sở đã bố trí thêm quầy.") || !strings.Contains(body, `action="/s/`+tok+`/rate"`) || !strings.Contains(body, `name="r" value="5"`) {
			t.Fatalf("GET %s: %d, no answer or rating form:\n%s", path, status, body)
		}
	}
	if res := g.Form("/s/"+tok+"/rate", "r=4"); res.StatusCode != 303 {
		t.Fatalf("rate from the link's page: %d", res.StatusCode)
	}
	if _, body := get(g, "/s/"+tok); strings.Contains(body, `name="r"`) || !strings.Contains(body, "(4/5)") {
		t.Fatalf("after rating, the link shows the rating without buttons:\n%s", body)
	}
}
