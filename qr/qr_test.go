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
