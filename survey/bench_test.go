package survey

import "testing"

// BenchmarkRead reads typical replies one by one, then the whole table
// (ns/op there is per table; the reported "ns/reply" is per reply). The
// issue's budget is 5 µs a reply.
func BenchmarkRead(b *testing.B) {
	e := contexts[""]
	for _, in := range []string{"5 4 5 4 5", "rất hài lòng, cán bộ nhiệt tình", "54545", "Dạ em chấm A5 B4 C5 D4 E5 ạ",
		"2 3 2 2 1 khong hai long vi phai bo sung giay to nhieu lan"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Read(in, e)
			}
		})
	}
	b.Run("table", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, tc := range readerCases {
				Read(tc.in, contexts[tc.ctx])
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(readerCases)), "ns/reply")
	})
}

func BenchmarkConversationStep(b *testing.B) {
	def, _ := Builtin().Survey(SIPAS5)
	b.ReportAllocs()
	for b.Loop() {
		c := NewConversation(def, "inv", "vi")
		def.Step(c, def.Read(c, "5"), Text.Plain)
	}
}
