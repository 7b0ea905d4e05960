package survey

import (
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Normalize returns s in Unicode NFC, the form every stored text uses.
func Normalize(s string) string { return norm.NFC.String(s) }

var dropMarks = runes.Remove(runes.In(unicode.Mn))

// Unaccent writes Vietnamese without diacritics ("không dấu") for GSM-7 SMS:
// decompose, drop the combining marks, and map đ→d, Đ→D.
func Unaccent(s string) string {
	t := transform.Chain(norm.NFD, dropMarks, norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		out = s
	}
	return strings.NewReplacer("đ", "d", "Đ", "D").Replace(out)
}
