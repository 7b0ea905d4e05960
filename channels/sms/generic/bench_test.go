package generic

import "testing"

func BenchmarkSign(b *testing.B) {
	body := []byte(`{"id": "mo-0001", "from": "0912 345 678", "to": "8079", "text": "5 4 5 4 5 can bo nhiet tinh"}`)
	b.ReportAllocs()
	for b.Loop() {
		Sign("generic-channel-secret", body)
	}
}
