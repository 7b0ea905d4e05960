// Package jsonx writes and reads, by hand, the JSON encoding/json writes
// for a few hot records (a message-log record, a conversation's state):
// encoding/json's reflection was a tenth of the gateway's CPU per SMS
// webhook. Readers built on it take only the exact form encoding/json
// writes and answer false for anything else (another key's spelling, a
// space, a null, a surrogate escape), so their caller hands that input to
// encoding/json itself and reads it alike.
package jsonx

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AppendString appends s quoted as encoding/json quotes it (its
// appendString, HTML characters escaped as json.Marshal does).
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendFloat appends f as encoding/json writes a float64 ('f' form but
// for very small or large magnitudes, "e-9" not "e-09"); f must be
// finite (encoding/json refuses NaN and infinities).
func AppendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1]
		b = b[:n-1]
	}
	return b
}

// TimeOK says whether encoding/json writes t (RFC 3339: a year of four
// digits, an offset under a day); AppendTime writes such a t as it does.
func TimeOK(t time.Time) bool {
	_, off := t.Zone()
	return t.Year() >= 0 && t.Year() <= 9999 && off > -24*3600 && off < 24*3600
}

// AppendTime appends t quoted in RFC 3339 with nanoseconds, as
// time.Time's MarshalJSON does (t must be TimeOK).
func AppendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// String reads the JSON string at the start of s and returns it and
// what follows it. It knows valid UTF-8 and the escapes encoding/json
// writes; a surrogate escape, a control character or invalid UTF-8 is
// left to encoding/json (false).
func String(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	var buf []byte // only when the string has escapes
	start := 1
	for i := 1; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			v := s[start:i]
			if buf != nil {
				v = string(append(buf, v...))
			}
			if !utf8.ValidString(v) { // escapes write none: invalid bytes are the text's own
				return "", "", false
			}
			return v, s[i+1:], true
		case c < 0x20:
			return "", "", false
		case c == '\\':
			if i+1 >= len(s) {
				return "", "", false
			}
			buf = append(buf, s[start:i]...)
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				buf = append(buf, e)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				if i+6 > len(s) {
					return "", "", false
				}
				r, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
				if err != nil || r >= 0xD800 && r < 0xE000 {
					return "", "", false
				}
				buf = utf8.AppendRune(buf, rune(r))
				i += 4
			default:
				return "", "", false
			}
			i += 2
			start = i
		default:
			i++
		}
	}
	return "", "", false
}

// Object calls field for each member of the JSON object raw, written as
// encoding/json writes it (no spaces), with the member's key and what
// follows its colon; field reads the value and returns what follows it.
// False when raw is not such an object or field says false.
func Object(raw string, field func(key, s string) (string, bool)) bool {
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' {
		return false
	}
	s := raw[1 : len(raw)-1]
	for s != "" {
		key, rest, ok := String(s)
		if !ok || rest == "" || rest[0] != ':' {
			return false
		}
		if s, ok = field(key, rest[1:]); !ok {
			return false
		}
		switch {
		case s == "":
		case s[0] == ',' && len(s) > 1:
			s = s[1:]
		default:
			return false
		}
	}
	return true
}

// Int reads the integer at the start of s as encoding/json writes one (no
// leading zero, sign only for a negative one, at most 18 digits: no
// overflow) and returns it and what follows it.
func Int(s string) (int64, string, bool) {
	neg := s != "" && s[0] == '-'
	d := s
	if neg {
		d = s[1:]
	}
	n := 0
	for n < len(d) && d[n] >= '0' && d[n] <= '9' {
		n++
	}
	if n == 0 || n > 18 || (n > 1 && d[0] == '0') || (neg && d[:n] == "0") {
		return 0, "", false
	}
	v, err := strconv.ParseInt(s[:len(s)-len(d)+n], 10, 64)
	return v, d[n:], err == nil
}

// GoInt reads an int as Int does, false when it does not fit one.
func GoInt(s string) (int, string, bool) {
	v, rest, ok := Int(s)
	return int(v), rest, ok && v == int64(int(v))
}

// Bool reads true or false at the start of s.
func Bool(s string) (bool, string, bool) {
	switch {
	case len(s) >= 4 && s[:4] == "true":
		return true, s[4:], true
	case len(s) >= 5 && s[:5] == "false":
		return false, s[5:], true
	}
	return false, "", false
}

// ObjectAt reads the object at the start of s as Object does and returns
// what follows it.
func ObjectAt(s string, field func(key, s string) (string, bool)) (string, bool) {
	end, ok := objectEnd(s)
	if !ok || !Object(s[:end], field) {
		return "", false
	}
	return s[end:], true
}

// objectEnd returns the length of the JSON object at the start of s
// (braces inside its strings skipped), false when s does not start with
// one that closes.
func objectEnd(s string) (int, bool) {
	depth, in := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case in:
		case c == '{':
			depth++
		case c == '}':
			depth--
		}
		if depth == 0 {
			return i + 1, i > 0
		}
	}
	return 0, false
}

// Float reads the JSON number at the start of s as encoding/json reads
// one into a float64 (its literal through strconv.ParseFloat).
func Float(s string) (float64, string, bool) {
	n := 0
	digits := func() int {
		start := n
		for n < len(s) && s[n] >= '0' && s[n] <= '9' {
			n++
		}
		return n - start
	}
	if n < len(s) && s[n] == '-' {
		n++
	}
	if d := digits(); d == 0 || (d > 1 && s[n-d] == '0') {
		return 0, "", false
	}
	if n < len(s) && s[n] == '.' {
		n++
		if digits() == 0 {
			return 0, "", false
		}
	}
	if n < len(s) && (s[n] == 'e' || s[n] == 'E') {
		n++
		if n < len(s) && (s[n] == '+' || s[n] == '-') {
			n++
		}
		if digits() == 0 {
			return 0, "", false
		}
	}
	v, err := strconv.ParseFloat(s[:n], 64)
	return v, s[n:], err == nil
}

// Array reads a JSON array ([] included, null as nil) at the start of s,
// each element with elem, into a new slice.
func Array[T any](s string, elem func(string) (T, string, bool)) ([]T, string, bool) {
	if rest, ok := Null(s); ok {
		return nil, rest, true
	}
	if s == "" || s[0] != '[' {
		return nil, "", false
	}
	s = s[1:]
	out := make([]T, 0, 8)
	if s != "" && s[0] == ']' {
		return out, s[1:], true
	}
	for {
		v, rest, ok := elem(s)
		if !ok || rest == "" {
			return nil, "", false
		}
		out = append(out, v)
		switch rest[0] {
		case ',':
			s = rest[1:]
		case ']':
			return out, rest[1:], true
		default:
			return nil, "", false
		}
	}
}

// Ints reads an array of ints, each as GoInt reads it.
func Ints(s string) ([]int, string, bool) { return Array(s, GoInt) }

// Strings reads an array of strings, each as String reads it.
func Strings(s string) ([]string, string, bool) { return Array(s, String) }

// AppendArray appends v as encoding/json writes a slice (null when nil),
// each element with elem.
func AppendArray[T any](b []byte, v []T, elem func([]byte, T) []byte) []byte {
	if v == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, x := range v {
		if i > 0 {
			b = append(b, ',')
		}
		b = elem(b, x)
	}
	return append(b, ']')
}

// AppendInts appends v as encoding/json writes a []int.
func AppendInts(b []byte, v []int) []byte {
	return AppendArray(b, v, func(b []byte, n int) []byte { return strconv.AppendInt(b, int64(n), 10) })
}

// AppendStrings appends v as encoding/json writes a []string.
func AppendStrings(b []byte, v []string) []byte { return AppendArray(b, v, AppendString) }

// Decode reads raw into *v with fast, which takes the JSON encoding/json
// writes for it; whatever fast refuses is read, into a zero *v, by
// encoding/json itself.
func Decode[T any](raw string, v *T, fast func(*T, string) bool) error {
	if fast(v, raw) {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal([]byte(raw), v)
}

// Null reads a null at the start of s.
func Null(s string) (string, bool) {
	if len(s) >= 4 && s[:4] == "null" {
		return s[4:], true
	}
	return s, false
}

// Time reads a time into t as Time.UnmarshalJSON does (RFC 3339,
// strictly). That parses the string's bytes as they are, escapes
// included, so a string with an escape is left to encoding/json.
func Time(s string, t *time.Time) (string, bool) {
	v, rest, ok := String(s)
	return rest, ok && !strings.Contains(s[:len(s)-len(rest)], `\`) && t.UnmarshalText([]byte(v)) == nil
}

// Ptr reads null as nil, or else a value with fill into *p: into the one
// already there, or a new one, as encoding/json does (a repeated key of a
// struct fills the same struct).
func Ptr[T any](s string, p **T, fill func(string, *T) (string, bool)) (string, bool) {
	if rest, ok := Null(s); ok {
		*p = nil
		return rest, true
	}
	if *p == nil {
		*p = new(T)
	}
	return fill(s, *p)
}

// Map reads an object of values, each with fill from its zero value,
// into *m (null: nil), adding to a map already there as encoding/json
// does.
func Map[V any](s string, m *map[string]V, fill func(string, *V) (string, bool)) (string, bool) {
	if rest, ok := Null(s); ok {
		*m = nil
		return rest, true
	}
	if *m == nil {
		*m = map[string]V{}
	}
	return ObjectAt(s, func(key, s string) (string, bool) {
		var v V
		rest, ok := fill(s, &v)
		(*m)[key] = v
		return rest, ok
	})
}
