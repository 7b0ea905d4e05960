// Package locale writes numbers and dates as the console's two languages
// write them: Vietnamese reports write 95,76%, 3,69 and 1.234.567, and
// dates dd/mm/yyyy; English writes 95.76%, 3.69, 1,234,567 and 6 Dec 2026.
// Every page, printed report and workbook formats through it, so a figure
// reads the same everywhere.
package locale

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// marks are a language's decimal mark and thousands separator.
func marks(lang string) (decimal, thousands byte) {
	if lang == "en" {
		return '.', ','
	}
	return ',', '.'
}

// Int writes n with thousands grouped: 1.234.567 (vi), 1,234,567 (en).
func Int(lang string, n int64) string {
	_, sep := marks(lang)
	return group(strconv.FormatInt(n, 10), sep)
}

// Fixed writes f with places decimals: 3,69 (vi), 3.69 (en), the whole
// part grouped. NaN and infinities are written "–": no figure.
func Fixed(lang string, f float64, places int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	dec, sep := marks(lang)
	s := strconv.FormatFloat(f, 'f', places, 64)
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "-0" && strings.Trim(frac, "0") == "" {
		whole = "0" // a rounded -0.001 is 0, not -0
	}
	out := group(whole, sep)
	if frac != "" {
		out += string(dec) + frac
	}
	return out
}

// Percent writes a share already in percent: 95,76% (vi), 95.76% (en).
func Percent(lang string, f float64, places int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "–"
	}
	return Fixed(lang, f, places) + "%"
}

// Signed writes f with its sign, for a change: +1,25 or −0,40 (a real
// minus sign, as print sets it).
func Signed(lang string, f float64, places int) string {
	s := Fixed(lang, math.Abs(f), places)
	switch {
	case s == "–":
		return s
	case strings.Trim(s, "0,.") == "":
		return s // no change either way
	case f < 0:
		return "−" + s
	}
	return "+" + s
}

var monthsEN = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Date writes a day: 06/12/2026 (vi), 6 Dec 2026 (en).
func Date(lang string, t time.Time) string {
	if lang == "en" {
		return strconv.Itoa(t.Day()) + " " + monthsEN[t.Month()-1] + " " + strconv.Itoa(t.Year())
	}
	return t.Format("02/01/2006")
}

// DateTime writes a day and its time: 06/12/2026 14:05 (vi),
// 6 Dec 2026 14:05 (en).
func DateTime(lang string, t time.Time) string {
	return Date(lang, t) + " " + t.Format("15:04")
}

// Month writes a month given as YYYY-MM: 01/2025 (vi), Jan 2025 (en).
// Anything else is returned as it is.
func Month(lang, month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	if lang == "en" {
		return monthsEN[t.Month()-1] + " " + strconv.Itoa(t.Year())
	}
	return t.Format("01/2006")
}

// Months writes a span of months: 01/2025–12/2025, or one month alone
// when both ends are the same.
func Months(lang, from, to string) string {
	if from == to || to == "" {
		return Month(lang, from)
	}
	return Month(lang, from) + "–" + Month(lang, to)
}

// group puts sep between each three digits of a decimal integer's digits.
func group(digits string, sep byte) string {
	neg := strings.HasPrefix(digits, "-")
	digits = strings.TrimPrefix(digits, "-")
	if len(digits) <= 3 {
		if neg {
			return "-" + digits
		}
		return digits
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	head := len(digits) % 3
	if head == 0 {
		head = 3
	}
	b.WriteString(digits[:head])
	for i := head; i < len(digits); i += 3 {
		b.WriteByte(sep)
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}
