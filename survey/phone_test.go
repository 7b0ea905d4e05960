package survey

import "testing"

func TestCanonicalPhone(t *testing.T) {
	ok := map[string]string{
		"0912345678":      "84912345678",
		"0912 345 678":    "84912345678",
		"+84 912.345.678": "84912345678",
		"84912345678":     "84912345678",
		"(091) 234-5678":  "84912345678",
		"01662345678":     "84362345678", // 0166 → 036
		"841232345678":    "84832345678", // 0123 → 083 in international form
		"01992345678":     "84592345678",
		"0352345678":      "84352345678",
	}
	for in, want := range ok {
		if got, err := CanonicalPhone(in); err != nil || got != want {
			t.Errorf("CanonicalPhone(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "12345", "0212345678", "0112345678", "091234567", "09123456789", "+1 415 555 0100", "0912a45678", "01302345678", "84+912345678"} {
		if got, err := CanonicalPhone(in); err == nil {
			t.Errorf("CanonicalPhone(%q) = %q, want error", in, got)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	if got := MaskPhone("84912345678"); got != "84******678" {
		t.Fatal(got)
	}
}
