package survey

import (
	"strings"
	"unicode"
)

// foldTab maps the letters of Vietnamese and Latin-1 (U+00C0–U+1EF9) to
// their base letter in lower case: "Ấ" → 'a', "đ" → 'd'. 0 marks a rune
// that is not such a letter. Built once from Unaccent, so the reader and
// the SMS wording agree on what a letter without its marks is.
var foldTab [0x1EFA]byte

func init() {
	for r := rune(0xC0); r < rune(len(foldTab)); r++ {
		if !unicode.IsLetter(r) {
			continue
		}
		s := strings.ToLower(Unaccent(string(r)))
		if len(s) == 1 && s[0] >= 'a' && s[0] <= 'z' {
			foldTab[r] = s[0]
		}
	}
}

// Rune classes of the reader's tokenizer.
const (
	sepRune = iota
	letterRune
	digitRune
	markRune // a combining mark (NFD text): part of the letter before it
	askRune  // '?'
)

// foldRune says what r is to the reader and, for letters and digits, its
// folded ASCII form: lower case, no diacritics, full-width forms (some
// phone keyboards) as their ASCII twins.
func foldRune(r rune) (byte, int) {
	if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII: "５", "Ａ"
		r -= 0xFF01 - 0x21
	}
	switch {
	case r >= 'a' && r <= 'z':
		return byte(r), letterRune
	case r >= 'A' && r <= 'Z':
		return byte(r) + 'a' - 'A', letterRune
	case r >= '0' && r <= '9':
		return byte(r), digitRune
	case r == '?':
		return '?', askRune
	case r < 0x80:
		return 0, sepRune
	case r < rune(len(foldTab)) && foldTab[r] != 0:
		return foldTab[r], letterRune
	case unicode.Is(unicode.Mn, r):
		return 0, markRune
	case unicode.IsLetter(r):
		return 'x', letterRune // a letter of another script: a word, never a score
	}
	return 0, sepRune
}
