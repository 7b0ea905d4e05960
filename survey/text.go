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
	t := unaccenters.Get().(transform.Transformer)
	defer unaccenters.Put(t)
	t.Reset()
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return dWithStroke.Replace(out)
}
