package survey

import "testing"

func BenchmarkParseReply(b *testing.B) {
	for _, in := range []string{"5 4 5 4 5", "rất hài lòng, cán bộ nhiệt tình", "54545"} {
		b.Run(in, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParseReply(in)
			}
		})
	}
}

func BenchmarkConversationStep(b *testing.B) {
	def, _ := Builtin().Survey(SIPAS5)
	r := ParseReply("5")
	b.ReportAllocs()
	for b.Loop() {
		c := NewConversation(def, "inv", "vi")
		def.Step(c, r, Text.Plain)
	}
}
