package survey

import (
	"slices"
	"strings"
)

// level is one way of saying a point of the scale in words, folded; a word
// "~" stands for any negation ("không", "ko", "k", "chưa"…).
type level struct {
	words []string
	score int
}

// levels are the spoken points of the scale. The reader takes the longest
// that matches, so "rất không hài lòng" wins over "không hài lòng" and
// "hài lòng".
var levels = compileLevels(map[int][]string{
	5: {"nam diem", "nam sao", "hai long lem", "hl lam", "hl lem", "hai long qua", "hl qua", "rat hai long lam",
		"hai long du lam", "hl du lam", "hai long qua troi", "hl qua troi", "very good", "excellent",
		"rat hai long", "rat hl", "rhl", "hoan toan hai long", "cuc ky hai long", "cuc ki hai long", "rat rat hai long",
		"rat la hai long", "very satisfied", "rathailong", "rat hailong", "hai long lam", "rat chi la hai long", "hoan toan hl", "qua hai long"},
	4: {"hai long", "hl", "satisfied", "hailong", "bon diem", "bon sao", "good"},
	3: {"ba diem", "ba sao", "binh thg", "bthg", "binh thuong thoi", "bt thoi", "normal", "average",
		"binh thuong", "tam duoc", "tam dc", "bt", "neutral", "binhthuong", "tam tam", "trung binh", "tb", "tam on"},
	2: {"hai diem", "hai sao", "~ satisfied", "~ good", "bad", "~ hai long", "khl", "dissatisfied", "khonghailong", "kohailong", "~ hl", "kem hai long", "it hai long"},
	1: {"mot diem", "mot sao", "very bad", "rat ~ hai long", "hoan toan ~ hai long", "rkhl", "very dissatisfied", "rat khl", "rat ~ hl", "cuc ky ~ hai long",
		"rat la ~ hai long", "ratkhonghailong"},
	0: {"no idea", "n a", "~ y kien", "~ co y kien", "kyk", "~ biet", "kokien", "~ danh gia", "no opinion", "khong ro", "~ nho"},
})

// negations stand for "~" in a level.
var negations = set("khum", "hum", "khong", "ko", "k", "kh", "khg", "kg", "hong", "hok", "hem", "hk", "hog", "chua", "khon", "kong", "khoong", "hem", "not")

func compileLevels(m map[int][]string) []level {
	var out []level
	for score, phrases := range m {
		for _, p := range phrases {
			out = append(out, level{words: strings.Fields(p), score: score})
		}
	}
	return out
}

// levelsByFirst indexes levels by their first word ("~" for negations),
// so a token is compared only with levels that can start there; firsts
// lists those words for the typo check.
var levelsByFirst, firsts = func() (map[string][]level, []string) {
	m := map[string][]level{}
	for _, lv := range levels {
		m[lv.words[0]] = append(m[lv.words[0]], lv)
	}
	var fs []string
	for w := range m {
		if len(w) >= 3 {
			fs = append(fs, w)
		}
	}
	slices.Sort(fs)
	return m, fs
}()

// candidates are the levels that may start with w: by its own first word,
// as a negation, or through a typo of a first word.
func candidates(w string, visit func(level)) {
	for _, lv := range levelsByFirst[w] {
		visit(lv)
	}
	if negations[w] || len(w) >= 3 && oneEdit(w, "khong") {
		for _, lv := range levelsByFirst["~"] {
			visit(lv)
		}
	}
	if len(w) < 3 {
		return
	}
	for _, first := range firsts {
		if first != w && abs(len(first)-len(w)) <= 1 && oneEdit(w, first) {
			for _, lv := range levelsByFirst[first] {
				visit(lv)
			}
		}
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// levelAt matches a level at token i: its score, how many tokens it took
// (0: none), whether a typo was forgiven, and whether the typo reads as
// two different levels (then nothing can be stored from it). The longest
// match wins; among equally long ones an exact match wins.
func (r *reader) levelAt(i int) (score, n int, fuzzy, ambiguous bool) {
	if r.memo == nil {
		r.memo = make([]levelMatch, len(r.toks))
	}
	if m := &r.memo[i]; m.done {
		return m.score, m.n, m.fuzzy, m.ambiguous
	}
	exactFound := false
	if !r.toks[i].num {
		candidates(r.toks[i].w, func(lv level) {
			if len(lv.words) > len(r.toks)-i || len(lv.words) < n {
				return
			}
			if lv.words[0] == "qua" && i > 0 && r.toks[i-1].w == "ket" {
				return // "kết quả hài lòng": the criterion, not "quá hài lòng"
			}
			exact, ok := r.matches(lv, i)
			switch {
			case !ok:
			case len(lv.words) > n:
				score, n, fuzzy, ambiguous, exactFound = lv.score, len(lv.words), !exact, false, exact
			case exactFound:
			case exact:
				score, fuzzy, ambiguous, exactFound = lv.score, false, false, true
			case lv.score != score:
				ambiguous = true // two levels as close as each other
			}
		})
	}
	r.memo[i] = levelMatch{done: true, score: score, n: n, fuzzy: fuzzy, ambiguous: ambiguous}
	return score, n, fuzzy, ambiguous
}

// levelMatch remembers levelAt's answer for a token.
type levelMatch struct {
	done, fuzzy, ambiguous bool
	score, n               int
}

// matches reports whether lv's words are at token i, exactly or with one
// typo per word where the level has two words or more and at least one
// word is exact.
func (r *reader) matches(lv level, i int) (exact, ok bool) {
	exactWords := 0
	for j, want := range lv.words {
		t := r.toks[i+j]
		if t.num {
			return false, false
		}
		switch {
		case want == "~" && negations[t.w], t.w == want:
			exactWords++
		case len(lv.words) < 2:
			return false, false
		case want == "~" && oneEdit(t.w, "khong"):
		case want != "~" && oneEdit(t.w, want):
		default:
			return false, false
		}
	}
	if exactWords == 0 {
		return false, false
	}
	return exactWords == len(lv.words), true
}

// oneEdit reports whether got is want with one typo: a letter wrong,
// missing or extra in words of four letters or more, a letter typed
// twice, or two neighbouring letters swapped ("hia" for "hai").
func oneEdit(got, want string) bool {
	if got == want {
		return true
	}
	if len(got) == len(want)+1 && len(want) >= 2 {
		for k := 1; k < len(got); k++ {
			if got[k] == got[k-1] && got[:k]+got[k+1:] == want {
				return true // a letter typed twice: "haii", "longg"
			}
		}
	}
	if len(got) == len(want) {
		diff := -1
		for k := 0; k < len(got); k++ {
			if got[k] != want[k] {
				if diff >= 0 {
					// a swap of the two neighbours, and nothing else
					return k == diff+1 && got[diff] == want[k] && got[k] == want[diff] && got[k+1:] == want[k+1:]
				}
				diff = k
			}
		}
		return len(want) >= 4 // one letter wrong
	}
	if len(want) < 4 {
		return false
	}
	short, long := got, want
	if len(short) > len(long) {
		short, long = long, short
	}
	if len(long)-len(short) != 1 {
		return false
	}
	for k := 0; k < len(short); k++ {
		if short[k] != long[k] {
			return short[k:] == long[k+1:]
		}
	}
	return true
}
