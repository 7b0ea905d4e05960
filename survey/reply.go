package survey

import (
	"regexp"
	"strings"
	"unicode"
)

// ReplyKind says what a chat reply means.
type ReplyKind int

// Reply kinds.
const (
	Unreadable ReplyKind = iota
	Scores
	OptOut
	Help
	Restart
	StartDossier
)

// Reply is what a citizen's text message says, understood.
type Reply struct {
	Kind    ReplyKind
	Scores  []int  // Scores: in the order given, 0 = no opinion
	Comment string // Scores: free text after the scores, NFC, trimmed
	Dossier string // StartDossier: the dossier code
}

// keywords are whole-message commands, matched without diacritics or case.
var keywords = map[string]ReplyKind{
	"huy": OptOut, "tu choi": OptOut, "stop": OptOut, "dung": OptOut, "huy dang ky": OptOut, "unsubscribe": OptOut,
	"hd": Help, "help": Help, "?": Help, "huong dan": Help, "tro giup": Help,
	"lai": Restart, "bat dau lai": Restart, "lam lai": Restart, "restart": Restart,
}

// phrases are spoken levels, longest first so "rat khong hai long" wins over
// "khong hai long" and "hai long".
var phrases = []struct {
	words []string
	score int
}{
	{[]string{"rat", "khong", "hai", "long"}, 1},
	{[]string{"rat", "ko", "hai", "long"}, 1},
	{[]string{"rat", "k", "hai", "long"}, 1},
	{[]string{"hoan", "toan", "khong", "hai", "long"}, 1},
	{[]string{"khong", "co", "y", "kien"}, 0},
	{[]string{"khong", "y", "kien"}, 0},
	{[]string{"ko", "y", "kien"}, 0},
	{[]string{"khong", "hai", "long"}, 2},
	{[]string{"ko", "hai", "long"}, 2},
	{[]string{"k", "hai", "long"}, 2},
	{[]string{"kh", "hai", "long"}, 2},
	{[]string{"chua", "hai", "long"}, 2},
	{[]string{"rat", "hai", "long"}, 5},
	{[]string{"very", "satisfied"}, 5},
	{[]string{"very", "dissatisfied"}, 1},
	{[]string{"binh", "thuong"}, 3},
	{[]string{"tam", "duoc"}, 3},
	{[]string{"hai", "long"}, 4},
	{[]string{"khong", "biet"}, 0},
	{[]string{"dissatisfied"}, 2},
	{[]string{"neutral"}, 3},
	{[]string{"satisfied"}, 4},
	{[]string{"rkhl"}, 1},
	{[]string{"khl"}, 2},
	{[]string{"bt"}, 3},
	{[]string{"hl"}, 4},
	{[]string{"rhl"}, 5},
	{[]string{"kyk"}, 0},
}

var dossierStart = regexp.MustCompile(`^(?i)[dđ]g\s*[:\-]?\s+([A-Za-z0-9.\-_/]{1,64})\s*$`)

// ParseReply understands a citizen's SMS or chat reply. It never fails:
// what it cannot read is Unreadable.
func ParseReply(text string) Reply {
	text = strings.TrimSpace(Normalize(text))
	if m := dossierStart.FindStringSubmatch(text); m != nil {
		return Reply{Kind: StartDossier, Dossier: m[1]}
	}
	toks := tokenize(text)
	if len(toks) == 0 {
		return Reply{}
	}
	if k, ok := keywords[joinFolded(toks)]; ok {
		return Reply{Kind: k}
	}
	if strings.Trim(joinFolded(toks), "? ") == "" {
		return Reply{Kind: Help} // "??"
	}
	scores, used := readScores(toks)
	if len(scores) == 0 {
		return Reply{}
	}
	if used < len(toks) && isNumber(toks[used].folded) {
		return Reply{} // "5 4 5 4 6": a score out of range, not a comment
	}
	r := Reply{Kind: Scores, Scores: scores}
	if used < len(toks) {
		r.Comment = strings.TrimLeft(strings.TrimSpace(text[toks[used].start:]), ",.;:-–/ ")
	}
	return r
}

// token is one word of the reply: its folded form and where it starts.
type token struct {
	folded string
	start  int
}

func isSep(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(",;.:-–—/|+_*()[]!", r)
}

// tokenize splits on spaces and punctuation, folding case and diacritics.
// A lone "?" is kept as a token so that "?" can ask for help.
func tokenize(text string) []token {
	var out []token
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, token{folded: fold(text[start:end]), start: start})
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case r == '?':
			flush(i)
			out = append(out, token{folded: "?", start: i})
		case isSep(r):
			flush(i)
		case start < 0:
			start = i
		}
	}
	flush(len(text))
	return out
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// fold lower-cases a word and drops its diacritics; plain ASCII, the usual
// reply, skips the Unicode machinery.
func fold(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] >= 0x80 {
			return strings.ToLower(Unaccent(w))
		}
	}
	return strings.ToLower(w)
}

func joinFolded(toks []token) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = t.folded
	}
	return strings.Join(parts, " ")
}

// readScores reads scores from the front of toks and says how many tokens
// they took. Digits come alone ("5 4 5"), run together ("54545", three or
// more) or as words ("rat hai long").
func readScores(toks []token) ([]int, int) {
	var scores []int
	i := 0
	for i < len(toks) {
		t := toks[i].folded
		if d, ok := digits(t); ok {
			scores = append(scores, d...)
			i++
			continue
		}
		if s, n := phraseAt(toks[i:]); n > 0 {
			scores = append(scores, s)
			i += n
			continue
		}
		if t == "diem" && len(scores) > 0 { // "5 diem"
			i++
			continue
		}
		break
	}
	return scores, i
}

// digits reads "5" or a run of 3 or more scores like "54545"; "10" or "6"
// are not scores.
func digits(t string) ([]int, bool) {
	t = strings.TrimSuffix(t, "d") // "5d" = 5 điểm
	if len(t) == 0 || (len(t) == 2) {
		return nil, false
	}
	out := make([]int, 0, len(t))
	for _, r := range t {
		if r < '0' || r > '5' {
			return nil, false
		}
		out = append(out, int(r-'0'))
	}
	return out, true
}

// phraseAt matches a level phrase at the front of toks, allowing one typo
// in words of four letters or more ("hai lon", "thuongg").
func phraseAt(toks []token) (score, n int) {
	for _, p := range phrases {
		if len(p.words) > len(toks) {
			continue
		}
		ok, fuzzy := true, len(p.words) > 1 // abbreviations must be exact
		for j, w := range p.words {
			if !closeEnough(toks[j].folded, w, fuzzy) {
				ok = false
				break
			}
		}
		if ok {
			return p.score, len(p.words)
		}
	}
	return 0, 0
}

func closeEnough(got, want string, fuzzy bool) bool {
	if got == want {
		return true
	}
	if !fuzzy || len(want) < 4 {
		return false
	}
	return editDistanceAtMostOne(got, want)
}

func editDistanceAtMostOne(a, b string) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > 1 {
		return false
	}
	i, j, edits := 0, 0, 0
	for i < len(a) && j < len(b) {
		if a[i] == b[j] {
			i++
			j++
			continue
		}
		edits++
		if edits > 1 {
			return false
		}
		if len(a) == len(b) {
			i++
		}
		j++
	}
	return edits+(len(b)-j)+(len(a)-i) <= 1
}
