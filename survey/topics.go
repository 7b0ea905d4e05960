package survey

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Polarity is how a comment speaks of a topic.
type Polarity string

// Polarities.
const (
	Complaint Polarity = "complaint"
	Praise    Polarity = "praise"
	Neutral   Polarity = "neutral"
)

// Topic is one thing a comment speaks of, and how.
type Topic struct {
	ID       string   `json:"topic" bson:"t"`
	Polarity Polarity `json:"polarity" bson:"p"`
}

// TopicDef is a topic of the lexicon: its names and the phrases that say
// it, by the polarity they carry. A neutral phrase ("thái độ") takes its
// polarity from the sentiment words of its clause ("thái độ kém").
type TopicDef struct {
	ID        string   `json:"id"`
	Name      Text     `json:"name"`
	Complaint []string `json:"complaint,omitempty"`
	Praise    []string `json:"praise,omitempty"`
	Neutral   []string `json:"neutral,omitempty"`
	// Weak phrases say the topic only in a clause that names no other:
	// there they judge the topic named ("nhanh" is quick service, but
	// "thanh toán online nhanh" is praise of the online payment).
	WeakComplaint []string `json:"weakComplaint,omitempty"`
	WeakPraise    []string `json:"weakPraise,omitempty"`
}

// lexiconFile is the lexicon as written (survey/lexicon/topics.json, or a
// province's own file, which adds to it).
type lexiconFile struct {
	Version   int        `json:"version"`
	Topics    []TopicDef `json:"topics"`
	Sentiment struct {
		Praise    []string `json:"praise"`
		Complaint []string `json:"complaint"`
		// Mild praise ("ok", "ổn") judges a topic of its clause but is no
		// praise of the service on its own: "thái độ ok", but "ok" alone.
		Mild []string `json:"mild,omitempty"`
	} `json:"sentiment"`
	// General are words of praise or thanks for the service as a whole:
	// they make the topic "praise" whatever else the comment says.
	General []string `json:"general"`
	// Negators turn what follows them in their clause: "không chờ lâu".
	Negators []string `json:"negators"`
	// Wishes ask for what is missing: a thing named just after one is a
	// complaint ("nên có thêm ghế", "mong lắp thêm quạt").
	Wishes []string `json:"wishes,omitempty"`
	// Ignore are phrases that say nothing of a topic but hold a word of
	// the lexicon once folded: "trả lời" (not "lỗi"), "xin lỗi".
	Ignore []string `json:"ignore,omitempty"`
	// Breaks end a clause besides punctuation: "nên", "vì".
	Breaks []string `json:"breaks"`
	// Contrasts end a clause and turn the comment: a topic judged again
	// after one takes its new judgement ("đông người nhưng không phải
	// chờ lâu").
	Contrasts []string `json:"contrasts,omitempty"`
	// Expectations make the rest of their clause what the writer thought
	// would happen, not what did: "tưởng phải chờ lâu, ai ngờ …".
	Expectations []string `json:"expectations,omitempty"`
	// Abbreviations are written forms and what they stand for: "ko" →
	// "không", "cb" → "cán bộ".
	Abbreviations map[string]string `json:"abbreviations"`
}

//go:embed lexicon/topics.json
var builtinLexicon []byte

// phrase is a lexicon phrase as folded words, and what it says.
type phrase struct {
	words    []string
	topic    string   // "" for a sentiment word
	polarity Polarity // "" for a phrase to ignore
	general  bool
	weak     bool // a topic phrase that judges another topic of its clause
	mild     bool // a praise that is no praise of the service on its own
}

// Lexicon classifies comments into topics. Build it with LoadLexicon.
type Lexicon struct {
	// Version names the lexicon's content: the built-in file's version and
	// a hash of the province's additions. Stored classifications of another
	// version are made again.
	Version  string
	Topics   []TopicDef
	byFirst  map[string][]*phrase // phrases by their first folded word
	vocab    map[string]bool      // every folded word of a phrase
	nearby   map[string][]string  // a word with one letter deleted → vocabulary words
	negators seqs                 // single or several words: "không", "không hề"
	wishes   seqs
	breaks   seqs
	turns    seqs // the breaks that are contrasts
	expect   seqs
	abbrev   map[string][]string
}

// seqs are word sequences by their first word.
type seqs map[string][][]string

func (m seqs) add(words []string) {
	if len(words) > 0 {
		m[words[0]] = append(m[words[0]], words)
	}
}

// at is the length of the longest sequence at toks[i], 0 for none.
func (m seqs) at(toks []string, i int) int {
	n := 0
	for _, s := range m[toks[i]] {
		if len(s) > n && i+len(s) <= len(toks) && slices.Equal(s, toks[i:i+len(s)]) {
			n = len(s)
		}
	}
	return n
}

// LoadLexicon builds the built-in lexicon plus the files given (a
// province's additions: more topics, or more phrases for a topic).
func LoadLexicon(extra ...[]byte) (*Lexicon, error) {
	var base lexiconFile
	if err := json.Unmarshal(builtinLexicon, &base); err != nil {
		return nil, fmt.Errorf("built-in lexicon: %w", err)
	}
	l := &Lexicon{Version: fmt.Sprintf("v%d", base.Version), byFirst: map[string][]*phrase{}, vocab: map[string]bool{},
		nearby: map[string][]string{}, negators: seqs{}, wishes: seqs{}, breaks: seqs{}, turns: seqs{}, expect: seqs{}, abbrev: map[string][]string{}}
	files := []lexiconFile{base}
	if len(extra) > 0 {
		h := sha256.New()
		for i, b := range extra {
			var f lexiconFile
			dec := json.NewDecoder(strings.NewReader(string(b)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&f); err != nil {
				return nil, fmt.Errorf("lexicon file %d: %w", i+1, err)
			}
			files = append(files, f)
			h.Write(b)
		}
		l.Version += "+" + hex.EncodeToString(h.Sum(nil))[:12]
	}
	for _, f := range files {
		for k, v := range f.Abbreviations {
			l.abbrev[foldPhrase(k)[0]] = foldPhrase(v)
		}
	}
	for _, f := range files {
		for _, w := range f.Negators {
			l.negators.add(l.expand(foldPhrase(w)))
		}
		for _, w := range f.Wishes {
			l.wishes.add(l.expand(foldPhrase(w)))
		}
		for _, w := range f.Breaks {
			l.breaks.add(l.expand(foldPhrase(w)))
		}
		for _, w := range f.Contrasts {
			l.breaks.add(l.expand(foldPhrase(w)))
			l.turns.add(l.expand(foldPhrase(w)))
		}
		for _, w := range f.Expectations {
			l.expect.add(l.expand(foldPhrase(w)))
		}
	}
	for _, f := range files {
		for _, d := range f.Topics {
			if d.ID == "" {
				return nil, fmt.Errorf("a topic without an id")
			}
			i := slices.IndexFunc(l.Topics, func(t TopicDef) bool { return t.ID == d.ID })
			if i < 0 {
				l.Topics = append(l.Topics, TopicDef{ID: d.ID, Name: d.Name})
				i = len(l.Topics) - 1
			} else if d.Name.VI != "" {
				l.Topics[i].Name = d.Name
			}
			t := &l.Topics[i]
			t.Complaint, t.Praise, t.Neutral = append(t.Complaint, d.Complaint...), append(t.Praise, d.Praise...), append(t.Neutral, d.Neutral...)
			t.WeakComplaint, t.WeakPraise = append(t.WeakComplaint, d.WeakComplaint...), append(t.WeakPraise, d.WeakPraise...)
			l.add(phrase{topic: d.ID, polarity: Complaint}, d.Complaint)
			l.add(phrase{topic: d.ID, polarity: Praise}, d.Praise)
			l.add(phrase{topic: d.ID, polarity: Neutral}, d.Neutral)
			l.add(phrase{topic: d.ID, polarity: Complaint, weak: true}, d.WeakComplaint)
			l.add(phrase{topic: d.ID, polarity: Praise, weak: true}, d.WeakPraise)
		}
		l.add(phrase{polarity: Praise}, f.Sentiment.Praise)
		l.add(phrase{polarity: Complaint}, f.Sentiment.Complaint)
		l.add(phrase{polarity: Praise, mild: true}, f.Sentiment.Mild)
		l.add(phrase{topic: "praise", polarity: Praise, general: true}, f.General)
		l.add(phrase{}, f.Ignore)
	}
	if !slices.ContainsFunc(l.Topics, func(t TopicDef) bool { return t.ID == "praise" }) {
		l.Topics = append(l.Topics, TopicDef{ID: "praise", Name: Text{VI: "Khen ngợi", EN: "Praise"}})
	}
	for w := range l.vocab {
		if len(w) >= 3 {
			for i := range len(w) {
				d := w[:i] + w[i+1:]
				l.nearby[d] = append(l.nearby[d], w)
			}
		}
	}
	return l, nil
}

func (l *Lexicon) add(kind phrase, phrases []string) {
	for _, s := range phrases {
		words := l.expand(foldPhrase(s))
		if len(words) == 0 {
			continue
		}
		ph := new(phrase)
		*ph = kind
		ph.words = words
		l.byFirst[words[0]] = append(l.byFirst[words[0]], ph)
		for _, w := range words {
			l.vocab[w] = true
		}
	}
}

// expand writes out abbreviations.
func (l *Lexicon) expand(words []string) []string {
	out := words[:0:0]
	for _, w := range words {
		if full, ok := l.abbrev[w]; ok {
			out = append(out, full...)
		} else {
			out = append(out, w)
		}
	}
	return out
}

// foldPhrase is a phrase of the lexicon as folded words.
func foldPhrase(s string) []string {
	var out []string
	for _, t := range words(s) {
		if t.w != "" {
			out = append(out, t.w)
		}
	}
	return out
}

// word is a folded word of a comment; w "" marks the end of a clause, "?"
// the end of a question. A word that starts with a digit is a number and
// kept as written ("10", "200k", "6h30").
type word struct{ w string }

// isBreak says whether w ends a clause (punctuation).
func isBreak(w string) bool { return w == "" || w == "?" }

// isNumber says whether w is a number ("3", "200k", "9h").
func isNumber(w string) bool { return w != "" && w[0] >= '0' && w[0] <= '9' }

// words folds text into words (case, diacritics, NFD marks, full-width
// forms, VNI digits and Telex letters left by a keyboard that did not
// convert them: "cho72 la6u", "chowf laau" read as "cho lau"), with an
// empty word at each clause break (. , ; : ! ? and line ends).
func words(text string) []word {
	out := make([]word, 0, len(text)/4+1)
	b := make([]byte, 0, 16)
	digits := false
	flush := func() {
		if len(b) == 0 {
			return
		}
		w := b
		if digits && w[0] > '9' { // VNI: tone and vowel marks typed as digits inside a word
			letters := false
			for _, c := range w {
				letters = letters || c >= 'a'
			}
			if letters {
				w = slices.DeleteFunc(w, func(c byte) bool { return c < 'a' })
			}
		}
		if w[0] <= '9' {
			out = append(out, word{string(w)})
		} else {
			out = append(out, word{telex(string(w))})
		}
		b, digits = b[:0], false
	}
	for _, r := range text {
		f, c := foldRune(r)
		switch c {
		case letterRune:
			b = append(b, f)
		case digitRune:
			b = append(b, f)
			digits = true
		case markRune:
		default:
			flush()
			if !strings.ContainsRune(".,;:!?\n()", r) {
				break
			}
			end := ""
			if r == '?' {
				end = "?"
			}
			if len(out) > 0 && isBreak(out[len(out)-1].w) {
				if end != "" {
					out[len(out)-1].w = end
				}
			} else {
				out = append(out, word{end})
			}
		}
	}
	flush()
	return out
}

// telex undoes Telex typing left in a word: doubled vowels and "dd"
// (aa, ee, oo, dd), w after a vowel (aw, ow, uw), and a tone letter (s, f,
// r, x, j), which no Vietnamese word ends with.
func telex(w string) string {
	if len(w) < 2 || !strings.ContainsAny(w, "aeiouy") {
		return w
	}
	if strings.ContainsAny(w[len(w)-1:], "sfrxj") && len(w) > 2 {
		w = w[:len(w)-1]
	}
	if !strings.Contains(w, "aa") && !strings.Contains(w, "ee") && !strings.Contains(w, "oo") && !strings.Contains(w, "dd") && !strings.Contains(w, "w") {
		return w
	}
	r := strings.NewReplacer("aa", "a", "ee", "e", "oo", "o", "dd", "d", "aw", "a", "ow", "o", "uw", "u")
	w = r.Replace(w)
	if strings.ContainsAny(w[len(w)-1:], "sfrxj") && len(w) > 2 {
		w = w[:len(w)-1]
	}
	return w
}

// Classify returns the topics of a comment, by topic id, each once with
// the polarity it is spoken of with (a complaint outweighs a praise of the
// same topic in one comment).
func (l *Lexicon) Classify(text string) []Topic {
	ws := words(text)
	toks := make([]string, 0, len(ws)+4)
	for _, w := range ws {
		if full, ok := l.abbrev[w.w]; ok {
			toks = append(toks, full...)
			continue
		}
		toks = append(toks, w.w)
	}
	var found []Topic
	type hit struct {
		ph      *phrase
		negated bool
	}
	var clause []hit
	turned := false // after a contrast
	end := func() {
		// A weak phrase judges the other topic its clause names, if any.
		var named string
		for _, h := range clause {
			if h.ph.topic != "" && !h.ph.general && !h.ph.weak {
				named = h.ph.topic
			}
		}
		// A neutral mention takes its clause's sentiment; a clause that
		// says nothing of a topic gives its praise to "praise".
		// A neutral mention with no sentiment word takes the polarity of
		// another topic's phrase there ("hướng dẫn tận tình").
		sentiment, other := Polarity(""), Polarity("")
		topical, mild := false, true
		for k, h := range clause {
			if h.ph.weak && named != "" && named != h.ph.topic {
				clause[k].ph = &phrase{words: h.ph.words, polarity: h.ph.polarity}
				h = clause[k]
			}
			p := h.ph.polarity
			if h.negated {
				p = flip(p)
			}
			switch {
			case h.ph.topic == "":
				if sentiment == "" || p == Complaint {
					sentiment = p
				}
				mild = mild && h.ph.mild
			case !h.ph.general:
				topical = true
				if p != Neutral && (other == "" || p == Complaint) {
					other = p
				}
			}
		}
		if sentiment == "" {
			sentiment = other
		}
		for _, h := range clause {
			if h.ph.topic == "" {
				continue
			}
			p := h.ph.polarity
			switch {
			case p == Neutral && h.negated:
				p = Complaint // "không hướng dẫn": not done
			case p == Neutral && sentiment != "":
				p = sentiment
			case h.negated:
				p = flip(p)
			}
			if h.ph.general && p == Complaint {
				continue // "không hài lòng" is no praise, and no topic either
			}
			if turned && p != Neutral {
				found = replace(found, Topic{h.ph.topic, p})
			} else {
				found = add(found, Topic{h.ph.topic, p})
			}
		}
		if !topical && !mild && sentiment == Praise {
			found = add(found, Topic{"praise", Praise})
		}
		clause = clause[:0]
	}
	// lastEnd is where the clause's last phrase ended, neg where its last
	// negator did (-1: none since), expecting whether an expectation
	// ("tưởng") was met in the clause: what follows it did not happen.
	lastEnd, neg, wish, expecting := 0, -1, -1, false
	for i := 0; i < len(toks); i++ {
		if isBreak(toks[i]) {
			if toks[i] == "?" && l.denied(toks, i+1) {
				// "chờ lâu? không hề": the question is answered no
				for k := range clause {
					clause[k].negated = !clause[k].negated
				}
			}
			end()
			lastEnd, neg, wish, expecting = i+1, -1, -1, false
			continue
		}
		// The longest of a phrase, a clause break, a wish, a negator and
		// an expectation that start here is what is said ("mã QR" is no
		// "mà", "nên có" no "nên").
		ph, n := l.match(toks, i)
		nb, nw, nn, ne := l.breaks.at(toks, i), l.wishes.at(toks, i), l.negators.at(toks, i), l.expect.at(toks, i)
		switch m := max(nb, nw, nn, ne); {
		case m == 0 && ph == nil:
			continue
		case m <= n:
		case m == nb:
			end()
			turned = turned || l.turns.at(toks, i) == nb
			i += nb - 1
			lastEnd, neg, wish, expecting = i+1, -1, -1, false
			continue
		case m == nw:
			i += nw - 1
			wish = i
			continue
		case m == nn:
			i += nn - 1
			neg = i
			continue
		default:
			i += ne - 1
			expecting = true
			continue
		}
		if ph.polarity == "" { // a phrase to ignore
			i += n - 1
			continue
		}
		// negated by a negator since the clause's last phrase, at most
		// three words back, or by the negated phrase just before it ("không
		// phải chờ đợi lâu")
		negated := neg >= lastEnd && neg >= i-3
		if last := len(clause) - 1; !negated && last >= 0 && lastEnd == i && clause[last].negated && ph.polarity != Neutral {
			negated = true
		}
		if ph.polarity == Neutral && ph.topic != "" && wish >= lastEnd && wish >= i-3 {
			negated = true // "nên có thêm ghế": there are too few
		}
		if !expecting {
			clause = append(clause, hit{ph, negated})
		}
		i += n - 1
		lastEnd = i + 1
	}
	end()
	slices.SortFunc(found, func(a, b Topic) int { return strings.Compare(a.ID, b.ID) })
	return found
}

// denied says whether toks[i:] starts with a bare negator, which answers a
// question before it: "chờ lâu? không hề", "phí cao? Không."
func (l *Lexicon) denied(toks []string, i int) bool {
	if i >= len(toks) {
		return false
	}
	n := l.negators.at(toks, i)
	return n > 0 && (i+n == len(toks) || isBreak(toks[i+n]))
}

// replace records t once per topic, over what was said of it before.
func replace(found []Topic, t Topic) []Topic {
	for i := range found {
		if found[i].ID == t.ID {
			found[i].Polarity = t.Polarity
			return found
		}
	}
	return append(found, t)
}

// add records t once per topic, a complaint over a praise over neutral.
func add(found []Topic, t Topic) []Topic {
	rank := map[Polarity]int{Neutral: 0, Praise: 1, Complaint: 2}
	for i := range found {
		if found[i].ID == t.ID {
			if rank[t.Polarity] > rank[found[i].Polarity] {
				found[i].Polarity = t.Polarity
			}
			return found
		}
	}
	return append(found, t)
}

func flip(p Polarity) Polarity {
	switch p {
	case Complaint:
		return Praise
	case Praise:
		return Complaint
	}
	return p
}

// match finds the longest phrase that starts at toks[i]. A word of four
// letters or more that is no Vietnamese syllable may carry one typo when
// the rest of a phrase of several words is exact ("nhiet tihn"), as may a
// word of a single-word phrase of five letters or more; two letters
// swapped are a typo in a phrase of several words even when they make a
// syllable ("cho lua"). A phrase word "n" stands for a number ("chờ N
// tiếng").
func (l *Lexicon) match(toks []string, i int) (*phrase, int) {
	var best *phrase
	for _, first := range l.candidates(toks[i]) {
		for _, ph := range l.byFirst[first.w] {
			if len(ph.words) <= len(best.wordsOrNil()) || i+len(ph.words) > len(toks) {
				continue
			}
			typos := first.typo
			ok := true
			for k := 1; k < len(ph.words) && ok; k++ {
				switch t := toks[i+k]; {
				case t == ph.words[k]:
				case ph.words[k] == "n" && isNumber(t):
				case typos == 0 && near(t, ph.words[k]):
					typos++
				default:
					ok = false
				}
			}
			if ok && (typos == 0 || len(ph.words) > 1 || len(ph.words[0]) >= 5 && !syllable(toks[i])) {
				best = ph
			}
		}
	}
	if best == nil {
		return nil, 0
	}
	return best, len(best.words)
}

func (p *phrase) wordsOrNil() []string {
	if p == nil {
		return nil
	}
	return p.words
}

type candidate struct {
	w    string
	typo int
}

// candidates are the vocabulary words w may be: itself, "n" for a
// number, or one letter away when it is not a word of the vocabulary
// and no syllable of its own.
func (l *Lexicon) candidates(w string) []candidate {
	if isNumber(w) {
		if l.vocab[w] {
			return []candidate{{w, 0}, {"n", 0}}
		}
		return []candidate{{"n", 0}}
	}
	if l.vocab[w] {
		return []candidate{{w, 0}}
	}
	if len(w) < 4 {
		return nil
	}
	var out []candidate
	seen := map[string]bool{}
	try := func(k string) {
		for _, v := range l.nearby[k] {
			if !seen[v] && near(w, v) {
				seen[v] = true
				out = append(out, candidate{v, 1})
			}
		}
	}
	try(w) // a letter missing from w
	for i := range len(w) {
		try(w[:i] + w[i+1:]) // a letter too many, wrong, or two swapped
	}
	if l.vocab[w[:len(w)-1]] && !seen[w[:len(w)-1]] && !syllable(w) {
		out = append(out, candidate{w[:len(w)-1], 1})
	}
	return out
}

// near says whether t may be v mistyped: one letter added, missing or
// changed in a word that is no syllable, or two neighbours swapped.
func near(t, v string) bool {
	if len(t) < 3 || !editOne(t, v) {
		return false
	}
	return !syllable(t) || swapped(t, v)
}

// swapped says whether a is b with two neighbouring letters swapped.
func swapped(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i+1 < len(a); i++ {
		if a[i] != b[i] {
			return a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
		}
	}
	return false
}

// initials and rhymes of a Vietnamese syllable written without its marks.
var (
	initials = []string{"ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu", "b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", ""}
	rhymes   = func() map[string]bool {
		m := map[string]bool{}
		for _, r := range strings.Fields(`a ac ach ai am an ang anh ao ap at au ay
			e ec ech em en eng enh eo ep et eu
			i ia ich iec iem ien iep iet ieu im in inh ip it iu
			o oa oac oach oai oam oan oang oanh oao oap oat oay oc oe oem oen oeo oet oi om on ong ooc oong op ot
			u ua uan uang uanh uat uay uc ue uen uenh uet ui um un ung uoc uoi uom uon uong uop uot uou up ut uu
			uy uya uych uyen uyet uynh uyp uyt y yem yen yet yeu`) {
			m[r] = true
		}
		return m
	}()
)

// syllable says whether w (folded) is a Vietnamese syllable, which a typo
// is not likely to make: "tinh" is, "tihn" is not.
func syllable(w string) bool {
	for _, in := range initials {
		if strings.HasPrefix(w, in) && (rhymes[w[len(in):]] || in == "gi" && (w == "gi" || rhymes["i"+w[2:]])) {
			return true
		}
	}
	return false
}

// editOne says whether a and b differ by one letter added, missing or
// changed, or two neighbours swapped.
func editOne(a, b string) bool {
	if a == b {
		return false
	}
	la, lb := len(a), len(b)
	switch {
	case la == lb:
		diff := -1
		for i := range la {
			if a[i] != b[i] {
				if diff >= 0 {
					return diff == i-1 && a[diff] == b[i] && a[i] == b[diff] && a[i+1:] == b[i+1:]
				}
				diff = i
			}
		}
		return true
	case la == lb+1:
		a, b = b, a
		la, lb = lb, la
		fallthrough
	case la+1 == lb:
		i := 0
		for i < la && a[i] == b[i] {
			i++
		}
		return a[i:] == b[i+1:]
	}
	return false
}

// FoldWords is text as the words a search compares: folded as comments are
// for topics (case, diacritics, "đ", NFD marks, full-width forms, stray
// VNI and Telex), so "chậm trễ", "Cham Tre" and "cham tre" are the same
// two words.
func FoldWords(text string) []string {
	var out []string
	for _, t := range words(text) {
		if !isBreak(t.w) {
			out = append(out, t.w)
		}
	}
	return out
}
