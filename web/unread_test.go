package web_test

import (
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sipasvn/gateway/internal/gwtest"
	"github.com/sipasvn/gateway/store"
)

// The console's "not understood" list: the rated agency sees its replies
// but no form; an admin enters the scores, and the reply moves to the
// resolved tab with its line for the reader's table.
func TestConsoleNotUnderstoodList(t *testing.T) {
	g := gwtest.New(t, "https://ks.example.vn")
	g.Tree(t)
	inv := g.Invite("D-CONSOLE-UNREAD", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	u := &store.UnreadReply{ID: "u:sms1:m-1", Invitation: inv["id"].(string), Survey: "sipas", Agency: "000.00.12.H49",
		Channel: "sms1", Family: "sms", Phone: "84******678", Text: "Mọi thứ đều ổn <b>cả</b>", At: time.Now()}
	if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	own := g.PostForm("/console/login", url.Values{"key": {g.Key(t, "agency", "000.00.12.H49")}}, nil).Cookies()[0]
	status, body := g.Page("/console/unread", own)
	if status != 200 || !strings.Contains(body, "Mọi thứ đều ổn &lt;b&gt;cả&lt;/b&gt;") || strings.Contains(body, `action="/console/unread/u:sms1:m-1/resolve"`) {
		t.Fatalf("the rated agency's view: %d %s", status, body)
	}
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, body = g.Page("/console/unread", admin)
	if !strings.Contains(body, `action="/console/unread/u:sms1:m-1/resolve"`) {
		t.Fatalf("admin sees no form: %s", body)
	}
	// The agency by its name, the channel in words, a link to the conversation.
	vietnamese(t, "the not-understood list", body, "Sở Tư pháp · tin nhắn SMS · 84******678", "Xem cả hội thoại và phiếu")
	if strings.Contains(shown(body), "000.00.12.H49") {
		t.Errorf("the list shows the agency's code:\n%s", shown(body))
	}
	link := "/console/conversations/" + inv["id"].(string)
	if !strings.Contains(body, `href="`+link+`"`) {
		t.Fatalf("no link to the conversation:\n%s", body)
	}
	req := httptest.NewRequest("GET", link, nil)
	req.AddCookie(admin)
	if res := g.Do(req); res.StatusCode != 303 || res.Header.Get("Location") != "/console/invitations?dossier_code=D-CONSOLE-UNREAD#conversation" {
		t.Fatalf("the conversation link: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	_, en := g.Page("/console/unread?lang=en", admin)
	inEnglish(t, "the not-understood list", en, []string{"Sở Tư pháp · SMS · 84******678", "See the whole conversation"}, "Xem cả hội thoại")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)[1]
	scores := url.Values{"csrf": {csrf}, "q_A": {"4"}, "q_B": {"4"}, "q_C": {"4"}, "q_D": {"4"}}
	if res := g.PostForm("/console/unread/u:sms1:m-1/resolve", scores, admin); res.StatusCode != 400 || !strings.Contains(gwtest.Body(res), "Điểm “E” chưa đúng") {
		t.Fatalf("a question left out: %d", res.StatusCode)
	}
	scores.Set("q_E", "0")
	res := g.PostForm("/console/unread/u:sms1:m-1/resolve", scores, admin)
	if res.StatusCode != 303 {
		t.Fatalf("resolve: %d %s", res.StatusCode, gwtest.Body(res))
	}
	if page := pageWith(g, "/console/unread", append(res.Cookies(), admin)...); !strings.Contains(page, "Đã ghi điểm công dân muốn chấm.") {
		t.Errorf("no notice after resolving:\n%s", shown(page))
	}
	_, body = g.Page("/console/unread?status=resolved", admin)
	if !strings.Contains(body, "A4 B4 C4 D4 E0") || !strings.Contains(body, `S:4,4,4,4,0`) {
		t.Fatalf("resolved tab: %s", body)
	}
}

// A reply whose invitation has a follow-up case links to the case as
// well as to the conversation; one without a case links to the
// conversation only.
func TestNotUnderstoodListLinksToTheCase(t *testing.T) {
	g := gwtest.New(t, "")
	withCase := g.Invite("D-UNREAD-CASE", "000.00.12.H49", map[string]any{"survey": "sipas-5", "phone": "0912345678"})
	if res := g.Form("/s/"+gwtest.Token(withCase), "A=1&B=1&C=1&D=2&E=1"); res.StatusCode != 303 {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	g.Drain()
	without := g.Invite("D-UNREAD-NONE", "000.00.12.H49", map[string]any{"phone": "0912345679"})
	for i, inv := range []map[string]any{withCase, without} {
		u := &store.UnreadReply{ID: "u:sms1:case-" + string(rune('a'+i)), Invitation: inv["id"].(string), Survey: "sipas-5", Agency: "000.00.12.H49",
			Channel: "sms1", Family: "sms", Text: "sao chưa ai gọi lại", At: time.Now()}
		if err := g.Mongo.Unread.Record(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	_, out := g.API("GET", "/api/v1/cases?dossier=D-UNREAD-CASE", nil)
	caseID := out["cases"].([]any)[0].(map[string]any)["id"].(string)
	admin := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, body := g.Page("/console/unread", admin)
	links := regexp.MustCompile(`href="/console/cases/([^"]+)" class="case"`).FindAllStringSubmatch(body, -1)
	if len(links) != 1 || links[0][1] != caseID {
		t.Fatalf("case links %v, want the one to case %s:\n%s", links, caseID, shown(body))
	}
	if n := strings.Count(body, `class="conversation"`); n != 2 {
		t.Fatalf("%d conversation links, want 2", n)
	}
	vietnamese(t, "the not-understood list", body, "Xem cả hội thoại và phiếu · Xem xử lý")
}
