package survey

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// CleanText is the one way text a person typed enters the gateway: names
// of agencies, desks and keys, case notes and answers, operators' notes.
// It makes the text valid UTF-8 in NFC, trims it, and drops what would
// make it show something other than it holds or hide what it holds:
//
//   - control characters (NUL, escape sequences, C1) but line breaks;
//     tabs and carriage returns become spaces, CR LF a line break;
//   - format characters (Unicode Cf): bidi embeddings, overrides and
//     isolates (U+202A–U+202E, U+2066–U+2069), marks (U+200E, U+200F,
//     U+061C), zero-width space, non-joiner, word joiner and BOM (U+200B,
//     U+200C, U+2060, U+FEFF), the soft hyphen, tag characters;
//   - other default-ignorable characters (Hangul fillers, U+034F…).
//
// Every other space becomes an ASCII space and U+2028/U+2029 line breaks.
// Vietnamese is kept: combining marks compose (NFC), nothing is folded.
// The zero-width joiner stays only between two emoji, where it makes one
// (👨‍👩‍👧, ❤️‍🔥): dropping it there would change what a citizen said, and
// between pictographs it can neither reorder text nor hide a letter or a
// digit.
//
// Citizens' texts go through CleanCitizenText instead.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if needsStrip(s) {
		s = strip(s)
	}
	return strings.TrimSpace(norm.NFC.String(s))
}

// CleanCitizenText is CleanText for what a citizen wrote (comments, SMS
// and Zalo messages, the words an operator copies from them): phone
// numbers in it are also replaced by "[số điện thoại]", in whatever form
// they are written (see redactPhones). An operator's own texts (a case
// answer may give the office's hotline on purpose) use CleanText.
func CleanCitizenText(s string) string { return redactPhones(CleanText(s)) }

const zwj = '\u200D'

// needsStrip says whether strip would change s: plain text (the most of
// it) is copied by NFC alone.
func needsStrip(s string) bool {
	for _, r := range s {
		if r < 0x80 {
			if r < 0x20 && r != '\n' || r == 0x7F {
				return true
			}
			continue
		}
		if dropped(r) || r == zwj || unicode.Is(unicode.Zs, r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// dropped are the runes CleanText removes wherever they are.
func dropped(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) && r != zwj ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

func strip(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	prev := rune(0)
	for i, r := range s {
		switch {
		case r == '\n':
		case r == '\r' && strings.HasPrefix(s[i+1:], "\n"):
			continue // CR LF: the LF is the break
		case r == '\r' || r == '\t':
			r = ' '
		case r == '\u2028' || r == '\u2029':
			r = '\n'
		case r == zwj:
			next, _ := utf8.DecodeRuneInString(s[i+len(string(zwj)):])
			if !pictograph(prev) || !pictograph(next) {
				continue
			}
		case dropped(r):
			continue
		case unicode.Is(unicode.Zs, r):
			r = ' '
		}
		b.WriteRune(r)
		prev = r
	}
	return b.String()
}

// pictograph says whether r can stand on either side of a zero-width
// joiner in an emoji sequence: the blocks Extended_Pictographic covers
// (arrows, technical symbols, dingbats, the emoji planes), and the
// emoji presentation selector that may end the part before the joiner.
func pictograph(r rune) bool {
	switch {
	case r == '\uFE0F':
		return true
	case r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2600 && r <= 0x27BF, r >= 0x2B00 && r <= 0x2BFF:
		return true
	}
	return r >= 0x1F000 && r <= 0x1FAFF
}
