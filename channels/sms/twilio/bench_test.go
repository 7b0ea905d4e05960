package twilio

import (
	"net/url"
	"testing"
)

func BenchmarkSignature(b *testing.B) {
	form := url.Values{"MessageSid": {"SM0a1b2c3d4e5f60718293a4b5c6d7e8f9"}, "AccountSid": {"AC00000000000000000000000000000001"},
		"From": {"+84912345678"}, "To": {"+84899999999"}, "Body": {"5 4 5 4 5"}}
	b.ReportAllocs()
	for b.Loop() {
		Signature("token", "https://ks.example.vn/webhooks/sms/tw", form)
	}
}
