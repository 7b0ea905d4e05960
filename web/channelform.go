package web

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/sipasvn/gateway/channels"
	"github.com/sipasvn/gateway/core"
	"github.com/sipasvn/gateway/server"
	"github.com/sipasvn/gateway/survey"
)

// channelTypeNames name channel types for people (in Vietnamese: the
// template's t translates them).
var channelTypeNames = map[string]string{
	"sms.generic": "SMS qua đơn vị tích hợp (định dạng chung)", "sms.twilio": "SMS qua Twilio",
	"sms.esms": "SMS qua eSMS.vn", "sms.speedsms": "SMS qua SpeedSMS", "zalo.oa": "Zalo OA",
	"voice.twilio": "Gọi điện khảo sát qua Twilio", "voice.stringee": "Gọi điện khảo sát qua Stringee",
}

// boolSettings are the settings a checkbox sets.
var boolSettings = []string{"default", "unicode"}

// fieldLabels name a channel's settings and secrets; channelHints say
// what each is and where the provider's dashboard shows it, by
// "type/field" or, for every type, by field.
var fieldLabels = map[string]string{
	"default": "Kênh mặc định", "unicode": "Gửi tiếng Việt có dấu", "max_age": "Tuổi tối đa của tin đến",
	"send_url": "Địa chỉ gửi tin", "api_base_url": "Địa chỉ gốc API", "secret": "Khoá ký",
	"account_sid": "Account SID", "from": "Số gửi", "webhook_url": "Địa chỉ webhook công khai", "auth_token": "Auth Token",
	"cpid": "Mã đối tác (CPID)", "brandname": "Brandname", "sms_type": "Loại tin", "sign_fields": "Thứ tự trường ký",
	"private_key": "Khoá riêng ký tin đến", "api_key": "ApiKey", "secret_key": "SecretKey",
	"sender": "Brandname hoặc số gửi", "access_token": "Access token", "app_id": "ID ứng dụng",
	"oa_id": "ID Official Account", "rating_template_id": "Mã mẫu ZNS đánh giá", "oauth_base_url": "Địa chỉ gốc cấp token",
	"zns_base_url": "Địa chỉ gốc ZNS", "oa_secret_key": "Khoá bí mật OA", "app_secret": "Khoá bí mật ứng dụng",
	"refresh_token": "Refresh token",
	"api_url":       "Địa chỉ gốc API", "voice": "Giọng đọc", "retries": "Số lần gọi lại", "retry_after": "Gọi lại sau",
	"number": "Số gọi đi", "api_key_sid": "API Key SID", "api_key_secret": "API Key Secret", "signing_secret": "Khoá kiểm chữ ký webhook",
}

var channelHints = map[string]string{
	"default":                       "Kênh dùng khi phiếu chỉ ghi gửi qua “sms” hoặc “zalo”; mỗi loại có một kênh mặc định.",
	"unicode":                       "Tin có dấu dùng mã UCS-2: 70 ký tự một phần tin (67 khi ghép), tốn gấp đôi. Bỏ chọn: gửi không dấu, 160 ký tự một phần tin.",
	"max_age":                       "Tin đến cũ hơn mức này bị từ chối, để không ai gửi lại được tin cũ đã bắt được; ví dụ 10m, từ 1m đến 24h. Để trống: 10 phút.",
	"api_base_url":                  "Để trống để dùng địa chỉ chính thức của nhà cung cấp; chỉ đổi khi chạy thử với máy giả lập.",
	"sms.generic/send_url":          "Địa chỉ https mà đơn vị tích hợp cấp để nhận lệnh gửi tin; hệ thống gửi {id, to, text} kèm chữ ký X-Signature.",
	"sms.generic/secret":            "Chuỗi bí mật dùng chung với đơn vị tích hợp để ký tin hai chiều (HMAC-SHA256), ít nhất 16 ký tự, ví dụ tạo bằng openssl rand -hex 16.",
	"sms.speedsms/secret":           "Chuỗi bí mật ký tin đến theo định dạng chung, ít nhất 16 ký tự; đặt giống bên cấu hình chuyển tiếp tin đến.",
	"sms.speedsms/access_token":     "API access token trong trang quản trị SpeedSMS, phần thông tin tài khoản API.",
	"sms.speedsms/sender":           "Brandname hoặc số đã đăng ký với SpeedSMS; bắt buộc khi loại tin là 3, 5, 7 hoặc 8.",
	"sms.speedsms/sms_type":         "Loại tin của SpeedSMS: 2 số ngẫu nhiên (mặc định), 3 brandname riêng, 4 brandname chung, 5 ứng dụng Android, 8 số hai chiều.",
	"sms.twilio/account_sid":        "Mã bắt đầu bằng AC, ở trang đầu Twilio Console (Account Info).",
	"sms.twilio/from":               "Số Twilio dùng để gửi, dạng quốc tế, ví dụ +14155550100 (Phone Numbers trong Twilio Console).",
	"sms.twilio/webhook_url":        "Chỉ điền khi Twilio gọi một địa chỉ khác địa chỉ webhook trong bảng trên (qua proxy): chữ ký được kiểm theo địa chỉ này.",
	"sms.twilio/auth_token":         "Auth Token cạnh Account SID trong Twilio Console; dùng để gửi tin và kiểm chữ ký tin đến.",
	"sms.esms/cpid":                 "Mã đối tác eSMS cấp khi đăng ký đầu số nhận tin hai chiều.",
	"sms.esms/brandname":            "Brandname chăm sóc khách hàng đã đăng ký với eSMS.",
	"sms.esms/sms_type":             "Loại tin của eSMS: 2 là tin chăm sóc khách hàng có brandname.",
	"sms.esms/sign_fields":          "Thứ tự các trường eSMS ghép để ký tin đến; để trống dùng thứ tự tài liệu của eSMS.",
	"sms.esms/private_key":          "Khoá riêng eSMS cấp để ký tin đến, ít nhất 16 ký tự.",
	"sms.esms/api_key":              "ApiKey trong trang quản trị eSMS, phần quản lý API.",
	"sms.esms/secret_key":           "SecretKey đi cùng ApiKey trong trang quản trị eSMS.",
	"zalo.oa/app_id":                "ID ứng dụng trên trang Zalo for Developers.",
	"zalo.oa/oa_id":                 "ID của Official Account, trong trang quản lý OA.",
	"zalo.oa/rating_template_id":    "Mã mẫu tin ZNS đánh giá dịch vụ đã được Zalo duyệt; cần để mời qua số điện thoại.",
	"zalo.oa/api_base_url":          "Để trống để dùng địa chỉ của Zalo; chỉ đổi khi chạy thử với máy giả lập.",
	"zalo.oa/oauth_base_url":        "Để trống để dùng địa chỉ của Zalo; chỉ đổi khi chạy thử với máy giả lập.",
	"zalo.oa/zns_base_url":          "Để trống để dùng địa chỉ của Zalo; chỉ đổi khi chạy thử với máy giả lập.",
	"zalo.oa/oa_secret_key":         "Khoá bí mật của OA trong phần Webhook của ứng dụng trên Zalo for Developers, dùng kiểm chữ ký; không phải khoá của ứng dụng.",
	"zalo.oa/app_secret":            "Khoá bí mật của ứng dụng trên Zalo for Developers (phần Cài đặt), dùng để làm mới token.",
	"zalo.oa/access_token":          "Access token của OA lúc kết nối; hệ thống tự làm mới.",
	"zalo.oa/refresh_token":         "Refresh token của OA lúc kết nối; chỉ dùng được một lần, hệ thống lưu token mới sau mỗi lần làm mới.",
	"api_url":                       "Để trống để dùng địa chỉ chính thức của nhà cung cấp; chỉ đổi khi chạy thử với máy giả lập.",
	"retries":                       "Số lần gọi lại khi máy bận, không nghe máy hoặc hộp thư thoại trả lời, từ 0 đến 5; để trống: 2. Hết lượt thì gửi SMS thay.",
	"retry_after":                   "Khoảng cách giữa hai lần gọi, từ 10m đến 24h, ví dụ 2h; để trống: 2 giờ. Chỉ gọi trong giờ gọi (GATEWAY_CALL_HOURS).",
	"voice.twilio/account_sid":      "Mã bắt đầu bằng AC, ở trang đầu Twilio Console (Account Info).",
	"voice.twilio/from":             "Số Twilio có chức năng gọi, dạng quốc tế, ví dụ +84899999999; đặt Voice URL của số này là địa chỉ webhook trong bảng trên.",
	"voice.twilio/auth_token":       "Auth Token cạnh Account SID trong Twilio Console; dùng để gọi đi và kiểm chữ ký webhook.",
	"voice.twilio/voice":            "Giọng đọc tiếng Việt của Twilio; để trống: Google.vi-VN-Standard-A.",
	"voice.stringee/number":         "Số Stringee dùng để gọi đi, dạng 84…; đặt answer_url của số này là địa chỉ webhook trong bảng trên.",
	"voice.stringee/voice":          "Giọng đọc tiếng Việt của Stringee; để trống: hn_female_ngochuyen_full_48k-fhg.",
	"voice.stringee/api_key_sid":    "SID của API Key trong trang quản trị Stringee (Project, API Keys).",
	"voice.stringee/api_key_secret": "Secret của API Key đó; dùng để ký lệnh gọi đi (JWT).",
	"voice.stringee/signing_secret": "Khoá Stringee dùng để ký webhook (X-STRINGEE-SIGNATURE), ít nhất 16 ký tự.",
}

// channelField is one input of the channel form.
type channelField struct {
	Name, Label, Hint, Value string
	Secret, Required, Bool   bool
	Set                      bool // a secret already stored
}

// channelFields are the inputs a channel type needs, filled from ch when
// editing (secrets never: their names only) and from the form typed when
// a save failed.
func channelFields(c *fiber.Ctx, kind core.ChannelKind, ch *server.ChannelView) []channelField {
	var out []channelField
	add := func(name string, secret, required bool) {
		f := channelField{Name: name, Label: cmp.Or(fieldLabels[name], name), Secret: secret, Required: required,
			Bool: slices.Contains(boolSettings, name), Hint: cmp.Or(channelHints[kind.Type+"/"+name], channelHints[name])}
		if ch != nil && !secret {
			if v, ok := ch.Settings[name]; ok {
				f.Value = fmt.Sprint(v)
			}
		}
		if ch != nil && secret {
			f.Set = slices.Contains(ch.SecretsSet, name)
		}
		if c.Method() == fiber.MethodPost && !secret {
			f.Value = c.FormValue(fieldInput(f))
		}
		out = append(out, f)
	}
	add("default", false, false)
	for _, s := range kind.Settings {
		add(s, false, true)
	}
	for _, s := range kind.Optional {
		add(s, false, false)
	}
	for _, s := range kind.Secrets {
		add(s, true, ch == nil || !slices.Contains(ch.SecretsSet, s))
	}
	for _, s := range kind.OptionalSecrets {
		add(s, true, false)
	}
	return out
}

// fieldInput is the form input of a field: s_ for settings, k_ for secrets.
func fieldInput(f channelField) string {
	if f.Secret {
		return "k_" + f.Name
	}
	return "s_" + f.Name
}

// channelInput reads the channel form: each field of the type, booleans
// from their checkboxes, empty settings left out, empty secrets kept.
func channelInput(c *fiber.Ctx, kind core.ChannelKind) core.ChannelInput {
	enabled := c.FormValue("enabled") == "true"
	in := core.ChannelInput{Type: kind.Type, Enabled: &enabled, Settings: map[string]any{}, Secrets: map[string]string{}}
	for _, f := range channelFields(c, kind, nil) {
		v := strings.TrimSpace(c.FormValue(fieldInput(f)))
		switch {
		case f.Secret && v != "":
			in.Secrets[f.Name] = v
		case f.Bool && v == "true":
			in.Settings[f.Name] = true
		case !f.Secret && !f.Bool && v != "":
			in.Settings[f.Name] = v
		}
	}
	return in
}

// testChannel sends the test text of the console's "Gửi tin thử" and
// shows what the provider answered.
func (cs *console) testChannel(c *fiber.Ctx) error {
	id, lang := c.FormValue("channel"), langOf(c)
	out, err := cs.api.TestChannel(c.UserContext(), server.Principal(c), id, c.FormValue("phone"))
	if err != nil {
		return cs.redo(c, cs.channels, err)
	}
	if out.OK {
		msg := translate(lang, "Kênh %s: nhà cung cấp đã nhận tin thử tới %s.", id, survey.MaskPhone(mustPhone(c.FormValue("phone"))))
		if out.ProviderID != "" {
			msg += " " + translate(lang, "Mã tin của nhà cung cấp: %s.", out.ProviderID)
		}
		c.Locals("notice", msg)
		return cs.channels(c)
	}
	msg := translate(lang, "Kênh %s: nhà cung cấp không nhận tin thử.", id)
	if out.ProviderStatus != 0 {
		msg += " " + translate(lang, "Mã trạng thái HTTP %d.", out.ProviderStatus)
	}
	if out.ProviderCode != "" {
		msg += " " + translate(lang, "Mã lỗi của nhà cung cấp: %s.", out.ProviderCode)
	}
	c.Locals("form_error", msg+" "+translate(lang, "Trả lời của nhà cung cấp: %s", out.Error))
	return cs.channels(c)
}

// mustPhone is a phone TestChannel has already accepted, in its 84… form.
func mustPhone(s string) string {
	p, _ := survey.CanonicalPhone(s)
	return p
}

// channelTypes are the types the form offers, with their names.
func channelTypes() []struct{ Code, Name string } {
	var out []struct{ Code, Name string }
	for _, t := range channels.Types() {
		if _, ok := server.ProviderKind(t); ok {
			out = append(out, struct{ Code, Name string }{t, cmp.Or(channelTypeNames[t], t)})
		}
	}
	return out
}
