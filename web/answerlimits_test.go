package web_test

import (
	"fmt"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/generic"
	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// The console's answer form shows, before anything is sent, how the
// answer reaches the citizen: the SMS as sent (without diacritics), its
// parts and encoding, and the case's limits; a preview sends nothing and
// keeps the text in the form. An answer over three parts is refused
// with the count, its text kept. (The console runs no script: the count
// comes from the server, on the form's preview button.)
func TestConsoleAnswerShowsPartsBeforeSending(t *testing.T) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, `{"id":"prov-1"}`)
	const secret = "console-secret-0123456789"
	smstest.Configure(t, g, "gen", map[string]any{"type": "sms.generic",
		"settings": map[string]any{"send_url": fake.URL + "/send", "default": true}, "secrets": map[string]any{"secret": secret}})
	g.Invite("CON-2", "000.00.12.H49", map[string]any{"phone": "0912345678"})
	body := fmt.Sprintf(`{"id":"s-1","from":"0912345678","to":"8079","text":%q}`, "1 1 1 1 1")
	req := httptest.NewRequest("POST", "/webhooks/sms/gen", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Signature", generic.Sign(secret, []byte(body)))
	g.Do(req)
	g.Drain()
	_, list := g.API("GET", "/api/v1/cases", nil)
	id := list["cases"].([]any)[0].(map[string]any)["id"].(string)

	cookie := g.PostForm("/console/login", url.Values{"key": {gwtest.AdminKey}}, nil).Cookies()[0]
	_, page := g.Page("/console/cases/"+id, cookie)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	if !strings.Contains(page, "tối đa 3 phần tin SMS") || !strings.Contains(page, "tối đa 2 trả lời trong 24 giờ") || !strings.Contains(page, "Còn 2 lần.") {
		t.Fatalf("the answer form does not say the limits:\n%s", page)
	}
	post := func(text string, preview bool) (int, string) {
		t.Helper()
		v := url.Values{"csrf": {csrf}, "text": {text}}
		if preview {
			v.Set("preview", "1")
		}
		res := g.PostForm("/console/cases/"+id+"/answer", v, cookie)
		return res.StatusCode, gwtest.Body(res)
	}
	status, page := post("Sở đã xử lý hồ sơ.", true)
	if status != 200 || !strings.Contains(page, `data-parts="1" data-encoding="GSM-7"`) || !strings.Contains(page, "So da xu ly ho so.") ||
		!strings.Contains(page, ">Sở đã xử lý hồ sơ.</textarea>") {
		t.Fatalf("preview: %d\n%s", status, page)
	}
	emoji := strings.Repeat("😀", 990)
	if status, page := post(emoji, true); status != 200 || !strings.Contains(page, `data-parts="32" data-encoding="UCS-2"`) || !strings.Contains(page, "quá 3 phần") {
		t.Fatalf("preview of 990 emoji: %d\n%s", status, page)
	}
	if _, c := g.API("GET", "/api/v1/cases/"+id, nil); c["status"] != "open" || c["answer"] != nil || len(fake.Requests()) > 0 {
		t.Fatalf("a preview changed the case or sent something: %v, %d sent", c, len(fake.Requests()))
	}
	if status, page := post(emoji, false); status != 400 || !strings.Contains(page, "không quá số phần tin cho phép") || !strings.Contains(page, emoji+"</textarea>") {
		t.Fatalf("sending 990 emoji: %d\n%s", status, page)
	}
	if status, _ := post("Sở đã xử lý hồ sơ.", false); status != 303 {
		t.Fatalf("sending the answer: %d", status)
	}
	g.API("POST", "/api/v1/cases/"+id+"/reopen", nil)
	if _, page := g.Page("/console/cases/"+id, cookie); !strings.Contains(page, "Còn 1 lần.") {
		t.Fatalf("after one answer the form does not say one is left:\n%s", page)
	}
}
