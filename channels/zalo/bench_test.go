package zalo

import "testing"

func BenchmarkSignature(b *testing.B) {
	body := []byte(`{"app_id":"360846524940903967","event_name":"user_send_text","timestamp":"1700000000000","sender":{"id":"246845883529197922"},"message":{"text":"5","msg_id":"m-1"}}`)
	b.ReportAllocs()
	for b.Loop() {
		Signature("360846524940903967", body, "1700000000000", "OA-SECRET-KEY")
	}
}
