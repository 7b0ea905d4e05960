package web_test

import (
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/qr"
	"github.com/sipasvn/gateway/store"
)

// shown is what a console page shows in its <main>: the text, and the
// words of its aria-label, alt and title attributes.
func shown(page string) string {
	i, j := strings.Index(page, "<main>"), strings.Index(page, "</main>")
	if i < 0 || j < i {
		return page
	}
	m := page[i:j]
	var attrs []string
	for _, a := range regexp.MustCompile(`(?:aria-label|alt|title|placeholder)="([^"]*)"`).FindAllStringSubmatch(m, -1) {
		attrs = append(attrs, a[1])
	}
	m = regexp.MustCompile(`</?(?:a|code|strong|span|small)\b[^>]*>`).ReplaceAllString(m, "") // inline: no gap
	m = regexp.MustCompile(`(?s)<[^>]*>`).ReplaceAllString(m, " ")
	return strings.Join(strings.Fields(html.UnescapeString(m+" "+strings.Join(attrs, " "))), " ")
}

// english finds words that give English, or a raw status code, away on
// a Vietnamese page.
var english = regexp.MustCompile(`(?i)\b(the|and|of|to|on|print|record|recorded|form|forms|page|pages|review|multiple|corrected|faint|uncertain|duplicate|unreadable|discarded|answers?|comment|reason|dossier|opinion|file|sipas|sipas-5|overall)\b`)

// vietnamese checks a page is all Vietnamese and holds want.
func vietnamese(t *testing.T, name, page string, want ...string) {
	t.Helper()
	text := shown(page)
	if !strings.Contains(page, `<html lang="vi">`) {
		t.Errorf("%s is not in Vietnamese", name)
	}
	if w := english.FindAllString(text, -1); len(w) > 0 {
		t.Errorf("%s shows %q on the Vietnamese page:\n%s", name, w, text)
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", name, s, text)
		}
	}
}

// inEnglish checks a page is in English and holds want, none of the
// Vietnamese words given.
func inEnglish(t *testing.T, name, page string, want []string, vi ...string) {
	t.Helper()
	text := shown(page)
	if !strings.Contains(page, `<html lang="en">`) {
		t.Errorf("%s is not in English", name)
	}
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s in English lacks %q:\n%s", name, s, text)
		}
	}
	for _, s := range vi {
		if strings.Contains(text, s) {
			t.Errorf("%s in English shows %q:\n%s", name, s, text)
		}
	}
}

// post sends a console form and reads the answer.
func post(g *gwtest.Gateway, path string, form url.Values, cookie *http.Cookie) (*http.Response, string) {
	res := g.PostForm(path, form, cookie)
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// A desk pastes dossier codes and gets one PDF of their forms, whose
// codes a real decoder reads; codes that cannot have a form come back
// named by line, the typed list kept, and nothing is printed.
func TestConsolePaperPrint(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	a, b := g.Invite("PAPER-1", unit, nil), g.Invite("PAPER-2", unit, map[string]any{"survey": "sipas-5"})
	done := g.Invite("PAPER-3", unit, map[string]any{"survey": "sipas-5"})
	if res := g.AnswerAsCitizen(gwtest.Token(done), "A=5&B=5&C=5&D=5&E=5"); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	g.Invite("PAPER-X", "000.00.13.H49", nil)
	cookie, csrf := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))

	status, page := g.Page("/console/paper/print", cookie)
	if status != 200 || !strings.Contains(page, `<a href="/console/paper">Phiếu giấy</a>`) || !strings.Contains(page, `name="survey" value="" checked`) {
		t.Fatalf("print page: %d\n%s", status, page)
	}
	vietnamese(t, "the print page", page, "In phiếu", "Mẫu của từng hồ sơ", "Đánh giá nhanh mức độ hài lòng")
	_, page = g.Page("/console/paper/print?lang=en", cookie)
	inEnglish(t, "the print page", page, []string{"Print forms", "Each dossier's own survey", "Quick satisfaction survey"}, "In phiếu", "Mẫu phiếu")

	res, pdf := post(g, "/console/paper/print", url.Values{"csrf": {csrf}, "codes": {"PAPER-1\r\nPAPER-2\r\n"}}, cookie)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("print: %d %s %.300s", res.StatusCode, res.Header.Get("Content-Type"), pdf)
	}
	codes := gwtest.PDFCodes(t, []byte(pdf))
	if len(codes) != 2 || codes[0] != (qr.FormCode{Survey: "sipas", Version: 1, Invitation: a["id"].(string)}) ||
		codes[1] != (qr.FormCode{Survey: "sipas-5", Version: 1, Invitation: b["id"].(string)}) {
		t.Fatalf("each dossier's own form: %+v", codes)
	}
	res, pdf = post(g, "/console/paper/print", url.Values{"csrf": {csrf}, "codes": {"PAPER-1"}, "survey": {"sipas-5"}}, cookie)
	if codes := gwtest.PDFCodes(t, []byte(pdf)); res.StatusCode != 200 || len(codes) != 1 || codes[0].Survey != "sipas-5" {
		t.Fatalf("the short form: %d %+v", res.StatusCode, codes)
	}

	// Every bad line is named, nothing printed, the text kept as typed.
	typed := "PAPER-1\n\nPAPER-3\nNOPE-9\nPAPER-X\nPAPER-1, PAPER-2"
	res, page = post(g, "/console/paper/print", url.Values{"csrf": {csrf}, "codes": {typed}, "survey": {"sipas-5"}}, cookie)
	if res.StatusCode != 400 || !strings.Contains(page, ">\n"+typed+"</textarea>") || !strings.Contains(page, `value="sipas-5" checked`) {
		t.Fatalf("refused list: %d\n%s", res.StatusCode, page)
	}
	vietnamese(t, "the refused list", page, "Chưa in phiếu nào",
		"Dòng 3 · PAPER-3: hồ sơ đã được trả lời qua trang web: không cần phiếu",
		"Dòng 4 · NOPE-9: không có phiếu cho mã hồ sơ này",
		"Dòng 5 · PAPER-X: ngoài phạm vi cơ quan của bạn",
		"Dòng 6 · PAPER-1: trùng với dòng 1")
	if strings.Contains(shown(page), "Dòng 6 · PAPER-2") {
		t.Errorf("a good code is listed as refused")
	}
	if res, page = post(g, "/console/paper/print", url.Values{"csrf": {csrf}, "codes": {"  \n"}}, cookie); res.StatusCode != 400 || !strings.Contains(page, "Hãy nhập ít nhất một mã hồ sơ.") {
		t.Fatalf("empty list: %d", res.StatusCode)
	}
	if res, _ := post(g, "/console/paper/print", url.Values{"codes": {"PAPER-1"}}, cookie); res.StatusCode != 403 {
		t.Fatalf("without the CSRF token: %d", res.StatusCode)
	}

	// The invitation's page links its form; the link prints it.
	_, page = g.Page("/console/invitations?dossier_code=PAPER-1", cookie)
	link := regexp.MustCompile(`href="(/console/paper/print\?codes=PAPER-1)" id="print-form"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no print link on the invitation:\n%s", page)
	}
	req := httptest.NewRequest("GET", link[1], nil)
	req.AddCookie(cookie)
	if res := g.Do(req); res.StatusCode != 200 || len(gwtest.PDFCodes(t, []byte(gwtest.Body(res)))) != 1 {
		t.Fatalf("the invitation's link: %d", res.StatusCode)
	}
	if _, page = g.Page("/console/invitations?dossier_code=PAPER-3", cookie); strings.Contains(page, `id="print-form"`) {
		t.Fatalf("an answered dossier offers a form")
	}
}

// sipasAnswers are the full form's answers, all v.
func sipasAnswers(v int) map[string]int {
	out := map[string]int{}
	for _, q := range []string{"A1", "A2", "A3", "A4", "B1", "B2", "B3", "B4", "B5", "C1", "C2", "C3", "C4", "C5", "C6", "D1", "D2", "D3", "E1", "E2", "E3", "E4"} {
		out[q] = v
	}
	return out
}

// An operator reviews the pages the reader was unsure of, oldest first:
// the page image with the unsure boxes outlined, the reader's proposal
// prefilled; a recorded page lands as the dossier's response and the
// next page opens saying so; a page is set aside only with a reason;
// another branch's operator sees none of it.
func TestConsolePaperReview(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits, gwtest.Citizens)
	g.Tree(t)
	const unit = "000.01.12.H49"
	g.Invite("REV-1", unit, nil)
	g.Invite("REV-2", unit, map[string]any{"survey": "sipas-5"})
	late := g.Invite("REV-3", unit, map[string]any{"survey": "sipas-5"})
	g.Invite("REV-X", "000.00.13.H49", map[string]any{"survey": "sipas-5"})
	full := sipasAnswers(4)
	delete(full, "B2")
	first := g.FileForReview(t, "REV-1", full, store.ScanQuestion{Question: "B2", Status: "multiple", Marked: []int{2, 3}})
	second := g.FileForReview(t, "REV-2", map[string]int{"A": 5, "B": 4, "D": 5, "E": 4}, store.ScanQuestion{Question: "C", Status: "multiple", Marked: []int{4, 5}})
	third := g.FileForReview(t, "REV-3", map[string]int{"A": 5, "B": 5, "C": 5, "E": 5}, store.ScanQuestion{Question: "D", Status: "uncertain"})
	g.FileForReview(t, "REV-X", map[string]int{"A": 5, "B": 5, "C": 5, "D": 5}, store.ScanQuestion{Question: "E", Status: "multiple", Marked: []int{1}})
	parent, csrf := signIn(t, g, g.Key(t, "agency", "000.00.12.H49"))
	other, otherCSRF := signIn(t, g, g.Key(t, "agency", "000.00.13.H49"))

	// The queue, oldest first, of the operator's agencies only.
	status, page := g.Page("/console/paper", parent)
	order := regexp.MustCompile(`data-scan="([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	if status != 200 || len(order) != 3 || order[0][1] != first || order[1][1] != second || order[2][1] != third {
		t.Fatalf("queue: %d %v\n%s", status, order, page)
	}
	vietnamese(t, "the queue", page, "Trang 1–3 trên 3, cũ nhất trước", "1 câu chưa đọc chắc (C); có ý kiến viết tay cần gõ lại", "Phòng Hộ tịch", "phieu-quet.pdf, trang 1")
	_, page = g.Page("/console/paper?lang=en", parent)
	inEnglish(t, "the queue", page, []string{"Forms to review", "1 questions not read for sure (C); a handwritten comment to type", "phieu-quet.pdf, page 1"}, "cũ nhất", "Tệp")
	if status, _ := g.Page("/console/paper?agency=000.00.13.H49", parent); status != 403 {
		t.Fatalf("another branch's queue: %d", status)
	}

	// A page: the image with the boxes outlined, the form prefilled.
	status, page = g.Page("/console/paper/scans/"+second, parent)
	if status != 200 || !strings.Contains(page, `<svg viewBox="0 0 210 297"`) || !strings.Contains(page, `<image href="/console/paper/scans/`+second+`/page.jpg" width="210" height="297"`) {
		t.Fatalf("scan page: %d\n%s", status, page)
	}
	// A 5, B 4, D 5, E 4 read; C's two marks unsure (and again in C's strip).
	if n := strings.Count(page, `class="proposal"`); n != 4 {
		t.Errorf("%d proposal boxes", n)
	}
	if n := strings.Count(page, `class="unsure"`); n != 4 {
		t.Errorf("%d unsure boxes", n)
	}
	if !regexp.MustCompile(`name="q_A" value="5" checked`).MatchString(page) || regexp.MustCompile(`name="q_C" value="\d" checked`).MatchString(page) ||
		!strings.Contains(page, `<fieldset class="q unsure" id="q-C" aria-describedby="why-C">`) || !strings.Contains(page, `src="/console/paper/scans/`+second+`/comment.jpg"`) {
		t.Fatalf("the form:\n%s", page)
	}
	vietnamese(t, "the scan page", page, "Phiếu của hồ sơ REV-2", "Nhiều ô được đánh dấu: ô 4, 5", "Không ý kiến", "Ghi nhận", "Bỏ qua phiếu", "Chờ xem lại")
	_, page = g.Page("/console/paper/scans/"+second+"?lang=en", parent)
	inEnglish(t, "the scan page", page, []string{"Form of dossier REV-2", "Several boxes marked: marked 4, 5", "No opinion", "Record", "Set the form aside"}, "Ghi nhận", "Không ý kiến")
	for _, img := range []string{"page.jpg", "comment.jpg"} {
		req := httptest.NewRequest("GET", "/console/paper/scans/"+second+"/"+img, nil)
		req.AddCookie(parent)
		if res := g.Do(req); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
			t.Fatalf("%s: %d %s", img, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}

	// Another branch's operator sees neither the page nor its image, and
	// cannot settle it.
	for _, path := range []string{"/console/paper/scans/" + second, "/console/paper/scans/" + second + "/page.jpg"} {
		if status, _ := g.Page(path, other); status != 403 && status != 404 {
			t.Fatalf("another branch opened %s: %d", path, status)
		}
	}
	if res, _ := post(g, "/console/paper/scans/"+second+"/discard", url.Values{"csrf": {otherCSRF}, "reason": {"không phải của tôi"}}, other); res.StatusCode != 403 && res.StatusCode != 404 {
		t.Fatalf("another branch set it aside: %d", res.StatusCode)
	}
	if _, page := g.Page("/console/paper", other); strings.Contains(page, second) || strings.Count(page, `data-scan="`) != 1 {
		t.Fatalf("another branch's queue:\n%s", page)
	}

	// C left unchosen: refused, what was typed kept.
	form := url.Values{"csrf": {csrf}, "q_A": {"5"}, "q_B": {"3"}, "q_D": {"5"}, "q_E": {"0"}, "comment": {"Cán bộ hướng dẫn tận tình"}}
	res, page := post(g, "/console/paper/scans/"+second+"/record", form, parent)
	if res.StatusCode != 400 || !strings.Contains(page, "Chưa chọn mức điểm cho câu C.") || !strings.Contains(page, ">\nCán bộ hướng dẫn tận tình</textarea>") ||
		!strings.Contains(page, `name="q_B" value="3" checked`) || !strings.Contains(page, `name="q_E" value="0" checked`) {
		t.Fatalf("without C: %d\n%s", res.StatusCode, page)
	}
	// Set aside without a reason: refused.
	res, page = post(g, "/console/paper/scans/"+second+"/discard", url.Values{"csrf": {csrf}, "reason": {"  "}}, parent)
	if res.StatusCode != 400 || !strings.Contains(page, "Hãy ghi lý do bỏ qua phiếu") || !strings.Contains(page, `name="q_A" value="5" checked`) {
		t.Fatalf("discard without a reason: %d\n%s", res.StatusCode, page)
	}

	// Recorded: the next page opens, saying what was done.
	form.Set("q_C", "4")
	res, _ = post(g, "/console/paper/scans/"+second+"/record", form, parent)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/console/paper/scans/"+first+"?done="+second {
		t.Fatalf("record: %d %s", res.StatusCode, loc)
	}
	_, page = g.Page("/console/paper/scans/"+first+"?done="+second, parent)
	vietnamese(t, "the next page", page, "Đã ghi nhận phiếu của hồ sơ REV-2.", "Phiếu của hồ sơ REV-1", "Nhiều ô được đánh dấu: ô 2, 3", "Nơi ngồi chờ có đủ chỗ ngồi")
	_, page = g.Page("/console/paper/scans/"+third, parent)
	vietnamese(t, "a page with nothing marked", page, "Phiếu của hồ sơ REV-3", "Máy đọc không chắc chắn")
	g.Drain()
	if _, rep := g.API("GET", "/api/v1/reports/sipas?survey=sipas-5&agency="+unit, nil); rep["responses"] != 1.0 {
		t.Fatalf("the report does not count the form: %v", rep)
	}
	r, err := g.Mongo.Responses.ByInvitation(t.Context(), g.MustInvitation("REV-2").ID)
	if err != nil || r.Channel != core.ChannelPaper || r.Comment != "Cán bộ hướng dẫn tận tình" || len(r.Answers) != 5 {
		t.Fatalf("the recorded response: %+v %v", r, err)
	}
	if res, page = post(g, "/console/paper/scans/"+second+"/record", form, parent); res.StatusCode != 400 || !strings.Contains(page, "Phiếu này đã được xử lý") ||
		!strings.Contains(page, `data-status="recorded">Đã ghi nhận`) || strings.Contains(page, `id="record"`) {
		t.Fatalf("recorded twice: %d\n%s", res.StatusCode, page)
	}

	// Answered on the web meanwhile: kept, not counted, and said so.
	if res := g.AnswerAsCitizen(gwtest.Token(late), "A=1&B=1&C=1&D=1&E=1"); res.StatusCode != 303 {
		t.Fatalf("answer: %d", res.StatusCode)
	}
	form = url.Values{"csrf": {csrf}, "q_A": {"5"}, "q_B": {"5"}, "q_C": {"5"}, "q_D": {"4"}, "q_E": {"5"}}
	res, _ = post(g, "/console/paper/scans/"+third+"/record", form, parent)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/console/paper/scans/"+first+"?done="+third {
		t.Fatalf("record an answered dossier: %d %s", res.StatusCode, loc)
	}
	_, page = g.Page("/console/paper/scans/"+first+"?done="+third, parent)
	vietnamese(t, "after a duplicate", page, "Hồ sơ REV-3 đã được trả lời trước đó: phiếu được giữ lại, không tính vào chỉ số.", "Phiếu của hồ sơ REV-1")

	// Set aside with a reason: the queue is empty and says what was done.
	res, _ = post(g, "/console/paper/scans/"+first+"/discard?agency="+unit, url.Values{"csrf": {csrf}, "reason": {"Phiếu bị rách, không đọc được"}}, parent)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || loc != "/console/paper?agency="+unit+"&done="+first {
		t.Fatalf("discard: %d %s", res.StatusCode, loc)
	}
	_, page = g.Page("/console/paper?agency="+unit+"&done="+first, parent)
	vietnamese(t, "the empty queue", page, "Đã bỏ qua phiếu của hồ sơ REV-1.", "Không có phiếu nào cần xem lại.")
	if _, page = g.Page("/console/paper/scans/"+first, parent); !strings.Contains(shown(page), "Phiếu bị rách, không đọc được") || !strings.Contains(page, `data-status="discarded"`) {
		t.Fatalf("the discarded page:\n%s", page)
	}
}

// A suggestion-box slip waits in the queue to be typed; typing it opens
// the office's feedback case, and the page says so.
func TestConsoleTypesSlips(t *testing.T) {
	g := gwtest.New(t, "", gwtest.NoRateLimits)
	g.Tree(t)
	const unit = "000.01.12.H49"
	res, _ := g.As(gwtest.AdminKey, "GET", "/api/v1/agencies/"+unit+"/slips.pdf?count=1", nil)
	if res.StatusCode != 200 {
		t.Fatalf("slips: %d", res.StatusCode)
	}
	code := gwtest.PDFCodes(t, []byte(g.Replies[len(g.Replies)-1]))[0]
	sc, err := g.Core.FilePaper(t.Context(), &core.Principal{Role: core.RoleAdmin}, core.PaperPage{File: "box.jpg", Page: 1, Code: &code, CommentImage: []byte("x")})
	if err != nil || sc.Status != store.ScanReview {
		t.Fatalf("slip: %+v %v", sc, err)
	}
	cookie, csrf := signIn(t, g, gwtest.AdminKey)
	status, page := g.Page("/console/paper/scans/"+sc.ID, cookie)
	if status != 200 || !strings.Contains(page, "Phiếu góp ý từ hòm thư") || !strings.Contains(page, `name="kind"`) {
		t.Fatalf("slip page: %d %s", status, page)
	}
	res = g.PostForm("/console/paper/scans/"+sc.ID+"/record", url.Values{"csrf": {csrf}, "kind": {"complaint"}, "text": {"Phải chờ quá lâu."}, "dossier_code": {""}}, cookie)
	if res.StatusCode != 303 {
		t.Fatalf("record: %d %s", res.StatusCode, gwtest.Body(res))
	}
	kept, _ := g.Mongo.Scans.Get(t.Context(), sc.ID)
	if kept.Status != store.ScanRecorded || kept.CaseID == "" {
		t.Fatalf("after typing: %+v", kept)
	}
	_, c := g.API("GET", "/api/v1/cases/"+kept.CaseID, nil)
	if c["kind"] != "feedback" || c["channel"] != "paper" {
		t.Fatalf("the slip's case: %v", c)
	}
}
