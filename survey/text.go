package survey

import (
	"strings"
	"sync"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns s in Unicode NFC, the form every stored text uses:
// for matching and searching. Text a person typed goes through CleanText
// or CleanCitizenText, which also normalise.
func Normalize(s string) string { return norm.NFC.String(s) }

// unaccenters are reusable NFD → drop marks → NFC chains: a chain keeps
// state, so each goroutine takes its own from the pool.
var unaccenters = sync.Pool{New: func() any {
	return transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
}}

var dWithStroke = strings.NewReplacer("đ", "d", "Đ", "D")

// Unaccent writes Vietnamese without diacritics ("không dấu") for GSM-7 SMS:
// decompose, drop the combining marks, and map đ→d, Đ→D.
func Unaccent(s string) string {
	if isASCII(s) {
		return s
	}
	return unaccent(s)
}

// plainMemo unaccents a survey's texts for Text.Plain, remembering the
// last of them: an SMS reply renders its texts on every webhook, and the
// chain cost about 3% of the gateway's CPU per SMS webhook (6.8 µs a
// question's text; 22 ns remembered). Only Plain uses it, so the texts
// are a survey's own few, not citizens' comments searched by the console.
var plainMemo memo

// memo keeps texts unaccented lately in two generations: a text read
// from the old one moves to the young one, and once the young one holds
// memoSize the old one is dropped, so a text used all along stays and
// memory stays bounded (2 × memoSize texts of at most maxMemoText bytes).
type memo struct {
	sync.Mutex
	young, old map[string]string
}

const (
	memoSize    = 1024
	maxMemoText = 1024
)

func (m *memo) unaccent(s string) string {
	if isASCII(s) {
		return s
	}
	if len(s) > maxMemoText {
		return unaccent(s)
	}
	m.Lock()
	v, ok := m.young[s]
	if !ok {
		if v, ok = m.old[s]; ok {
			m.add(s, v)
		}
	}
	m.Unlock()
	if !ok {
		// Kept as copies: a caller's string may live in a buffer that is
		// reused (fiber's request strings).
		v = strings.Clone(unaccent(s))
		m.Lock()
		m.add(strings.Clone(s), v)
		m.Unlock()
	}
	return v
}

func (m *memo) add(k, v string) {
	if len(m.young) >= memoSize {
		m.old, m.young = m.young, nil
	}
	if m.young == nil {
		m.young = make(map[string]string, memoSize)
	}
	m.young[k] = v
}

func unaccent(s string) string {
	t := unaccenters.Get().(transform.Transformer)
	defer unaccenters.Put(t)
	t.Reset()
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return dWithStroke.Replace(out)
}
