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
//
// An SMS reply renders its texts this way on every webhook, and the chain
// costs about 3% of the gateway's CPU per SMS webhook: the texts are a
// survey's own few, so the last unaccentMemo of them are remembered
// (ASCII is its own answer).
func Unaccent(s string) string {
	if isASCII(s) {
		return s
	}
	if len(s) > maxMemoText {
		return unaccent(s)
	}
	unaccentMemo.Lock()
	v, ok := unaccentMemo.young[s]
	if !ok {
		if v, ok = unaccentMemo.old[s]; ok {
			unaccentMemo.add(s, v)
		}
	}
	unaccentMemo.Unlock()
	if !ok {
		v = unaccent(s)
		unaccentMemo.Lock()
		unaccentMemo.add(s, v)
		unaccentMemo.Unlock()
	}
	return v
}

// unaccentMemo keeps the texts unaccented lately in two generations: a
// text read from the old one moves to the young one, and once the young
// one holds memoSize the old one is dropped, so a text used all along
// stays and the memory stays bounded (2 × memoSize texts of at most
// maxMemoText bytes: 2 MB at worst).
var unaccentMemo memo

const (
	memoSize    = 1024
	maxMemoText = 1024
)

type memo struct {
	sync.Mutex
	young, old map[string]string
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
