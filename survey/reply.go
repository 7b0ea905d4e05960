package survey

import (
	"slices"
	"strings"
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
	// Confirm says yes to a reading the gateway asked back ("C").
	Confirm
)

// Reply is what a citizen's text message says, understood.
type Reply struct {
	Kind   ReplyKind
	Scores []int // Scores: in question order, 0 = no opinion
	// At is the question the first score answers when the citizen named it
	// with a criterion letter ("C4 D5"); -1 means the next unanswered one.
	At      int
	Comment string // Scores: the citizen's free text, NFC, trimmed
	Dossier string // StartDossier: the dossier code
	// Unsure marks a reading that could be wrong (a stray word between
	// scores, "54 545", digits and words that disagree): it is asked back
	// before anything is stored.
	Unsure bool
}

// Expect is what a conversation waits for. The reader needs it to tell a
// comment that contains score words from more scores, and criterion
// letters from words.
type Expect struct {
	// Letters has one letter per question ("ABCDE"), or is empty when
	// letters do not name questions one to one.
	Letters string
	// Counts are the numbers of scores that make a whole reply: every
	// question, or those still unanswered. Empty: any number.
	Counts []int
	// Left is how many questions are still unanswered (0: unknown); "đều
	// 4" fills those.
	Left int
	// Confirming says a reading was asked back, so "dung" is "đúng" (yes)
	// rather than "dừng" (stop).
	Confirming bool
}

// ParseReply reads text with no conversation around it (any number of
// scores, criteria A–E).
func ParseReply(text string) Reply { return Read(text, Expect{Letters: "ABCDE"}) }

// Read understands a citizen's SMS or chat reply. It never fails: what it
// cannot read is Unreadable.
//
// It folds the text (case, diacritics, NFD marks, full-width forms) into
// tokens of letters or of digits, then reads them with a small grammar:
//
//	reply   = keyword | "DG" code | lead-in* item+ comment?
//	item    = [letter] [prefix] score [particle]*
//	score   = digit 0–5 | run of 3+ digits 0–5 | level words ("rat hai long", "KYK")
//
// Lead-ins ("Đánh giá:", "Em chấm", "Dạ"), prefixes ("số", "chọn",
// "mức"), particles ("ạ", "vâng") and "điểm" after a score are skipped.
// Words of a level may carry one typo (a wrong, missing or extra letter,
// or two neighbours swapped) when no other level reads as close.
func Read(text string, e Expect) Reply {
	text = strings.TrimSpace(text)
	if !isASCII(text) {
		text = Normalize(text)
	}
	if code, ok := dossierCode(text); ok {
		return Reply{Kind: StartDossier, Dossier: code, At: -1}
	}
	toks := tokenize(text)
	if k, ok := keyword(toks, e); ok {
		return Reply{Kind: k, At: -1}
	}
	r := &reader{toks: toks, e: e}
	r.scan()
	return r.reply(text)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// token is one word or number of the reply, folded, and where it lies in
// the NFC text.
type token struct {
	w          string
	start, end int
	num        bool
}

// tokenize splits text into runs of letters and runs of digits ("A5" is
// two tokens), folding each; '?' is a token of its own.
func tokenize(text string) []token {
	out := make([]token, 0, len(text)/2+1)
	b := make([]byte, 0, 16)
	cls, start := sepRune, 0
	flush := func(end int) {
		if len(b) > 0 {
			out = append(out, token{w: string(b), start: start, end: end, num: cls == digitRune})
			b = b[:0]
		}
	}
	for i, ch := range text {
		f, c := foldRune(ch)
		if c == markRune {
			if len(b) > 0 {
				continue // a mark of the letter before: no change to the token
			}
			c = sepRune
		}
		if c != cls || c == askRune {
			flush(i)
			cls, start = c, i
		}
		switch c {
		case letterRune, digitRune:
			b = append(b, f)
		case askRune:
			out = append(out, token{w: "?", start: i, end: i + 1})
		}
	}
	flush(len(text))
	return out
}

// dossierCode reads "DG <code>" (also "ĐG:", "dg -").
func dossierCode(text string) (string, bool) {
	rest, ok := "", false
	for _, p := range []string{"DG", "dg", "Dg", "dG", "ĐG", "đg", "Đg", "đG"} {
		if r, found := strings.CutPrefix(text, p); found {
			rest, ok = r, true
			break
		}
	}
	if !ok || rest == "" {
		return "", false
	}
	trimmed := strings.TrimLeft(rest, " \t")
	if trimmed != rest || strings.ContainsAny(rest[:1], ":-") {
		trimmed = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(rest), ":-"))
	} else {
		return "", false // "DGx…" is a word
	}
	if trimmed == "" || len(trimmed) > 64 || strings.ContainsAny(trimmed, " \t\n") {
		return "", false
	}
	for _, c := range trimmed {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_/", c)) {
			return "", false
		}
	}
	return trimmed, true
}

// keywords are whole-message commands, matched on folded words with
// particles dropped ("Dạ, hủy ạ").
var keywords = map[string]ReplyKind{
	"huy": OptOut, "tu choi": OptOut, "stop": OptOut, "dung": OptOut, "huy dang ky": OptOut, "unsubscribe": OptOut,
	"dung nhan tin": OptOut, "khong nhan tin": OptOut, "huy khao sat": OptOut,
	"hd": Help, "help": Help, "?": Help, "huong dan": Help, "tro giup": Help,
	"lai": Restart, "bat dau lai": Restart, "lam lai": Restart, "restart": Restart, "gui lai": Restart,
	"c": Confirm, "co": Confirm, "ok": Confirm, "oke": Confirm, "okie": Confirm, "yes": Confirm, "y": Confirm,
	"xac nhan": Confirm, "dong y": Confirm, "chinh xac": Confirm, "phai": Confirm, "dung roi": Confirm,
	"co dung": Confirm, "c xac nhan": Confirm,
}

func keyword(toks []token, e Expect) (ReplyKind, bool) {
	if len(toks) > 6 {
		return 0, false // no command is that long, even with particles
	}
	var words []string
	for _, t := range toks {
		if !particles[t.w] || len(toks) == 1 {
			words = append(words, t.w)
		}
	}
	if len(words) == 0 {
		return 0, false
	}
	joined := strings.Join(words, " ")
	if strings.Trim(joined, "? ") == "" {
		return Help, true // "??"
	}
	if joined == "dung" && e.Confirming {
		return Confirm, true // "đúng" without its marks, answering "… Trả lời C để xác nhận"
	}
	k, ok := keywords[joined]
	return k, ok
}

// particles are politeness words read as nothing: "dạ", "vâng", "ạ".
var particles = set("da", "vang", "a", "nhe", "nha", "oi", "ah", "ha", "u", "uh", "uhm", "um", "vay", "thoi", "nhaa", "ak", "ad")

// leadIns are words a citizen writes before the scores ("Em xin đánh giá
// như sau:"). Unknown words there make the reading unsure.
var leadIns = set("danh", "gia", "tra", "loi", "em", "e", "toi", "t", "minh", "cham", "diem", "ket", "qua", "xin",
	"gui", "la", "cua", "nhu", "sau", "cho", "ban", "anh", "chi", "co", "chu", "bac", "ong", "ba", "thi", "ve",
	"muc", "do", "y", "kien", "phieu", "khao", "sat", "tieu", "theo", "thu", "tu", "lan", "luot", "rat", "vui",
	"cam", "on", "chao", "phep", "duoc", "so", "chon", "dap", "an", "nhan", "xet", "tin", "ho", "dg", "con", "lai", "nua")

// prefixes come right before one score: "số 5", "chọn 4", "mức 3".
var prefixes = set("so", "chon", "muc", "diem", "cham", "dap", "an")

// counts follow a number that counts questions: "5 tiêu chí", "5 câu".
var counts = set("tieu", "cau", "tc", "muc")

// alls say one score is for every question: "tất cả 5", "đều 5".
var alls = set("deu", "tatca", "het", "all", "ca")

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// item is one score read, with the tokens it took.
type item struct {
	score    int
	from, to int  // tokens [from, to)
	word     bool // a level in words, not a digit
	letter   int  // question named by a letter before it; -1 none
	gap      bool // unknown words between the previous item (or the start) and this one
	split    bool // one of "54" read as 5 and 4: could be a number
	fuzzy    bool // a level read through a typo
	gapStart int  // first unknown token before it, when gap
}

type reader struct {
	toks  []token
	e     Expect
	items []item
	all   bool // "tất cả", "đều": one score for every question
	bad   bool // a number out of the scale among the scores
	badAt int  // token of that number
	ambig bool // a typo that reads as two different levels
	// leadGap is the first unknown word before the first score, or -1.
	leadGap int
	memo    []levelMatch
}

func (r *reader) scan() {
	r.leadGap = -1
	gap, gapStart := false, -1
	letter := -1
	i := 0
	for i < len(r.toks) {
		t := r.toks[i]
		switch {
		case t.num && i+1 < len(r.toks) && counts[r.toks[i+1].w]:
			r.all = true // "cả 5 tiêu chí": how many, not a score
			i += 2
			if i < len(r.toks) && r.toks[i].w == "chi" {
				i++
			}
		case t.num:
			scores, ok := digitScores(t.w)
			if !ok {
				if !gap && (len(r.items) > 0 || i+1 < len(r.toks) && r.scoreAt(i+1)) && !r.bad {
					r.bad, r.badAt = true, i
				}
				gap, gapStart = r.unknown(i, gap, gapStart)
				i++
				continue
			}
			for k, s := range scores {
				it := item{score: s, from: i, to: i + 1, letter: -1, split: len(scores) == 2}
				if k == 0 {
					it.letter, it.gap, it.gapStart = letter, gap, gapStart
				}
				r.items = append(r.items, it)
			}
			letter, gap, gapStart = -1, false, -1
			i = r.skipAfterScore(i + 1)
			r.items[len(r.items)-1].to = i
		default:
			if s, n, fuzzy, amb := r.levelAt(i); n > 0 {
				if amb {
					r.ambig = true
				}
				i2 := r.skipAfterScore(i + n)
				r.items = append(r.items, item{score: s, from: i, to: i2, word: true, letter: letter, gap: gap, gapStart: gapStart, fuzzy: fuzzy})
				letter, gap, gapStart = -1, false, -1
				i = i2
				continue
			}
			if p := r.letterPos(i); p >= 0 && r.scoreAt(r.afterPrefixes(i+1)) {
				letter = p
				i = r.afterPrefixes(i + 1)
				continue
			}
			if particles[t.w] || prefixes[t.w] && r.scoreAt(r.afterPrefixes(i)) {
				i++
				continue
			}
			if alls[t.w] || t.w == "tat" && i+1 < len(r.toks) && r.toks[i+1].w == "ca" {
				r.all = true
			}
			if len(r.items) == 0 && (leadIns[t.w] || alls[t.w] || t.w == "ca" || t.w == "tat") {
				i++
				continue
			}
			gap, gapStart = r.unknown(i, gap, gapStart)
			i++
		}
	}
}

// unknown notes token i as a word the grammar does not know.
func (r *reader) unknown(i int, gap bool, gapStart int) (bool, int) {
	if len(r.items) == 0 && r.leadGap < 0 {
		r.leadGap = i
	}
	if !gap {
		return true, i
	}
	return true, gapStart
}

// skipAfterScore passes "điểm", "đ" and particles after a score.
func (r *reader) skipAfterScore(i int) int {
	for i < len(r.toks) {
		w := r.toks[i].w
		if r.isLetterItem(i) {
			break // "5 D4": criterion D, not "5 đ(iểm)"
		}
		if w == "diem" || w == "d" || particles[w] || r.all && (alls[w] || w == "ca") {
			i++
			continue
		}
		break
	}
	return i
}

// isLetterItem reports whether token i is a criterion letter starting an
// item ("a" before "5" is criterion A, not the particle "ạ").
func (r *reader) isLetterItem(i int) bool {
	return r.letterPos(i) >= 0 && r.scoreAt(r.afterPrefixes(i+1))
}

func (r *reader) afterPrefixes(i int) int {
	for i < len(r.toks) && prefixes[r.toks[i].w] {
		i++
	}
	return i
}

// letterPos is the question a one-letter token names, or -1.
func (r *reader) letterPos(i int) int {
	w := r.toks[i].w
	if len(w) != 1 || r.e.Letters == "" {
		return -1
	}
	return strings.IndexByte(r.e.Letters, w[0]-'a'+'A')
}

// scoreAt reports whether a score starts at token i.
func (r *reader) scoreAt(i int) bool {
	if i >= len(r.toks) {
		return false
	}
	if r.toks[i].num {
		_, ok := digitScores(r.toks[i].w)
		return ok
	}
	_, n, _, _ := r.levelAt(i)
	return n > 0
}

// digitScores reads "5", a run of three or more scores ("54545"), or two
// ("54", flagged by the caller as a possible number); "6", "10", "777" are
// not scores.
func digitScores(w string) ([]int, bool) {
	if len(w) > 12 {
		return nil, false
	}
	out := make([]int, 0, len(w))
	for i := 0; i < len(w); i++ {
		if w[i] > '5' {
			return nil, false
		}
		out = append(out, int(w[i]-'0'))
	}
	if len(w) == 2 && w[0] == '1' && w[1] == '0' {
		return nil, false // "10": ten, on another scale
	}
	return out, true
}

// reply picks the reading that fits what the conversation waits for.
func (r *reader) reply(text string) Reply {
	if len(r.items) == 0 || r.ambig {
		return Reply{At: -1}
	}
	items := r.items
	if lettered := r.lettered(); lettered != nil {
		return r.letterReply(text, lettered)
	}
	for i := range items {
		items[i].letter = -1 // letters on some items only: read them as words
	}
	if r.all && len(items) == 1 && len(r.e.Counts) > 0 && slices.Max(r.e.Counts) > 1 {
		n := slices.Max(r.e.Counts)
		if r.e.Left > 0 && r.e.Left < n {
			n = r.e.Left // "còn lại đều 4": the questions left
		}
		scores := make([]int, n)
		for i := range scores {
			scores[i] = items[0].score
		}
		return Reply{Kind: Scores, Scores: scores, At: -1, Unsure: true, Comment: r.comment(text, items[0].to, items)}
	}
	plain := items
	merged := mergeEcho(items)
	if r.fits(len(plain)) {
		return r.take(text, plain, len(plain))
	}
	// More scores than asked: the rest may be a comment that has score
	// words in it ("2 3 2 2 1 không hài lòng vì …"), or the scores may
	// each be said twice ("5 - rất hài lòng").
	truncated := func() (Reply, bool) {
		for _, k := range descending(r.e.Counts) {
			if k < len(plain) && (plain[k].word || plain[k].gap) {
				return r.take(text, plain, k), true
			}
		}
		return Reply{}, false
	}
	if r.commentAfter() {
		if out, ok := truncated(); ok {
			return out
		}
	}
	if r.fits(len(merged)) {
		return r.take(text, merged, len(merged))
	}
	if len(r.e.Counts) > 0 {
		if out, ok := truncated(); ok {
			return out
		}
		if len(plain) > slices.Max(r.e.Counts) {
			return Reply{At: -1} // "5 4 5 4 5 5 5": more numbers than questions
		}
	}
	return r.take(text, plain, len(plain))
}

// commentAfter reports whether words the grammar does not know come
// after the last score: a comment.
func (r *reader) commentAfter() bool {
	for i := r.items[len(r.items)-1].to; i < len(r.toks); i++ {
		if !particles[r.toks[i].w] {
			return true
		}
	}
	for _, it := range r.items[1:] {
		if it.gap {
			return true
		}
	}
	return false
}

// fits reports whether n scores make a whole reply.
func (r *reader) fits(n int) bool {
	return len(r.e.Counts) == 0 || slices.Contains(r.e.Counts, n)
}

func descending(xs []int) []int {
	out := slices.Clone(xs)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// mergeEcho reads a digit and the level words saying the same next to it
// as one score: "5 - rất hài lòng", "hài lòng (4)".
func mergeEcho(items []item) []item {
	out := make([]item, 0, len(items))
	for i := 0; i < len(items); i++ {
		it := items[i]
		if i+1 < len(items) {
			nx := items[i+1]
			if nx.score == it.score && nx.word != it.word && !nx.gap && nx.letter < 0 && !it.split && !nx.split {
				it.to = nx.to
				it.word = false
				out = append(out, it)
				i++
				continue
			}
		}
		out = append(out, it)
	}
	return out
}

// take reads the first k items as the scores and what follows as the comment.
func (r *reader) take(text string, items []item, k int) Reply {
	out := Reply{Kind: Scores, At: -1}
	for _, it := range items[:k] {
		out.Scores = append(out.Scores, it.score)
		out.Unsure = out.Unsure || it.split
	}
	for _, it := range items[1:k] {
		out.Unsure = out.Unsure || it.gap
	}
	if r.bad && (k == 0 || r.badAt < items[k-1].to) {
		return Reply{At: -1} // "5 4 6 4 5": a number off the scale among the scores
	}
	if r.bad && r.badAt == items[k-1].to {
		return Reply{At: -1} // "5 4 5 4 5 6"
	}
	if r.leadGap >= 0 {
		out.Unsure = true // "Nhanh 5 5 5 5 5": words we do not know before the scores
	}
	end := items[k-1].to
	if k < len(items) && !items[k].gap && !onlyLevels(items[k:]) {
		// a comment that begins with score words: fine
	} else if k < len(items) && !items[k].gap && onlyLevels(items[k:]) && r.restIsItems(items[k:]) {
		out.Unsure = true // "5 5 5 5 5 hài lòng": nothing but more levels after the scores
	}
	out.Comment = r.comment(text, end, items)
	return out
}

// onlyLevels reports whether items are all level words.
func onlyLevels(items []item) bool {
	for _, it := range items {
		if !it.word {
			return false
		}
	}
	return true
}

// restIsItems reports whether nothing but items (and particles) follows.
func (r *reader) restIsItems(items []item) bool {
	last := items[len(items)-1].to
	for i := last; i < len(r.toks); i++ {
		if !particles[r.toks[i].w] && r.toks[i].w != "diem" {
			return false
		}
	}
	for _, it := range items {
		if it.gap {
			return false
		}
	}
	return true
}

// comment is the citizen's own text: unknown words before the scores, and
// everything after token end, without leading punctuation or particles
// alone.
func (r *reader) comment(text string, end int, items []item) string {
	var parts []string
	if r.leadGap >= 0 && len(items) > 0 {
		parts = append(parts, text[r.toks[r.leadGap].start:r.toks[items[0].from].start])
	}
	if end < len(r.toks) {
		rest := r.toks[end:]
		onlyParticles := true
		for _, t := range rest {
			if !particles[t.w] && t.w != "diem" {
				onlyParticles = false
				break
			}
		}
		if !onlyParticles {
			parts = append(parts, text[r.toks[end-1].end:])
		}
	} else if end > 0 && r.toks[end-1].end < len(text) {
		if tail := strings.TrimSpace(text[r.toks[end-1].end:]); strings.Trim(tail, "?") == "" && tail != "" {
			parts = append(parts, tail) // "5 4 5 4 5 ?"
		}
	}
	for i, p := range parts {
		if i == 0 && r.leadGap >= 0 && len(items) > 0 {
			parts[i] = strings.TrimRight(strings.TrimSpace(p), ",.;:-–—/ ") // the words before the scores
		} else {
			parts[i] = strings.TrimLeft(strings.TrimSpace(p), ",.;:-–—/ ")
		}
	}
	return strings.TrimSpace(strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), " "))
}

// lettered returns the items when the reply names questions by letter
// ("A5 B4 C5 D4 E5"): two or more items with letters, or one alone.
func (r *reader) lettered() []item {
	n := 0
	for _, it := range r.items {
		if it.letter >= 0 {
			n++
		}
	}
	if n == 0 || n < 2 && len(r.items) > 1 {
		return nil
	}
	return r.items
}

// letterReply places lettered scores by their letters. Every score must
// have a letter (a score between "A5" and "C4" has none), no letter twice,
// and the letters must follow each other (possibly out of order).
func (r *reader) letterReply(text string, items []item) Reply {
	byPos := map[int]item{}
	last := 0
	for k, it := range items {
		if it.letter < 0 {
			// scores after the lettered ones, past a gap, are a comment
			if it.gap || it.word && k > 0 {
				break
			}
			return Reply{At: -1}
		}
		if _, twice := byPos[it.letter]; twice {
			return Reply{At: -1}
		}
		byPos[it.letter] = it
		last = k + 1
	}
	lo, hi := len(r.e.Letters), -1
	for p := range byPos {
		lo, hi = min(lo, p), max(hi, p)
	}
	if hi-lo+1 != len(byPos) {
		return Reply{At: -1} // "A5 B4 D5": which one is C?
	}
	out := Reply{Kind: Scores, At: lo}
	unsure := false
	for p := lo; p <= hi; p++ {
		it := byPos[p]
		out.Scores = append(out.Scores, it.score)
		unsure = unsure || it.split || (p > lo && it.gap)
	}
	if r.bad && r.badAt < items[last-1].to+1 {
		return Reply{At: -1}
	}
	out.Unsure = unsure || r.leadGap >= 0
	end := 0
	for _, it := range items[:last] {
		end = max(end, it.to)
	}
	out.Comment = r.comment(text, end, items[:last])
	if lo == 0 && len(out.Scores) == len(r.e.Letters) {
		out.At = -1 // every question, in order: as if unlettered
	}
	return out
}
