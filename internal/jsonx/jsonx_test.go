package jsonx

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Each reader takes only what encoding/json reads the same, and reads it
// the same: where it says true, json.Unmarshal of the same text agrees.
func TestReadersAgreeWithEncodingJSON(t *testing.T) {
	for _, s := range []string{"0", "-0", "1", "-1", "01", "12", "-12", "1.5", "1e3", "123456789012345678",
		"1234567890123456789", "-9223372036854775808", "", "-", "+1", "9x"} {
		v, rest, ok := Int(s)
		var want int64
		err := json.Unmarshal([]byte(s), &want)
		if ok && rest == "" && (err != nil || want != v) {
			t.Errorf("Int(%q) = %d; encoding/json %d %v", s, v, want, err)
		}
		if !ok && err == nil && len(s) <= 18 && s != "-0" {
			t.Errorf("Int(%q) refused what encoding/json reads as %d", s, want)
		}
	}
	for _, s := range []string{"[]", "[1]", "[5,4,-1,3]", "null", "[1,]", "[,1]", "[1 ,2]", "[1.0]", "[", "[1", "[01]", `["1"]`} {
		v, rest, ok := Ints(s)
		var want []int
		err := json.Unmarshal([]byte(s), &want)
		if ok && (rest != "" || err != nil || !reflect.DeepEqual(v, want)) {
			t.Errorf("Ints(%q) = %v %q; encoding/json %v %v", s, v, rest, want, err)
		}
		if !ok && err == nil && s != "[1 ,2]" {
			t.Errorf("Ints(%q) refused what encoding/json reads as %v", s, want)
		}
		if ok {
			if got := string(AppendInts(nil, v)); got != s {
				t.Errorf("AppendInts(%v) = %s, read from %s", v, got, s)
			}
		}
	}
	for _, s := range []string{"0", "-0", "1.5", "-1.25e-7", "1E+3", "01", "1.", ".5", "1e", "-", "1e400", "2.5e-324",
		"123456789012345678901234567890", "0.1", "1_0", "0x10", "Inf", "NaN", "3.14abc"} {
		v, rest, ok := Float(s)
		var want float64
		err := json.Unmarshal([]byte(s), &want)
		if ok && rest == "" && (err != nil || want != v) {
			t.Errorf("Float(%q) = %v; encoding/json %v %v", s, v, want, err)
		}
		if !ok && err == nil {
			t.Errorf("Float(%q) refused what encoding/json reads as %v", s, want)
		}
	}
	for _, s := range []string{"[]", `["a"]`, `["a","b\n"]`, "null", `["a",]`, `[1]`, `["a" ,"b"]`, `["a"`} {
		v, rest, ok := Strings(s)
		var want []string
		err := json.Unmarshal([]byte(s), &want)
		if ok && (rest != "" || err != nil || !reflect.DeepEqual(v, want)) {
			t.Errorf("Strings(%q) = %q %q; encoding/json %q %v", s, v, rest, want, err)
		}
		if !ok && err == nil && s != `["a" ,"b"]` {
			t.Errorf("Strings(%q) refused what encoding/json reads as %q", s, want)
		}
		if ok {
			if got, _ := json.Marshal(v); string(AppendStrings(nil, v)) != string(got) {
				t.Errorf("AppendStrings(%q) = %s; encoding/json %s", v, AppendStrings(nil, v), got)
			}
		}
	}
	for _, s := range []string{"true", "false", "tru", "null", "True"} {
		v, rest, ok := Bool(s)
		var want bool
		err := json.Unmarshal([]byte(s), &want)
		if ok != (err == nil && s != "null") || (ok && (v != want || rest != "")) {
			t.Errorf("Bool(%q) = %v %v; encoding/json %v %v", s, v, ok, want, err)
		}
	}
}

// A string read back is the one written, and what encoding/json reads.
func FuzzString(f *testing.F) {
	for _, s := range []string{"", "a", `"`, "\\", "<>&", "\u2028", "\xff", "\x00", "Cảm ơn 😀", `\u00e9`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := AppendString(nil, s)
		want, _ := json.Marshal(s)
		if string(enc) != string(want) {
			t.Fatalf("AppendString(%q) = %s; encoding/json %s", s, enc, want)
		}
		got, rest, ok := String(string(enc))
		var dec string
		if err := json.Unmarshal(enc, &dec); err != nil {
			t.Fatal(err)
		}
		if ok && (got != dec || rest != "") {
			t.Fatalf("String(%s) = %q %q; encoding/json %q", enc, got, rest, dec)
		}
		// Any text at all: where String reads a string, encoding/json agrees.
		if got, rest, ok := String(s); ok {
			var dec string
			if err := json.Unmarshal([]byte(s[:len(s)-len(rest)]), &dec); err != nil || dec != got {
				t.Fatalf("String(%q) = %q; encoding/json %q %v", s, got, dec, err)
			}
		}
	})
}

// Invalid UTF-8 before an escape is left to encoding/json (which reads it
// as U+FFFD), as it is anywhere else in a string.
func TestStringRefusesInvalidUTF8BeforeAnEscape(t *testing.T) {
	for _, s := range []string{"\"\xd2\\b\"", "\"a\xffb\\n\"", "\"\\n\xff\""} {
		if v, _, ok := String(s); ok {
			t.Errorf("String(%q) = %q, not left to encoding/json", s, v)
		}
	}
}
