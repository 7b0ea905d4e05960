package survey

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"
)

func TestBuiltinSIPASShape(t *testing.T) {
	c := Builtin()
	s, ok := c.Survey(SIPAS)
	if !ok {
		t.Fatal("sipas missing")
	}
	want := map[string]int{"A": 4, "B": 5, "C": 6, "D": 3, "E": 4}
	for code, n := range want {
		if got := len(s.QuestionsOf(code)); got != n {
			t.Errorf("criterion %s has %d questions, want %d", code, got, n)
		}
	}
	if len(s.Questions) != 22 || s.ShortForm != SIPAS5 {
		t.Errorf("sipas: %d questions, short form %q", len(s.Questions), s.ShortForm)
	}
	if c.IDs() != "overall, sipas, sipas-5" {
		t.Errorf("ids %q", c.IDs())
	}
}

// isGSM7Basic accepts the printable ASCII that GSM-7's basic table shares.
func isGSM7Basic(s string) bool {
	for _, r := range s {
		if r > 126 || r < 32 || r == '`' || r == '^' || r == '{' || r == '}' || r == '[' || r == ']' || r == '~' || r == '\\' || r == '|' {
			return false
		}
	}
	return true
}

func TestSMSFormsAreGSM7(t *testing.T) {
	texts := []Text{}
	for _, s := range Builtin().All() {
		texts = append(texts, s.Title, s.Intro, s.Comment)
		for _, q := range s.Questions {
			texts = append(texts, q.Text)
		}
		for _, c := range s.Criteria {
			texts = append(texts, c.Title)
		}
	}
	for _, l := range Scale {
		texts = append(texts, l.Label)
	}
	for _, tx := range texts {
		p := tx.Plain()
		if !isGSM7Basic(p) || len(p) > 160 || p == "" {
			t.Errorf("SMS form %q of %q is not short GSM-7", p, tx.VI)
		}
	}
}

func TestUnaccent(t *testing.T) {
	cases := map[string]string{
		"Rất hài lòng":           "Rat hai long",
		"Đồng ý, đã nhận":        "Dong y, da nhan",
		"Thủ tục hành chính":     "Thu tuc hanh chinh",
		"Ủy ban nhân dân xã":     "Uy ban nhan dan xa",
		"ascii stays":            "ascii stays",
		"Tiếp nhận, xử lý góp ý": "Tiep nhan, xu ly gop y",
	}
	for in, want := range cases {
		if got := Unaccent(in); got != want {
			t.Errorf("Unaccent(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCollectAndMissing(t *testing.T) {
	s, _ := Builtin().Survey(SIPAS5)
	form := map[string]string{"A": "5", "B": "0", "C": " 4 ", "other": "x"}
	a := Answers{}
	if err := s.Collect(a, func(k string) string { return form[k] }); err != nil {
		t.Fatal(err)
	}
	if a["A"] != 5 || a["B"] != 0 || a["C"] != 4 || len(a) != 3 {
		t.Fatalf("answers %v", a)
	}
	if m := s.Missing(a); len(m) != 2 || m[0] != "D" || m[1] != "E" {
		t.Fatalf("missing %v", m)
	}
	form["D"] = "6"
	err := s.Collect(a, func(k string) string { return form[k] })
	fe, ok := err.(*FieldError)
	if !ok || fe.Field != "D" {
		t.Fatalf("want field error on D, got %v", err)
	}
}

func TestCleanComment(t *testing.T) {
	if c, err := CleanComment("  Cán bộ nhiệt tình  "); err != nil || c != "Cán bộ nhiệt tình" {
		t.Fatalf("%q %v", c, err)
	}
	long := make([]rune, MaxComment+1)
	for i := range long {
		long[i] = 'ạ'
	}
	if _, err := CleanComment(string(long)); err == nil {
		t.Fatal("long comment accepted")
	}
	if _, err := CleanComment("\xff"); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

// Control characters a citizen sends never reach storage; line breaks do.
func TestControlCharactersAreStripped(t *testing.T) {
	for in, want := range map[string]string{
		"a\x00b":                      "ab",
		"Cán bộ\x1b[31m tốt":          "Cán bộ[31m tốt",
		"dòng 1\r\ndòng 2\tcột\u0085": "dòng 1\ndòng 2 cột",
		"bình thường":                 "bình thường",
	} {
		if got, err := CleanComment(in); err != nil || got != want {
			t.Errorf("CleanComment(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// The remembered texts are the chain's own, through the generations'
// turnover and from several goroutines at once; the memo stays bounded.
func TestPlainMemoIsTheChain(t *testing.T) {
	var m memo
	texts := []string{strings.Repeat("Đánh giá ", 200), "", "x", "e\u0301 combining", "Ǆ ǅ ﬁ ℌ ①"}
	for i := range 3000 {
		texts = append(texts, fmt.Sprintf("Câu %d/%d: Ông/bà đánh giá thế nào về %q?", i%22+1, i, "tiếp cận"))
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for round := range 3 {
				for i := range texts {
					s := texts[(i*(g+1)+round)%len(texts)]
					if got, want := m.unaccent(s), unaccent(s); got != want {
						t.Errorf("memo.unaccent(%q) = %q; the chain says %q", s, got, want)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	if n := len(m.young) + len(m.old); n > 2*memoSize {
		t.Errorf("the memo holds %d texts", n)
	}
	if got := (Text{VI: "Rất hài lòng"}).Plain(); got != "Rat hai long" {
		t.Errorf("Plain = %q", got)
	}
}

// A text given in a buffer its caller reuses (fiber's request strings) is
// remembered as a copy: the buffer's next contents change no answer.
func TestPlainMemoKeepsCopies(t *testing.T) {
	var m memo
	buf := []byte("chờ lâu quá")
	s := unsafe.String(&buf[0], len(buf))
	if got := m.unaccent(s); got != "cho lau qua" {
		t.Fatalf("unaccent = %q", got)
	}
	copy(buf, "tệ hại lắm!!")
	if got := m.unaccent("chờ lâu quá"); got != "cho lau qua" {
		t.Errorf("after the buffer changed: %q", got)
	}
	if got := m.unaccent(s); got != unaccent(s) {
		t.Errorf("the buffer's new text %q reads %q", s, got)
	}
}
