package survey

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// PhoneMark replaces a phone number in a citizen's text.
const PhoneMark = "[số điện thoại]"

// digitGroup is a run of decimal digits in a text: where it lies and its
// digits in ASCII.
type digitGroup struct {
	start, end int
	digits     string
}

// redactPhones replaces the Vietnamese phone numbers in s by PhoneMark.
// A number is one or more runs of digits of any script (ASCII,
// full-width "０９１２", mathematical "𝟎𝟗"), joined by at most three of
// spaces, dots, dashes and brackets (ASCII or full-width), optionally
// after "+", that read as a number by DOMAIN.md §3: 0 or 84 (or 0084,
// or +84 (0)), then 9 digits starting with 3, 5, 7, 8 or 9 (a mobile), a
// retired 11-digit mobile (0168… → 038…), or 2 and 9 more (a fixed
// line, 024 3825 1234). A run of digits is never split, so a longer
// number (a 12-digit ID) or a code that holds digits
// (000.00.12.H49-201105-0042) is not taken for a phone; amounts
// ("50.000 đồng", "10 nghìn") never start with 0, and dates and one-time
// codes are too short. An opening bracket just before a number is taken
// with it when the number holds its closing one ("(091) 234 5670"), and
// the other way round.
func redactPhones(s string) string {
	groups := digitGroups(s)
	if len(groups) == 0 {
		return s
	}
	var b strings.Builder
	done := 0 // bytes of s written or replaced
	for i := 0; i < len(groups); i++ {
		j := phoneAt(s, groups, i)
		if j < 0 {
			continue
		}
		start, end := spanOf(s, groups[i].start, groups[j].end)
		b.WriteString(s[done:start])
		b.WriteString(PhoneMark)
		done, i = end, j
	}
	if done == 0 {
		return s
	}
	b.WriteString(s[done:])
	return b.String()
}

// digitGroups lists the runs of decimal digits of s.
func digitGroups(s string) []digitGroup {
	var out []digitGroup
	var d []byte
	start := -1
	for i, r := range s {
		v := digitValue(r)
		if v >= 0 {
			if start < 0 {
				start, d = i, d[:0]
			}
			d = append(d, byte('0'+v))
			continue
		}
		if start >= 0 {
			out = append(out, digitGroup{start, i, string(d)})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, digitGroup{start, len(s), string(d)})
	}
	return out
}

// digitValue is r's value as a decimal digit of any script, or -1. The
// digits of a script are ten code points in a row from its zero (Unicode
// keeps them so), so the value is the distance from the first digit of
// the run of digits r is in, modulo 10.
func digitValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	if r < 0x80 || !unicode.IsDigit(r) {
		return -1
	}
	zero := r
	for zero-1 > 0 && unicode.IsDigit(zero-1) && r-zero < 60 {
		zero--
	}
	return int(r-zero) % 10
}

// phoneAt is the last group of the longest phone number that starts at
// groups[i], or -1. Past a country or trunk prefix ("84", "+84 (0)"),
// the groups of a number are split alike (all by spaces, dots or
// dashes): "05.12.2024 - 10.12.2024" is two dates, not a number.
func phoneAt(s string, groups []digitGroup, i int) int {
	d, split, found := "", "", -1
	for j := i; j < len(groups); j++ {
		if j > i {
			k, ok := gapKind(s[groups[j-1].end:groups[j].start])
			switch {
			case !ok:
				return found
			case k == "" || phonePrefixes[d]:
			case split == "":
				split = k
			case k != split:
				return found
			}
		}
		if len(groups[j].digits) == 1 && !phonePrefixes[d+groups[j].digits] {
			return found // single digits apart are scores ("0 3 4 5 5 …"), not a number
		}
		d += groups[j].digits
		if len(d) > 15 {
			break
		}
		if isPhoneNumber(d) {
			found = j
		}
	}
	return found
}

// phonePrefixes are the digits a number may start with, written apart from
// the rest however it is split: +84, 0084, +84 (0), a lone trunk 0.
var phonePrefixes = map[string]bool{"0": true, "84": true, "840": true, "0084": true, "00840": true}

// gapKind says whether gap, between two runs of digits, is what people
// put inside a phone number (at most three of spaces, dots, dashes and
// brackets), and how it splits the number: " ", ".", "-", " - "…,
// brackets left out.
func gapKind(gap string) (string, bool) {
	if utf8.RuneCountInString(gap) > 3 {
		return "", false
	}
	k := make([]byte, 0, 3)
	for _, r := range gap {
		switch r {
		case '(', ')', '（', '）':
		case '.', '．':
			k = append(k, '.')
		case '-', '－', '\u2010', '\u2011', '\u2013':
			k = append(k, '-')
		default:
			if r != ' ' && !unicode.Is(unicode.Zs, r) {
				return "", false
			}
			k = append(k, ' ')
		}
	}
	return string(k), true
}

// isPhoneNumber says whether d, ASCII digits, is a Vietnamese mobile or
// fixed-line number in any of the forms people write (see redactPhones).
func isPhoneNumber(d string) bool {
	switch {
	case strings.HasPrefix(d, "0084"):
		d = strings.TrimPrefix(d[4:], "0")
	case strings.HasPrefix(d, "84"):
		d = strings.TrimPrefix(d[2:], "0") // +84 (0) 912…
	case strings.HasPrefix(d, "0"):
		d = d[1:]
	default:
		return false
	}
	switch len(d) {
	case 9:
		return strings.IndexByte("35789", d[0]) >= 0
	case 10:
		_, retired := oldPrefixes[d[:3]]
		return retired || d[0] == '2'
	}
	return false
}

// spanOf widens the digits from start to end to the whole number as
// written: a "+" before it, and a bracket on either side whose partner
// is inside.
func spanOf(s string, start, end int) (int, int) {
	for _, plus := range []string{"+", "＋"} {
		if strings.HasSuffix(s[:start], plus) {
			start -= len(plus)
			break
		}
	}
	open := strings.Count(s[start:end], "(") + strings.Count(s[start:end], "（")
	shut := strings.Count(s[start:end], ")") + strings.Count(s[start:end], "）")
	switch {
	case shut > open:
		for _, br := range []string{"(", "（"} {
			if strings.HasSuffix(s[:start], br) {
				start -= len(br)
				break
			}
		}
	case open > shut:
		for _, br := range []string{")", "）"} {
			if strings.HasPrefix(s[end:], br) {
				end += len(br)
				break
			}
		}
	}
	return start, end
}
