package qr

import (
	"bytes"
	"image/png"
	"os/exec"
	"strings"
	"testing"

	"github.com/sipasvn/gateway/internal/testenv"
)

func TestTokensAreUniqueAndParse(t *testing.T) {
	seen := map[Token]bool{}
	for i := 0; i < 10000; i++ {
		tok := NewToken()
		if seen[tok] {
			t.Fatalf("duplicate token %s", tok)
		}
		seen[tok] = true
		if got, err := ParseToken(string(tok)); err != nil || got != tok {
			t.Fatalf("ParseToken(%q) = %q, %v", tok, got, err)
		}
	}
}

func TestParseTokenRejects(t *testing.T) {
	for _, s := range []string{"", "short", "AAAAAAAAAAAAAAA=", "AAAAAAAAAAAAAAAAA", "AAAAAAAA/AAAAAAA", "AAAAAAAAAAAAAAA ", "ÀAAAAAAAAAAAAAA"} {
		if _, err := ParseToken(s); err == nil {
			t.Errorf("ParseToken(%q) accepted", s)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add("abcdefghijklmnop")
	f.Add("AAAAAAAAAAAAAAA_")
	f.Add("")
	f.Add("%2e%2e/%2e%2e/etc")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := ParseToken(s)
		if err != nil {
			return
		}
		if string(tok) != s || len(s) != TokenLen {
			t.Fatalf("accepted %q as %q", s, tok)
		}
	})
}

// A survey URL on a 30-character base must fit version 5 or less at medium
// error correction, so it prints small and scans from a phone.
func TestSurveyURLVersion(t *testing.T) {
	base := "https://dichvucong.hanoi.gov.vn" // 31 characters
	u := base + "/s/" + string(NewToken())
	c, err := Encode(u)
	if err != nil {
		t.Fatal(err)
	}
	if c.Version() > 5 {
		t.Fatalf("%s needs version %d", u, c.Version())
	}
	t.Logf("%d-character survey URL: QR version %d", len(u), c.Version())
}

func TestPNGDecodesToContent(t *testing.T) {
	zbar := testenv.Tool(t, "zbarimg")
	u := "http://localhost:8080/s/" + string(NewToken())
	c, err := Encode(u)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{MinSize, DefaultSize, MaxSize} {
		b, err := c.PNG(size)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Fatalf("size %d gave %v", size, img.Bounds())
		}
		cmd := exec.Command(zbar, "--raw", "-q", "-")
		cmd.Stdin = bytes.NewReader(b)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("zbarimg at size %d: %v", size, err)
		}
		if got := strings.TrimRight(string(out), "\n"); got != u {
			t.Fatalf("decoded %q, want %q", got, u)
		}
	}
	if _, err := c.PNG(MaxSize + 1); err == nil {
		t.Fatal("oversize accepted")
	}
}

func TestFormCode(t *testing.T) {
	c := FormCode{Survey: "sipas-5", Version: 1, Invitation: "65f0a1b2c3d4e5f601234567"}
	s := c.String()
	if s != strings.ToUpper(s) {
		t.Fatalf("%q is not upper case: the QR would leave alphanumeric mode", s)
	}
	got, err := ParseFormCode(s)
	if err != nil || got != c {
		t.Fatalf("ParseFormCode(%q) = %+v, %v", s, got, err)
	}
	// Every single changed character and every adjacent swap is refused.
	for i := range s {
		for _, r := range alnum {
			b := []byte(s)
			if b[i] == byte(r) || b[i] == ':' {
				continue
			}
			b[i] = byte(r)
			if got, err := ParseFormCode(string(b)); err == nil && got != c {
				t.Errorf("%q read as %+v", b, got)
			}
		}
		if i+1 < len(s) && s[i] != s[i+1] {
			b := []byte(s)
			b[i], b[i+1] = b[i+1], b[i]
			if got, err := ParseFormCode(string(b)); err == nil && got != c {
				t.Errorf("swap %q read as %+v", b, got)
			}
		}
	}
	for _, bad := range []string{"", "SIPAS-PHIEU", "https://example.vn/s/abc", "SIPAS-PHIEU:SIPAS:1:XYZ:0"} {
		if _, err := ParseFormCode(bad); err == nil {
			t.Errorf("ParseFormCode(%q) accepted", bad)
		}
	}
	m, err := Modules(s)
	if err != nil || len(m) != 29 {
		t.Fatalf("a form code should fit a version-3 symbol (29 modules): %d, %v", len(m), err)
	}
}
