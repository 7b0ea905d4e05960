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
