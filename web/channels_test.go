package web_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/channels/sms/smstest"
	"github.com/sipasvn/gateway/internal/gwtest"
)

// The channels page shows the fields of the type chosen with their
// hints, saves them and says so, keeps what was typed when a save is
// refused, opens a channel's form filled in (secrets never), and sends a
// test text through the provider, showing its answer, in Vietnamese and
// in English.
func TestConsoleChannelFormAndTestText(t *testing.T) {
	g := gwtest.New(t, "")
	fake := smstest.NewFake(t, `{"id":"prov-9"}`)
	cookie, csrf := signIn(t, g, gwtest.AdminKey)

	_, page := g.Page("/console/channels?type=sms.esms", cookie)
	vietnamese(t, "the eSMS form", page, "SMS qua eSMS.vn", "Mã đối tác (CPID)", "ApiKey trong trang quản trị eSMS", "Khoá riêng ký tin đến")
	_, page = g.Page("/console/channels?type=zalo.oa&lang=en", cookie)
	inEnglish(t, "the Zalo form", page, []string{"OA secret key", "not the app's secret", "Official Account id"}, "Khoá bí mật OA")

	const secret = "console-secret-0123456789"
	form := url.Values{"csrf": {csrf}, "type": {"sms.generic"}, "id": {"gen"}, "enabled": {"true"}, "s_send_url": {"ftp://nowhere"}, "k_secret": {secret}}
	res, page := post(g, "/console/channels", form, cookie)
	if res.StatusCode != 400 || !strings.Contains(page, `value="ftp://nowhere"`) || !strings.Contains(page, `value="gen"`) || strings.Contains(page, secret) {
		t.Fatalf("a refused save: %d\n%s", res.StatusCode, shown(page))
	}
	form.Set("s_send_url", fake.URL+"/send")
	form.Set("s_default", "true")
	res, _ = post(g, "/console/channels", form, cookie)
	if res.StatusCode != 303 {
		t.Fatalf("save: %d", res.StatusCode)
	}
	flash := res.Cookies()
	if len(flash) == 0 {
		t.Fatal("the save set no notice")
	}
	page = pageWith(g, "/console/channels", append(flash, cookie)...)
	vietnamese(t, "channels after a save", page, "Đã lưu kênh gen.", "SMS qua đơn vị tích hợp (định dạng chung)", "Gửi tin thử")
	_, out := g.API("GET", "/api/v1/channels/gen", nil)
	if s := out["settings"].(map[string]any); s["send_url"] != fake.URL+"/send" || s["default"] != true {
		t.Fatalf("saved settings %v", s)
	}

	_, page = g.Page("/console/channels?edit=gen", cookie)
	if !strings.Contains(page, `value="`+fake.URL+`/send"`) || !strings.Contains(page, "đã đặt; để trống để giữ nguyên") || strings.Contains(page, secret) {
		t.Fatalf("the edit form:\n%s", page)
	}

	res, page = post(g, "/console/channels/test", url.Values{"csrf": {csrf}, "channel": {"gen"}, "phone": {"0912 345 678"}}, cookie)
	vietnamese(t, "a test text taken", page, "nhà cung cấp đã nhận tin thử tới 84******678", "prov-9")
	if res.StatusCode != 200 || len(fake.Requests()) != 1 {
		t.Fatalf("test text: %d, the provider got %d", res.StatusCode, len(fake.Requests()))
	}
	fake.SetReply(403, `{"error":"account locked"}`)
	_, page = post(g, "/console/channels/test?lang=en", url.Values{"csrf": {csrf}, "channel": {"gen"}, "phone": {"0912345678"}}, cookie)
	inEnglish(t, "a refused test text", page, []string{"the provider refused the test text", "HTTP status 403", "account locked"})
	res, page = post(g, "/console/channels/test", url.Values{"csrf": {csrf}, "channel": {"gen"}, "phone": {"12345"}}, cookie)
	if res.StatusCode != 400 || !strings.Contains(page, `value="12345"`) || len(fake.Requests()) != 2 {
		t.Fatalf("a bad phone: %d, the provider got %d\n%s", res.StatusCode, len(fake.Requests()), shown(page))
	}
	vietnamese(t, "a bad phone", page, "Số điện thoại")
}

// pageWith gets a console page with cookies: the session's and a notice's.
func pageWith(g *gwtest.Gateway, path string, cookies ...*http.Cookie) string {
	req := httptest.NewRequest("GET", path, nil)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	return gwtest.Body(g.Do(req))
}

func TestConsoleVoiceChannelForms(t *testing.T) {
	g := gwtest.New(t, "")
	cookie, csrf := signIn(t, g, gwtest.AdminKey)
	_, page := g.Page("/console/channels?type=voice.stringee", cookie)
	vietnamese(t, "the Stringee form", page, "Gọi điện khảo sát qua Stringee", "Số gọi đi", "Số lần gọi lại", "Khoá kiểm chữ ký webhook")
	_, page = g.Page("/console/channels?type=voice.twilio&lang=en", cookie)
	inEnglish(t, "the Twilio voice form", page, []string{"Survey calls through Twilio", "Calls again", "Call again after", "set its Voice URL"}, "Số lần gọi lại")

	form := url.Values{"csrf": {csrf}, "type": {"voice.twilio"}, "id": {"tv"}, "enabled": {"true"}, "s_account_sid": {"AC1"}, "s_from": {"+84899999999"},
		"s_retries": {"9"}, "k_auth_token": {"twilio-voice-token-0123"}}
	res, page := post(g, "/console/channels", form, cookie)
	if res.StatusCode != 400 || !strings.Contains(page, "“Số lần gọi lại” còn thiếu hoặc chưa đúng") || !strings.Contains(page, `value="9"`) || strings.Count(page, "Kênh mặc định") != 1 {
		t.Fatalf("a refused save: %d\n%s", res.StatusCode, shown(page))
	}
	form.Set("s_retries", "1")
	form.Set("s_retry_after", "30m")
	if res, _ = post(g, "/console/channels", form, cookie); res.StatusCode != 303 {
		t.Fatalf("save: %d", res.StatusCode)
	}
	_, out := g.API("GET", "/api/v1/channels/tv", nil)
	if s := out["settings"].(map[string]any); s["retries"] != "1" || s["retry_after"] != "30m" || !strings.HasSuffix(out["webhook_url"].(string), "/webhooks/voice/tv/answer") {
		t.Fatalf("saved %v", out)
	}
}
