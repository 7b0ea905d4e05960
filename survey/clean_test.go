package survey

import "testing"

// What anyone types loses what could make it show something else or hide
// something, and keeps its Vietnamese, composed, and its emoji whole.
func TestCleanText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Đánh giá: Rất hài lòng với thái độ của cán bộ ạ", "Đánh giá: Rất hài lòng với thái độ của cán bộ ạ"},
		{"Nguye\u0302\u0303n Thi\u0323 Hoa\u0300", "Nguyễn Thị Hoà"}, // decomposed, as some phones send it
		{"Cán bộ\u202e tốt", "Cán bộ tốt"},                           // right-to-left override
		{"\u2066Quầy số 3\u2069", "Quầy số 3"},                       // isolates
		{"\u202aa\u202bb\u202cc\u202dd\u2067e\u2068f", "abcdef"},     // embeddings, pop, first-strong
		{"x\u200ey\u200fz\u061c", "xyz"},                             // direction marks
		{"a\u200bb\u200cc\u2060d\ufeffe\u00adf\u180eg", "abcdefg"},   // zero-width, soft hyphen
		{"tag\U000E0041\U000E007F", "tag"},                           // tag characters (hidden text)
		{"\u3164\u115f tên", "tên"},                                  // Hangul fillers look blank
		{"a\x00b\x7f", "ab"},
		{"Cán bộ\x1b[31m tốt", "Cán bộ[31m tốt"},
		{"dòng 1\r\ndòng 2\tcột\u0085", "dòng 1\ndòng 2 cột"},
		{"dòng 1\u2028dòng 2", "dòng 1\ndòng 2"},
		{"\u00a0 Cán bộ\u00a0tốt\u3000", "Cán bộ tốt"},
		{"a\xffb", "a\uFFFDb"},
		{"cả nhà 👨\u200d👩\u200d👧 hài lòng", "cả nhà 👨\u200d👩\u200d👧 hài lòng"}, // ZWJ inside emoji stays
		{"❤\ufe0f\u200d🔥 👍🏽 🏃\u200d➡\ufe0f", "❤\ufe0f\u200d🔥 👍🏽 🏃\u200d➡\ufe0f"},
		{"a\u200db 1\u200d😀 😀\u200d", "ab 1😀 😀"}, // elsewhere it goes
		{"😀\u200d\u200b😀", "😀😀"},
		{"Hotline của Sở: 0235 3812 345", "Hotline của Sở: 0235 3812 345"}, // an operator's number stays
	} {
		if got := CleanText(c.in); got != c.want {
			t.Errorf("CleanText(%+q) = %+q, want %+q", c.in, got, c.want)
		}
	}
}
