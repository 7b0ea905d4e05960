package survey

import (
	"errors"
	"strings"
)

// Written by hand rather than with a phone library: Vietnam's rules fit in
// this file (DOMAIN.md §3), including the 2018 prefix changes a library
// does not map, and the rules are all the gateway needs.

// oldPrefixes maps retired 11-digit prefixes (after the 0) to their new
// 10-digit ones; the last 7 digits stay.
var oldPrefixes = map[string]string{
	"120": "70", "121": "79", "122": "77", "126": "76", "128": "78",
	"123": "83", "124": "84", "125": "85", "127": "81", "129": "82",
	"162": "32", "163": "33", "164": "34", "165": "35", "166": "36",
	"167": "37", "168": "38", "169": "39",
	"186": "56", "188": "58", "199": "59",
}

// ErrPhone explains what a Vietnamese mobile number looks like.
var ErrPhone = errors.New("not a Vietnamese mobile number; write it as 0912345678, 84912345678 or +84 912 345 678")

// CanonicalPhone returns a Vietnamese mobile number as 84 + 9 digits. It
// accepts 0…, 84… and +84… with spaces, dots, dashes and parentheses, and
// maps retired 11-digit numbers to their current form.
func CanonicalPhone(s string) (string, error) {
	var b strings.Builder
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0, r == ' ', r == '.', r == '-', r == '(', r == ')':
		default:
			return "", ErrPhone
		}
	}
	d := b.String()
	switch {
	case strings.HasPrefix(d, "84") && (len(d) == 11 || len(d) == 12):
		d = d[2:]
	case strings.HasPrefix(d, "0"):
		d = d[1:]
	default:
		return "", ErrPhone
	}
	if len(d) == 10 {
		newp, ok := oldPrefixes[d[:3]]
		if !ok {
			return "", ErrPhone
		}
		d = newp + d[3:]
	}
	if len(d) != 9 || !strings.ContainsRune("35789", rune(d[0])) {
		return "", ErrPhone
	}
	return "84" + d, nil
}

// MaskPhone hides the middle of a number for logs: 84******678.
func MaskPhone(p string) string {
	if len(p) < 6 {
		return "***"
	}
	return p[:2] + strings.Repeat("*", len(p)-5) + p[len(p)-3:]
}
