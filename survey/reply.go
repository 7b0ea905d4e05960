package survey

import (
	"slices"
	"strconv"
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
	// Lone marks one score said alone where every question was asked
	// ("rất hài lòng", "5"): Scores repeats it for each question, but the
	// citizen may as well be answering the first one alone.
	Lone bool
	// Rest says the scores are for the questions left ("còn lại 4").
	Rest bool
	// Choice holds a digit and the level beside it that disagree ("5 -
	// hài lòng": 5 and 4), said of one question: which one is asked.
	Choice []int
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
	// Names are the questions' criterion names, folded ("tiep can"), so
	// "Kết quả 4" names question D like "D4"; empty when there are none.
	Names []string
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
	if k, ok := keyword(toks, text, e); ok {
		return Reply{Kind: k, At: -1}
	}
	// Room for a short form's five scores at once: grown from nothing, the
	// items (88 bytes each) took four allocations for "5 4 5 4 5".
	r := &reader{toks: toks, e: e, text: text, restFrom: -1, items: make([]item, 0, min(len(toks), 8))}
	r.prepass()
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
			if cls == letterRune {
				b = unstretch(b)
			}
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

// unstretch shortens a letter typed three times or more to one
// ("lắmmm", "nhaaa"): stretched for emphasis, not another word.
func unstretch(b []byte) []byte {
	out := b[:0]
	for i := 0; i < len(b); {
		j := i
		for j < len(b) && b[j] == b[i] {
			j++
		}
		if j-i >= 3 {
			out = append(out, b[i])
		} else {
			out = append(out, b[i:j]...)
		}
		i = j
	}
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
	"co dung": Confirm, "c xac nhan": Confirm, "dung vay": Confirm, "chuan": Confirm,
	"khong muon danh gia": OptOut, "khong tham gia": OptOut, "khong tham gia khao sat": OptOut,
	"khong muon tham gia": OptOut, "khong muon tham gia khao sat": OptOut, "dung lai": OptOut, "ngung": OptOut,
	"danh gia lai": Restart, "lam lai tu dau": Restart, "nhap lai": Restart, "sai": Restart, "sai lam lai": Restart,
	"khong dung": Restart, "khong phai": Restart, "cham lai": Restart,
	"nhan nhu the nao": Help, "the nao": Help, "cu phap": Help, "lam sao": Help, "nhan the nao": Help, "huong dan voi": Help,
}

// hasWord reports whether a token's original text holds one of marks.
func hasWord(toks []token, text string, marks ...string) bool {
	for _, t := range toks {
		for _, m := range marks {
			if strings.Contains(text[t.start:t.end], m) {
				return true
			}
		}
	}
	return false
}

func keyword(toks []token, text string, e Expect) (ReplyKind, bool) {
	if len(toks) > 10 {
		return 0, false // no command is that long, even with particles
	}
	var words []string
	for _, t := range toks {
		if t.num {
			return 0, false
		}
		if !particles[t.w] && !fillers[t.w] || len(toks) == 1 {
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
	joined = strings.TrimSpace(strings.TrimSuffix(joined, " ?"))
	if joined == "dung" && e.Confirming && !hasWord(toks, text, "ừ", "Ừ") {
		return Confirm, true // "đúng", or "dung" without its marks, answering "… Trả lời C để xác nhận"; not "dừng"
	}
	if k, ok := keywords[joined]; ok {
		return k, true
	}
	// "Đừng nhắn tin nữa", "không nhận tin nhắn này nữa": a stop word
	// first, then sending or receiving, then messages; short, so that a
	// complaint about messages is not read as one.
	stop, send := -1, -1
	if len(words) > 6 {
		return 0, false
	}
	for i, w := range words {
		if stop < 0 && i > 2 {
			break
		}
		switch {
		case stop < 0 && (w == "dung" || w == "ngung" || w == "khong" || w == "ko" || w == "k" || w == "huy" || w == "thoi"):
			stop = i
		case stop >= 0 && send < 0 && (w == "nhan" || w == "gui"):
			send = i
		case send >= 0 && (w == "tin" || w == "sms" || w == "khao"):
			return OptOut, true
		}
	}
	return 0, false
}

// fillers carry no meaning in a command: "Đừng nhắn tin nữa".
var fillers = set("nua", "nay", "toi", "em", "minh", "roi", "xin", "cho")

// particles are politeness words read as nothing: "dạ", "vâng", "ạ".
var particles = set("da", "vang", "a", "nhe", "nha", "oi", "ah", "ha", "u", "uh", "uhm", "um", "vay", "thoi", "nhaa", "ak", "ad", "va",
	"ne", "nhen", "nghen", "hen", "luon", "lun", "zay", "dzay", "do")

// leadIns are words a citizen writes before the scores ("Em xin đánh giá
// như sau:"). Unknown words there make the reading unsure.
var leadIns = set("ok", "oke", "okie", "dc", "kinh", "ubnd", "danh", "gia", "tra", "loi", "em", "e", "toi", "t", "minh", "cham", "diem", "ket", "qua", "xin",
	"gui", "la", "cua", "nhu", "sau", "cho", "ban", "anh", "chi", "co", "chu", "bac", "ong", "ba", "thi", "ve",
	"muc", "do", "y", "kien", "phieu", "khao", "sat", "tieu", "theo", "thu", "tu", "lan", "luot", "rat", "vui",
	"cam", "on", "chao", "phep", "duoc", "so", "chon", "dap", "an", "nhan", "xet", "tin", "ho", "dg", "con", "lai", "nua",
	"cung", "thay", "van", "tui", "chau", "okk", "oki")

// oks between scores say nothing more: "ok hl, ok hl".
var oks = set("ok", "oke", "okk", "oki", "okie")

// prefixes come right before one score: "số 5", "chọn 4", "mức 3".
var prefixes = set("so", "chon", "muc", "diem", "cham", "dap", "an", "thi", "la")

// counts follow a number that counts questions: "5 tiêu chí", "5 câu".
var counts = set("tieu", "cau", "tc", "muc")

// units follow a number that is an amount, not a score: "2 lần", "30 phút".
var units = set("lan", "phut", "p", "gio", "h", "tieng", "ngay", "tuan", "thang", "nam", "nguoi", "ban", "to", "buoi",
	"trieu", "nghin", "ngan", "dong", "km", "giay", "cai", "ve")

// marks follow a score: "5 điểm", "5đ", "5 sao".
var marks = set("diem", "d", "sao", "star", "stars", "points")

// excepts introduce the exceptions to "tất cả 4": "trừ cán bộ 5".
var excepts = set("tru", "rieng", "ngoai", "con")

// alls say one score is for every question: "tất cả 5", "đều 5".
var alls = set("deu", "tatca", "het", "all", "ca", "full")

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
	clash    int  // a digit merged with the level beside it that says clash-1 (0: none)
	fuzzy    bool // a level read through a typo
	star     bool // "5 sao": a rating of the whole service
	gapStart int  // first unknown token before it, when gap
	gapEnd   int  // last unknown token before it, when gap
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
	leadGap   int
	memo      []levelMatch
	text      string
	nameWords [][]string // Expect.Names split, once
	// lastUnknown is the last token the grammar did not know.
	lastUnknown int
	// rest says the reply begins with "còn lại": its score is for the
	// questions left.
	rest bool
	// restFrom is the item after "còn lại" (the rest), or -1.
	restFrom int
	// named holds questions named by position before the pass: index
	// pairs ("1.5 2.4 …") and scores followed by their letter ("5A 4B …").
	named map[int]int
}

func (r *reader) scan() {
	r.leadGap = -1
	gap, gapStart := false, -1
	letter := -1
	i := 0
	for i < len(r.toks) {
		t := r.toks[i]
		if p, ok := r.named[i]; ok {
			letter = p
			i++
			continue
		}
		switch {
		case t.num && i+1 < len(r.toks) && counts[r.toks[i+1].w] && !r.scoreAt(r.afterPrefixes(i+2)):
			r.all = true // "cả 5 tiêu chí": how many, not a score
			i += 2
			if i < len(r.toks) && r.toks[i].w == "chi" {
				i++
			}
		case t.num && r.fraction(i) >= 0:
			s := r.fraction(i)
			r.items = append(r.items, item{score: s, from: i, to: i + 2, letter: letter, gap: gap, gapStart: gapStart, gapEnd: r.lastUnknown})
			letter, gap, gapStart = -1, false, -1
			i = r.skipAfterScore(i + 2)
			r.items[len(r.items)-1].to = i
		case t.num && (r.sepAfter(i) == "/" && i+1 < len(r.toks) && r.toks[i+1].num && (!isScore(t.w) || !isScore(r.toks[i+1].w)) || i+1 < len(r.toks) && units[r.toks[i+1].w] && r.sepAfter(i) == "" || r.code(i)):
			// "12/3", "2 lần", "30 phút": a date or an amount, part of a comment
			n := 2
			if r.sepAfter(i) == "/" && units[r.toks[min(i+2, len(r.toks)-1)].w] {
				n = 3
			}
			if c := r.codeLen(i); c > 0 {
				n = c // "000.00.12.H49-201105-0042": a dossier code
			}
			for k := 0; k < n && i < len(r.toks); k++ {
				gap, gapStart = r.unknown(i, gap, gapStart)
				i++
			}
		case t.num:
			scores, ok := digitScores(t.w)
			if ok && len(t.w) > 1 && i+1 < len(r.toks) && marks[r.toks[i+1].w] {
				ok = false // "100 điểm", "10 sao": a mark on another scale
			}
			if !ok {
				if !gap && (len(r.items) > 0 || i+1 < len(r.toks) && r.scoreAt(i+1) || marks[r.next(i)]) && !r.bad {
					r.bad, r.badAt = true, i
				}
				gap, gapStart = r.unknown(i, gap, gapStart)
				i++
				continue
			}
			for k, s := range scores {
				it := item{score: s, from: i, to: i + 1, letter: -1, split: len(scores) == 2}
				if k == 0 {
					it.letter, it.gap, it.gapStart, it.gapEnd = letter, gap, gapStart, r.lastUnknown
				}
				r.items = append(r.items, it)
			}
			if w := r.next(i); w == "sao" || w == "star" || w == "stars" {
				r.items[len(r.items)-1].star = true
			}
			i = r.skipAfterScore(i + 1)
			if p, next := r.nameAfter(i); p >= 0 && letter < 0 && len(scores) == 1 {
				r.items[len(r.items)-1].letter, i = p, next
			}
			letter, gap, gapStart = -1, false, -1
			r.items[len(r.items)-1].to = i
		default:
			if p, next := r.nameAt(i); p >= 0 && (r.scoreAt(next) || next < len(r.toks) && r.numberWord(next) >= 0) {
				letter = p
				i = next
				continue
			}
			if s := r.numberWord(i); s >= 0 && (letter >= 0 || !gap) {
				i2 := r.skipAfterScore(i + 1)
				if p, next := r.nameAfter(i2); p >= 0 && letter < 0 {
					letter, i2 = p, next // "năm điểm tiếp cận"
				}
				r.items = append(r.items, item{score: s, from: i, to: i2, word: true, letter: letter})
				letter, gap, gapStart = -1, false, -1
				i = i2
				continue
			}
			if s, n, fuzzy, amb := r.levelAt(i); n > 0 {
				if amb {
					r.ambig = true
				}
				i2 := r.skipAfterScore(i + n)
				r.items = append(r.items, item{score: s, from: i, to: i2, word: true, letter: letter, gap: gap, gapStart: gapStart, gapEnd: r.lastUnknown, fuzzy: fuzzy})
				letter, gap, gapStart = -1, false, -1
				i = i2
				continue
			}
			if particles[t.w] || prefixes[t.w] && r.scoreAt(r.afterPrefixes(i)) || oks[t.w] && len(r.items) > 0 && r.scoreAt(i+1) {
				i++
				continue
			}
			if len(r.items) == 0 && (alls[t.w] || t.w == "tat" && r.next(i) == "ca") {
				r.all = true // "tất cả 5", "đều hài lòng"; "hết ghế" after a score is a comment
			}
			if n := r.restAt(i); n > 0 && len(r.items) == 0 {
				r.rest, r.all = true, true // "còn lại 4 hết", "mấy cái sau cũng 5": the questions left
				i += n
				continue
			}
			if t.w == "con" && r.next(i) == "lai" && len(r.items) > 0 {
				r.restFrom = len(r.items) // "…, còn lại 5": the questions not named
				i += 2
				continue
			}
			if r.all && len(r.items) > 0 && excepts[t.w] {
				i++ // "tất cả 4 trừ cán bộ 5"
				continue
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

// numberWords are scores said as numbers ("bốn", "năm"), in the forms
// that cannot be another word ("bà" is not "ba", "hài" not "hai").
var numberWords = map[string]struct {
	score int
	forms []string
}{
	"mot": {1, []string{"một", "mot"}}, "hai": {2, []string{"hai"}}, "ba": {3, []string{"ba"}},
	"bon": {4, []string{"bốn", "bon"}}, "nam": {5, []string{"năm", "nam"}},
}

// numberWord reads a score said as a number at token i, or -1. It must
// stand alone: after it only particles and marks ("bốn nghen", "năm
// điểm"), then the end, a score ("5 bốn 5 5 ba") or a stop before a
// comment ("ba, cán bộ hơi lạnh lùng"). The caller checks what is before.
func (r *reader) numberWord(i int) int {
	t := r.toks[i]
	nw, ok := numberWords[t.w]
	if !ok || !slices.Contains(nw.forms, strings.ToLower(r.text[t.start:t.end])) {
		return -1
	}
	j := i + 1
	for j < len(r.toks) && (particles[r.toks[j].w] || marks[r.toks[j].w]) {
		j++
	}
	if j == len(r.toks) || r.toks[j].num || strings.ContainsAny(r.text[t.end:r.toks[j].start], ",.;:-\n") {
		return nw.score
	}
	if _, ok := numberWords[r.toks[j].w]; ok {
		return nw.score // "năm bốn năm"
	}
	return -1
}

// restPhrases say "the rest" before a score.
var restPhrases = [][]string{{"con", "lai"}, {"phan", "con", "lai"}, {"may", "cai", "sau"}, {"may", "cau", "sau"},
	{"cac", "cau", "sau"}, {"cac", "cau", "con", "lai"}, {"may", "cai", "con", "lai"}, {"nhung", "cau", "con", "lai"}}

// restAt is how many tokens a phrase saying "the rest" takes at i, or 0.
func (r *reader) restAt(i int) int {
	for _, p := range restPhrases {
		if i+len(p) > len(r.toks) {
			continue
		}
		ok := true
		for k, w := range p {
			ok = ok && r.toks[i+k].w == w
		}
		if ok {
			return len(p)
		}
	}
	return 0
}

// next is the word after token i, or "".
func (r *reader) next(i int) string {
	if i+1 < len(r.toks) {
		return r.toks[i+1].w
	}
	return ""
}

// sepAfter is the text between token i and the next, without spaces.
func (r *reader) sepAfter(i int) string {
	if i+1 >= len(r.toks) {
		return ""
	}
	return strings.TrimSpace(r.text[r.toks[i].end:r.toks[i+1].start])
}

// codeLen is how many tokens from i are glued by '.', '-', '/' or '_'
// into a code or date with a number of two digits or more
// ("000.00.12.H49", "12/3/2026"); 0 when they are not.
func (r *reader) codeLen(i int) int {
	n, long := 1, len(r.toks[i].w) > 1
	for j := i; j+1 < len(r.toks); j++ {
		if between := r.text[r.toks[j].end:r.toks[j+1].start]; len(between) != 1 || !strings.Contains("./-_", between) {
			break
		}
		n++
		long = long || r.toks[j+1].num && len(r.toks[j+1].w) > 1 // "5-rất" is a score and its level
	}
	if n < 2 || !long {
		return 0
	}
	return n
}

func (r *reader) code(i int) bool { return r.codeLen(i) > 0 }

// isScore reports whether w is one digit of the scale.
func isScore(w string) bool { return len(w) == 1 && w[0] >= '0' && w[0] <= '5' }

// fraction reads "4/5" (a score out of 5) at token i: the score, or -1.
func (r *reader) fraction(i int) int {
	if r.sepAfter(i) != "/" || i+1 >= len(r.toks) || r.toks[i+1].w != "5" || len(r.toks[i].w) != 1 || r.toks[i].w[0] > '5' ||
		i > 0 && r.sepAfter(i-1) == "/" || r.sepAfter(i+1) == "/" {
		return -1 // not "4/5" alone: "5/4/5/4/5" are five scores
	}
	return int(r.toks[i].w[0] - '0')
}

// nameAt reads a question named at token i by its letter ("C"), its
// criterion's name ("cán bộ") or its number ("câu 3"): the question, and
// the token after the name (and "thì", "là", a prefix); -1 if none.
func (r *reader) nameAt(i int) (int, int) {
	if p := r.letterPos(i); p >= 0 {
		return p, r.afterPrefixes(i + 1)
	}
	w := r.toks[i].w
	if (w == "cau" || w == "tc") && i+1 < len(r.toks) && r.toks[i+1].num && len(r.toks[i+1].w) == 1 {
		if p := int(r.toks[i+1].w[0] - '1'); p >= 0 && p < len(r.e.Letters) {
			return p, r.afterPrefixes(i + 2)
		}
	}
	for p, words := range r.names() {
		if len(words) == 0 || words[0] != w || i+len(words) > len(r.toks) {
			continue
		}
		ok := true
		for k, nw := range words {
			if r.toks[i+k].w != nw {
				ok = false
				break
			}
		}
		if ok {
			next := r.afterPrefixes(i + len(words))
			k := next
			for k < len(r.toks) && leadIns[r.toks[k].w] && !r.scoreAt(k) {
				k++ // "Tiếp cận thì bác thấy hài lòng"
			}
			if k = r.afterPrefixes(k); k > next && r.scoreAt(k) {
				return p, k
			}
			return p, next
		}
	}
	return -1, i
}

// prepass finds the forms that name questions by position before the
// grammar reads: index pairs ("1.5 2.4 3.5", "1)5 2)4"), and scores
// followed by their letter ("5A 4B 5C"), which it turns into "A5 B4 C5".
func (r *reader) prepass() {
	if r.indexRun() || r.indexMarkers() {
		return
	}
	if len(r.toks) < 4 || len(r.toks)%2 != 0 || !r.toks[0].num || len(r.toks[1].w) != 1 {
		return // neither "1.5 2.4 …" nor "5A 4B …"
	}
	idx := make([]int, len(r.toks))
	for i := range idx {
		idx[i] = i
	}
	pairs, lettersAfter := true, true
	seen := map[int]bool{}
	for k := 0; k+1 < len(idx); k += 2 {
		a, b := r.toks[idx[k]], r.toks[idx[k+1]]
		sep := r.sepAfter(idx[k])
		if !(a.num && b.num && a.w == strconv.Itoa(k/2+1) && len(b.w) == 1 && strings.ContainsAny(sep, ".):=-") && idx[k+1] == idx[k]+1) {
			pairs = false
		}
		p := -1
		if !b.num && len(b.w) == 1 {
			p = strings.IndexByte(r.e.Letters, b.w[0]-'a'+'A')
		}
		if !(a.num && len(a.w) == 1 && p >= 0 && !seen[p] && idx[k+1] == idx[k]+1) {
			lettersAfter = false
		}
		seen[p] = true
	}
	if pairs && len(idx)/2 <= len(r.e.Letters) {
		r.named = map[int]int{}
		for k := 0; k < len(idx); k += 2 {
			r.named[idx[k]] = k / 2
		}
		return
	}
	if lettersAfter {
		// read as "A5 B4": each letter moves before its score
		for k := 0; k < len(idx); k += 2 {
			a, b := &r.toks[idx[k]], &r.toks[idx[k+1]]
			a.w, b.w, a.num, b.num = b.w, a.w, b.num, a.num
		}
	}
}

// indexRun finds index pairs for every question, one after the other,
// with words before or after them ("sai tên. 1) 3; 2) 3; 3) 3; 4) 2;
// 5) 3", "1:3, 2:5, 3:3, 4:5, 5:5, thông tin chính xác").
func (r *reader) indexRun() bool {
	n := len(r.e.Letters)
	if n < 2 {
		return false
	}
	for s := 0; s+2*n <= len(r.toks); s++ {
		ok := true
		for k := 0; k < n && ok; k++ {
			a, b := r.toks[s+2*k], r.toks[s+2*k+1]
			ok = a.num && b.num && a.w == strconv.Itoa(k+1) && len(b.w) == 1 && strings.ContainsAny(r.sepAfter(s+2*k), ".):=-")
		}
		if !ok || s+2*n < len(r.toks) && r.toks[s+2*n].num || s > 0 && r.toks[s-1].num {
			continue
		}
		r.named = map[int]int{}
		for k := 0; k < n; k++ {
			r.named[s+2*k] = k
		}
		return true
	}
	return false
}

// indexMarkers finds questions numbered before their scores, one after
// the other: "1. hai long\n2. binh thuong", "1) 4\n2) 4", and one alone
// at the start ("3. rat hai long", "4. 5"), so the number is not read
// as a score. "5.4.5.4.5" has none: its numbers do not count up, and a
// number after "5.4" is a score more.
func (r *reader) indexMarkers() bool {
	n := len(r.e.Letters)
	if n < 2 {
		return false
	}
	var found []int // tokens of the markers; marker k names question k
	next, want := 0, 0
	for i := 0; i+1 < len(r.toks); i++ {
		k, span := r.marker(i, n)
		if span == 0 {
			continue
		}
		if len(found) > 0 && k != want {
			return false // numbered, but not counting up: "5.4.5.4.5"
		}
		found = append(found, i)
		next, want = i+span, k+1
		i += span - 1
	}
	if len(found) == 0 || len(found) == 1 && (found[0] != 0 || r.echo(0)) || next < len(r.toks) && r.toks[next].num {
		return false // one number inside words, or with its own level ("4: hài lòng"), or a score more after them
	}
	r.named = map[int]int{}
	for _, i := range found {
		r.named[i] = int(r.toks[i].w[0] - '1')
	}
	return true
}

// marker reads a question number at token i ("3." before a score or a
// level): the question's number and the tokens the marker and its score
// take; 0 when none.
func (r *reader) marker(i, n int) (int, int) {
	t := r.toks[i]
	if !t.num || len(t.w) != 1 || t.w[0] < '1' || int(t.w[0]-'0') > n {
		return 0, 0
	}
	sep := r.sepAfter(i)
	if sep == "" || strings.Trim(sep, ".):") != "" {
		return 0, 0
	}
	if nx := r.toks[i+1]; nx.num {
		if !isScore(nx.w) {
			return 0, 0
		}
		return int(t.w[0] - '0'), 2
	}
	if _, ln, _, _ := r.levelAt(i + 1); ln > 0 {
		return int(t.w[0] - '0'), 1 + ln
	}
	return 0, 0
}

// echo reports whether the number at token i is followed by the level
// it means ("4: hài lòng"): a score said twice, not a question's number.
func (r *reader) echo(i int) bool {
	s, ln, _, _ := r.levelAt(i + 1)
	return ln > 0 && r.toks[i].w == strconv.Itoa(s)
}

// unknown notes token i as a word the grammar does not know.
func (r *reader) unknown(i int, gap bool, gapStart int) (bool, int) {
	r.lastUnknown = i
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
		if marks[w] || particles[w] || alls[w] || w == "ca" {
			r.all = r.all || alls[w] || w == "ca" && i > 0 && r.toks[i-1].w != "tat" && r.next(i) != "" && r.toks[i+1].num
			i++
			continue
		}
		if r.toks[i].num && i+1 < len(r.toks) && counts[r.toks[i+1].w] && (i > 0 && r.toks[i-1].w == "ca") {
			i += 2 // "5 điểm cả 5 tiêu chí"
			if i < len(r.toks) && r.toks[i].w == "chi" {
				i++
			}
			continue
		}
		break
	}
	return i
}

// nameAfter reads a criterion's name after a score ("4 điểm tiếp cận,
// 5 điểm thủ tục"): the question and the token after the name, when the
// name ends the reply or a stop follows it (so "5 cán bộ tốt" stays a
// comment, and "5, thủ tục 4" names the 4); -1 if none.
func (r *reader) nameAfter(i int) (int, int) {
	if i >= len(r.toks) || r.toks[i].num || len(r.toks[i].w) == 1 {
		return -1, i
	}
	p, next := r.nameAt(i)
	if p < 0 || next == i {
		return -1, i
	}
	for next < len(r.toks) && particles[r.toks[next].w] {
		next++
	}
	if next == len(r.toks) || strings.ContainsAny(r.text[r.toks[next-1].end:r.toks[next].start], ",.;\n") {
		return p, next
	}
	return -1, i
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
	n := 0
	if len(r.e.Counts) > 0 {
		n = slices.Max(r.e.Counts)
	}
	if r.all && n > 1 && items[0].letter < 0 && len(items) > 1 && !slices.ContainsFunc(items[1:], func(it item) bool { return it.letter < 0 }) {
		return r.allBut(text, items)
	}
	if lettered := r.lettered(r.mergeEcho(items)); lettered != nil {
		return r.letterReply(text, lettered) // "Tiếp cận hài lòng dữ lắm, 5 nhen, thủ tục 4"
	}
	for i := range items {
		items[i].letter = -1 // letters on some items only: read them as words
	}
	// A digit and its own level ("5 - rất hài lòng", "4 (hài lòng)") are
	// one score.
	plain, merged := items, r.mergeEcho(items)
	if len(plain)-len(merged) >= 2 {
		plain = merged // "5-rất hài lòng, 4-hài lòng, …": each digit has its words, none is a score more
	}
	// One score alone before any other, where all were asked: said of the
	// whole service, or of the first question by a citizen who answers
	// one at a time; a digit and a level alike. Asked back (Lone), and the
	// conversation reads the next reply in its light.
	lone := !r.all && len(merged) == 1 && merged[0].clash == 0 && n > 1 && r.e.Left == n && !slices.Contains(r.e.Counts, 1)
	if (r.all || lone) && len(merged) == 1 && n > 1 {
		if r.e.Left > 0 && r.e.Left < n {
			n = r.e.Left // "còn lại đều 4": the questions left
		}
		scores := make([]int, n)
		for i := range scores {
			scores[i] = merged[0].score
		}
		return Reply{Kind: Scores, Scores: scores, At: -1, Unsure: lone || r.leadGap >= 0 || merged[0].fuzzy, Lone: lone, Rest: r.rest,
			Comment: r.comment(text, merged[0].to, merged)}
	}
	// Echoes merged win where the plain reading fits only as fewer
	// questions than all ("5 - rất hài lòng" with two left): one score.
	if len(merged) < len(plain) && len(plain) < n && r.fits(len(plain)) {
		return r.take(text, merged, len(merged))
	}
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
		if len(plain) > slices.Max(r.e.Counts) && len(merged) == len(plain) {
			return Reply{At: -1} // "5 4 5 4 5 5 5": more numbers than questions
		}
	}
	if len(merged) < len(plain) && len(plain) != n {
		return r.take(text, merged, len(merged)) // "5 - rất hài lòng, 4 - hài lòng": two scores
	}
	if len(plain) > n && n > 0 {
		return Reply{At: -1}
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

// mergeEcho reads a digit and the level words next to it as one score:
// "5 - rất hài lòng", "hài lòng (4)". When they disagree ("5 - hài
// lòng": a dash, colon, equals sign or bracket between, and nothing
// else) the digit is kept and the clash noted, to be asked.
func (r *reader) mergeEcho(items []item) []item {
	out := make([]item, 0, len(items))
	for i := 0; i < len(items); i++ {
		it := items[i]
		if i+1 < len(items) {
			nx := items[i+1]
			if nx.word != it.word && !nx.gap && nx.letter < 0 && !it.split && !nx.split && !it.star && !nx.star &&
				(nx.score == it.score || r.glued(it, nx)) {
				if it.word { // "hài lòng (4)": the digit is the score
					it.score, nx.score = nx.score, it.score
				}
				if nx.score != it.score {
					it.clash = nx.score + 1
				}
				it.to, it.word, it.fuzzy = nx.to, false, false
				out = append(out, it)
				i++
				continue
			}
		}
		out = append(out, it)
	}
	return out
}

// glued reports whether nothing but spaces, a dash, a colon, an equals
// sign or brackets lies between two items: a digit and a level said of
// one question, not two questions ("5, hài lòng").
func (r *reader) glued(a, b item) bool {
	if a.to != b.from || a.to == 0 || b.from >= len(r.toks) {
		return false
	}
	between := r.text[r.toks[a.to-1].end:r.toks[b.from].start]
	return strings.Trim(between, " ") != "" && strings.Trim(between, " -–:=()[]") == ""
}

// take reads the first k items as the scores and what follows as the comment.
func (r *reader) take(text string, items []item, k int) Reply {
	out := Reply{Kind: Scores, At: -1}
	for _, it := range items[:k] {
		out.Scores = append(out.Scores, it.score)
		out.Unsure = out.Unsure || it.split || it.clash > 0
	}
	if k == 1 && items[0].clash > 0 {
		out.Choice = []int{items[0].score, items[0].clash - 1}
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
	if r.leadGap >= 0 && !r.leadIsSentence(items[0]) {
		out.Unsure = true // "Nhanh 5 5 5 5 5": words we do not know before the scores
	}
	if k < len(items) && !items[k].gap && r.onlyItemsAfter(items[k:]) && !slices.Contains(out.Scores, items[k].score) {
		out.Unsure = true // "5 - hài lòng": the words after the scores say another level
	}
	out.Comment = r.comment(text, items[k-1].to, items)
	return out
}

// onlyItemsAfter reports whether nothing but these levels (and particles)
// follows the scores.
func (r *reader) onlyItemsAfter(items []item) bool {
	for _, it := range items {
		if !it.word || it.gap {
			return false
		}
	}
	for i := items[len(items)-1].to; i < len(r.toks); i++ {
		if !particles[r.toks[i].w] {
			return false
		}
	}
	return true
}

// leadIsSentence reports whether the unknown words before the first score
// are a comment of their own: they end with a full stop, colon, comma or
// line break ("Cán bộ tận tình. 5 5 5 5 5", "Chỗ ngồi rộng rãi, bác hài
// lòng"), or a verb of scoring gives the digit after them. A level read
// through a typo is never sure so ("kog hài lòng").
func (r *reader) leadIsSentence(first item) bool {
	if first.from == 0 || first.fuzzy {
		return false
	}
	j := first.from - 1 // the last word before the score that is not a lead-in ("bác", "em chấm") or a name
	for j >= 0 && !r.scoreAt(j) && (leadIns[r.toks[j].w] || particles[r.toks[j].w] || prefixes[r.toks[j].w] || first.letter >= 0 && r.nameWord(r.toks[j].w)) {
		j--
	}
	if j < 0 {
		return false
	}
	if strings.ContainsAny(r.text[r.toks[j].end:r.toks[first.from].start], ".:,;!\n") {
		return true // "Chỗ ngồi rộng rãi, bác hài lòng": a stop between the comment and the score
	}
	// "Cán bộ vui vẻ bác cho 5": a digit given by a verb of scoring
	return !first.word && scoring[r.toks[first.from-1].w]
}

// nameWord reports whether w is a word of a criterion's name.
func (r *reader) nameWord(w string) bool {
	for _, words := range r.names() {
		if slices.Contains(words, w) {
			return true
		}
	}
	return false
}

// names are Expect.Names split into words, once a reply.
func (r *reader) names() [][]string {
	if r.nameWords == nil && len(r.e.Names) > 0 {
		r.nameWords = make([][]string, len(r.e.Names))
		for p, name := range r.e.Names {
			r.nameWords[p] = strings.Fields(name)
		}
	}
	return r.nameWords
}

// scoring are the verbs that give a score: "bác cho 5", "em chấm 4".
var scoring = set("cho", "cham", "chon")

// allBut reads "tất cả 4 trừ cán bộ 5": every question at the first score,
// but those named after it.
func (r *reader) allBut(text string, items []item) Reply {
	n := slices.Max(r.e.Counts)
	scores := make([]int, n)
	for i := range scores {
		scores[i] = items[0].score
	}
	for _, it := range items[1:] {
		if it.letter < 0 || it.letter >= n {
			return Reply{At: -1}
		}
		scores[it.letter] = it.score
	}
	return Reply{Kind: Scores, Scores: scores, At: -1, Unsure: r.leadGap >= 0,
		Comment: r.comment(text, items[len(items)-1].to, items)}
}

// comment is the citizen's own text: unknown words before the scores, and
// everything after token end, without leading punctuation or particles
// alone.
func (r *reader) comment(text string, end int, items []item) string {
	var parts []string
	if r.leadGap >= 0 && len(items) > 0 {
		parts = append(parts, text[r.toks[0].start:r.toks[items[0].from].start])
	}
	for _, it := range items[min(1, len(items)):] {
		if it.gap && it.from < end && it.gapStart >= 0 && it.gapEnd >= it.gapStart {
			// words between two scores: "4 (hơi đông), thủ tục 5"
			parts = append(parts, strings.Trim(text[r.toks[it.gapStart].start:r.toks[it.gapEnd].end], ",.;:-–—/() "))
		}
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
func (r *reader) lettered(items []item) []item {
	n := 0
	for _, it := range items {
		if it.letter >= 0 {
			n++
		}
	}
	if n == 1 && len(items) == 2 && r.restFrom == 1 {
		return items // "cán bộ 5, còn lại 4"
	}
	if n == 0 || n < 2 && len(items) > 1 {
		return nil
	}
	return items
}

// letterReply places lettered scores by their letters. Every score must
// have a letter (a score between "A5" and "C4" has none), no letter twice,
// and the letters must follow each other (possibly out of order).
func (r *reader) letterReply(text string, items []item) Reply {
	byPos := map[int]item{}
	last := 0
	for k, it := range items {
		if it.letter < 0 && k == r.restFrom && k == len(items)-1 && len(byPos) > 0 {
			for p := range len(r.e.Letters) { // "…, còn lại 5"
				if _, named := byPos[p]; !named {
					rest := it
					rest.letter = p
					byPos[p] = rest
				}
			}
			last = k + 1
			break
		}
		if it.letter < 0 {
			// scores after the lettered ones, past a gap, are a comment
			if it.gap || it.word && k > 0 {
				break
			}
			return Reply{At: -1}
		}
		if _, twice := byPos[it.letter]; twice {
			if len(byPos) == len(r.e.Letters) {
				break // every question named: what follows is a comment ("… E5 cán bộ hài lòng")
			}
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
	out.Unsure = unsure || r.leadGap >= 0 && !r.leadIsSentence(items[0])
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
